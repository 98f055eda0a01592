/**
 * @odemor/trainer-adjoint — Trainer 'adjoint': gradients of Neural ODEs by the adjoint method on onnxruntime-node
 * (docs/algorithms.md#adjoint). The forward solve and the backward solve of the augmented state [x, a, g] run
 * compiled graphs of runtime-onnx's compiler (the block's rhs differentiated by its reverse-mode lowering), driven
 * by core's integration loop with any Butcher tableau, fixed-step or adaptive; memory O(1) in the number of steps.
 */
import type { OdemorPlugin, TrainerFactory } from '@odemor/core';
import { backpropOnnxOptionsSchema } from '@odemor/runtime-onnx';
import { AdjointTrainer, type AdjointTrainerOptions } from './trainer.js';

export { likeTensor, partsAlgebra, stepGraphAlgebra, type Parts } from './algebra.js';
export { ADJOINT_GRAPH_NAMES, buildAdjointGraphs, type AdjointGraphOptions, type AdjointGraphs, type WeightGraph } from './graphs.js';
export { AdjointGradientProgram, adjointLossAndGradients, compileAdjointProgram, type AdjointProgramOptions, type AdjointStats } from './program.js';
export { AdjointTrainer, type AdjointTrainerDeps, type AdjointTrainerOptions } from './trainer.js';

/** The option schema of Trainer 'adjoint': backprop-onnx's without the Taylor-Lagrange keys. */
export const adjointOptionsSchema = backpropOnnxOptionsSchema.omit({ remainderWeight: true, midpoint: true });

/** The plugin: provides Trainer 'adjoint'. */
const plugin: OdemorPlugin = {
  name: '@odemor/trainer-adjoint',
  register(ctx) {
    const factory: TrainerFactory = (options) => new AdjointTrainer((options ?? {}) as AdjointTrainerOptions);
    ctx.provide('Trainer', 'adjoint', factory, {
      description: 'the adjoint method on onnxruntime-node: the augmented state [x, a, g] integrated backwards with the solver (compiled VJP graphs), memory O(1) in the steps',
      options: adjointOptionsSchema,
    });
  },
};

export default plugin;

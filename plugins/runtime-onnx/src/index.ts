/**
 * @odemor/runtime-onnx — compile odemor models into ONNX graphs and run them with onnxruntime-node: a
 * fixed-step solver unrolled into one graph (a tableau, or a step program such as Taylor-Lagrange with the block's
 * exact time derivatives), an adaptive one as a step graph driven by core's controller.
 */
import type { OdemorPlugin } from '@odemor/core';
import type { TrainerFactory } from '@odemor/core';
import { OnnxRuntime, type OnnxRuntimeOptions } from './runtime.js';
import { OnnxBackpropTrainer } from './train/trainer.js';
import { backpropOnnxOptionsSchema, type OnnxBackpropTrainerOptions } from './train/options.js';

export {
  ADAPTIVE_GRAPH_NAMES,
  Compiler,
  compileAdaptive,
  compileAdaptiveSample,
  compileGram,
  compileModel,
  DEFAULT_OPSET,
  GRAPH_NAMES,
  graphInputs,
  inputShapeOf,
  inputSignalOf,
  segmentEnds,
  sequenceIndex,
  solverSteps,
  stepMapTableau,
  stepTime,
  unrolledSteps,
  type AdaptiveGraphs,
  type HookedInput,
  type InputSignal,
  type AdaptivePart,
  type CompileOptions,
  type SnapshotGraphOptions,
  type WeightHook,
  type WeightLayout,
} from './compile.js';
export type { GraphBuilder, ValueSpec } from './graph.js';
export { OnnxExecutable, OnnxRuntime, type OnnxRuntimeOptions } from './runtime.js';
export {
  OnnxAdaptiveExecutable,
  adaptiveSettings,
  solveAdaptive,
  type AcceptedStep,
  type AdaptiveFeeds,
  type AdaptiveLoopSessions,
  type AdaptiveSessions,
  type AdaptiveSettings,
  type AdaptiveSolveOptions,
  type AdaptiveSolveResult,
} from './adaptive.js';
export { loadOnnxFile, runOnnxFile, saveOnnx, type OnnxFile } from './io.js';
export { checkInput, createSession, defaultThreads, graphOutput, runGraph, runSession, signalTensor } from './session.js';
export { LOSSES, checkParamValues, correctCount, emitLoss, lossTargets } from './grad/loss.js';
export { GradientSums, WeightFeeds, type WeightGradGraph } from './grad/feeds.js';
export {
  ProgramTensors,
  differentiatePart,
  gradientGraphOptions,
  lossHead,
  preBackwardGraph,
  runLossHeads,
  tensorInputHook,
  type DifferentiateSpec,
  type LossHeads,
  type WeightGraph,
} from './grad/parts.js';
export type { CompileGradientProgram, GradientInputs, GradientProgram, GradientProgramOptions, GradientResult, LossKind } from './grad/types.js';
export { buildGradientGraph, compileGradientProgram, GRADIENT_GRAPH_NAMES, lossAndGradients, type GradientGraph, type LossAndGradientsOptions } from './grad/program.js';
export {
  ADAPTIVE_GRADIENT_NAMES,
  AdaptiveGradientProgram,
  buildAdaptiveGradientGraphs,
  compileAdaptiveGradientProgram,
  type AdaptiveGradientGraphs,
  type AdaptiveStepRecord,
} from './grad/adaptive.js';
export { fromGraphLayout, lower, toGraphLayout, type LowerOptions, type Lowered, type ParamInput } from './grad/lower.js';
export { backward, BATCH, ShapeTable, type BackwardOptions, type GradContext, type Shape, type VjpRule } from './grad/engine.js';
export { reduceTo, RULES } from './grad/rules.js';
export { emitConvFilterGrad, emitConvInputGrad, emitMaxPoolGrad, type ConvAttrs, type ConvShapes, type PoolAttrs, type PoolShapes } from './grad/conv-basic.js';
export {
  MAX_DERIVATIVE_ORDER,
  adaptiveMessage,
  checkDerivatives,
  derivativesMessage,
  isAdaptiveName,
  noEmbeddedMessage,
  programFields,
  resolveProgram,
  resolveSolver,
  resolveTableau,
  validateTableau,
  type ResolvedSolver,
  type SolverLike,
  type StepProgram,
  type TableauSource,
} from './tableau.js';
export * from './train/index.js';

/** The plugin: provides Runtime 'onnx' and Trainer 'backprop-onnx' (the default trainer of `train: { use: backprop }`). */
const plugin: OdemorPlugin = {
  name: '@odemor/runtime-onnx',
  register(ctx) {
    ctx.provide('Runtime', 'onnx', (opts) => new OnnxRuntime(opts as OnnxRuntimeOptions | undefined), 'onnxruntime-node, unrolled fixed-step solver or adaptive step graph');
    const backprop: TrainerFactory = (options) => new OnnxBackpropTrainer((options ?? {}) as OnnxBackpropTrainerOptions);
    ctx.provide('Trainer', 'backprop-onnx', backprop, { description: 'backprop through the unrolled fixed-step solver or the accepted steps of an adaptive one on onnxruntime-node (compiled gradient graphs)', options: backpropOnnxOptionsSchema });
  },
};

export default plugin;

/**
 * @odemor/runtime-tfjs — the eager tfjs runtime of odemor (any solver, adaptive included; the reference the
 * compiled runtimes are checked against), its solver algebra, and Trainer 'backprop' (autodiff through the
 * solve). See docs/architecture.md#runtimes.
 */
import { z, type OdemorPlugin, type RuntimeFactory, type TrainerFactory } from '@odemor/core';
import { TfjsRuntime, type TfjsRuntimeOptions } from './runtime.js';
import { BackpropTrainer, type BackpropTrainerOptions } from './trainer.js';
import { midpointScheduleSchema } from './train.js';

export * from './backend.js';
export * from './wasm-kernels.js';
export * from './solve.js';
export * from './forward.js';
export * from './materialize.js';
export * from './runtime.js';
export * from './train.js';
export * from './trainer.js';

const backend = z.enum(['tensorflow', 'wasm', 'cpu']);

/** Option schema of Trainer 'backprop' (the trainer's own keys; core's `train` keys are checked by core). */
export const backpropOptionsSchema = z.strictObject({
  backend: backend.optional(),
  cacheFeatures: z.boolean().optional(),
  /** λ of the Taylor-Lagrange remainder penalty λ · mean|R| added to the loss (default 0) */
  remainderWeight: z.number().min(0).optional(),
  /** the alternating midpoint schedule of Taylor-Lagrange training (every, steps, lr, rtol, atol, hidden, init) */
  midpoint: midpointScheduleSchema.optional(),
});

/** The plugin: Runtime 'tfjs' and Trainer 'backprop-tfjs' (what `train: { use: backprop, runtime: tfjs }` resolves to). */
const plugin: OdemorPlugin = {
  name: '@odemor/runtime-tfjs',
  register(ctx) {
    const tfjs: RuntimeFactory = (options) => new TfjsRuntime((options ?? {}) as TfjsRuntimeOptions);
    ctx.provide('Runtime', 'tfjs', tfjs, 'tfjs (tensorflow | wasm | cpu backend): training and eager inference');
    const backprop: TrainerFactory = (options) => new BackpropTrainer((options ?? {}) as BackpropTrainerOptions);
    ctx.provide('Trainer', 'backprop-tfjs', backprop, { description: 'backprop through the solver on tfjs (autodiff)', options: backpropOptionsSchema });
  },
};

export default plugin;

import { OdemorError, type ModelIR, type Trainer, type TrainContext, type TrainOptions, type TrainResult } from '@odemor/core';
import type { TfjsBackendName } from './backend.js';
import { train } from './train.js';

/** Options of the `backprop` trainer on tfjs (its option schema in `index.ts`). */
export interface BackpropTrainerOptions {
  /** preferred tfjs backend */
  backend?: TfjsBackendName;
  /** cache the block's outputs when only the post layers train (default true) */
  cacheFeatures?: boolean;
}

/**
 * Trainer 'backprop' on tfjs: softmax cross-entropy, gradients by tfjs autodiff through the eager solve
 * (docs/algorithms.md#training). Which tensors train comes from `options.params` (IR paths).
 */
export class BackpropTrainer implements Trainer {
  readonly name = 'backprop-tfjs';
  constructor(private readonly defaults: BackpropTrainerOptions = {}) {}

  async train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult> {
    if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', `trainer 'backprop': options are required`);
    const { params, weightDecay, clipNorm, momentum, lrDecay, limit, augment } = options;
    const out = await train(model, context.dataset, {
      epochs: options.epochs,
      batch: options.batch,
      optimizer: options.optimizer,
      lr: options.lr,
      seed: options.seed,
      solver: context.solver,
      phase: context.phase,
      ...(lrDecay !== undefined ? { lrDecay } : {}),
      ...(momentum !== undefined ? { momentum } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(augment !== undefined ? { augment } : {}),
      ...(params !== undefined ? { params } : {}),
      ...(weightDecay ? { weightDecay } : {}),
      ...(clipNorm !== undefined ? { clipNorm } : {}),
      ...(context.hooks ? { hooks: context.hooks } : {}),
      ...(context.onProgress ? { onProgress: context.onProgress } : {}),
      ...(context.checkpoint ? { checkpoint: context.checkpoint } : {}),
      ...(context.blockFeatures ? { blockFeatures: context.blockFeatures } : {}),
      ...(this.defaults.backend ? { backend: this.defaults.backend } : {}),
      ...(this.defaults.cacheFeatures !== undefined ? { cacheFeatures: this.defaults.cacheFeatures } : {}),
    });
    return out;
  }
}

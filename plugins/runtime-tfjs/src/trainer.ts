import { OdemorError, type ModelIR, type Trainer, type TrainContext, type TrainOptions, type TrainResult } from '@odemor/core';
import type { TfjsBackendName } from './backend.js';
import { resolveMidpointSchedule, train, type MidpointScheduleOptions } from './train.js';

/** Options of the `backprop` trainer on tfjs (its option schema in `index.ts`). */
export interface BackpropTrainerOptions {
  /** preferred tfjs backend */
  backend?: TfjsBackendName;
  /** cache the block's outputs when only the post layers train (default true) */
  cacheFeatures?: boolean;
  /**
   * λ of the Taylor-Lagrange remainder penalty λ · mean|R| (default 0; see `TfjsTrainOptions.remainderWeight`);
   * a `remainderWeight` in the options of one `train` call takes precedence
   */
  remainderWeight?: number;
  /**
   * the alternating midpoint schedule of Taylor-Lagrange training (`every`, `steps`, `lr`, `rtol`, `atol`, `hidden`,
   * `init`; see `MidpointSchedule`), for the 'taylor-lagrange' solver only; a `midpoint` in the options of one
   * `train` call takes precedence
   */
  midpoint?: MidpointScheduleOptions;
}

/**
 * Trainer 'backprop' on tfjs: softmax cross-entropy (classification) or the MSE against the targets (a
 * regression dataset: trajectories), plus λ · mean|R| of the solver's remainders with `remainderWeight`;
 * gradients by tfjs autodiff through the eager solve (docs/algorithms.md#training). Which tensors train
 * comes from `options.params` (IR paths); the midpoint network trains only when a list names it, or — with the
 * option `midpoint` and the 'taylor-lagrange' solver — in the alternating schedule's own steps (every K iterations,
 * towards a Dormand–Prince reference of the current dynamics). This trainer keeps no training state: it ignores
 * `context.resume` (the per-epoch checkpoint holds the model, the midpoint network included, not the optimizers' moments).
 */
export class BackpropTrainer implements Trainer {
  readonly name = 'backprop-tfjs';
  constructor(private readonly defaults: BackpropTrainerOptions = {}) {}

  async train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult> {
    if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', `trainer 'backprop': options are required`);
    const { params, weightDecay, clipNorm, momentum, lrDecay, limit, augment } = options;
    const remainderWeight = options.remainderWeight ?? this.defaults.remainderWeight;
    if (remainderWeight !== undefined && typeof remainderWeight !== 'number') {
      throw new OdemorError('ARGUMENT', `trainer 'backprop': remainderWeight must be a number >= 0, got ${JSON.stringify(remainderWeight)}`);
    }
    const rawMidpoint = options.midpoint ?? this.defaults.midpoint;
    const midpoint = rawMidpoint !== undefined ? resolveMidpointSchedule(rawMidpoint, "trainer 'backprop'") : undefined;
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
      ...(remainderWeight !== undefined ? { remainderWeight } : {}),
      ...(midpoint ? { midpoint } : {}),
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

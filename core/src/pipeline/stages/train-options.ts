import type { TrainOptions } from '../../extension-points.js';
import type { ExperimentConfig } from '../../config/schema.js';

type TrainConfig = Exclude<ExperimentConfig['train'], false | undefined>;

/** The Trainer options of a validated `train` config (core's keys only; defaults come from the schema). */
export function trainOptionsOf(t: TrainConfig, seed: number): TrainOptions {
  return {
    epochs: t.epochs,
    batch: t.batch,
    optimizer: t.optimizer,
    lr: t.lr,
    lrDecay: t.lrDecay,
    ...(t.momentum !== undefined ? { momentum: t.momentum } : {}),
    ...(t.limit !== undefined ? { limit: t.limit } : {}),
    augment: t.augment,
    ...(t.params !== undefined ? { params: t.params } : {}),
    ...(t.weightDecay !== undefined ? { weightDecay: t.weightDecay } : {}),
    ...(t.clipNorm !== undefined ? { clipNorm: t.clipNorm } : {}),
    seed,
  };
}

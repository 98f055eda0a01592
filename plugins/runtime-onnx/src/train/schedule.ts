/**
 * Learning-rate schedules, one rate per epoch (docs/algorithms.md#training): exponential (core's `lrDecay`),
 * step and cosine (the trainer's `schedule` option).
 */
import { OdemorError } from '@odemor/core';

/**
 * The trainer's `schedule` option:
 * - `{ kind: 'step', every, gamma }`: lr_e = lr · gamma^⌊e / every⌋ (multiply by `gamma` every `every` epochs)
 * - `{ kind: 'cosine', min }`: lr_e = min + (lr − min) · (1 + cos(π e / epochs)) / 2 (from lr at epoch 0 towards `min`, default 0)
 */
export type LrSchedule = { kind: 'step'; every: number; gamma: number } | { kind: 'cosine'; min?: number };

/** What {@link learningRate} needs. */
export interface ScheduleSettings {
  lr: number;
  /** core's exponential decay per epoch, lr_e = lr · lrDecay^e (default 1) */
  lrDecay?: number;
  schedule?: LrSchedule;
  /** total epochs of the run (cosine) */
  epochs: number;
}

/** Check a schedule against the run's settings; ARGUMENT error naming the key and value otherwise. */
export function checkSchedule(s: ScheduleSettings): void {
  const decay = s.lrDecay ?? 1;
  if (!(decay > 0 && decay <= 1)) throw new OdemorError('ARGUMENT', `train: lrDecay must lie in (0, 1], got ${s.lrDecay}`);
  const sch = s.schedule;
  if (!sch) return;
  if (decay !== 1) {
    throw new OdemorError('ARGUMENT', `train: lrDecay = ${decay} and schedule.kind = '${sch.kind}' are two schedules; give one (lrDecay is the exponential one)`);
  }
  if (sch.kind === 'step') {
    if (!(Number.isInteger(sch.every) && sch.every >= 1)) throw new OdemorError('ARGUMENT', `train: schedule.every must be a positive integer, got ${sch.every}`);
    if (!(sch.gamma > 0 && sch.gamma <= 1)) throw new OdemorError('ARGUMENT', `train: schedule.gamma must lie in (0, 1], got ${sch.gamma}`);
  } else if (sch.kind === 'cosine') {
    const min = sch.min ?? 0;
    if (!(min >= 0 && min <= s.lr)) throw new OdemorError('ARGUMENT', `train: schedule.min must lie in [0, lr = ${s.lr}], got ${sch.min}`);
  } else {
    throw new OdemorError('ARGUMENT', `train: unknown schedule.kind '${String((sch as { kind: unknown }).kind)}' (step, cosine)`);
  }
}

/** The learning rate of epoch `epoch` (from 0). Without a schedule: lr · lrDecay^epoch, as the tfjs trainer computes it. */
export function learningRate(epoch: number, s: ScheduleSettings): number {
  const sch = s.schedule;
  if (!sch) return s.lr * (s.lrDecay ?? 1) ** epoch;
  if (sch.kind === 'step') return s.lr * sch.gamma ** Math.floor(epoch / sch.every);
  const min = sch.min ?? 0;
  return min + ((s.lr - min) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, s.epochs)))) / 2;
}

/** What a trainer knows once per batch, for its progress line. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** mean loss and accuracy over the epoch's batches so far */
  loss: number;
  accuracy: number;
  /** samples of this epoch so far and seconds since the epoch began */
  samples: number;
  seconds: number;
  /** batches done and in all, over every epoch */
  done: number;
  total: number;
  /** seconds since training began */
  elapsed: number;
}

/** `epoch 2/10 loss 0.3120 acc 91.2% 1,234 samples/s ETA 1m20s`: the detail of a training progress event. */
export function trainProgressDetail(p: TrainProgress): string {
  const rate = p.seconds > 0 ? Math.round(p.samples / p.seconds) : 0;
  const left = p.done > 0 ? (p.elapsed / p.done) * (p.total - p.done) : NaN;
  return `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(1)}% ${rate.toLocaleString('en-US')} samples/s ETA ${duration(left)}`;
}

/** 75 → `1m15s`, 4000 → `1h06m`, NaN → `?`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

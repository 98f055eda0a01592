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
  /** seconds since this process began training, and the batches it has done in them (fewer than `done` on a resumed run) */
  elapsed: number;
  doneHere?: number;
}

/** `epoch 2/10 loss 0.3120 acc 91.2% 1,234 samples/s ETA 1m20s`: the detail of a training progress event. */
export function trainProgressDetail(p: TrainProgress): string {
  const rate = p.seconds > 0 ? Math.round(p.samples / p.seconds) : 0;
  // the rate comes from this process's own batches: a resumed run's earlier batches took none of `elapsed`
  const here = p.doneHere ?? p.done;
  const left = here > 0 ? (p.elapsed / here) * (p.total - p.done) : NaN;
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

/**
 * The bookkeeping every trainer's epoch loop shares: loss and accuracy means weighted by batch size,
 * samples/s, the progress line, and the epoch's {@link import('../hooks.js').EpochInfo}.
 */
export class EpochMeter {
  private readonly start = performance.now();
  private t0 = performance.now();
  private lossSum = 0;
  private hits = 0;
  private seen = 0;
  private epoch = 0;
  private lr = 0;
  private readonly doneBefore: number;

  /** @param done batches already done (a resumed run) */
  constructor(
    readonly phase: string,
    readonly epochs: number,
    readonly total: number,
    public done = 0,
  ) {
    this.doneBefore = done;
  }

  /** Start epoch `epoch` (0-based) at learning rate `lr`. */
  begin(epoch: number, lr: number): void {
    this.epoch = epoch;
    this.lr = lr;
    this.t0 = performance.now();
    this.lossSum = 0;
    this.hits = 0;
    this.seen = 0;
  }

  /** Count one batch (its mean loss, its correct predictions, its size); returns the progress detail. */
  batch(loss: number, correct: number, size: number): string {
    this.lossSum += loss * size;
    this.hits += correct;
    this.seen += size;
    this.done++;
    return trainProgressDetail({
      epoch: this.epoch + 1,
      epochs: this.epochs,
      loss: this.lossSum / this.seen,
      accuracy: this.hits / this.seen,
      samples: this.seen,
      seconds: (performance.now() - this.t0) / 1000,
      done: this.done,
      total: this.total,
      elapsed: (performance.now() - this.start) / 1000,
      doneHere: this.done - this.doneBefore,
    });
  }

  /** The finished epoch's record. */
  end(): import('../hooks.js').EpochInfo {
    return {
      epoch: this.epoch + 1,
      epochs: this.epochs,
      loss: this.seen ? this.lossSum / this.seen : NaN,
      accuracy: this.seen ? this.hits / this.seen : NaN,
      lr: this.lr,
      seconds: (performance.now() - this.t0) / 1000,
      phase: this.phase,
    };
  }
}

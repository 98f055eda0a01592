/**
 * Pure metric helpers: squared errors of predicted against observed trajectories, accumulated in float64
 * batch by batch, and what they give (MSE, RMSE, relative error, RMSE per observation time).
 */
import { OdemorError } from '@odemor/core';

/** The errors of a set of predictions against their targets, each sample [T, d] row-major. */
export interface TrajectoryErrorSummary {
  /** the mean over samples, times and states of (pred − true)² */
  mse: number;
  /** √mse */
  rmse: number;
  /** ‖pred − true‖ / ‖true‖ over all samples, times and states (0 when both are zero, Infinity when only the truth is) */
  relativeError: number;
  /** per observation time: the RMSE over samples and states */
  rmseByTime: number[];
  samples: number;
}

/**
 * Sums of squared errors per observation time, over batches of predictions [size, T, d] against targets of the
 * same shape, in float64. Checks lengths and finiteness.
 */
export class TrajectoryErrors {
  /** Σ (pred − true)² per time index */
  readonly sse: Float64Array;
  /** Σ true² over everything */
  truthSquares = 0;
  samples = 0;

  /**
   * @param T observation times per sample
   * @param d states per time
   * @param times the observation times, for error messages (optional)
   */
  constructor(
    readonly T: number,
    readonly d: number,
    readonly times?: readonly number[],
  ) {
    if (!Number.isSafeInteger(T) || T < 1 || !Number.isSafeInteger(d) || d < 1) {
      throw new OdemorError('ARGUMENT', `trajectory errors need positive integers T and d, got T = ${T}, d = ${d}`);
    }
    this.sse = new Float64Array(T);
  }

  /**
   * Add one batch of `size` samples.
   *
   * @param offset index of the batch's first sample in the whole pass, for error messages
   * @throws OdemorError `SHAPE` unless both arrays hold size × T × d values, `NUMERIC` for a non-finite
   *   prediction, `DATA` for a non-finite target (sample, time and state named)
   */
  add(predicted: ArrayLike<number>, truth: ArrayLike<number>, size: number, offset = 0): void {
    const { T, d } = this;
    const per = T * d;
    if (predicted.length !== size * per || truth.length !== size * per) {
      throw new OdemorError(
        'SHAPE',
        `trajectory errors: ${predicted.length} predicted and ${truth.length} observed values for ${size} samples; expected [${size}, ${T}·${d}] = ${size * per} each`,
      );
    }
    for (let i = 0; i < size; i++) {
      for (let k = 0; k < T; k++) {
        const base = i * per + k * d;
        let acc = 0;
        for (let s = 0; s < d; s++) {
          const p = predicted[base + s]!;
          const y = truth[base + s]!;
          if (!Number.isFinite(p)) throw new OdemorError('NUMERIC', `predicted state ${s} of sample ${offset + i} at ${this.at(k)} is ${p}`);
          if (!Number.isFinite(y)) throw new OdemorError('DATA', `observed state ${s} of test sample ${offset + i} at ${this.at(k)} is ${y}`);
          const e = p - y;
          acc += e * e;
          this.truthSquares += y * y;
        }
        this.sse[k] = this.sse[k]! + acc;
      }
    }
    this.samples += size;
  }

  private at(k: number): string {
    const t = this.times?.[k];
    return t === undefined ? `time index ${k}` : `time index ${k} (t = ${t})`;
  }

  /** The metrics of everything added so far (NaN for no samples). */
  summary(): TrajectoryErrorSummary {
    const { T, d, samples } = this;
    let total = 0;
    for (let k = 0; k < T; k++) total += this.sse[k]!;
    const mse = samples ? total / (samples * T * d) : Number.NaN;
    const relativeError = !samples ? Number.NaN : this.truthSquares > 0 ? Math.sqrt(total / this.truthSquares) : total === 0 ? 0 : Number.POSITIVE_INFINITY;
    return {
      mse,
      rmse: Math.sqrt(mse),
      relativeError,
      rmseByTime: Array.from(this.sse, (v) => (samples ? Math.sqrt(v / (samples * d)) : Number.NaN)),
      samples,
    };
  }
}

/**
 * The errors of predictions [n, T, d] against targets [n, T, d] (row-major, n = length / (T·d)).
 *
 * @throws OdemorError as {@link TrajectoryErrors.add}; `SHAPE` also when the length is not a multiple of T·d
 */
export function trajectoryErrors(predicted: ArrayLike<number>, truth: ArrayLike<number>, T: number, d: number): TrajectoryErrorSummary {
  const acc = new TrajectoryErrors(T, d);
  const n = truth.length / (T * d);
  if (!Number.isInteger(n)) throw new OdemorError('SHAPE', `trajectory errors: ${truth.length} observed values are not a whole number of samples of [${T}, ${d}]`);
  acc.add(predicted, truth, n);
  return acc.summary();
}

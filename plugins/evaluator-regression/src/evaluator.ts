import { checkEvaluateOptions, OdemorError, readTestSplit, timedEvaluation } from '@odemor/core';
import type { Batch, Dataset, EvaluateOptions, EvaluationResult, Evaluator, Executable, TrajectorySamples } from '@odemor/core';
import { TrajectoryErrors } from './metrics.js';

/** Options of the `regression` evaluator factory. */
export interface RegressionEvaluatorOptions {
  /** predicted and observed trajectories of the first test samples kept in the result for plots (default 3; 0: none) */
  trajectories?: number;
}

/** The default of {@link RegressionEvaluatorOptions.trajectories}. */
export const DEFAULT_TRAJECTORIES = 3;
/** The most trajectories the evaluator keeps. */
export const MAX_TRAJECTORIES = 100;

/** A value kept for plotting: float32's precision (7 significant digits), so results.json stays readable. */
const keep = (v: number) => Number(v.toPrecision(7));

/**
 * The layout of one sample's target: `T` observation times of `d` states. A target shape [T, ...state] gives T
 * times (a trajectory: `times` must then list them for the rollout error); any other shape is one time of all
 * its values.
 */
function targetLayout(dataset: Dataset): { T: number; d: number; times?: number[] } {
  const info = dataset.info;
  const shape = info.targetShape;
  if (!shape?.length || shape.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    throw new OdemorError('DATA', `dataset ${dataset.name} is a regression dataset without a valid targetShape (got ${shape ? `[${shape.join(', ')}]` : 'none'})`);
  }
  if (shape.length === 1) return { T: 1, d: shape[0]! };
  const T = shape[0]!;
  const d = shape.slice(1).reduce((a, b) => a * b, 1);
  const times = info.times;
  if (times !== undefined && times.length !== T) {
    throw new OdemorError('DATA', `dataset ${dataset.name}: ${times.length} observation times (info.times) for targets of shape [${shape.join(', ')}] (${T} times)`);
  }
  return { T, d, ...(times ? { times: [...times] } : {}) };
}

/**
 * Evaluates a regression model — a trajectory model on a system-identification dataset — on the test split:
 * the mean squared error of its predictions at the observation times (mean over samples, times and states),
 * the RMSE, the relative error ‖pred − true‖ / ‖true‖, the rollout error against time (the RMSE per observation
 * time), the solver's NFE per sample when the executable counts it (`lastStats`), a few predicted against
 * observed trajectories for plots, and the median wall time, throughput and speedup of a full pass.
 *
 * The timing is core's shared protocol (`readTestSplit`, `timedEvaluation`), as for `classification`: the
 * test split is read once (first `limit` samples, in batches of `batch`); one untimed warm-up pass, whose
 * predictions give the metrics; then `repeats` timed passes (over the first `timingLimit` samples), each paired
 * with a pass of `reference` when one is given (`referenceTimings`, `speedup` the median of the paired ratios).
 * Every `predict` gets the batch's input signal `u` when the dataset has one. `options.topk` is ignored (the
 * result's `topk` is `{}`).
 *
 * Neither executable is disposed.
 */
export class RegressionEvaluator implements Evaluator {
  readonly name = 'regression';
  readonly trajectories: number;

  constructor(options: RegressionEvaluatorOptions = {}) {
    const n = options.trajectories ?? DEFAULT_TRAJECTORIES;
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_TRAJECTORIES) {
      throw new OdemorError('CONFIG', `evaluator option trajectories must be an integer in [0, ${MAX_TRAJECTORIES}], got ${String(options.trajectories)}`);
    }
    this.trajectories = n;
  }

  /**
   * @throws OdemorError `CONFIG` for a dataset that is not a regression dataset (use `classification`) or bad
   *   options (repeats, batch, limit, timingLimit), `SHAPE` when the predictions of a batch are not
   *   [batch, T·d] values, `NUMERIC` for a non-finite prediction, `DATA` for an empty test split, a malformed
   *   batch, a non-finite target or a dataset without a valid targetShape, `ARGUMENT` for a bad
   *   `baselineSeconds` or a `reference` that is not an executable
   */
  async evaluate(executable: Executable, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationResult> {
    const info = dataset.info;
    if (info.task !== 'regression') {
      throw new OdemorError(
        'CONFIG',
        `evaluator 'regression': dataset ${dataset.name} is not a regression dataset (a ${info.kind} dataset with ${info.numClasses} classes and no targets); ` +
          `evaluate it with evaluate.use: classification`,
      );
    }
    const { T, d, times } = targetLayout(dataset);
    const checked = checkEvaluateOptions(options);
    const batches = await readTestSplit(dataset, checked.batch, checked.limit);

    const errors = new TrajectoryErrors(T, d, times);
    let nfe = 0;
    let nfeWeighted = 0;
    let counted = true;
    const kept = times ? this.trajectories : 0;
    const traj: TrajectorySamples = { samples: [], times: times ?? [], truth: [], predicted: [] };
    const per = T * d;
    const warmUp = (out: Float32Array, b: Batch, offset: number): void => {
      errors.add(out, b.targets!, b.size, offset);
      const stats = executable.lastStats;
      if (stats && Number.isFinite(stats.nfe)) {
        nfe += stats.nfe;
        nfeWeighted += stats.nfe * b.size;
      } else counted = false;
      for (let i = 0; i < b.size && offset + i < kept; i++) {
        const rows = (a: Float32Array) => Array.from({ length: T }, (_, k) => Array.from(a.subarray(i * per + k * d, i * per + (k + 1) * d), keep));
        traj.samples.push(offset + i);
        traj.truth.push(rows(b.targets!));
        traj.predicted.push(rows(out));
      }
    };
    const timing = await timedEvaluation(
      executable,
      batches,
      { ...checked, info, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
      {
        outputLength: (b) => b.size * per,
        lengthError: (out, b, offset, who) =>
          new OdemorError(
            'SHAPE',
            `${who} returned ${out?.length ?? 'no'} values for a batch of ${b.size} samples (samples ${offset}–${offset + b.size - 1}); ` +
              `expected [B, T·d] = [${b.size}, ${T}·${d}] = ${b.size * per} (the ${d} states at each of the ${T} observation times of dataset ${dataset.name})`,
          ),
        warmUp,
      },
    );
    const e = errors.summary();
    return {
      topk: {},
      ...timing,
      mse: e.mse,
      rmse: e.rmse,
      relativeError: e.relativeError,
      ...(times ? { errorByTime: { times, rmse: e.rmseByTime } } : {}),
      ...(counted ? { nfe, nfePerSample: nfeWeighted / timing.samples } : {}),
      ...(traj.samples.length ? { trajectories: traj } : {}),
    };
  }
}

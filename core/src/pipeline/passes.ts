/**
 * What every evaluator shares (docs/architecture.md#evaluator): checking core's `evaluate` options, reading the
 * test split into memory once, the batches of the timed passes (`timingLimit`) and the timing protocol — one
 * untimed warm-up pass whose outputs the metrics come from, then `repeats` timed passes, paired pass by pass with
 * a `reference` when one is given. An evaluator supplies only what it computes from the outputs.
 */
import { OdemorError } from '../errors.js';
import type { Batch, Dataset, DatasetInfo, EvaluateOptions, EvaluationResult, Executable } from '../extension-points.js';
import { median } from '../util/index.js';

/** core's `evaluate` options after {@link checkEvaluateOptions}. */
export interface CheckedEvaluateOptions {
  repeats: number;
  batch: number;
  limit?: number;
  timingLimit?: number;
  baselineSeconds?: number;
  reference?: Executable;
}

function positiveInt(v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new OdemorError('CONFIG', `evaluate.${key} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Check the options every evaluator shares: `repeats`, `batch`, `limit`, `timingLimit` (positive integers),
 * `baselineSeconds` (positive, finite) and `reference` (an executable).
 *
 * @throws OdemorError `CONFIG` for a bad count (naming `evaluate.<key>` and the value), `ARGUMENT` for a bad
 *   `baselineSeconds` or a `reference` that is not an executable
 */
export function checkEvaluateOptions(options: EvaluateOptions): CheckedEvaluateOptions {
  const repeats = positiveInt(options.repeats, 'repeats');
  const batch = positiveInt(options.batch, 'batch');
  const limit = options.limit === undefined ? undefined : positiveInt(options.limit, 'limit');
  const { baselineSeconds, reference } = options;
  if (baselineSeconds !== undefined && !(typeof baselineSeconds === 'number' && Number.isFinite(baselineSeconds) && baselineSeconds > 0)) {
    throw new OdemorError('ARGUMENT', `baselineSeconds must be a positive finite number, got ${String(baselineSeconds)}`);
  }
  if (reference !== undefined && typeof (reference as Partial<Executable> | null)?.predict !== 'function') {
    throw new OdemorError('ARGUMENT', `reference must be an Executable (an object with predict), got ${reference === null ? 'null' : typeof reference}`);
  }
  const timingLimit = options.timingLimit === undefined ? undefined : positiveInt(options.timingLimit, 'timingLimit');
  return {
    repeats,
    batch,
    ...(limit !== undefined ? { limit } : {}),
    ...(timingLimit !== undefined ? { timingLimit } : {}),
    ...(baselineSeconds !== undefined ? { baselineSeconds } : {}),
    ...(reference !== undefined ? { reference } : {}),
  };
}

const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values per sample of a dataset's batch arrays: inputs, regression targets (0 without) and input signal (0 without). */
function perSample(info: DatasetInfo): { x: number; targets: number; u: number; regression: boolean } {
  const regression = info.task === 'regression';
  return {
    x: prod(info.inputShape),
    targets: regression && info.targetShape ? prod(info.targetShape) : 0,
    u: info.signal ? info.signal.steps * info.signal.channels : 0,
    regression,
  };
}

/**
 * Read the test split once into memory (the first `limit` samples, in batches of `batchSize`), checking each
 * batch's shape, and keep copies (a dataset may reuse its buffers). A classification batch needs a label per
 * sample; a regression batch (`info.task: 'regression'`) needs its `targets` ([size, ...targetShape]) and, for a
 * dataset with an input `signal`, its `u` ([size, steps, channels]). Stops at `limit` even when the dataset
 * yields more.
 *
 * @throws OdemorError `DATA` for a malformed batch (naming the dataset and the expected sizes) or an empty split
 */
export async function readTestSplit(dataset: Dataset, batchSize: number, limit?: number): Promise<Batch[]> {
  const info = dataset.info;
  const per = perSample(info);
  const out: Batch[] = [];
  let count = 0;
  for await (const b of dataset.batches('test', batchSize, limit === undefined ? {} : { limit })) {
    const sizeOk = Number.isInteger(b.size) && b.size >= 1;
    if (!sizeOk || (!per.regression && b.y.length !== b.size) || b.x.length !== b.size * per.x) {
      throw new OdemorError(
        'DATA',
        `dataset ${dataset.name} yielded a malformed test batch: size ${b.size}, ${b.y.length} labels, ${b.x.length} inputs ` +
          `(expected ${b.size} × ${per.x} = ${b.size * per.x} for input shape [${info.inputShape.join(', ')}])`,
      );
    }
    if (per.regression && b.targets?.length !== b.size * per.targets) {
      throw new OdemorError(
        'DATA',
        `dataset ${dataset.name} yielded a malformed test batch: size ${b.size}, ${b.targets?.length ?? 'no'} targets ` +
          `(expected ${b.size} × ${per.targets} = ${b.size * per.targets} for target shape [${(info.targetShape ?? []).join(', ')}])`,
      );
    }
    if (per.u && b.u?.length !== b.size * per.u) {
      throw new OdemorError(
        'DATA',
        `dataset ${dataset.name} yielded a malformed test batch: size ${b.size}, ${b.u?.length ?? 'no'} input-signal values ` +
          `(expected ${b.size} × ${info.signal!.steps} steps × ${info.signal!.channels} channels = ${b.size * per.u})`,
      );
    }
    const take = limit === undefined ? b.size : Math.min(b.size, limit - count);
    out.push(cut(b, take, per, true));
    count += take;
    if (limit !== undefined && count >= limit) break;
  }
  if (count === 0) throw new OdemorError('DATA', `dataset ${dataset.name} has no test samples to evaluate`);
  return out;
}

/** The first `take` samples of `b` (copies with `copy`, else views). */
function cut(b: Batch, take: number, per: { x: number; targets: number; u: number }, copy: boolean): Batch {
  const part = <T extends Float32Array | Int32Array>(a: T, n: number): T => (copy ? (a.slice(0, take * n) as T) : (a.subarray(0, take * n) as T));
  const labels = b.y.length === b.size ? part(b.y, 1) : new Int32Array(0);
  return {
    x: part(b.x, per.x),
    y: labels,
    size: take,
    ...(per.targets && b.targets ? { targets: part(b.targets, per.targets) } : {}),
    ...(per.u && b.u ? { u: part(b.u, per.u) } : {}),
  };
}

/** The batches holding the first `count` samples (the last one cut, as views), for the timed passes. */
export function timedBatches(batches: readonly Batch[], count: number, info: DatasetInfo): Batch[] {
  const per = perSample(info);
  const out: Batch[] = [];
  let left = count;
  for (const b of batches) {
    if (left <= 0) break;
    const take = Math.min(b.size, left);
    out.push(take === b.size ? b : cut(b, take, per, false));
    left -= take;
  }
  return out;
}

/** What an evaluator tells {@link timedEvaluation}: the output size of a batch, its shape error, and what it does with the warm-up's outputs. */
export interface PassProtocol {
  /** the number of values `predict` must return for `batch` */
  outputLength(batch: Batch): number;
  /**
   * The `SHAPE` error for `output` of the wrong length (`who`: 'the executable' or 'the reference'; `offset`: the
   * index of the batch's first sample in the pass).
   */
  lengthError(output: ArrayLike<number> | undefined, batch: Batch, offset: number, who: string): Error;
  /** each output of the warm-up pass (the pass the metrics come from), right after its `predict` */
  warmUp(output: Float32Array, batch: Batch, offset: number): void;
}

/** The timing part of an {@link EvaluationResult}. */
export type EvaluationTiming = Pick<EvaluationResult, 'wallSeconds' | 'timings' | 'referenceTimings' | 'throughput' | 'speedup' | 'samples' | 'timedSamples'>;

/** `predict` with the batch's input signal when it has one. */
function predictBatch(exe: Executable, b: Batch): Promise<Float32Array> {
  return b.u ? exe.predict(b.x, b.size, { u: b.u }) : exe.predict(b.x, b.size);
}

function nowSeconds(): bigint {
  return process.hrtime.bigint();
}

/** One timed pass of `exe` over every batch, in seconds. */
async function timedPass(exe: Executable, batches: readonly Batch[], protocol: PassProtocol, who: string): Promise<number> {
  let off = 0;
  const t0 = nowSeconds();
  for (const b of batches) {
    const out = await predictBatch(exe, b);
    // O(1) check inside the timed region; the model's values were checked in the warm-up pass
    if (out?.length !== protocol.outputLength(b)) throw protocol.lengthError(out, b, off, who);
    off += b.size;
  }
  return Number(nowSeconds() - t0) / 1e9;
}

/**
 * The timing protocol every evaluator follows, over batches read by {@link readTestSplit}: one untimed warm-up
 * pass over all `batches` (each output checked for its length and handed to `protocol.warmUp`: the metrics come
 * from it), then `repeats` timed passes over the first `timingLimit` samples (all by default), each calling
 * `predict` on every batch in turn (with the batch's `u` when it has one), timed with `process.hrtime.bigint()`.
 * `onProgress(done, repeats + 1)` fires after every pass, the warm-up included.
 *
 * Paired timing (`reference`): the reference gets its own untimed warm-up pass (over the timed batches) after the
 * model's, and every timed pass of the model is paired with a timed pass of the reference over the same batches,
 * the reference first on even passes (0, 2, …) and the model first on odd ones, so that a change of load hits
 * both alike. `referenceTimings` holds the reference's passes, index-aligned with `timings`, and `speedup` is the
 * median over pairs of reference time / model time (without a reference: `baselineSeconds / wallSeconds` when a
 * baseline is given). Progress then counts all passes: `onProgress(done, 2 · (repeats + 1))`.
 *
 * Neither executable is disposed.
 */
export async function timedEvaluation(
  executable: Executable,
  batches: readonly Batch[],
  options: CheckedEvaluateOptions & { info: DatasetInfo; onProgress?: EvaluateOptions['onProgress'] },
  protocol: PassProtocol,
): Promise<EvaluationTiming> {
  const { repeats, reference, timingLimit, baselineSeconds } = options;
  const samples = batches.reduce((a, b) => a + b.size, 0);
  const timed = timingLimit === undefined || timingLimit >= samples ? batches : timedBatches(batches, timingLimit, options.info);
  const timedSamples = timed.reduce((a, b) => a + b.size, 0);
  const total = (repeats + 1) * (reference ? 2 : 1);
  let done = 0;
  const passDone = () => options.onProgress?.(++done, total);

  // warm-up pass: also the pass the metrics come from
  let offset = 0;
  for (const b of batches) {
    const out = await predictBatch(executable, b);
    if (out?.length !== protocol.outputLength(b)) throw protocol.lengthError(out, b, offset, 'the executable');
    protocol.warmUp(out, b, offset);
    offset += b.size;
  }
  passDone();
  if (reference) {
    await timedPass(reference, timed, protocol, 'the reference');
    passDone();
  }

  const timings: number[] = [];
  const referenceTimings: number[] = [];
  for (let r = 0; r < repeats; r++) {
    if (reference && r % 2 === 0) {
      referenceTimings.push(await timedPass(reference, timed, protocol, 'the reference'));
      passDone();
    }
    timings.push(await timedPass(executable, timed, protocol, 'the executable'));
    passDone();
    if (reference && r % 2 === 1) {
      referenceTimings.push(await timedPass(reference, timed, protocol, 'the reference'));
      passDone();
    }
  }

  const wallSeconds = median(timings);
  let speedup: number | undefined;
  if (reference) speedup = median(referenceTimings.map((t, i) => t / timings[i]!));
  else if (baselineSeconds !== undefined) speedup = baselineSeconds / wallSeconds;
  return {
    wallSeconds,
    timings,
    ...(reference ? { referenceTimings } : {}),
    throughput: timedSamples / wallSeconds,
    ...(speedup !== undefined ? { speedup } : {}),
    samples,
    ...(timedSamples !== samples ? { timedSamples } : {}),
  };
}

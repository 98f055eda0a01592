import { OdemorError } from '@odemor/core';
import type { Batch, Dataset, EvaluateOptions, EvaluationResult, Evaluator, Executable } from '@odemor/core';
import { accumulateTopk, checkTopk, median, TIE_RULES, type TieRule } from './metrics.js';

/** Options of the `classification` evaluator factory. */
export interface ClassificationEvaluatorOptions {
  /** tie rule of top-k accuracy (default `'index'`, like argmax; see {@link TieRule}) */
  ties?: TieRule;
}

function positiveInt(v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new OdemorError('CONFIG', `evaluate.${key} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function nowSeconds(): bigint {
  return process.hrtime.bigint();
}

/**
 * Evaluates a classifier on the test split: top-k accuracy, median wall time of a full pass, throughput
 * and speedup against a baseline.
 *
 * Procedure: the test split is materialised once (first `limit` samples, in batches of `batch`); then
 * one untimed warm-up pass runs, whose logits give the accuracy; then `repeats` timed passes run, each
 * calling `predict` on every batch in turn (timed with `process.hrtime.bigint()`, nanosecond
 * resolution). `onProgress(done, repeats + 1)` fires after every pass, the warm-up included.
 *
 * Paired timing (`options.reference`): the reference gets its own untimed warm-up pass after the model's,
 * and every timed pass of the model is paired with a timed pass of the reference over the same batches,
 * the reference first on even passes (0, 2, …) and the model first on odd ones, so that a change of load
 * hits both alike. `referenceTimings` holds the reference's passes, index-aligned with `timings`, and
 * `speedup` is the median over pairs of reference time / model time. Progress then counts all passes:
 * `onProgress(done, 2 · (repeats + 1))`.
 *
 * Neither executable is disposed.
 */
export class ClassificationEvaluator implements Evaluator {
  readonly name = 'classification';
  readonly ties: TieRule;

  constructor(options: ClassificationEvaluatorOptions = {}) {
    const ties = options.ties ?? 'index';
    if (!TIE_RULES.includes(ties)) {
      throw new OdemorError('CONFIG', `evaluator option ties must be one of ${TIE_RULES.join(', ')}; got ${JSON.stringify(ties)}`);
    }
    this.ties = ties;
  }

  /**
   * @throws OdemorError `CONFIG` for bad options (repeats, batch, limit, topk outside [1, numClasses]),
   *   `SHAPE` when the logits of a batch are not batch × numClasses values, `NUMERIC` for a NaN logit,
   *   `DATA` for an empty test split, a malformed batch or a label out of range, `ARGUMENT` for a bad
   *   `baselineSeconds` or a `reference` that is not an executable
   */
  async evaluate(executable: Executable, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationResult> {
    const classes = dataset.info.numClasses;
    const repeats = positiveInt(options.repeats, 'repeats');
    const batchSize = positiveInt(options.batch, 'batch');
    const limit = options.limit === undefined ? undefined : positiveInt(options.limit, 'limit');
    const ks = checkTopk(options.topk, classes, 'evaluate.topk', 'CONFIG');
    const { baselineSeconds } = options;
    if (baselineSeconds !== undefined && !(typeof baselineSeconds === 'number' && Number.isFinite(baselineSeconds) && baselineSeconds > 0)) {
      throw new OdemorError('ARGUMENT', `baselineSeconds must be a positive finite number, got ${String(baselineSeconds)}`);
    }

    const { reference } = options;
    if (reference !== undefined && typeof (reference as Partial<Executable> | null)?.predict !== 'function') {
      throw new OdemorError('ARGUMENT', `reference must be an Executable (an object with predict), got ${reference === null ? 'null' : typeof reference}`);
    }
    const timingLimit = options.timingLimit === undefined ? undefined : positiveInt(options.timingLimit, 'timingLimit');
    const batches = await materialise(dataset, batchSize, limit);
    const samples = batches.reduce((a, b) => a + b.size, 0);
    // the timed passes run over the first `timingLimit` samples (all by default)
    const timed = timingLimit === undefined || timingLimit >= samples ? batches : prefix(batches, timingLimit, dataset.info.inputShape);
    const timedSamples = timed.reduce((a, b) => a + b.size, 0);
    const total = (repeats + 1) * (reference ? 2 : 1);
    let done = 0;
    const passDone = () => options.onProgress?.(++done, total);

    // warm-up pass: also the pass the accuracy comes from
    const hits = new Float64Array(ks.length);
    let offset = 0;
    for (const b of batches) {
      const logits = await executable.predict(b.x, b.size);
      checkLength(logits, b.size, classes, offset);
      accumulateTopk(logits, b.y, classes, ks, hits, this.ties, offset);
      offset += b.size;
    }
    passDone();
    if (reference) {
      await timedPass(reference, timed, classes, 'the reference');
      passDone();
    }

    const timings: number[] = [];
    const referenceTimings: number[] = [];
    for (let r = 0; r < repeats; r++) {
      if (reference && r % 2 === 0) {
        referenceTimings.push(await timedPass(reference, timed, classes, 'the reference'));
        passDone();
      }
      timings.push(await timedPass(executable, timed, classes));
      passDone();
      if (reference && r % 2 === 1) {
        referenceTimings.push(await timedPass(reference, timed, classes, 'the reference'));
        passDone();
      }
    }

    const wallSeconds = median(timings);
    const topk: Record<number, number> = {};
    ks.forEach((k, q) => (topk[k] = hits[q]! / samples));
    let speedup: number | undefined;
    if (reference) speedup = median(referenceTimings.map((t, i) => t / timings[i]!));
    else if (baselineSeconds !== undefined) speedup = baselineSeconds / wallSeconds;
    return {
      topk,
      wallSeconds,
      timings,
      ...(reference ? { referenceTimings } : {}),
      throughput: timedSamples / wallSeconds,
      ...(speedup !== undefined ? { speedup } : {}),
      samples,
      ...(timedSamples !== samples ? { timedSamples } : {}),
    };
  }
}

/** The batches holding the first `count` samples (the last one cut), for the timed passes. */
function prefix(batches: readonly Batch[], count: number, inputShape: readonly number[]): Batch[] {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const out: Batch[] = [];
  let left = count;
  for (const b of batches) {
    if (left <= 0) break;
    const take = Math.min(b.size, left);
    out.push(take === b.size ? b : { x: b.x.subarray(0, take * per), y: b.y.subarray(0, take), size: take });
    left -= take;
  }
  return out;
}

/** One timed pass of `exe` over every batch, in seconds. */
async function timedPass(exe: Executable, batches: readonly Batch[], classes: number, who?: string): Promise<number> {
  let off = 0;
  const t0 = nowSeconds();
  for (const b of batches) {
    const logits = await exe.predict(b.x, b.size);
    // O(1) check inside the timed region; the model's values were checked in the warm-up pass
    if (logits?.length !== b.size * classes) checkLength(logits, b.size, classes, off, who);
    off += b.size;
  }
  return Number(nowSeconds() - t0) / 1e9;
}

function checkLength(logits: ArrayLike<number> | undefined, size: number, classes: number, offset: number, who = 'the executable'): void {
  const len = logits?.length;
  if (len !== size * classes) {
    throw new OdemorError(
      'SHAPE',
      `${who} returned ${len ?? 'no'} logits for a batch of ${size} samples (samples ${offset}–${offset + size - 1}); ` +
        `expected ${size} × ${classes} classes = ${size * classes}`,
    );
  }
}

/** Read the test split once into memory (first `limit` samples), checking each batch's shape. */
async function materialise(dataset: Dataset, batchSize: number, limit: number | undefined): Promise<Batch[]> {
  const per = dataset.info.inputShape.reduce((a, b) => a * b, 1);
  const out: Batch[] = [];
  let count = 0;
  for await (const b of dataset.batches('test', batchSize, limit === undefined ? {} : { limit })) {
    if (!Number.isInteger(b.size) || b.size < 1 || b.y.length !== b.size || b.x.length !== b.size * per) {
      throw new OdemorError(
        'DATA',
        `dataset ${dataset.name} yielded a malformed test batch: size ${b.size}, ${b.y.length} labels, ${b.x.length} inputs ` +
          `(expected ${b.size} × ${per} = ${b.size * per} for input shape [${dataset.info.inputShape.join(', ')}])`,
      );
    }
    // keep our own copies (a dataset may reuse its buffers); stop at `limit` even if the dataset does not
    const take = limit === undefined ? b.size : Math.min(b.size, limit - count);
    out.push({ x: b.x.slice(0, take * per), y: b.y.slice(0, take), size: take });
    count += take;
    if (limit !== undefined && count >= limit) break;
  }
  if (count === 0) throw new OdemorError('DATA', `dataset ${dataset.name} has no test samples to evaluate`);
  return out;
}

import { checkEvaluateOptions, OdemorError, readTestSplit, timedEvaluation } from '@odemor/core';
import type { Dataset, EvaluateOptions, EvaluationResult, Evaluator, Executable } from '@odemor/core';
import { accumulateTopk, checkTopk, TIE_RULES, type TieRule } from './metrics.js';

/** Options of the `classification` evaluator factory. */
export interface ClassificationEvaluatorOptions {
  /** tie rule of top-k accuracy (default `'index'`, like argmax; see {@link TieRule}) */
  ties?: TieRule;
}

/**
 * Evaluates a classifier on the test split: top-k accuracy, median wall time of a full pass, throughput
 * and speedup against a baseline.
 *
 * Procedure (core's shared protocol, `readTestSplit` and `timedEvaluation`): the test split is materialised
 * once (first `limit` samples, in batches of `batch`); then one untimed warm-up pass runs, whose logits give
 * the accuracy; then `repeats` timed passes run, each
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
   *   `CONFIG` also for a regression dataset, `DATA` for an empty test split, a malformed batch or a label out of range, `ARGUMENT` for a bad
   *   `baselineSeconds` or a `reference` that is not an executable
   */
  async evaluate(executable: Executable, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationResult> {
    const classes = dataset.info.numClasses;
    if (dataset.info.task === 'regression') {
      throw new OdemorError(
        'CONFIG',
        `evaluator 'classification': dataset ${dataset.name} is a regression dataset (targets, no class labels); evaluate it with evaluate.use: regression`,
      );
    }
    const checked = checkEvaluateOptions(options);
    const ks = checkTopk(options.topk, classes, 'evaluate.topk', 'CONFIG');
    const batches = await readTestSplit(dataset, checked.batch, checked.limit);

    // the warm-up pass's logits give the accuracy
    const hits = new Float64Array(ks.length);
    const timing = await timedEvaluation(
      executable,
      batches,
      { ...checked, info: dataset.info, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
      {
        outputLength: (b) => b.size * classes,
        lengthError: (logits, b, offset, who) => lengthError(logits, b.size, classes, offset, who),
        warmUp: (logits, b, offset) => accumulateTopk(logits, b.y, classes, ks, hits, this.ties, offset),
      },
    );
    const topk: Record<number, number> = {};
    ks.forEach((k, q) => (topk[k] = hits[q]! / timing.samples));
    return { topk, ...timing };
  }
}

function lengthError(logits: ArrayLike<number> | undefined, size: number, classes: number, offset: number, who: string): OdemorError {
  return new OdemorError(
    'SHAPE',
    `${who} returned ${logits?.length ?? 'no'} logits for a batch of ${size} samples (samples ${offset}–${offset + size - 1}); ` +
      `expected ${size} × ${classes} classes = ${size * classes}`,
  );
}

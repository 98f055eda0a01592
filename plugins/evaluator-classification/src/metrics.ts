/**
 * Pure metric helpers: top-k accuracy with a documented tie rule, and the median.
 */
import { OdemorError, type OdemorErrorCode } from '@odemor/core';

/**
 * How ties between the label's logit and other logits are resolved when ranking the label.
 *
 * - `'optimistic'`: the label's rank is the number of classes with a **strictly larger**
 *   logit; the label counts in top-k if fewer than k classes beat it strictly. Ties favour the label,
 *   so e.g. all-equal logits count as correct for every k. Deterministic and independent of class order.
 * - `'index'`: ties are broken by class index, as a stable sort or `argmax` taking the first maximum
 *   would do: a class j beats the label y if its logit is larger, or equal with j < y.
 * - `'pessimistic'`: every other class with an equal or larger logit beats the label, so a tie never
 *   counts as correct.
 */
export type TieRule = 'optimistic' | 'index' | 'pessimistic';

/** The tie rules, for validation messages. */
export const TIE_RULES: readonly TieRule[] = ['optimistic', 'index', 'pessimistic'];

/**
 * Validate k values for top-k accuracy: each an integer in [1, classes]. Returns them deduplicated and
 * sorted ascending.
 *
 * @param what how to name the values in the error, e.g. `'evaluate.topk'`
 */
export function checkTopk(ks: readonly number[], classes: number, what = 'topk', code: OdemorErrorCode = 'ARGUMENT'): number[] {
  if (!Array.isArray(ks)) throw new OdemorError(code, `${what} must be an array of integers, got ${String(ks)}`);
  for (const k of ks) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > classes) {
      throw new OdemorError(code, `${what} values must be integers between 1 and ${classes} (the number of classes), got ${String(k)}`);
    }
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/**
 * Add the top-k hits of one batch to `hits` (hits[i] counts samples whose label is in the top `ks[i]`).
 * Checks shapes, labels and NaNs; `ks` must already be valid (see {@link checkTopk}).
 *
 * @param offset index of the batch's first sample in the whole pass, for error messages
 * @throws OdemorError `SHAPE` for a wrong logits length, `NUMERIC` for a NaN logit, `DATA` for a label
 *   out of range
 */
export function accumulateTopk(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  ks: readonly number[],
  hits: Float64Array,
  ties: TieRule = 'index',
  offset = 0,
): void {
  const n = labels.length;
  if (logits.length !== n * classes) {
    throw new OdemorError('SHAPE', `logits have ${logits.length} values, expected ${n} samples × ${classes} classes = ${n * classes}`);
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new OdemorError('DATA', `label of sample ${offset + i} is ${y}, expected an integer in [0, ${classes})`);
    }
    const base = i * classes;
    const ly = logits[base + y]!;
    let rank = 0;
    for (let j = 0; j < classes; j++) {
      const l = logits[base + j]!;
      if (Number.isNaN(l)) throw new OdemorError('NUMERIC', `logit of sample ${offset + i}, class ${j} is NaN`);
      if (j === y) continue;
      if (l > ly || (l === ly && (ties === 'pessimistic' || (ties === 'index' && j < y)))) rank++;
    }
    for (let q = 0; q < ks.length; q++) if (rank < ks[q]!) hits[q]!++;
  }
}

/**
 * Top-k accuracy of row-major logits [n, classes] against labels [n], for each k in `ks`.
 *
 * Tie rule (default `'index'`): the label counts in top-k if **fewer than k classes have a strictly
 * larger logit** than the label's. See {@link TieRule} for the alternatives. ±Infinity logits are ordered
 * as usual; a NaN logit is an error.
 *
 * @returns fraction in [0, 1] per k (NaN for every k when there are no samples)
 * @throws OdemorError `SHAPE` unless logits.length = n·classes, `NUMERIC` for NaN, `DATA` for a label
 *   outside [0, classes), `ARGUMENT` for a k outside [1, classes]
 */
export function topkAccuracy(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  ks: readonly number[],
  ties: TieRule = 'index',
): Record<number, number> {
  if (!Number.isInteger(classes) || classes < 1) throw new OdemorError('ARGUMENT', `classes must be a positive integer, got ${classes}`);
  const valid = checkTopk(ks, classes);
  const hits = new Float64Array(valid.length);
  accumulateTopk(logits, labels, classes, valid, hits, ties);
  const out: Record<number, number> = {};
  valid.forEach((k, q) => (out[k] = labels.length === 0 ? Number.NaN : hits[q]! / labels.length));
  return out;
}

/** Median of a list: core's (re-exported here, where it was first defined). */
export { median } from '@odemor/core';

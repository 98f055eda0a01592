import { OdemorError } from '../errors.js';

/**
 * Median of `xs` (mean of the two middle values for an even count). Does not modify `xs`.
 *
 * @throws OdemorError `ARGUMENT` for an empty array or a NaN entry
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new OdemorError('ARGUMENT', 'median of an empty list');
  if (xs.some((v) => Number.isNaN(v))) throw new OdemorError('ARGUMENT', 'median of a list containing NaN');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

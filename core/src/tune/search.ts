/**
 * The search of `odemor tune` (docs/architecture.md#tune), free of any model: per method, a coarse sweep over
 * its dimensions, then a bisection on k between the largest failing and the smallest passing coarse k, then a
 * check of the neighbours of the k found; the budget test, the Pareto front and the choice of the fastest
 * model within the budget.
 *
 * Accuracy is not monotonic in k. The search never infers a result: a k counts as passing only once it was
 * measured passing, the bisection only narrows a bracket whose two ends were measured (a k that could not be
 * measured stops it), and the choice is made among measured models only.
 */

/** What measuring one k gave: `true` within the budget, `false` outside it, `undefined` no model (it failed or was vetoed). */
export type Verdict = boolean | undefined;

/** The phase of the search a k was measured in. */
export type SearchPhase = 'coarse' | 'bisect' | 'verify';

/** One measured k of a method's search, in the order measured. */
export interface SearchProbe {
  k: number;
  phase: SearchPhase;
  /** true: within the budget; false: outside; absent: no model (see `failed`) */
  pass?: boolean;
  /** the model could not be built or evaluated */
  failed?: true;
}

/** The trace of one method's search. */
export interface DimSearch {
  /** the coarse dimensions, sorted, without repeats */
  coarse: number[];
  probes: SearchProbe[];
  /** the bracket the bisection started from: [largest failing coarse k below `smallest`, smallest passing coarse k] */
  bracket?: [number, number];
  /** the smallest k measured passing that the search arrived at (absent when no k passed) */
  smallest?: number;
  /** the pass at `smallest` is contradicted by its upper neighbour (measured failing) */
  fragile?: boolean;
  /** what the search observed on the way: non-monotonic results, a bisection stopped by a failed model */
  notes: string[];
}

/** How many k's of one bracket that cannot be measured the bisection steps around before it stops. */
export const MAX_UNMEASURED = 3;

/** The k of (lo, hi) nearest its middle that is not in `skip` (the lower one on a tie), or undefined. */
function nextMidpoint(lo: number, hi: number, skip: ReadonlySet<number>): number | undefined {
  const mid = Math.floor((lo + hi) / 2);
  for (let d = 0; mid - d > lo || mid + d < hi; d++) {
    if (mid - d > lo && !skip.has(mid - d)) return mid - d;
    if (mid + d < hi && !skip.has(mid + d)) return mid + d;
  }
  return undefined;
}

/** The bounds of k: 1 and the model's reducible dimension. */
export interface DimBounds {
  min: number;
  max: number;
}

/**
 * The default coarse grid up to the full dimension `n`: 1, 2, 4, … (powers of two below n), then n.
 */
export function defaultGrid(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < n; k *= 2) out.push(k);
  out.push(n);
  return out;
}

/**
 * Search one method's dimensions. `measure(k, phase)` is called at most once per k (results are kept) and says
 * whether the model at k is within the budget (`undefined`: no model). Steps:
 *
 * 1. coarse: every coarse k is measured;
 * 2. bracket: p, the smallest coarse k that passes, and f, the largest coarse k below p measured failing (a k
 *    that failed to build is no end of a bracket); without a passing coarse k the method has no result, without
 *    an f there is nothing to bisect (the search does not go below the coarse grid);
 * 3. bisection in (f, p): the midpoint is measured and replaces the end of its verdict, so both ends of the
 *    bracket are always measured; a midpoint without a model is stepped around (the nearest k to the middle
 *    instead), and after {@link MAX_UNMEASURED} of them the bisection stops at the bracket measured so far;
 * 4. verify: the upper neighbour k + 1 of the k found is measured (the lower one, k − 1, is the bracket's measured
 *    failing end once the bisection has converged); a failure there marks the pass at k `fragile` — it is kept,
 *    since it was measured, and the trace says so.
 *
 * Coarse results that contradict monotonicity (a failing k above a passing one) are noted.
 */
export async function searchDims(coarse: readonly number[], measure: (k: number, phase: SearchPhase) => Promise<Verdict>, bounds: DimBounds): Promise<DimSearch> {
  const ks = [...new Set(coarse)].filter((k) => k >= bounds.min && k <= bounds.max).sort((a, b) => a - b);
  const seen = new Map<number, Verdict>();
  const trace: DimSearch = { coarse: ks, probes: [], notes: [] };
  const probe = async (k: number, phase: SearchPhase): Promise<Verdict> => {
    if (seen.has(k)) return seen.get(k);
    const v = await measure(k, phase);
    seen.set(k, v);
    trace.probes.push(v === undefined ? { k, phase, failed: true } : { k, phase, pass: v });
    return v;
  };
  for (const k of ks) await probe(k, 'coarse');
  const p0 = ks.find((k) => seen.get(k) === true);
  if (p0 === undefined) {
    trace.notes.push(ks.some((k) => seen.get(k) === false) ? 'no coarse dimension is within the budget' : 'no coarse dimension could be measured');
    return trace;
  }
  const above = ks.filter((k) => k > p0 && seen.get(k) === false);
  if (above.length) trace.notes.push(`not monotonic: k = ${above.join(', ')} outside the budget above the passing k = ${p0}`);
  const below = ks.filter((k) => k < p0 && seen.get(k) === false);
  const f0 = below.length ? below[below.length - 1] : undefined;
  let hi = p0;
  if (f0 === undefined) {
    if (ks[0] !== p0) trace.notes.push(`no model could be measured below k = ${p0}: nothing to bisect`);
    trace.smallest = hi;
  } else {
    trace.bracket = [f0, p0];
    let lo = f0;
    // k's of the bracket that could not be measured: the bisection steps around them, up to MAX_UNMEASURED of them
    const skipped = new Set<number>();
    while (hi - lo > 1) {
      const mid = nextMidpoint(lo, hi, skipped);
      if (mid === undefined) break;
      const v = await probe(mid, 'bisect');
      if (v === true) hi = mid;
      else if (v === false) lo = mid;
      else {
        skipped.add(mid);
        if (skipped.size >= MAX_UNMEASURED) {
          trace.notes.push(`k = ${[...skipped].join(', ')} could not be measured: the bisection stopped at (${lo}, ${hi})`);
          break;
        }
      }
    }
    if (skipped.size && skipped.size < MAX_UNMEASURED) trace.notes.push(`k = ${[...skipped].join(', ')} could not be measured; the bisection stepped around ${skipped.size === 1 ? 'it' : 'them'}`);
    trace.smallest = hi;
  }
  const up = hi + 1;
  if (up <= bounds.max && (await probe(up, 'verify')) === false) {
    trace.fragile = true;
    trace.notes.push(`not monotonic: k = ${hi} is within the budget but k = ${up} is not; k = ${hi} is kept as measured`);
  }
  return trace;
}

/** The tune metrics: the top-1 accuracy (classification) or the test MSE (regression). */
export const TUNE_METRICS = ['top1', 'mse'] as const;
export type TuneMetric = (typeof TUNE_METRICS)[number];

/**
 * The drop of a model against the original: top-1, `original − model` in absolute fraction (0.01 = one
 * percentage point); mse, the relative increase `model / original − 1` (0.01 = 1 % more error). Negative when
 * the model does better.
 */
export function metricDrop(metric: TuneMetric, original: number, model: number): number {
  return metric === 'top1' ? original - model : model / original - 1;
}

/** Slack of the budget test, for the rounding of accuracies that are counts over the test samples. */
export const BUDGET_SLACK = 1e-12;

/** Within the budget: `drop ≤ maxDrop` (up to {@link BUDGET_SLACK}). */
export function withinBudget(drop: number, maxDrop: number): boolean {
  return Number.isFinite(drop) && drop <= maxDrop + BUDGET_SLACK;
}

/** A measured model as the front and the choice see it. */
export interface Scored {
  speedup: number;
  drop: number;
}

/** `a` dominates `b`: at least as fast and at most the drop, and better in one of them. */
export function dominates(a: Scored, b: Scored): boolean {
  return a.speedup >= b.speedup && a.drop <= b.drop && (a.speedup > b.speedup || a.drop < b.drop);
}

/** The non-dominated models (speedup up, drop down), by speedup ascending; models with a non-finite score are left out. */
export function paretoFront<T extends Scored>(items: readonly T[]): T[] {
  const ok = items.filter((x) => Number.isFinite(x.speedup) && Number.isFinite(x.drop));
  return ok.filter((x) => !ok.some((y) => y !== x && dominates(y, x))).sort((a, b) => a.speedup - b.speedup || a.drop - b.drop);
}

/** The fastest model within the budget (ties: the smaller drop, then the earlier one), or undefined. */
export function chooseFastest<T extends Scored>(items: readonly T[], maxDrop: number): T | undefined {
  let best: T | undefined;
  for (const x of items) {
    if (!withinBudget(x.drop, maxDrop) || !Number.isFinite(x.speedup)) continue;
    if (!best || x.speedup > best.speedup || (x.speedup === best.speedup && x.drop < best.drop)) best = x;
  }
  return best;
}

/**
 * The search of `odemor tune` on fake accuracy functions, non-monotonic ones included: every k the search
 * reports as passing was measured passing, no k is measured twice, the bisection narrows only measured brackets,
 * and the front and the choice are over measured models only.
 */
import { describe, expect, it } from 'vitest';
import { MAX_UNMEASURED, chooseFastest, defaultGrid, dominates, metricDrop, paretoFront, searchDims, withinBudget, type Verdict } from '../src/tune/search.js';
import { mulberry32 } from '../src/util/rng.js';

/** A fake measurement: records every call, answers from `pass` (undefined: no model). */
function fake(pass: (k: number) => Verdict) {
  const calls: number[] = [];
  const measure = async (k: number) => {
    calls.push(k);
    return pass(k);
  };
  return { calls, measure };
}

const bounds = { min: 1, max: 64 };

describe('searchDims', () => {
  it('finds the smallest passing k of a non-monotonic accuracy by bisection, measuring each k once', async () => {
    // passes from k = 20 on, plus an isolated pass at k = 11 (below the bracket, between coarse points)
    const f = fake((k) => k >= 20 || k === 11);
    const s = await searchDims([32, 4, 16, 8, 64, 16], f.measure, bounds);
    expect(s.coarse).toEqual([4, 8, 16, 32, 64]);
    expect(s.bracket).toEqual([16, 32]);
    expect(s.smallest).toBe(20);
    expect(new Set(f.calls).size).toBe(f.calls.length);
    // 24 ✓, 20 ✓, 18 ✗, 19 ✗, then the neighbour 21
    expect(s.probes.filter((p) => p.phase === 'bisect').map((p) => [p.k, p.pass])).toEqual([[24, true], [20, true], [18, false], [19, false]]);
    expect(s.probes.filter((p) => p.phase === 'verify').map((p) => p.k)).toEqual([21]);
    // the result was measured passing, its lower neighbour measured failing
    expect(s.probes.find((p) => p.k === 20)?.pass).toBe(true);
    expect(s.probes.find((p) => p.k === 19)?.pass).toBe(false);
    expect(s.fragile).toBeUndefined();
  });

  it('keeps a pass its upper neighbour contradicts, marked fragile', async () => {
    const f = fake((k) => k >= 20 && k !== 21);
    const s = await searchDims([16, 32], f.measure, bounds);
    expect(s.smallest).toBe(20);
    expect(s.fragile).toBe(true);
    expect(s.notes.join(' ')).toMatch(/k = 20 is within the budget but k = 21 is not/);
  });

  it('bisects below the smallest passing coarse k and notes coarse results against monotonicity', async () => {
    // passes at 8 and from 30 on, fails at 16 in between
    const f = fake((k) => k === 8 || k === 7 || k >= 30);
    const s = await searchDims([4, 8, 16, 32], f.measure, bounds);
    expect(s.bracket).toEqual([4, 8]);
    expect(s.smallest).toBe(7);
    expect(s.notes.join(' ')).toMatch(/not monotonic: k = 16 outside the budget above the passing k = 8/);
    // the upper neighbour 8 is measured already (coarse): not measured again
    expect(f.calls.filter((k) => k === 8)).toHaveLength(1);
  });

  it('steps around k that cannot be measured and never takes an unmeasured end', async () => {
    const f = fake((k) => (k === 24 || k === 23 ? undefined : k >= 18));
    const s = await searchDims([16, 32], f.measure, bounds);
    expect(s.smallest).toBe(18);
    expect(s.probes.filter((p) => p.failed).map((p) => p.k)).toEqual([24, 23]);
    expect(s.notes.join(' ')).toMatch(/k = 24, 23 could not be measured; the bisection stepped around them/);
    // stops after MAX_UNMEASURED failures, at the bracket measured so far (both ends measured)
    const g = fake((k) => (k > 16 && k < 32 ? undefined : k >= 18));
    const t = await searchDims([16, 32], g.measure, bounds);
    expect(t.probes.filter((p) => p.failed)).toHaveLength(MAX_UNMEASURED);
    expect(t.smallest).toBe(32);
    expect(t.notes.join(' ')).toMatch(/the bisection stopped at \(16, 32\)/);
  });

  it('has no result when no coarse k passes, and nothing to bisect below the smallest coarse k', async () => {
    const none = await searchDims([4, 8], fake(() => false).measure, bounds);
    expect(none.smallest).toBeUndefined();
    expect(none.probes).toHaveLength(2);
    expect(none.notes).toEqual(['no coarse dimension is within the budget']);
    const first = fake((k) => k >= 2);
    const s = await searchDims([4, 8], first.measure, bounds);
    expect(s.smallest).toBe(4);
    expect(s.bracket).toBeUndefined();
    expect(first.calls).toEqual([4, 8, 5]);
    // coarse k beyond the bounds are dropped
    expect((await searchDims([0, 4, 100], fake(() => true).measure, bounds)).coarse).toEqual([4]);
  });

  it('on random non-monotonic accuracies: the result is measured passing, no k twice, few measurements', async () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const table = new Map<number, Verdict>();
      const threshold = 1 + Math.floor(rand() * 64);
      for (let k = 1; k <= 64; k++) {
        const r = rand();
        table.set(k, r < 0.05 ? undefined : r < 0.15 ? !(k >= threshold) : k >= threshold);
      }
      const f = fake((k) => table.get(k));
      const s = await searchDims(defaultGrid(64), f.measure, bounds);
      expect(new Set(f.calls).size).toBe(f.calls.length);
      expect(f.calls.length).toBeLessThanOrEqual(7 + Math.ceil(Math.log2(32)) + MAX_UNMEASURED + 1);
      if (s.smallest !== undefined) {
        expect(table.get(s.smallest)).toBe(true);
        expect(f.calls).toContain(s.smallest);
        if (s.bracket) {
          // the smallest passing k of the bracket's measured ks, with a measured failing k right below or a gap left unmeasurable
          const measuredBelow = f.calls.filter((k) => k < s.smallest! && k >= s.bracket![0] && table.get(k) !== undefined);
          expect(measuredBelow.every((k) => table.get(k) === false)).toBe(true);
        }
      } else expect(defaultGrid(64).some((k) => table.get(k) === true)).toBe(false);
    }
  });
});

describe('the budget, the front and the choice', () => {
  it('defines the drop per metric and tests the budget with rounding slack', () => {
    expect(metricDrop('top1', 0.9, 0.89)).toBeCloseTo(0.01, 12);
    expect(withinBudget(metricDrop('top1', 0.9, 0.89), 0.01)).toBe(true); // 0.010000000000000009
    expect(withinBudget(0.0101, 0.01)).toBe(false);
    expect(metricDrop('mse', 2, 2.5)).toBeCloseTo(0.25, 12);
    expect(metricDrop('mse', 2, 1)).toBeCloseTo(-0.5, 12);
    expect(withinBudget(Number.NaN, 1)).toBe(false);
  });

  it('the front is non-dominated and the fastest model within the budget is on it', () => {
    const rand = mulberry32(3);
    for (let trial = 0; trial < 100; trial++) {
      const items = Array.from({ length: 20 }, (_, i) => ({ id: i, speedup: 0.5 + rand() * 10, drop: rand() * 0.1 - 0.01 }));
      const front = paretoFront(items);
      for (const a of front) for (const b of items) expect(dominates(b, a)).toBe(false);
      for (const x of items) if (!front.includes(x)) expect(items.some((y) => dominates(y, x))).toBe(true);
      expect(front.map((x) => x.speedup)).toEqual([...front.map((x) => x.speedup)].sort((a, b) => a - b));
      const chosen = chooseFastest(items, 0.03);
      const ok = items.filter((x) => x.drop <= 0.03);
      if (ok.length) {
        expect(chosen!.speedup).toBe(Math.max(...ok.map((x) => x.speedup)));
        expect(front).toContain(chosen);
      } else expect(chosen).toBeUndefined();
    }
  });

  it('builds the default grid up to the full dimension', () => {
    expect(defaultGrid(64)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(defaultGrid(100)).toEqual([1, 2, 4, 8, 16, 32, 64, 100]);
    expect(defaultGrid(1)).toEqual([1]);
  });
});

/**
 * A sharded snapshot pass: each shard's partial(), merged in shard order, gives what one pass over every batch
 * gives — the Gram matrices and per-unit sums to float64 rounding (gram mode), the rows exactly (exact mode).
 */
import { describe, expect, it } from 'vitest';
import { OdemorError, type SnapshotBatch } from '@odemor/core';
import { gaussianStream } from '@odemor/conformance';
import { StreamSnapshotter } from '../src/index.js';

/** `sizes.length` random batches of n states and w nonlinear values per row (with exact zeros among the latter). */
function randomBatches(n: number, w: number, sizes: number[], seed: number): SnapshotBatch[] {
  const next = gaussianStream(seed);
  return sizes.map((count) => {
    const states = Float32Array.from({ length: count * n }, () => next());
    const nonlinear = Float32Array.from({ length: count * w }, (_, i) => (i % 7 === 0 ? 0 : Math.tanh(next())));
    const final = states.slice(0, Math.min(count, 3) * n);
    return { n, nonlinearDim: w, states, nonlinear, count, final, samples: final.length / n };
  });
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    s += a[i]! ** 2;
  }
  return s === 0 ? Math.sqrt(d) : Math.sqrt(d / s);
};

describe.each(['gram', 'exact'] as const)('stream snapshotter partial/merge (%s mode)', (mode) => {
  const n = 9;
  const w = 5;
  const all = randomBatches(n, w, [17, 40, 3, 25, 31, 8], 11);

  it('merging shard partials in order equals one pass over every batch', () => {
    const one = new StreamSnapshotter({ mode });
    one.begin(n, w);
    for (const b of all) one.consume(b);
    const whole = one.partial();

    const merged = new StreamSnapshotter({ mode });
    merged.begin(n, w);
    for (const shard of [all.slice(0, 2), all.slice(2, 3), all.slice(3)]) {
      const s = new StreamSnapshotter({ mode });
      s.begin(n, w);
      for (const b of shard) s.consume(b);
      merged.merge(s.partial());
    }
    const m = merged.partial();
    expect(m.meta).toEqual(whole.meta);
    expect(Object.keys(m.arrays).sort()).toEqual(Object.keys(whole.arrays).sort());
    for (const [k, a] of Object.entries(whole.arrays)) {
      if (mode === 'exact' && k.endsWith('Rows')) expect(m.arrays[k], k).toEqual(a);
      else expect(relDiff(a, m.arrays[k]!), k).toBeLessThan(1e-12);
    }
    const A = one.finish();
    const B = merged.finish();
    expect(B.snapshots).toBe(A.snapshots);
    expect(B.samples).toBe(A.samples);
    expect(relDiff(A.stateSingularValues, B.stateSingularValues)).toBeLessThan(1e-10);
    expect(relDiff(A.final.meanAbs, B.final.meanAbs)).toBeLessThan(1e-12);
    expect(B.hidden?.zeroFraction).toEqual(A.hidden?.zeroFraction);
  });

  it('refuses a partial of another n, width or mode before accumulating anything', () => {
    const s = new StreamSnapshotter({ mode });
    s.begin(n, w);
    s.consume(all[0]!);
    const p = s.partial();
    const into = new StreamSnapshotter({ mode });
    into.begin(n + 1, w);
    const err = (f: () => void) => {
      try {
        f();
      } catch (e) {
        expect(OdemorError.is(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(err(() => into.merge(p))).toMatch(/n = 9, but begin\(\) was called with n = 10/);
    const other = new StreamSnapshotter({ mode: mode === 'gram' ? 'exact' : 'gram' });
    other.begin(n, w);
    expect(err(() => other.merge(p))).toMatch(/taken in mode/);
    const narrow = new StreamSnapshotter({ mode });
    narrow.begin(n, w + 1);
    expect(err(() => narrow.merge(p))).toMatch(/width 5, but the pass has nonlinearDim = 6/);
    const cut = { ...p, arrays: { ...p.arrays, absSum: p.arrays.absSum!.subarray(1) } };
    const fresh = new StreamSnapshotter({ mode });
    fresh.begin(n, w);
    expect(err(() => fresh.merge(cut))).toMatch(/absSum has 8 values; expected 9/);
    // nothing was accumulated by the refused merges
    expect(fresh.partial().meta.snapshots).toBe(0);
  });
});

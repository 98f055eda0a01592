import { describe, expect, it } from 'vitest';
import { Experiment, Matrix, OdemorError, podExact, rankByEnergy, thinSvd, type SnapshotBatch } from '@odemor/core';
import { columnsDiffUpToSign, gaussianStream, randomMatrix } from '@odemor/conformance';
import plugin, { StreamSnapshotter } from '../src/index.js';

/** snapshots with well-separated singular values: columns of A diag(σ) Bᵀ, σ_i = 2^{−i/2} */
function plantedSnapshots(n: number, s: number, seed: number): Matrix {
  const next = gaussianStream(seed);
  const A = thinSvd(randomMatrix(n, n, next)).U;
  const B = thinSvd(randomMatrix(s, n, next)).U;
  return A.mmul(Matrix.diag(Array.from({ length: n }, (_, i) => 2 ** (-i / 2)))).mmul(B.transpose());
}

/** Split the columns of X (n×s) into batches of the given sizes, as row-major float32 [count, n]. */
function* batches(X: Matrix, Y: Matrix, sizes: number[]): Generator<SnapshotBatch> {
  const n = X.rows;
  let j = 0;
  for (const count of sizes) {
    const states = new Float32Array(count * n);
    const nonlinear = new Float32Array(count * n);
    for (let r = 0; r < count; r++, j++) {
      for (let i = 0; i < n; i++) {
        states[r * n + i] = X.get(i, j);
        nonlinear[r * n + i] = Y.get(i, j);
      }
    }
    const final = states.slice(0, Math.min(count, 2) * n);
    yield { n, states, nonlinear, count, final, samples: final.length / n };
  }
}

/** the float32-rounded snapshot matrix both modes actually see */
const f32 = (X: Matrix) => X.clone().apply(function (this: Matrix, i: number, j: number) {
  this.set(i, j, Math.fround(this.get(i, j)));
});
function codeOf(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return { code: (e as OdemorError).code, message: (e as OdemorError).message };
  }
  return {};
}

const sizes = [1, 37, 300, 5, 57]; // 400 snapshots, batches around the 256-row block size

describe('@odemor/snapshotter-stream', () => {
  it("registers Snapshotter 'stream'", async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/snapshotter-stream');
    expect(exp.names('Snapshotter')).toContain('stream');
    const s = exp.factory('Snapshotter', 'stream')({ mode: 'exact', every: 2 });
    expect(s).toBeInstanceOf(StreamSnapshotter);
    expect(s.name).toBe('stream');
  });

  it('gram and exact modes give the same singular values (rel 1e-6) and the same bases up to sign', () => {
    const n = 24;
    const X = plantedSnapshots(n, 400, 1);
    const Y = plantedSnapshots(n, 400, 2);
    const gram = new StreamSnapshotter({ mode: 'gram' });
    const exact = new StreamSnapshotter({ mode: 'exact' });
    gram.begin(n);
    exact.begin(n);
    for (const b of batches(X, Y, sizes)) {
      gram.consume(b);
      exact.consume(b);
    }
    const g = gram.finish();
    const e = exact.finish();
    expect(g.snapshots).toBe(400);
    expect(e.snapshots).toBe(400);
    for (const [gs, es, gb, eb] of [
      [g.stateSingularValues, e.stateSingularValues, g.stateBasis, e.stateBasis],
      [g.nonlinearSingularValues, e.nonlinearSingularValues, g.nonlinearBasis, e.nonlinearBasis],
    ] as const) {
      expect(gs).toHaveLength(n);
      expect(es).toHaveLength(n);
      for (let i = 0; i < n; i++) expect(Math.abs(gs[i]! - es[i]!)).toBeLessThan(1e-6 * es[i]!);
      expect(gb.columns).toBe(n);
      expect(columnsDiffUpToSign(gb, eb, 16)).toBeLessThan(1e-6);
    }
    // the exact mode is the SVD of the snapshot matrix it was fed
    const ref = podExact(f32(X));
    ref.singularValues.forEach((v, i) => expect(e.stateSingularValues[i]).toBeCloseTo(v, 12));
  });

  it('lists all singular values but truncates the bases to rank, or by energy with dims: auto', () => {
    const n = 16;
    const X = plantedSnapshots(n, 400, 3);
    const Y = plantedSnapshots(n, 400, 4);
    const ranked = new StreamSnapshotter({ rank: 5 });
    ranked.begin(n);
    for (const b of batches(X, Y, sizes)) ranked.consume(b);
    const r = ranked.finish();
    expect(r.stateBasis.columns).toBe(5);
    expect(r.nonlinearBasis.columns).toBe(5);
    expect(r.stateSingularValues).toHaveLength(n);

    const energy = 0.99;
    const auto = new StreamSnapshotter({ dims: 'auto', energy });
    auto.begin(n);
    for (const b of batches(X, Y, sizes)) auto.consume(b);
    const a = auto.finish();
    const k = a.stateBasis.columns;
    const sq = a.stateSingularValues.map((v) => v * v);
    const total = sq.reduce((x, y) => x + y);
    const captured = (j: number) => sq.slice(0, j).reduce((x, y) => x + y, 0) / total;
    expect(captured(k)).toBeGreaterThanOrEqual(energy);
    expect(captured(k - 1)).toBeLessThan(energy);
    expect(k).toBe(rankByEnergy(a.stateSingularValues, energy));
    expect(k).toBeLessThan(n);
  });

  it('with fewer snapshots than n lists min(n, snapshots) singular values; a larger rank is a REDUCER error', () => {
    const n = 12;
    const X = randomMatrix(n, 5, gaussianStream(5));
    for (const mode of ['gram', 'exact'] as const) {
      const s = new StreamSnapshotter({ mode });
      s.begin(n);
      for (const b of batches(X, X, [5])) s.consume(b);
      const set = s.finish();
      expect(set.stateSingularValues).toHaveLength(5);
      expect(set.stateBasis.columns).toBe(5);
      const tooMany = new StreamSnapshotter({ mode, rank: 6 });
      tooMany.begin(n);
      for (const b of batches(X, X, [5])) tooMany.consume(b);
      expect(codeOf(() => tooMany.finish()).code).toBe('REDUCER');
    }
  });

  it('keeps per-neuron final-state statistics: mean |x_c(t_end)| and the fraction of |x| < 1e-6', () => {
    const n = 3;
    const s = new StreamSnapshotter();
    s.begin(n);
    const one = Float32Array.from([1, 2, 3]);
    s.consume({ n, states: one, nonlinear: one, count: 1, final: Float32Array.from([1, 0, -2, -3, 1e-7, 2]), samples: 2 });
    s.consume({ n, states: new Float32Array(0), nonlinear: new Float32Array(0), count: 0, final: Float32Array.from([2, 0, 0.5]), samples: 1 });
    const set = s.finish();
    expect(set.samples).toBe(3);
    expect(set.snapshots).toBe(1);
    expect(Array.from(set.final.meanAbs)).toEqual([2, Math.fround(1e-7) / 3, 1.5].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(set.final.zeroFraction)).toEqual([0, 1, 0]);
  });

  it('holds O(n²) memory in gram mode, whatever the number of snapshots', () => {
    const n = 20;
    const X = plantedSnapshots(n, 400, 6);
    const gram = new StreamSnapshotter();
    const exact = new StreamSnapshotter({ mode: 'exact' });
    gram.begin(n);
    exact.begin(n);
    const held: number[] = [];
    const heldExact: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      for (const b of batches(X, X, sizes)) {
        gram.consume(b);
        exact.consume(b);
        held.push(gram.retainedBytes);
        heldExact.push(exact.retainedBytes);
      }
    }
    expect(new Set(held).size).toBe(1);
    expect(heldExact[heldExact.length - 1]!).toBeGreaterThan(heldExact[0]!);
    expect(gram.finish().snapshots).toBe(1200);
  });

  it('names the batch that holds a NaN, refuses a wrong n and finishing without data', () => {
    const n = 4;
    const s = new StreamSnapshotter();
    s.begin(n);
    const ok = Float32Array.from([1, 2, 3, 4]);
    s.consume({ n, states: ok, nonlinear: ok, count: 1, final: ok, samples: 1 });
    s.consume({ n, states: ok, nonlinear: ok, count: 1, final: ok, samples: 1 });
    const bad = Float32Array.from([1, 2, NaN, 4]);
    const nan = codeOf(() => s.consume({ n, states: ok, nonlinear: bad, count: 1, final: ok, samples: 1 }));
    expect(nan.code).toBe('NUMERIC');
    expect(nan.message).toMatch(/batch 2: nonlinear contains NaN at row 0, neuron 2/);
    const shape = codeOf(() => s.consume({ n: 5, states: ok, nonlinear: ok, count: 1, final: ok, samples: 1 }));
    expect(shape.code).toBe('SHAPE');
    expect(codeOf(() => s.consume({ n, states: ok, nonlinear: ok, count: 2, final: ok, samples: 1 })).code).toBe('SHAPE');
    // the rejected batches left nothing behind
    expect(s.finish().snapshots).toBe(2);

    const empty = new StreamSnapshotter();
    empty.begin(n);
    const none = codeOf(() => empty.finish());
    expect(none.code).toBe('DATA');
    expect(none.message).toMatch(/no snapshots/);
    expect(codeOf(() => new StreamSnapshotter().finish()).message).toMatch(/before begin/);
  });

  it('guards exact mode with maxExactSnapshots', () => {
    const n = 2;
    const s = new StreamSnapshotter({ mode: 'exact', maxExactSnapshots: 3 });
    s.begin(n);
    const two = Float32Array.from([1, 2, 3, 4]);
    s.consume({ n, states: two, nonlinear: two, count: 2, final: two, samples: 2 });
    const err = codeOf(() => s.consume({ n, states: two, nonlinear: two, count: 2, final: two, samples: 2 }));
    expect(err.message).toMatch(/maxExactSnapshots = 3.*mode: gram/);
  });

  it('validates all options at once', () => {
    const err = codeOf(() => new StreamSnapshotter({ mode: 'svd', rank: 0, energy: 2 }));
    expect(err.code).toBe('CONFIG');
    expect(err.message).toMatch(/mode must be/);
    expect(err.message).toMatch(/rank must be a positive integer/);
    expect(err.message).toMatch(/energy must be/);
    expect(codeOf(() => new StreamSnapshotter({ rank: 3, dims: 'auto' })).message).toMatch(/either rank or dims/);
    expect(new StreamSnapshotter({ dims: 'auto' }).options.energy).toBe(0.9999);
  });
});

describe('natively computed batch Grams', () => {
  it('summing batch Grams gives the same bases as the raw rows', async () => {
    const { StreamSnapshotter } = await import('../src/index.js');
    const n = 6;
    const rows = 40;
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
    const batches = [0, 1].map(() => {
      const states = Float32Array.from({ length: rows * n }, rnd);
      const nonlinear = states.map(Math.tanh);
      const final = Float32Array.from({ length: 4 * n }, rnd);
      return { n, states, nonlinear, count: rows, final, samples: 4 };
    });
    const gramOf = (x: Float32Array) => {
      const g = new Float32Array(n * n);
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] += x[r * n + i]! * x[r * n + j]!;
      return g;
    };
    const raw = new StreamSnapshotter({});
    const native = new StreamSnapshotter({});
    expect(native.prefersGram).toBe(true);
    raw.begin(n);
    native.begin(n);
    for (const b of batches) {
      raw.consume(b);
      native.consume({ ...b, states: new Float32Array(0), nonlinear: new Float32Array(0), gram: { states: gramOf(b.states), nonlinear: gramOf(b.nonlinear) } });
    }
    const a = raw.finish();
    const c = native.finish();
    expect(c.snapshots).toBe(a.snapshots);
    a.stateSingularValues.forEach((s, i) => expect(c.stateSingularValues[i]).toBeCloseTo(s, 3));
    a.nonlinearSingularValues.forEach((s, i) => expect(c.nonlinearSingularValues[i]).toBeCloseTo(s, 3));
    const exact = new StreamSnapshotter({ mode: 'exact' });
    expect(exact.prefersGram).toBe(false);
    exact.begin(n);
    expect(() => exact.consume({ ...batches[0]!, states: new Float32Array(0), nonlinear: new Float32Array(0), gram: { states: new Float32Array(n * n), nonlinear: new Float32Array(n * n) } })).toThrow(
      /exact mode needs the raw snapshot rows/,
    );
  });
});

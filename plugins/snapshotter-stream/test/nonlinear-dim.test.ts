/**
 * Nonlinear snapshots of another width than the states (an mlp block: n states, m hidden activations;
 * `SnapshotBatch.nonlinearDim`), and the per-unit statistics of the nonlinear snapshots (`SnapshotSet.hidden`).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, OdemorError, podExact, thinSvd, type SnapshotBatch } from '@odemor/core';
import { columnsDiffUpToSign, gaussianStream, randomMatrix } from '@odemor/conformance';
import { StreamSnapshotter, ZERO_THRESHOLD } from '../src/index.js';

const N = 3; // states
const W = 10; // hidden units
const SIZES = [1, 37, 0, 300, 62]; // 400 snapshot rows; the 0-row batch carries final states only

/** columns with planted singular values 2^{−i/2}: A diag(σ) Bᵀ, A [rows, rows], B [s, rows] orthonormal */
function planted(rows: number, s: number, seed: number): Matrix {
  const next = gaussianStream(seed);
  const A = thinSvd(randomMatrix(rows, rows, next)).U;
  const B = thinSvd(randomMatrix(s, rows, next)).U;
  return A.mmul(Matrix.diag(Array.from({ length: rows }, (_, i) => 2 ** (-i / 2)))).mmul(B.transpose());
}

/** the float32-rounded matrix both modes see */
const f32 = (X: Matrix): Matrix => new Matrix(X.to2DArray().map((row) => row.map((v) => Math.fround(v))));

interface Fixture {
  X: Matrix; // [N, s]
  H: Matrix; // [W, s], hidden unit 7 exactly zero in a third of the columns
  batches: SnapshotBatch[];
}

function fixture(): Fixture {
  const s = SIZES.reduce((a, b) => a + b, 0);
  const X = planted(N, s, 11);
  const H = planted(W, s, 12);
  for (let j = 0; j < s; j += 3) H.set(7, j, 0);
  const batches: SnapshotBatch[] = [];
  let j = 0;
  for (const count of SIZES) {
    const states = new Float32Array(count * N);
    const nonlinear = new Float32Array(count * W);
    for (let r = 0; r < count; r++, j++) {
      for (let i = 0; i < N; i++) states[r * N + i] = X.get(i, j);
      for (let i = 0; i < W; i++) nonlinear[r * W + i] = H.get(i, j);
    }
    const final = Float32Array.from({ length: 2 * N }, (_, i) => (i % 2 ? 0.5 : -0.25) * (1 + j * 1e-3));
    batches.push({ n: N, nonlinearDim: W, states, nonlinear, count, final, samples: 2 });
  }
  return { X, H, batches };
}

/** float32 Σ x xᵀ of the rows, as a runtime computes a native Gram */
function gramOf(rows: Float32Array, width: number): Float32Array {
  const count = rows.length / width;
  const G = new Float32Array(width * width);
  for (let r = 0; r < count; r++) for (let a = 0; a < width; a++) for (let b = 0; b < width; b++) G[a * width + b] = G[a * width + b]! + rows[r * width + a]! * rows[r * width + b]!;
  return G;
}

function run(options: Record<string, unknown>, batches: SnapshotBatch[], begin: (s: StreamSnapshotter) => void = (s) => s.begin(N)) {
  const s = new StreamSnapshotter(options);
  begin(s);
  for (const b of batches) s.consume(b);
  return s.finish();
}

function codeOf(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return { code: (e as OdemorError).code, message: (e as OdemorError).message };
  }
  return {};
}

describe('stream snapshotter: nonlinear snapshots of width nonlinearDim ≠ n', () => {
  const f = fixture();
  const refX = podExact(f32(f.X));
  const refH = podExact(f32(f.H));

  it('exact and gram modes give an n×n state basis and a nonlinearDim×nonlinearDim nonlinear basis equal to a direct SVD', () => {
    for (const mode of ['exact', 'gram'] as const) {
      const set = run({ mode }, f.batches);
      expect(set.n).toBe(N);
      expect(set.nonlinearDim).toBe(W);
      expect([set.stateBasis.rows, set.stateBasis.columns]).toEqual([N, N]);
      expect([set.nonlinearBasis.rows, set.nonlinearBasis.columns]).toEqual([W, W]);
      expect(set.stateSingularValues).toHaveLength(N);
      expect(set.nonlinearSingularValues).toHaveLength(W);
      set.nonlinearSingularValues.forEach((sv, i) => expect(Math.abs(sv - refH.singularValues[i]!)).toBeLessThanOrEqual(1e-6 * refH.singularValues[0]!));
      set.stateSingularValues.forEach((sv, i) => expect(Math.abs(sv - refX.singularValues[i]!)).toBeLessThanOrEqual(1e-6 * refX.singularValues[0]!));
      // the gram route resolves only σ ≥ ~1e-8 σ₁; all planted ones are ≥ 2^{−4.5}
      expect(columnsDiffUpToSign(set.nonlinearBasis, refH.basis, W)).toBeLessThan(1e-5);
      expect(columnsDiffUpToSign(set.stateBasis, refX.basis, N)).toBeLessThan(1e-5);
      expect(set.snapshots).toBe(400);
      expect(set.samples).toBe(2 * SIZES.length);
    }
  });

  it('the hidden statistics are mean |h_i| and the fraction of |h_i| < 1e-6 over all snapshot rows', () => {
    const rows = f32(f.H);
    for (const mode of ['exact', 'gram'] as const) {
      const set = run({ mode }, f.batches);
      expect(set.hidden).toBeDefined();
      for (let i = 0; i < W; i++) {
        let abs = 0;
        let zeros = 0;
        for (let j = 0; j < rows.columns; j++) {
          const a = Math.abs(rows.get(i, j));
          abs += a;
          if (a < ZERO_THRESHOLD) zeros++;
        }
        expect(set.hidden!.meanAbs[i]).toBeCloseTo(abs / rows.columns, 12);
        expect(set.hidden!.zeroFraction[i]).toBeCloseTo(zeros / rows.columns, 12);
      }
      expect(set.hidden!.zeroFraction[7]).toBeCloseTo(134 / 400, 12);
      // the final-state statistics stay n wide
      expect(set.final.meanAbs).toHaveLength(N);
    }
  });

  it('begin(n, nonlinearDim) gives the same set as a width taken from the first batch', () => {
    for (const mode of ['exact', 'gram'] as const) {
      const lazy = run({ mode }, f.batches);
      const eager = run({ mode }, f.batches, (s) => s.begin(N, W));
      expect(eager.nonlinearBasis.to2DArray()).toEqual(lazy.nonlinearBasis.to2DArray());
      expect(eager.nonlinearSingularValues).toEqual(lazy.nonlinearSingularValues);
      expect(Array.from(eager.hidden!.meanAbs)).toEqual(Array.from(lazy.hidden!.meanAbs));
    }
  });

  it('native Grams of width nonlinearDim give the same bases; without rows the hidden statistics come from SnapshotBatch.hidden or are absent', () => {
    const raw = run({ mode: 'gram' }, f.batches);
    const gramOnly = f.batches.map((b) => ({ ...b, states: new Float32Array(0), nonlinear: new Float32Array(0), gram: { states: gramOf(b.states, N), nonlinear: gramOf(b.nonlinear, W) } }));
    const g = run({ mode: 'gram' }, gramOnly);
    expect(columnsDiffUpToSign(g.nonlinearBasis, raw.nonlinearBasis, W)).toBeLessThan(1e-4);
    g.nonlinearSingularValues.forEach((sv, i) => expect(Math.abs(sv - raw.nonlinearSingularValues[i]!)).toBeLessThanOrEqual(1e-5 * raw.nonlinearSingularValues[0]!));
    expect(g.hidden).toBeUndefined();
    const withSums = gramOnly.map((b, i) => {
      const rows = f.batches[i]!.nonlinear;
      const absSum = new Float64Array(W);
      const zeroCount = new Float64Array(W);
      for (let r = 0; r < b.count; r++) {
        for (let u = 0; u < W; u++) {
          const a = Math.abs(rows[r * W + u]!);
          absSum[u] = absSum[u]! + a;
          if (a < ZERO_THRESHOLD) zeroCount[u] = zeroCount[u]! + 1;
        }
      }
      return { ...b, hidden: { absSum, zeroCount } };
    });
    const h = run({ mode: 'gram' }, withSums).hidden!;
    for (let i = 0; i < W; i++) {
      expect(h.meanAbs[i]).toBeCloseTo(raw.hidden!.meanAbs[i]!, 12);
      expect(h.zeroFraction[i]).toBeCloseTo(raw.hidden!.zeroFraction[i]!, 12);
    }
  });

  it('rank: the nonlinear basis keeps rank vectors, the narrower state basis keeps its n; more than both is an error naming nonlinearDim', () => {
    for (const mode of ['exact', 'gram'] as const) {
      const set = run({ mode, rank: 6 }, f.batches);
      expect(set.nonlinearBasis.columns).toBe(6);
      expect(set.stateBasis.columns).toBe(N);
      const two = run({ mode, rank: 2 }, f.batches);
      expect([two.stateBasis.columns, two.nonlinearBasis.columns]).toEqual([2, 2]);
      const e = codeOf(() => run({ mode, rank: W + 1 }, f.batches));
      expect(e.code).toBe('REDUCER');
      expect(e.message).toContain(`rank ${W + 1}`);
      expect(e.message).toContain(`nonlinearDim = ${W}`);
    }
  });

  it('checks every batch against the width: rows, Grams, sums and a changing nonlinearDim are SHAPE errors', () => {
    const good = f.batches[1]!;
    const s = new StreamSnapshotter({ mode: 'gram' });
    s.begin(N);
    s.consume(good);
    const cases: [string, SnapshotBatch, string[]][] = [
      ['another nonlinearDim', { ...good, nonlinearDim: W + 1, nonlinear: new Float32Array(good.count * (W + 1)) }, [`nonlinearDim = ${W + 1}`, `nonlinearDim = ${W}`]],
      ['no nonlinearDim (means n)', { ...good, nonlinearDim: undefined as unknown as number }, [`nonlinearDim = ${N}`, 'absent means n']],
      ['nonlinear rows of width n', { ...good, nonlinear: new Float32Array(good.count * N) }, [`[${good.count}, ${W}]`]],
      ['a Gram of width n', { ...good, gram: { states: gramOf(good.states, N), nonlinear: gramOf(new Float32Array(good.count * N), N) } }, [`gram.nonlinear`, `[${W}, ${W}]`]],
      ['hidden sums of width n', { ...good, hidden: { absSum: new Float64Array(N), zeroCount: new Float64Array(N) } }, ['hidden.absSum', `[1, ${W}]`]],
    ];
    for (const [what, batch, parts] of cases) {
      const e = codeOf(() => s.consume(batch));
      expect(e.code, what).toBe('SHAPE');
      for (const p of parts) expect(e.message, what).toContain(p);
    }
    const bad = { ...good, nonlinear: Float32Array.from(good.nonlinear) };
    bad.nonlinear[3 * W + 4] = NaN;
    const e = codeOf(() => s.consume(bad));
    expect(e.code).toBe('NUMERIC');
    expect(e.message).toContain('row 3, neuron 4');
    // nothing of the refused batches was accumulated
    s.consume(f.batches[3]!);
    expect(s.finish().snapshots).toBe(good.count + f.batches[3]!.count);
    expect(codeOf(() => new StreamSnapshotter().begin(N, 0)).code).toBe('ARGUMENT');
  });

  it('without nonlinearDim the width is n, as before: the set says nonlinearDim = n', () => {
    const X = planted(N, 50, 3);
    const rows = new Float32Array(50 * N);
    for (let j = 0; j < 50; j++) for (let i = 0; i < N; i++) rows[j * N + i] = X.get(i, j);
    const set = run({ mode: 'gram' }, [{ n: N, states: rows, nonlinear: rows, count: 50, final: rows.slice(0, N), samples: 1 }]);
    expect(set.nonlinearDim).toBe(N);
    expect(set.nonlinearBasis.rows).toBe(N);
    expect(set.hidden!.meanAbs).toHaveLength(N);
  });

  it('gram mode retains memory independent of the number of snapshots, with both Gram widths', () => {
    const s = new StreamSnapshotter({ mode: 'gram' });
    s.begin(N);
    s.consume(f.batches[3]!);
    const first = s.retainedBytes;
    for (let i = 0; i < 20; i++) s.consume(f.batches[3]!);
    expect(s.retainedBytes).toBe(first);
    const pad = (d: number) => Math.ceil(d / 4) * 4;
    expect(first).toBeGreaterThanOrEqual(8 * (pad(N) ** 2 + pad(W) ** 2));
  });
});

/**
 * The stiffness numerics (core/src/stiffness): eigenvalues of known matrices (the stiff A = P⁻¹ diag(−1000, −1) P of
 * docs/algorithms.md#stiffness, a rotation-scaling pair), power iteration against known spectral radii (a dominant
 * real eigenvalue, a dominant complex pair, the zero operator), the Jacobian of every block kind against central
 * differences of its right-hand side and against its dense form, the float64 image layers against the Toeplitz
 * matrix and hand-worked values, and the indicators of a linear model along its trajectories.
 */
import { Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import type { Block, ModelIR, Tensor32 } from '../src/ir/types.js';
import { denseA } from '../src/reduce/dense.js';
import {
  applyLayer64,
  blockForm,
  blockRhs,
  convApply,
  eigenvalues,
  linearizeBlock,
  powerIteration,
  spectrumMeasures,
  stiffnessIndicators,
  stiffnessTimes,
} from '../src/stiffness/index.js';
import { createRng } from '../src/util/rng.js';

/** Row-major P⁻¹ diag(d) P for a well-conditioned random P = I + 0.3 R. */
function similar(d: readonly number[], seed = 7): Float64Array {
  const n = d.length;
  const rng = createRng(seed);
  const P = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) P.set(i, j, (i === j ? 1 : 0) + (0.3 * rng.normal()) / Math.sqrt(n));
  const A = inverse(P).mmul(Matrix.diag([...d])).mmul(P);
  return Float64Array.from(A.to1DArray());
}

const t32 = (data: ArrayLike<number>, shape: number[]): Tensor32 => ({ shape, data: Float32Array.from(data) });
const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('eigenvalues and the stiffness ratio', () => {
  it('A = P⁻¹ diag(−1000, −1) P, P = [[3, 1], [1, −2]] (docs/algorithms.md#stiffness): eigenvalues −1000 and −1, ρ = 1000, stiffness ratio 1000', () => {
    const P = new Matrix([[3, 1], [1, -2]]);
    const A = Float64Array.from(inverse(P).mmul(Matrix.diag([-1000, -1])).mmul(P).to1DArray());
    expect(A[1]).not.toBe(0); // not diagonal
    const ev = eigenvalues(A, 2);
    const re = sortNum(ev.re);
    expect(re[0]).toBeCloseTo(-1000, 8);
    expect(re[1]).toBeCloseTo(-1, 10);
    expect(ev.im).toEqual([0, 0]);
    const m = spectrumMeasures(ev);
    expect(m.spectralRadius).toBeCloseTo(1000, 8);
    expect(m.stiffnessRatio).toBeCloseTo(1000, 6);
    expect(m.maxReal).toBeCloseTo(-1, 10);
  });

  it('a rotation-scaling block [[a, −b], [b, a]] has a ± ib; eigenvalues with Re λ ≥ 0 do not count as decaying', () => {
    const ev = eigenvalues([-2, -3, 3, -2], 2);
    expect(sortNum(ev.re)).toEqual([-2, -2]);
    expect(sortNum(ev.im.map(Math.abs))).toEqual([3, 3]);
    const m = spectrumMeasures(ev);
    expect(m.spectralRadius).toBeCloseTo(Math.hypot(2, 3), 12);
    expect(m.stiffnessRatio).toBeCloseTo(1, 12);
    // diag(2, −5, −1): the growing mode is left out of the ratio, and shows in maxReal
    const g = spectrumMeasures(eigenvalues([2, 0, 0, 0, -5, 0, 0, 0, -1], 3));
    expect(g.stiffnessRatio).toBeCloseTo(5, 12);
    expect(g.maxReal).toBeCloseTo(2, 12);
    // a pure rotation has no decaying eigenvalue
    expect(spectrumMeasures(eigenvalues([0, -1, 1, 0], 2)).stiffnessRatio).toBeNull();
  });

  it('rejects a non-finite matrix and a wrong size', () => {
    expect(() => eigenvalues([1, Number.NaN, 0, 1], 2)).toThrow(/NaN/);
    expect(() => eigenvalues([1, 2, 3], 2)).toThrow(/n × n/);
  });
});

describe('power iteration on Jacobian-vector products', () => {
  const op = (A: Float64Array, n: number) => (v: Float64Array) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] = y[i]! + A[i * n + j]! * v[j]!;
    return y;
  };

  it('finds ρ = 1000 of a 40 × 40 P⁻¹ diag(−1000, −1, …) P from products only', () => {
    const d = [-1000, ...Array.from({ length: 39 }, (_, i) => -1 - i * 10)];
    const A = similar(d, 3);
    const r = powerIteration(op(A, 40), 40);
    expect(r.converged).toBe(true);
    expect(r.spectralRadius).toBeCloseTo(1000, 3);
    expect(r.products).toBe(r.iterations * 4);
  });

  it('a dominant complex pair (|λ| = 5) beside eigenvalues of modulus ≤ 3: the block of vectors converges to 5', () => {
    const n = 12;
    const A = new Float64Array(n * n);
    // rotation-scaling 3 ± 4i, then a diagonal of −3 … 1
    A[0] = 3;
    A[1] = -4;
    A[n] = 4;
    A[n + 1] = 3;
    for (let i = 2; i < n; i++) A[i * n + i] = -3 + (4 * (i - 2)) / (n - 3);
    const r = powerIteration(op(A, n), n, { seed: 5 });
    expect(r.converged).toBe(true);
    expect(r.spectralRadius).toBeCloseTo(5, 5);
    // one vector alone cannot resolve the pair: its Rayleigh quotient is real
    const single = powerIteration(op(A, n), n, { block: 1, iterations: 50 });
    expect(Math.abs(single.spectralRadius - 5)).toBeGreaterThan(1e-3);
  });

  it('the zero operator has ρ = 0; a non-finite product is a NUMERIC error', () => {
    expect(powerIteration((v) => new Float64Array(v.length), 6).spectralRadius).toBe(0);
    expect(() => powerIteration((v) => Float64Array.from(v, () => Number.POSITIVE_INFINITY), 3)).toThrow(/non-finite/);
  });
});

/** Central differences of the block's right-hand side: column j of J. */
function finiteJacobian(block: Block, z: Float64Array, u?: Float64Array): Float64Array {
  const form = blockForm(block);
  const n = form.dim;
  const J = new Float64Array(n * n);
  const h = 1e-6;
  for (let j = 0; j < n; j++) {
    const zp = Float64Array.from(z);
    const zm = Float64Array.from(z);
    zp[j] = zp[j]! + h;
    zm[j] = zm[j]! - h;
    const fp = blockRhs(form, zp, u);
    const fm = blockRhs(form, zm, u);
    for (let i = 0; i < n; i++) J[i * n + j] = (fp[i]! - fm[i]!) / (2 * h);
  }
  return J;
}

describe('the Jacobian of each block kind', () => {
  const rng = createRng(11);
  const rand = (shape: number[], s = 0.5) => t32(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => s * rng.normal()), shape);
  const blocks: [string, Block, number][] = [
    ['dense ode (tanh) with Z', { kind: 'ode', n: 5, A: { type: 'dense', weight: rand([5, 5]) }, b: rand([5]), Z: rand([5, 2]), activation: 'tanh' }, 2],
    ['antisymmetric ode (softplus)', { kind: 'ode', n: 4, A: { type: 'antisymmetric', weight: rand([4, 4]), gamma: 0.1 }, b: rand([4]), activation: 'softplus' }, 0],
    ['conv ode (tanh)', { kind: 'ode', n: 3 * 4 * 2, A: { type: 'conv', kernel: rand([3, 3, 2, 2]), height: 3, width: 4, channels: 2 }, b: rand([24]), activation: 'tanh' }, 0],
    ['mlp (tanh) with Zin', { kind: 'mlp', n: 3, m: 6, M: rand([6, 3]), c: rand([6]), N: rand([3, 6]), bias: rand([3]), Zin: rand([6, 2]), activation: 'tanh' }, 2],
    [
      'reduced (dense M, dense N, Zr)',
      { kind: 'reduced', method: 'x', n: 6, k: 3, m: 4, E: { type: 'dense', weight: rand([3, 6]) }, M: { type: 'dense', weight: rand([4, 3]) }, c: rand([4]), N: { type: 'dense', weight: rand([3, 4]) }, Zr: rand([3, 1]), D: { type: 'dense', weight: rand([6, 3]) }, activation: 'tanh' },
      1,
    ],
    [
      'reduced (factored M, identity N)',
      { kind: 'reduced', method: 'svd', n: 4, k: 4, m: 4, E: { type: 'identity', size: 4 }, M: { type: 'factored', left: rand([4, 2]), right: rand([2, 4]) }, c: rand([4]), N: { type: 'identity', size: 4 }, D: { type: 'identity', size: 4 }, activation: 'tanh' },
      0,
    ],
  ];
  for (const [name, block, p] of blocks) {
    it(`${name}: J v and dense J agree with central differences of f`, () => {
      const form = blockForm(block);
      const n = form.dim;
      const z = Float64Array.from({ length: n }, () => rng.normal());
      const u = p ? Float64Array.from({ length: p }, () => rng.normal()) : undefined;
      const ref = finiteJacobian(block, z, u);
      const J = linearizeBlock(form, z, u);
      const dense = J.dense();
      for (let i = 0; i < n * n; i++) expect(dense[i]).toBeCloseTo(ref[i]!, 6);
      const v = Float64Array.from({ length: n }, () => rng.normal());
      const Jv = J.apply(v);
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += dense[i * n + j]! * v[j]!;
        expect(Jv[i]).toBeCloseTo(acc, 10);
      }
    });
  }

  it('an identity-activation dense block has J = A everywhere; relu zeroes the rows of inactive units', () => {
    const A = similar([-4, -2, -1], 2);
    const block: Block = { kind: 'ode', n: 3, A: { type: 'dense', weight: t32(A, [3, 3]) }, b: t32([0, 0, 0], [3]), activation: 'identity' };
    const J = linearizeBlock(blockForm(block), [0.3, -2, 5]).dense();
    for (let i = 0; i < 9; i++) expect(J[i]).toBeCloseTo(Math.fround(A[i]!), 12);
    const relu = linearizeBlock(blockForm({ ...block, activation: 'relu', A: { type: 'dense', weight: t32([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]) } }), [1, -1, 2]).dense();
    expect(Array.from(relu)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('the convolution without its Toeplitz matrix equals denseA (reduce/dense.ts)', () => {
    const kernel = rand([3, 3, 2, 2]);
    const block = { kind: 'ode', n: 40, A: { type: 'conv', kernel, height: 4, width: 5, channels: 2 }, b: rand([40]), activation: 'tanh' } as const;
    const T = denseA(block);
    const x = Float64Array.from({ length: 40 }, () => rng.normal());
    const y = new Float64Array(40);
    convApply(kernel, 4, 5, 2, x, y);
    for (let i = 0; i < 40; i++) {
      let acc = 0;
      for (let j = 0; j < 40; j++) acc += T[i * 40 + j]! * x[j]!;
      expect(y[i]).toBeCloseTo(acc, 10);
    }
  });
});

describe('float64 image layers', () => {
  it("conv2d 'same', stride 1, matches the block's Toeplitz matrix plus the bias", () => {
    const rng = createRng(2);
    const kernel = t32(Array.from({ length: 3 * 3 * 2 * 2 }, () => rng.normal()), [3, 3, 2, 2]);
    const bias = t32([0.5, -1], [2]);
    const x = Float64Array.from({ length: 3 * 3 * 2 }, () => rng.normal());
    const { y, shape } = applyLayer64({ type: 'conv2d', kernel, bias, stride: 1, padding: 'same' }, x, [3, 3, 2], 'pre[0]');
    expect(shape).toEqual([3, 3, 2]);
    const T = denseA({ kind: 'ode', n: 18, A: { type: 'conv', kernel, height: 3, width: 3, channels: 2 }, b: t32(new Float32Array(18), [18]), activation: 'tanh' });
    for (let i = 0; i < 18; i++) {
      let acc = bias.data[i % 2]!;
      for (let j = 0; j < 18; j++) acc += T[i * 18 + j]! * x[j]!;
      expect(y[i]).toBeCloseTo(acc, 5);
    }
  });

  it('conv2d valid with stride 2 and maxpool2d same, worked by hand on a 4 × 4 image', () => {
    const x = Float64Array.from({ length: 16 }, (_, i) => i); // x[h, w] = 4h + w, one channel
    // a 2 × 2 kernel of ones, stride 2, valid: sums of the 2 × 2 tiles
    const conv = applyLayer64({ type: 'conv2d', kernel: t32([1, 1, 1, 1], [2, 2, 1, 1]), stride: 2, padding: 'valid' }, x, [4, 4, 1], 'pre[0]');
    expect(conv.shape).toEqual([2, 2, 1]);
    expect(Array.from(conv.y)).toEqual([0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]);
    // 3 × 3 pool, stride 3, same: out 2 × 2, total padding (2 − 1)·3 + 3 − 4 = 2 → one row (column) before, one after:
    // the windows cover rows (columns) {0, 1} and {2, 3}
    const pool = applyLayer64({ type: 'maxpool2d', size: 3, stride: 3, padding: 'same' }, x, [4, 4, 1], 'pre[1]');
    expect(pool.shape).toEqual([2, 2, 1]);
    expect(Array.from(pool.y)).toEqual([5, 7, 13, 15]);
  });
});

describe('stiffness indicators along trajectories', () => {
  /** a state-input model whose block is linear: f(x) = A x, A = P⁻¹ diag(d) P */
  const linearModel = (d: number[], extra: Partial<ModelIR> = {}): ModelIR => {
    const n = d.length;
    return {
      format: 'odemor-model',
      version: 1,
      input: { kind: 'state', size: n },
      pre: [],
      block: { kind: 'ode', n, A: { type: 'dense', weight: t32(similar(d, 5), [n, n]) }, b: t32(new Float32Array(n), [n]), activation: 'identity' },
      post: [{ type: 'dense', weight: t32(new Float32Array(n).fill(1), [1, n]) }],
      solver: { use: 'rk4', dt: 0.01, t0: 0, t1: 1 },
      outputs: 1,
      ...extra,
    };
  };

  it('the sampled times: evenly spaced on [t0, t1] with both ends, or a readout’s times thinned to `points`', () => {
    expect(stiffnessTimes(linearModel([-1]), 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(stiffnessTimes(linearModel([-1]), 1)).toEqual([1]);
    const readout = { kind: 'trajectory' as const, times: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] };
    expect(stiffnessTimes(linearModel([-1], { readout }), 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(stiffnessTimes(linearModel([-1], { readout }), 10)).toEqual(readout.times);
  });

  it('a linear block: ρ and the stiffness ratio are its eigenvalues’ at every point; power iteration agrees on ρ', () => {
    const model = linearModel([-50, -5, -1]);
    const samples = [{ x: [1, 0, 0] }, { x: [0.2, -1, 0.5] }];
    const exact = stiffnessIndicators(model, samples, { points: 4 });
    expect(exact.method).toBe('exact');
    expect(exact.points).toBe(8);
    expect(exact.spectralRadius.median).toBeCloseTo(50, 3);
    expect(exact.spectralRadius.max).toBeCloseTo(50, 3);
    expect(exact.stiffnessRatio!.median).toBeCloseTo(50, 2);
    expect(exact.maxReal!.max).toBeCloseTo(-1, 4);
    const power = stiffnessIndicators(model, samples, { points: 4, exactMaxDim: 0 });
    expect(power.method).toBe('power');
    expect(power.stiffnessRatio).toBeNull();
    expect(power.spectralRadius.median).toBeCloseTo(50, 3);
  });

  it('a tanh block: ρ changes along the trajectory as σ′ does, and is bounded by ρ at the origin’s σ′ = 1 for a symmetric A', () => {
    // symmetric A: ‖diag(s) A‖ ≤ ‖A‖ = ρ(A) with 0 < s ≤ 1, and J is similar to s^½ A s^½ (symmetric): ρ(J) ≤ ρ(A)
    const n = 3;
    const A = [-3, 1, 0, 1, -2, 0.5, 0, 0.5, -1];
    const model: ModelIR = { ...linearModel([-1, -1, -1]), block: { kind: 'ode', n, A: { type: 'dense', weight: t32(A, [n, n]) }, b: t32([2, -1, 0.5], [n]), activation: 'tanh' } };
    const rhoA = spectrumMeasures(eigenvalues(A, n)).spectralRadius;
    const s = stiffnessIndicators(model, [{ x: [3, -2, 1] }], { points: 6 });
    expect(s.points).toBe(6);
    expect(s.spectralRadius.max).toBeLessThanOrEqual(rhoA + 1e-9);
    expect(s.spectralRadius.max).toBeGreaterThan(0);
    expect(s.spectralRadius.median).toBeLessThan(s.spectralRadius.max);
  });
});

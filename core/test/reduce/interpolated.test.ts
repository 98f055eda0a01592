import { describe, expect, it } from 'vitest';
import { QrDecomposition } from 'ml-matrix';
import {
  Matrix,
  blockCost,
  buildInterpolatedBlock,
  interpolationErrorConstant,
  interpolationOperator,
  simulateBlock,
  type OdeBlock,
} from '../../src/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function orthonormal(n: number, k: number, r: () => number): Matrix {
  const X = new Matrix(n, k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) X.set(i, j, r());
  return new QrDecomposition(X).orthogonalMatrix.subMatrix(0, n - 1, 0, k - 1);
}

function denseBlock(n: number, p: number, r: () => number): OdeBlock {
  return {
    kind: 'ode',
    n,
    A: { type: 'dense', weight: { shape: [n, n], data: Float32Array.from({ length: n * n }, () => r() * 1.5) } },
    b: { shape: [n], data: Float32Array.from({ length: n }, () => r() * 0.4) },
    Z: { shape: [n, p], data: Float32Array.from({ length: n * p }, r) },
    activation: 'tanh',
  };
}

const rowMajor = (t: { shape: number[]; data: Float32Array }) => ({ r: t.shape[0]!, c: t.shape[1]!, d: t.data });
function weightOf(x: { type: string }): { shape: number[]; data: Float32Array } {
  if (x.type !== 'dense') throw new Error(`expected a dense map, got ${x.type}`);
  return (x as unknown as { weight: { shape: number[]; data: Float32Array } }).weight;
}

describe('buildInterpolatedBlock', () => {
  it('with V = U = I and all points (any order), N M = A, N c = b and Zr = Z', () => {
    const n = 7;
    const block = denseBlock(n, 2, rng(1));
    const I = Matrix.eye(n, n);
    const points = [3, 0, 6, 1, 5, 2, 4];
    const red = buildInterpolatedBlock({ block, V: I, U: I, points, method: 'deim' });
    expect([red.k, red.m, red.n]).toEqual([n, n, n]);
    const N = rowMajor(weightOf(red.N));
    const M = rowMajor(weightOf(red.M));
    const A = block.A.type === 'dense' ? block.A.weight.data : new Float32Array();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let nm = 0;
        for (let l = 0; l < n; l++) nm += N.d[i * n + l]! * M.d[l * n + j]!;
        expect(nm).toBeCloseTo(A[i * n + j]!, 6);
      }
      let nc = 0;
      for (let l = 0; l < n; l++) nc += N.d[i * n + l]! * red.c.data[l]!;
      expect(nc).toBeCloseTo(block.b.data[i]!, 6);
    }
    expect(Array.from(red.Zr!.data)).toEqual(Array.from(block.Z!.data));
  });

  it('at full rank with orthonormal V, U and all points the trajectory equals the full block', () => {
    const n = 10;
    const r = rng(2);
    const block = denseBlock(n, 2, r);
    const V = orthonormal(n, n, r);
    const U = orthonormal(n, n, r);
    const red = buildInterpolatedBlock({ block, V, U, points: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], method: 'deim' });
    const x0 = [Float64Array.from({ length: n }, r), Float64Array.from({ length: n }, r)];
    const opts = { t0: 0, t1: 1, dt: 0.05, input: (t: number, s: number) => [Math.sin(t + s), Math.cos(2 * t)] };
    const full = simulateBlock(block, x0, opts);
    const redx = simulateBlock(red, x0, opts);
    full.forEach((x, s) => x.forEach((v, i) => expect(Math.abs(v - redx[s]![i]!)).toBeLessThan(1e-5)));
  });

  it('E = V_kᵀ, D = V_k, M = PᵀAV_k and c = Pᵀb for k < n (checked entrywise)', () => {
    const n = 9;
    const k = 3;
    const r = rng(4);
    const block = denseBlock(n, 1, r);
    const V = orthonormal(n, k, r);
    const U = orthonormal(n, 4, r);
    const points = [2, 7, 4, 0];
    const red = buildInterpolatedBlock({ block, V, U, points, method: 'qdeim' });
    const A = (block.A as { weight: { data: Float32Array } }).weight.data;
    const M = rowMajor(weightOf(red.M));
    expect([M.r, M.c]).toEqual([4, k]);
    points.forEach((p, i) => {
      expect(red.c.data[i]).toBe(block.b.data[p]);
      for (let j = 0; j < k; j++) {
        let acc = 0;
        for (let l = 0; l < n; l++) acc += A[p * n + l]! * V.get(l, j);
        expect(M.d[i * k + j]).toBeCloseTo(acc, 5);
      }
    });
    const E = rowMajor(weightOf(red.E));
    const D = rowMajor(weightOf(red.D));
    expect([E.r, E.c, D.r, D.c]).toEqual([k, n, n, k]);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) {
      expect(E.d[j * n + i]).toBeCloseTo(V.get(i, j), 6);
      expect(D.d[i * k + j]).toBeCloseTo(V.get(i, j), 6);
    }
  });

  it('oversampled (more points than columns): U (PᵀU)⁺ Pᵀ reproduces vectors in span U; the constant matches linalg', () => {
    const n = 12;
    const m = 4;
    const r = rng(5);
    const U = orthonormal(n, m, r);
    for (const points of [[0, 3, 5, 9], [0, 3, 5, 9, 11], [1, 2, 4, 6, 8, 10]]) {
      const op = interpolationOperator(U, points);
      expect(op.q).toBe(points.length);
      expect(op.errorConstant).toBeCloseTo(interpolationErrorConstant(U, points), 8);
      const a = Float64Array.from({ length: m }, r);
      const f = Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + U.get(i, j) * aj, 0));
      for (let i = 0; i < n; i++) {
        const approx = points.reduce((s, p, l) => s + op.projector[i * points.length + l]! * f[p]!, 0);
        expect(approx).toBeCloseTo(f[i]!, 10);
      }
    }
    // more points never increase the constant (σ_min grows with added rows)
    expect(interpolationOperator(U, [0, 3, 5, 9, 11]).errorConstant).toBeLessThanOrEqual(interpolationOperator(U, [0, 3, 5, 9]).errorConstant + 1e-12);
  });

  it('stops with named errors on singular PᵀU, repeated or too many points', () => {
    const n = 6;
    // U spans e0, e1: points 2, 3 see nothing
    const U = new Matrix(n, 2);
    U.set(0, 0, 1);
    U.set(1, 1, 1);
    expect(() => interpolationOperator(U, [2, 3])).toThrow(/singular/);
    expect(() => interpolationOperator(U, [0, 0])).toThrow(/twice/);
    expect(() => interpolationOperator(U, [0])).toThrow(/at least 2/);
    expect(() => interpolationOperator(U, [0, 1, 2, 3, 4, 5, 6])).toThrow(/only 6 rows/);
    const bad = U.clone();
    bad.set(4, 1, NaN);
    expect(() => interpolationOperator(bad, [0, 1])).toThrow(/NaN/);
  });

  it('the block cost of POD-DEIM with m = k is 2k² ODE weights, k activations (Table I)', () => {
    const n = 16;
    const r = rng(6);
    const block = { ...denseBlock(n, 1, r), Z: undefined };
    const k = 5;
    const red = buildInterpolatedBlock({ block, V: orthonormal(n, k, r), U: orthonormal(n, k, r), points: [0, 2, 4, 6, 8], method: 'deim' });
    const cost = blockCost(red);
    expect(cost).toMatchObject({ stateDim: k, activations: k, params: 2 * k * k, macsPerRhs: 2 * k * k, projectionParams: 2 * k * n, biasParams: k });
  });
});

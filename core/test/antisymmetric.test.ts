import { describe, expect, it } from 'vitest';
import { Matrix, antisymmetricRadius, clipAntisymmetricSpectrum, singularValuesOf } from '../src/linalg/index.js';
import { expectOdemorError, gaussianStream, randomOrthonormal } from '@odemor/conformance';

/** Row-major data of a Matrix, float64. */
const data = (m: Matrix): Float64Array => Float64Array.from(m.to1DArray());

/** S = Q blockdiag(ω₁J, ω₂J, …, 0…) Qᵀ with J = [[0, 1], [−1, 0]]: an antisymmetric matrix with eigenvalues ±iω_k. */
function antisymmetricWith(n: number, omegas: number[], seed: number): Matrix {
  const B = new Matrix(n, n);
  omegas.forEach((w, k) => {
    B.set(2 * k, 2 * k + 1, w);
    B.set(2 * k + 1, 2 * k, -w);
  });
  const Q = randomOrthonormal(n, n, seed);
  return Q.mmul(B).mmul(Q.transpose());
}

/** A random symmetric n×n matrix. */
function symmetric(n: number, seed: number): Matrix {
  const g = gaussianStream(seed);
  const P = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) P.set(i, j, g()), P.set(j, i, P.get(i, j));
  return P;
}

/** W − Wᵀ and (W + Wᵀ)/2 of the row-major n×n `w`. */
function parts(w: ArrayLike<number>, n: number): { S: Matrix; P: Matrix } {
  const S = new Matrix(n, n);
  const P = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) S.set(i, j, w[i * n + j]! - w[j * n + i]!), P.set(i, j, (w[i * n + j]! + w[j * n + i]!) / 2);
  }
  return { S, P };
}

const maxAbsDiff = (a: Matrix, b: Matrix): number => Math.max(...a.clone().sub(b).abs().to1DArray());

describe('clipAntisymmetricSpectrum', () => {
  it('scales the modes above max to max and keeps the others and W’s symmetric part (a known spectrum)', () => {
    const n = 10;
    const S = antisymmetricWith(n, [3, 1, 0.2, 0.45], 7);
    const P = symmetric(n, 8);
    // W = S/2 + P: W − Wᵀ = S
    const w = data(S.clone().mul(0.5).add(P));
    expect(antisymmetricRadius(w, n)).toBeCloseTo(3, 10);
    const r = clipAntisymmetricSpectrum(w, n, 0.5);
    expect(r.radius).toBeCloseTo(3, 10);
    expect(r.clipped).toBe(4); // the pairs ±3i and ±1i
    const after = parts(w, n);
    expect(maxAbsDiff(after.S, antisymmetricWith(n, [0.5, 0.5, 0.2, 0.45], 7))).toBeLessThan(1e-10);
    expect(maxAbsDiff(after.P, P)).toBeLessThan(1e-12);
    expect(antisymmetricRadius(w, n)).toBeCloseTo(0.5, 10);
  });

  it('bounds a random float32 W’s radius, keeps its singular values below max, and is idempotent', () => {
    const n = 48;
    const g = gaussianStream(3);
    const w = Float32Array.from({ length: n * n }, () => g() / Math.sqrt(n));
    const before = singularValuesOf(parts(w, n).S);
    const max = 0.6 * before[0]!;
    const r = clipAntisymmetricSpectrum(w, n, max);
    expect(r.radius).toBeCloseTo(before[0]!, 5);
    expect(r.clipped).toBe(before.filter((s) => s > max).length);
    expect(r.clipped).toBeGreaterThan(1);
    const after = singularValuesOf(parts(w, n).S);
    expect(after[0]!).toBeLessThanOrEqual(max * (1 + 1e-5));
    // the kept singular values are unchanged, the clipped ones sit at max
    const kept = before.filter((s) => s <= max);
    expect(after.slice(r.clipped).map((s, i) => Math.abs(s - kept[i]!))).toSatisfy((d: number[]) => Math.max(...d) < 1e-5);
    for (const s of after.slice(0, r.clipped)) expect(s).toBeCloseTo(max, 5);
    const again = Float32Array.from(w);
    expect(clipAntisymmetricSpectrum(again, n, max * (1 + 1e-4)).clipped).toBe(0);
    expect(again).toEqual(w);
  });

  it('leaves W untouched when the radius is within max', () => {
    const n = 6;
    const w = data(antisymmetricWith(n, [0.3, 0.1], 2).mul(0.5).add(symmetric(n, 4)));
    const copy = Float64Array.from(w);
    expect(clipAntisymmetricSpectrum(w, n, 0.3 + 1e-9)).toEqual({ radius: expect.closeTo(0.3, 10), clipped: 0 });
    expect(w).toEqual(copy);
  });

  it('rejects a wrong size, a non-finite entry and a max that is not > 0, naming them', () => {
    expectOdemorError(expect, () => clipAntisymmetricSpectrum(new Float32Array(8), 3, 1), 'SHAPE', '3×3', '9 values', 'got 8');
    expectOdemorError(expect, () => clipAntisymmetricSpectrum(Float32Array.from([0, NaN, 0, 0]), 2, 1), 'NUMERIC', 'NaN', 'index 1');
    expectOdemorError(expect, () => clipAntisymmetricSpectrum(new Float32Array(4), 2, 0), 'ARGUMENT', 'max', 'got 0');
    expectOdemorError(expect, () => antisymmetricRadius(new Float32Array(4), 0), 'ARGUMENT', 'n', 'got 0');
  });
});


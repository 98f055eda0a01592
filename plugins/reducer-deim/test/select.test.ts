import { describe, expect, it } from 'vitest';
import { solve } from 'ml-matrix';
import { Matrix, OdemorError, interpolationErrorConstant, podExact, thinSvd } from '@odemor/core';
import { selectDeimPoints } from '../src/select.js';

// ── the Chaturantabut–Sorensen (2010) example, as ALGORITHMS.md states it ──
// s(x; μ) = (1 − x) cos(3πμ(x + 1)) e^{−(1+x)μ}, 100 points on [−1, 1], training μ ∈ linspace(1, π, 51),
// validation on 101 values of μ in the same range.
const linspace = (a: number, b: number, k: number) => Array.from({ length: k }, (_, i) => a + ((b - a) * i) / (k - 1));
const xs = linspace(-1, 1, 100);
const s = (x: number, mu: number) => (1 - x) * Math.cos(3 * Math.PI * mu * (x + 1)) * Math.exp(-(1 + x) * mu);
const snapshots = (mus: number[]) => {
  const F = new Matrix(xs.length, mus.length);
  mus.forEach((mu, j) => xs.forEach((x, i) => F.set(i, j, s(x, mu))));
  return F;
};
const train = snapshots(linspace(1, Math.PI, 51));
const validation = snapshots(linspace(1, Math.PI, 101));
const pod = podExact(train);

/** per validation column: ‖f − U(PᵀU)⁻¹Pᵀf‖₂ and ‖f − UUᵀf‖₂ */
function errors(U: Matrix, points: number[]): { interp: number[]; proj: number[] } {
  const PU = new Matrix(points.map((p) => U.getRow(p)));
  const PF = new Matrix(points.map((p) => validation.getRow(p)));
  const interp = validation.clone().sub(U.mmul(solve(PU, PF)));
  const proj = validation.clone().sub(U.mmul(U.transpose().mmul(validation)));
  const colNorms = (M: Matrix) => Array.from({ length: M.columns }, (_, j) => Math.hypot(...M.getColumn(j)));
  return { interp: colNorms(interp), proj: colNorms(proj) };
}

function expectReducerError(fn: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OdemorError);
  expect((err as OdemorError).code).toBe('REDUCER');
  expect((err as OdemorError).message).toMatch(message);
}

function randomOrthonormal(n: number, m: number, seed: number): Matrix {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const G = new Matrix(n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) G.set(i, j, Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
  return thinSvd(G).U;
}

/** DEIM literally as ALGORITHMS.md states it: solve U[p, :l] c = U[p, l] at every step. */
function literalDeim(U: Matrix): number[] {
  const argmax = (v: number[]) => v.reduce((best, x, i) => (Math.abs(x) > Math.abs(v[best]!) ? i : best), 0);
  const p = [argmax(U.getColumn(0))];
  for (let l = 1; l < U.columns; l++) {
    const A = new Matrix(p.map((i) => U.getRow(i).slice(0, l)));
    const c = solve(A, Matrix.columnVector(p.map((i) => U.get(i, l))));
    const r = Matrix.columnVector(U.getColumn(l)).sub(U.subMatrix(0, U.rows - 1, 0, l - 1).mmul(c));
    p.push(argmax(r.getColumn(0)));
  }
  return p;
}

describe('selectDeimPoints — Chaturantabut & Sorensen (2010) example', () => {
  it('the singular values of the 51 snapshots fall fast', () => {
    const sv = pod.singularValues;
    for (let i = 1; i < sv.length; i++) expect(sv[i]).toBeLessThanOrEqual(sv[i - 1]! * (1 + 1e-12));
    expect(sv[19]! / sv[0]!).toBeLessThan(1e-4);
    expect(sv[39]! / sv[0]!).toBeLessThan(1e-10);
  });

  it('the DEIM error stays within ‖(PᵀU)⁻¹‖₂ × the POD projection error and falls below 1e-4 by m = 20', () => {
    const n = xs.length;
    for (let m = 1; m <= 30; m++) {
      const U = pod.basis.subMatrix(0, n - 1, 0, m - 1);
      const points = selectDeimPoints(U);
      expect(new Set(points).size).toBe(m);
      const C = interpolationErrorConstant(U, points);
      // C&S Lemma 3.2 a priori bound on the constant: ‖(PᵀU)⁻¹‖₂ ≤ (1 + √(2n))^{m−1} / ‖u_1‖_∞
      const u1 = Math.max(...U.getColumn(0).map(Math.abs));
      expect(C).toBeLessThanOrEqual(((1 + Math.sqrt(2 * n)) ** (m - 1) / u1) * (1 + 1e-10));
      const { interp, proj } = errors(U, points);
      interp.forEach((e, j) => expect(e).toBeLessThanOrEqual(C * proj[j]! * (1 + 1e-8) + 1e-13));
      if (m >= 20) expect(Math.max(...interp)).toBeLessThan(1e-4);
    }
  });
});

describe('selectDeimPoints — properties', () => {
  it('follows the algorithm as stated (re-solving U[p, :l] c = U[p, l] at each step) on random bases', () => {
    for (const [n, m, seed] of [
      [20, 8, 1],
      [50, 20, 2],
      [64, 64, 3],
    ] as const) {
      const U = randomOrthonormal(n, m, seed);
      expect(selectDeimPoints(U)).toEqual(literalDeim(U));
    }
  });

  it('takes the first maximum on ties (worked by hand)', () => {
    // u_1 = (½, ½, ½, ½) → p_1 = 0; r = u_2 − u_1 (u_2[0] / u_1[0]) = (0, −1, 0, −1) → p_2 = 1
    const U = new Matrix([
      [0.5, 0.5],
      [0.5, -0.5],
      [0.5, 0.5],
      [0.5, -0.5],
    ]);
    expect(selectDeimPoints(U)).toEqual([0, 1]);
  });

  it('at full m = n returns a permutation of all rows', () => {
    const n = 40;
    const points = selectDeimPoints(randomOrthonormal(n, n, 7));
    expect([...points].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('stops with a REDUCER error on a rank-deficient basis', () => {
    const U = randomOrthonormal(30, 4, 11);
    const dup = new Matrix(30, 5);
    for (let j = 0; j < 4; j++) dup.setColumn(j, U.getColumn(j));
    dup.setColumn(4, U.getColumn(1)); // duplicate column
    expectReducerError(() => selectDeimPoints(dup), /rank-deficient/);
    const combo = dup.clone();
    combo.setColumn(4, U.getColumn(0).map((v, i) => (v + U.get(i, 2)) / Math.SQRT2)); // a combination of columns
    expectReducerError(() => selectDeimPoints(combo), /rank-deficient/);
    const zero = dup.clone();
    zero.setColumn(4, new Array<number>(30).fill(0));
    expectReducerError(() => selectDeimPoints(zero), /DEIM residual is zero at step 4/);
  });

  it('rejects more columns than rows and NaN', () => {
    expect(() => selectDeimPoints(new Matrix(2, 3))).toThrow(/cannot pick 3 points from 2 rows/);
    expect(() => selectDeimPoints(new Matrix([[NaN], [1]]))).toThrow(OdemorError);
  });
});

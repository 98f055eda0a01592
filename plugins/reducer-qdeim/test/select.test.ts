import { describe, expect, it } from 'vitest';
import { solve } from 'ml-matrix';
import { Matrix, OdemorError, interpolationErrorConstant, orthonormalityError, pivotedQr, podExact, thinSvd } from '@odemor/core';
import { selectQdeimPoints } from '../src/select.js';

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

/** DEIM (Chaturantabut & Sorensen 2010) as ALGORITHMS.md states it, to compare constants with. */
function deim(U: Matrix): number[] {
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

/** Drmač & Gugercin (2016) Theorem 2.1: ‖(PᵀU)⁻¹‖₂ ≤ √(n − m + 1) · √(4^m + 6m − 1) / 3 */
const qdeimBound = (n: number, m: number) => (Math.sqrt(n - m + 1) * Math.sqrt(4 ** m + 6 * m - 1)) / 3;

describe('selectQdeimPoints — Chaturantabut & Sorensen (2010) example', () => {
  it('the Q-DEIM error stays within ‖(PᵀU)⁻¹‖₂ × the POD projection error and falls below 1e-4 by m = 20', () => {
    const n = xs.length;
    for (let m = 1; m <= 30; m++) {
      const U = pod.basis.subMatrix(0, n - 1, 0, m - 1);
      const points = selectQdeimPoints(U);
      expect(new Set(points).size).toBe(m);
      const C = interpolationErrorConstant(U, points);
      expect(C).toBeLessThanOrEqual(qdeimBound(n, m));
      const { interp, proj } = errors(U, points);
      interp.forEach((e, j) => expect(e).toBeLessThanOrEqual(C * proj[j]! * (1 + 1e-8) + 1e-13));
      if (m >= 20) expect(Math.max(...interp)).toBeLessThan(1e-4);
    }
  });
});

describe('selectQdeimPoints — properties', () => {
  it('has an error constant no larger than DEIM on most random orthonormal bases', () => {
    let wins = 0;
    let total = 0;
    for (const [n, m] of [
      [50, 5],
      [80, 20],
      [120, 40],
      [200, 10],
    ] as const) {
      for (let seed = 1; seed <= 5; seed++) {
        const U = randomOrthonormal(n, m, 1000 * n + seed);
        const q = interpolationErrorConstant(U, selectQdeimPoints(U));
        const d = interpolationErrorConstant(U, deim(U));
        expect(q).toBeLessThanOrEqual(qdeimBound(n, m));
        if (q <= d * (1 + 1e-12)) wins++;
        total++;
      }
    }
    expect(wins / total).toBeGreaterThanOrEqual(0.7);
  });

  it('picks the first m pivots of a correct column-pivoted QR of Uᵀ: Q R = Uᵀ P, |R_ii| nonincreasing', () => {
    const n = 60;
    const m = 15;
    const U = randomOrthonormal(n, m, 5);
    const Ut = U.transpose();
    const { Q, R, pivots, rDiag } = pivotedQr(Ut, { computeQ: true });
    expect(selectQdeimPoints(U)).toEqual(pivots.slice(0, m));
    const UtP = new Matrix(m, n);
    pivots.forEach((p, j) => UtP.setColumn(j, Ut.getColumn(p)));
    expect(Q!.mmul(R).sub(UtP).norm('frobenius')).toBeLessThan(1e-12);
    expect(orthonormalityError(Q!)).toBeLessThan(1e-13);
    for (let i = 1; i < m; i++) expect(rDiag[i]).toBeLessThanOrEqual(rDiag[i - 1]! * (1 + 1e-12));
    // the first pivot is the row of U of largest norm
    const rowNorms = Array.from({ length: n }, (_, i) => Math.hypot(...U.getRow(i)));
    expect(rowNorms[pivots[0]!]).toBe(Math.max(...rowNorms));
  });

  it('at full m = n returns a permutation of all rows', () => {
    const n = 40;
    const points = selectQdeimPoints(randomOrthonormal(n, n, 9));
    expect([...points].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('stops with a REDUCER error on a rank-deficient basis and rejects m > n', () => {
    const U = randomOrthonormal(30, 4, 11);
    const dup = new Matrix(30, 5);
    for (let j = 0; j < 4; j++) dup.setColumn(j, U.getColumn(j));
    dup.setColumn(4, U.getColumn(1));
    expectReducerError(() => selectQdeimPoints(dup), /rank-deficient/);
    const zero = dup.clone();
    zero.setColumn(4, new Array<number>(30).fill(0));
    expectReducerError(() => selectQdeimPoints(zero), /rank-deficient/);
    expect(() => selectQdeimPoints(new Matrix(2, 3))).toThrow(/cannot pick 3 points from 2 rows/);
  });
});

import { describe, expect, it } from 'vitest';
import { solve } from 'ml-matrix';
import { Matrix, OdemorError, interpolationErrorConstant, pivotedQr, podExact, thinSvd } from '@odemor/core';
import { selectOdeimPoints } from '../src/select.js';

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

/** per validation column: ‖f − U(PᵀU)⁺Pᵀf‖₂ (least squares) and ‖f − UUᵀf‖₂ */
function errors(U: Matrix, points: number[]): { interp: number[]; proj: number[] } {
  const PU = new Matrix(points.map((p) => U.getRow(p)));
  const PF = new Matrix(points.map((p) => validation.getRow(p)));
  const interp = validation.clone().sub(U.mmul(solve(PU, PF, true)));
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

/** the Q-DEIM points (Drmač & Gugercin 2016): first m pivots of the pivoted QR of Uᵀ */
const qdeim = (U: Matrix) => pivotedQr(U.transpose(), { steps: U.columns }).pivots.slice(0, U.columns);

describe('selectOdeimPoints — Chaturantabut & Sorensen (2010) example, oversampled', () => {
  it('the least-squares error stays within ‖(PᵀU)⁺‖₂ × the POD projection error; below 1e-4 by m = 20', () => {
    const n = xs.length;
    for (const m of [1, 2, 5, 10, 15, 20, 25]) {
      const U = pod.basis.subMatrix(0, n - 1, 0, m - 1);
      for (const o of [1, 3]) {
        const points = selectOdeimPoints(U, m + o);
        expect(new Set(points).size).toBe(m + o);
        const C = interpolationErrorConstant(U, points);
        expect(C).toBeLessThanOrEqual(interpolationErrorConstant(U, qdeim(U)) * (1 + 1e-12));
        const { interp, proj } = errors(U, points);
        interp.forEach((e, j) => expect(e).toBeLessThanOrEqual(C * proj[j]! * (1 + 1e-8) + 1e-13));
        if (m >= 20) expect(Math.max(...interp)).toBeLessThan(1e-4);
      }
    }
  });
});

describe('selectOdeimPoints — properties', () => {
  it('starts from the Q-DEIM points and never has a larger constant than Q-DEIM', () => {
    for (const [n, m] of [
      [40, 1],
      [50, 5],
      [80, 20],
      [120, 30],
    ] as const) {
      for (let seed = 1; seed <= 3; seed++) {
        const U = randomOrthonormal(n, m, 100 * n + seed);
        const q = qdeim(U);
        const cq = interpolationErrorConstant(U, q);
        for (const o of [1, 2, 5]) {
          const points = selectOdeimPoints(U, m + o);
          expect(points.slice(0, m)).toEqual(q);
          expect(interpolationErrorConstant(U, points)).toBeLessThanOrEqual(cq * (1 + 1e-12));
        }
      }
    }
  });

  it('for m = 1 adds the rows of largest |u_i| (the score then grows with u_i²)', () => {
    // m = 1: g = s², ū = u_i, ū_last = u_i; r_i = g + u_i² − |g − u_i²| = 2·min(g, u_i²),
    // so while every candidate has u_i² ≤ g the largest |u_i| wins
    const u = [0.1, 0.5, -0.2, 0.3, -0.6, 0.4, 0.2];
    const norm = Math.hypot(...u);
    const U = Matrix.columnVector(u.map((v) => v / norm));
    expect(selectOdeimPoints(U, 3)).toEqual([4, 1, 5]);
  });

  it('count = n returns a permutation of all rows; count = m gives the Q-DEIM points', () => {
    const n = 25;
    const U = randomOrthonormal(n, 6, 3);
    const all = selectOdeimPoints(U, n);
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(selectOdeimPoints(U, 6)).toEqual(qdeim(U));
  });

  it('rejects count < m and count > n, and a rank-deficient basis', () => {
    const U = randomOrthonormal(10, 4, 4);
    expect(() => selectOdeimPoints(U, 3)).toThrow(/count must be an integer ≥ m = 4/);
    expect(() => selectOdeimPoints(U, 11)).toThrow(/cannot pick 11 points from 10 rows/);
    const dup = new Matrix(10, 5);
    for (let j = 0; j < 4; j++) dup.setColumn(j, U.getColumn(j));
    dup.setColumn(4, U.getColumn(2));
    expectReducerError(() => selectOdeimPoints(dup, 6), /rank-deficient/);
  });
});

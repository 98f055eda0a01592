import { describe, expect, it } from 'vitest';
import { Matrix, interpolationErrorConstant, pivotedQr } from '@odemor/core';
import { chaturantabutSorensenExample, expectOdemorError, randomOrthonormal } from '@odemor/conformance';
import { selectOdeimPoints } from '../src/select.js';

// the Chaturantabut–Sorensen (2010) example, as docs/algorithms.md#chaturantabut-sorensen states it
const { xs, pod, errors } = chaturantabutSorensenExample();

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
        const { interp, proj } = errors(U, points, { leastSquares: true }); // ‖f − U(PᵀU)⁺Pᵀf‖₂
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
    expectOdemorError(expect, () => selectOdeimPoints(dup, 6), 'REDUCER', /rank-deficient/);
  });
});

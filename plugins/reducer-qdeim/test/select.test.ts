import { describe, expect, it } from 'vitest';
import { Matrix, interpolationErrorConstant, orthonormalityError, pivotedQr } from '@odemor/core';
import { chaturantabutSorensenExample, expectOdemorError, literalDeim, randomOrthonormal } from '@odemor/conformance';
import { selectQdeimPoints } from '../src/select.js';

// the Chaturantabut–Sorensen (2010) example, as docs/algorithms.md#chaturantabut-sorensen states it
const { xs, pod, errors } = chaturantabutSorensenExample();

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
        const d = interpolationErrorConstant(U, literalDeim(U));
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
    expectOdemorError(expect, () => selectQdeimPoints(dup), 'REDUCER', /rank-deficient/);
    const zero = dup.clone();
    zero.setColumn(4, new Array<number>(30).fill(0));
    expectOdemorError(expect, () => selectQdeimPoints(zero), 'REDUCER', /rank-deficient/);
    expect(() => selectQdeimPoints(new Matrix(2, 3))).toThrow(/cannot pick 3 points from 2 rows/);
  });
});

import { describe, expect, it } from 'vitest';
import { Matrix, OdemorError, interpolationErrorConstant } from '@odemor/core';
import { chaturantabutSorensenExample, expectOdemorError, literalDeim, randomOrthonormal } from '@odemor/conformance';
import { selectDeimPoints } from '../src/select.js';

// the Chaturantabut–Sorensen (2010) example, as docs/algorithms.md#chaturantabut-sorensen states it
const { xs, pod, errors } = chaturantabutSorensenExample();

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
    expectOdemorError(expect, () => selectDeimPoints(dup), 'REDUCER', /rank-deficient/);
    const combo = dup.clone();
    combo.setColumn(4, U.getColumn(0).map((v, i) => (v + U.get(i, 2)) / Math.SQRT2)); // a combination of columns
    expectOdemorError(expect, () => selectDeimPoints(combo), 'REDUCER', /rank-deficient/);
    const zero = dup.clone();
    zero.setColumn(4, new Array<number>(30).fill(0));
    expectOdemorError(expect, () => selectDeimPoints(zero), 'REDUCER', /DEIM residual is zero at step 4/);
  });

  it('rejects more columns than rows and NaN', () => {
    expect(() => selectDeimPoints(new Matrix(2, 3))).toThrow(/cannot pick 3 points from 2 rows/);
    expect(() => selectDeimPoints(new Matrix([[NaN], [1]]))).toThrow(OdemorError);
  });
});

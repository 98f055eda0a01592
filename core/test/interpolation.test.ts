import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import {
  interpolationErrorConstant,
  interpolationOperator,
  selectDeimPoints,
  selectOdeimPoints,
  selectQdeimPoints,
} from '../src/interpolation/index.js';
import { pivotedQr } from '../src/linalg/index.js';
import { chaturantabutSorensenExample, expectOdemorError, literalDeim, randomOrthonormal } from '@odemor/conformance';

/** 1 / σ_min(U[points, :]) by an independent dense SVD */
function referenceConstant(U: Matrix, points: number[]): number {
  const rows = new Matrix(points.map((p) => U.getRow(p)));
  const s = new SingularValueDecomposition(rows).diagonal;
  return 1 / Math.min(...s);
}

describe('point selection (Chaturantabut & Sorensen 2010; Drmač & Gugercin 2016; Peherstorfer, Drmač & Gugercin 2020)', () => {
  it('DEIM picks the points of the algorithm as stated (literal residual solves)', () => {
    for (const [n, m, seed] of [[12, 4, 1], [40, 10, 2], [30, 30, 3]] as const) {
      const U = randomOrthonormal(n, m, seed);
      expect(selectDeimPoints(U)).toEqual(literalDeim(U));
    }
  });

  it('Q-DEIM picks the first m pivots of the column-pivoted QR of Uᵀ, within the a priori bound', () => {
    for (const [n, m, seed] of [[12, 4, 4], [40, 10, 5]] as const) {
      const U = randomOrthonormal(n, m, seed);
      const points = selectQdeimPoints(U);
      expect(points).toEqual(pivotedQr(U.transpose(), { steps: m }).pivots.slice(0, m));
      expect(interpolationErrorConstant(U, points)).toBeLessThanOrEqual((Math.sqrt(n - m + 1) * Math.sqrt(4 ** m + 6 * m - 1)) / 3);
    }
  });

  it('ODEIM starts from the Q-DEIM points, adds distinct rows and never raises the error constant', () => {
    const U = randomOrthonormal(30, 6, 6);
    const q = selectQdeimPoints(U);
    expect(selectOdeimPoints(U, 6)).toEqual(q);
    let previous = interpolationErrorConstant(U, q);
    for (const count of [7, 9, 12, 30]) {
      const points = selectOdeimPoints(U, count);
      expect(points.slice(0, 6)).toEqual(q);
      expect(new Set(points).size).toBe(count);
      const c = interpolationErrorConstant(U, points);
      expect(c).toBeLessThanOrEqual(previous * (1 + 1e-12));
      previous = c;
    }
    expect(previous).toBeCloseTo(1, 12); // all rows of an orthonormal basis: σ_min = 1
  });

  it('on the classic example, DEIM and Q-DEIM approximations fall below 1e-4 by m = 20', () => {
    const { xs, pod, errors } = chaturantabutSorensenExample();
    const U = pod.basis.subMatrix(0, xs.length - 1, 0, 19);
    for (const points of [selectDeimPoints(U), selectQdeimPoints(U)]) {
      expect(Math.max(...errors(U, points).interp)).toBeLessThan(1e-4);
    }
  });
});

describe('interpolation operator and error constant', () => {
  it('U (PᵀU)⁻¹ is the identity at full rank with all points (any order)', () => {
    const n = 8;
    const U = randomOrthonormal(n, n, 7);
    const points = [5, 2, 7, 0, 1, 6, 3, 4];
    const { projector, q, errorConstant } = interpolationOperator(U, points);
    expect(q).toBe(n);
    expect(errorConstant).toBeCloseTo(1, 12);
    // the projector maps the sampled entries f[points] back to f: column l is e_{points[l]}
    for (let i = 0; i < n; i++) for (let l = 0; l < n; l++) expect(projector[i * n + l]!).toBeCloseTo(i === points[l] ? 1 : 0, 12);
  });

  it('reproduces vectors of span U from their samples, with q = m (inverse) and q > m (pseudo-inverse)', () => {
    const n = 20;
    const m = 5;
    const U = randomOrthonormal(n, m, 8);
    for (const points of [selectDeimPoints(U), selectOdeimPoints(U, 9)]) {
      const { projector, q } = interpolationOperator(U, points);
      const a = [0.4, -1, 2, 0.3, -0.8];
      const f = Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + U.get(i, j) * aj, 0));
      for (let i = 0; i < n; i++) expect(points.reduce((s, p, l) => s + projector[i * q + l]! * f[p]!, 0)).toBeCloseTo(f[i]!, 12);
    }
  });

  it('the operator and interpolationErrorConstant report one and the same constant, 1/σ_min(PᵀU)', () => {
    const U = randomOrthonormal(25, 6, 9);
    for (const points of [selectDeimPoints(U), selectQdeimPoints(U), selectOdeimPoints(U, 10), [0, 3, 5, 9, 11, 17]]) {
      const c = interpolationErrorConstant(U, points);
      expect(interpolationOperator(U, points).errorConstant).toBe(c);
      expect(c).toBeCloseTo(referenceConstant(U, points), 10);
    }
    // a known inverse: U[p, :] = [[2, 1], [1, 3]] has σ_min = (5 − √5)/2
    expect(interpolationErrorConstant(new Matrix([[2, 1], [1, 3]]), [0, 1])).toBeCloseTo(2 / (5 - Math.sqrt(5)), 13);
    // exactly singular PᵀU: the constant is infinite, the operator refuses
    expect(interpolationErrorConstant(Matrix.eye(5, 2), [0, 2])).toBe(Infinity);
  });
});

describe('degenerate input: one error code per condition', () => {
  const U = randomOrthonormal(10, 3, 10);
  const nan = U.clone();
  nan.set(4, 1, NaN);
  const dependent = U.clone();
  for (let i = 0; i < 10; i++) dependent.set(i, 2, U.get(i, 0) - 2 * U.get(i, 1));
  const flat = new Matrix(10, 2);
  flat.set(0, 0, 1);
  flat.set(1, 1, 1);

  it('NaN or ±Inf in U: NUMERIC, naming NaN', () => {
    const inf = U.clone();
    inf.set(0, 0, Infinity);
    for (const fn of [
      () => selectDeimPoints(nan),
      () => selectQdeimPoints(nan),
      () => selectOdeimPoints(nan, 5),
      () => interpolationOperator(nan, [0, 1, 2]),
      () => interpolationErrorConstant(nan, [0, 1, 2]),
    ]) expectOdemorError(expect, fn, 'NUMERIC', /NaN/);
    expectOdemorError(expect, () => selectQdeimPoints(inf), 'NUMERIC', /infinite/);
  });

  it('rank deficiency (linearly dependent columns, or points that miss the basis): REDUCER', () => {
    expectOdemorError(expect, () => selectDeimPoints(dependent), 'REDUCER', /rank-deficient/);
    expectOdemorError(expect, () => selectQdeimPoints(dependent), 'REDUCER', /rank-deficient/);
    expectOdemorError(expect, () => selectOdeimPoints(dependent, 5), 'REDUCER', /ODEIM.*rank-deficient/);
    expectOdemorError(expect, () => interpolationOperator(flat, [2, 3]), 'REDUCER', /singular/);
  });

  it('fewer points than basis columns: REDUCER', () => {
    expectOdemorError(expect, () => interpolationOperator(U, [0, 1]), 'REDUCER', /need at least 3/);
    expectOdemorError(expect, () => interpolationErrorConstant(U, [0, 1]), 'REDUCER', /need at least 3/);
    expectOdemorError(expect, () => selectOdeimPoints(U, 2), 'REDUCER', /count must be an integer ≥ m = 3/);
  });

  it('more points than rows: REDUCER', () => {
    const wide = new Matrix(2, 3);
    expectOdemorError(expect, () => selectDeimPoints(wide), 'REDUCER', /cannot pick 3 points from 2 rows/);
    expectOdemorError(expect, () => selectQdeimPoints(wide), 'REDUCER', /cannot pick 3 points from 2 rows/);
    expectOdemorError(expect, () => selectOdeimPoints(U, 11), 'REDUCER', /cannot pick 11 points from 10 rows/);
    const eleven = Array.from({ length: 11 }, (_, i) => i);
    expectOdemorError(expect, () => interpolationOperator(U, eleven), 'REDUCER', /only 10 rows/);
    expectOdemorError(expect, () => interpolationErrorConstant(U, eleven), 'REDUCER', /only 10 rows/);
  });

  it('malformed arguments (empty basis, non-integer count, a point out of range or listed twice): ARGUMENT', () => {
    const empty = new Matrix(4, 0);
    expectOdemorError(expect, () => selectDeimPoints(empty), 'ARGUMENT', /at least one column/);
    expectOdemorError(expect, () => selectQdeimPoints(empty), 'ARGUMENT', /at least one column/);
    expectOdemorError(expect, () => selectOdeimPoints(empty, 1), 'ARGUMENT', /at least one column/);
    expectOdemorError(expect, () => selectOdeimPoints(U, 4.5), 'ARGUMENT', /count must be an integer/);
    for (const fn of [interpolationOperator, interpolationErrorConstant]) {
      expectOdemorError(expect, () => fn(U, [0, 1, 10]), 'ARGUMENT', /point 10 is outside 0\.\.9/);
      expectOdemorError(expect, () => fn(U, [0, 1.5, 2]), 'ARGUMENT', /point 1\.5/);
      expectOdemorError(expect, () => fn(U, [0, 4, 4]), 'ARGUMENT', /point 4 is selected twice/);
    }
  });
});

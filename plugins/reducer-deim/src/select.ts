import { OdemorError, assertFiniteMatrix, columnMajor, type Matrix } from '@odemor/core';

/**
 * DEIM point selection (S. Chaturantabut & D. C. Sorensen, "Nonlinear model reduction via discrete
 * empirical interpolation", SIAM J. Sci. Comput. 32(5), 2010, Algorithm 1).
 *
 * `U` is an n×m basis with orthonormal columns. `p_1` = argmax |U[:, 0]|; for l = 1 … m−1 solve
 * `U[p, :l] c = U[p, l]`, form the residual `r = U[:, l] − U[:, :l] c` and take `p_{l+1}` = argmax |r|.
 * Ties go to the first maximum. Returns the m 0-based row indices in the order picked.
 *
 * The residuals are computed by Gaussian elimination on a column-major copy of U, pivoting on the
 * selected rows: after eliminating columns 0 … l−1 with pivots p_1 … p_l, column l holds exactly
 * `U[:, l] − U[:, :l] U[p, :l]⁻¹ U[p, l]` (a Schur complement; Sorensen & Embree 2016 note this
 * equivalence with partial pivoting). Cost O(n m²) instead of re-solving an l×l system per step.
 *
 * A zero residual (max |r| ≤ n·ε·‖U[:, l]‖₂) or a repeated index means the columns are linearly
 * dependent; that stops with a REDUCER error instead of returning an ill-posed interpolation.
 */
export function selectDeimPoints(U: Matrix): number[] {
  const n = U.rows;
  const m = U.columns;
  if (m < 1) throw new OdemorError('ARGUMENT', 'DEIM needs a basis with at least one column');
  if (m > n) throw new OdemorError('ARGUMENT', `DEIM cannot pick ${m} points from ${n} rows`);
  assertFiniteMatrix(U, 'DEIM basis');
  const W = columnMajor(U);
  const points: number[] = [];
  const picked = new Uint8Array(n);
  for (let l = 0; l < m; l++) {
    const cl = l * n;
    // column l of W is the residual r of step l
    let p = 0;
    let best = -1;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(W[cl + i]!);
      if (a > best) {
        best = a;
        p = i;
      }
    }
    let colNorm = 0;
    for (let i = 0; i < n; i++) colNorm = Math.hypot(colNorm, U.get(i, l));
    if (!(best > n * Number.EPSILON * colNorm)) {
      throw new OdemorError(
        'REDUCER',
        `DEIM residual is zero at step ${l} (max |r| = ${best.toExponential(2)}): the basis is rank-deficient; ` +
          'remove linearly dependent columns or lower m',
      );
    }
    if (picked[p]) {
      throw new OdemorError(
        'REDUCER',
        `DEIM selected row ${p} twice at step ${l}: the basis is rank-deficient; remove linearly dependent columns or lower m`,
      );
    }
    picked[p] = 1;
    points.push(p);
    // eliminate: W[:, j] −= W[:, l] · W[p, j] / W[p, l] for the remaining columns
    const piv = W[cl + p]!;
    for (let j = l + 1; j < m; j++) {
      const cj = j * n;
      const f = W[cj + p]! / piv;
      if (f === 0) continue;
      for (let i = 0; i < n; i++) W[cj + i] = W[cj + i]! - f * W[cl + i]!;
      W[cj + p] = 0;
    }
  }
  return points;
}

import { OdemorError, pivotedQr, type Matrix } from '@odemor/core';

/**
 * Q-DEIM point selection (Z. Drmač & S. Gugercin, "A new selection operator for the discrete empirical
 * interpolation method — improved a priori error bound and extensions", SIAM J. Sci. Comput. 38(2), 2016).
 *
 * `U` is an n×m basis with orthonormal columns. The points are the first m pivots of the
 * Businger–Golub column-pivoted Householder QR of `Uᵀ` (m×n): `Uᵀ Π = Q [R₁₁ R₁₂]`, `p = Π(:, 1:m)`.
 * Returns the m 0-based row indices in the order picked. Bound:
 * `‖(PᵀU)⁻¹‖₂ ≤ √(n − m + 1) · √(4^m + 6m − 1) / 3`, in practice far smaller than DEIM's.
 *
 * A step with |R_jj| ≤ n·ε·|R_11| means the columns are linearly dependent: REDUCER error.
 * Cost about 2·m²·n flops (core `pivotedQr`, unit-stride column sweeps).
 */
export function selectQdeimPoints(U: Matrix): number[] {
  const n = U.rows;
  const m = U.columns;
  if (m < 1) throw new OdemorError('ARGUMENT', 'Q-DEIM needs a basis with at least one column');
  if (m > n) throw new OdemorError('ARGUMENT', `Q-DEIM cannot pick ${m} points from ${n} rows`);
  const { pivots, rDiag } = pivotedQr(U.transpose(), { steps: m });
  const tol = n * Number.EPSILON * rDiag[0]!;
  const breakdown = rDiag.findIndex((r) => !(r > tol));
  if (breakdown >= 0) {
    throw new OdemorError(
      'REDUCER',
      `Q-DEIM: the pivoted QR of Uᵀ breaks down at step ${breakdown} (|R_jj| = ${rDiag[breakdown]!.toExponential(2)}): ` +
        'the basis is rank-deficient; remove linearly dependent columns or lower m',
    );
  }
  return pivots.slice(0, m);
}

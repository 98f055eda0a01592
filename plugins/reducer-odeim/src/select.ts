import { OdemorError, pivotedQr, selectRows, thinSvd, type Matrix } from '@odemor/core';

/**
 * Oversampled DEIM point selection, deterministic GappyPOD+E (B. Peherstorfer, Z. Drmač & S. Gugercin,
 * "Stability of discrete empirical interpolation and gappy proper orthogonal decomposition with
 * randomized and deterministic sampling points", SIAM J. Sci. Comput. 42(5), 2020, Algorithm 2).
 *
 * `U` is an n×m basis with orthonormal columns; picks `count` points (m ≤ count ≤ n) for the
 * least-squares approximation `f ≈ U (PᵀU)⁺ Pᵀ f`:
 * 1. start from the m Q-DEIM points (first m pivots of the column-pivoted QR of Uᵀ);
 * 2. while fewer than `count` points: thin SVD `U[p, :] = Φ S Wᵀ`; `s_last`, `s_prev` the two smallest
 *    singular values, gap `g = s_prev² − s_last²` (`g = s_last²` for m = 1); for every row u_i with
 *    `ū = Wᵀ u_i`, score `r_i = g + ‖ū‖² − √(max(0, (g + ‖ū‖²)² − 4 g ū_last²))`; add the unselected row
 *    of highest score (first one on ties).
 * W is square orthogonal, so `‖ū‖ = ‖u_i‖` (computed once). Returns the 0-based rows in the order picked.
 * Adding rows never lowers σ_min, so the constant ‖(PᵀU)⁺‖₂ is at most Q-DEIM's.
 */
export function selectOdeimPoints(U: Matrix, count: number): number[] {
  const n = U.rows;
  const m = U.columns;
  if (m < 1) throw new OdemorError('ARGUMENT', 'ODEIM needs a basis with at least one column');
  if (!Number.isInteger(count) || count < m) {
    throw new OdemorError('ARGUMENT', `ODEIM: count must be an integer ≥ m = ${m} (the basis columns); got ${count}`);
  }
  if (count > n) throw new OdemorError('ARGUMENT', `ODEIM cannot pick ${count} points from ${n} rows`);
  const { pivots, rDiag } = pivotedQr(U.transpose(), { steps: m });
  if (!(rDiag[m - 1]! > n * Number.EPSILON * rDiag[0]!)) {
    throw new OdemorError('REDUCER', 'ODEIM: the basis is rank-deficient (the pivoted QR of Uᵀ breaks down); remove linearly dependent columns or lower m');
  }
  const points = pivots.slice(0, m);
  const picked = new Uint8Array(n);
  for (const p of points) picked[p] = 1;

  const rowNorm2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += U.get(i, j) ** 2;
    rowNorm2[i] = s;
  }
  while (points.length < count) {
    const { s, V: W } = thinSvd(selectRows(U, points, 'ODEIM'));
    const sLast = s[m - 1]!;
    const g = m === 1 ? sLast * sLast : s[m - 2]! ** 2 - sLast * sLast;
    const wLast = W.getColumn(m - 1);
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      let uLast = 0;
      for (let j = 0; j < m; j++) uLast += wLast[j]! * U.get(i, j);
      const a = g + rowNorm2[i]!;
      const score = a - Math.sqrt(Math.max(0, a * a - 4 * g * uLast * uLast));
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    picked[best] = 1;
    points.push(best);
  }
  return points;
}

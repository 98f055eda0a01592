/**
 * Empirical interpolation: point selection (DEIM, Q-DEIM, oversampled DEIM, S-OPT), the interpolation operator
 * `U (PᵀU)⁺` and its error constant `‖(PᵀU)⁺‖₂`, each computed here and nowhere else (the algorithms are
 * stated in docs/algorithms.md). Inputs and outputs are plain: an `n × m` basis `U` (ml-matrix `Matrix`,
 * float64, orthonormal columns) and 0-based row index lists.
 *
 * Degenerate input stops with an {@link OdemorError}; each condition has one code, whichever function
 * meets it:
 *
 * | condition | code |
 * | --- | --- |
 * | NaN or ±Inf in `U` | `NUMERIC` |
 * | rank deficiency: the selection breaks down, repeats a row, or `PᵀU` is singular at the given points | `REDUCER` |
 * | fewer points than basis columns (`q < m`) | `REDUCER` |
 * | more points than rows (`q > n`, including a basis with `m > n` columns) | `REDUCER` |
 * | a malformed argument: an empty basis, a non-integer count, a given point outside `0 … n−1` or listed twice | `ARGUMENT` |
 *
 * (The error constant itself is `Infinity` for an exactly singular `PᵀU` rather than an error: it is the
 * true value of `‖(PᵀU)⁺‖₂` there, and a measure must be able to report it.)
 */
import { SingularValueDecomposition, type Matrix } from 'ml-matrix';
import { OdemorError, checkFinite } from '../errors.js';
import { assertFiniteMatrix, columnMajor, fromMatrix, toMatrix } from '../linalg/matrix.js';
import { thinSvd, selectRows } from '../linalg/norms.js';
import { pivotedQr } from '../linalg/qr.js';
import { matmul } from '../reduce/dense.js';

const RANK_HINT = 'remove linearly dependent columns or lower m';

/** The shape checks every point selection shares: `1 ≤ count ≤ n` for an `n × m` basis. */
function checkBasis(U: Matrix, who: string): void {
  if (U.columns < 1) throw new OdemorError('ARGUMENT', `${who} needs a basis with at least one column`);
  if (U.columns > U.rows) throw new OdemorError('REDUCER', `${who} cannot pick ${U.columns} points from ${U.rows} rows`);
}

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
 * dependent: a `REDUCER` error instead of an ill-posed interpolation. `m > n` is a `REDUCER` error, NaN a
 * `NUMERIC` one.
 */
export function selectDeimPoints(U: Matrix): number[] {
  checkBasis(U, 'DEIM');
  const n = U.rows;
  const m = U.columns;
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
        `DEIM residual is zero at step ${l} (max |r| = ${best.toExponential(2)}): the basis is rank-deficient; ${RANK_HINT}`,
      );
    }
    if (picked[p]) {
      throw new OdemorError('REDUCER', `DEIM selected row ${p} twice at step ${l}: the basis is rank-deficient; ${RANK_HINT}`);
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

/** Q-DEIM's pivots, with `who` naming the caller in errors (Q-DEIM itself, or ODEIM starting from it). */
function qdeim(U: Matrix, who: string): number[] {
  checkBasis(U, who);
  const n = U.rows;
  const m = U.columns;
  assertFiniteMatrix(U, `${who} basis`);
  const { pivots, rDiag } = pivotedQr(U.transpose(), { steps: m });
  const tol = n * Number.EPSILON * rDiag[0]!;
  const breakdown = rDiag.findIndex((r) => !(r > tol));
  if (breakdown >= 0) {
    throw new OdemorError(
      'REDUCER',
      `${who}: the pivoted QR of Uᵀ breaks down at step ${breakdown} (|R_jj| = ${rDiag[breakdown]!.toExponential(2)}): ` +
        `the basis is rank-deficient; ${RANK_HINT}`,
    );
  }
  return pivots.slice(0, m);
}

/**
 * Q-DEIM point selection (Z. Drmač & S. Gugercin, "A new selection operator for the discrete empirical
 * interpolation method — improved a priori error bound and extensions", SIAM J. Sci. Comput. 38(2), 2016).
 *
 * `U` is an n×m basis with orthonormal columns. The points are the first m pivots of the
 * Businger–Golub column-pivoted Householder QR of `Uᵀ` (m×n): `Uᵀ Π = Q [R₁₁ R₁₂]`, `p = Π(:, 1:m)`.
 * Returns the m 0-based row indices in the order picked. Bound:
 * `‖(PᵀU)⁻¹‖₂ ≤ √(n − m + 1) · √(4^m + 6m − 1) / 3`, in practice far smaller than DEIM's.
 *
 * A step with |R_jj| ≤ n·ε·|R_11| means the columns are linearly dependent: `REDUCER` error (as is
 * `m > n`). Cost about 2·m²·n flops (core `pivotedQr`, unit-stride column sweeps).
 */
export function selectQdeimPoints(U: Matrix): number[] {
  return qdeim(U, 'Q-DEIM');
}

/**
 * Oversampled DEIM point selection, deterministic GappyPOD+E (B. Peherstorfer, Z. Drmač & S. Gugercin,
 * "Stability of discrete empirical interpolation and gappy proper orthogonal decomposition with
 * randomized and deterministic sampling points", SIAM J. Sci. Comput. 42(5), 2020, Algorithm 2).
 *
 * `U` is an n×m basis with orthonormal columns; picks `count` points (m ≤ count ≤ n) for the
 * least-squares approximation `f ≈ U (PᵀU)⁺ Pᵀ f`:
 * 1. start from the m Q-DEIM points ({@link selectQdeimPoints});
 * 2. while fewer than `count` points: thin SVD `U[p, :] = Φ S Wᵀ`; `s_last`, `s_prev` the two smallest
 *    singular values, gap `g = s_prev² − s_last²` (`g = s_last²` for m = 1); for every row u_i with
 *    `ū = Wᵀ u_i`, score `r_i = g + ‖ū‖² − √(max(0, (g + ‖ū‖²)² − 4 g ū_last²))`; add the unselected row
 *    of highest score (first one on ties).
 * W is square orthogonal, so `‖ū‖ = ‖u_i‖` (computed once). Returns the 0-based rows in the order picked.
 * Adding rows never lowers σ_min, so the constant ‖(PᵀU)⁺‖₂ is at most Q-DEIM's.
 *
 * A non-integer `count` is an `ARGUMENT` error; `count < m`, `count > n` and a rank-deficient basis are
 * `REDUCER` errors.
 */
export function selectOdeimPoints(U: Matrix, count: number): number[] {
  const n = U.rows;
  const m = U.columns;
  if (m < 1) throw new OdemorError('ARGUMENT', 'ODEIM needs a basis with at least one column');
  if (!Number.isInteger(count) || count < m) {
    throw new OdemorError(Number.isInteger(count) ? 'REDUCER' : 'ARGUMENT',
      `ODEIM: count must be an integer ≥ m = ${m} (the basis columns); got ${count}`);
  }
  if (count > n) throw new OdemorError('REDUCER', `ODEIM cannot pick ${count} points from ${n} rows`);
  const points = qdeim(U, 'ODEIM (its Q-DEIM start)');
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

/**
 * S-OPT point selection (Y. Shin & D. Xiu, "Nonadaptive quasi-optimal points selection for least squares
 * linear regression", SIAM J. Sci. Comput. 38(1), 2016; for hyper-reduction Lauzon, Cheung, Chung, Choi et
 * al. 2022, libROM `lib/hyperreduction/S_OPT.cpp`).
 *
 * `U` is an n×m basis; picks `count` points (m ≤ count ≤ n) for the least-squares approximation
 * `f ≈ U (PᵀU)⁺ Pᵀ f`, greedily: each step adds the unselected row that maximises the S-optimality measure
 *
 *   S(Z) = √det(ZᵀZ) / Π_i ‖z_i‖   (z_i the columns of Z; 0 ≤ S ≤ 1, S = 1 iff the columns are orthogonal)
 *
 * of the selected rows, `Z = U[p, :c]` with `c = min(|p|, m)` leading columns (while fewer than m rows are
 * selected ZᵀZ over all m columns is singular, so step l, 0-based, scores the square `(l+1)×(l+1)` matrix of the
 * first l+1 columns — Shin & Xiu's and libROM's convention). Computed on the log scale, never as a raw
 * determinant, with `Z` the selected rows, `v` a candidate row and `nV_i = ‖z_i‖²`:
 *
 * - square phase (l < m): `|det [Z; vᵀ]| = |det Z₀| · |r_v|` with `Z₀ = U[p, :l]` and the Schur complement
 *   `r_v = v_l − v_{:l}ᵀ Z₀⁻¹ U[p, l]` (DEIM's residual of column l), so
 *   `log S = log|det Z₀| + log|r_v| − ½ Σ_{i≤l} log(nV_i + v_i²)`; `Z₀⁻¹ U[p, l]` comes from a QR factorisation
 *   of `Z₀` updated by Givens rotations as rows and columns are added (O(l²) per step);
 * - oversampled phase (l ≥ m): `det(ZᵀZ + vvᵀ) = det(ZᵀZ) (1 + vᵀ(ZᵀZ)⁻¹v)`, so
 *   `log S = Σ log|R_ii| + ½ log(1 + h_v) − ½ Σ_i log(nV_i + v_i²)` with `ZᵀZ = RᵀR` (the R of the QR of Z,
 *   updated by Givens rotations per added row) and the leverages `h_v = ‖R⁻ᵀv‖²` updated by Sherman–Morrison.
 *
 * Ties (log S equal to a relative 1e-12) go to the larger volume `√det(ZᵀZ)`, then to the first row. S is
 * scale-free, so ties are structural in two places: the first point (`S = 1` for every nonzero 1×1), which is
 * therefore the row of largest `|U[i, 0]|` (as in libROM and DEIM), and every step of an m = 1 basis (`S ≡ 1`),
 * which then takes the rows in order of decreasing `|u_i|`. In the oversampled phase rows of negligible norm
 * (`‖u_i‖ ≤ n·ε·max‖u_j‖`, which leave S and `PᵀU`'s singular values unchanged: wasted evaluations) are taken
 * only when nothing else is left. Returns the 0-based rows in the order picked. Adding rows never lowers
 * σ_min(PᵀU), so the error constant `‖(PᵀU)⁺‖₂` does not grow along the oversampled phase. Cost O(n·m·count + m³).
 *
 * A non-integer `count` is an `ARGUMENT` error (as is an empty basis); `count < m`, `count > n` and a
 * rank-deficient basis (a zero Schur complement: max |r_v| ≤ n·ε·‖U[:, l]‖₂) are `REDUCER` errors, NaN a
 * `NUMERIC` one.
 */
export function selectSoptPoints(U: Matrix, count: number): number[] {
  const n = U.rows;
  const m = U.columns;
  if (m < 1) throw new OdemorError('ARGUMENT', 'S-OPT needs a basis with at least one column');
  if (!Number.isInteger(count)) throw new OdemorError('ARGUMENT', `S-OPT: count must be an integer ≥ m = ${m} (the basis columns); got ${count}`);
  if (count < m) throw new OdemorError('REDUCER', `S-OPT: count must be an integer ≥ m = ${m} (the basis columns); got ${count}`);
  checkBasis(U, 'S-OPT');
  if (count > n) throw new OdemorError('REDUCER', `S-OPT cannot pick ${count} points from ${n} rows`);
  assertFiniteMatrix(U, 'S-OPT basis');
  const Ud = fromMatrix(U); // row-major n×m
  const picked = new Uint8Array(n);
  const points: number[] = [];
  /** ‖z_i‖² of the selected rows, per column */
  const nV = new Float64Array(m);
  const add = (j: number): void => {
    picked[j] = 1;
    points.push(j);
    for (let i = 0; i < m; i++) nV[i] = nV[i]! + Ud[j * m + i]! ** 2;
  };
  // the QR of Z₀ = U[p, :l] (square phase; Q explicit) and then the R of U[p, :] (oversampled phase),
  // l×l row-major in m×m buffers
  const Q = new Float64Array(m * m);
  const R = new Float64Array(m * m);
  const y = new Float64Array(m);
  const r = new Float64Array(n);

  // ── square phase: step l adds row p_l, scoring U[p ∪ {j}, :l+1]
  const square = Math.min(count, m);
  for (let l = 0; l < square; l++) {
    // y = Z₀⁻¹ U[p, l] = R⁻¹ Qᵀ U[p, l]
    for (let a = 0; a < l; a++) {
      let s = 0;
      for (let t = 0; t < l; t++) s += Q[t * m + a]! * Ud[points[t]! * m + l]!;
      y[a] = s;
    }
    for (let a = l - 1; a >= 0; a--) {
      let s = y[a]!;
      for (let b = a + 1; b < l; b++) s -= R[a * m + b]! * y[b]!;
      y[a] = s / R[a * m + a]!;
    }
    let maxR = 0;
    let colNorm = 0;
    for (let j = 0; j < n; j++) {
      const off = j * m;
      let s = Ud[off + l]!;
      for (let a = 0; a < l; a++) s -= Ud[off + a]! * y[a]!;
      r[j] = s;
      if (!picked[j]) maxR = Math.max(maxR, Math.abs(s));
      colNorm = Math.hypot(colNorm, Ud[off + l]!);
    }
    // a Schur complement at round-off level is a zero one: such rows are no candidates
    const zeroR = n * Number.EPSILON * colNorm;
    if (!(maxR > zeroR)) {
      throw new OdemorError('REDUCER',
        `S-OPT: the Schur complement is zero at step ${l} (max |r| = ${maxR.toExponential(2)}): the basis is rank-deficient; ${RANK_HINT}`);
    }
    let best = -1;
    let bestS = -Infinity;
    let bestV = -Infinity;
    for (let j = 0; j < n; j++) {
      if (picked[j] || !(Math.abs(r[j]!) > zeroR)) continue;
      const vol = Math.log(Math.abs(r[j]!));
      let s = vol;
      const off = j * m;
      for (let i = 0; i <= l; i++) s -= 0.5 * Math.log(nV[i]! + Ud[off + i]! ** 2);
      if (better(s, vol, bestS, bestV)) {
        best = j;
        bestS = s;
        bestV = vol;
      }
    }
    // border the QR: Z₀' = [[Z₀, c], [vᵀ]] = diag(Q, 1) · [[R, Qᵀc], [vᵀ]], then rotate vᵀ into R
    for (let a = 0; a < l; a++) {
      let s = 0;
      for (let t = 0; t < l; t++) s += Q[t * m + a]! * Ud[points[t]! * m + l]!;
      R[a * m + l] = s;
      Q[a * m + l] = 0;
      Q[l * m + a] = 0;
    }
    Q[l * m + l] = 1;
    const row = new Float64Array(l + 1);
    for (let i = 0; i <= l; i++) row[i] = Ud[best * m + i]!;
    add(best);
    for (let i = 0; i < l; i++) {
      const [c, s] = givens(R[i * m + i]!, row[i]!);
      if (s === 0 && c === 1) continue;
      for (let k = i; k <= l; k++) {
        const a = R[i * m + k]!;
        const b = row[k]!;
        R[i * m + k] = c * a + s * b;
        row[k] = -s * a + c * b;
      }
      for (let t = 0; t <= l; t++) {
        const a = Q[t * m + i]!;
        const b = Q[t * m + l]!;
        Q[t * m + i] = c * a + s * b;
        Q[t * m + l] = -s * a + c * b;
      }
    }
    for (let k = 0; k < l; k++) R[l * m + k] = 0;
    R[l * m + l] = row[l]!;
  }
  if (count === m) return points;

  // ── oversampled phase: ZᵀZ = RᵀR, leverages h_j = ‖R⁻ᵀu_j‖²
  let maxRow = 0;
  const rowNorm2 = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += Ud[j * m + i]! ** 2;
    rowNorm2[j] = s;
    maxRow = Math.max(maxRow, s);
  }
  const negligible = (n * Number.EPSILON) ** 2 * maxRow;
  const h = new Float64Array(n);
  const w = new Float64Array(m);
  for (let j = 0; j < n; j++) {
    if (picked[j]) continue;
    forwardRt(R, m, Ud, j * m, w);
    let s = 0;
    for (let i = 0; i < m; i++) s += w[i]! ** 2;
    h[j] = s;
  }
  while (points.length < count) {
    let best = -1;
    let bestS = -Infinity;
    let bestV = -Infinity;
    let fallback = -1;
    for (let j = 0; j < n; j++) {
      if (picked[j]) continue;
      if (rowNorm2[j]! <= negligible) {
        if (fallback < 0) fallback = j;
        continue;
      }
      const vol = 0.5 * Math.log1p(h[j]!);
      let s = vol;
      const off = j * m;
      for (let i = 0; i < m; i++) s -= 0.5 * Math.log(nV[i]! + Ud[off + i]! ** 2);
      if (better(s, vol, bestS, bestV)) {
        best = j;
        bestS = s;
        bestV = vol;
      }
    }
    if (best < 0) best = fallback;
    // a = (ZᵀZ)⁻¹ v, then h_j −= (u_jᵀa)² / (1 + vᵀa) for the remaining rows (Sherman–Morrison)
    const off = best * m;
    forwardRt(R, m, Ud, off, w);
    for (let a = m - 1; a >= 0; a--) {
      let s = w[a]!;
      for (let b = a + 1; b < m; b++) s -= R[a * m + b]! * w[b]!;
      w[a] = s / R[a * m + a]!;
    }
    let gamma = 1;
    for (let i = 0; i < m; i++) gamma += Ud[off + i]! * w[i]!;
    add(best);
    for (let j = 0; j < n; j++) {
      if (picked[j]) continue;
      let beta = 0;
      for (let i = 0; i < m; i++) beta += Ud[j * m + i]! * w[i]!;
      h[j] = Math.max(0, h[j]! - (beta * beta) / gamma);
    }
    // append the row to the QR of Z: rotate it into R
    const row = Ud.slice(off, off + m);
    for (let i = 0; i < m; i++) {
      const [c, s] = givens(R[i * m + i]!, row[i]!);
      if (s === 0 && c === 1) continue;
      for (let k = i; k < m; k++) {
        const a = R[i * m + k]!;
        const b = row[k]!;
        R[i * m + k] = c * a + s * b;
        row[k] = -s * a + c * b;
      }
    }
  }
  return points;
}

/** S-OPT's comparison: a larger log S, or (within 1e-12 relative) a larger log volume. */
function better(s: number, vol: number, bestS: number, bestV: number): boolean {
  if (bestS === -Infinity) return s > -Infinity || vol > bestV;
  const tol = 1e-12 * Math.max(1, Math.abs(bestS));
  if (s > bestS + tol) return true;
  return s >= bestS - tol && vol > bestV;
}

/** A Givens rotation `[c s; −s c]` with `c·a + s·b = hypot(a, b)`, `−s·a + c·b = 0`. */
function givens(a: number, b: number): [number, number] {
  if (b === 0) return [1, 0];
  const rr = Math.hypot(a, b);
  return [a / rr, b / rr];
}

/** `w = R⁻ᵀ u` for the upper triangular m×m `R` (row-major, stride m) and `u = data[off … off+m)`. */
function forwardRt(R: Float64Array, m: number, data: Float64Array, off: number, w: Float64Array): void {
  for (let a = 0; a < m; a++) {
    let s = data[off + a]!;
    for (let b = 0; b < a; b++) s -= R[b * m + a]! * w[b]!;
    w[a] = s / R[a * m + a]!;
  }
}

// ───────────────────────── the operator and its constant ─────────────────────────

/** The SVD of `PᵀU` (`q × m`) with the row-major data of `U`, after every check on `U` and `points`. */
interface SampledSvd {
  /** row-major `n × m` data of U */
  Ud: Float64Array;
  svd: SingularValueDecomposition;
  /** σ_min of PᵀU */
  smin: number;
  /** σ_max of PᵀU */
  smax: number;
}

function sampledSvd(U: Matrix, points: readonly number[], who: string): SampledSvd {
  const n = U.rows;
  const m = U.columns;
  const q = points.length;
  if (q < m) throw new OdemorError('REDUCER', `${who}: ${q} interpolation points for a basis of ${m} columns: need at least ${m}`);
  if (q > n) throw new OdemorError('REDUCER', `${who}: ${q} interpolation points but the basis has only ${n} rows`);
  const seen = new Set<number>();
  for (const p of points) {
    if (!(Number.isInteger(p) && p >= 0 && p < n)) throw new OdemorError('ARGUMENT', `${who}: interpolation point ${p} is outside 0..${n - 1}`);
    if (seen.has(p)) throw new OdemorError('ARGUMENT', `${who}: interpolation point ${p} is selected twice`);
    seen.add(p);
  }
  const Ud = fromMatrix(U);
  checkFinite(Ud, `${who}: the basis U`);
  const PU = new Float64Array(q * m);
  points.forEach((p, i) => {
    for (let j = 0; j < m; j++) PU[i * m + j] = Ud[p * m + j]!;
  });
  const svd = new SingularValueDecomposition(toMatrix(PU, q, m), { autoTranspose: true });
  const s = svd.diagonal;
  return { Ud, svd, smin: Math.min(...s), smax: Math.max(...s) };
}

/** `‖(PᵀU)⁺‖₂ = 1 / σ_min(PᵀU)`, `Infinity` when σ_min is 0 — the one place the constant is formed. */
function errorConstantOf(smin: number): number {
  return smin > 0 ? 1 / smin : Infinity;
}

/**
 * The DEIM error constant `‖(PᵀU)⁻¹‖₂` (Chaturantabut & Sorensen 2010, Lemma 3.2: the DEIM error is at
 * most this constant times the POD projection error of f), with the pseudo-inverse `‖(PᵀU)⁺‖₂` when there
 * are more points than columns (oversampled DEIM, Peherstorfer, Drmač & Gugercin 2020):
 * `1 / σ_min(U[points, :])`, `Infinity` when `U[points, :]` is exactly singular.
 * `q < m` and `q > n` points are `REDUCER` errors, a point outside `0 … n−1` or listed twice an
 * `ARGUMENT` error, NaN in U a `NUMERIC` error.
 */
export function interpolationErrorConstant(U: Matrix, points: readonly number[]): number {
  return errorConstantOf(sampledSvd(U, points, 'interpolationErrorConstant').smin);
}

/** The oblique interpolation operator of a basis and its points. */
export interface InterpolationOperator {
  /** `U (PᵀU)⁺`, row-major `n × q`: maps the `q` sampled entries of f to the `n`-vector approximation */
  projector: Float64Array;
  n: number;
  /** number of points q */
  q: number;
  /** `‖(PᵀU)⁺‖₂ = 1/σ_min(PᵀU)`, the DEIM error constant (see {@link interpolationErrorConstant}) */
  errorConstant: number;
}

/**
 * The interpolation operator `U (PᵀU)⁻¹` of DEIM / Q-DEIM (q = m points; Chaturantabut & Sorensen 2010:
 * `f ≈ U (PᵀU)⁻¹ Pᵀ f`), or the least-squares `U (PᵀU)⁺` of oversampled DEIM (q > m points; Peherstorfer,
 * Drmač & Gugercin 2020), for an `n×m` basis `U` sampled at `points` (q distinct row indices), and its
 * error constant `‖(PᵀU)⁺‖₂`. Both come from one SVD `PᵀU = Φ S Wᵀ`: `(PᵀU)⁺ = W S⁻¹ Φᵀ`.
 *
 * A numerically singular `PᵀU` (σ_min ≤ 1e-12·σ_max: the points do not determine the basis) is a
 * `REDUCER` error; the point checks are those of {@link interpolationErrorConstant}.
 */
export function interpolationOperator(U: Matrix, points: readonly number[]): InterpolationOperator {
  const n = U.rows;
  const m = U.columns;
  const q = points.length;
  const { Ud, svd, smin, smax } = sampledSvd(U, points, 'interpolationOperator');
  if (!(smin > 1e-12 * smax) || !(smax > 0)) {
    throw new OdemorError('REDUCER',
      `PᵀU is singular (σ_min = ${smin.toExponential(3)}, σ_max = ${smax.toExponential(3)}): the ${q} points do not determine the ${m}-column basis`);
  }
  const s = svd.diagonal;
  // (PᵀU)⁺ = W S⁻¹ Φᵀ  (m×q)
  const Phi = svd.leftSingularVectors; // q×m
  const W = svd.rightSingularVectors; // m×m
  const pinv = new Float64Array(m * q);
  for (let a = 0; a < m; a++) {
    for (let i = 0; i < q; i++) {
      let acc = 0;
      for (let l = 0; l < s.length; l++) acc += (W.get(a, l) * Phi.get(i, l)) / s[l]!;
      pinv[a * q + i] = acc;
    }
  }
  return { projector: matmul(Ud, pinv, n, m, q), n, q, errorConstant: errorConstantOf(smin) };
}

import { Matrix } from 'ml-matrix';
import { OdemorError } from '../errors.js';
import { assertFiniteMatrix, columnMajor } from './matrix.js';

/** Result of a column-pivoted QR `A P = Q R` (A: rows×cols, k steps). */
export interface PivotedQr {
  /** column permutation: column `pivots[j]` of A is column j of `A P`; the first k are the pivots */
  pivots: number[];
  /** k×cols upper trapezoidal R (rows of the first k steps) */
  R: Matrix;
  /** rows×k orthonormal Q, when `computeQ` was asked */
  Q?: Matrix;
  /** |R_jj|, nonincreasing */
  rDiag: number[];
}

export interface PivotedQrOptions {
  /** number of Householder steps (default min(rows, cols)) */
  steps?: number;
  /** also form Q explicitly (default false) */
  computeQ?: boolean;
}

const SQRT_EPS = Math.sqrt(Number.EPSILON);

/**
 * Householder QR with column pivoting (Businger & Golub, "Linear least squares solutions by Householder
 * transformations", Numer. Math. 7, 1965): at step j the remaining column of largest norm (first one on
 * ties) is swapped to position j, then annihilated below the diagonal. Column norms are downdated as in
 * LAPACK `xLAQP2` (Drmač & Bujanović 2008 safeguard: recomputed when cancellation is detected).
 *
 * Columns are stored contiguously (column-major float64), so every inner loop is a unit-stride sweep.
 * Cost ≈ 4·rows·cols·k − 2·(rows + cols)·k² + (4/3)·k³ flops.
 */
export function pivotedQr(A: Matrix, options: PivotedQrOptions = {}): PivotedQr {
  assertFiniteMatrix(A, 'pivotedQr: matrix');
  const m = A.rows;
  const n = A.columns;
  const kmax = Math.min(m, n);
  const steps = options.steps ?? kmax;
  if (!Number.isInteger(steps) || steps < 0 || steps > kmax) {
    throw new OdemorError('ARGUMENT', `pivotedQr: steps must be an integer in [0, ${kmax}]; got ${steps}`);
  }
  const W = columnMajor(A);
  const pivots = Array.from({ length: n }, (_, j) => j);
  const vn1 = new Float64Array(n);
  const vn2 = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    const off = j * m;
    for (let i = 0; i < m; i++) s += W[off + i]! ** 2;
    vn1[j] = Math.sqrt(s);
    vn2[j] = vn1[j]!;
  }
  const tau = new Float64Array(steps);

  for (let k = 0; k < steps; k++) {
    // pivot: the first remaining column of largest (downdated) norm
    let p = k;
    for (let j = k + 1; j < n; j++) if (vn1[j]! > vn1[p]!) p = j;
    if (p !== k) {
      const ok = k * m;
      const op = p * m;
      for (let i = 0; i < m; i++) {
        const t = W[ok + i]!;
        W[ok + i] = W[op + i]!;
        W[op + i] = t;
      }
      const tp = pivots[k]!;
      pivots[k] = pivots[p]!;
      pivots[p] = tp;
      vn1[p] = vn1[k]!;
      vn2[p] = vn2[k]!;
    }

    // Householder reflector H = I − τ v vᵀ with v_k = 1 zeroing W[k+1:m, k]
    const ck = k * m;
    const alpha = W[ck + k]!;
    let xnorm = 0;
    for (let i = k + 1; i < m; i++) xnorm = Math.hypot(xnorm, W[ck + i]!);
    if (xnorm === 0) {
      tau[k] = 0;
    } else {
      const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
      tau[k] = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      for (let i = k + 1; i < m; i++) W[ck + i] = W[ck + i]! * scale;
      W[ck + k] = beta;
    }
    const t = tau[k]!;

    // apply H to the trailing columns and downdate their norms
    for (let j = k + 1; j < n; j++) {
      const cj = j * m;
      if (t !== 0) {
        let s = W[cj + k]!;
        for (let i = k + 1; i < m; i++) s += W[ck + i]! * W[cj + i]!;
        s *= t;
        W[cj + k] = W[cj + k]! - s;
        for (let i = k + 1; i < m; i++) W[cj + i] = W[cj + i]! - s * W[ck + i]!;
      }
      if (vn1[j]! !== 0) {
        const ratio = Math.abs(W[cj + k]!) / vn1[j]!;
        const temp = Math.max(0, (1 + ratio) * (1 - ratio));
        const temp2 = temp * (vn1[j]! / vn2[j]!) ** 2;
        if (temp2 <= SQRT_EPS) {
          let s = 0;
          for (let i = k + 1; i < m; i++) s += W[cj + i]! ** 2;
          vn1[j] = Math.sqrt(s);
          vn2[j] = vn1[j]!;
        } else {
          vn1[j] = vn1[j]! * Math.sqrt(temp);
        }
      }
    }
  }

  const R = new Matrix(steps, n);
  const rDiag: number[] = [];
  for (let i = 0; i < steps; i++) {
    rDiag.push(Math.abs(W[i * m + i]!));
    for (let j = i; j < n; j++) R.set(i, j, W[j * m + i]!);
  }
  const result: PivotedQr = { pivots, R, rDiag };
  if (options.computeQ) {
    // Q = H_0 H_1 … H_{k−1} I[:, :k], accumulated backwards; Q stored column-major
    const Q = new Float64Array(m * steps);
    for (let j = 0; j < steps; j++) Q[j * m + j] = 1;
    for (let k = steps - 1; k >= 0; k--) {
      const t = tau[k]!;
      if (t === 0) continue;
      const ck = k * m;
      for (let j = k; j < steps; j++) {
        const cj = j * m;
        let s = Q[cj + k]!;
        for (let i = k + 1; i < m; i++) s += W[ck + i]! * Q[cj + i]!;
        s *= t;
        Q[cj + k] = Q[cj + k]! - s;
        for (let i = k + 1; i < m; i++) Q[cj + i] = Q[cj + i]! - s * W[ck + i]!;
      }
    }
    const Qm = new Matrix(m, steps);
    for (let j = 0; j < steps; j++) for (let i = 0; i < m; i++) Qm.set(i, j, Q[j * m + i]!);
    result.Q = Qm;
  }
  return result;
}

import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { OdemorError } from '../errors.js';
import { assertFiniteMatrix } from './matrix.js';

/** Thin SVD `M = U diag(s) Vᵀ` (U: rows×r, V: cols×r, r = min(rows, cols)), singular values descending. */
export interface ThinSvd {
  U: Matrix;
  s: number[];
  V: Matrix;
}

/** Thin SVD of any matrix (ml-matrix `SingularValueDecomposition` with `autoTranspose`), sorted descending. */
export function thinSvd(M: Matrix): ThinSvd {
  assertFiniteMatrix(M, 'thinSvd: matrix');
  const rows = M.rows;
  const cols = M.columns;
  if (rows === 0 || cols === 0) throw new OdemorError('ARGUMENT', `thinSvd: the matrix is empty (${rows}×${cols})`);
  const r = Math.min(rows, cols);
  const svd = new SingularValueDecomposition(M, { autoTranspose: true });
  const d = Array.from(svd.diagonal).slice(0, r);
  const order = d.map((_, i) => i).sort((a, b) => d[b]! - d[a]! || a - b);
  const U0 = svd.leftSingularVectors;
  const V0 = svd.rightSingularVectors;
  const U = new Matrix(rows, r);
  const V = new Matrix(cols, r);
  for (let j = 0; j < r; j++) {
    const src = order[j]!;
    for (let i = 0; i < rows; i++) U.set(i, j, U0.get(i, src));
    for (let i = 0; i < cols; i++) V.set(i, j, V0.get(i, src));
  }
  return { U, s: order.map((i) => Math.max(0, d[i]!)), V };
}

/** All `min(rows, cols)` singular values of `M`, descending. */
export function singularValuesOf(M: Matrix): number[] {
  assertFiniteMatrix(M, 'singularValuesOf: matrix');
  if (M.rows === 0 || M.columns === 0) return [];
  const svd = new SingularValueDecomposition(M, { autoTranspose: true, computeLeftSingularVectors: false, computeRightSingularVectors: false });
  return Array.from(svd.diagonal)
    .slice(0, Math.min(M.rows, M.columns))
    .map((v) => Math.max(0, v))
    .sort((a, b) => b - a);
}

/** ‖M‖₂, the largest singular value (0 for an empty matrix). */
export function spectralNorm(M: Matrix): number {
  return singularValuesOf(M)[0] ?? 0;
}

/** `U[points, :]` as a new matrix. Indices are checked to be in range and distinct. */
export function selectRows(U: Matrix, points: readonly number[], what = 'selectRows'): Matrix {
  const seen = new Set<number>();
  const out = new Matrix(points.length, U.columns);
  points.forEach((p, r) => {
    if (!Number.isInteger(p) || p < 0 || p >= U.rows) throw new OdemorError('ARGUMENT', `${what}: point ${p} is not a row index of a ${U.rows}-row basis`);
    if (seen.has(p)) throw new OdemorError('ARGUMENT', `${what}: point ${p} is listed twice`);
    seen.add(p);
    for (let j = 0; j < U.columns; j++) out.set(r, j, U.get(p, j));
  });
  return out;
}

/**
 * Relative POD projection error `‖X − V Vᵀ X‖_F / ‖X‖_F` of the columns of `X` (n×s) onto the span of
 * the orthonormal columns of `V` (n×k). 0 when X = 0.
 */
export function projectionError(V: Matrix, X: Matrix): number {
  if (V.rows !== X.rows) throw new OdemorError('SHAPE', `projectionError: basis has ${V.rows} rows, snapshots have ${X.rows}`);
  const total = X.norm('frobenius');
  if (total === 0) return 0;
  const residual = X.clone().sub(V.mmul(V.transpose().mmul(X)));
  return residual.norm('frobenius') / total;
}

/** max |(UᵀU − I)_ij|: 0 for exactly orthonormal columns. */
export function orthonormalityError(U: Matrix): number {
  const G = U.transpose().mmul(U);
  let worst = 0;
  for (let i = 0; i < G.rows; i++) {
    for (let j = 0; j < G.columns; j++) worst = Math.max(worst, Math.abs(G.get(i, j) - (i === j ? 1 : 0)));
  }
  return worst;
}

/**
 * SVD of the ODE block matrix, for weight truncation (Denton et al. 2014; Girshick 2015).
 */
import { SingularValueDecomposition } from 'ml-matrix';
import { checkFinite } from '../errors.js';
import type { OdeBlock } from '../ir/types.js';
import { thinSvd } from '../linalg/norms.js';
import { denseA, matrixData, toMl } from './dense.js';

/** `A = Φ Σ Ψᵀ`, row-major float64, singular values descending. */
export interface BlockSvd {
  n: number;
  /** Φ, `n × n` */
  left: Float64Array;
  /** σ, descending */
  singularValues: number[];
  /** Ψ, `n × n` */
  right: Float64Array;
}

/** Full SVD of the block's dense matrix A (conv blocks are materialised to their Toeplitz matrix). */
export function blockSvd(block: OdeBlock): BlockSvd {
  const A = denseA(block);
  checkFinite(A, 'the ODE block matrix A');
  const n = block.n;
  const svd = new SingularValueDecomposition(toMl(A, n, n), { autoTranspose: true });
  return {
    n,
    left: matrixData(svd.leftSingularVectors),
    singularValues: [...svd.diagonal],
    right: matrixData(svd.rightSingularVectors),
  };
}

/** The thin SVD `W = Φ Σ Ψᵀ` of a rectangular matrix, row-major float64, singular values descending. */
export interface MatrixSvd {
  rows: number;
  cols: number;
  /** Φ, `rows × s` with s = min(rows, cols) */
  left: Float64Array;
  /** σ, descending, s of them */
  singularValues: number[];
  /** Ψ, `cols × s` */
  right: Float64Array;
}

/**
 * Thin SVD of a row-major `rows × cols` matrix (float32 or float64 data), e.g. an mlp block's W₁ = M
 * `[m, n]` for SVD weight truncation of its hidden layer (docs/algorithms.md#mlp-reduction).
 */
export function matrixSvd(data: ArrayLike<number>, rows: number, cols: number, what = 'the matrix'): MatrixSvd {
  checkFinite(data, what);
  const { U, s, V } = thinSvd(toMl(data, rows, cols));
  return { rows, cols, left: matrixData(U), singularValues: s, right: matrixData(V) };
}

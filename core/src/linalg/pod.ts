import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { OdemorError } from '../errors.js';
import { assertFiniteMatrix } from './matrix.js';

/** A POD basis: the leading left singular vectors (n×r) and all singular values, descending. */
export interface PodResult {
  basis: Matrix;
  singularValues: number[];
}

function checkRank(rank: number | undefined, available: number, what: string): number {
  if (rank === undefined) return available;
  if (!Number.isInteger(rank) || rank < 0) throw new OdemorError('ARGUMENT', `${what}: rank must be a non-negative integer; got ${rank}`);
  if (rank > available) {
    throw new OdemorError('REDUCER', `${what}: rank ${rank} requested but only ${available} singular vectors are available`);
  }
  return rank;
}

/**
 * Sign convention for singular/eigen vectors: flip each column so that its entry of largest magnitude
 * (the first one on ties) is positive. Makes bases reproducible across decompositions.
 */
function fixSigns(basis: Matrix): void {
  for (let j = 0; j < basis.columns; j++) {
    let best = 0;
    let bestAbs = -1;
    for (let i = 0; i < basis.rows; i++) {
      const a = Math.abs(basis.get(i, j));
      if (a > bestAbs) {
        bestAbs = a;
        best = i;
      }
    }
    if (basis.get(best, j) < 0) for (let i = 0; i < basis.rows; i++) basis.set(i, j, -basis.get(i, j));
  }
}

/**
 * POD by a direct thin SVD of the snapshot matrix `X` (n×s, snapshots as columns): the basis is the
 * first `rank` left singular vectors (all `min(n, s)` when `rank` is omitted); `singularValues` lists
 * all `min(n, s)` singular values, descending. For small problems and for testing; see `podFromGram`
 * for the streaming variant.
 */
export function podExact(X: Matrix, rank?: number): PodResult {
  assertFiniteMatrix(X, 'podExact: snapshot matrix');
  const n = X.rows;
  const s = X.columns;
  if (n === 0 || s === 0) throw new OdemorError('REDUCER', `podExact: the snapshot matrix is empty (${n}×${s})`);
  const available = Math.min(n, s);
  const r = checkRank(rank, available, 'podExact');
  const svd = new SingularValueDecomposition(X, { autoTranspose: true, computeLeftSingularVectors: true, computeRightSingularVectors: false });
  const singularValues = Array.from(svd.diagonal).slice(0, available);
  const order = singularValues.map((_, i) => i).sort((a, b) => singularValues[b]! - singularValues[a]! || a - b);
  const U = svd.leftSingularVectors;
  const basis = new Matrix(n, r);
  for (let j = 0; j < r; j++) {
    const src = order[j]!;
    for (let i = 0; i < n; i++) basis.set(i, j, U.get(i, src));
  }
  fixSigns(basis);
  return { basis, singularValues: order.map((i) => Math.max(0, singularValues[i]!)) };
}

/**
 * POD from a Gram matrix `G = Σ x xᵀ` (n×n, symmetric; a `Matrix` or row-major float64 data): the
 * symmetric eigendecomposition `G = V Λ Vᵀ` (ml-matrix `EigenvalueDecomposition`, `assumeSymmetric`),
 * eigenpairs sorted by descending eigenvalue, tiny negative eigenvalues (round-off) clamped to 0, and
 * `σ_i = √λ_i`. Returns the first `rank` eigenvectors (all n when omitted) and all n singular values.
 *
 * Forming G squares the condition number: singular values below about `√ε · σ_1 ≈ 1e-8 σ_1` are not
 * resolved (they come out as round-off). That is far below any truncation used for model reduction.
 */
export function podFromGram(G: Matrix | Float64Array, n: number, rank?: number): PodResult {
  let M: Matrix;
  if (G instanceof Float64Array) {
    if (G.length !== n * n) throw new OdemorError('SHAPE', `podFromGram: expected ${n}×${n} = ${n * n} values; got ${G.length}`);
    M = Matrix.from1DArray(n, n, G);
  } else {
    if (G.rows !== n || G.columns !== n) throw new OdemorError('SHAPE', `podFromGram: expected a ${n}×${n} matrix; got ${G.rows}×${G.columns}`);
    M = G;
  }
  assertFiniteMatrix(M, 'podFromGram: Gram matrix');
  const r = checkRank(rank, n, 'podFromGram');
  const evd = new EigenvalueDecomposition(M, { assumeSymmetric: true });
  const lambda = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const order = lambda.map((_, i) => i).sort((a, b) => lambda[b]! - lambda[a]! || a - b);
  const singularValues = order.map((i) => Math.sqrt(Math.max(0, lambda[i]!)));
  const basis = new Matrix(n, r);
  for (let j = 0; j < r; j++) {
    const src = order[j]!;
    for (let i = 0; i < n; i++) basis.set(i, j, V.get(i, src));
  }
  fixSigns(basis);
  return { basis, singularValues };
}

/**
 * Rank by energy (docs/algorithms.md#rank-by-energy): the smallest `k` with `Σ_{i≤k} σ_i² ≥ energy · Σ σ_i²`.
 * `energy` in (0, 1]. Returns 0 when all singular values are 0.
 */
export function rankByEnergy(singularValues: ArrayLike<number>, energy: number): number {
  if (!(energy > 0 && energy <= 1)) throw new OdemorError('ARGUMENT', `rankByEnergy: energy must be in (0, 1]; got ${energy}`);
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const s = singularValues[i]!;
    if (!Number.isFinite(s) || s < 0) throw new OdemorError('NUMERIC', `rankByEnergy: singular value ${i} is ${s}`);
    total += s * s;
  }
  if (total === 0) return 0;
  const target = energy * total;
  let acc = 0;
  for (let k = 0; k < singularValues.length; k++) {
    acc += singularValues[k]! ** 2;
    // the last term absorbs summation round-off when energy = 1
    if (acc >= target || k === singularValues.length - 1) return k + 1;
  }
  return singularValues.length;
}

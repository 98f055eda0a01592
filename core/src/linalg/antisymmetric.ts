import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { OdemorError } from '../errors.js';

/** What {@link clipAntisymmetricSpectrum} did: the spectral radius of W − Wᵀ before the clip, and the modes it clipped. */
export interface AntisymmetricClip {
  /** ρ(W − Wᵀ) before the clip (its eigenvalues are ±iω; ρ = max |ω|); after it, ρ = min(radius, max) up to rounding */
  radius: number;
  /** how many singular values of W − Wᵀ were above max (each pair ±iω counts twice; within 1e-6 of max counts as at max) */
  clipped: number;
}

function checkSquare(w: Float32Array | Float64Array, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new OdemorError('ARGUMENT', `${what}: n must be a positive integer; got ${n}`);
  if (w.length !== n * n) throw new OdemorError('SHAPE', `${what}: an ${n}×${n} matrix needs ${n * n} values; got ${w.length}`);
  for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new OdemorError('NUMERIC', `${what}: the matrix holds ${w[i]} at index ${i}`);
}

/** S = W − Wᵀ of the row-major n×n `w`, row-major float64. */
function antisymmetricPart(w: Float32Array | Float64Array, n: number): Float64Array {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = w[i * n + j]! - w[j * n + i]!;
  return S;
}

/**
 * The eigenvalues σ² (ascending, clamped at 0) and eigenvectors (rows of Q, row-major) of the symmetric SᵀS = −S²
 * (ml-matrix's `EigenvalueDecomposition`: Householder tridiagonalisation and the QL algorithm).
 */
function gramEigen(S: Float64Array, n: number): { sigma2: Float64Array; Q: Float64Array } {
  // G = SᵀS, row by row on flat arrays: G[i, :] = Σ_k S[k, i] · S[k, :]
  const G = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i < n; i++) {
      const ski = S[rk + i]!;
      if (ski === 0) continue;
      const ri = i * n;
      for (let j = 0; j < n; j++) G[ri + j] = G[ri + j]! + ski * S[rk + j]!;
    }
  }
  const rows = Array.from({ length: n }, (_, i) => Array.from(G.subarray(i * n, i * n + n)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const values = e.realEigenvalues;
  const V = e.eigenvectorMatrix.to2DArray();
  const order = values.map((_, j) => j).sort((a, b) => values[a]! - values[b]! || a - b);
  const sigma2 = new Float64Array(n);
  const Q = new Float64Array(n * n);
  order.forEach((j, k) => {
    sigma2[k] = Math.max(0, values[j]!);
    for (let i = 0; i < n; i++) Q[k * n + i] = V[i]![j]!;
  });
  return { sigma2, Q };
}

/**
 * ρ(W − Wᵀ) of a row-major n×n `w`: the largest |ω| of its eigenvalues ±iω (W − Wᵀ is antisymmetric, hence normal,
 * so this is also its largest singular value).
 */
export function antisymmetricRadius(w: Float32Array | Float64Array, n: number): number {
  checkSquare(w, n, 'antisymmetricRadius');
  const { sigma2 } = gramEigen(antisymmetricPart(w, n), n);
  return Math.sqrt(sigma2[n - 1]!);
}

/**
 * Clip the spectrum of S = W − Wᵀ at `max`, in place on the row-major n×n `w` (docs/algorithms.md, "Spectral clip
 * of an antisymmetric A"). S is normal with eigenvalues ±iω_j, so its singular values are |ω_j| in pairs and
 * S = Σ_j σ_j (S q_j / σ_j) q_jᵀ over the eigenvectors q_j of SᵀS = −S². The clip keeps every mode with σ_j ≤ max
 * and scales the others to max: S' = S − Σ_{σ_j > max} (1 − max/σ_j) (S q_j) q_jᵀ, which is again antisymmetric
 * (the clipped q_j come in S-invariant pairs; the correction is antisymmetrised against rounding). W changes by
 * (S' − S)/2, an antisymmetric matrix, so W' − W'ᵀ = S' and W's symmetric part (which A = W − Wᵀ − γI does not
 * read) is kept. Every eigenvector of S is kept, so the clip moves W the least in the Frobenius norm among the
 * matrices whose antisymmetric part has radius ≤ max.
 */
export function clipAntisymmetricSpectrum(w: Float32Array | Float64Array, n: number, max: number): AntisymmetricClip {
  checkSquare(w, n, 'clipAntisymmetricSpectrum');
  if (!(max > 0) || !Number.isFinite(max)) throw new OdemorError('ARGUMENT', `clipAntisymmetricSpectrum: max must be a finite number > 0; got ${max}`);
  const S = antisymmetricPart(w, n);
  const { sigma2, Q } = gramEigen(S, n);
  const radius = Math.sqrt(sigma2[n - 1]!);
  // the clipped modes: the eigenvectors q_j (rows of Q) with σ_j > max, each with its factor 1 − max/σ_j
  const over: { row: number; k: number }[] = [];
  // (a mode within 1e-6 of max is left alone: a float32 W clipped before sits there up to rounding)
  const bound = max * (1 + 1e-6);
  for (let j = n - 1; j >= 0 && Math.sqrt(sigma2[j]!) > bound; j--) over.push({ row: j * n, k: 1 - max / Math.sqrt(sigma2[j]!) });
  if (!over.length) return { radius, clipped: 0 };
  // D = Σ_j k_j (S q_j) q_jᵀ; ΔS = −(D − Dᵀ)/2 (antisymmetrised)
  const D = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (const { row, k } of over) {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const ri = i * n;
      for (let l = 0; l < n; l++) acc += S[ri + l]! * Q[row + l]!;
      y[i] = k * acc;
    }
    for (let i = 0; i < n; i++) {
      const yi = y[i]!;
      const ri = i * n;
      for (let l = 0; l < n; l++) D[ri + l] = D[ri + l]! + yi * Q[row + l]!;
    }
  }
  // W += ΔS/2
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i * n + j] = w[i * n + j]! - (D[i * n + j]! - D[j * n + i]!) / 4;
  return { radius, clipped: over.length };
}

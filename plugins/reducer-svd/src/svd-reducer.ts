import {
  OdemorError,
  blockSvd,
  checkDim,
  checkNoPoints,
  reducedDiagnostics,
  relativePodError,
  requireOdeBlock,
  toTensor32,
  withReducedBlock,
  type BlockSvd,
  type ModelIR,
  type OdeBlock,
  type ReduceDims,
  type ReducedBlock,
  type ReducedModel,
  type ReducerAnalysis,
  type Reducer,
  type ReducerCapabilities,
  type ReducerFitContext,
} from '@odemor/core';

/** Options of the 'svd' reducer (none yet; the constructor ignores unknown keys, `svdOptionsSchema` rejects them). */
export type SvdReducerOptions = Record<string, never>;

/**
 * SVD weight truncation (Denton et al. 2014; Girshick 2015): `A = Φ Σ Ψᵀ`, keep `k` singular values.
 * The block becomes `x' = σ(Φ_k (Σ_kΨ_kᵀ x) + b) + Z u` with M kept factored, E = N = D = I: the state
 * and all `n` activations remain, the ODE weights drop from `n²` to `2kn`. Needs no snapshots.
 */
export class SvdReducer implements Reducer {
  readonly name = 'svd';
  /** no interpolation points: all n activations stay, `dims.m` must be absent or equal k */
  readonly capabilities: ReducerCapabilities = { points: false, oversampling: false };
  readonly needsSnapshots = false;
  private model?: ModelIR;
  private block?: OdeBlock;
  private svd?: BlockSvd;

  constructor(_options: Record<string, unknown> = {}) {}

  /** Takes the SVD of the block's dense A (conv blocks are materialised). */
  fit(context: ReducerFitContext): void {
    const block = requireOdeBlock(context.model, this.name);
    this.svd = blockSvd(block);
    this.model = context.model;
    this.block = block;
  }

  /** The singular values of A (after `fit`), for the report's singular-value plot. */
  analysis(): ReducerAnalysis {
    return this.svd ? { weightSingularValues: [...this.svd.singularValues] } : {};
  }

  /** Keep the `k` largest singular values, `1 ≤ k ≤ n`; a `dims.m` other than k is an ARGUMENT error (all n activations stay). */
  reduce(dims: ReduceDims): ReducedModel {
    const { model, block, svd } = this;
    if (!model || !block || !svd) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const n = block.n;
    const k = checkDim(this.name, 'k', dims?.k, n);
    checkNoPoints(this.name, dims, k);
    const left = new Float64Array(n * k); // Φ_k
    const right = new Float64Array(k * n); // Σ_k Ψ_kᵀ
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        left[i * k + j] = svd.left[i * n + j]!;
        right[j * n + i] = svd.singularValues[j]! * svd.right[i * n + j]!;
      }
    }
    const reduced: ReducedBlock = {
      kind: 'reduced',
      method: this.name,
      n,
      k: n,
      m: n,
      E: { type: 'identity', size: n },
      M: { type: 'factored', left: toTensor32(left, [n, k]), right: toTensor32(right, [k, n]) },
      c: toTensor32(block.b.data, [n]),
      N: { type: 'identity', size: n },
      D: { type: 'identity', size: n },
      activation: block.activation,
    };
    if (block.Z) reduced.Zr = toTensor32(block.Z.data, block.Z.shape);
    const s = svd.singularValues;
    return {
      method: this.name,
      dims: { k },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        rank: k,
        /** ‖A − A_k‖₂ / ‖A‖₂ */
        spectralError: s[0]! > 0 ? (s[k] ?? 0) / s[0]! : 0,
        /** ‖A − A_k‖_F / ‖A‖_F */
        frobeniusError: relativePodError(s, k),
        singularValues: s.slice(0, k),
      }),
    };
  }
}

import {
  OdemorError,
  blockSvd,
  buildMlpReducedBlock,
  checkDim,
  matrixSvd,
  requireMlpBlock,
  checkNoPoints,
  reducedDiagnostics,
  relativePodError,
  requireOdeBlock,
  toTensor32,
  withReducedBlock,
  type BlockSvd,
  type MatrixSvd,
  type MlpBlock,
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
 *
 * On an mlp block `x' = N σ(M x + c + Zin u) + bias` (docs/algorithms.md#mlp-reduction) it truncates the hidden
 * layer's input matrix W₁ = M `[m, n]` to rank `k = r < min(m, n)`: `M ≈ Φ_r (Σ_rΨ_rᵀ)`, kept factored
 * (`[m, r]` · `[r, n]`), with N, c, bias and Zin unchanged and E = D = I_n. A rank `r ≥ min(m, n)` saves nothing
 * and is an ARGUMENT error.
 */
export class SvdReducer implements Reducer {
  readonly name = 'svd';
  /** no interpolation points: all n activations stay, `dims.m` must be absent or equal k */
  readonly capabilities: ReducerCapabilities = { points: false, oversampling: false };
  readonly needsSnapshots = false;
  private model?: ModelIR;
  private block?: OdeBlock;
  private svd?: BlockSvd;
  private mlp?: { block: MlpBlock; svd: MatrixSvd };

  constructor(_options: Record<string, unknown> = {}) {}

  /** Takes the SVD of the block's dense A (conv blocks are materialised), or of an mlp block's M. */
  fit(context: ReducerFitContext): void {
    if (context?.model?.block?.kind === 'mlp') {
      const block = requireMlpBlock(context.model, this.name);
      this.mlp = { block, svd: matrixSvd(block.M.data, block.m, block.n, `reducer '${this.name}': the mlp block matrix M`) };
      this.svd = undefined;
      this.block = undefined;
      this.model = context.model;
      return;
    }
    const block = requireOdeBlock(context.model, this.name);
    this.svd = blockSvd(block);
    this.model = context.model;
    this.block = block;
    this.mlp = undefined;
  }

  /** The singular values of A, or of an mlp block's M (after `fit`), for the report's singular-value plot. */
  analysis(): ReducerAnalysis {
    const s = this.svd ?? this.mlp?.svd;
    return s ? { weightSingularValues: [...s.singularValues] } : {};
  }

  /** Keep the `k` largest singular values, `1 ≤ k ≤ n`; a `dims.m` other than k is an ARGUMENT error (all n activations stay). */
  reduce(dims: ReduceDims): ReducedModel {
    if (this.mlp) return this.reduceMlp(dims);
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

  /** Rank-r truncation of an mlp block's M, `1 ≤ r < min(m, n)` (class doc). */
  private reduceMlp(dims: ReduceDims): ReducedModel {
    const { model, mlp } = this;
    if (!model || !mlp) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const { block, svd } = mlp;
    const { n, m } = block;
    const r = dims?.k;
    if (typeof r !== 'number' || !Number.isInteger(r)) throw new OdemorError('ARGUMENT', `reducer '${this.name}': k (the rank of M) must be an integer, got ${String(r)}`);
    if (r < 1) throw new OdemorError('ARGUMENT', `reducer '${this.name}': k = ${r} (the rank of M) must be at least 1`);
    const full = Math.min(m, n);
    if (r >= full) {
      throw new OdemorError('ARGUMENT',
        `reducer '${this.name}': k = ${r} (the rank of M) must be below min(m, n) = ${full} for the mlp block with m = ${m} hidden units and n = ${n} states; ` +
          `a rank-${r} factorisation of the ${m}×${n} matrix M saves nothing${full > 1 ? ` (use k ≤ ${full - 1})` : ''}`);
    }
    checkNoPoints(this.name, dims, r);
    const s = svd.singularValues;
    const left = new Float64Array(m * r); // Φ_r
    const right = new Float64Array(r * n); // Σ_r Ψ_rᵀ
    for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) left[i * r + j] = svd.left[i * full + j]!;
    for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) right[j * n + i] = s[j]! * svd.right[i * full + j]!;
    const reduced = buildMlpReducedBlock({ block, method: this.name, factored: { left, right, rank: r } });
    return {
      method: this.name,
      dims: { k: r },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        rank: r,
        /** ‖M − M_r‖₂ / ‖M‖₂ */
        spectralError: s[0]! > 0 ? (s[r] ?? 0) / s[0]! : 0,
        /** ‖M − M_r‖_F / ‖M‖_F */
        frobeniusError: relativePodError(s, r),
        singularValues: s.slice(0, r),
      }),
    };
  }
}

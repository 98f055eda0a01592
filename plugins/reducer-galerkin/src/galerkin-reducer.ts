import {
  OdemorError,
  buildMlpReducedBlock,
  checkDim,
  checkHiddenDim,
  checkNoPoints,
  denseARows,
  reducedDiagnostics,
  relativePodError,
  requireMlpBlock,
  requireOdeBlock,
  requireSnapshots,
  toTensor32,
  withReducedBlock,
  type Matrix,
  type MlpBlock,
  type ModelIR,
  type OdeBlock,
  type ReduceDims,
  type ReducedBlock,
  type ReducedModel,
  type Reducer,
  type ReducerCapabilities,
  type ReducerFitContext,
  type SnapshotSet,
} from '@odemor/core';

/** Options of the 'galerkin' reducer (none; `galerkinOptionsSchema` allows only the pipeline's `seed`). */
export type GalerkinReducerOptions = Record<string, never>;

/**
 * POD-Galerkin projection without hyper-reduction (docs/algorithms.md#galerkin): the baseline that separates the
 * projection error from the interpolation error of DEIM, Q-DEIM, ODEIM and S-OPT.
 *
 * Full ODE block `x' = σ(A x + b) + Z u`: `fit` takes the state POD basis V of the snapshot set; `reduce({ k })`
 * projects onto `V_k`,
 *
 *   z(0) = V_kᵀ x(0),   z' = V_kᵀ σ(A V_k z + b) + V_kᵀ Z u,   x(t_end) ≈ V_k z(t_end)
 *
 * in the unified form `E = V_kᵀ`, `M = A V_k` (dense `[n, k]`), `c = b`, `N = V_kᵀ` (dense `[k, n]`), `Zr = V_kᵀZ`,
 * `D = V_k`: all `n` activations are evaluated, the state has dimension k.
 *
 * mlp block `x' = N σ(M x + c + Zin u) + bias` (docs/algorithms.md#mlp-reduction; `k` = r hidden modes, the state
 * kept): the same baseline for the hidden layer — the hidden activations projected onto their first r POD modes
 * `U_r` with no point selection, `N' = N U_r U_rᵀ` (dense `[n, m]`), `M`, `c`, `Zin`, `bias` unchanged, E = D = I_n.
 * It evaluates all m hidden units and saves nothing; what it measures is the error of the POD projection alone,
 * which DEIM's `N U_r (PᵀU_r)⁺ Pᵀ` adds the interpolation error to (at r = m it is the full model).
 */
export class GalerkinReducer implements Reducer {
  readonly name = 'galerkin';
  /** no interpolation points: every activation is evaluated, so `dims.m` must be absent or equal k */
  readonly capabilities: ReducerCapabilities = { points: false, oversampling: false };
  readonly needsSnapshots = true;
  private model?: ModelIR;
  private block?: OdeBlock;
  private mlp?: MlpBlock;
  private snapshots?: SnapshotSet;
  /** A as row-major float64 `[n, n]` (conv and antisymmetric blocks materialised once) */
  private A?: Float64Array;

  constructor(_options: Record<string, unknown> = {}) {}

  /** Checks the block and the snapshots; a full block's A is materialised once for all k of a sweep. */
  fit(context: ReducerFitContext): void {
    this.A = undefined;
    if (context?.model?.block?.kind === 'mlp') {
      const mlp = requireMlpBlock(context.model, this.name);
      this.snapshots = requireSnapshots(context, this.name, mlp.n, mlp.m);
      if (this.snapshots.nonlinearBasis.columns < 1) throw new OdemorError('REDUCER', `reducer '${this.name}': the hidden-activation basis is empty`);
      this.model = context.model;
      this.mlp = mlp;
      this.block = undefined;
      return;
    }
    const block = requireOdeBlock(context.model, this.name);
    this.snapshots = requireSnapshots(context, this.name, block.n);
    if (this.snapshots.stateBasis.columns < 1) throw new OdemorError('REDUCER', `reducer '${this.name}': the state basis is empty`);
    this.model = context.model;
    this.block = block;
    this.mlp = undefined;
    this.A = denseARows(block, Array.from({ length: block.n }, (_, i) => i));
  }

  /** Project onto the first k state POD modes (an mlp block: k hidden modes); a `dims.m` other than k is an ARGUMENT error. */
  reduce(dims: ReduceDims): ReducedModel {
    if (this.mlp) return this.reduceMlp(dims);
    const { model, block, snapshots, A } = this;
    if (!model || !block || !snapshots || !A) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const n = block.n;
    const V = snapshots.stateBasis;
    const k = checkDim(this.name, 'k', dims?.k, n, V.columns, 'the rank of the state basis');
    checkNoPoints(this.name, dims, k);
    const Vk = leading(V, n, k); // row-major [n, k]
    const Vt = new Float64Array(k * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) Vt[j * n + i] = Vk[i * k + j]!;
    const reduced: ReducedBlock = {
      kind: 'reduced',
      method: this.name,
      n,
      k,
      m: n,
      E: { type: 'dense', weight: toTensor32(Vt, [k, n]) },
      M: { type: 'dense', weight: toTensor32(mul(A, Vk, n, n, k), [n, k]) },
      c: toTensor32(block.b.data, [n]),
      N: { type: 'dense', weight: toTensor32(Vt, [k, n]) },
      D: { type: 'dense', weight: toTensor32(Vk, [n, k]) },
      activation: block.activation,
    };
    if (block.Z) {
      const p = block.Z.shape[1] ?? 1;
      reduced.Zr = toTensor32(mul(Vt, block.Z.data, k, n, p), [k, p]);
    }
    return {
      method: this.name,
      dims: { k },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        podError: relativePodError(snapshots.stateSingularValues, k),
      }),
    };
  }

  /** The hidden layer of an mlp block: N' = N U_r U_rᵀ, all m units (class doc). */
  private reduceMlp(dims: ReduceDims): ReducedModel {
    const { model, mlp: block, snapshots } = this;
    if (!model || !block || !snapshots) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const { n, m } = block;
    const r = checkHiddenDim(this.name, 'k (hidden modes r)', dims?.k, m, snapshots.nonlinearBasis.columns, 'the rank of the hidden-activation basis');
    checkNoPoints(this.name, dims, r);
    const U = leading(snapshots.nonlinearBasis, m, r); // [m, r]
    const Ut = new Float64Array(r * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) Ut[j * m + i] = U[i * r + j]!;
    const Nout = mul(mul(block.N.data, U, n, m, r), Ut, n, r, m); // [n, m]
    const reduced = buildMlpReducedBlock({ block, method: this.name, N: Nout });
    return {
      method: this.name,
      dims: { k: r },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        nonlinearPodError: relativePodError(snapshots.nonlinearSingularValues, r),
        modes: r,
      }),
    };
  }
}

/** The first `cols` columns of `B` (`rows` rows), row-major float64. */
function leading(B: Matrix, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = B.get(i, j);
  return out;
}

/** Row-major `[r, s] · [s, c]` in float64. */
function mul(X: ArrayLike<number>, Y: ArrayLike<number>, r: number, s: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const o = i * c;
    for (let l = 0; l < s; l++) {
      const x = X[i * s + l]!;
      if (x === 0) continue;
      const yo = l * c;
      for (let j = 0; j < c; j++) out[o + j] = out[o + j]! + x * Y[yo + j]!;
    }
  }
  return out;
}

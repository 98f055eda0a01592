import {
  OdemorError,
  buildMlpReducedBlock,
  check,
  checkHiddenDim,
  checkDim,
  checkFinite,
  checkNoPoints,
  denseARows,
  reducedDiagnostics,
  requireMlpBlock,
  requireOdeBlock,
  toTensor32,
  withReducedBlock,
  type Layer,
  type LinearMap,
  type MlpBlock,
  type ModelIR,
  type OdeBlock,
  type ReduceDims,
  type ReducedBlock,
  type ReducedModel,
  type Reducer,
  type ReducerAnalysis,
  type ReducerCapabilities,
  type ReducerFitContext,
} from '@odemor/core';

/** How neurons are scored; the `k` highest-scoring neurons are kept. */
export type ApozScore = 'magnitude' | 'zero-fraction';

/** Options of the 'apoz' reducer. */
export interface ApozReducerOptions {
  /**
   * `magnitude` (default, the paper's choice for tanh blocks): mean |x_c(t_end)| over the data;
   * `zero-fraction`: 1 − APoZ, the fraction of non-zero final activations (Hu et al. 2016, for ReLU).
   */
  score?: ApozScore;
  /**
   * Restrict a dense layer directly before the block to rows S (then E = I_k) and a dense layer directly
   * after it to columns S (then D = I_k). Default true. When false, or when the neighbour is not a dense
   * layer, E selects S and D scatters back to n.
   */
  adjustNeighbours?: boolean;
}

/** Indices of the `k` highest scores, sorted ascending; ties go to the lower index. */
export function topKNeurons(scores: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}

/**
 * The order in which an mlp block's hidden units are kept (docs/algorithms.md#mlp-reduction): by zero fraction,
 * lowest first, ties to the larger meanAbs (`primary: 'zero-fraction'`); or by meanAbs, largest first, ties
 * to the lower zero fraction (`primary: 'magnitude'`); remaining ties to the lower index. Returns all unit
 * indices in that order.
 */
export function rankHiddenUnits(stats: { meanAbs: ArrayLike<number>; zeroFraction: ArrayLike<number> }, primary: ApozScore = 'zero-fraction'): number[] {
  const { meanAbs: a, zeroFraction: z } = stats;
  const order = Array.from({ length: a.length }, (_, i) => i);
  order.sort(primary === 'magnitude'
    ? (i, j) => a[j]! - a[i]! || z[i]! - z[j]! || i - j
    : (i, j) => z[i]! - z[j]! || a[j]! - a[i]! || i - j);
  return order;
}

/**
 * APoZ neuron pruning adapted to Neural ODEs (Hu et al. 2016; the paper scores tanh neurons by the mean
 * absolute final state). Keeps the k highest-scoring neurons S:
 * `E = select S, M = A[S,S], c = b[S], N = I, Zr = Z[S,:], D = scatter S`, and folds E / D into a
 * directly adjacent dense layer (rows / columns S) when there is one.
 *
 * On an mlp block `x' = N σ(M x + c + Zin u) + bias` (docs/algorithms.md#mlp-reduction) it prunes hidden units:
 * from the per-unit statistics of the sampled hidden activations (`snapshots.hidden`) it keeps the k = r units S
 * with the lowest zero fraction, ties to the larger mean |h| ({@link rankHiddenUnits}; an explicit
 * `score: 'magnitude'` ranks by mean |h| first): `M' = M[S, :]`, `c' = c[S]`, `Zin' = Zin[S, :]`, `N' = N[:, S]`
 * (no correction), bias kept, E = D = I_n.
 */
export class ApozReducer implements Reducer {
  readonly name = 'apoz';
  /** no interpolation points: k neurons are kept and stay active, `dims.m` must be absent or equal k */
  readonly capabilities: ReducerCapabilities = { points: false, oversampling: false };
  readonly needsSnapshots = true;
  private readonly score: ApozScore;
  /** the ranking of an mlp block's hidden units: zero fraction first unless `score: 'magnitude'` was given */
  private readonly hiddenPrimary: ApozScore;
  private readonly adjust: boolean;
  private model?: ModelIR;
  private block?: OdeBlock;
  private scores?: Float64Array;
  private mlp?: { block: MlpBlock; order: number[] };

  constructor(options: ApozReducerOptions = {}) {
    const score = options.score ?? 'magnitude';
    check(score === 'magnitude' || score === 'zero-fraction', `reducer 'apoz': option score must be 'magnitude' or 'zero-fraction', got '${String(score)}'`, 'CONFIG');
    check(options.adjustNeighbours === undefined || typeof options.adjustNeighbours === 'boolean',
      `reducer 'apoz': option adjustNeighbours must be true or false, got ${String(options.adjustNeighbours)}`, 'CONFIG');
    this.score = score;
    this.hiddenPrimary = options.score ?? 'zero-fraction';
    this.adjust = options.adjustNeighbours ?? true;
  }

  /** Reads the per-neuron final-time statistics of the snapshot set (an mlp block: the hidden-unit statistics). */
  fit(context: ReducerFitContext): void {
    if (context?.model?.block?.kind === 'mlp') return this.fitMlp(context);
    this.mlp = undefined;
    const block = requireOdeBlock(context.model, this.name);
    const s = context.snapshots;
    if (!s) throw new OdemorError('REDUCER', `reducer 'apoz' needs snapshots (final-time neuron statistics) but the fit context has none; run a snapshot pass first`);
    const stat = this.score === 'magnitude' ? s.final?.meanAbs : s.final?.zeroFraction;
    const what = this.score === 'magnitude' ? 'final.meanAbs' : 'final.zeroFraction';
    check(stat && stat.length === block.n, `reducer 'apoz': snapshots.${what} has ${stat ? stat.length : 0} entries, the ODE block has n = ${block.n}`, 'SHAPE');
    checkFinite(stat, `reducer 'apoz': snapshots.${what}`);
    this.scores = this.score === 'magnitude' ? Float64Array.from(stat) : Float64Array.from(stat, (z) => 1 - z);
    this.model = context.model;
    this.block = block;
  }

  /** The neuron scores (after `fit`), for the report's histogram. */
  analysis(): ReducerAnalysis {
    return this.scores ? { neuronScores: [...this.scores] } : {};
  }

  private fitMlp(context: ReducerFitContext): void {
    const block = requireMlpBlock(context.model, this.name);
    const s = context.snapshots;
    if (!s) throw new OdemorError('REDUCER', `reducer 'apoz' needs snapshots (hidden-unit statistics) but the fit context has none; run a snapshot pass first`);
    const h = s.hidden;
    if (!h) {
      throw new OdemorError('REDUCER',
        `reducer 'apoz': the snapshot set has no hidden-unit statistics (snapshots.hidden) for the mlp block's ${block.m} hidden units; ` +
          'take the snapshot pass with a snapshotter that sees the hidden activations (raw rows, or SnapshotBatch.hidden sums)');
    }
    for (const key of ['meanAbs', 'zeroFraction'] as const) {
      const stat = h[key];
      check(stat && stat.length === block.m, `reducer 'apoz': snapshots.hidden.${key} has ${stat ? stat.length : 0} entries, the mlp block has m = ${block.m} hidden units`, 'SHAPE');
      checkFinite(stat, `reducer 'apoz': snapshots.hidden.${key}`);
    }
    this.scores = this.hiddenPrimary === 'magnitude' ? Float64Array.from(h.meanAbs) : Float64Array.from(h.zeroFraction, (z) => 1 - z);
    this.mlp = { block, order: rankHiddenUnits(h, this.hiddenPrimary) };
    this.model = context.model;
    this.block = undefined;
  }

  /** Keep the r first units of the ranking (an mlp block's hidden layer). */
  private reduceMlp(dims: ReduceDims): ReducedModel {
    const { model, mlp, scores } = this;
    if (!model || !mlp || !scores) throw new OdemorError('REDUCER', `reducer 'apoz': call fit() before reduce()`);
    const { block, order } = mlp;
    const r = checkHiddenDim(this.name, 'k (hidden units kept)', dims?.k, block.m);
    checkNoPoints(this.name, dims, r);
    const S = order.slice(0, r).sort((a, b) => a - b);
    const reduced = buildMlpReducedBlock({ block, method: this.name, units: S });
    return {
      method: this.name,
      dims: { k: r },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        points: S,
        score: this.hiddenPrimary,
        keptScores: S.map((i) => scores[i]!),
        adjusted: { pre: false, post: false },
      }),
    };
  }

  reduce(dims: ReduceDims): ReducedModel {
    if (this.mlp) return this.reduceMlp(dims);
    const { model, block, scores } = this;
    if (!model || !block || !scores) throw new OdemorError('REDUCER', `reducer 'apoz': call fit() before reduce()`);
    const n = block.n;
    const k = checkDim(this.name, 'k (neurons kept)', dims?.k, n);
    checkNoPoints(this.name, dims, k);
    const S = topKNeurons(scores, k);
    const A = denseARows(block, S); // k×n
    const M = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) M[i * k + j] = A[i * n + S[j]!]!;
    let E: LinearMap = { type: 'select', indices: [...S], from: n };
    let D: LinearMap = { type: 'scatter', indices: [...S], to: n };
    const pre = [...model.pre];
    const post = [...model.post];
    const adjusted = { pre: false, post: false };
    const last = pre[pre.length - 1];
    if (this.adjust && last?.type === 'dense' && last.weight.shape[0] === n) {
      pre[pre.length - 1] = restrictRows(last, S);
      E = { type: 'identity', size: k };
      adjusted.pre = true;
    }
    const next = post[0];
    if (this.adjust && next?.type === 'dense' && next.weight.shape[1] === n) {
      post[0] = restrictColumns(next, S);
      D = { type: 'identity', size: k };
      adjusted.post = true;
    }
    const reduced: ReducedBlock = {
      kind: 'reduced',
      method: this.name,
      n,
      k,
      m: k,
      E,
      M: { type: 'dense', weight: toTensor32(M, [k, k]) },
      c: toTensor32(S.map((i) => block.b.data[i]!), [k]),
      N: { type: 'identity', size: k },
      D,
      activation: block.activation,
    };
    if (block.Z) {
      const p = block.Z.shape[1] ?? 1;
      const Zr = new Float64Array(k * p);
      S.forEach((i, r) => {
        for (let j = 0; j < p; j++) Zr[r * p + j] = block.Z!.data[i * p + j]!;
      });
      reduced.Zr = toTensor32(Zr, [k, p]);
    }
    return {
      method: this.name,
      dims: { k },
      model: withReducedBlock(model, reduced, { pre, post }),
      diagnostics: reducedDiagnostics(reduced, {
        points: S,
        score: this.score,
        keptScores: S.map((i) => scores[i]!),
        adjusted,
      }),
    };
  }
}

/** A dense layer [n, in] restricted to rows S: [k, in], bias[S]. */
function restrictRows(layer: Extract<Layer, { type: 'dense' }>, S: number[]): Layer {
  const inp = layer.weight.shape[1]!;
  const w = new Float32Array(S.length * inp);
  S.forEach((i, r) => w.set(layer.weight.data.subarray(i * inp, (i + 1) * inp), r * inp));
  const out: Layer = { ...layer, weight: { shape: [S.length, inp], data: w } };
  if (layer.bias) out.bias = { shape: [S.length], data: Float32Array.from(S, (i) => layer.bias!.data[i]!) };
  return out;
}

/** A dense layer [out, n] restricted to columns S: [out, k]. */
function restrictColumns(layer: Extract<Layer, { type: 'dense' }>, S: number[]): Layer {
  const [o, n] = layer.weight.shape as [number, number];
  const k = S.length;
  const w = new Float32Array(o * k);
  for (let r = 0; r < o; r++) S.forEach((i, j) => (w[r * k + j] = layer.weight.data[r * n + i]!));
  return { ...layer, weight: { shape: [o, k], data: w } };
}

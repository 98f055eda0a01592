/**
 * Shared validation and model-assembly helpers for reducers.
 */
import { OdemorError, check, checkFinite } from '../errors.js';
import type { Layer, ModelIR, OdeBlock, ReducedBlock } from '../ir/types.js';
import type { ReduceDims, ReducerCapabilities, ReducerFitContext, SnapshotSet } from '../extension-points.js';
import { matrixData } from './dense.js';

/**
 * The full ODE block of the model being reduced: a REDUCER error when it is already reduced or missing,
 * a NUMERIC error when A, b or Z hold NaN or infinity.
 */
export function requireOdeBlock(model: ModelIR | undefined, reducer: string): OdeBlock {
  if (!model || !model.block) throw new OdemorError('REDUCER', `reducer '${reducer}': fit() needs a model with an ODE block`);
  if (model.block.kind === 'mlp') {
    throw new OdemorError('REDUCER', `reducer '${reducer}': the model has an mlp block (x' = N σ(M x + c) + bias); this reducer needs a full ODE block x' = σ(A x + b)`);
  }
  if (model.block.kind !== 'ode') {
    throw new OdemorError('REDUCER', `reducer '${reducer}': the model's block is already reduced (method '${model.block.method}'); reduce the full model`);
  }
  check(Number.isInteger(model.block.n) && model.block.n >= 1, `reducer '${reducer}': the ODE block has invalid n = ${model.block.n}`, 'MODEL');
  check(model.block.b.data.length === model.block.n, `reducer '${reducer}': b has ${model.block.b.data.length} entries, n = ${model.block.n}`, 'SHAPE');
  const blk = model.block;
  const A = blk.A;
  checkFinite(A.type === 'conv' ? A.kernel.data : A.weight.data, `reducer '${reducer}': the ODE block matrix A`);
  checkFinite(blk.b.data, `reducer '${reducer}': the ODE block bias b`);
  if (blk.Z) checkFinite(blk.Z.data, `reducer '${reducer}': the ODE block input matrix Z`);
  return blk;
}

/**
 * The snapshot set of a fit context, checked: present (a REDUCER error naming the reducer otherwise),
 * of the block's dimension, and free of NaN/infinity in both bases (a NUMERIC error). `hidden` — for an mlp
 * block, its m hidden units: the nonlinear snapshots must be its hidden activations (`nonlinearDim` = m, a
 * nonlinear basis of m rows; docs/algorithms.md#mlp-reduction); without it they are n wide.
 */
export function requireSnapshots(context: ReducerFitContext, reducer: string, n: number, hidden?: number): SnapshotSet {
  const s = context.snapshots;
  if (!s) {
    throw new OdemorError('REDUCER', `reducer '${reducer}' needs snapshots (needsSnapshots is true) but the fit context has none; run a snapshot pass first`);
  }
  const block = hidden === undefined ? 'the ODE block' : 'the mlp block';
  check(s.n === n, `reducer '${reducer}': the snapshot set has n = ${s.n}, ${block} has n = ${n}`, 'SHAPE');
  if (hidden !== undefined) {
    const w = s.nonlinearDim ?? s.n;
    check(w === hidden,
      `reducer '${reducer}': the snapshot set's nonlinear snapshots have width nonlinearDim = ${w}${s.nonlinearDim === undefined ? ' (absent: n)' : ''}, ` +
        `but the mlp block has m = ${hidden} hidden units; take the snapshots of its hidden activations`, 'SHAPE');
  }
  for (const [what, M, rows] of [['state basis', s.stateBasis, n], ['nonlinear basis', s.nonlinearBasis, hidden ?? n]] as const) {
    const limit = what === 'state basis' || hidden === undefined ? `${block} has n = ${n}` : `the mlp block has m = ${hidden} hidden units`;
    check(M && M.rows === rows, `reducer '${reducer}': the snapshot ${what} has ${M ? M.rows : 0} rows, ${limit}`, 'SHAPE');
    checkFinite(matrixData(M), `reducer '${reducer}': the snapshot ${what}`);
  }
  return s;
}

/**
 * Check a requested state dimension: an integer with `1 ≤ k ≤ n` and `k ≤ available` (e.g. the rank of
 * the basis). Errors name the value and the limit.
 */
export function checkDim(reducer: string, what: string, value: unknown, n: number, available = n, availableWhat = 'the basis rank'): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} must be an integer, got ${String(value)}`);
  }
  if (value < 1) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} must be at least 1`);
  if (value > n) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} exceeds the ODE block's dimension n = ${n}`);
  if (value > available) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} exceeds ${availableWhat} (${available})`);
  return value;
}

/**
 * For a reducer without the `points` capability ({@link ReducerCapabilities}): refuse `dims.m` unless it
 * equals `k`, with an ARGUMENT error naming the reducer, m and k (a config gives m as the reducer
 * entry's `points`).
 */
export function checkNoPoints(reducer: string, dims: ReduceDims, k: number): void {
  if (dims.m === undefined || dims.m === k) return;
  throw new OdemorError('ARGUMENT',
    `reducer '${reducer}' does not take interpolation points: m = ${String(dims.m)} (a config's points) differs from k = ${k}; remove points for this reducer`);
}

/** Relative POD error at rank k from singular values: `sqrt(Σ_{i≥k} σ_i² / Σ σ_i²)` (0-based i). */
export function relativePodError(singularValues: readonly number[], k: number): number {
  let total = 0;
  let tail = 0;
  singularValues.forEach((s, i) => {
    total += s * s;
    if (i >= k) tail += s * s;
  });
  return total > 0 ? Math.sqrt(tail / total) : 0;
}

/**
 * A copy of `model` with its block replaced by `block` (and optionally its `pre` / `post` layers
 * replaced). Layer arrays and meta are copied; untouched weights are shared, never mutated.
 */
export function withReducedBlock(
  model: ModelIR,
  block: ReducedBlock,
  layers: { pre?: Layer[]; post?: Layer[] } = {},
): ModelIR & { block: ReducedBlock } {
  const out: ModelIR & { block: ReducedBlock } = {
    ...model,
    input: structuredClone(model.input),
    solver: { ...model.solver },
    pre: [...(layers.pre ?? model.pre)],
    post: [...(layers.post ?? model.post)],
    block,
  };
  if (model.meta) out.meta = { ...model.meta };
  return out;
}

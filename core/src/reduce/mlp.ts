/**
 * Reduction of an mlp block `x' = N σ(M x + c + Zin u(t)) + bias` on its hidden layer
 * (docs/algorithms.md#mlp-reduction): the state x ∈ Rⁿ is kept (n is small, E = D = I), the reducers cut the
 * cost of the m hidden units (2·n·m multiply-adds per evaluation). This module holds what every reducer
 * shares: the checked block, the checked hidden dimension, and the one assembly of the reduced block
 *
 *   z' = N' σ(M' z + c' + Zin' u) + bias,   E = D = I_n,   k = n,   m' = q
 *
 * from the hidden units the reduced block evaluates (`units`, q of them) and an optional output matrix
 * (DEIM: `N U (PᵀU)⁺`) or factored inner matrix (SVD truncation).
 */
import { OdemorError, check, checkFinite } from '../errors.js';
import type { MlpBlock, ModelIR, ReducedBlock, ReducedMatrix } from '../ir/types.js';
import { checkShape, toTensor32 } from './dense.js';

/**
 * The mlp block of the model being reduced: a REDUCER error when the model's block is not an mlp block,
 * SHAPE errors for inconsistent shapes, a NUMERIC error when M, c, N, bias or Zin hold NaN or infinity.
 */
export function requireMlpBlock(model: ModelIR | undefined, reducer: string): MlpBlock {
  const blk = model?.block;
  if (!blk || blk.kind !== 'mlp') {
    throw new OdemorError('REDUCER', `reducer '${reducer}': fit() on the hidden layer needs a model with an mlp block, got ${blk ? `a '${blk.kind}' block` : 'none'}`);
  }
  const { n, m } = blk;
  check(Number.isInteger(n) && n >= 1, `reducer '${reducer}': the mlp block has invalid n = ${n}`, 'MODEL');
  check(Number.isInteger(m) && m >= 1, `reducer '${reducer}': the mlp block has invalid m = ${m} (hidden units)`, 'MODEL');
  checkShape(blk.M, [m, n], `reducer '${reducer}': the mlp block's M`);
  checkShape(blk.c, [m], `reducer '${reducer}': the mlp block's c`);
  checkShape(blk.N, [n, m], `reducer '${reducer}': the mlp block's N`);
  checkShape(blk.bias, [n], `reducer '${reducer}': the mlp block's bias`);
  if (blk.Zin) {
    check(blk.Zin.shape.length === 2 && blk.Zin.shape[0] === m, `reducer '${reducer}': the mlp block's Zin has shape [${blk.Zin.shape.join(', ')}], expected [${m}, p]`, 'SHAPE');
    checkShape(blk.Zin, [m, blk.Zin.shape[1]!], `reducer '${reducer}': the mlp block's Zin`);
  }
  checkFinite(blk.M.data, `reducer '${reducer}': the mlp block matrix M`);
  checkFinite(blk.c.data, `reducer '${reducer}': the mlp block bias c`);
  checkFinite(blk.N.data, `reducer '${reducer}': the mlp block matrix N`);
  checkFinite(blk.bias.data, `reducer '${reducer}': the mlp block output bias`);
  if (blk.Zin) checkFinite(blk.Zin.data, `reducer '${reducer}': the mlp block input matrix Zin`);
  return blk;
}

/**
 * Check a requested number of hidden units (or hidden modes) r of an mlp block: an integer with `1 ≤ r ≤ m`
 * and `r ≤ available` (e.g. the rank of the hidden-activation basis). ARGUMENT errors name the value and the
 * limit.
 */
export function checkHiddenDim(reducer: string, what: string, value: unknown, m: number, available = m, availableWhat = 'the basis rank'): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} must be an integer, got ${String(value)}`);
  }
  if (value < 1) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} must be at least 1`);
  if (value > m) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} exceeds the mlp block's m = ${m} hidden units`);
  if (value > available) throw new OdemorError('ARGUMENT', `reducer '${reducer}': ${what} = ${value} exceeds ${availableWhat} (${available})`);
  return value;
}

/** Arguments of {@link buildMlpReducedBlock}. */
export interface MlpReducedBlockInput {
  /** the full mlp block */
  block: MlpBlock;
  /** reducer name stored in the block, e.g. 'deim' */
  method: string;
  /** the hidden units the reduced block evaluates (distinct 0-based rows of M, q of them, in this order); default all m */
  units?: readonly number[];
  /** the output matrix `[n, q]` (row-major, float64; DEIM: `N U (PᵀU)⁺`); default the columns `N[:, units]` */
  N?: ArrayLike<number>;
  /**
   * the inner matrix kept factored, `left [q, ρ]` · `right [ρ, n]` (SVD truncation), instead of the rows
   * `M[units, :]`
   */
  factored?: { left: ArrayLike<number>; right: ArrayLike<number>; rank: number };
}

/**
 * The reduced block of an mlp block in the unified form, the one assembly every reducer of the hidden layer
 * uses: `E = D = I_n`, `k = n`, `m = q`, `M = M[units, :]` (dense `[q, n]`, or the given factors), `c =
 * c[units]`, `Zin = Zin[units, :]`, `N` the given `[n, q]` matrix (or `N[:, units]`), `bias` kept; no `Zr`.
 * Everything is computed in float64 and stored float32.
 */
export function buildMlpReducedBlock(input: MlpReducedBlockInput): ReducedBlock {
  const { block, method } = input;
  const { n, m } = block;
  const units = input.units ? [...input.units] : Array.from({ length: m }, (_, i) => i);
  const q = units.length;
  check(q >= 1, `buildMlpReducedBlock: no hidden units to keep`, 'ARGUMENT');
  const seen = new Uint8Array(m);
  for (const u of units) {
    check(Number.isInteger(u) && u >= 0 && u < m, `buildMlpReducedBlock: hidden unit ${u} is outside 0..${m - 1}`, 'ARGUMENT');
    check(!seen[u], `buildMlpReducedBlock: hidden unit ${u} is listed twice`, 'ARGUMENT');
    seen[u] = 1;
  }
  let M: ReducedMatrix;
  if (input.factored) {
    const { left, right, rank } = input.factored;
    check(Number.isInteger(rank) && rank >= 1, `buildMlpReducedBlock: factored rank must be a positive integer, got ${rank}`, 'ARGUMENT');
    check(left.length === q * rank && right.length === rank * n,
      `buildMlpReducedBlock: the factors hold ${left.length} and ${right.length} values, expected [${q}, ${rank}] and [${rank}, ${n}]`, 'SHAPE');
    M = { type: 'factored', left: toTensor32(left, [q, rank]), right: toTensor32(right, [rank, n]) };
  } else {
    const W = block.M.data;
    const rows = new Float32Array(q * n);
    units.forEach((u, i) => rows.set(W.subarray(u * n, (u + 1) * n), i * n));
    M = { type: 'dense', weight: { shape: [q, n], data: rows } };
  }
  let Nout: Float32Array;
  if (input.N) {
    check(input.N.length === n * q, `buildMlpReducedBlock: N holds ${input.N.length} values, expected [${n}, ${q}] = ${n * q}`, 'SHAPE');
    checkFinite(input.N, `buildMlpReducedBlock: the output matrix N`);
    Nout = Float32Array.from(input.N);
  } else {
    const Nd = block.N.data;
    Nout = new Float32Array(n * q);
    for (let i = 0; i < n; i++) units.forEach((u, j) => (Nout[i * q + j] = Nd[i * m + u]!));
  }
  const out: ReducedBlock = {
    kind: 'reduced',
    method,
    n,
    k: n,
    m: q,
    E: { type: 'identity', size: n },
    M,
    c: { shape: [q], data: Float32Array.from(units, (u) => block.c.data[u]!) },
    N: { type: 'dense', weight: { shape: [n, q], data: Nout } },
    bias: { shape: [n], data: Float32Array.from(block.bias.data) },
    D: { type: 'identity', size: n },
    activation: block.activation,
  };
  if (block.Zin) {
    const p = block.Zin.shape[1] ?? 1;
    const Z = block.Zin.data;
    const rows = new Float32Array(q * p);
    units.forEach((u, i) => rows.set(Z.subarray(u * p, (u + 1) * p), i * p));
    out.Zin = { shape: [q, p], data: rows };
  }
  return out;
}

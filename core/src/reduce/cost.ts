/**
 * Cost metrics of an ODE block, computed generically from the full block or the unified reduced form,
 * consistent with the paper's Table I.
 */
import type { Block, LinearMap, ReducedBlock } from '../ir/types.js';
import type { ReducedDiagnostics } from '../extension-points.js';

/** Options of {@link blockCost}. */
export interface BlockCostOptions {
  /** count the input matrix Z / Zr in `params` and `macsPerRhs` (default true; Table I has no input) */
  countInput?: boolean;
}

/**
 * What an ODE block costs. Counted:
 * - `params`: the weights of the right-hand side only — `A` (dense `n²`; conv `kh·kw·C²`, the kernel;
 *   antisymmetric `n²`, the matrix W) or `M` (dense `m·k`, factored `m·r + r·k`) plus `N` (dense `k·m`,
 *   identity 0), plus `Z`/`Zr` (`n·p` / `k·p`) unless `countInput` is false. Biases are not in `params`
 *   (see `biasParams`), nor are `E`/`D` (see `projectionParams`). So Table I's "ODE weights" hold:
 *   original `n²`, POD-DEIM with `m = k` `2k²`, SVD `2kn`, APoZ `k²`.
 * - `activations`: entries of σ evaluated per right-hand side (`n`, or the reduced block's `m`).
 * - `stateDim`: `n` or `k`.
 * - `macsPerRhs`: multiply-adds of one right-hand-side evaluation for one sample: `A x` (conv:
 *   `H·W·kh·kw·C²`, the usual count including padded zeros; antisymmetric: `n²`, A materialised) or
 *   `M z` then `N σ`, plus `Z u` unless `countInput` is false. Activations and bias adds are not counted.
 * - `projectionParams` / `projectionMacs`: `E` and `D` (dense `k·n` each; identity, select and scatter
 *   are free), applied once per sample, not per right-hand side.
 */
export interface BlockCost {
  stateDim: number;
  activations: number;
  params: number;
  biasParams: number;
  macsPerRhs: number;
  projectionParams: number;
  projectionMacs: number;
}

/** Cost metrics of a full or reduced ODE block; see {@link BlockCost} for exactly what is counted. */
export function blockCost(block: Block, opts: BlockCostOptions = {}): BlockCost {
  const countInput = opts.countInput ?? true;
  if (block.kind === 'ode') {
    const n = block.n;
    let params: number;
    let macs: number;
    const A = block.A;
    if (A.type === 'conv') {
      const [kh = 1, kw = 1] = A.kernel.shape;
      params = kh * kw * A.channels * A.channels;
      macs = A.height * A.width * params;
    } else {
      params = n * n;
      macs = n * n;
    }
    const p = block.Z ? (block.Z.shape[1] ?? 1) : 0;
    if (countInput) {
      params += n * p;
      macs += n * p;
    }
    return { stateDim: n, activations: n, params, biasParams: n, macsPerRhs: macs, projectionParams: 0, projectionMacs: 0 };
  }
  if (block.kind === 'mlp') {
    const { n, m } = block;
    const zParams = countInput && block.Zin ? m * (block.Zin.shape[1] ?? 1) : 0;
    return { stateDim: n, activations: m, params: 2 * n * m + zParams, biasParams: m + n, macsPerRhs: 2 * n * m + zParams, projectionParams: 0, projectionMacs: 0 };
  }
  const { k, m } = block;
  let mParams: number;
  if (block.M.type === 'dense') mParams = block.M.weight.shape[0]! * block.M.weight.shape[1]!;
  else mParams = block.M.left.shape[0]! * block.M.left.shape[1]! + block.M.right.shape[0]! * block.M.right.shape[1]!;
  const nParams = block.N.type === 'dense' ? block.N.weight.shape[0]! * block.N.weight.shape[1]! : 0;
  const zParams = countInput
    ? (block.Zr ? block.Zr.shape[0]! * (block.Zr.shape[1] ?? 1) : 0) + (block.Zin ? block.Zin.shape[0]! * (block.Zin.shape[1] ?? 1) : 0)
    : 0;
  const proj = mapSize(block.E) + mapSize(block.D);
  return {
    stateDim: k,
    activations: m,
    params: mParams + nParams + zParams,
    biasParams: block.c.data.length + (block.bias ? block.bias.data.length : 0),
    macsPerRhs: mParams + nParams + zParams,
    projectionParams: proj,
    projectionMacs: proj,
  };
}

/**
 * The diagnostics of a reduced model: `stateDim`, `activations`, `params`, `macsPerRhs` and
 * `projectionParams` of {@link blockCost} for its reduced block, followed by the reducer's own entries
 * (`extra`, e.g. `errorConstant`, `points`).
 */
export function reducedDiagnostics(block: ReducedBlock, extra: Record<string, unknown> = {}): ReducedDiagnostics {
  const cost = blockCost(block);
  return {
    stateDim: cost.stateDim,
    activations: cost.activations,
    params: cost.params,
    macsPerRhs: cost.macsPerRhs,
    projectionParams: cost.projectionParams,
    ...extra,
  };
}

function mapSize(map: LinearMap): number {
  return map.type === 'dense' ? map.weight.shape[0]! * map.weight.shape[1]! : 0;
}

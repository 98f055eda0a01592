/**
 * POD + interpolation (DEIM / Q-DEIM / oversampled DEIM) reduced ODE block, the paper's eqs. 4–7:
 *
 *   z(0) = V_kᵀ x(0),   z' = N σ(M z + c) + Zr u,   x(t_end) ≈ V_k z(t_end)
 *   M = Pᵀ A V_k (q×k),  c = Pᵀ b,  N = V_kᵀ U_m (PᵀU_m)⁺ (k×q),  Zr = V_kᵀ Z
 *
 * with `q = points.length ≥ m` (q = m: DEIM / Q-DEIM, the inverse; q > m: ODEIM, the pseudo-inverse).
 * The operator `U_m (PᵀU_m)⁺` and its error constant come from core's `interpolation/` module.
 */
import type { Matrix } from 'ml-matrix';
import { check, checkFinite } from '../errors.js';
import { interpolationOperator, type InterpolationOperator } from '../interpolation/ei.js';
import type { OdeBlock, ReducedBlock } from '../ir/types.js';
import { denseARows, matmul, matrixData, toTensor32, transpose } from './dense.js';

/** Arguments of {@link buildInterpolatedBlock}. */
export interface InterpolatedBlockInput {
  /** the full ODE block */
  block: OdeBlock;
  /** state basis `V_k`, `n × k`, orthonormal columns */
  V: Matrix;
  /** nonlinear basis `U_m`, `n × m`, orthonormal columns */
  U: Matrix;
  /** `q ≥ m` distinct interpolation indices (0-based) */
  points: number[];
  /** reducer name stored in the block, e.g. 'deim' */
  method: string;
  /** a precomputed {@link interpolationOperator} of `(U, points)`, to share across k */
  operator?: InterpolationOperator;
}

/**
 * Build the POD-interpolation reduced block in the unified form: `E = V_kᵀ`, `M = PᵀAV_k`, `c = Pᵀb`,
 * `N = V_kᵀU_m(PᵀU_m)⁻¹` (pseudo-inverse when there are more points than columns — ODEIM),
 * `Zr = V_kᵀZ`, `D = V_k`. The block's `m` (activations) is the number of points.
 */
export function buildInterpolatedBlock(input: InterpolatedBlockInput): ReducedBlock {
  const { block, V, U, points, method } = input;
  const n = block.n;
  check(V.rows === n, `the state basis V has ${V.rows} rows, the ODE block has n = ${n}`, 'SHAPE');
  check(U.rows === n, `the nonlinear basis U has ${U.rows} rows, the ODE block has n = ${n}`, 'SHAPE');
  const k = V.columns;
  check(k >= 1, 'the state basis V has no columns', 'SHAPE');
  const Vd = matrixData(V);
  checkFinite(Vd, 'the state basis V');
  const op = input.operator ?? interpolationOperator(U, points);
  check(op.n === n && op.q === points.length, 'the interpolation operator does not match U and the points', 'SHAPE');
  const q = points.length;
  const Vt = transpose(Vd, n, k); // k×n
  const N = matmul(Vt, op.projector, k, n, q); // k×q
  const PA = denseARows(block, points); // q×n
  const M = matmul(PA, Vd, q, n, k); // q×k
  const b = block.b.data;
  const c = points.map((p) => b[p]!);
  const out: ReducedBlock = {
    kind: 'reduced',
    method,
    n,
    k,
    m: q,
    E: { type: 'dense', weight: toTensor32(Vt, [k, n]) },
    M: { type: 'dense', weight: toTensor32(M, [q, k]) },
    c: toTensor32(c, [q]),
    N: { type: 'dense', weight: toTensor32(N, [k, q]) },
    D: { type: 'dense', weight: toTensor32(Vd, [n, k]) },
    activation: block.activation,
  };
  if (block.Z) {
    const p = block.Z.shape[1] ?? 1;
    out.Zr = toTensor32(matmul(Vt, block.Z.data, k, n, p), [k, p]);
  }
  return out;
}


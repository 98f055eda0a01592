/**
 * POD + interpolation (DEIM / Q-DEIM / oversampled DEIM) reduced ODE block, the paper's eqs. 4–7:
 *
 *   z(0) = V_kᵀ x(0),   z' = N σ(M z + c) + Zr u,   x(t_end) ≈ V_k z(t_end)
 *   M = Pᵀ A V_k (q×k),  c = Pᵀ b,  N = V_kᵀ U_m (PᵀU_m)⁺ (k×q),  Zr = V_kᵀ Z
 *
 * with `q = points.length ≥ m` (q = m: DEIM / Q-DEIM, the inverse; q > m: ODEIM, the pseudo-inverse).
 */
import { SingularValueDecomposition, type Matrix } from 'ml-matrix';
import { OdemorError, check, checkFinite } from '../errors.js';
import type { OdeBlock, ReducedBlock } from '../ir/types.js';
import { denseARows, matmul, matrixData, toTensor32, toMl as toMatrix, transpose } from './dense.js';

/** The oblique interpolation operator of a basis and its points. */
export interface InterpolationOperator {
  /** `U (PᵀU)⁺`, row-major `n × q`: maps the `q` sampled entries of f to the `n`-vector approximation */
  projector: Float64Array;
  n: number;
  /** number of points q */
  q: number;
  /** `‖(PᵀU)⁺‖₂ = 1/σ_min(PᵀU)`, the DEIM error constant */
  errorConstant: number;
}

/**
 * `U (PᵀU)⁺` and the error constant `‖(PᵀU)⁺‖₂` for an `n×m` basis `U` sampled at `points`
 * (`q ≥ m` distinct row indices). Uses the SVD of `PᵀU`; stops with a NUMERIC error when `PᵀU` is
 * numerically rank deficient (σ_min ≤ 1e-12·σ_max), i.e. the points do not determine the basis.
 */
export function interpolationOperator(U: Matrix, points: readonly number[]): InterpolationOperator {
  const n = U.rows;
  const m = U.columns;
  const q = points.length;
  checkPoints(points, n, m);
  const Ud = matrixData(U);
  checkFinite(Ud, 'the nonlinear basis U');
  const PU = new Float64Array(q * m);
  points.forEach((p, i) => {
    for (let j = 0; j < m; j++) PU[i * m + j] = Ud[p * m + j]!;
  });
  const svd = new SingularValueDecomposition(toMatrix(PU, q, m), { autoTranspose: true });
  const s = svd.diagonal;
  const smax = Math.max(...s);
  const smin = Math.min(...s);
  if (!(smin > 1e-12 * smax) || !(smax > 0)) {
    throw new OdemorError('NUMERIC',
      `PᵀU is singular (σ_min = ${smin.toExponential(3)}, σ_max = ${smax.toExponential(3)}): the ${q} points do not determine the ${m}-column basis`);
  }
  // (PᵀU)⁺ = W S⁻¹ Φᵀ  (m×q)
  const Phi = svd.leftSingularVectors; // q×m
  const W = svd.rightSingularVectors; // m×m
  const pinv = new Float64Array(m * q);
  for (let a = 0; a < m; a++) {
    for (let i = 0; i < q; i++) {
      let acc = 0;
      for (let l = 0; l < s.length; l++) acc += (W.get(a, l) * Phi.get(i, l)) / s[l]!;
      pinv[a * q + i] = acc;
    }
  }
  return { projector: matmul(Ud, pinv, n, m, q), n, q, errorConstant: 1 / smin };
}

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

function checkPoints(points: readonly number[], n: number, m: number): void {
  check(points.length >= m, `${points.length} interpolation points for a basis of ${m} columns: need at least ${m}`, 'REDUCER');
  check(points.length <= n, `${points.length} interpolation points but the basis has only ${n} rows`, 'REDUCER');
  const seen = new Set<number>();
  for (const p of points) {
    check(Number.isInteger(p) && p >= 0 && p < n, `interpolation point ${p} is outside 0..${n - 1}`, 'REDUCER');
    if (seen.has(p)) throw new OdemorError('REDUCER', `interpolation point ${p} is selected twice`);
    seen.add(p);
  }
}

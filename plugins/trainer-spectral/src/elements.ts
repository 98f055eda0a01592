/**
 * The spectral-element discretisation of one trajectory on [t0, t1] (float64): E equal elements, on each a
 * Legendre series of degree p, continuous at the element ends. The unknowns are the values at the global
 * Gauss–Lobatto–Legendre nodes (E·p + 1 of them: neighbouring elements share their common end node), which is
 * the same function space as E series of degree p with x continuous: element e's Legendre coefficients are
 * V⁻¹ times its p + 1 node values ({@link nodalBasis}). Every quantity of the SNODE objective is a fixed linear
 * map of these values: the states at observation times (`evaluation`), the states and time derivatives at the
 * collocation points (`collocationNodes`, `derivative`), with the quadrature weights of the residual.
 */
import { OdemorError, sequenceIndex } from '@odemor/core';
import { matMul, nodalBasis, nodalEvaluation, solveSpd, transpose, zerosMat, type Mat64, type NodalBasis } from './legendre.js';

/** The discretisation of [t0, t1] ({@link spectralGrid}). */
export interface SpectralGrid {
  t0: number;
  t1: number;
  /** series degree p per element */
  order: number;
  /** elements E */
  elements: number;
  /** element length H = (t1 − t0) / E */
  h: number;
  basis: NodalBasis;
  /** global nodes S = E·p + 1 (the unknowns per trajectory and state) */
  nodes: number;
  /** the times of the global nodes [S] */
  nodeTimes: Float64Array;
  /** collocation points Q = E·(p + 1): every GLL node of every element (shared end nodes twice, once per element) */
  points: number;
  /** the time of each collocation point [Q] */
  pointTimes: Float64Array;
  /** the element of each collocation point [Q] */
  pointElement: Int32Array;
  /** the local GLL index q of each collocation point [Q] */
  pointLocal: Int32Array;
  /** the global node of each collocation point [Q] (the state there is that node's value) */
  collocationNodes: Int32Array;
  /**
   * quadrature weights [Q] of the time-averaged residual: w_q / (2E), so that Σ_r weight_r · g(t_r) ≈
   * (1/(t1 − t0)) ∫ g dt, exactly for piecewise polynomials of degree ≤ 2p − 1; they sum to 1
   */
  pointWeights: Float64Array;
  /** ẋ at the collocation points [Q × S] in physical time: (2/H) times the element's nodal differentiation matrix */
  derivative: Mat64;
}

/**
 * The grid of `elements` equal elements of degree `order` on [t0, t1].
 * @throws OdemorError 'ARGUMENT' for t1 ≤ t0, a degree outside 1–512 or a non-positive element count
 */
export function spectralGrid(t0: number, t1: number, order: number, elements: number): SpectralGrid {
  if (!(Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0)) throw new OdemorError('ARGUMENT', `spectralGrid: the interval must have t1 > t0, got [${t0}, ${t1}]`);
  if (!(Number.isInteger(order) && order >= 1)) throw new OdemorError('ARGUMENT', `spectralGrid: order must be an integer ≥ 1, got ${String(order)}`);
  if (!(Number.isInteger(elements) && elements >= 1)) throw new OdemorError('ARGUMENT', `spectralGrid: elements must be an integer ≥ 1, got ${String(elements)}`);
  const p = order;
  const E = elements;
  const basis = nodalBasis(p);
  const h = (t1 - t0) / E;
  const S = E * p + 1;
  const Q = E * (p + 1);
  const start = (e: number) => t0 + e * h;
  const timeOf = (e: number, tau: number) => (e === E - 1 && tau === 1 ? t1 : start(e) + ((tau + 1) * h) / 2);
  const nodeTimes = new Float64Array(S);
  for (let e = 0; e < E; e++) for (let q = 0; q <= p; q++) nodeTimes[e * p + q] = timeOf(e, basis.rule.nodes[q]!);
  const pointTimes = new Float64Array(Q);
  const pointElement = new Int32Array(Q);
  const pointLocal = new Int32Array(Q);
  const collocationNodes = new Int32Array(Q);
  const pointWeights = new Float64Array(Q);
  const derivative = zerosMat(Q, S);
  for (let e = 0; e < E; e++) {
    for (let q = 0; q <= p; q++) {
      const r = e * (p + 1) + q;
      pointTimes[r] = timeOf(e, basis.rule.nodes[q]!);
      pointElement[r] = e;
      pointLocal[r] = q;
      collocationNodes[r] = e * p + q;
      pointWeights[r] = basis.rule.weights[q]! / (2 * E);
      for (let k = 0; k <= p; k++) derivative.data[r * S + e * p + k] = (2 / h) * basis.D.data[q * (p + 1) + k]!;
    }
  }
  return { t0, t1, order: p, elements: E, h, basis, nodes: S, nodeTimes, points: Q, pointTimes, pointElement, pointLocal, collocationNodes, pointWeights, derivative };
}

/** The element of time t (the last one for t1; an element boundary belongs to the later element) and its τ. */
export function locate(grid: SpectralGrid, t: number): { element: number; tau: number } {
  const e = Math.min(grid.elements - 1, Math.max(0, Math.floor((t - grid.t0) / grid.h)));
  const tau = (2 * (t - (grid.t0 + e * grid.h))) / grid.h - 1;
  return { element: e, tau: Math.min(1, Math.max(-1, tau)) };
}

/**
 * The evaluation matrix [times × S]: row j gives x(t_j) from the node values (the Lagrange polynomials of the
 * element holding t_j; continuity makes the choice at an element boundary immaterial).
 * @throws OdemorError 'ARGUMENT' for a time outside [t0, t1] (beyond a rounding tolerance)
 */
export function evaluationMatrix(grid: SpectralGrid, times: ArrayLike<number>): Mat64 {
  const { order: p, nodes: S } = grid;
  const tol = 1e-9 * Math.max(1, Math.abs(grid.t1 - grid.t0));
  const out = zerosMat(times.length, S);
  for (let j = 0; j < times.length; j++) {
    const t = times[j]!;
    if (!(t >= grid.t0 - tol && t <= grid.t1 + tol)) throw new OdemorError('ARGUMENT', `evaluationMatrix: time ${t} lies outside [${grid.t0}, ${grid.t1}]`);
    const { element, tau } = locate(grid, t);
    const row = nodalEvaluation(grid.basis, [tau]);
    for (let k = 0; k <= p; k++) out.data[j * S + element * p + k] = row.data[k]!;
  }
  return out;
}

/**
 * The signal step j of each collocation point, for an input u(t) = u[j] held on [t0 + j·dt, t0 + (j+1)·dt)
 * (core's `sequenceIndex`, the runtimes' rule); at an element's right end (τ = 1) the left limit, the step that
 * the element itself lives in (a step that starts exactly at the end does not act inside the element).
 */
export function signalIndices(grid: SpectralGrid, dt: number, steps: number): Int32Array {
  const out = new Int32Array(grid.points);
  for (let r = 0; r < grid.points; r++) {
    const t = grid.pointTimes[r]!;
    let j = sequenceIndex(t, grid.t0, dt, steps);
    if (grid.pointLocal[r] === grid.order && j > 0 && grid.t0 + j * dt >= t - 1e-9 * dt) j -= 1;
    out[r] = j;
  }
  return out;
}

/**
 * The least-squares initialisation: the node values that minimise ‖Φ x − y‖² + ε ∫ ‖ẋ‖² dt (the observations
 * y at the rows of Φ), as the fixed matrix P [S × rows] with x = P y. The small derivative penalty makes the
 * problem well posed when the observations do not determine the series (fewer than S of them, or an element
 * without one) by picking the flattest fit; ε = `smoothing` · trace(ΦᵀΦ) / trace(R) (R the penalty's Gram
 * matrix), 1e-6 by default, so it is scale-free and negligible when the data determine the fit.
 */
export function leastSquaresFit(grid: SpectralGrid, phi: Mat64, smoothing = 1e-6): Mat64 {
  const S = grid.nodes;
  const PhiT = transpose(phi);
  const G = matMul(PhiT, phi);
  // R = Dᵀ W D · (t1 − t0): the Gram matrix of ∫ ‖ẋ‖² dt over the collocation rule (exact for the degree-2p−2 integrand)
  const D = grid.derivative;
  const WD = zerosMat(D.rows, D.cols);
  for (let r = 0; r < D.rows; r++) for (let c = 0; c < D.cols; c++) WD.data[r * D.cols + c] = grid.pointWeights[r]! * D.data[r * D.cols + c]!;
  const R = matMul(transpose(D), WD);
  let trG = 0;
  let trR = 0;
  for (let i = 0; i < S; i++) {
    trG += G.data[i * S + i]!;
    trR += R.data[i * S + i]!;
  }
  const eps = trR > 0 ? (smoothing * trG) / trR : 0;
  const A = zerosMat(S, S);
  for (let i = 0; i < S * S; i++) A.data[i] = G.data[i]! + eps * R.data[i]!;
  // no ridge: R's null space is the constants, which any one observation fixes (a row of Φ sums to 1)
  return solveSpd(A, PhiT);
}

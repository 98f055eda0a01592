/**
 * Float64 numerics of Legendre series on τ ∈ [−1, 1]: the polynomials and their derivatives, the
 * Gauss–Lobatto–Legendre (GLL) nodes and weights, evaluation matrices at arbitrary τ, the modal
 * differentiation matrix of a series, and the nodal (GLL-value) form of a series. Plain `Float64Array`s,
 * row-major; no tensors.
 */
import { OdemorError } from '@odemor/core';

/** A dense row-major float64 matrix. */
export interface Mat64 {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** A zero matrix rows × cols. */
export function zerosMat(rows: number, cols: number): Mat64 {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

function checkDegree(p: number, what: string, min = 0): void {
  if (!(Number.isInteger(p) && p >= min && p <= 512)) throw new OdemorError('ARGUMENT', `${what}: the degree must be an integer from ${min} to 512, got ${String(p)}`);
}

/**
 * P_0(τ) … P_p(τ) and their first derivatives at one point, by the three-term recurrence
 * (k+1) P_{k+1} = (2k+1) τ P_k − k P_{k−1} and P'_{k+1} = P'_{k−1} + (2k+1) P_k.
 */
export function legendreValues(p: number, tau: number): { values: Float64Array; derivatives: Float64Array } {
  checkDegree(p, 'legendreValues');
  const v = new Float64Array(p + 1);
  const d = new Float64Array(p + 1);
  v[0] = 1;
  if (p >= 1) {
    v[1] = tau;
    d[1] = 1;
  }
  for (let k = 1; k < p; k++) {
    v[k + 1] = ((2 * k + 1) * tau * v[k]! - k * v[k - 1]!) / (k + 1);
    d[k + 1] = d[k - 1]! + (2 * k + 1) * v[k]!;
  }
  return { values: v, derivatives: d };
}

/** P_p(τ) (the single polynomial of degree p). */
export function legendre(p: number, tau: number): number {
  return legendreValues(p, tau).values[p]!;
}

/** P'_p(τ). */
export function legendreDerivative(p: number, tau: number): number {
  return legendreValues(p, tau).derivatives[p]!;
}

/** The p + 1 Gauss–Lobatto–Legendre nodes (increasing, −1 and 1 included) and weights of degree p. */
export interface GllRule {
  nodes: Float64Array;
  weights: Float64Array;
}

/**
 * The Gauss–Lobatto–Legendre rule of degree p ≥ 1: nodes ±1 and the p − 1 roots of P'_p, i.e. the zeros of
 * g(τ) = (1 − τ²) P'_p(τ), found by Newton's method on g from the Chebyshev–Gauss–Lobatto points −cos(πi/p)
 * (g'(τ) = −p(p+1) P_p(τ) by Legendre's equation, so the step is (1 − τ²) P'_p / (p(p+1) P_p)), symmetrised;
 * weights w_i = 2 / (p(p+1) P_p(τ_i)²). Exact for polynomials of degree ≤ 2p − 1.
 */
export function gaussLobatto(p: number): GllRule {
  checkDegree(p, 'gaussLobatto', 1);
  const nodes = new Float64Array(p + 1);
  nodes[0] = -1;
  nodes[p] = 1;
  for (let i = 1; i < p; i++) {
    let t = -Math.cos((Math.PI * i) / p);
    for (let it = 0; it < 100; it++) {
      const { values, derivatives } = legendreValues(p, t);
      const step = ((1 - t * t) * derivatives[p]!) / (p * (p + 1) * values[p]!);
      t += step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[i] = t;
  }
  // exact symmetry τ_{p−i} = −τ_i (and 0 at the middle of an even degree)
  for (let i = 0; i <= p; i++) {
    const j = p - i;
    if (i < j) {
      const m = (nodes[j]! - nodes[i]!) / 2;
      nodes[i] = -m;
      nodes[j] = m;
    } else if (i === j) nodes[i] = 0;
  }
  const weights = new Float64Array(p + 1);
  for (let i = 0; i <= p; i++) {
    const P = legendre(p, nodes[i]!);
    weights[i] = 2 / (p * (p + 1) * P * P);
  }
  return { nodes, weights };
}

/** E[j][i] = P_i(τ_j): the values at the points `tau` of a series with coefficients c are E c. */
export function legendreMatrix(p: number, tau: ArrayLike<number>): Mat64 {
  const out = zerosMat(tau.length, p + 1);
  for (let j = 0; j < tau.length; j++) out.data.set(legendreValues(p, tau[j]!).values, j * (p + 1));
  return out;
}

/** E'[j][i] = P'_i(τ_j): the derivatives at the points `tau` of a series with coefficients c are E' c. */
export function legendreDerivativeMatrix(p: number, tau: ArrayLike<number>): Mat64 {
  const out = zerosMat(tau.length, p + 1);
  for (let j = 0; j < tau.length; j++) out.data.set(legendreValues(p, tau[j]!).derivatives, j * (p + 1));
  return out;
}

/**
 * The modal differentiation matrix D [(p+1) × (p+1)]: the derivative of Σ c_n P_n is the series with coefficients
 * D c, from P'_n = Σ_{k < n, n − k odd} (2k + 1) P_k (D[k][n] = 2k + 1 there, else 0; upper triangular, exact).
 */
export function differentiationMatrix(p: number): Mat64 {
  checkDegree(p, 'differentiationMatrix');
  const D = zerosMat(p + 1, p + 1);
  for (let n = 1; n <= p; n++) for (let k = n - 1; k >= 0; k -= 2) D.data[k * (p + 1) + n] = 2 * k + 1;
  return D;
}

/** The coefficients of the derivative of the series c (length p + 1; the last entry is 0). */
export function differentiateSeries(c: ArrayLike<number>): Float64Array {
  const p = c.length - 1;
  const D = differentiationMatrix(p);
  return matVec(D, c);
}

/** Σ c_i P_i(τ) (Clenshaw-free: the recurrence values). */
export function evaluateSeries(c: ArrayLike<number>, tau: number): number {
  const { values } = legendreValues(c.length - 1, tau);
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i]! * values[i]!;
  return s;
}

/**
 * The nodal form of degree-p series: V [(p+1) × (p+1)] with V[q][i] = P_i(τ_q) at the GLL nodes maps
 * coefficients to node values; its inverse maps node values to coefficients, by the discrete orthogonality of
 * the GLL rule: c_i = Σ_q w_q P_i(τ_q) x_q / γ_i, γ_i = 2/(2i+1) for i < p and γ_p = 2/p (the rule is inexact for
 * P_p², exactly so). `D` is the nodal differentiation matrix V'·V⁻¹: the derivatives at the nodes of the degree-p
 * interpolant of node values x are D x.
 */
export interface NodalBasis {
  p: number;
  rule: GllRule;
  V: Mat64;
  Vinv: Mat64;
  D: Mat64;
}

/** The nodal (GLL) basis of degree p ≥ 1 ({@link NodalBasis}). */
export function nodalBasis(p: number): NodalBasis {
  const rule = gaussLobatto(p);
  const V = legendreMatrix(p, rule.nodes);
  const Vinv = zerosMat(p + 1, p + 1);
  for (let i = 0; i <= p; i++) {
    const gamma = i < p ? 2 / (2 * i + 1) : 2 / p;
    for (let q = 0; q <= p; q++) Vinv.data[i * (p + 1) + q] = (rule.weights[q]! * V.data[q * (p + 1) + i]!) / gamma;
  }
  const D = matMul(legendreDerivativeMatrix(p, rule.nodes), Vinv);
  return { p, rule, V, Vinv, D };
}

/**
 * Row weights ℓ(τ) [len × (p+1)] of the nodal basis at arbitrary points: the degree-p interpolant of node values x
 * takes the value (ℓ x)_j at τ_j (ℓ = E(τ)·V⁻¹, the Lagrange polynomials of the GLL nodes).
 */
export function nodalEvaluation(basis: NodalBasis, tau: ArrayLike<number>): Mat64 {
  return matMul(legendreMatrix(basis.p, tau), basis.Vinv);
}

/** A · B. */
export function matMul(A: Mat64, B: Mat64): Mat64 {
  if (A.cols !== B.rows) throw new OdemorError('SHAPE', `matMul: [${A.rows}, ${A.cols}] · [${B.rows}, ${B.cols}]`);
  const C = zerosMat(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let k = 0; k < A.cols; k++) {
      const a = A.data[i * A.cols + k]!;
      if (a === 0) continue;
      for (let j = 0; j < B.cols; j++) C.data[i * B.cols + j]! += a * B.data[k * B.cols + j]!;
    }
  }
  return C;
}

/** A · x. */
export function matVec(A: Mat64, x: ArrayLike<number>): Float64Array {
  if (A.cols !== x.length) throw new OdemorError('SHAPE', `matVec: [${A.rows}, ${A.cols}] · [${x.length}]`);
  const y = new Float64Array(A.rows);
  for (let i = 0; i < A.rows; i++) {
    let s = 0;
    for (let k = 0; k < A.cols; k++) s += A.data[i * A.cols + k]! * x[k]!;
    y[i] = s;
  }
  return y;
}

/** Aᵀ. */
export function transpose(A: Mat64): Mat64 {
  const T = zerosMat(A.cols, A.rows);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) T.data[j * A.rows + i] = A.data[i * A.cols + j]!;
  return T;
}

/**
 * Solve S X = B for a symmetric positive-definite S [n × n] (Cholesky), B [n × k].
 * @throws OdemorError 'NUMERIC' when S is not positive definite
 */
export function solveSpd(S: Mat64, B: Mat64): Mat64 {
  const n = S.rows;
  if (S.cols !== n || B.rows !== n) throw new OdemorError('SHAPE', `solveSpd: [${S.rows}, ${S.cols}] \\ [${B.rows}, ${B.cols}]`);
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = S.data[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0)) throw new OdemorError('NUMERIC', `solveSpd: the matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = S.data[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  const X = zerosMat(n, B.cols);
  for (let c = 0; c < B.cols; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = B.data[i * B.cols + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
      y[i] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * X.data[k * B.cols + c]!;
      X.data[i * B.cols + c] = s / L[i * n + i]!;
    }
  }
  return X;
}

/** Float64 numerics: Legendre polynomials, GLL rules, evaluation/differentiation matrices, the element grid. */
import { describe, expect, it } from 'vitest';
import {
  differentiateSeries,
  differentiationMatrix,
  evaluateSeries,
  gaussLobatto,
  legendre,
  legendreDerivative,
  legendreDerivativeMatrix,
  legendreMatrix,
  matMul,
  matVec,
  nodalBasis,
  nodalEvaluation,
} from '../src/legendre.js';
import { evaluationMatrix, leastSquaresFit, signalIndices, spectralGrid } from '../src/elements.js';

/** the monomial τ^k as a Legendre series of degree p (by least squares on many points: exact up to rounding) */
function monomialSeries(k: number, p: number): Float64Array {
  const { nodes, weights } = gaussLobatto(Math.max(p + 2, 4));
  // c_i = (2i+1)/2 ∫ τ^k P_i dτ, with a rule exact to degree k + i ≤ 2p + 1
  const c = new Float64Array(p + 1);
  for (let i = 0; i <= p; i++) {
    let s = 0;
    for (let q = 0; q < nodes.length; q++) s += weights[q]! * nodes[q]! ** k * legendre(i, nodes[q]!);
    c[i] = ((2 * i + 1) / 2) * s;
  }
  return c;
}

describe('Legendre polynomials', () => {
  it('match the closed forms of P_2, P_3, P_4 and their derivatives', () => {
    for (const t of [-1, -0.7, -0.1, 0, 0.3, 0.9, 1]) {
      expect(legendre(0, t)).toBe(1);
      expect(legendre(1, t)).toBe(t);
      expect(legendre(2, t)).toBeCloseTo((3 * t * t - 1) / 2, 14);
      expect(legendre(3, t)).toBeCloseTo((5 * t ** 3 - 3 * t) / 2, 14);
      expect(legendre(4, t)).toBeCloseTo((35 * t ** 4 - 30 * t * t + 3) / 8, 14);
      expect(legendreDerivative(2, t)).toBeCloseTo(3 * t, 14);
      expect(legendreDerivative(3, t)).toBeCloseTo((15 * t * t - 3) / 2, 14);
      expect(legendreDerivative(4, t)).toBeCloseTo((140 * t ** 3 - 60 * t) / 8, 13);
    }
    // P_n(1) = 1, P_n(−1) = (−1)^n, P'_n(1) = n(n+1)/2
    for (let n = 0; n <= 20; n++) {
      expect(legendre(n, 1)).toBeCloseTo(1, 12);
      expect(legendre(n, -1)).toBeCloseTo((-1) ** n, 12);
      expect(legendreDerivative(n, 1)).toBeCloseTo((n * (n + 1)) / 2, 9);
    }
  });
});

describe('Gauss–Lobatto–Legendre rule', () => {
  it('p = 4: nodes ±1, ±√(3/7), 0 with weights 1/10, 49/90, 32/45', () => {
    const { nodes, weights } = gaussLobatto(4);
    const r = Math.sqrt(3 / 7);
    const want = [-1, -r, 0, r, 1];
    const wantW = [1 / 10, 49 / 90, 32 / 45, 49 / 90, 1 / 10];
    for (let i = 0; i < 5; i++) {
      expect(nodes[i]).toBeCloseTo(want[i]!, 15);
      expect(weights[i]).toBeCloseTo(wantW[i]!, 15);
    }
  });

  it('p = 1, 2, 3: the trapezoidal rule, Simpson, and ±1/√5 with 1/6, 5/6', () => {
    expect(Array.from(gaussLobatto(1).nodes)).toEqual([-1, 1]);
    expect(Array.from(gaussLobatto(1).weights)).toEqual([1, 1]);
    const s = gaussLobatto(2);
    expect(Array.from(s.nodes)).toEqual([-1, 0, 1]);
    s.weights.forEach((w, i) => expect(w).toBeCloseTo([1 / 3, 4 / 3, 1 / 3][i]!, 15));
    const t = gaussLobatto(3);
    [-1, -1 / Math.sqrt(5), 1 / Math.sqrt(5), 1].forEach((v, i) => expect(t.nodes[i]).toBeCloseTo(v, 15));
    [1 / 6, 5 / 6, 5 / 6, 1 / 6].forEach((v, i) => expect(t.weights[i]).toBeCloseTo(v, 15));
  });

  it('interior nodes are the roots of P′_p; weights sum to 2', () => {
    for (const p of [5, 8, 13, 24]) {
      const { nodes, weights } = gaussLobatto(p);
      for (let i = 1; i < p; i++) expect(Math.abs(legendreDerivative(p, nodes[i]!))).toBeLessThan(1e-10 * p * p);
      for (let i = 1; i <= p; i++) expect(nodes[i]!).toBeGreaterThan(nodes[i - 1]!);
      expect(weights.reduce((a, w) => a + w, 0)).toBeCloseTo(2, 13);
    }
  });

  it('integrates τ^k exactly for k ≤ 2p − 1, and not τ^(2p)', () => {
    for (const p of [2, 3, 4, 7, 10]) {
      const { nodes, weights } = gaussLobatto(p);
      const integrate = (k: number) => nodes.reduce((s, t, q) => s + weights[q]! * t ** k, 0);
      for (let k = 0; k <= 2 * p - 1; k++) expect(integrate(k)).toBeCloseTo(k % 2 ? 0 : 2 / (k + 1), 13);
      expect(Math.abs(integrate(2 * p) - 2 / (2 * p + 1))).toBeGreaterThan(1e-6);
    }
  });
});

describe('series: evaluation and differentiation', () => {
  it('the evaluation matrices hold P_i(τ_j) and P′_i(τ_j)', () => {
    const tau = [-0.8, 0.1, 1];
    const E = legendreMatrix(4, tau);
    const Ed = legendreDerivativeMatrix(4, tau);
    expect([E.rows, E.cols]).toEqual([3, 5]);
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i <= 4; i++) {
        expect(E.data[j * 5 + i]).toBeCloseTo(legendre(i, tau[j]!), 15);
        expect(Ed.data[j * 5 + i]).toBeCloseTo(legendreDerivative(i, tau[j]!), 14);
      }
    }
  });

  it('the derivative of a series is exact for polynomials (k τ^(k−1) from τ^k)', () => {
    const p = 7;
    for (let k = 0; k <= p; k++) {
      const c = monomialSeries(k, p);
      const dc = differentiateSeries(c);
      expect(dc[p]).toBe(0);
      for (const t of [-1, -0.6, 0, 0.35, 1]) {
        expect(evaluateSeries(c, t)).toBeCloseTo(t ** k, 12);
        expect(evaluateSeries(dc, t)).toBeCloseTo(k ? k * t ** (k - 1) : 0, 11);
      }
    }
    // the modal matrix agrees with the derivative matrix E′: E · D = E′
    const tau = [-0.9, -0.2, 0.5, 0.99];
    const lhs = matMul(legendreMatrix(6, tau), differentiationMatrix(6));
    const rhs = legendreDerivativeMatrix(6, tau);
    lhs.data.forEach((v, i) => expect(v).toBeCloseTo(rhs.data[i]!, 12));
  });

  it('the nodal basis: V⁻¹ inverts V, D differentiates the interpolant, ℓ interpolates', () => {
    const b = nodalBasis(6);
    const I = matMul(b.V, b.Vinv);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) expect(I.data[i * 7 + j]).toBeCloseTo(i === j ? 1 : 0, 13);
    const x = Array.from(b.rule.nodes, (t) => t ** 5 - 2 * t ** 2 + 1);
    const dx = matVec(b.D, x);
    b.rule.nodes.forEach((t, q) => expect(dx[q]).toBeCloseTo(5 * t ** 4 - 4 * t, 11));
    const l = nodalEvaluation(b, [0.123]);
    expect(matVec(l, x)[0]).toBeCloseTo(0.123 ** 5 - 2 * 0.123 ** 2 + 1, 13);
  });
});

describe('spectral elements', () => {
  it('shares end nodes, differentiates piecewise polynomials in physical time, weights sum to 1', () => {
    const g = spectralGrid(1, 4, 3, 3);
    expect(g.nodes).toBe(10);
    expect(g.points).toBe(12);
    expect(g.nodeTimes[0]).toBe(1);
    expect(g.nodeTimes[3]).toBeCloseTo(2, 14);
    expect(g.nodeTimes[9]).toBe(4);
    expect(Array.from(g.collocationNodes.slice(0, 8))).toEqual([0, 1, 2, 3, 3, 4, 5, 6]);
    expect(g.pointWeights.reduce((a, w) => a + w, 0)).toBeCloseTo(1, 14);
    // x(t) = t³ − t is one cubic on every element: its derivative at every collocation point is exact
    const x = Array.from(g.nodeTimes, (t) => t ** 3 - t);
    const dx = matVec(g.derivative, x);
    g.pointTimes.forEach((t, r) => expect(dx[r]).toBeCloseTo(3 * t * t - 1, 10));
    // the quadrature averages a quadratic in time exactly: (1/3) ∫_1^4 t² dt = 7
    expect(g.pointTimes.reduce((s, t, r) => s + g.pointWeights[r]! * t * t, 0)).toBeCloseTo(7, 12);
    // evaluation at arbitrary times, boundaries and ends included
    const times = [1, 1.3, 2, 2.999, 3.5, 4];
    const v = matVec(evaluationMatrix(g, times), x);
    times.forEach((t, j) => expect(v[j]).toBeCloseTo(t ** 3 - t, 11));
    expect(() => evaluationMatrix(g, [4.5])).toThrow(/outside \[1, 4\]/);
  });

  it('the least-squares fit recovers a representable trajectory and is smooth when underdetermined', () => {
    const g = spectralGrid(0, 2, 4, 2);
    const times = Array.from({ length: 15 }, (_, i) => (2 * i) / 14);
    const phi = evaluationMatrix(g, times);
    const P = leastSquaresFit(g, phi);
    const f = (t: number) => Math.sin(t) * 0 + t ** 4 - t;
    const fit = matVec(P, times.map(f));
    g.nodeTimes.forEach((t, i) => expect(fit[i]).toBeCloseTo(f(t), 4));
    // one observation only: the flattest fit is the constant
    const one = leastSquaresFit(g, evaluationMatrix(g, [0.5]));
    const c = matVec(one, [3]);
    c.forEach((v) => expect(v).toBeCloseTo(3, 6));
  });

  it('signal steps at collocation points: sequenceIndex, with the left limit at an element end', () => {
    const g = spectralGrid(0, 1, 2, 2); // points 0, .25, .5 | .5, .75, 1
    expect(Array.from(signalIndices(g, 0.5, 2))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(signalIndices(g, 0.25, 4))).toEqual([0, 1, 1, 2, 3, 3]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  GramAccumulator,
  Matrix,
  fromMatrix,
  orthonormalityError,
  pivotedQr,
  podExact,
  podFromGram,
  projectionError,
  rankByEnergy,
  singularValuesOf,
  spectralNorm,
  thinSvd,
  toMatrix,
} from '../src/linalg/index.js';
import { interpolationErrorConstant } from '../src/interpolation/index.js';
import { columnsDiffUpToSign, expectOdemorError, gaussianStream, randomMatrix } from '@odemor/conformance';

/** The orthonormal DCT-II matrix: column k = √(2/n)·c_k·cos(π(2i+1)k/(2n)), a known orthogonal matrix. */
function dct(n: number): Matrix {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) m.set(i, k, Math.sqrt((k === 0 ? 1 : 2) / n) * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n)));
  }
  return m;
}

describe('toMatrix / fromMatrix', () => {
  it('round-trips row-major data and checks the length', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const m = toMatrix(data, 2, 3);
    expect(m.get(1, 0)).toBe(4);
    expect(Array.from(fromMatrix(m))).toEqual([1, 2, 3, 4, 5, 6]);
    expectOdemorError(expect, () => toMatrix(data, 4, 2), 'SHAPE');
  });
});

describe('GramAccumulator', () => {
  it('equals XᵀX of the rows, across batches larger and smaller than a block, n not a multiple of 4', () => {
    const next = gaussianStream(1);
    const n = 13;
    const counts = [300, 5, 1, 257];
    const acc = new GramAccumulator(n);
    const all: Float32Array[] = [];
    for (const c of counts) {
      const d = new Float32Array(c * n).map(() => next());
      all.push(d);
      acc.add(d, c);
    }
    expect(acc.count).toBe(counts.reduce((a, b) => a + b));
    const ref = new Float64Array(n * n);
    for (const d of all) {
      for (let r = 0; r < d.length / n; r++) {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ref[i * n + j] += d[r * n + i]! * d[r * n + j]!;
      }
    }
    const g = acc.gram();
    for (let k = 0; k < n * n; k++) expect(Math.abs(g[k]! - ref[k]!)).toBeLessThanOrEqual(1e-12 * Math.abs(ref[k]!) + 1e-12);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(g[i * n + j]).toBe(g[j * n + i]);
  });

  it('addGram adds a precomputed batch Gram matrix', () => {
    const next = gaussianStream(2);
    const n = 6;
    const d = new Float32Array(10 * n).map(() => next());
    const a = new GramAccumulator(n);
    a.add(d, 10);
    const b = new GramAccumulator(n);
    b.addGram(a.gram(), 10);
    b.add(d, 10);
    const ga = a.gram();
    const gb = b.gram();
    for (let k = 0; k < n * n; k++) expect(gb[k]).toBeCloseTo(2 * ga[k]!, 12);
    expect(b.count).toBe(20);
    expectOdemorError(expect, () => b.add(d, 11), 'SHAPE');
    expectOdemorError(expect, () => b.addGram(new Float64Array(5)), 'SHAPE');
  });
});

describe('podFromGram', () => {
  it('recovers the known eigenpairs of the 1-D Laplacian tridiag(−1, 2, −1)', () => {
    // λ_k = 2 − 2 cos(kπ/(n+1)), v_k(j) = √(2/(n+1)) sin(jkπ/(n+1)), j, k = 1 … n
    const n = 10;
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      G[i * n + i] = 2;
      if (i > 0) G[i * n + i - 1] = -1;
      if (i < n - 1) G[i * n + i + 1] = -1;
    }
    const { basis, singularValues } = podFromGram(G, n);
    const h = Math.PI / (n + 1);
    const expected = Array.from({ length: n }, (_, k) => ({ k: k + 1, lambda: 2 - 2 * Math.cos((k + 1) * h) })).sort((a, b) => b.lambda - a.lambda);
    const V = new Matrix(n, n);
    expected.forEach(({ k }, col) => {
      for (let j = 1; j <= n; j++) V.set(j - 1, col, Math.sqrt(2 / (n + 1)) * Math.sin(j * k * h));
    });
    expected.forEach(({ lambda }, i) => expect(singularValues[i]).toBeCloseTo(Math.sqrt(lambda), 12));
    expect(columnsDiffUpToSign(basis, V, n)).toBeLessThan(1e-10);
  });

  it('clamps the round-off eigenvalues of a rank-deficient Gram matrix to σ ≥ 0 and truncates to rank', () => {
    const next = gaussianStream(3);
    const n = 8;
    const X = randomMatrix(n, 3, next);
    const G = X.mmul(X.transpose());
    const { basis, singularValues } = podFromGram(G, n, 3);
    expect(singularValues).toHaveLength(n);
    for (const s of singularValues) expect(s).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < n; i++) expect(singularValues[i]).toBeLessThanOrEqual(singularValues[i - 1]!);
    expect(singularValues[3]! / singularValues[0]!).toBeLessThan(1e-7);
    expect(basis.columns).toBe(3);
    expect(projectionError(basis, X)).toBeLessThan(1e-10);
    expectOdemorError(expect, () => podFromGram(G, n, 9), 'REDUCER');
    G.set(0, 0, NaN);
    expectOdemorError(expect, () => podFromGram(G, n), 'NUMERIC');
  });
});

describe('podExact', () => {
  it('recovers a planted SVD X = Q diag(σ) Wᵀ with known orthogonal factors', () => {
    const n = 12;
    const s = 7;
    const Q = dct(n);
    const W = dct(s);
    const sigma = [9, 5, 3, 2, 1, 0.5, 0.25];
    const X = Q.subMatrix(0, n - 1, 0, s - 1).mmul(Matrix.diag(sigma)).mmul(W.transpose());
    const { basis, singularValues } = podExact(X, 4);
    sigma.forEach((v, i) => expect(singularValues[i]).toBeCloseTo(v, 12));
    expect(basis.columns).toBe(4);
    expect(columnsDiffUpToSign(basis, Q, 4)).toBeLessThan(1e-12);
    // wide input (n < s) too
    const wide = podExact(X.transpose());
    sigma.forEach((v, i) => expect(wide.singularValues[i]).toBeCloseTo(v, 12));
    expect(columnsDiffUpToSign(wide.basis, W, s)).toBeLessThan(1e-12);
  });

  it('agrees with podFromGram: same singular values (rel 1e-6) and bases up to sign', () => {
    const next = gaussianStream(4);
    const n = 30;
    const s = 200;
    const A = thinSvd(randomMatrix(n, n, next)).U;
    const B = thinSvd(randomMatrix(s, n, next)).U;
    const sigma = Array.from({ length: n }, (_, i) => 2 ** -(i / 2)); // ratios ≥ 2^-14.5, well separated
    const X = A.mmul(Matrix.diag(sigma)).mmul(B.transpose());
    const exact = podExact(X);
    const fromGram = podFromGram(X.mmul(X.transpose()), n);
    for (let i = 0; i < n; i++) expect(Math.abs(fromGram.singularValues[i]! - exact.singularValues[i]!)).toBeLessThan(1e-6 * exact.singularValues[i]!);
    expect(columnsDiffUpToSign(exact.basis, fromGram.basis, 20)).toBeLessThan(1e-6);
    sigma.forEach((v, i) => expect(exact.singularValues[i]).toBeCloseTo(v, 12));
  });

  it('names NaN input and too large a rank', () => {
    const X = new Matrix([[1, 2], [3, NaN]]);
    expectOdemorError(expect, () => podExact(X), 'NUMERIC', /NaN/);
    expectOdemorError(expect, () => podExact(new Matrix([[1, 2], [3, 4], [5, 6]]), 3), 'REDUCER', /rank 3/);
  });
});

describe('rankByEnergy', () => {
  it('is the smallest k with Σ_{i≤k} σ_i² ≥ energy · Σ σ_i²', () => {
    // σ² = 9, 16 → cumulative fractions 0.36, 1
    expect(rankByEnergy([4, 3].sort((a, b) => b - a), 0.64)).toBe(1);
    expect(rankByEnergy([4, 3], 0.65)).toBe(2);
    expect(rankByEnergy([1, 1, 1, 1], 0.5)).toBe(2);
    expect(rankByEnergy([1, 1, 1, 1], 1)).toBe(4);
    expect(rankByEnergy([0, 0], 0.9)).toBe(0);
    expectOdemorError(expect, () => rankByEnergy([1], 0), 'ARGUMENT');
    expectOdemorError(expect, () => rankByEnergy([1], 1.5), 'ARGUMENT');
  });
});

describe('norms', () => {
  it('spectralNorm of known matrices', () => {
    expect(spectralNorm(Matrix.diag([3, -5, 1]))).toBeCloseTo(5, 14);
    // [[1, 1], [0, 1]] has σ_max = golden ratio
    expect(spectralNorm(new Matrix([[1, 1], [0, 1]]))).toBeCloseTo((1 + Math.sqrt(5)) / 2, 14);
    expect(singularValuesOf(new Matrix([[3, 0, 0], [0, 4, 0]]))).toEqual([4, 3]);
  });

  it('interpolationErrorConstant = ‖(PᵀU)⁻¹‖₂ = 1/σ_min(U[p, :]), pseudo-inverse when oversampled', () => {
    const I = Matrix.eye(5, 2);
    expect(interpolationErrorConstant(I, [0, 1])).toBeCloseTo(1, 14);
    expect(interpolationErrorConstant(I, [0, 2])).toBe(Infinity);
    const c = 1 / Math.sqrt(2);
    const U = new Matrix([[c, c], [c, -c], [0, 0]]);
    // U[[0,1],:] is orthogonal → constant 1; U[[0,2],:] = [[c, c], [0, 0]] singular
    expect(interpolationErrorConstant(U, [0, 1])).toBeCloseTo(1, 14);
    expect(interpolationErrorConstant(U, [1, 0, 2])).toBeCloseTo(1, 14);
    const inv = new Matrix([[2, 1], [1, 3]]); // U[p,:] with a known inverse norm: 1/σ_min = 1/((5 − √5)/2)
    expect(interpolationErrorConstant(inv, [0, 1])).toBeCloseTo(2 / (5 - Math.sqrt(5)), 13);
    expectOdemorError(expect, () => interpolationErrorConstant(U, [0]), 'REDUCER');
    expectOdemorError(expect, () => interpolationErrorConstant(U, [0, 3]), 'ARGUMENT');
  });

  it('projectionError and orthonormalityError', () => {
    const V = new Matrix([[1], [0]]);
    expect(projectionError(V, new Matrix([[3], [4]]))).toBeCloseTo(0.8, 14);
    expect(projectionError(Matrix.eye(2), new Matrix([[3], [4]]))).toBe(0);
    expect(orthonormalityError(dct(9))).toBeLessThan(1e-14);
    expect(orthonormalityError(new Matrix([[1, 0.5], [0, 1]]))).toBeCloseTo(0.5, 14);
  });
});

describe('pivotedQr (Businger–Golub)', () => {
  for (const [rows, cols] of [
    [7, 12],
    [12, 7],
    [9, 9],
  ] as const) {
    it(`Q R = A P with orthonormal Q and nonincreasing |R_jj| (${rows}×${cols})`, () => {
      const next = gaussianStream(rows * 100 + cols);
      const A = randomMatrix(rows, cols, next);
      const { Q, R, pivots, rDiag } = pivotedQr(A, { computeQ: true });
      const k = Math.min(rows, cols);
      expect([...pivots].sort((a, b) => a - b)).toEqual(Array.from({ length: cols }, (_, j) => j));
      const AP = new Matrix(rows, cols);
      pivots.forEach((p, j) => AP.setColumn(j, A.getColumn(p)));
      expect(Q!.mmul(R).sub(AP).norm('frobenius')).toBeLessThan(1e-12 * A.norm('frobenius'));
      expect(orthonormalityError(Q!)).toBeLessThan(1e-13);
      for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) expect(R.get(i, j)).toBe(0);
      for (let i = 1; i < k; i++) expect(rDiag[i]).toBeLessThanOrEqual(rDiag[i - 1]! * (1 + 1e-12));
      // the pivoting property: |R_jj| ≥ ‖R[j:k, l]‖ for every later column l
      for (let j = 0; j < k; j++) {
        for (let l = j + 1; l < cols; l++) {
          let s = 0;
          for (let i = j; i < k; i++) s += R.get(i, l) ** 2;
          expect(Math.sqrt(s)).toBeLessThanOrEqual(rDiag[j]! * (1 + 1e-12));
        }
      }
    });
  }
});

/**
 * Shared, deterministic test fixtures for odemor packages: seeded Gaussian matrices and orthonormal
 * bases, a comparison of bases up to column signs, the Chaturantabut–Sorensen (2010) DEIM example, DEIM as docs/algorithms.md#deim states it (a reference to
 * compare point selections with) and an assertion for `OdemorError`s. Everything here is float64
 * (ml-matrix) and needs no tfjs.
 */
import type { ExpectStatic } from 'vitest';
import { solve } from 'ml-matrix';
import { Matrix, OdemorError, mulberry32, podExact, thinSvd, type OdemorErrorCode, type PodResult } from '@odemor/core';
import { checker, show } from './check.js';

/**
 * Seeded standard normals: the core's `mulberry32` uniforms through Box–Muller, one normal per two
 * uniforms (`√(−2 ln(1 − u₁)) · cos(2π u₂)`). The same seed gives the same stream on every platform.
 */
export function gaussianStream(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A rows×cols matrix filled row by row from `next` (e.g. a {@link gaussianStream}). */
export function randomMatrix(rows: number, cols: number, next: () => number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, next());
  return m;
}

/**
 * A random n×m matrix with orthonormal columns (m ≤ n): the left singular vectors of an n×m Gaussian
 * matrix drawn from `gaussianStream(seed)`. Deterministic for a given `(n, m, seed)`.
 */
export function randomOrthonormal(n: number, m: number, seed: number): Matrix {
  return thinSvd(randomMatrix(n, m, gaussianStream(seed))).U;
}

/**
 * Largest difference between the first `cols` columns of `A` and `B` up to the sign of each column:
 * max over columns j of min(‖a_j − b_j‖∞, ‖a_j + b_j‖∞). For comparing singular / POD bases.
 */
export function columnsDiffUpToSign(A: Matrix, B: Matrix, cols: number): number {
  let worst = 0;
  for (let j = 0; j < cols; j++) {
    let dp = 0;
    let dm = 0;
    for (let i = 0; i < A.rows; i++) {
      dp = Math.max(dp, Math.abs(A.get(i, j) - B.get(i, j)));
      dm = Math.max(dm, Math.abs(A.get(i, j) + B.get(i, j)));
    }
    worst = Math.max(worst, Math.min(dp, dm));
  }
  return worst;
}

/** `k` equally spaced values from `a` to `b`, both included. */
export function linspace(a: number, b: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => a + ((b - a) * i) / (k - 1));
}

/** The Chaturantabut–Sorensen (2010) example; see {@link chaturantabutSorensenExample}. */
export interface ChaturantabutSorensenExample {
  /** the 100 grid points on [−1, 1] */
  xs: number[];
  /** s(x; μ) = (1 − x) cos(3πμ(x + 1)) e^{−(1+x)μ} */
  s: (x: number, mu: number) => number;
  /** the snapshot matrix [s(x_i; μ_j)], `xs.length` × `mus.length` */
  snapshots: (mus: number[]) => Matrix;
  /** training snapshots, μ ∈ linspace(1, π, 51): 100×51 */
  train: Matrix;
  /** validation snapshots, μ ∈ linspace(1, π, 101): 100×101 */
  validation: Matrix;
  /** `podExact(train)` */
  pod: PodResult;
  /**
   * Per validation column f: the interpolation error ‖f − U(PᵀU)⁻¹Pᵀf‖₂ and the POD projection error
   * ‖f − UUᵀf‖₂. With `leastSquares` (more points than columns) `(PᵀU)⁻¹Pᵀf` is the least-squares
   * solution (SVD) instead of the LU solve of a square system.
   */
  errors: (U: Matrix, points: readonly number[], options?: { leastSquares?: boolean }) => { interp: number[]; proj: number[] };
}

/**
 * The DEIM example of Chaturantabut & Sorensen (2010), as docs/algorithms.md#chaturantabut-sorensen states it:
 * s(x; μ) = (1 − x) cos(3πμ(x + 1)) e^{−(1+x)μ} on 100 points of [−1, 1], training snapshots at
 * μ ∈ linspace(1, π, 51), validation at 101 values of μ in the same range, and the POD of the training
 * snapshots. Builds fresh matrices on every call.
 */
export function chaturantabutSorensenExample(): ChaturantabutSorensenExample {
  const xs = linspace(-1, 1, 100);
  const s = (x: number, mu: number) => (1 - x) * Math.cos(3 * Math.PI * mu * (x + 1)) * Math.exp(-(1 + x) * mu);
  const snapshots = (mus: number[]) => {
    const F = new Matrix(xs.length, mus.length);
    mus.forEach((mu, j) => xs.forEach((x, i) => F.set(i, j, s(x, mu))));
    return F;
  };
  const train = snapshots(linspace(1, Math.PI, 51));
  const validation = snapshots(linspace(1, Math.PI, 101));
  const errors = (U: Matrix, points: readonly number[], options: { leastSquares?: boolean } = {}) => {
    const PU = new Matrix(points.map((p) => U.getRow(p)));
    const PF = new Matrix(points.map((p) => validation.getRow(p)));
    const interp = validation.clone().sub(U.mmul(solve(PU, PF, options.leastSquares ?? false)));
    const proj = validation.clone().sub(U.mmul(U.transpose().mmul(validation)));
    const colNorms = (M: Matrix) => Array.from({ length: M.columns }, (_, j) => Math.hypot(...M.getColumn(j)));
    return { interp: colNorms(interp), proj: colNorms(proj) };
  };
  return { xs, s, snapshots, train, validation, pod: podExact(train), errors };
}

/**
 * DEIM (Chaturantabut & Sorensen 2010) literally as docs/algorithms.md#deim states it: p₁ = argmax |u₁|, then at
 * every step solve U[p, :l] c = U[p, l] and take the argmax of the residual |u_l − U[:, :l] c| (the first
 * maximum on ties). A slow reference to compare point selections and error constants with.
 */
export function literalDeim(U: Matrix): number[] {
  const argmax = (v: number[]) => v.reduce((best, x, i) => (Math.abs(x) > Math.abs(v[best]!) ? i : best), 0);
  const p = [argmax(U.getColumn(0))];
  for (let l = 1; l < U.columns; l++) {
    const A = new Matrix(p.map((i) => U.getRow(i).slice(0, l)));
    const c = solve(A, Matrix.columnVector(p.map((i) => U.get(i, l))));
    const r = Matrix.columnVector(U.getColumn(l)).sub(U.subMatrix(0, U.rows - 1, 0, l - 1).mmul(c));
    p.push(argmax(r.getColumn(0)));
  }
  return p;
}

/**
 * Assert that `fn` throws an `OdemorError` with the given `code` whose message matches every one of
 * `messages`. Pass the `expect` of your test (vitest's, or the test context's). The error is recognised
 * by its brand ({@link OdemorError.is}), so one thrown by another copy of @odemor/core counts. Failures
 * say what was thrown: `expected an OdemorError 'NUMERIC', got TypeError: x is undefined`.
 */
export function expectOdemorError(expect: ExpectStatic, fn: () => unknown, code: OdemorErrorCode, ...messages: (string | RegExp)[]): void {
  let err: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    err = e;
    threw = true;
  }
  const c = checker(expect);
  const got = !threw ? 'nothing thrown' : err instanceof Error ? `${err.name}: ${err.message}` : `${show(err)} thrown`;
  c.ok('error', OdemorError.is(err), `expected an OdemorError '${code}', got ${got}`);
  const e = err as OdemorError;
  c.is(`OdemorError code (message: ${show(e.message)})`, e.code, code);
  for (const m of messages) expect(e.message, `OdemorError message must match ${String(m)}`).toMatch(m);
}

/**
 * Float64 copies of the Runge–Kutta stepper on plain JS numbers. They run the same step and controller code
 * as every runtime (see `driver.ts`), so a tableau and the step-size control can be checked against
 * published float64 reference values, which float32 tensors cannot reach.
 */
import { OdemorError } from '../errors.js';
import type { ButcherTableau, SolveStats } from '../extension-points.js';
import { RK_DEFAULTS, errorRatioFromSquares, integrate, rkStep, scaledError, validateSolveOptions, type RkAlgebra } from './driver.js';
import { checkTableau } from './tableau.js';

/** `out += Σ w_j k_j` in place over the first `w.length` stages, skipping zero weights; returns `out`. */
function addWeighted(out: Float64Array, w: readonly number[], k: readonly Float64Array[]): Float64Array {
  for (let j = 0; j < w.length; j++) {
    const wj = w[j]!;
    if (wj === 0) continue;
    const kj = k[j]!;
    for (let i = 0; i < out.length; i++) out[i]! += wj * kj[i]!;
  }
  return out;
}

/** The algebra of float64 vectors. */
export const float64Algebra: RkAlgebra<Float64Array> = {
  scope: (fn) => fn(),
  axpy: (y, w, k) => addWeighted(Float64Array.from(y), w, k),
  combine: (w, k) => addWeighted(new Float64Array(k[0]!.length), w, k),
  errorRatio(err, y0, y1, rtol, atol) {
    let sum = 0;
    for (let i = 0; i < err.length; i++) {
      const e = scaledError(err[i]!, y0[i]!, y1[i]!, rtol, atol);
      sum += e * e;
    }
    return errorRatioFromSquares(sum, err.length);
  },
  allFinite: (y) => y.every((v) => Number.isFinite(v)),
  clone: (y) => Float64Array.from(y),
  dispose: () => {},
  mul: (a, b) => Float64Array.from(a, (v, i) => v * b[i]!),
};

/** Right-hand side of a float64 solve: f(t, y) with y a copy the function may read (not keep). */
export type Float64Rhs = (t: number, y: Float64Array) => ArrayLike<number>;

/** Options of {@link rkSolveFloat64}. */
export interface Float64SolveOptions {
  t0: number;
  t1: number;
  /** step size (fixed-step), initial step (adaptive) */
  dt: number;
  /** adaptive stepping with the tableau's `bHat` (default false) */
  adaptive?: boolean;
  /** default 1e-6 */
  rtol?: number;
  /** default 1e-9 */
  atol?: number;
  /** default 100000 */
  maxSteps?: number;
  /** keep every `saveEvery`-th accepted state */
  saveEvery?: number;
  /** called once per accepted step with the state after it */
  onStep?: (info: { t: number; h: number; index: number; state: Float64Array }) => void;
}

/** Result of {@link rkSolveFloat64}. */
export interface Float64SolveResult {
  y: Float64Array;
  states?: Float64Array[];
  times?: number[];
  stats: SolveStats;
}

/**
 * Integrate `y' = f(t, y)` in float64 with the same stepping and control as every runtime.
 * Example: `rkSolveFloat64(RK4_TABLEAU, (t, y) => y, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]` → 2.718279744135166.
 */
export function rkSolveFloat64(
  tableau: ButcherTableau,
  f: Float64Rhs,
  y0: number | ArrayLike<number>,
  options: Float64SolveOptions,
): Float64SolveResult {
  const name = 'float64';
  checkTableau(tableau);
  validateSolveOptions(name, options);
  const x0 = typeof y0 === 'number' ? Float64Array.of(y0) : Float64Array.from(y0);
  const n = x0.length;
  const onStep = options.onStep;
  return integrate(float64Algebra, tableau, x0, {
    t0: options.t0,
    t1: options.t1,
    dt: options.dt,
    adaptive: options.adaptive ?? false,
    rtol: options.rtol ?? RK_DEFAULTS.rtol,
    atol: options.atol ?? RK_DEFAULTS.atol,
    maxSteps: options.maxSteps ?? RK_DEFAULTS.maxSteps,
    ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
    f: (t, y) => {
      const out = f(t, Float64Array.from(y));
      if (!out || out.length !== n) {
        throw new OdemorError('ARGUMENT', `solver '${name}': rhs returned ${out ? out.length : String(out)} values at t=${t}, expected ${n}`);
      }
      return Float64Array.from(out);
    },
    ...(onStep ? { onStep: (t: number, h: number, index: number, state: Float64Array) => onStep({ t, h, index, state }) } : {}),
    name,
  });
}

/**
 * One explicit Runge–Kutta step of a scalar ODE `y' = f(t, y)` in float64: returns `y(t + h)` from the
 * tableau's `b` weights. With `bHat`, {@link rkStepScalarWithError} also gives the embedded estimate.
 */
export function rkStepScalar(tableau: ButcherTableau, f: (t: number, y: number) => number, t: number, y: number, h: number): number {
  return rkStepScalarWithError(tableau, f, t, y, h).y;
}

/** {@link rkStepScalar}, plus the embedded solution `yHat` (from `bHat`) when the tableau has one. */
export function rkStepScalarWithError(
  tableau: ButcherTableau,
  f: (t: number, y: number) => number,
  t: number,
  y: number,
  h: number,
): { y: number; yHat?: number } {
  const out = rkStep(
    float64Algebra,
    tableau,
    (ts, ys) => Float64Array.of(f(ts, ys[0]!)),
    t,
    Float64Array.of(y),
    h,
    { fsal: false },
  );
  const res: { y: number; yHat?: number } = { y: out.y1[0]! };
  if (tableau.bHat) {
    let yHat = y;
    // recompute the stages once more for the embedded weights (reference helper: clarity over speed)
    const k: number[] = [];
    for (let i = 0; i < tableau.b.length; i++) {
      let yi = y;
      for (let j = 0; j < i; j++) yi += h * tableau.a[i]![j]! * k[j]!;
      k.push(f(t + tableau.c[i]! * h, yi));
    }
    for (let i = 0; i < k.length; i++) yHat += h * tableau.bHat[i]! * k[i]!;
    res.yHat = yHat;
  }
  return res;
}

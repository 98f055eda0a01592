/**
 * The explicit Runge–Kutta stepper and step-size controller, written once over a small algebra so the same
 * code integrates batched tfjs tensors (runtime-tfjs), emits ONNX graph nodes (runtime-onnx, fixed steps)
 * and computes in float64 (reference checks, `float64.ts`). See docs/algorithms.md#runge-kutta.
 */
import { OdemorError } from '../errors.js';
import type { ButcherTableau, SolveStats, Solver, SolverAlgebra, StepContext, StepOutput } from '../extension-points.js';
import { isFsal } from './tableau.js';

/** The algebra of a state representation `T` (see {@link SolverAlgebra}); the old name, kept. */
export type RkAlgebra<T> = SolverAlgebra<T>;

/** Already-validated options of one integration. */
export interface DriverOptions<T> {
  t0: number;
  t1: number;
  dt: number;
  adaptive: boolean;
  rtol: number;
  atol: number;
  maxSteps: number;
  saveEvery?: number;
  /** f(t, y), with the input sampled and the shape checked by the caller */
  f: (t: number, y: T) => T;
  /** called once per accepted step with the state after the step */
  onStep?: (t: number, h: number, index: number, state: T) => void;
  /** solver name, for messages */
  name: string;
  /** a step program replacing the Runge–Kutta step of the tableau (see `Solver.step`) */
  step?: Solver['step'];
}

export interface DriverResult<T> {
  y: T;
  states?: T[];
  times?: number[];
  stats: SolveStats;
}

/** Fixed-step count: `ceil((t1 - t0)/dt - 1e-9)`, the last step shortened to land on t1. */
export function fixedStepCount(t0: number, t1: number, dt: number): number {
  return Math.max(0, Math.ceil((t1 - t0) / dt - 1e-9));
}

/** Validate the scalar options shared by every solve; ARGUMENT errors name the value at fault. */
export function validateSolveOptions(
  name: string,
  o: { t0: unknown; t1: unknown; dt: unknown; rtol?: unknown; atol?: unknown; saveEvery?: unknown; maxSteps?: unknown },
): void {
  const bad = (msg: string) => new OdemorError('ARGUMENT', `solver '${name}': ${msg}`);
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!isNum(o.t0)) throw bad(`t0 must be a finite number, got ${String(o.t0)}`);
  if (!isNum(o.t1)) throw bad(`t1 must be a finite number, got ${String(o.t1)}`);
  if (o.t1 < o.t0) throw bad(`t1 (${o.t1}) must not be before t0 (${o.t0}); backward integration is not supported`);
  if (!isNum(o.dt) || o.dt <= 0) throw bad(`dt must be a finite number > 0, got ${String(o.dt)}`);
  for (const key of ['rtol', 'atol'] as const) {
    const v = o[key];
    if (v !== undefined && (!isNum(v) || v <= 0)) throw bad(`${key} must be a finite number > 0, got ${String(v)}`);
  }
  if (o.saveEvery !== undefined && !(Number.isInteger(o.saveEvery) && (o.saveEvery as number) >= 1)) {
    throw bad(`saveEvery must be an integer >= 1, got ${String(o.saveEvery)}`);
  }
  if (o.maxSteps !== undefined && !(Number.isInteger(o.maxSteps) && (o.maxSteps as number) >= 1)) {
    throw bad(`maxSteps must be an integer >= 1, got ${String(o.maxSteps)}`);
  }
}

/** One Runge–Kutta step from (t, y) with size h. `k1`, when given, is f(t, y) (not evaluated again). */
export function rkStep<T>(
  alg: RkAlgebra<T>,
  tableau: ButcherTableau,
  f: (t: number, y: T) => T,
  t: number,
  y: T,
  h: number,
  options: StepContext<T>,
): StepOutput<T> {
  const { a, b, c } = tableau;
  const s = b.length;
  const k: T[] = [];
  let yLast: T | undefined;
  for (let i = 0; i < s; i++) {
    if (i === 0 && options.k1 !== undefined) {
      k.push(options.k1);
      continue;
    }
    const yi = i === 0 ? y : alg.axpy(y, a[i]!.slice(0, i).map((v) => v * h), k);
    if (i === s - 1) yLast = yi;
    options.onEval?.();
    k.push(f(t + c[i]! * h, yi));
  }
  // For FSAL methods the last stage's state is the new solution.
  const y1 = options.fsal && yLast !== undefined ? yLast : alg.axpy(y, b.map((v) => v * h), k);
  const out: StepOutput<T> = { y1 };
  // a copy: the rhs may have returned a tensor the caller owns (a constant, the input), and kLast is freed later
  if (options.fsal) out.kLast = alg.clone(k[s - 1]!);
  if (options.error) {
    const bHat = tableau.bHat!;
    const err = alg.combine(
      b.map((v, j) => (v - bHat[j]!) * h),
      k,
    );
    out.ratio = alg.errorRatio(err, y, y1, options.error.rtol, options.error.atol);
  }
  return out;
}

/**
 * Integrate from t0 to t1. Fixed-step: `fixedStepCount` steps of `dt`, the last one shortened. Adaptive (needs
 * `tableau.bHat`): the first step is `dt`; a step is rejected when the error ratio exceeds 1; the next step is
 * `h · clamp(0.9 · ratio^(−1/(q+1)), 0.2, 10)` with q the lower of the two orders.
 * Never disposes `x0`; frees every intermediate it does not return, also when it throws.
 */
export function integrate<T>(alg: RkAlgebra<T>, tableau: ButcherTableau, x0: T, o: DriverOptions<T>): DriverResult<T> {
  const stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
  const saveEvery = o.saveEvery;
  const states: T[] | undefined = saveEvery ? [] : undefined;
  const times: number[] | undefined = saveEvery ? [] : undefined;
  const result = (y: T): DriverResult<T> => ({ y, ...(states ? { states, times: times! } : {}), stats });

  if (o.t1 === o.t0) {
    if (alg.allFinite(x0) === false) throw nonFiniteX0(o.name);
    return result(alg.clone(x0));
  }
  if (!o.adaptive) {
    // checked before the first step: a tiny dt would otherwise hold millions of states (training, unrolling)
    const steps = fixedStepCount(o.t0, o.t1, o.dt);
    if (steps > o.maxSteps) {
      throw new OdemorError(
        'ARGUMENT',
        `solver '${o.name}': dt ${o.dt} on [${o.t0}, ${o.t1}] means ${steps.toLocaleString('en-US')} steps, above maxSteps (${o.maxSteps}); use a larger dt, or raise maxSteps (model.solver.maxSteps) if so many steps are meant`,
      );
    }
  }

  let y = x0;
  let k1: T | undefined;
  const stepOf = (t: number, yy: T, h: number, c: StepContext<T>): StepOutput<T> =>
    o.step ? o.step(alg, o.f, t, yy, h, c) : rkStep(alg, tableau, o.f, t, yy, h, c);
  const fsal = o.adaptive && isFsal(tableau);
  const onEval = () => {
    stats.nfe++;
  };
  const accept = (t: number, h: number, y1: T, tEnd: number) => {
    if (y !== x0) alg.dispose(y);
    y = y1;
    const index = stats.accepted++;
    o.onStep?.(t, h, index, y);
    if (saveEvery && (index + 1) % saveEvery === 0) {
      states!.push(alg.clone(y));
      times!.push(tEnd);
    }
  };

  try {
    if (!o.adaptive) {
      const n = fixedStepCount(o.t0, o.t1, o.dt);
      for (let i = 0; i < n; i++) {
        const t = o.t0 + i * o.dt;
        const h = i === n - 1 ? o.t1 - t : o.dt;
        const out = alg.scope(() => stepOf(t, y, h, { fsal: false, onEval }));
        accept(t, h, out.y1, i === n - 1 ? o.t1 : t + h);
      }
    } else {
      if (!tableau.bHat) throw new OdemorError('ARGUMENT', `solver '${o.name}': adaptive stepping needs a tableau with bHat`);
      const q = Math.min(tableau.order, tableau.embeddedOrder ?? tableau.order - 1);
      const exponent = -1 / (q + 1);
      const span = o.t1 - o.t0;
      let t = o.t0;
      let h = Math.min(o.dt, span);
      while (t < o.t1) {
        if (stats.accepted + stats.rejected >= o.maxSteps) {
          throw new OdemorError(
            'NUMERIC',
            `solver '${o.name}': maxSteps (${o.maxSteps}) reached at t=${t} before t1=${o.t1} (rtol ${o.rtol}, atol ${o.atol}); loosen the tolerances or raise maxSteps`,
          );
        }
        let last = false;
        if (t + h >= o.t1 - 1e-12 * Math.max(1, Math.abs(o.t1))) {
          h = o.t1 - t;
          last = true;
        }
        if (!(h > 1e-14 * Math.max(1, Math.abs(t)))) {
          throw new OdemorError('NUMERIC', `solver '${o.name}': step size underflow (h=${h}) at t=${t}; the problem may be stiff or non-finite`);
        }
        const tNow = t;
        const hNow = h;
        const yNow = y;
        if (k1 === undefined) {
          // f(t, y) is the first stage of every attempt from this state: evaluate it once, reuse it across
          // rejections (and, for FSAL methods, take it from the last stage of the accepted step)
          onEval();
          k1 = alg.scope(() => ({ y1: alg.clone(o.f(tNow, yNow)) })).y1;
        }
        const kNow = k1;
        const out = alg.scope(() =>
          stepOf(tNow, yNow, hNow, {
            k1: kNow,
            fsal,
            error: { rtol: o.rtol, atol: o.atol },
            onEval,
          }),
        );
        const ratio = out.ratio!;
        if (!Number.isFinite(ratio)) {
          alg.dispose(out.y1);
          if (out.kLast !== undefined) alg.dispose(out.kLast);
          if (stats.accepted === 0 && alg.allFinite(x0) === false) throw nonFiniteX0(o.name);
          throw new OdemorError(
            'ARGUMENT',
            `solver '${o.name}': the state or its error estimate became non-finite (error ratio ${ratio}) in the step from t=${t} with h=${h}; check the right-hand side and the input`,
          );
        }
        const factor = ratio === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * Math.pow(ratio, exponent)));
        if (ratio <= 1) {
          alg.dispose(k1);
          k1 = out.kLast;
          const tEnd = last ? o.t1 : t + h;
          accept(t, h, out.y1, tEnd);
          t = tEnd;
        } else {
          stats.rejected++;
          alg.dispose(out.y1);
          if (out.kLast !== undefined) alg.dispose(out.kLast);
        }
        h *= factor;
      }
    }
    if (k1 !== undefined) {
      alg.dispose(k1);
      k1 = undefined;
    }
    if (alg.allFinite(y) === false) {
      if (alg.allFinite(x0) === false) throw nonFiniteX0(o.name);
      throw new OdemorError(
        'ARGUMENT',
        `solver '${o.name}': the state became non-finite (NaN or Inf) between t0=${o.t0} and t1=${o.t1} after ${stats.accepted} accepted steps (dt=${o.dt}); x0 was finite — reduce dt or check the right-hand side and the input`,
      );
    }
    return result(y);
  } catch (e) {
    if (k1 !== undefined) alg.dispose(k1);
    if (y !== x0) alg.dispose(y);
    for (const s of states ?? []) alg.dispose(s);
    throw e;
  }
}

function nonFiniteX0(name: string): OdemorError {
  return new OdemorError('ARGUMENT', `solver '${name}': x0 contains NaN or an infinite value`);
}

/** Defaults of the adaptive controller. */
export const RK_DEFAULTS = Object.freeze({ rtol: 1e-6, atol: 1e-9, maxSteps: 100_000 });

/** Options of {@link solveWith}: one integration, in the runtime's state type `T` and input type `U`. */
export interface SolveWithOptions<T, U = T> {
  t0: number;
  t1: number;
  /** step size (fixed-step solvers), initial step (adaptive) */
  dt: number;
  /** time-dependent input u(t), sampled at every stage time `t + c_i h` */
  input?: (t: number) => U | undefined;
  /** tolerances and step limit (adaptive); default the solver's, else {@link RK_DEFAULTS} */
  rtol?: number;
  atol?: number;
  maxSteps?: number;
  /** keep the state after every `saveEvery`-th accepted step */
  saveEvery?: number;
  /** called once per accepted step with the state after the step */
  onStep?: (t: number, h: number, index: number, state: T) => void;
}

/**
 * Integrate `y' = f(t, y, u(t))` with `solver` over the runtime algebra `alg`: the one place that validates
 * the options, samples the input at each stage time, counts and shortens steps and runs the adaptive
 * controller (through {@link integrate}). Every runtime calls this; a solver is its tableau or step program.
 */
export function solveWith<T, U = T>(
  alg: SolverAlgebra<T>,
  solver: Solver,
  f: (t: number, y: T, u: U | undefined) => T,
  x0: T,
  options: SolveWithOptions<T, U>,
): DriverResult<T> {
  validateSolveOptions(solver.name, options);
  if (!solver.tableau && !solver.step) throw new OdemorError('ARGUMENT', `solver '${solver.name}' has neither a tableau nor a step program`);
  const input = options.input;
  return integrate(alg, solver.tableau ?? { a: [[0]], b: [1], c: [0], order: solver.order }, x0, {
    t0: options.t0,
    t1: options.t1,
    dt: options.dt,
    adaptive: solver.adaptive,
    rtol: options.rtol ?? solver.rtol ?? RK_DEFAULTS.rtol,
    atol: options.atol ?? solver.atol ?? RK_DEFAULTS.atol,
    maxSteps: options.maxSteps ?? solver.maxSteps ?? RK_DEFAULTS.maxSteps,
    ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
    f: input ? (t, y) => f(t, y, input(t)) : (t, y) => f(t, y, undefined),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(solver.step ? { step: solver.step.bind(solver) } : {}),
    name: solver.name,
  });
}

/**
 * Index of the sequence element fed as u(t) to a sequence model: `floor((t − t0)/stepDuration)`, clamped to
 * [0, steps − 1]. A tolerance of 1e-9 (in units of stepDuration) makes stage times that land on a boundary up
 * to rounding pick the later element. Shared by every runtime.
 */
export function sequenceIndex(t: number, t0: number, stepDuration: number, steps: number): number {
  const j = Math.floor((t - t0) / stepDuration + 1e-9);
  return Math.min(steps - 1, Math.max(0, j));
}

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
  /** exact time derivatives of the solution, handed to every step (`StepContext.derivatives`; Taylor methods) */
  derivatives?: StepContext<T>['derivatives'];
  /** the learned midpoint scale, handed to every step (`StepContext.midpoint`; Taylor-Lagrange) */
  midpoint?: StepContext<T>['midpoint'];
  /**
   * receives the remainder term of every accepted step that returns one (`StepOutput.remainder`), and owns it
   * (must free it); without it the loop frees remainders
   */
  onRemainder?: (remainder: T, t: number, h: number) => void;
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

/** A right-hand-side evaluation a step program asks for: `f(t, y)`. */
interface StageRequest<T> {
  t: number;
  y: T;
}

/**
 * The Runge–Kutta step as a generator: it yields the stage evaluations `f(t + c_i h, y_i)` and receives their
 * values, so the same code runs with a synchronous ({@link rkStep}) or an asynchronous ({@link rkStepAsync})
 * right-hand side.
 */
function* rkStepProgram<T>(alg: RkAlgebra<T>, tableau: ButcherTableau, t: number, y: T, h: number, options: StepContext<T>): Generator<StageRequest<T>, StepOutput<T>, T> {
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
    k.push(yield { t: t + c[i]! * h, y: yi });
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

/** Run a generator to its end, answering each request with `answer` (errors are thrown into the generator). */
function runSync<Q, A, R>(gen: Generator<Q, R, A>, answer: (q: Q) => A): R {
  let res = gen.next();
  while (!res.done) {
    let value: A;
    try {
      value = answer(res.value);
    } catch (e) {
      res = gen.throw(e);
      continue;
    }
    res = gen.next(value);
  }
  return res.value;
}

/** {@link runSync} with an asynchronous `answer`. */
async function runAsync<Q, A, R>(gen: Generator<Q, R, A>, answer: (q: Q) => A | Promise<A>): Promise<R> {
  let res = gen.next();
  while (!res.done) {
    let value: A;
    try {
      value = await answer(res.value);
    } catch (e) {
      res = gen.throw(e);
      continue;
    }
    res = gen.next(value);
  }
  return res.value;
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
  return runSync(rkStepProgram(alg, tableau, t, y, h, options), (q) => f(q.t, q.y));
}

/**
 * {@link rkStep} with an asynchronous right-hand side (the same stages, weights and error ratio). No `scope` is
 * opened: the stage values are left to the garbage collector, so it suits values that need no explicit freeing.
 */
export function rkStepAsync<T>(
  alg: RkAlgebra<T>,
  tableau: ButcherTableau,
  f: (t: number, y: T) => T | Promise<T>,
  t: number,
  y: T,
  h: number,
  options: StepContext<T>,
): Promise<StepOutput<T>> {
  return runAsync(rkStepProgram(alg, tableau, t, y, h, options), (q) => f(q.t, q.y));
}

/**
 * Integrate from t0 to t1. Fixed-step: `fixedStepCount` steps of `dt`, the last one shortened. Adaptive (needs
 * `tableau.bHat`): the first step is `dt`; a step is rejected when the error ratio exceeds 1; the next step is
 * `h · clamp(0.9 · ratio^(−1/(q+1)), 0.2, 10)` with q the lower of the two orders ({@link AdaptiveController}).
 * Never disposes `x0`; frees every intermediate it does not return, also when it throws. Each evaluation of
 * f(t, y) and each step runs in `alg.scope`.
 */
export function integrate<T>(alg: RkAlgebra<T>, tableau: ButcherTableau, x0: T, o: DriverOptions<T>): DriverResult<T> {
  const stepOf = (t: number, yy: T, h: number, c: StepContext<T>): StepOutput<T> =>
    o.step ? o.step(alg, o.f, t, yy, h, c) : rkStep(alg, tableau, o.f, t, yy, h, c);
  return runSync(integrateProgram(alg, tableau, x0, o), (q): T | StepOutput<T> =>
    q.kind === 'rhs' ? alg.scope(() => ({ y1: alg.clone(o.f(q.t, q.y)) })).y1 : alg.scope(() => stepOf(q.t, q.y, q.h, q.context)),
  );
}

/** Options of {@link integrateAsync}: those of {@link DriverOptions}, with a right-hand side and a step that may be asynchronous. */
export interface AsyncDriverOptions<T> extends Omit<DriverOptions<T>, 'f' | 'step'> {
  /** f(t, y), possibly asynchronous (a session run, a worker) */
  f: (t: number, y: T) => T | Promise<T>;
  /**
   * One step attempt from (t, y) with size h, replacing the tableau's Runge–Kutta step ({@link rkStepAsync}):
   * it must honour the context as `rkStep` does — use `context.k1` as the first stage, call `context.onEval`
   * once per evaluation it makes, return `kLast` when `context.fsal` and the error ratio when `context.error`.
   * A runtime that computes the whole step elsewhere (an ONNX step graph) supplies this.
   */
  step?: (t: number, y: T, h: number, context: StepContext<T>) => StepOutput<T> | Promise<StepOutput<T>>;
}

/**
 * {@link integrate} with an asynchronous right-hand side or step: the same loop — step counts, last-step
 * shortening, the adaptive controller ({@link AdaptiveController}), FSAL reuse, NFE counting, `saveEvery`,
 * `onStep`, non-finite checks and errors — so for the same values it gives the same steps and results (the
 * float64 results are bit-identical). Unlike `integrate` it opens no `alg.scope` (a scope cannot span an
 * `await`): intermediates of the default step are left to the garbage collector and the states the loop owns
 * are freed with `alg.dispose`, so it suits values such as typed arrays or onnxruntime tensors.
 * docs/algorithms.md#runge-kutta.
 */
export function integrateAsync<T>(alg: RkAlgebra<T>, tableau: ButcherTableau, x0: T, o: AsyncDriverOptions<T>): Promise<DriverResult<T>> {
  const step = o.step;
  return runAsync(integrateProgram(alg, tableau, x0, o), async (q): Promise<T | StepOutput<T>> =>
    q.kind === 'rhs' ? alg.clone(await o.f(q.t, q.y)) : step ? step(q.t, q.y, q.h, q.context) : rkStepAsync(alg, tableau, o.f, q.t, q.y, q.h, q.context),
  );
}

/**
 * What the integration loop asks its runner for: `rhs` — a copy of `f(t, y)` (the first stage, counted by the
 * loop); `step` — one step attempt (the tableau's Runge–Kutta step or the solver's step program).
 */
type DriverRequest<T> = { kind: 'rhs'; t: number; y: T } | { kind: 'step'; t: number; y: T; h: number; context: StepContext<T> };

/**
 * The integration loop, once for {@link integrate} and {@link integrateAsync}: it yields the evaluations and
 * steps and receives their values; the runners only compute them (in a `scope`, synchronously, or awaited).
 */
function* integrateProgram<T>(
  alg: RkAlgebra<T>,
  tableau: ButcherTableau,
  x0: T,
  o: Omit<DriverOptions<T>, 'f' | 'step'>,
): Generator<DriverRequest<T>, DriverResult<T>, T | StepOutput<T>> {
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
  const fsal = o.adaptive && isFsal(tableau);
  const onEval = () => {
    stats.nfe++;
  };
  const extra: Pick<StepContext<T>, 'derivatives' | 'midpoint'> = {
    ...(o.derivatives ? { derivatives: o.derivatives } : {}),
    ...(o.midpoint ? { midpoint: o.midpoint } : {}),
  };
  const takeRemainder = (out: StepOutput<T>, t: number, h: number) => {
    if (out.remainder === undefined) return;
    if (o.onRemainder) o.onRemainder(out.remainder, t, h);
    else alg.dispose(out.remainder);
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
        const out = (yield { kind: 'step', t, y, h, context: { fsal: false, onEval, ...extra } }) as StepOutput<T>;
        takeRemainder(out, t, h);
        accept(t, h, out.y1, i === n - 1 ? o.t1 : t + h);
      }
    } else {
      const ctl = new AdaptiveController(tableau, o);
      while (!ctl.done) {
        const { t: tNow, h: hNow } = ctl.propose();
        const yNow = y;
        if (k1 === undefined) {
          // f(t, y) is the first stage of every attempt from this state: evaluate it once, reuse it across
          // rejections (and, for FSAL methods, take it from the last stage of the accepted step)
          onEval();
          k1 = (yield { kind: 'rhs', t: tNow, y: yNow }) as T;
        }
        const kNow = k1;
        const out = (yield {
          kind: 'step',
          t: tNow,
          y: yNow,
          h: hNow,
          context: { k1: kNow, fsal, error: { rtol: o.rtol, atol: o.atol }, onEval, ...extra },
        }) as StepOutput<T>;
        const ratio = out.ratio!;
        if (!Number.isFinite(ratio)) {
          alg.dispose(out.y1);
          if (out.kLast !== undefined) alg.dispose(out.kLast);
          if (stats.accepted === 0 && alg.allFinite(x0) === false) throw nonFiniteX0(o.name);
          throw ctl.nonFiniteError(ratio);
        }
        const d = ctl.settle(ratio);
        if (d.accept) {
          alg.dispose(k1);
          k1 = out.kLast;
          takeRemainder(out, tNow, hNow);
          accept(tNow, hNow, out.y1, d.tNext);
        } else {
          stats.rejected++;
          alg.dispose(out.y1);
          if (out.kLast !== undefined) alg.dispose(out.kLast);
          if (out.remainder !== undefined) alg.dispose(out.remainder);
        }
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

// ───────────────────────────── the adaptive controller ─────────────────────────────

/**
 * Exponent of the step-size factor, `−1/(q+1)` with `q = min(order, embeddedOrder ?? order − 1)` (Dopri5: `−1/5`).
 * Pure; see docs/algorithms.md#adaptive.
 */
export function adaptiveExponent(tableau: Pick<ButcherTableau, 'order' | 'embeddedOrder'>): number {
  const q = Math.min(tableau.order, tableau.embeddedOrder ?? tableau.order - 1);
  return -1 / (q + 1);
}

/** One entry of the scaled error, `e / (atol + rtol · max(|y0|, |y1|))`, as every algebra's `errorRatio` takes it. */
export function scaledError(e: number, y0: number, y1: number, rtol: number, atol: number): number {
  return e / (atol + rtol * Math.max(Math.abs(y0), Math.abs(y1)));
}

/**
 * The error ratio from the sum of the squared scaled errors over `count` entries (all samples of the batch and all
 * components): `sqrt(sumSquares / max(1, count))`, the RMS of {@link scaledError}. A runtime that reduces the
 * squares elsewhere (the ONNX step graph returns one sum per sample) finishes the ratio with this.
 */
export function errorRatioFromSquares(sumSquares: number, count: number): number {
  return Math.sqrt(sumSquares / Math.max(1, count));
}

/** The step-size factor after an error ratio: 10 when the ratio is 0, else `min(10, max(0.2, 0.9 · ratio^exponent))`. */
export function stepFactor(ratio: number, exponent: number): number {
  return ratio === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * Math.pow(ratio, exponent)));
}

/**
 * The step to attempt from `t` with the proposed size `h`: the rest of the interval, `t1 − t`, flagged `last`,
 * when `t + h` reaches `t1 − 1e-12·max(1, |t1|)`; else `h` unchanged.
 */
export function landStep(t: number, h: number, t1: number): { h: number; last: boolean } {
  if (t + h >= t1 - 1e-12 * Math.max(1, Math.abs(t1))) return { h: t1 - t, last: true };
  return { h, last: false };
}

/** What {@link nextStep} decides about one step attempt. */
export interface StepDecision {
  /** ratio ≤ 1 */
  accept: boolean;
  /** the step-size factor ({@link stepFactor}) */
  factor: number;
  /** the next step size to propose, `h · factor` (after an acceptance and after a rejection alike) */
  hNext: number;
  /** the time after the attempt: `t1` exactly after an accepted last step, `t + h` after another accepted step, `t` after a rejection */
  tNext: number;
}

/**
 * The controller's decision on an attempt from `t` with size `h` (`last`: the attempt lands on `t1`) and finite
 * error ratio `ratio`: accept when `ratio ≤ 1`; the next size is `h · stepFactor(ratio, exponent)` either way.
 * Pure: no state, no counting (see {@link AdaptiveController} for the loop's bookkeeping).
 */
export function nextStep(s: { ratio: number; t: number; h: number; last: boolean; t1: number; exponent: number }): StepDecision {
  const factor = stepFactor(s.ratio, s.exponent);
  const accept = s.ratio <= 1;
  return { accept, factor, hNext: s.h * factor, tNext: accept ? (s.last ? s.t1 : s.t + s.h) : s.t };
}

/** Options of an {@link AdaptiveController}: the interval, the first trial step, the tolerances (for messages) and the step limit. */
export interface AdaptiveControllerOptions {
  t0: number;
  t1: number;
  /** first trial step; the first attempt is `min(dt, t1 − t0)` */
  dt: number;
  rtol: number;
  atol: number;
  /** most attempts (accepted + rejected) */
  maxSteps: number;
  /** solver name, for messages */
  name: string;
}

/** One attempt the controller asks for: from `t` with size `h`; `last` when it lands on `t1`. */
export interface StepAttempt {
  t: number;
  h: number;
  last: boolean;
}

/**
 * The adaptive step-size controller of every runtime (docs/algorithms.md#adaptive), separate from how a step is
 * computed: `integrate`, `integrateAsync` and the ONNX runtime's step-graph loop all drive it the same way —
 *
 * ```ts
 * const c = new AdaptiveController(tableau, { t0, t1, dt, rtol, atol, maxSteps, name });
 * while (!c.done) {
 *   const { t, h } = c.propose(); // maxSteps, landing on t1, step-size underflow
 *   const ratio = …;              // the attempt's error ratio (error ratio of the embedded estimate)
 *   if (c.settle(ratio).accept) … // keep the new state; c.t is now the end of the step
 * }
 * ```
 *
 * `propose` throws NUMERIC errors (maxSteps reached, step size underflow); `settle` throws an ARGUMENT error for
 * a non-finite ratio. The decisions are the pure functions {@link landStep} and {@link nextStep}.
 */
export class AdaptiveController {
  /** start of the next attempt (the end of the last accepted step) */
  t: number;
  /** size proposed for the next attempt (before landing on t1) */
  h: number;
  accepted = 0;
  rejected = 0;
  readonly exponent: number;
  private attempt: StepAttempt | undefined;

  constructor(
    tableau: ButcherTableau,
    private readonly o: AdaptiveControllerOptions,
  ) {
    if (!tableau.bHat) throw new OdemorError('ARGUMENT', `solver '${o.name}': adaptive stepping needs a tableau with bHat`);
    this.exponent = adaptiveExponent(tableau);
    this.t = o.t0;
    this.h = Math.min(o.dt, o.t1 - o.t0);
  }

  /** true once `t` reached `t1` */
  get done(): boolean {
    return !(this.t < this.o.t1);
  }

  /** The next attempt: NUMERIC errors when maxSteps attempts were made or the step size underflows. */
  propose(): StepAttempt {
    const o = this.o;
    if (this.accepted + this.rejected >= o.maxSteps) {
      throw new OdemorError(
        'NUMERIC',
        `solver '${o.name}': maxSteps (${o.maxSteps}) reached at t=${this.t} before t1=${o.t1} (rtol ${o.rtol}, atol ${o.atol}); loosen the tolerances or raise maxSteps`,
      );
    }
    const { h, last } = landStep(this.t, this.h, o.t1);
    this.h = h;
    if (!(h > 1e-14 * Math.max(1, Math.abs(this.t)))) {
      throw new OdemorError('NUMERIC', `solver '${o.name}': step size underflow (h=${h}) at t=${this.t}; the problem may be stiff or non-finite`);
    }
    return (this.attempt = { t: this.t, h, last });
  }

  /** The ARGUMENT error of a non-finite error ratio in the current attempt (the caller frees the attempt's values first). */
  nonFiniteError(ratio: number): OdemorError {
    return new OdemorError(
      'ARGUMENT',
      `solver '${this.o.name}': the state or its error estimate became non-finite (error ratio ${ratio}) in the step from t=${this.t} with h=${this.h}; check the right-hand side and the input`,
    );
  }

  /** Settle the proposed attempt with its error ratio: accept or reject, move `t`, scale `h`; counts both. */
  settle(ratio: number): StepDecision & StepAttempt {
    const a = this.attempt;
    if (!a) throw new OdemorError('RUNTIME', `solver '${this.o.name}': settle() without a proposed step`);
    if (!Number.isFinite(ratio)) throw this.nonFiniteError(ratio);
    this.attempt = undefined;
    const d = nextStep({ ratio, t: a.t, h: a.h, last: a.last, t1: this.o.t1, exponent: this.exponent });
    if (d.accept) this.accepted++;
    else this.rejected++;
    this.t = d.tNext;
    this.h = d.hNext;
    return { ...a, ...d };
  }
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
  /**
   * exact time derivatives of the solution (for a solver that declares `derivatives`; see
   * `StepContext.derivatives`); the callback samples the input u(t) itself
   */
  derivatives?: StepContext<T>['derivatives'];
  /** the midpoint scale of a Taylor-Lagrange step (`StepContext.midpoint`) */
  midpoint?: StepContext<T>['midpoint'];
  /** receives (and owns) the remainder term of every accepted step that has one */
  onRemainder?: DriverOptions<T>['onRemainder'];
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
  if (solver.derivatives && !options.derivatives) {
    throw new OdemorError('ARGUMENT', `solver '${solver.name}' needs time derivatives of the solution up to order ${solver.derivatives} (Jacobian-vector products of the block); this caller provides none`);
  }
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
    ...(options.derivatives ? { derivatives: options.derivatives } : {}),
    ...(options.midpoint ? { midpoint: options.midpoint } : {}),
    ...(options.onRemainder ? { onRemainder: options.onRemainder } : {}),
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

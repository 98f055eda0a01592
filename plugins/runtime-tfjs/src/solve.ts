/**
 * The tfjs algebra of core's solver driver, and the eager, differentiable solve on batched tensors [B, n]
 * that every tfjs code path (forward pass, snapshots, training, the solver conformance kit) integrates with.
 * Step counting, stage times, input sampling and adaptive control are core's `solveWith`
 * (docs/algorithms.md#runge-kutta); only the tensor operations are here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OdemorError, solveWith, type SolveStats, type Solver, type SolverAlgebra, type StepInfo, type StepOutput } from '@odemor/core';

/** The algebra of batched float32 tfjs tensors [B, n]: only tfjs ops, so gradients flow through a solve. */
export const tensorAlgebra: SolverAlgebra<tf.Tensor2D> = {
  scope<R extends StepOutput<tf.Tensor2D>>(fn: () => R): R {
    // tf.tidy keeps the tensors of the returned object (numbers pass through).
    return tf.tidy(fn as () => R & tf.TensorContainer) as R;
  },
  axpy(y, w, k) {
    const terms: tf.Tensor2D[] = [];
    for (let j = 0; j < w.length; j++) if (w[j] !== 0) terms.push(tf.mul(k[j]!, w[j]!));
    if (terms.length === 0) return tf.clone(y);
    return tf.add(y, terms.length === 1 ? terms[0]! : tf.addN(terms));
  },
  combine(w, k) {
    const terms: tf.Tensor2D[] = [];
    for (let j = 0; j < w.length; j++) if (w[j] !== 0) terms.push(tf.mul(k[j]!, w[j]!));
    if (terms.length === 0) return tf.zerosLike(k[0]!);
    return terms.length === 1 ? terms[0]! : tf.addN(terms);
  },
  errorRatio(err, y0, y1, rtol, atol) {
    const r = tf.tidy(() => {
      const scale = tf.add(atol, tf.mul(rtol, tf.maximum(tf.abs(y0), tf.abs(y1))));
      return tf.sqrt(tf.mean(tf.square(tf.div(err, scale))));
    });
    const v = r.dataSync()[0]!;
    r.dispose();
    return v;
  },
  allFinite(y) {
    // 0·x is NaN exactly where x is NaN or ±Inf, so one scalar download checks the whole tensor.
    const s = tf.tidy(() => tf.sum(tf.mul(y, 0)));
    const v = s.dataSync()[0]!;
    s.dispose();
    return Number.isFinite(v);
  },
  clone: (y) => tf.clone(y),
  dispose: (y) => y.dispose(),
  mul: (a, b) => tf.mul(a, b),
};

/** Right-hand side f(t, x, u): batched state `x` [B, n], input `u` [B, p] or undefined. Returns [B, n]. */
export type RhsFn = (t: number, x: tf.Tensor2D, u?: tf.Tensor2D) => tf.Tensor2D;

/** Options of one eager solve ({@link solveTensor}). */
export interface SolveOptions {
  t0: number;
  t1: number;
  /** step size (fixed-step solvers), initial step (adaptive) */
  dt: number;
  /** time-dependent input u(t) [B, p]; evaluated at every stage time */
  input?: (t: number) => tf.Tensor2D | undefined;
  /** relative / absolute tolerance (adaptive solvers); default the solver's */
  rtol?: number;
  atol?: number;
  /** keep the state after every `saveEvery`-th accepted step (1 = every step) in `states` */
  saveEvery?: number;
  /** fired once per accepted step (an experiment's `hooks.step`, or any `SyncHook`) */
  hooks?: { step: { call(info: StepInfo<tf.Tensor2D>): void } };
  /** maximum number of steps (adaptive solvers); default the solver's, else 100000 */
  maxSteps?: number;
  /**
   * exact time derivatives `[x⁽¹⁾, …, x⁽ᵒʳᵈᵉʳ⁾]` of the solution through (t, y), for a solver that declares
   * `derivatives` (Taylor methods); it samples the input itself
   */
  derivatives?: (t: number, y: tf.Tensor2D, order: number) => tf.Tensor2D[];
  /** the Taylor-Lagrange midpoint scale Γ(y) [B, n]; absent: Γ = 0 */
  midpoint?: (t: number, y: tf.Tensor2D) => tf.Tensor2D;
  /** receives (and owns: dispose it) the remainder term of every accepted step that has one */
  onRemainder?: (remainder: tf.Tensor2D, t: number, h: number) => void;
}

export interface SolveResult {
  /** x(t1), [B, n] */
  y: tf.Tensor2D;
  /** states after every `saveEvery`-th accepted step, when asked */
  states?: tf.Tensor2D[];
  /** times of `states` */
  times?: number[];
  stats: SolveStats;
}

/**
 * Integrate from t0 to t1 with `solver` on batched tfjs tensors.
 * - Differentiable (tfjs ops only); never disposes `x0` or what it returns, frees everything else.
 * - Bad arguments throw `OdemorError('ARGUMENT')` naming the value; a state that becomes NaN/Inf is detected
 *   at the end (fixed-step) or at each error estimate (adaptive).
 */
export function solveTensor(solver: Solver, rhs: RhsFn, x0: tf.Tensor2D, options: SolveOptions): SolveResult {
  const name = solver.name;
  if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', `solver '${name}': solve options are required, got ${String(options)}`);
  if (typeof rhs !== 'function') throw new OdemorError('ARGUMENT', `solver '${name}': rhs must be a function, got ${typeof rhs}`);
  if (!x0 || typeof x0 !== 'object' || !Array.isArray((x0 as tf.Tensor).shape)) {
    throw new OdemorError('ARGUMENT', `solver '${name}': x0 must be a tf.Tensor2D [batch, n], got ${describe(x0)}`);
  }
  if (x0.shape.length !== 2) throw new OdemorError('ARGUMENT', `solver '${name}': x0 must have rank 2 [batch, n], got shape [${x0.shape.join(', ')}]`);
  if (x0.isDisposed) throw new OdemorError('ARGUMENT', `solver '${name}': x0 is disposed`);
  if (x0.dtype !== 'float32') throw new OdemorError('ARGUMENT', `solver '${name}': x0 must be float32, got ${x0.dtype}`);
  const [batch, n] = x0.shape;
  const hooks = options.hooks;
  const input = options.input;

  const f = (t: number, y: tf.Tensor2D, u: tf.Tensor2D | undefined): tf.Tensor2D => {
    if (u !== undefined && u !== null && (u.shape.length !== 2 || u.shape[0] !== batch)) {
      throw new OdemorError('ARGUMENT', `solver '${name}': input(${t}) has shape [${u.shape.join(', ')}], expected [${batch}, p]`);
    }
    const out = rhs(t, y, u ?? undefined);
    if (!out || !Array.isArray(out.shape) || out.shape.length !== 2 || out.shape[0] !== batch || out.shape[1] !== n) {
      throw new OdemorError(
        'ARGUMENT',
        `solver '${name}': rhs returned ${out && Array.isArray(out.shape) ? `shape [${out.shape.join(', ')}]` : describe(out)} at t=${t}, expected the state's shape [${batch}, ${n}]`,
      );
    }
    return out;
  };

  return solveWith<tf.Tensor2D, tf.Tensor2D>(tensorAlgebra, solver, f, x0, {
    t0: options.t0,
    t1: options.t1,
    dt: options.dt,
    ...(input ? { input } : {}),
    ...(options.rtol !== undefined ? { rtol: options.rtol } : {}),
    ...(options.atol !== undefined ? { atol: options.atol } : {}),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
    ...(hooks ? { onStep: (t: number, h: number, index: number, state: tf.Tensor2D) => hooks.step.call({ t, h, index, state }) } : {}),
    ...(options.derivatives ? { derivatives: options.derivatives } : {}),
    ...(options.midpoint ? { midpoint: options.midpoint } : {}),
    ...(options.onRemainder ? { onRemainder: options.onRemainder } : {}),
  });
}

/** A solver with an eager tensor `solve` bound to it: what the solver conformance kit and tests call. */
export interface TensorSolver extends Solver {
  solve(rhs: RhsFn, x0: tf.Tensor2D, options: SolveOptions): SolveResult;
}

/** `solver` with `solve(rhs, x0, options)` = {@link solveTensor}(solver, …); the solver's own fields stay readable. */
export function tensorSolver(solver: Solver): TensorSolver {
  return Object.assign(Object.create(solver) as Solver, { solve: (rhs: RhsFn, x0: tf.Tensor2D, o: SolveOptions) => solveTensor(solver, rhs, x0, o) });
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object with keys [${Object.keys(v).join(', ')}]` : typeof v;
}

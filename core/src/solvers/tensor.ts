import * as tf from '@tensorflow/tfjs-core';
import { OdemorError } from '../errors.js';
import type { ButcherTableau, RhsFn, SolveOptions, SolveResult, Solver } from '../extension-points.js';
import { integrate, validateSolveOptions, type RkAlgebra, type StepOutput } from './driver.js';
import { checkTableau } from './tableau.js';

/** The algebra of batched float32 tfjs tensors [B, n]: only tfjs ops, so gradients flow through a solve. */
export const tensorAlgebra: RkAlgebra<tf.Tensor2D> = {
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
};

/** Options of {@link ExplicitRungeKuttaSolver}, taken from a solver factory's options; other keys are ignored. */
export interface RungeKuttaSolverOptions {
  /** relative tolerance of adaptive stepping, default 1e-6 */
  rtol?: number;
  /** absolute tolerance of adaptive stepping, default 1e-9 */
  atol?: number;
  /** most step attempts (accepted + rejected) of adaptive stepping, default 100000 */
  maxSteps?: number;
}

/** Defaults of the adaptive controller. */
export const RK_DEFAULTS = Object.freeze({ rtol: 1e-6, atol: 1e-9, maxSteps: 100_000 });

/**
 * A generic explicit Runge–Kutta solver driven by a {@link ButcherTableau}, on batched tfjs tensors [B, n].
 *
 * - Fixed-step (`adaptive: false`): `ceil((t1 − t0)/dt − 1e-9)` steps, the last one shortened to land on t1.
 * - Adaptive (`adaptive: true`, needs `tableau.bHat`): error ratio = RMS over all batch entries of
 *   `err / (atol + rtol · max(|y0|, |y1|))`, reject when > 1, next step `h · clamp(0.9 · ratio^(−1/(q+1)), 0.2, 10)`
 *   (q = the embedded order); first-same-as-last tableaux reuse their last stage.
 * - The input `u(t)` is sampled at every stage time `t + c_i h`; `hooks.step` fires once per accepted step.
 * - Differentiable (tfjs ops only); never disposes `x0` or what it returns, frees everything else.
 * - Bad arguments throw `OdemorError('ARGUMENT')` naming the value; a state that becomes NaN/Inf is detected
 *   at the end (fixed-step) or at each error estimate (adaptive).
 */
export class ExplicitRungeKuttaSolver implements Solver {
  readonly order: number;
  readonly rtol: number;
  readonly atol: number;
  readonly maxSteps: number;

  constructor(
    readonly name: string,
    readonly tableau: ButcherTableau,
    readonly adaptive: boolean,
    options: RungeKuttaSolverOptions & Record<string, unknown> = {},
  ) {
    checkTableau(tableau, `the tableau of solver '${name}'`);
    if (adaptive && !tableau.bHat) throw new OdemorError('ARGUMENT', `solver '${name}': adaptive stepping needs a tableau with bHat`);
    const opts = options ?? {};
    if (typeof opts !== 'object') throw new OdemorError('ARGUMENT', `solver '${name}': options must be an object, got ${typeof opts}`);
    this.order = tableau.order;
    this.rtol = opts.rtol ?? RK_DEFAULTS.rtol;
    this.atol = opts.atol ?? RK_DEFAULTS.atol;
    this.maxSteps = opts.maxSteps ?? RK_DEFAULTS.maxSteps;
    validateSolveOptions(name, { t0: 0, t1: 1, dt: 1, rtol: this.rtol, atol: this.atol, maxSteps: this.maxSteps });
  }

  solve(rhs: RhsFn, x0: tf.Tensor2D, options: SolveOptions): SolveResult {
    const name = this.name;
    if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', `solver '${name}': solve options are required, got ${String(options)}`);
    if (typeof rhs !== 'function') throw new OdemorError('ARGUMENT', `solver '${name}': rhs must be a function, got ${typeof rhs}`);
    validateSolveOptions(name, options);
    if (!x0 || typeof x0 !== 'object' || !Array.isArray((x0 as tf.Tensor).shape)) {
      throw new OdemorError('ARGUMENT', `solver '${name}': x0 must be a tf.Tensor2D [batch, n], got ${describe(x0)}`);
    }
    if (x0.shape.length !== 2) throw new OdemorError('ARGUMENT', `solver '${name}': x0 must have rank 2 [batch, n], got shape [${x0.shape.join(', ')}]`);
    if (x0.isDisposed) throw new OdemorError('ARGUMENT', `solver '${name}': x0 is disposed`);
    if (x0.dtype !== 'float32') throw new OdemorError('ARGUMENT', `solver '${name}': x0 must be float32, got ${x0.dtype}`);
    const [batch, n] = x0.shape;
    const input = options.input;
    const hooks = options.hooks;

    const f = (t: number, y: tf.Tensor2D): tf.Tensor2D => {
      const u = input?.(t);
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

    const res = integrate(tensorAlgebra, this.tableau, x0, {
      t0: options.t0,
      t1: options.t1,
      dt: options.dt,
      adaptive: this.adaptive,
      rtol: options.rtol ?? this.rtol,
      atol: options.atol ?? this.atol,
      maxSteps: options.maxSteps ?? this.maxSteps,
      ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
      f,
      ...(hooks ? { onStep: (t: number, h: number, index: number, state: tf.Tensor2D) => hooks.step.call({ t, h, index, state }) } : {}),
      name,
    });
    return res;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object with keys [${Object.keys(v).join(', ')}]` : typeof v;
}

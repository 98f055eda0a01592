import { OdemorError } from '../errors.js';
import type { ButcherTableau, Solver } from '../extension-points.js';
import { RK_DEFAULTS, validateSolveOptions } from './driver.js';
import { checkTableau } from './tableau.js';

/** Options of {@link ExplicitRungeKuttaSolver}, taken from a solver factory's options; other keys are ignored. */
export interface RungeKuttaSolverOptions {
  /** relative tolerance of adaptive stepping, default 1e-6 */
  rtol?: number;
  /** absolute tolerance of adaptive stepping, default 1e-9 */
  atol?: number;
  /** most step attempts (accepted + rejected) of adaptive stepping, default 100000 */
  maxSteps?: number;
}

/**
 * A generic explicit Runge–Kutta solver: its {@link ButcherTableau} and controller defaults, nothing tied to a
 * runtime. Every runtime integrates it through core's `solveWith` (tfjs eagerly, onnx by emitting graph
 * nodes, float64 for reference); docs/algorithms.md#runge-kutta states the stepping:
 *
 * - Fixed-step (`adaptive: false`): `ceil((t1 − t0)/dt − 1e-9)` steps, the last one shortened to land on t1.
 * - Adaptive (`adaptive: true`, needs `tableau.bHat`): error ratio = RMS over all batch entries of
 *   `err / (atol + rtol · max(|y0|, |y1|))`, reject when > 1, next step `h · clamp(0.9 · ratio^(−1/(q+1)), 0.2, 10)`
 *   (q = the embedded order); first-same-as-last tableaux reuse their last stage.
 * - The input `u(t)` is sampled at every stage time `t + c_i h`.
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
}

/** True for a runtime-agnostic {@link Solver}: a name and a tableau or a step program. */
export function isSolver(v: unknown): v is Solver {
  const s = v as Partial<Solver> | null | undefined;
  return !!s && typeof s === 'object' && typeof s.name === 'string' && (typeof s.tableau === 'object' || typeof s.step === 'function');
}

import { DOPRI5_TABLEAU as CORE_DOPRI5, ExplicitRungeKuttaSolver, type ButcherTableau, type OdemorPlugin } from '@odemor/core';

/**
 * The Dormand–Prince 5(4) tableau (Dormand & Prince 1980): 7 stages, first same as last, `b` of order 5,
 * embedded `bHat` of order 4 for the error estimate. Core's `DOPRI5_TABLEAU`, re-exported.
 */
export const DOPRI5_TABLEAU: ButcherTableau = CORE_DOPRI5;

/** Factory options of {@link Dopri5Solver}; `SolveOptions` of the same names override them per solve. */
export interface Dopri5Options {
  /** relative tolerance, default 1e-6 */
  rtol?: number;
  /** absolute tolerance, default 1e-9 */
  atol?: number;
  /** most step attempts (accepted + rejected), default 100000 */
  maxSteps?: number;
}

/**
 * Adaptive Dormand–Prince 5(4) as an odemor {@link Solver}. `dt` is the first trial step. Error ratio = RMS over
 * all batch entries of `err / (atol + rtol · max(|y0|, |y1|))`; a step is rejected when it exceeds 1; the next
 * step is `h · clamp(0.9 · ratio^(−1/5), 0.2, 10)`. The last stage is reused as the next first stage (FSAL), so
 * a solve costs `1 + 6 · (accepted + rejected)` right-hand-side evaluations. One CPU sync per step attempt.
 */
export class Dopri5Solver extends ExplicitRungeKuttaSolver {
  constructor(options: Dopri5Options & Record<string, unknown> = {}) {
    super('dopri5', DOPRI5_TABLEAU, true, options);
  }
}

/** The plugin: provides `Solver` 'dopri5'. */
const plugin = {
  name: '@odemor/solver-dopri5',
  register(ctx) {
    ctx.provide('Solver', 'dopri5', (opts) => new Dopri5Solver(opts), 'adaptive Dormand–Prince 5(4)');
  },
} satisfies OdemorPlugin;

export default plugin;

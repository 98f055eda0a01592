import { ExplicitRungeKuttaSolver, freezeTableau, type ButcherTableau, type OdemorPlugin } from '@odemor/core';

/**
 * The Dormand–Prince 5(4) tableau (Dormand & Prince 1980): 7 stages, first same as last, `b` of order 5,
 * embedded `bHat` of order 4 for the error estimate.
 */
export const DOPRI5_TABLEAU: ButcherTableau = freezeTableau({
  a: [
    [0, 0, 0, 0, 0, 0, 0],
    [1 / 5, 0, 0, 0, 0, 0, 0],
    [3 / 40, 9 / 40, 0, 0, 0, 0, 0],
    [44 / 45, -56 / 15, 32 / 9, 0, 0, 0, 0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0, 0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0, 0],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  bHat: [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40],
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  order: 5,
  embeddedOrder: 4,
});

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

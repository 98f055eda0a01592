import { ExplicitRungeKuttaSolver, freezeTableau, type ButcherTableau, type OdemorPlugin } from '@odemor/core';

/** Explicit Euler, `y ← y + h f(t, y)`: one stage, order 1, no embedded method. */
export const EULER_TABLEAU: ButcherTableau = freezeTableau({
  a: [[0]],
  b: [1],
  c: [0],
  order: 1,
});

/**
 * The explicit Euler method as an odemor {@link Solver}: fixed step `dt`, `ceil((t1 − t0)/dt − 1e-9)` steps,
 * the last one shortened to land on t1. Factory options other than the generic ones are ignored.
 */
export class EulerSolver extends ExplicitRungeKuttaSolver {
  constructor(options: Record<string, unknown> = {}) {
    super('euler', EULER_TABLEAU, false, options);
  }
}

/** The plugin: provides `Solver` 'euler'. */
const plugin = {
  name: '@odemor/solver-euler',
  register(ctx) {
    ctx.provide('Solver', 'euler', (opts) => new EulerSolver(opts), 'explicit Euler, fixed step, order 1');
  },
} satisfies OdemorPlugin;

export default plugin;

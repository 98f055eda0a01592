import { ExplicitRungeKuttaSolver, freezeTableau, type ButcherTableau, type OdemorPlugin } from '@odemor/core';

/**
 * The classical fourth-order Runge–Kutta tableau (not the 3/8 rule):
 * `k1 = f(t, y)`, `k2 = f(t + h/2, y + h k1/2)`, `k3 = f(t + h/2, y + h k2/2)`, `k4 = f(t + h, y + h k3)`,
 * `y ← y + h (k1 + 2 k2 + 2 k3 + k4)/6`.
 */
export const RK4_TABLEAU: ButcherTableau = freezeTableau({
  a: [
    [0, 0, 0, 0],
    [1 / 2, 0, 0, 0],
    [0, 1 / 2, 0, 0],
    [0, 0, 1, 0],
  ],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  c: [0, 1 / 2, 1 / 2, 1],
  order: 4,
});

/**
 * Classical RK4 as an odemor {@link Solver}: fixed step `dt`, `ceil((t1 − t0)/dt − 1e-9)` steps, the last one
 * shortened to land on t1; four right-hand-side evaluations per step. Factory options are ignored.
 */
export class Rk4Solver extends ExplicitRungeKuttaSolver {
  constructor(options: Record<string, unknown> = {}) {
    super('rk4', RK4_TABLEAU, false, options);
  }
}

/** The plugin: provides `Solver` 'rk4'. */
const plugin = {
  name: '@odemor/solver-rk4',
  register(ctx) {
    ctx.provide('Solver', 'rk4', (opts) => new Rk4Solver(opts), 'classical RK4');
  },
} satisfies OdemorPlugin;

export default plugin;

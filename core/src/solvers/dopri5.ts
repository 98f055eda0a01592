/**
 * The Dormand–Prince 5(4) tableau (Dormand & Prince 1980), in core because more than the solver plugin needs it:
 * the reference solves of a Taylor-Lagrange trainer's midpoint schedule (both runtimes) and the float64
 * integration of `@odemor/dataset-dynamics`. `@odemor/solver-dopri5` is the solver built on it.
 */
import type { ButcherTableau } from '../extension-points.js';
import { freezeTableau } from './tableau.js';

/** Dormand–Prince 5(4): 7 stages, first same as last, `b` of order 5, embedded `bHat` of order 4 for the error estimate. */
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

/**
 * The Dormand–Prince 5(4) tableau for the trainer's reference solves of the Taylor-Lagrange midpoint schedule (an
 * adaptive solve of the current dynamics on the onnx step loop): core's `DOPRI5_TABLEAU`, the one
 * `@odemor/solver-dopri5` is built on.
 */
export { DOPRI5_TABLEAU as DOPRI5 } from '@odemor/core';

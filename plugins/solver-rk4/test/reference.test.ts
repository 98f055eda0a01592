/**
 * Reference values from docs/algorithms.md#solver-reference (float64), checked on the tableau with the core's float64
 * stepper, and the float32 tensor solver checked against them to float32 accuracy.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, it } from 'vitest';
import { solveTensor } from '@odemor/runtime-tfjs';
import { Experiment, rkSolveFloat64, rkStepScalar, type ButcherTableau } from '@odemor/core';
import plugin, { RK4_TABLEAU, Rk4Solver } from '../src/index.js';

/** Kutta's 3/8 rule: also fourth order, but a different method. */
const THREE_EIGHTHS: ButcherTableau = {
  a: [
    [0, 0, 0, 0],
    [1 / 3, 0, 0, 0],
    [-1 / 3, 1, 0, 0],
    [1, -1, 1, 0],
  ],
  b: [1 / 8, 3 / 8, 3 / 8, 1 / 8],
  c: [0, 1 / 3, 2 / 3, 1],
  order: 4,
};

const grow = (_t: number, y: Float64Array) => [y[0]!];
const gauss = (t: number, y: Float64Array) => [-2 * t * y[0]!];
const RK4_EXP = 2.718279744135166;
const RK4_GAUSS = 0.3678810664257649;
const RULE38_GAUSS = 0.36787870322572763;

describe('rk4 reference values (float64)', () => {
  it("y' = y, h = 0.1 → 2.718279744135166", ({ expect }) => {
    const y = rkSolveFloat64(RK4_TABLEAU, grow, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
    expect(Math.abs(y - RK4_EXP)).toBeLessThan(1e-14);
  });

  it('ten steps of rkStepScalar give the same value', ({ expect }) => {
    let y = 1;
    for (let i = 0; i < 10; i++) y = rkStepScalar(RK4_TABLEAU, (_t, v) => v, i * 0.1, y, 0.1);
    expect(Math.abs(y - RK4_EXP)).toBeLessThan(1e-14);
  });

  it('errors at h = 0.1, 0.05, 0.025 are −2.084e-6, −1.358e-7, −8.666e-9 (order ≈ 4)', ({ expect }) => {
    const published = [-2.084e-6, -1.358e-7, -8.666e-9];
    const errors = [0.1, 0.05, 0.025].map((h) => rkSolveFloat64(RK4_TABLEAU, grow, 1, { t0: 0, t1: 1, dt: h }).y[0]! - Math.E);
    errors.forEach((e, i) => expect(Math.abs(e - published[i]!) / Math.abs(published[i]!)).toBeLessThan(5e-4));
    for (let i = 0; i + 1 < errors.length; i++) expect(Math.abs(Math.log2(errors[i]! / errors[i + 1]!) - 4)).toBeLessThan(0.15);
  });

  it("y' = −2ty, h = 0.1: classical RK4 gives 0.3678810664257649, not the 3/8 rule's 0.36787870322572763", ({ expect }) => {
    const ours = rkSolveFloat64(RK4_TABLEAU, gauss, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
    const rule38 = rkSolveFloat64(THREE_EIGHTHS, gauss, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
    expect(Math.abs(ours - RK4_GAUSS)).toBeLessThan(1e-14);
    expect(Math.abs(rule38 - RULE38_GAUSS)).toBeLessThan(1e-14);
    expect(Math.abs(ours - RULE38_GAUSS)).toBeGreaterThan(1e-6);
  });

  it('the tableau is the classical one from docs/algorithms.md#rk4 and is frozen', ({ expect }) => {
    expect(RK4_TABLEAU.c).toEqual([0, 0.5, 0.5, 1]);
    expect(RK4_TABLEAU.b).toEqual([1 / 6, 1 / 3, 1 / 3, 1 / 6]);
    expect(RK4_TABLEAU.a[1]![0]).toBe(0.5);
    expect(RK4_TABLEAU.a[2]![1]).toBe(0.5);
    expect(RK4_TABLEAU.a[3]![2]).toBe(1);
    expect(Object.isFrozen(RK4_TABLEAU) && Object.isFrozen(RK4_TABLEAU.a[1])).toBe(true);
    expect(new Rk4Solver().tableau).toBe(RK4_TABLEAU);
  });
});

describe('rk4 tensor solver (float32)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const solve = (rhs: (t: number, x: tf.Tensor2D) => tf.Tensor2D) => {
    const x0 = tf.ones([2, 1]) as tf.Tensor2D;
    const res = solveTensor(new Rk4Solver(), rhs, x0, { t0: 0, t1: 1, dt: 0.1 });
    const v = Array.from(res.y.dataSync());
    tf.dispose([x0, res.y]);
    return { v, stats: res.stats };
  };

  it("y' = y, h = 0.1 → 2.718279744135166 to float32 accuracy, with 4 evaluations per step", ({ expect }) => {
    const { v, stats } = solve((_t, x) => tf.clone(x));
    for (const y of v) expect(Math.abs(y - RK4_EXP) / RK4_EXP).toBeLessThan(1e-6);
    expect(stats).toEqual({ nfe: 40, accepted: 10, rejected: 0 });
  });

  it("y' = −2ty, h = 0.1 matches classical RK4 and not the 3/8 rule", ({ expect }) => {
    const { v } = solve((t, x) => tf.mul(x, -2 * t));
    for (const y of v) {
      expect(Math.abs(y - RK4_GAUSS)).toBeLessThan(5e-7);
      expect(Math.abs(y - RULE38_GAUSS)).toBeGreaterThan(1.5e-6);
    }
  });
});

describe('@odemor/solver-rk4 plugin', () => {
  it("provides Solver 'rk4' making Rk4Solver", async ({ expect }) => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/solver-rk4');
    expect(exp.names('Solver')).toEqual(['rk4']);
    const solver = exp.factory('Solver', 'rk4')({ dt: 0.1 });
    expect(solver).toBeInstanceOf(Rk4Solver);
    expect(solver).toMatchObject({ name: 'rk4', order: 4, adaptive: false });
  });
});

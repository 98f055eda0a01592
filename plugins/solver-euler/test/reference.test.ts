/** Reference values from docs/algorithms.md#solver-reference, checked in float64 and on the float32 tensor solver. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, it } from 'vitest';
import { solveTensor } from '@odemor/runtime-tfjs';
import { Experiment, rkSolveFloat64, rkStepScalar } from '@odemor/core';
import plugin, { EULER_TABLEAU, EulerSolver } from '../src/index.js';

const EULER_EXP = 2.5937424601; // 1.1^10

describe('euler reference values', () => {
  it("y' = y, h = 0.1 → 2.5937424601 (float64)", ({ expect }) => {
    const y = rkSolveFloat64(EULER_TABLEAU, (_t, v) => [v[0]!], 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
    expect(Math.abs(y - EULER_EXP)).toBeLessThan(1e-12);
  });

  it('one step is y + h f(t, y)', ({ expect }) => {
    expect(rkStepScalar(EULER_TABLEAU, (t, y) => t * y + 3, 2, 5, 0.25)).toBe(5 + 0.25 * (2 * 5 + 3));
  });

  it("the tensor solver gives 2.5937424601 on y' = y, h = 0.1 to float32 accuracy, one evaluation per step", async ({ expect }) => {
    await tf.setBackend('cpu');
    const x0 = tf.ones([3, 1]) as tf.Tensor2D;
    const res = solveTensor(new EulerSolver(), (_t, x) => tf.clone(x), x0, { t0: 0, t1: 1, dt: 0.1 });
    for (const y of res.y.dataSync()) expect(Math.abs(y - EULER_EXP) / EULER_EXP).toBeLessThan(1e-6);
    expect(res.stats).toEqual({ nfe: 10, accepted: 10, rejected: 0 });
    tf.dispose([x0, res.y]);
  });
});

describe('@odemor/solver-euler plugin', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it("provides Solver 'euler' making EulerSolver", async ({ expect }) => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/solver-euler');
    const solver = exp.factory('Solver', 'euler')();
    expect(solver).toBeInstanceOf(EulerSolver);
    expect(solver).toMatchObject({ name: 'euler', order: 1, adaptive: false });
    expect(solver.tableau).toBe(EULER_TABLEAU);
  });
});

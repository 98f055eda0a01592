/**
 * Dormand–Prince 5(4) against docs/algorithms.md#dopri5: meets rtol 1e-8 on problems with known solutions (float64,
 * the same controller code as the tensor solver), counts evaluations / accepted / rejected steps, and follows
 * the documented step-size rule.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, it } from 'vitest';
import { solveTensor } from '@odemor/runtime-tfjs';
import { Experiment, rkSolveFloat64 } from '@odemor/core';
import plugin, { DOPRI5_TABLEAU, Dopri5Solver } from '../src/index.js';

const PROBLEMS = [
  { label: "y' = y, y(1) = e", f: (_t: number, y: Float64Array) => [y[0]!], exact: Math.E },
  { label: "y' = −2ty, y(1) = e^−1", f: (t: number, y: Float64Array) => [-2 * t * y[0]!], exact: Math.exp(-1) },
];

describe('dopri5 (float64 controller)', () => {
  for (const p of PROBLEMS) {
    it(`meets rtol 1e-8 on ${p.label}, with nfe = 1 + 6·(accepted + rejected)`, ({ expect }) => {
      let steps = 0;
      const res = rkSolveFloat64(DOPRI5_TABLEAU, p.f, 1, {
        t0: 0,
        t1: 1,
        dt: 1,
        adaptive: true,
        rtol: 1e-8,
        atol: 1e-12,
        onStep: () => steps++,
      });
      expect(Math.abs(res.y[0]! - p.exact) / p.exact).toBeLessThan(1e-8);
      expect(res.stats.accepted).toBe(steps);
      // a first step of the whole interval is far too large at rtol 1e-8
      expect(res.stats.rejected).toBeGreaterThan(0);
      // first same as last: 7 stages, 6 new evaluations per attempt after the first
      expect(res.stats.nfe).toBe(1 + 6 * (res.stats.accepted + res.stats.rejected));
    });
  }

  it('grows an easy step by at most 10× and shrinks a rejected one by at most 5×', ({ expect }) => {
    const hs: number[] = [];
    rkSolveFloat64(DOPRI5_TABLEAU, PROBLEMS[0]!.f, 1, { t0: 0, t1: 1, dt: 1e-4, adaptive: true, rtol: 1e-3, atol: 1e-6, onStep: ({ h }) => hs.push(h) });
    expect(hs[0]).toBeCloseTo(1e-4, 15);
    expect(hs[1]! / hs[0]!).toBeCloseTo(10, 12); // ratio ≪ 1 → clamp(0.9·ratio^(−1/5), 0.2, 10) = 10
    const big: number[] = [];
    const res = rkSolveFloat64(DOPRI5_TABLEAU, PROBLEMS[1]!.f, 1, { t0: 0, t1: 10, dt: 10, adaptive: true, rtol: 1e-10, atol: 1e-14, onStep: ({ h }) => big.push(h) });
    // each rejection divides h by at most 5, so after r rejections the first accepted h is ≥ 10 / 5^r
    expect(big[0]!).toBeGreaterThanOrEqual(10 / 5 ** res.stats.rejected - 1e-12);
  });

  it('the tableau has the published Dormand–Prince coefficients', ({ expect }) => {
    expect(DOPRI5_TABLEAU.c).toEqual([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1]);
    expect(DOPRI5_TABLEAU.b).toEqual([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0]);
    expect(DOPRI5_TABLEAU.bHat).toEqual([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40]);
    expect(DOPRI5_TABLEAU.a[6]).toEqual([...DOPRI5_TABLEAU.b]);
    expect([DOPRI5_TABLEAU.order, DOPRI5_TABLEAU.embeddedOrder]).toEqual([5, 4]);
  });
});

describe('dopri5 tensor solver (float32)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const solve = (solver: Dopri5Solver, options: { rtol?: number; atol?: number; maxSteps?: number } = {}) => {
    const x0 = tf.tensor2d([[1], [2]]);
    try {
      const res = solveTensor(solver, (t, x) => tf.mul(x, -2 * t), x0, { t0: 0, t1: 1, dt: 0.1, ...options });
      const v = Array.from(res.y.dataSync());
      res.y.dispose();
      return { v, stats: res.stats };
    } finally {
      x0.dispose();
    }
  };

  it("defaults (rtol 1e-6, atol 1e-9) solve y' = −2ty to float32 accuracy and count their work", ({ expect }) => {
    const { v, stats } = solve(new Dopri5Solver());
    expect(Math.abs(v[0]! - Math.exp(-1))).toBeLessThan(2e-6);
    expect(Math.abs(v[1]! - 2 * Math.exp(-1))).toBeLessThan(4e-6);
    expect(stats.accepted).toBeGreaterThan(1);
    expect(stats.nfe).toBe(1 + 6 * (stats.accepted + stats.rejected));
  });

  it('factory options set the tolerances and SolveOptions override them', ({ expect }) => {
    const loose = solve(new Dopri5Solver({ rtol: 1e-2, atol: 1e-4 }));
    const tight = solve(new Dopri5Solver());
    const overridden = solve(new Dopri5Solver({ rtol: 1e-2, atol: 1e-4 }), { rtol: 1e-6, atol: 1e-9 });
    expect(loose.stats.accepted).toBeLessThan(tight.stats.accepted);
    expect(overridden.stats).toEqual(tight.stats);
  });

  it('rejects bad factory options and stops at maxSteps, naming them', ({ expect }) => {
    expect(() => new Dopri5Solver({ rtol: -1 })).toThrow(/rtol/);
    expect(() => new Dopri5Solver({ atol: 0 })).toThrow(/atol/);
    expect(() => new Dopri5Solver({ maxSteps: 0.5 })).toThrow(/maxSteps/);
    const before = tf.memory().numTensors;
    expect(() => solve(new Dopri5Solver({ maxSteps: 3 }))).toThrow(expect.objectContaining({ code: 'NUMERIC', message: expect.stringMatching(/maxSteps \(3\)/) }));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('@odemor/solver-dopri5 plugin', () => {
  it("provides Solver 'dopri5' making an adaptive Dopri5Solver from the config's options", async ({ expect }) => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/solver-dopri5');
    const solver = exp.factory('Solver', 'dopri5')({ rtol: 1e-4, dt: 0.1 });
    expect(solver).toBeInstanceOf(Dopri5Solver);
    expect(solver).toMatchObject({ name: 'dopri5', order: 5, adaptive: true, rtol: 1e-4, atol: 1e-9, maxSteps: 100000 });
    expect(solver.tableau).toBe(DOPRI5_TABLEAU);
  });
});

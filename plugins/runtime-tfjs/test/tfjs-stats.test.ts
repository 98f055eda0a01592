/** `Executable.lastStats` of the tfjs runtime: the solver counts of the last predict, as core's driver counts them. */
import { describe, expect, it } from 'vitest';
import { ExplicitRungeKuttaSolver, denseNode, type Solver } from '@odemor/core';
import { TfjsRuntime } from '../src/runtime.js';

const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4-test',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);
// Bogacki–Shampine 3(2), adaptive (FSAL)
const bs3: Solver = new ExplicitRungeKuttaSolver(
  'bs3-test',
  {
    a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.75, 0, 0], [2 / 9, 1 / 3, 4 / 9, 0]],
    b: [2 / 9, 1 / 3, 4 / 9, 0],
    bHat: [7 / 24, 1 / 4, 1 / 3, 1 / 8],
    c: [0, 0.5, 0.75, 1],
    order: 3,
  },
  true,
);

const dataset = { inputShape: [2], kind: 'vector' as const, numClasses: 3, trainSize: 1, testSize: 1 };

describe('tfjs executable lastStats', () => {
  it('is undefined before the first predict, then holds the counts of the last solve', async () => {
    const model = denseNode({ hidden: 6 }, { dataset, seed: 4, solver: { use: 'rk4-test', dt: 0.1, t0: 0, t1: 1 } });
    const exe = await new TfjsRuntime({ solver: rk4 }).build(model, { solver: rk4 });
    expect(exe.lastStats).toBeUndefined();
    await exe.predict(new Float32Array(2 * 5).fill(0.3), 5);
    // 10 fixed steps of 4 stages
    expect(exe.lastStats).toMatchObject({ accepted: 10, rejected: 0, nfe: 40 });
    await exe.dispose();
  });

  it('an adaptive solve reports its accepted and rejected steps; tighter tolerances take more', async () => {
    const counts: number[] = [];
    for (const rtol of [1e-3, 1e-6]) {
      const model = denseNode({ hidden: 6, scale: 1.5 }, { dataset, seed: 4, solver: { use: 'bs3-test', dt: 0.1, t0: 0, t1: 1, rtol, atol: rtol * 1e-3 } });
      const exe = await new TfjsRuntime({ solver: bs3 }).build(model, { solver: bs3 });
      await exe.predict(new Float32Array(2 * 4).map((_, i) => i / 8), 4);
      const s = exe.lastStats!;
      expect(s.accepted).toBeGreaterThan(0);
      expect(s.nfe).toBeGreaterThanOrEqual(3 * (s.accepted + s.rejected));
      counts.push(s.accepted);
      await exe.dispose();
    }
    expect(counts[1]!).toBeGreaterThan(counts[0]!);
  });
});

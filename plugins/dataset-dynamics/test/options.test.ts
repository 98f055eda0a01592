import { describe, expect, it } from 'vitest';
import { expectOdemorError } from '@odemor/conformance';
import { dynamicsOptionsSchema, resolveOptions } from '../src/index.js';

/** Options with the problem they must be reported with (key, and value where there is one). */
const bad: [Record<string, unknown>, ...string[]][] = [
  [{ seed: 1, system: 'lorenz' }, 'dataset.system', '"lorenz"', 'van-der-pol'],
  [{ seed: 1, trajectories: 0 }, 'dataset.trajectories', '≥ 1', 'got 0'],
  [{ seed: 1, test: 2.5 }, 'dataset.test'],
  [{ seed: 1, horizon: -1 }, 'dataset.horizon', 'got -1'],
  [{ seed: 1, samples: 0 }, 'dataset.samples', 'got 0'],
  [{ seed: 1, noise: -0.1 }, 'dataset.noise', 'got -0.1'],
  [{ seed: 1, noiseTest: -1 }, 'dataset.noiseTest', 'got -1'],
  [{ seed: 1, mu: -1 }, 'dataset.mu', 'got -1'],
  [{ seed: 1, system: 'pendulum', mu: 2 }, 'dataset.mu', "applies to system 'van-der-pol' only, not to 'pendulum'", 'got 2'],
  [{ seed: 1, system: 'vehicle', lambda1: -10 }, 'dataset.lambda1', "system 'stiff-linear'"],
  [{ seed: 1, inputs: 'smooth' }, 'dataset.inputs', "system 'vehicle'"],
  [{ seed: 1, system: 'vehicle', inputs: 'random' }, 'dataset.inputs', '"random"', 'piecewise'],
  [{ seed: 1, system: 'vehicle', inputDt: 0 }, 'dataset.inputDt', 'got 0'],
  [{ seed: 1, system: 'vehicle', inputDt: 1e-7 }, 'dataset.inputDt', 'input samples'],
  [{ seed: 1, system: 'stiff-linear', lambda1: 5 }, 'dataset.lambda1', 'got 5'],
  [{ seed: 1, system: 'pendulum', method: 'exact' }, 'dataset.method', "system 'stiff-linear'"],
  [{ seed: 1, times: [1, 2], horizon: 2 }, 'dataset.times', 'cannot be combined with horizon or samples'],
  [{ seed: 1, times: [1, 1] }, 'dataset.times[1]', 'increasing'],
  [{ seed: 1, t0: 2, times: [1, 3] }, 'dataset.times[0]', 'after t0 = 2'],
  [{ seed: 1, times: [] }, 'dataset.times'],
  [{ seed: 1, initial: [[0, 1]] }, 'dataset.initial', '2: x1, x2', 'got 1'],
  [{ seed: 1, initial: [[0, 1], [2, 1]] }, 'dataset.initial[1]', 'lo ≤ hi', '[2, 1]'],
  [{ seed: 1, initial: [[0, 1], 'x'] }, 'dataset.initial[1]'],
  [{ seed: 1, system: 'lotka-volterra', initial: [[0, 1], [1, 2]] }, 'dataset.initial[0]', 'positive'],
  [{ seed: 1, system: 'vehicle', initial: [[0, 0], [0, 0], [0, 0], [0, 10], [0, 0], [0, 0]] }, 'dataset.initial[3]', 'minSpeed = 1', '[0, 10]'],
  [{ seed: 1, system: 'vehicle', minSpeed: 6 }, 'dataset.minSpeed', 'initial'],
  [{ seed: 1, rtol: 0 }, 'dataset.rtol', 'got 0'],
  [{ seed: 1.5 }, 'dataset.seed', '1.5'],
  [{ seed: 1, trajectoreis: 10 }, 'dataset.trajectoreis', "did you mean 'trajectories'"],
];

const good: Record<string, unknown>[] = [
  {},
  { seed: 1, baseDir: '/tmp', name: 'x' },
  { seed: 1, system: 'stiff-linear', lambda1: -200, lambda2: 0, method: 'exact', horizon: 1, samples: 5 },
  { seed: 1, system: 'pendulum', g: 1.6, length: 2, damping: 0, noise: 0.1, noiseTest: 0.1 },
  { seed: 1, system: 'lotka-volterra', alpha: 1, beta: 1, gamma: 1, delta: 1, initial: [[0.1, 1], [1, 1]] },
  { seed: 1, system: 'vehicle', mass: 1000, inertia: 1500, lf: 1, lr: 1.2, cf: 5e4, cr: 5e4, minSpeed: 2, inputs: 'piecewise', inputDt: 0.02, steerMax: 0.1, forceMax: 500 },
  { seed: 1, system: 'van-der-pol', mu: 0, t0: -1, times: [-0.5, 0, 3], rtol: 1e-8, atol: 1e-10 },
];

describe('options', () => {
  it.each(bad)('rejects %j naming the key and value', (options, ...messages) => {
    expectOdemorError(expect, () => resolveOptions(options), 'CONFIG', ...messages);
    expect(dynamicsOptionsSchema().safeParse(options).success).toBe(false);
  });

  it.each(good)('accepts %j', (options) => {
    expect(() => resolveOptions(options)).not.toThrow();
    expect(dynamicsOptionsSchema().safeParse(options).success).toBe(true);
  });

  it('fills in the defaults of the system', () => {
    const o = resolveOptions({ seed: 2, system: 'vehicle', forceMax: 700 });
    expect(o.params).toEqual({ mass: 1300, inertia: 2000, lf: 1.1, lr: 1.5, cf: 60000, cr: 70000, minSpeed: 1 });
    expect(o.input).toEqual({ kind: 'smooth', dt: 0.05, steps: 100, amplitude: [0.05, 700] });
    expect(o.times).toHaveLength(50);
    expect(o.times[49]).toBe(5);
    expect(o.initial[3]).toEqual([5, 15]);
    expect(o).toMatchObject({ trajectories: 1000, test: 200, noise: 0, noiseTest: 0, t0: 0, seed: 2, method: 'dopri5' });
    const p = resolveOptions({ system: 'pendulum', damping: 0.3, horizon: 4, samples: 8 });
    expect(p.params).toEqual({ g: 9.81, length: 1, damping: 0.3 });
    expect(p.times).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(p.input).toBeUndefined();
    expect(p.seed).toBe(0);
  });

  it('lists every problem at once', () => {
    expectOdemorError(expect, () => resolveOptions({ seed: 1, mu: -1, noise: -1 }), 'CONFIG', 'dataset.mu', 'dataset.noise');
  });
});

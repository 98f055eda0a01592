import { describe, expect, it } from 'vitest';
import { Experiment, coreModelsPlugin, type DatasetInfo } from '@odemor/core';
import tfjsPlugin from '../src/index.js';

const solver = { use: 'rk4', dt: 0.1, t0: 0, t1: 1 };
const info = (inputShape: number[], kind: DatasetInfo['kind'] = 'vector', numClasses = 10): DatasetInfo => ({ inputShape, kind, numClasses, trainSize: 10, testSize: 10 });

describe('the runtime-tfjs plugin', () => {
  it('with the core plugin: the models and the tfjs runtime', async () => {
    const exp = new Experiment();
    await exp.use(coreModelsPlugin);
    await exp.use(tfjsPlugin);
    expect(exp.names('Model').sort()).toEqual(['conv-node', 'dense-node', 'mlp-node', 'ode-rnn']);
    expect(exp.names('Runtime')).toEqual(['tfjs']);
    const rt = await exp.factory('Runtime', 'tfjs')({});
    expect(rt.name).toBe('tfjs');
    expect(rt.version).toMatch(/^tfjs-core \d+\.\d+\.\d+/);
    const m = exp.factory('Model', 'dense-node')({ hidden: 4 }, { dataset: info([2], 'vector', 2), seed: 1, solver });
    expect(rt.supports(m)).toEqual({ ok: true });
    expect(rt.supports({ ...m, outputs: 3 }).ok).toBe(false);
    // a trajectory mlp-node with an input signal (state input, readout) runs on tfjs
    const trajectory: DatasetInfo = { ...info([2], 'trajectory', 0), task: 'regression', times: [0.5, 1], t0: 0, signal: { steps: 10, channels: 1, dt: 0.1 } };
    const mlp = exp.factory('Model', 'mlp-node')({ hidden: 4 }, { dataset: trajectory, seed: 1, solver });
    expect(rt.supports(mlp)).toEqual({ ok: true });
  });

  it("provides Trainer 'backprop-tfjs' with an option schema", async () => {
    const exp = new Experiment();
    await exp.use(tfjsPlugin);
    expect(exp.names('Trainer')).toEqual(['backprop-tfjs']);
    expect(exp.factory('Trainer', 'backprop-tfjs')({}).name).toBe('backprop-tfjs');
    const schema = exp.provision('Trainer', 'backprop-tfjs')!.options!;
    expect(schema.safeParse({ backend: 'wasm' }).success).toBe(true);
    expect(schema.safeParse({ backnd: 'wasm' }).success).toBe(false);
    expect(schema.safeParse({ remainderWeight: 0.1 }).success).toBe(true);
    expect(schema.safeParse({ remainderWeight: -1 }).success).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment } from '../src/container.js';
import type { DatasetInfo } from '../src/extension-points.js';
import type { OdeBlock } from '../src/ir/types.js';
import { validateModel } from '../src/ir/validate.js';
import { convNode, denseNode, odeRnn } from '../src/model/builtin.js';
import { listTensors } from '../src/model/params.js';
import { coreModelsPlugin } from '../src/model/plugin.js';
import { createRng, mulberry32 } from '../src/util/rng.js';

const solver = { use: 'rk4', dt: 0.1, t0: 0, t1: 1 };
const info = (inputShape: number[], kind: DatasetInfo['kind'] = 'vector', numClasses = 10): DatasetInfo => ({ inputShape, kind, numClasses, trainSize: 10, testSize: 10 });

describe('seeded RNG', () => {
  it('is deterministic and roughly standard normal', () => {
    expect(Array.from({ length: 3 }, mulberry32(1))).toEqual(Array.from({ length: 3 }, mulberry32(1)));
    const a = createRng(5).normalArray(20000);
    expect(Array.from(createRng(5).normalArray(5))).toEqual(Array.from(a.subarray(0, 5)));
    expect(Array.from(createRng(6).normalArray(5))).not.toEqual(Array.from(a.subarray(0, 5)));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const varr = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(varr - 1)).toBeLessThan(0.05);
    const arr = createRng(3).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('built-in models', () => {
  it("conv-node matches the paper's sizes: 28×28 → n = 1024 for 16 channels", () => {
    const m = convNode({}, { dataset: info([28, 28, 1], 'image'), seed: 1, solver });
    validateModel(m);
    expect(m.block.n).toBe(1024);
    const A = (m.block as OdeBlock).A;
    expect(A).toMatchObject({ type: 'conv', height: 8, width: 8, channels: 16 });
    expect(m.post.map((l) => l.type)).toEqual(['maxpool2d', 'flatten', 'relu', 'dense']);
    expect((m.post[3] as { weight: { shape: number[] } }).weight.shape).toEqual([10, 3 * 3 * 16]);
    expect(m.outputs).toBe(10);
  });

  it('dense-node and ode-rnn have the requested structure', () => {
    const d = denseNode({ hidden: 12, activation: 'relu', antisymmetric: { gamma: 0.05 } }, { dataset: info([28, 28]), seed: 2, solver });
    validateModel(d);
    expect(d.pre[0]!.type).toBe('flatten');
    expect((d.block as OdeBlock).A).toMatchObject({ type: 'antisymmetric', gamma: 0.05 });
    expect((d.block as OdeBlock).activation).toBe('relu');
    const r = odeRnn({ hidden: 7 }, { dataset: info([5, 3], 'sequence', 4), seed: 2, solver });
    validateModel(r);
    expect(r.pre).toEqual([]);
    expect((r.block as OdeBlock).Z!.shape).toEqual([7, 3]);
    expect((r.block as OdeBlock).A).toMatchObject({ type: 'antisymmetric', gamma: 0.01 });
    expect(r.input).toEqual({ kind: 'sequence', steps: 5, features: 3, stepDuration: 0.2 });
  });

  it('initialisation is seeded: same seed → same weights, other seed → different; A ~ N(0, 1/n)', () => {
    const a = denseNode({ hidden: 64 }, { dataset: info([4]), seed: 3, solver });
    const b = denseNode({ hidden: 64 }, { dataset: info([4]), seed: 3, solver });
    const c = denseNode({ hidden: 64 }, { dataset: info([4]), seed: 4, solver });
    listTensors(a).forEach(({ tensor }, i) => expect(Array.from(listTensors(b)[i]!.tensor.data)).toEqual(Array.from(tensor.data)));
    expect(Array.from(listTensors(c)[0]!.tensor.data)).not.toEqual(Array.from(listTensors(a)[0]!.tensor.data));
    const A = ((a.block as OdeBlock).A as { weight: { data: Float32Array } }).weight.data;
    const v = A.reduce((s, x) => s + x * x, 0) / A.length;
    expect(v * 64).toBeGreaterThan(0.8);
    expect(v * 64).toBeLessThan(1.2);
  });

  it('rejects bad options with CONFIG errors', () => {
    expect(() => denseNode({ hidden: 0 }, { dataset: info([4]), seed: 1, solver })).toThrow(/hidden/);
    expect(() => denseNode({ activation: 'gelu' }, { dataset: info([4]), seed: 1, solver })).toThrow(/activation/);
    expect(() => convNode({}, { dataset: info([4]), seed: 1, solver })).toThrow(/image/);
    expect(() => odeRnn({}, { dataset: info([4]), seed: 1, solver })).toThrow(/sequence/);
  });

  it('the core plugin provides the models (the tfjs runtime is @odemor/runtime-tfjs)', async () => {
    const exp = new Experiment();
    await exp.use(coreModelsPlugin);
    expect(exp.names('Model').sort()).toEqual(['conv-node', 'dense-node', 'mlp-node', 'ode-rnn']);
    expect(exp.names('Runtime')).toEqual([]);
  });
});

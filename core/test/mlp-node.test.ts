import { describe, expect, it } from 'vitest';
import type { DatasetInfo } from '../src/extension-points.js';
import type { MlpBlock, ModelIR, ReducedBlock } from '../src/ir/types.js';
import { decodeModel, encodeModel } from '../src/ir/io.js';
import { inputShapeOf, inputSignalSize, validateModel } from '../src/ir/validate.js';
import { mlpNode } from '../src/model/builtin.js';
import { listTensors, withTensors } from '../src/model/params.js';
import { blockCost } from '../src/reduce/cost.js';
import { simulateBlock } from '../src/reduce/simulate.js';

const solver = { use: 'rk4', dt: 0.05, t0: 0, t1: 1 };
const trajectoryInfo = (signal?: DatasetInfo['signal']): DatasetInfo => ({
  inputShape: [2],
  kind: 'trajectory',
  numClasses: 0,
  task: 'regression',
  targetShape: [4, 2],
  times: [0.5, 1, 1.5, 2],
  t0: 0,
  ...(signal ? { signal } : {}),
  trainSize: 8,
  testSize: 4,
});

describe("mlp-node: x' = W₂ σ(W₁ x + b₁ + Z u) + b₂", () => {
  it('on a trajectory dataset reads the initial state and reads out the states at the observation times', () => {
    const m = mlpNode({ hidden: 16 }, { dataset: trajectoryInfo(), seed: 3, solver });
    validateModel(m);
    expect(m.input).toEqual({ kind: 'state', size: 2 });
    expect(m.readout).toEqual({ kind: 'trajectory', times: [0.5, 1, 1.5, 2] });
    expect(m.outputs).toBe(8);
    expect(m.solver).toMatchObject({ t0: 0, t1: 2, dt: 0.05, use: 'rk4' });
    const b = m.block as MlpBlock;
    expect(b).toMatchObject({ kind: 'mlp', n: 2, m: 16 });
    expect(b.M.shape).toEqual([16, 2]);
    expect(b.N.shape).toEqual([2, 16]);
    expect(b.Zin).toBeUndefined();
    expect(listTensors(m).map((t) => t.path)).toEqual(['block.M', 'block.c', 'block.N', 'block.bias']);
    expect(inputShapeOf(m)).toEqual([2]);
    // deterministic per seed
    const again = mlpNode({ hidden: 16 }, { dataset: trajectoryInfo(), seed: 3, solver }).block as MlpBlock;
    expect(Array.from(again.M.data)).toEqual(Array.from(b.M.data));
    const other = mlpNode({ hidden: 16 }, { dataset: trajectoryInfo(), seed: 4, solver }).block as MlpBlock;
    expect(Array.from(other.M.data)).not.toEqual(Array.from(b.M.data));
  });

  it('takes the input signal inside σ (Zin) and round-trips through the file format', () => {
    const m = mlpNode({ hidden: 8 }, { dataset: trajectoryInfo({ steps: 40, channels: 2, dt: 0.05 }), seed: 1, solver });
    validateModel(m);
    expect(m.input).toEqual({ kind: 'state', size: 2, signal: { steps: 40, channels: 2, stepDuration: 0.05 } });
    expect(inputSignalSize(m)).toBe(2);
    expect((m.block as MlpBlock).Zin!.shape).toEqual([8, 2]);
    const back = decodeModel(encodeModel(m));
    expect(back.readout).toEqual(m.readout);
    expect(back.input).toEqual(m.input);
    expect(Array.from((back.block as MlpBlock).Zin!.data)).toEqual(Array.from((m.block as MlpBlock).Zin!.data));
    expect(blockCost(m.block)).toMatchObject({ stateDim: 2, activations: 8, params: 2 * 2 * 8 + 8 * 2, biasParams: 8 + 2 });
  });

  it('on a classification dataset: flatten → block on the flattened image → dense to classes', () => {
    const info: DatasetInfo = { inputShape: [4, 4, 1], kind: 'image', numClasses: 3, trainSize: 1, testSize: 1 };
    const m = mlpNode({ hidden: 5 }, { dataset: info, seed: 2, solver });
    validateModel(m);
    expect(m.pre.map((l) => l.type)).toEqual(['flatten']);
    expect(m.block).toMatchObject({ kind: 'mlp', n: 16, m: 5 });
    expect(m.outputs).toBe(3);
    const m2 = mlpNode({ hidden: 5, state: 6 }, { dataset: info, seed: 2, solver });
    expect(m2.pre.map((l) => l.type)).toEqual(['flatten', 'dense']);
    expect(m2.block.n).toBe(6);
  });

  it('rejects bad options and datasets, naming the key', () => {
    expect(() => mlpNode({ hiden: 4 }, { dataset: trajectoryInfo(), seed: 1, solver })).toThrow(/model.hiden: unknown option/);
    expect(() => mlpNode({ state: 4 }, { dataset: trajectoryInfo(), seed: 1, solver })).toThrow(/state is for classification/);
    const seq: DatasetInfo = { inputShape: [5, 2], kind: 'sequence', numClasses: 2, trainSize: 1, testSize: 1 };
    expect(() => mlpNode({}, { dataset: seq, seed: 1, solver })).toThrow(/ode-rnn/);
  });

  it('the validator checks readouts, state inputs and midpoint networks', () => {
    const m = mlpNode({ hidden: 4 }, { dataset: trajectoryInfo(), seed: 1, solver });
    const bad = (patch: Partial<ModelIR>) => () => validateModel({ ...m, ...patch });
    expect(bad({ readout: { kind: 'trajectory', times: [1, 0.5, 2] } })).toThrow(/readout.times\[1\] = 0.5 must be finite and after readout.times\[0\] = 1/);
    expect(bad({ readout: { kind: 'trajectory', times: [0.5, 1] }, outputs: 4 })).toThrow(/readout.times ends at 1 but solver.t1 = 2/);
    expect(bad({ outputs: 7 })).toThrow(/4 times × 2 states gives 8 outputs, but the model has outputs = 7/);
    expect(bad({ input: { kind: 'state', size: 3 } })).toThrow(/input.size = 3/);
    expect(bad({ post: [{ type: 'relu' }] })).toThrow(/post must be empty/);
    const dense = (o: number, i: number) => ({ type: 'dense' as const, weight: { shape: [o, i], data: new Float32Array(o * i) } });
    expect(() => validateModel({ ...m, midpoint: { layers: [dense(8, 2), { type: 'relu' }, dense(2, 8)] } })).not.toThrow();
    expect(bad({ midpoint: { layers: [dense(8, 2)] } })).toThrow(/midpoint layers map \[2\] to \[8\]/);
    const withMid = { ...m, midpoint: { layers: [dense(2, 2)] } };
    expect(listTensors(withMid).map((t) => t.path)).toContain('midpoint.layers.0.weight');
    expect(withTensors(withMid).midpoint!.layers[0]).not.toBe(withMid.midpoint.layers[0]);
  });

  it('simulateBlock integrates the mlp block in float64, and a reduced block with E = D = I, Zin and bias gives the same', () => {
    const m = mlpNode({ hidden: 6 }, { dataset: trajectoryInfo({ steps: 40, channels: 1, dt: 0.05 }), seed: 4, solver });
    const b = m.block as MlpBlock;
    b.bias.data.set([0.3, -0.2]);
    const u = (t: number) => [Math.sin(3 * t)];
    const x0 = [[0.5, -1]];
    const full = simulateBlock(b, x0, { t0: 0, t1: 2, dt: 0.01, input: (t) => u(t) });
    // by hand: one explicit Euler with a tiny step as an independent check of the right-hand side
    const rhs = (t: number, x: number[]) => {
      const h = Array.from({ length: 6 }, (_, i) => Math.tanh(b.M.data[2 * i]! * x[0]! + b.M.data[2 * i + 1]! * x[1]! + b.c.data[i]! + b.Zin!.data[i]! * u(t)[0]!));
      return [0, 1].map((r) => h.reduce((s, v, i) => s + b.N.data[r * 6 + i]! * v, 0) + b.bias.data[r]!);
    };
    let x = [0.5, -1];
    const dt = 1e-4;
    for (let s = 0; s < 20000; s++) {
      const f = rhs(s * dt, x);
      x = x.map((v, i) => v + dt * f[i]!);
    }
    expect(Math.abs(full[0]![0]! - x[0]!)).toBeLessThan(1e-3);
    expect(Math.abs(full[0]![1]! - x[1]!)).toBeLessThan(1e-3);
    const reduced: ReducedBlock = {
      kind: 'reduced', method: 'none', n: 2, k: 2, m: 6,
      E: { type: 'identity', size: 2 }, D: { type: 'identity', size: 2 },
      M: { type: 'dense', weight: b.M }, c: b.c, N: { type: 'dense', weight: b.N }, Zin: b.Zin!, bias: b.bias, activation: 'tanh',
    };
    const red = simulateBlock(reduced, x0, { t0: 0, t1: 2, dt: 0.01, input: (t) => u(t) });
    expect(Array.from(red[0]!)).toEqual(Array.from(full[0]!));
  });
});

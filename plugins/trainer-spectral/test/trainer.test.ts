/**
 * Trainer 'spectral' (SNODE): losses fall on a tiny van der Pol set and the trained model (integrated by rk4 on the
 * tfjs runtime) beats the initial one; a linear system's field is recovered; determinism; options and refusals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplicitRungeKuttaSolver, denseNode, listTensors, loadModel, mlpNode, type Batch, type Dataset, type DatasetInfo, type ModelIR, type Solver } from '@odemor/core';
import { createDynamicsDataset } from '@odemor/dataset-dynamics';
import { TfjsRuntime, blockDerivatives, createParams, disposeParams, initTfjs } from '@odemor/runtime-tfjs';
import plugin, { SpectralTrainer, mlpField, resolveSpectralOptions, type SpectralEpochInfo } from '../src/index.js';

const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);

const vdp = createDynamicsDataset({ seed: 3, system: 'van-der-pol', trajectories: 16, test: 8, samples: 10, horizon: 2 });
const spec = { use: 'rk4', dt: 0.05, t0: 0, t1: 2 };
const fresh = (seed = 5, hidden = 16): ModelIR => mlpNode({ hidden }, { dataset: vdp.info, seed, solver: spec });
const values = (m: ModelIR) => new Map(listTensors(m).map(({ path, tensor }) => [path, Array.from(tensor.data)]));

/** test MSE of a model integrated by rk4 on the tfjs runtime */
async function testMse(model: ModelIR, dataset: Dataset): Promise<number> {
  const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: rk4 });
  let sum = 0;
  let count = 0;
  for await (const b of dataset.batches('test', 64)) {
    const pred = await exe.predict(b.x, b.size, b.u ? { u: b.u } : undefined);
    for (let i = 0; i < pred.length; i++) sum += (pred[i]! - b.targets![i]!) ** 2;
    count += pred.length;
  }
  await exe.dispose();
  return sum / count;
}

/** x' = A x with A = −0.1 I + [[0, 1], [−1, 0]]: x(t) = e^{−0.1 t} R(t) x0, exactly */
function linearDataset(train: number, test: number, samples: number, horizon: number): Dataset {
  const times = Array.from({ length: samples }, (_, i) => ((i + 1) * horizon) / samples);
  const info: DatasetInfo = { inputShape: [2], kind: 'trajectory', numClasses: 0, task: 'regression', targetShape: [samples, 2], times, t0: 0, trainSize: train, testSize: test };
  const make = (count: number, seed: number) => {
    const x = new Float32Array(count * 2);
    const targets = new Float32Array(count * samples * 2);
    let s = seed;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let n = 0; n < count; n++) {
      const a = rand();
      const b = rand();
      x[2 * n] = a;
      x[2 * n + 1] = b;
      times.forEach((t, j) => {
        const e = Math.exp(-0.1 * t);
        targets[(n * samples + j) * 2] = e * (Math.cos(t) * a + Math.sin(t) * b);
        targets[(n * samples + j) * 2 + 1] = e * (-Math.sin(t) * a + Math.cos(t) * b);
      });
    }
    return { x, targets };
  };
  const splits = { train: make(train, 7), test: make(test, 99) };
  return {
    name: 'linear',
    info,
    async *batches(split, size, opts): AsyncIterable<Batch> {
      const data = splits[split as 'train' | 'test'];
      const count = Math.min(opts?.limit ?? Infinity, split === 'train' ? train : test);
      for (let i = 0; i < count; i += size) {
        const k = Math.min(size, count - i);
        yield { x: data.x.slice(2 * i, 2 * (i + k)), y: new Int32Array(0), size: k, targets: data.targets.slice(i * samples * 2, (i + k) * samples * 2) };
      }
    },
  };
}

const base = { epochs: 1, batch: 8, optimizer: 'adam' as const, lr: 0.01, seed: 1 };

beforeAll(async () => {
  await initTfjs('cpu');
});

describe("trainer 'spectral'", () => {
  it('van der Pol: data and residual losses fall; the rk4-integrated trained model beats the initial one', async () => {
    const model = fresh();
    const details: string[] = [];
    const trainer = new SpectralTrainer({ order: 4, elements: 2, lambda: 0.1, innerSteps: { coefficients: 10, weights: 2 }, coefficientLr: 0.01 });
    expect(trainer.supports(model)).toEqual({ ok: true });
    const out = await trainer.train(model, { ...base, epochs: 40, lr: 0.05 }, { dataset: vdp, solver: rk4, phase: 'train', onProgress: (_d, _t, detail) => void details.push(detail ?? '') });
    const h = out.history as SpectralEpochInfo[];
    expect(h).toHaveLength(40);
    expect(details).toHaveLength(40 * 2 * 2);
    expect(details[0]).toMatch(/^epoch 1\/40 residual \d/);
    expect(h.every((e) => Number.isFinite(e.dataLoss) && Number.isFinite(e.residualLoss) && Number.isNaN(e.accuracy))).toBe(true);
    // J and the residual fall; the data loss first rises from the least-squares fit (the series are pulled towards the
    // initial field), then falls below its first epoch's as θ learns
    expect(h[39]!.loss).toBeLessThan(0.1 * h[0]!.loss);
    expect(h[39]!.residualLoss).toBeLessThan(0.05 * h[0]!.residualLoss);
    const peak = Math.max(...h.map((e) => e.dataLoss));
    expect(h[39]!.dataLoss).toBeLessThan(0.25 * peak);
    expect(h[39]!.dataLoss).toBeLessThan(h[0]!.dataLoss);
    expect(h[39]!.loss).toBeCloseTo(h[39]!.dataLoss + 0.1 * h[39]!.residualLoss, 6);
    expect(out.summary).toMatchObject({ epochs: 40, trainer: 'spectral', finalLoss: h[39]!.loss });
    // an ordinary mlp-node model: same structure, trained tensors
    expect(out.model.block.kind).toBe('mlp');
    expect(out.model.readout).toEqual(model.readout);
    expect(values(out.model).get('block.M')).not.toEqual(values(model).get('block.M'));
    const before = await testMse(model, vdp);
    const after = await testMse(out.model, vdp);
    expect(after).toBeLessThan(0.2 * before);
  });

  it('a linear system x′ = A x with a linear mlp: the learned field N M x + N c + bias approaches A', async () => {
    const ds = linearDataset(32, 4, 20, 3);
    const model = mlpNode({ hidden: 4, activation: 'identity' }, { dataset: ds.info, seed: 2, solver: { use: 'rk4', dt: 0.05, t0: 0, t1: 3 } });
    const trainer = new SpectralTrainer({ order: 10, elements: 1, innerSteps: { coefficients: 0, weights: 4 } });
    const out = await trainer.train(model, { ...base, epochs: 60, lr: 0.03 }, { dataset: ds, solver: rk4, phase: 'train' });
    const block = out.model.block;
    if (block.kind !== 'mlp') throw new Error('mlp block expected');
    const M = block.M.data;
    const N = block.N.data;
    const m = block.m;
    const A = [
      [-0.1, 1],
      [-1, -0.1],
    ];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += N[i * m + k]! * M[k * 2 + j]!;
        expect(Math.abs(s - A[i]![j]!)).toBeLessThan(0.05);
      }
      let off = block.bias.data[i]!;
      for (let k = 0; k < m; k++) off += N[i * m + k]! * block.c.data[k]!;
      expect(Math.abs(off)).toBeLessThan(0.05);
    }
    expect(await testMse(out.model, ds)).toBeLessThan(1e-3);
  });

  it('is deterministic for a seed; another seed shuffles the minibatches differently', async () => {
    const model = fresh(8, 8);
    const trainer = new SpectralTrainer({ order: 5, innerSteps: { coefficients: 2, weights: 1 } });
    const ctx = { dataset: vdp, solver: rk4, phase: 'train' as const };
    const a = await trainer.train(model, { ...base, epochs: 3, batch: 4 }, ctx);
    const b = await trainer.train(model, { ...base, epochs: 3, batch: 4 }, ctx);
    const c = await trainer.train(model, { ...base, epochs: 3, batch: 4, seed: 2 }, ctx);
    expect(values(a.model)).toEqual(values(b.model));
    expect(a.history.map((e) => e.loss)).toEqual(b.history.map((e) => e.loss));
    expect(values(c.model).get('block.N')).not.toEqual(values(a.model).get('block.N'));
    // the input model is untouched, and params restricts what trains
    const only = await trainer.train(model, { ...base, params: ['block.N'] }, ctx);
    expect(values(only.model).get('block.M')).toEqual(values(model).get('block.M'));
    expect(values(only.model).get('block.N')).not.toEqual(values(model).get('block.N'));
  });

  it('the batched field equals the runtime’s block right-hand side (signal included)', async () => {
    const car = createDynamicsDataset({ seed: 4, system: 'vehicle', trajectories: 4, test: 2, samples: 4, horizon: 0.4 });
    const model = mlpNode({ hidden: 6 }, { dataset: car.info, seed: 3, solver: { use: 'rk4', dt: 0.05, t0: 0, t1: 0.4 } });
    const sig = car.info.signal!;
    const params = createParams(model);
    try {
      const [mine, theirs] = tf.tidy(() => {
        const x = tf.randomNormal([3, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
        const u = tf.randomNormal([3, sig.steps, sig.channels], 0, 1, 'float32', 2) as tf.Tensor3D;
        const j = 2; // t in the third signal step
        const t = (j + 0.5) * sig.dt;
        const uj = tf.squeeze(tf.slice(u, [0, j, 0], [3, 1, sig.channels]), [1]) as tf.Tensor2D;
        return [mlpField(model, params)(x, uj).arraySync(), blockDerivatives(model, params, u)(t, x, 1)[0]!.arraySync()];
      });
      mine.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(theirs[i]![k]!, 5)));
    } finally {
      disposeParams(params);
    }
    // one epoch on the vehicle: inputs at the collocation points, finite losses
    const out = await new SpectralTrainer({ order: 4, innerSteps: { coefficients: 1, weights: 1 } }).train(model, { ...base, batch: 2 }, { dataset: car, solver: rk4, phase: 'train' });
    expect(Number.isFinite(out.history[0]!.loss)).toBe(true);
  });

  it('fires the hooks and writes the model after every epoch with a checkpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snode-'));
    const file = path.join(dir, 'model.odemor');
    const seen: string[] = [];
    const hooks = {
      beforeTrain: { promise: async (_m: ModelIR, phase: string) => void seen.push(`before ${phase}`) },
      epoch: { promise: async (e: SpectralEpochInfo) => void seen.push(`epoch ${e.epoch} ${Number.isFinite(e.dataLoss) && Number.isFinite(e.residualLoss)}`) },
      afterTrain: { promise: async (_m: ModelIR, s: { trainer?: string }) => void seen.push(`after ${s.trainer}`) },
    };
    try {
      const out = await new SpectralTrainer({ order: 4, innerSteps: { coefficients: 1, weights: 1 } }).train(fresh(9, 4), { ...base, epochs: 2 }, {
        dataset: vdp,
        solver: rk4,
        phase: 'train',
        checkpoint: file,
        hooks: hooks as never,
      });
      expect(seen).toEqual(['before train', 'epoch 1 true', 'epoch 2 true', 'after spectral']);
      expect(values(await loadModel(file))).toEqual(values(out.model));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options, other models and other datasets with clear reasons', async () => {
    expect(() => new SpectralTrainer({ order: 0 })).toThrow(/trainer 'spectral': option order: must be ≥ 1, got 0/);
    expect(() => new SpectralTrainer({ orders: 3 })).toThrow(/option orders: unknown option of trainer 'spectral'; did you mean 'order'\?/);
    expect(() => new SpectralTrainer({ innerSteps: { weights: 0 } })).toThrow(/option innerSteps\.weights: must be ≥ 1, got 0/);
    expect(() => new SpectralTrainer({ lambda: -1 })).toThrow(/option lambda: must be a finite number > 0/);
    expect(() => resolveSpectralOptions({ coefficientOptimizer: 'lbfgs' })).toThrow(/option coefficientOptimizer: must be one of "adam", "sgd", got "lbfgs"/);
    expect(resolveSpectralOptions({ innerSteps: { weights: 3 } })).toMatchObject({ order: 6, elements: 1, lambda: 1, innerSteps: { coefficients: 10, weights: 3 } });
    const trainer = new SpectralTrainer();
    const ctx = { dataset: vdp, solver: rk4, phase: 'train' as const };
    await expect(trainer.train(fresh(), { ...base, order: 100 }, ctx)).rejects.toThrow(/option order: must be ≤ 64, got 100/);
    await expect(trainer.train(fresh(), { ...base, batch: 0 }, ctx)).rejects.toThrow(/batch must be a positive integer, got 0/);
    await expect(trainer.train(fresh(), { ...base, params: 'after-block' }, ctx)).rejects.toThrow(/nothing to train/);
    await expect(trainer.train(fresh(), { ...base, augment: true }, ctx)).rejects.toThrow(/augment/);
    // a classification model: refused by supports() and by train()
    const cls: DatasetInfo = { inputShape: [4], kind: 'vector', numClasses: 3, trainSize: 8, testSize: 2 };
    const dense = denseNode({}, { dataset: cls, seed: 1, solver: spec });
    expect(trainer.supports(dense)).toEqual({ ok: false, reason: expect.stringMatching(/mlp blocks/) });
    const mlpCls = mlpNode({ hidden: 4 }, { dataset: cls, seed: 1, solver: spec });
    expect(trainer.supports(mlpCls)).toEqual({ ok: false, reason: expect.stringMatching(/input kind 'state'/) });
    await expect(trainer.train(mlpCls, base, ctx)).rejects.toThrow(/cannot train this model/);
    // a trajectory model on a dataset of another kind
    const other: Dataset = { name: 'vectors', info: cls, batches: vdp.batches.bind(vdp) };
    await expect(trainer.train(fresh(), base, { ...ctx, dataset: other })).rejects.toThrow(/kind 'vector'/);
  });

  it('registers Trainer spectral with its option schema', () => {
    const provided: { point: string; name: string; meta: unknown }[] = [];
    plugin.register({ provide: (point: string, name: string, _f: unknown, meta: unknown) => void provided.push({ point, name, meta }) } as never);
    expect(provided.map((p) => `${p.point}:${p.name}`)).toEqual(['Trainer:spectral']);
  });
});

/**
 * Training trajectory models on the tfjs runtime: the MSE against a dynamics dataset's targets, ParamSelection of
 * mlp tensors, the frozen midpoint network, and the Taylor-Lagrange remainder penalty (remainderWeight).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplicitRungeKuttaSolver, listTensors, mlpNode, type ModelIR, type Solver, type SolverAlgebra, type StepContext, type StepOutput } from '@odemor/core';
import { createDynamicsDataset } from '@odemor/dataset-dynamics';
import { initTfjs } from '../src/backend.js';
import { createParams, disposeParams, forward, inputTensor } from '../src/forward.js';
import { TfjsRuntime } from '../src/runtime.js';
import { train } from '../src/train.js';
import { BackpropTrainer } from '../src/trainer.js';

const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4-test',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);

/** second-order Taylor step with a third-order remainder at ξ = y + Γ(y) ⊙ x⁽¹⁾ (a test Taylor-Lagrange step) */
const taylorLagrange: Solver = {
  name: 'tl2-test',
  order: 3,
  adaptive: false,
  derivatives: 3,
  step<T>(alg: SolverAlgebra<T>, _f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>): StepOutput<T> {
    const [x1, x2] = context.derivatives!(t, y, 2);
    const xi = context.midpoint ? alg.axpy(y, [1], [alg.mul!(context.midpoint(t, y), x1!)]) : y;
    const x3 = context.derivatives!(t, xi, 3)[2]!;
    for (let i = 0; i < 3; i++) context.onEval?.();
    const remainder = alg.combine([h ** 3 / 6], [x3]);
    return { y1: alg.axpy(y, [h, (h * h) / 2, 1], [x1!, x2!, remainder]), remainder: alg.clone(remainder) };
  },
};

const vdp = createDynamicsDataset({ seed: 3, system: 'van-der-pol', trajectories: 16, test: 4, samples: 8, horizon: 2 });
const spec = { use: 'rk4', dt: 0.1, t0: 0, t1: 2 };
const fresh = (seed = 5, hidden = 16): ModelIR => mlpNode({ hidden }, { dataset: vdp.info, seed, solver: spec });
const values = (m: ModelIR) => new Map(listTensors(m).map(({ path, tensor }) => [path, Array.from(tensor.data)]));

beforeAll(async () => {
  await initTfjs('cpu');
});

describe('training trajectory models (regression) on tfjs', () => {
  it("an mlp-node learns a van der Pol dataset: the training MSE falls below half its first epoch's", async () => {
    const model = fresh();
    expect(model.readout?.times).toHaveLength(8);
    const details: string[] = [];
    const out = await train(model, vdp, {
      epochs: 20,
      batch: 8,
      optimizer: 'adam',
      lr: 0.02,
      seed: 1,
      solver: rk4,
      onProgress: (_d, _t, detail) => void details.push(detail ?? ''),
    });
    const losses = out.history.map((h) => h.loss);
    expect(losses).toHaveLength(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.5 * losses[0]!);
    // regression: the loss only; no made-up accuracy
    expect(out.history.every((h) => Number.isNaN(h.accuracy))).toBe(true);
    expect(Number.isNaN(out.summary.finalAccuracy)).toBe(true);
    expect(out.summary.finalLoss).toBe(losses[19]);
    expect(details[0]).toMatch(/loss \d/);
    expect(details[0]).not.toMatch(/acc/);
    // the epoch loss is the MSE over batch, times and states: recompute it for the trained model on the whole set
    const batch = (await vdp.batches('train', 16).next()).value!;
    const params = createParams(out.model);
    try {
      const mse = tf.tidy(() => tf.mean(tf.squaredDifference(forward(out.model, params, inputTensor(out.model, batch.x, 16), rk4), tf.tensor2d(batch.targets!, [16, 16]))).dataSync()[0]!);
      expect(mse).toBeLessThan(0.6 * losses[0]!);
      // and the runtime's predict gives the same outputs
      const exe = await new TfjsRuntime({ backend: 'cpu' }).build(out.model, { solver: rk4 });
      const pred = await exe.predict(batch.x, 16);
      const mse2 = pred.reduce((s, v, i) => s + (v - batch.targets![i]!) ** 2, 0) / pred.length;
      expect(Math.abs(mse2 - mse)).toBeLessThan(1e-5 * Math.max(1, mse));
      await exe.dispose();
    } finally {
      disposeParams(params);
    }
  });

  it('trains only the tensors a ParamSelection names; the others come back bit-identical', async () => {
    const model = fresh(6, 8);
    const out = await train(model, vdp, { epochs: 1, batch: 8, optimizer: 'adam', lr: 0.01, seed: 1, solver: rk4, params: ['block.N', 'block.bias'] });
    const before = values(model);
    const after = values(out.model);
    expect(after.get('block.M')).toEqual(before.get('block.M'));
    expect(after.get('block.c')).toEqual(before.get('block.c'));
    expect(after.get('block.N')).not.toEqual(before.get('block.N'));
    expect(after.get('block.bias')).not.toEqual(before.get('block.bias'));
  });

  it('the midpoint network stays frozen unless a ParamSelection names it; remainderWeight adds λ · mean|R|', async () => {
    const base = fresh(7, 8);
    const model: ModelIR = {
      ...base,
      midpoint: { layers: [{ type: 'dense', weight: { shape: [2, 2], data: Float32Array.from([0.3, 0.1, -0.1, 0.3]) }, bias: { shape: [2], data: Float32Array.from([0.1, 0.1]) } }] },
    };
    const opts = { epochs: 1, batch: 16, optimizer: 'adam' as const, lr: 0.01, seed: 1, solver: taylorLagrange };
    const plain = await train(model, vdp, opts);
    const before = values(model);
    expect(values(plain.model).get('midpoint.layers.0.weight')).toEqual(before.get('midpoint.layers.0.weight'));
    expect(values(plain.model).get('block.M')).not.toEqual(before.get('block.M'));
    const named = await train(model, vdp, { ...opts, params: ['block.', 'midpoint.'] });
    expect(values(named.model).get('midpoint.layers.0.weight')).not.toEqual(before.get('midpoint.layers.0.weight'));
    const all = await train(model, vdp, { ...opts, params: 'all' });
    expect(values(all.model).get('midpoint.layers.0.bias')).toEqual(before.get('midpoint.layers.0.bias'));

    // one batch of all 16 trajectories, one epoch: the epoch loss is the loss at the initial parameters
    const lambda = 2;
    const penalised = await train(model, vdp, { ...opts, remainderWeight: lambda });
    const batch = (await vdp.batches('train', 16).next()).value!;
    const params = createParams(model);
    try {
      const [mse, meanR, count] = tf.tidy(() => {
        const rs: tf.Tensor2D[] = [];
        const y = forward(model, params, inputTensor(model, batch.x, 16), taylorLagrange, { onRemainder: (r) => void rs.push(r) });
        const e = tf.mean(tf.squaredDifference(y, tf.tensor2d(batch.targets!, [16, 16]))).dataSync()[0]!;
        return [e, tf.mean(tf.abs(tf.stack(rs))).dataSync()[0]!, rs.length];
      });
      expect(count).toBe(24); // 8 segments of 0.25 with dt 0.1: steps of 0.1, 0.1 and a shortened 0.05 each
      expect(meanR).toBeGreaterThan(0);
      expect(plain.history[0]!.loss).toBeCloseTo(mse, 5);
      expect(penalised.history[0]!.loss).toBeCloseTo(mse + lambda * meanR, 5);
    } finally {
      disposeParams(params);
    }
  });

  it('a dataset with an input signal: the batch u reaches the model; the trainer takes remainderWeight', async () => {
    const ds = createDynamicsDataset({ seed: 2, system: 'vehicle', trajectories: 4, test: 2, samples: 4, horizon: 0.4, inputDt: 0.1 });
    const model = mlpNode({ hidden: 4 }, { dataset: ds.info, seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 0.4 } });
    expect(model.input).toMatchObject({ kind: 'state', signal: { steps: 4, channels: 2 } });
    const trainer = new BackpropTrainer({ backend: 'cpu', remainderWeight: 0 });
    const out = await trainer.train(model, { epochs: 1, batch: 2, optimizer: 'adam', lr: 1e-3, seed: 1 }, { dataset: ds, solver: rk4, phase: 'train' });
    expect(out.history).toHaveLength(1);
    expect(Number.isFinite(out.history[0]!.loss)).toBe(true);
    await expect(trainer.train(model, { epochs: 1, batch: 2, optimizer: 'adam', lr: 1e-3, seed: 1, remainderWeight: -1 }, { dataset: ds, solver: rk4, phase: 'train' })).rejects.toThrow(
      /remainderWeight must be a finite number >= 0, got -1/,
    );
  });

  it('refuses a trajectory model on a classification dataset, and targets of the wrong size', async () => {
    const model = fresh(8, 4);
    const cls = { ...vdp, name: 'cls', info: { ...vdp.info, task: 'classification' as const }, batches: vdp.batches.bind(vdp) };
    await expect(train(model, cls, { epochs: 1, batch: 8, optimizer: 'adam', lr: 0.01, seed: 1, solver: rk4 })).rejects.toThrow(/trains on a regression dataset/);
    const short = { ...model, readout: { kind: 'trajectory' as const, times: vdp.info.times!.slice(4) }, outputs: 8 };
    await expect(train(short, vdp, { epochs: 1, batch: 8, optimizer: 'adam', lr: 0.01, seed: 1, solver: rk4 })).rejects.toThrow(
      /a batch of 8 samples has 128 target values \(targetShape \[8, 2\]\), but the model outputs 8 × 8 = 64 \(4 readout times × the state\)/,
    );
  });
});

/**
 * The alternating midpoint schedule of Taylor-Lagrange training on tfjs (trainer option `midpoint`): the midpoint
 * network Γ_φ the trainer adds, its updates towards a Dormand–Prince reference of the current dynamics every K
 * iterations, the separation of the two steps (bitwise), the history fields and the errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplicitRungeKuttaSolver, createRng, listTensors, mlpNode, type Batch, type BatchOptions, type Dataset, type ModelIR, type Solver } from '@odemor/core';
import { createDynamicsDataset } from '@odemor/dataset-dynamics';
import { Dopri5Solver } from '@odemor/solver-dopri5';
import { TaylorLagrangeSolver, taylorSolver } from '@odemor/solver-taylor-lagrange';
import { initTfjs } from '../src/backend.js';
import { blockFeatures, createParams, disposeParams, forward, inputTensor } from '../src/forward.js';
import { withMidpointNetwork as withNetwork } from '@odemor/core';
import type { ModelIR } from '@odemor/core';
import { MIDPOINT_SCHEDULE_DEFAULTS, resolveMidpointSchedule, train, type MidpointEpochInfo, type TfjsTrainOptions } from '../src/train.js';

const withMidpointNetwork = (m: ModelIR, hidden: number, init: number, seed: number) => withNetwork(m, { hidden, init, seed });
import { BackpropTrainer } from '../src/trainer.js';
import { backpropOptionsSchema } from '../src/index.js';

const tl = new TaylorLagrangeSolver({ order: 1 });
const dopri5 = new Dopri5Solver();
const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);

// x' = A x with eigenvalues −10 and −1, observed 4 times on [0, 1]: one Taylor-Lagrange step of Δt = 0.25 per
// observation interval, where Δt·λ1 = −2.5 (the truncated Taylor step of order 1, Euler, is unstable there)
const H = 1;
const S = 4;
const stiff = createDynamicsDataset({ seed: 4, system: 'stiff-linear', trajectories: 32, test: 4, samples: S, horizon: H, method: 'exact', lambda1: -10 });
/** TayLaNets' stiff example: a linear field (identity activation), 16 hidden units; scale 3 for a field of that size */
const fresh = (seed = 2): ModelIR =>
  mlpNode({ hidden: 16, activation: 'identity', scale: 3 }, { dataset: stiff.info, seed, solver: { use: 'taylor-lagrange', dt: H / S, t0: 0, t1: H } });
const values = (m: ModelIR, prefix = '') => new Map(listTensors(m).filter(({ path }) => path.startsWith(prefix)).map(({ path, tensor }) => [path, Array.from(tensor.data)]));
/** 32 trajectories in batches of 8: 4 iterations per epoch */
const base = { batch: 8, optimizer: 'adam' as const, lr: 1e-3, seed: 1, solver: tl as Solver };

/** mean over the batch of Σ |x_TL − x_ref| for `model` (outputs of a trajectory model, block features otherwise) */
function midpointDistance(model: ModelIR, x: Float32Array, size: number): number {
  const params = createParams(model);
  try {
    return tf.tidy(() => {
      const xt = inputTensor(model, x, size);
      const ref = { ...model, solver: { ...model.solver, rtol: MIDPOINT_SCHEDULE_DEFAULTS.rtol, atol: MIDPOINT_SCHEDULE_DEFAULTS.atol } };
      const q = (m: ModelIR, s: Solver) => (m.readout ? forward(m, params, xt, s) : tf.reshape(blockFeatures(m, params, xt, s), [size, -1]));
      return tf.mean(tf.sum(tf.abs(tf.sub(q(model, tl), q(ref, dopri5))), 1)).dataSync()[0]!;
    });
  } finally {
    disposeParams(params);
  }
}

beforeAll(async () => {
  await initTfjs('cpu');
});

describe('the alternating midpoint schedule (tfjs)', () => {
  it('the midpoint loss falls over its updates, the dynamics learn, and the trained Γ beats the initial one', async () => {
    const model = fresh();
    expect(model.midpoint).toBeUndefined();
    // every = 4: one midpoint update at the end of each epoch (two Adam steps of φ)
    const out = await train(model, stiff, { ...base, epochs: 8, midpoint: { every: 4, steps: 2, lr: 1e-2 } });
    const h = out.history as MidpointEpochInfo[];
    const mids = h.map((e) => e.midpointLoss!);
    expect(mids.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(mids[mids.length - 1]!).toBeLessThan(0.5 * mids[0]!);
    expect(h[h.length - 1]!.loss).toBeLessThan(0.6 * h[0]!.loss);
    expect(h.every((e) => e.referenceSeconds >= 0 && Number.isFinite(e.referenceSeconds))).toBe(true);

    // on the final dynamics, the trained midpoint network is closer to the reference than the initial one
    const batch = (await stiff.batches('train', 32).next()).value!;
    const initial = withMidpointNetwork(model, 16, 1e-2, 1);
    const untrained: ModelIR = { ...out.model, midpoint: initial.midpoint! };
    const trained = midpointDistance(out.model, batch.x, 32);
    expect(trained).toBeLessThan(0.5 * midpointDistance(untrained, batch.x, 32));
  });

  it('adds dense s→hidden, relu, dense hidden→s (uniform ±init, zero biases), deterministic per seed', async () => {
    const model = fresh();
    const added = await train(model, stiff, { ...base, epochs: 0, midpoint: { hidden: 5, init: 0.1 } });
    const layers = added.model.midpoint!.layers;
    expect(layers.map((l) => l.type)).toEqual(['dense', 'relu', 'dense']);
    const [l0, , l2] = layers as [Extract<(typeof layers)[number], { type: 'dense' }>, unknown, Extract<(typeof layers)[number], { type: 'dense' }>];
    expect(l0.weight.shape).toEqual([5, 2]);
    expect(l0.bias!.shape).toEqual([5]);
    expect(l2.weight.shape).toEqual([2, 5]);
    expect(l2.bias!.shape).toEqual([2]);
    expect([...l0.bias!.data, ...l2.bias!.data].every((v) => v === 0)).toBe(true);
    const w = [...l0.weight.data, ...l2.weight.data];
    expect(w.every((v) => Math.abs(v) <= 0.1)).toBe(true);
    expect(new Set(w).size).toBe(w.length);
    // the train seed decides it
    expect(values(added.model, 'midpoint.')).toEqual(values(withMidpointNetwork(model, 5, 0.1, 1), 'midpoint.'));
    const again = await train(model, stiff, { ...base, epochs: 0, midpoint: { hidden: 5, init: 0.1 } });
    expect(values(again.model, 'midpoint.')).toEqual(values(added.model, 'midpoint.'));
    const other = await train(model, stiff, { ...base, seed: 2, epochs: 0, midpoint: { hidden: 5, init: 0.1 } });
    expect(values(other.model, 'midpoint.')).not.toEqual(values(added.model, 'midpoint.'));
    // a model that has a midpoint network keeps it (and the schedule trains it)
    expect(withMidpointNetwork(added.model, 7, 1, 3)).toBe(added.model);
    // the whole run is deterministic
    const a = await train(model, stiff, { ...base, epochs: 2, midpoint: { every: 3 } });
    const b = await train(model, stiff, { ...base, epochs: 2, midpoint: { every: 3 } });
    expect(values(a.model)).toEqual(values(b.model));
  });

  it('φ stays bit-identical in the dynamics steps, and the dynamics in the φ steps', async () => {
    const model = fresh();
    const initial = values(withMidpointNetwork(model, 16, 1e-2, 1), 'midpoint.');
    // no midpoint update in 8 iterations: only dynamics steps, φ comes back as it was added
    const never = await train(model, stiff, { ...base, epochs: 2, midpoint: { every: 1000 } });
    expect(values(never.model, 'midpoint.')).toEqual(initial);
    expect(values(never.model, 'block.')).not.toEqual(values(model, 'block.'));
    expect((never.history as MidpointEpochInfo[]).map((e) => [e.midpointLoss, e.referenceSeconds])).toEqual([
      [null, 0],
      [null, 0],
    ]);
    // one epoch of 4 iterations, the update after the 4th: the same dynamics as without any update, φ moved
    const noUpdate = await train(model, stiff, { ...base, epochs: 1, midpoint: { every: 1000 } });
    const lastUpdate = await train(model, stiff, { ...base, epochs: 1, midpoint: { every: 4, steps: 3 } });
    expect(values(lastUpdate.model, 'block.')).toEqual(values(noUpdate.model, 'block.'));
    expect(values(lastUpdate.model, 'midpoint.')).not.toEqual(initial);
    expect((lastUpdate.history[0] as MidpointEpochInfo).midpointLoss).toBeGreaterThan(0);
    // K counts iterations across epochs: every 6 with 4 per epoch → updates in epochs 2 and 3, none in 1
    const across = await train(model, stiff, { ...base, epochs: 3, midpoint: { every: 6 } });
    expect((across.history as MidpointEpochInfo[]).map((e) => e.midpointLoss === null)).toEqual([true, false, false]);
  });

  it("a classification model: the loss is on the block's final state; the trainer takes the option", async () => {
    const rng = createRng(3);
    const x = new Float32Array(32 * 2);
    const y = new Int32Array(32);
    for (let i = 0; i < 32; i++) {
      y[i] = i % 2;
      x[2 * i] = (y[i] ? 1 : -1) + 0.3 * rng.normal();
      x[2 * i + 1] = 0.3 * rng.normal();
    }
    const blobs: Dataset = {
      name: 'blobs',
      info: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 32, testSize: 32 },
      async *batches(_split: string, size: number, o: BatchOptions = {}): AsyncIterable<Batch> {
        const order = Array.from({ length: 32 }, (_, i) => i);
        if (o.shuffle) createRng(o.seed ?? 0).shuffle(order);
        for (let s = 0; s < 32; s += size) {
          const idx = order.slice(s, s + size);
          yield { x: Float32Array.from(idx.flatMap((j) => [x[2 * j]!, x[2 * j + 1]!])), y: Int32Array.from(idx.map((j) => y[j]!)), size: idx.length };
        }
      },
    };
    const model = mlpNode({ hidden: 8, scale: 4 }, { dataset: blobs.info, seed: 1, solver: { use: 'taylor-lagrange', dt: 0.5, t0: 0, t1: 1 } });
    expect(model.post).toHaveLength(1);
    const trainer = new BackpropTrainer({ backend: 'cpu', midpoint: { every: 1, hidden: 4 } });
    // only the post layers train: the block (and its final state) stays as it is, so the first update's loss is the
    // distance at the initial model with the added network, over the whole (single) batch
    const out = await trainer.train(model, { epochs: 1, batch: 32, optimizer: 'adam', lr: 1e-2, seed: 1, params: ['post.'] }, { dataset: blobs, solver: tl, phase: 'finetune' });
    const first = (out.history[0] as MidpointEpochInfo).midpointLoss!;
    const added = withMidpointNetwork(model, 4, MIDPOINT_SCHEDULE_DEFAULTS.init, 1);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeCloseTo(midpointDistance(added, x, 32), 6);
    expect(out.model.midpoint!.layers).toHaveLength(3);
    expect(values(out.model, 'block.')).toEqual(values(model, 'block.'));
    // the option of one train call takes precedence over the trainer's
    const never = await trainer.train(model, { epochs: 1, batch: 32, optimizer: 'adam', lr: 1e-2, seed: 1, params: ['post.'], midpoint: { every: 5 } }, { dataset: blobs, solver: tl, phase: 'finetune' });
    expect((never.history[0] as MidpointEpochInfo).midpointLoss).toBeNull();
  });

  it('refuses another solver, bad options, and params that name the midpoint network', async () => {
    const model = fresh();
    const opts: TfjsTrainOptions = { ...base, epochs: 1, midpoint: {} };
    await expect(train(model, stiff, { ...opts, solver: rk4 })).rejects.toThrow(/midpoint schedule .*'taylor-lagrange'.*the solver is 'rk4'/);
    await expect(train(model, stiff, { ...opts, solver: taylorSolver({ order: 2 }) })).rejects.toThrow(/the solver is 'taylor' \(the truncated Taylor series has no remainder/);
    await expect(train(model, stiff, { ...opts, midpoint: { every: 0 } })).rejects.toThrow(/option midpoint\.every: .*≥ 1/);
    await expect(train(model, stiff, { ...opts, midpoint: { lr: -1 } })).rejects.toThrow(/option midpoint\.lr: must be a finite number > 0/);
    await expect(train(model, stiff, { ...opts, midpoint: { evry: 2 } as never })).rejects.toThrow(/midpoint\.evry: unknown option.*every/);
    await expect(train(model, stiff, { ...opts, params: ['block.', 'midpoint.'] })).rejects.toThrow(/names the midpoint network \(midpoint\.layers\.0\.weight\)/);
    const trainer = new BackpropTrainer({ backend: 'cpu', midpoint: { steps: 1.5 } });
    await expect(trainer.train(model, { epochs: 1, batch: 8, optimizer: 'adam', lr: 1e-3, seed: 1 }, { dataset: stiff, solver: tl, phase: 'train' })).rejects.toThrow(
      /trainer 'backprop': option midpoint\.steps: expected int, got 1\.5/,
    );
    // the config schema of the trainer has the same keys
    expect(backpropOptionsSchema.safeParse({ midpoint: { every: 5, steps: 2, lr: 1e-3, rtol: 1e-6, atol: 1e-8, hidden: 8, init: 0.1 } }).success).toBe(true);
    expect(backpropOptionsSchema.safeParse({ midpoint: { every: 0 } }).success).toBe(false);
    expect(backpropOptionsSchema.safeParse({ midpoint: { hidde: 8 } }).success).toBe(false);
    expect(resolveMidpointSchedule({})).toEqual({ every: 10, steps: 1, lr: 1e-3, rtol: 1e-7, atol: 1e-9, hidden: 16, init: 1e-2 });
  });
});

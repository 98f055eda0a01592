/**
 * Taylor-Lagrange training on Trainer 'backprop-onnx': task loss + λ · mean|R| through the compiled step program
 * (against the tfjs trainer), the midpoint network frozen in the task loss unless a params list names it, the
 * alternating midpoint schedule against the onnx Dormand–Prince loop on a tiny stiff-linear dataset, checkpoints
 * and resume keeping φ and its Adam state, and the refusals.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listTensors, loadModel, mlpNode, type Batch, type ModelIR, type Solver, type TrainOptions } from '@odemor/core';
import { REFERENCE_TABLEAUX } from '@odemor/conformance';
import { createDynamicsDataset } from '@odemor/dataset-dynamics';
import { BackpropTrainer, initTfjs } from '@odemor/runtime-tfjs';
import { TaylorLagrangeSolver, taylorSolver } from '@odemor/solver-taylor-lagrange';
import { DOPRI5 } from '../src/dopri5.js';
import { OnnxBackpropTrainer, OnnxRuntime, withMidpointNetwork, type OnnxEpochInfo } from '../src/index.js';
import { readTrainState, statePath } from '../src/train/state.js';

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'odemor-onnxtl-'));
/** the paper's stiff system x' = P⁻¹ diag(−1000, −1) P x (closed form), observed at 0.3, …, 1.5: one TL step per interval */
const stiff = () => createDynamicsDataset({ system: 'stiff-linear', method: 'exact', trajectories: 8, test: 2, horizon: 1.5, samples: 5, seed: 4 });
const tlModel = (scale = 1, seed = 3): ModelIR =>
  mlpNode({ hidden: 12, scale }, { dataset: stiff().info, seed, solver: { use: 'taylor-lagrange', dt: 0.3, t0: 0, t1: 1.5 } });
const tl1 = () => new TaylorLagrangeSolver({ order: 1 });
const ctx = (solver = tl1()) => ({ dataset: stiff(), solver, phase: 'train' as const });
const trainer = (o = {}) => new OnnxBackpropTrainer({ threads: 1, ...o });

/** max |a − b| over every tensor of two models with the same tensors */
function maxDiff(a: ModelIR, b: ModelIR): number {
  const tb = new Map(listTensors(b).map((t) => [t.path, t.tensor.data]));
  let m = 0;
  for (const { path: p, tensor } of listTensors(a)) {
    const other = tb.get(p)!;
    expect(other, p).toBeDefined();
    for (let i = 0; i < tensor.data.length; i++) m = Math.max(m, Math.abs(tensor.data[i]! - other[i]!));
  }
  return m;
}
/**
 * mean_b ‖x_TL − x_ref‖₁ on the training trajectories for each model (the same block): x_TL the TL order-1 forward on
 * onnx, x_ref the onnx Dormand–Prince loop at rtol 1e-7, atol 1e-9.
 */
async function tlError(models: ModelIR[]): Promise<number[]> {
  const runtime = new OnnxRuntime({ threads: 1 });
  let b: Batch | undefined;
  for await (const batch of stiff().batches('train', 8)) b ??= batch;
  const ref = { ...models[0]!, midpoint: undefined, solver: { ...models[0]!.solver, use: 'dopri5', rtol: 1e-7, atol: 1e-9 } };
  const run = async (m: ModelIR, solver: Solver) => {
    const exe = await runtime.build(m, { solver });
    try {
      return await exe.predict(b!.x, b!.size);
    } finally {
      await exe.dispose();
    }
  };
  const want = await run(ref, { name: 'dopri5', adaptive: true, order: 5, tableau: DOPRI5 });
  const out: number[] = [];
  for (const m of models) {
    const got = await run(m, tl1());
    let sum = 0;
    for (let i = 0; i < got.length; i++) sum += Math.abs(got[i]! - want[i]!);
    out.push(sum / b!.size);
  }
  return out;
}

const bits = (m: ModelIR) => listTensors(m).map((t) => [t.path, Array.from(t.tensor.data)]);

describe('Taylor-Lagrange training', () => {
  it('the trainer takes taylor-lagrange solvers; λ · mean|R| trains like the tfjs trainer (same weights to 1e-5)', async () => {
    const model = tlModel(2);
    expect(trainer().supports(model, tl1())).toEqual({ ok: true });
    const o: TrainOptions = { epochs: 2, batch: 4, optimizer: 'sgd', lr: 0.05, seed: 1, remainderWeight: 0.5 };
    const onnx = await trainer().train(model, o, ctx());
    const tfjs = await new BackpropTrainer().train(model, o, ctx());
    expect(maxDiff(onnx.model, tfjs.model)).toBeLessThan(1e-5);
    for (const [i, h] of onnx.history.entries()) expect(h.loss).toBeCloseTo(tfjs.history[i]!.loss, 5);
    // the history reports mean|R|; λ changes the weights
    expect((onnx.history[0] as OnnxEpochInfo).remainderAbsMean).toBeGreaterThan(0);
    const plain = await trainer().train(model, { ...o, remainderWeight: 0 }, ctx());
    expect(maxDiff(plain.model, onnx.model)).toBeGreaterThan(1e-4);
    // a trainer default λ works as the train option does
    expect(bits((await trainer({ remainderWeight: 0.5 }).train(model, { ...o, remainderWeight: undefined }, ctx())).model)).toEqual(bits(onnx.model));
  });

  it('a midpoint network is frozen in the task loss unless a params list names it (as on tfjs)', async () => {
    const base = tlModel(2);
    const model: ModelIR = {
      ...base,
      midpoint: { layers: [{ type: 'dense', weight: { shape: [2, 2], data: Float32Array.of(0.3, -0.2, 0.1, 0.4) }, bias: { shape: [2], data: Float32Array.of(0.1, 0.2) } }, { type: 'tanh' }] },
    };
    const o: TrainOptions = { epochs: 1, batch: 4, optimizer: 'adam', lr: 0.01, seed: 2, remainderWeight: 1 };
    const frozen = await trainer().train(model, o, ctx());
    const mp = (m: ModelIR) => bits(m).filter(([p]) => (p as string).startsWith('midpoint.'));
    expect(mp(frozen.model)).toEqual(mp(model));
    expect(maxDiff(frozen.model, model)).toBeGreaterThan(1e-4);
    const named = await trainer().train(model, { ...o, params: ['block.', 'midpoint.layers.0.weight'] }, ctx());
    expect(maxDiff({ ...model, midpoint: named.model.midpoint! }, model)).toBeGreaterThan(1e-5);
    // tfjs does the same
    const tfjs = await new BackpropTrainer().train(model, { ...o, params: ['block.', 'midpoint.layers.0.weight'] }, ctx());
    expect(maxDiff(named.model, tfjs.model)).toBeLessThan(1e-4);
  });

  it('the midpoint schedule: the trainer adds φ (s → 16 → s, ±init), the MSE falls, the midpoint loss falls over the updates', async () => {
    const model = tlModel(3);
    const o: TrainOptions = { epochs: 12, batch: 8, optimizer: 'adam', lr: 0.01, seed: 5, remainderWeight: 0.1, midpoint: { every: 1, steps: 3, lr: 0.02 } };
    const res = await trainer().train(model, o, ctx());
    const h = res.history as OnnxEpochInfo[];
    expect(h.length).toBe(12);
    expect(h[11]!.loss).toBeLessThan(0.7 * h[0]!.loss);
    // one update per epoch (one batch per epoch), each with its reference solve timed apart
    expect(h.every((e) => e.midpointUpdates === 1 && e.midpointLoss! > 0 && e.referenceSeconds! > 0)).toBe(true);
    const losses = h.map((e) => e.midpointLoss!);
    expect(losses[11]!).toBeLessThan(0.5 * losses[0]!);
    expect((res.summary as { referenceSeconds?: number }).referenceSeconds).toBeGreaterThan(0);
    // the trained network is in the model: dense 2→16, relu, dense 16→2
    const layers = res.model.midpoint!.layers;
    expect(layers.map((l) => l.type)).toEqual(['dense', 'relu', 'dense']);
    expect(layers[0]!.type === 'dense' && layers[0]!.weight.shape).toEqual([16, 2]);
    expect(model.midpoint).toBeUndefined();
    expect(losses[11]!).toBeLessThan(losses[0]!);
    // on the final dynamics, the trained φ makes the TL steps closer to the Dormand–Prince solve than the initial φ
    // (and than Γ = 0), on the training trajectories
    const init = withMidpointNetwork(model, { hidden: 16, init: 1e-2 }, 5).midpoint!;
    const l1 = await tlError([res.model, { ...res.model, midpoint: init }, { ...res.model, midpoint: undefined }]);
    expect(l1[0]!).toBeLessThan(0.2 * l1[1]!);
    expect(l1[0]!).toBeLessThan(0.2 * l1[2]!);
  });

  it('with the dynamics held (a tiny task lr), the schedule alone drives mean‖x_TL − x_ref‖₁ down', async () => {
    const model = tlModel(3, 8);
    const o: TrainOptions = { epochs: 8, batch: 8, optimizer: 'sgd', lr: 1e-9, seed: 6, midpoint: { every: 1, steps: 4, lr: 0.03, hidden: 8 } };
    const res = await trainer().train(model, o, ctx());
    const losses = (res.history as OnnxEpochInfo[]).map((e) => e.midpointLoss!);
    for (let i = 1; i < 4; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(Math.max(...losses.slice(4))).toBeLessThan(0.1 * losses[0]!);
    // the block did not move
    expect(maxDiff({ ...res.model, midpoint: undefined }, model)).toBeLessThan(1e-6);
  });

  it('checkpoint and resume keep φ and its Adam state: 2 epochs + resume to 4 = 4 epochs at once, bit for bit', async () => {
    const dir = tmp();
    const model = tlModel(2);
    const o: TrainOptions = { epochs: 4, batch: 4, optimizer: 'adam', lr: 0.01, seed: 7, remainderWeight: 0.2, midpoint: { every: 3, steps: 2, lr: 0.01 } };
    const full = await trainer().train(model, o, { ...ctx(), checkpoint: path.join(dir, 'full.odemor') });
    const ck = path.join(dir, 'part.odemor');
    await trainer().train(model, { ...o, epochs: 2 }, { ...ctx(), checkpoint: ck });
    const state = (await readTrainState(statePath(ck)))!;
    expect(state.midpointOptimizer?.iterations).toBe(2 * Math.floor(4 / 3));
    expect([...state.params.keys()].filter((p) => p.startsWith('midpoint.'))).toEqual(['midpoint.layers.0.weight', 'midpoint.layers.0.bias', 'midpoint.layers.2.weight', 'midpoint.layers.2.bias']);
    expect((await loadModel(ck)).midpoint?.layers.length).toBe(3);
    const resumed = await trainer().train(model, o, { ...ctx(), checkpoint: ck, resume: true });
    expect(bits(resumed.model)).toEqual(bits(full.model));
    const pick = (hs: OnnxEpochInfo[]) => hs.map((e) => [e.epoch, e.loss, e.midpointLoss ?? null, e.midpointUpdates]);
    expect(pick(resumed.history as OnnxEpochInfo[])).toEqual(pick(full.history as OnnxEpochInfo[]));
    // other schedule settings cannot resume this state
    await expect(trainer().train(model, { ...o, midpoint: { every: 2 } }, { ...ctx(), checkpoint: ck, resume: true })).rejects.toThrow(/cannot resume, the training options differ.*midpoint/);
  });
});

describe('refusals', () => {
  it('the midpoint schedule needs a taylor-lagrange solver with the remainder; options are checked', async () => {
    const model = tlModel();
    const o: TrainOptions = { epochs: 1, batch: 8, optimizer: 'adam', lr: 0.01, seed: 1, midpoint: {} };
    const rk4 = { name: 'rk4', adaptive: false, order: 4, tableau: REFERENCE_TABLEAUX.rk4 };
    await expect(trainer().train(model, o, ctx(rk4 as never))).rejects.toThrow(/option midpoint \(the Taylor-Lagrange midpoint schedule\) needs a taylor-lagrange solver with the remainder; solver 'rk4' is a Runge–Kutta tableau/);
    await expect(trainer().train(model, o, ctx(taylorSolver({ order: 2 })))).rejects.toThrow(/solver 'taylor' is the truncated Taylor series \(remainder: false\)/);
    await expect(trainer().train(model, { ...o, midpoint: { every: 0 } }, ctx())).rejects.toThrow(/midpoint\.every: .*\(got 0\)/);
    await expect(trainer().train(model, { ...o, midpoint: { evry: 2 } }, ctx())).rejects.toThrow(/midpoint/);
    await expect(trainer().train(model, { ...o, remainderWeight: -1 }, ctx())).rejects.toThrow(/remainderWeight/);
  });

  it('taylor-lagrange order 3 (x⁽⁴⁾) and adaptive step programs are refused by supports() and train()', async () => {
    const model = tlModel();
    const p3 = new TaylorLagrangeSolver({ order: 3 });
    const sup = trainer().supports(model, p3);
    expect(!sup.ok && sup.reason).toMatch(/up to order 4 \(x⁽⁴⁾\), but the onnx runtime computes them up to order 3 only/);
    const o: TrainOptions = { epochs: 1, batch: 8, optimizer: 'adam', lr: 0.01, seed: 1 };
    await expect(trainer().train(model, o, ctx(p3))).rejects.toMatchObject({ code: 'RUNTIME' });
    const adaptive = Object.assign(Object.create(tl1()) as TaylorLagrangeSolver, { adaptive: true, name: 'tl-adaptive' });
    expect(trainer().supports(model, adaptive)).toEqual({ ok: false, reason: 'tl-adaptive is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver' });
  });

  it("the trainer's Dormand–Prince tableau is @odemor/solver-dopri5's", () => {
    expect(DOPRI5).toEqual(REFERENCE_TABLEAUX.dopri5);
  });
});

/**
 * Backprop through adaptive solvers on onnxruntime (docs/algorithms.md#onnx-adaptive-training): the gradient of
 * the loss through the accepted steps of the Dopri5 step loop against tfjs autodiff through its eager adaptive
 * solve, against central finite differences of a float64 forward pass over the same (frozen) steps, and the
 * trainer on adaptive solvers (a van-der-pol mlp-node, resume, refusals).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExplicitRungeKuttaSolver, OdemorError, cloneModel, float64Algebra, listTensors, mlpNode, rkStep, type Batch, type ModelIR, type OdeBlock, type SolveStats, type Solver } from '@odemor/core';
import { createDynamicsDataset, type DynamicsDataset } from '@odemor/dataset-dynamics';
import { BackpropTrainer, createParams, disposeParams, forward, initTfjs, inputTensor } from '@odemor/runtime-tfjs';
import { dataset, maxDiff, tinyModel } from './train-fixtures.js';
import { REFERENCE_TABLEAUX, inputSize, referenceForward, referenceNonlinear, runtimeModels, signalInput, uniformInput } from '@odemor/conformance';
import { AdaptiveGradientProgram, OnnxAdaptiveExecutable, OnnxBackpropTrainer, OnnxRuntime, compileGradientProgram, type LossKind, type OnnxEpochInfo } from '../src/index.js';

const DOPRI5 = REFERENCE_TABLEAUX.dopri5;
const dopri5 = (rtol: number, atol: number): Solver => new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, { rtol, atol });

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

/** `model` with the dopri5 solver spec and tolerances. */
function adaptive(model: ModelIR, rtol: number, atol: number, dt = 0.1): ModelIR {
  return { ...model, solver: { ...model.solver, use: 'dopri5', dt, rtol, atol } };
}

/** Loss, gradients and solver stats by tfjs autodiff through the eager adaptive solve (cpu backend). */
function tfjsGradients(model: ModelIR, x: Float32Array, y: Int32Array | Float32Array, batch: number, solver: Solver, loss: LossKind, u?: Float32Array) {
  const params = createParams(model, () => true);
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  const ut = u && sig ? tf.tensor3d(u, [batch, sig.steps, sig.channels]) : undefined;
  try {
    const vars = [...params];
    let stats: SolveStats | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(model, params, inputTensor(model, x, batch), solver, { onStats: (s) => void (stats = s), ...(ut ? { u: ut } : {}) });
      return loss === 'mse'
        ? tf.losses.meanSquaredError(tf.tensor2d(y as Float32Array, [batch, model.outputs]), logits)
        : tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y as Int32Array, 'int32'), model.outputs), logits);
    }, vars.map(([, v]) => v as tf.Variable)) as { value: tf.Scalar; grads: Record<string, tf.Tensor> };
    const out = new Map<string, Float32Array>();
    for (const [path, v] of vars) {
      const g = grads[(v as tf.Variable).name];
      out.set(path, g ? (g.dataSync() as Float32Array) : new Float32Array(v.size));
    }
    const l = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    return { loss: l, grads: out, stats: stats! };
  } finally {
    ut?.dispose();
    disposeParams(params);
  }
}

/** max |a − b| / max |b| (0 when both vanish). */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

const labels = (batch: number, classes: number): Int32Array => Int32Array.from({ length: batch }, (_, i) => (i * 7 + 1) % classes);

async function onnxGradients(model: ModelIR, x: Float32Array, y: Int32Array | Float32Array, batch: number, solver: Solver, loss: LossKind, u?: Float32Array) {
  const program = await compileGradientProgram(model, { solver, trainable: () => true, loss, threads: 1 });
  expect(program).toBeInstanceOf(AdaptiveGradientProgram);
  try {
    const res = await program.run(new Map(), x, y, batch, u ? { u } : undefined);
    return { ...res, steps: (program as AdaptiveGradientProgram).lastSteps! };
  } finally {
    await program.dispose();
  }
}

describe('gradients through dopri5: parity with tfjs autodiff through its eager adaptive solve', () => {
  const cases: { name: string; model: () => ModelIR; rtol: number; atol: number; loss: LossKind; sameSteps: boolean; u?: boolean }[] = [
    // the same accepted (and rejected) steps on both runtimes
    { name: 'dense ode block (classification), the same steps', model: () => runtimeModels.denseNode(), rtol: 1e-5, atol: 1e-7, loss: 'softmax-cross-entropy', sameSteps: true },
    // (at rtol 1e-5 the conv model's accepted counts differ by one between the runtimes: float32 rounding of the error
    // ratios, which adaptive.test.ts allows for)
    { name: 'conv block (state [c, h, w] between the graphs), the same steps', model: () => runtimeModels.convNode(), rtol: 1e-6, atol: 1e-8, loss: 'softmax-cross-entropy', sameSteps: true },
    { name: 'reduced block (E in the pre graph, D in the post graph), the same steps', model: () => runtimeModels.deimReduced(), rtol: 1e-5, atol: 1e-7, loss: 'softmax-cross-entropy', sameSteps: true },
    // dt = 1 ≥ every segment: each segment's first trial lands on its end on both runtimes
    { name: 'mlp block with a trajectory readout (mse), the same steps', model: () => ({ ...runtimeModels.mlpTrajectory(), solver: { ...runtimeModels.mlpTrajectory().solver, dt: 1 } }), rtol: 1e-4, atol: 1e-6, loss: 'mse', sameSteps: true },
    // tfjs starts every readout segment with dt, onnx with the controller's proposal: other steps, a tight tolerance
    { name: 'mlp block with a trajectory readout (mse), other steps at rtol 1e-6', model: () => runtimeModels.mlpTrajectory(), rtol: 1e-6, atol: 1e-8, loss: 'mse', sameSteps: false },
    // u(t) jumps at every element: the counts differ by rounding at ratios near 1 (adaptive.test.ts); a tight tolerance
    { name: 'sequence ode-rnn (dense block, relu, u(t) per element) at rtol 1e-8', model: () => runtimeModels.denseSeq(), rtol: 1e-8, atol: 1e-10, loss: 'softmax-cross-entropy', sameSteps: false },
    { name: 'mlp block with an input signal u through Zin, readout, at rtol 1e-8', model: () => runtimeModels.mlpSignal(), rtol: 1e-8, atol: 1e-10, loss: 'mse', sameSteps: false, u: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const model = adaptive(c.model(), c.rtol, c.atol, c.model().solver.dt);
      const batch = 3;
      const x = uniformInput(17, batch * inputSize(model));
      const y = c.loss === 'mse' ? uniformInput(5, batch * model.outputs) : labels(batch, model.outputs);
      const u = c.u ? signalInput(model, batch, 19) : undefined;
      const solver = dopri5(c.rtol, c.atol);
      const onnx = await onnxGradients(model, x, y, batch, solver, c.loss, u);
      const ref = tfjsGradients(model, x, y, batch, solver, c.loss, u);
      const counts = `onnx ${JSON.stringify(onnx.stats)}, tfjs ${JSON.stringify(ref.stats)}`;
      expect(onnx.stats!.accepted, counts).toBe(onnx.steps.steps.length);
      expect(onnx.stats!.nfe, counts).toBe(6 * (onnx.stats!.accepted + onnx.stats!.rejected) + (model.readout ? model.readout.times.length : 1));
      // the step counts first: with the same steps both differentiate the same discrete solution
      if (c.sameSteps) expect({ accepted: onnx.stats!.accepted, rejected: onnx.stats!.rejected }, counts).toEqual({ accepted: ref.stats.accepted, rejected: ref.stats.rejected });
      expect(Math.abs(onnx.loss - ref.loss), counts).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.loss)));
      for (const { path } of listTensors(model)) {
        const e = relErr(onnx.grads.get(path)!, ref.grads.get(path)!);
        expect(e, `${path}: relative error ${e} (${counts})`).toBeLessThanOrEqual(c.sameSteps ? 1e-4 : 1e-3);
      }
    });
  }
});

describe('the adaptive gradient program', () => {
  it('solves as the inference executable does (the same steps and outputs); a subset of paths gets the same gradients', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    const batch = 4;
    const x = uniformInput(41, batch * inputSize(model));
    const y = labels(batch, model.outputs);
    const solver = dopri5(1e-5, 1e-7);
    const runtime = new OnnxRuntime({ threads: 1 });
    const exe = await runtime.build(model, { solver });
    const logits = await exe.predict(x, batch);
    const stats = (exe as OnnxAdaptiveExecutable).lastStats!;
    await exe.dispose();
    await runtime.dispose();
    const all = await onnxGradients(model, x, y, batch, solver, 'softmax-cross-entropy');
    expect(all.stats).toEqual(stats);
    let ce = 0;
    for (let b = 0; b < batch; b++) {
      const z = Array.from(logits.subarray(b * 3, b * 3 + 3));
      const m = Math.max(...z);
      ce += m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - z[y[b]!]!;
    }
    expect(all.loss).toBeCloseTo(ce / batch, 5);
    expect(all.correct).toBe(Array.from({ length: batch }, (_, b) => b).filter((b) => Array.from(logits.subarray(b * 3, b * 3 + 3)).indexOf(Math.max(...logits.subarray(b * 3, b * 3 + 3))) === y[b]).length);
    // only the block trains (the pre graph has no trained tensor: no pre backward run); the gradients are those of the full program
    const program = await compileGradientProgram(model, { solver, trainable: (p) => p.startsWith('block.'), loss: 'softmax-cross-entropy', threads: 1 });
    try {
      expect((program as AdaptiveGradientProgram).graphs.preBackward).toBeUndefined();
      expect(program.paths).toEqual(['block.A.weight', 'block.b']);
      // new values fed for a trained tensor change the loss, without recompiling
      const sub = await program.run(new Map(), x, y, batch);
      for (const p of program.paths) expect(Array.from(sub.grads.get(p)!)).toEqual(Array.from(all.grads.get(p)!));
      const A = listTensors(model).find((t) => t.path === 'block.A.weight')!.tensor.data.map((v) => 1.5 * v);
      const moved = await program.run(new Map([['block.A.weight', A]]), x, y, batch);
      expect(Math.abs(moved.loss - sub.loss)).toBeGreaterThan(1e-4);
      const err = await program.run(new Map([['post.0.weight', new Float32Array(24)]]), x, y, batch).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/'post.0.weight' is not a trainable tensor/);
    } finally {
      await program.dispose();
    }
  });

  it('refuses a cross-entropy loss on a trajectory readout, an adaptive solver without a tableau and a tableau without bHat', async () => {
    const traj = adaptive(runtimeModels.mlpTrajectory(), 1e-5, 1e-7);
    await expect(compileGradientProgram(traj, { solver: dopri5(1e-5, 1e-7), trainable: () => true, threads: 1 })).rejects.toThrow(/trajectory readout .* 'mse' or 'l1'/);
    const program = { name: 'adaptive-program', adaptive: true, step: () => ({ y1: undefined as never }) } as unknown as Solver;
    await expect(compileGradientProgram(traj, { solver: program, trainable: () => true, loss: 'mse' })).rejects.toThrow(/adaptive-program is adaptive/);
    const noHat = { name: 'rk4-adaptive', adaptive: true, tableau: REFERENCE_TABLEAUX.rk4 } as Solver;
    await expect(compileGradientProgram(traj, { solver: noHat, trainable: () => true, loss: 'mse' })).rejects.toThrow(/no embedded weights/);
  });
});

// ───────────── the discrete gradient: central finite differences over the frozen steps ─────────────

/** The dense layer y = W x + b of the IR (weight [out, in]) in float64. */
function dense64(l: { weight: { shape: number[]; data: Float32Array }; bias?: { data: Float32Array } }, x: Float64Array): Float64Array {
  const [o, i] = l.weight.shape as [number, number];
  const y = new Float64Array(o);
  for (let r = 0; r < o; r++) {
    let s = l.bias ? l.bias.data[r]! : 0;
    for (let c = 0; c < i; c++) s += l.weight.data[r * i + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

/**
 * The mean softmax cross-entropy of a dense node (dense pre layer, dense ODE block, dense post layer) in float64,
 * its block integrated by Dopri5 steps of the given starts and sizes (core's rkStep over the float64 algebra).
 */
function frozenDenseLoss(model: ModelIR, x: Float32Array, y: Int32Array, batch: number, steps: { t: number; h: number }[]): number {
  const per = x.length / batch;
  const block = model.block as OdeBlock;
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    let v = dense64(model.pre[0] as never, Float64Array.from(x.subarray(b * per, (b + 1) * per)));
    for (const { t, h } of steps) v = rkStep(float64Algebra, DOPRI5, (_t, s) => referenceNonlinear(block, s), t, v, h, { fsal: false }).y1;
    const z = dense64(model.post[0] as never, v);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, zi) => a + Math.exp(zi - m), 0));
    loss += lse - z[y[b]!]!;
  }
  return loss / batch;
}

/**
 * The mean squared error of a trajectory model in float64 over the frozen steps: the conformance kit's reference
 * with a readout at every step's end and `dt` above every step (one step per segment), the original readout times
 * picked out.
 */
function frozenReadoutLoss(model: ModelIR, x: Float32Array, target: Float32Array, batch: number, rec: { steps: { t: number; h: number }[]; readoutSteps: number[] }): number {
  const ends = rec.steps.map((s, k) => (k + 1 < rec.steps.length ? rec.steps[k + 1]!.t : model.readout!.times.at(-1)!));
  // a readout step's end is the readout time itself
  rec.readoutSteps.forEach((k, i) => (ends[k - 1] = model.readout!.times[i]!));
  const frozen: ModelIR = { ...model, solver: { ...model.solver, use: 'frozen', dt: 2 * Math.max(...rec.steps.map((s) => s.h)) }, readout: { kind: 'trajectory', times: ends }, outputs: ends.length * model.block.n };
  const all = referenceForward(frozen, x, batch, DOPRI5).logits;
  const n = model.block.n;
  const T = model.readout!.times.length;
  let sum = 0;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < T; i++) {
      const k = rec.readoutSteps[i]! - 1;
      for (let j = 0; j < n; j++) sum += (all[(b * ends.length + k) * n + j]! - target[(b * T + i) * n + j]!) ** 2;
    }
  }
  return sum / (batch * T * n);
}

/** Central difference of `loss(model)` in entry `i` of the tensor at `path` (float32-rounded steps, h = 1e-3). */
function centralDifference(model: ModelIR, path: string, i: number, loss: (m: ModelIR) => number, h = 1e-3): number {
  const copy = cloneModel(model);
  const t = listTensors(copy).find((e) => e.path === path)!.tensor;
  const w = t.data[i]!;
  const up = Math.fround(w + h);
  const down = Math.fround(w - h);
  t.data[i] = up;
  const lu = loss(copy);
  t.data[i] = down;
  const ld = loss(copy);
  return (lu - ld) / (up - down);
}

describe('the discrete gradient: central differences of a float64 forward pass over the same accepted steps', () => {
  it('dense node (pre, block, post; cross-entropy): every tensor within 1e-5 of its largest entry', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-4, 1e-6);
    const batch = 2;
    const x = uniformInput(31, batch * inputSize(model));
    const y = labels(batch, model.outputs);
    const res = await onnxGradients(model, x, y, batch, dopri5(1e-4, 1e-6), 'softmax-cross-entropy');
    const steps = res.steps.steps;
    expect(steps.length).toBeGreaterThan(1);
    expect(res.loss).toBeCloseTo(frozenDenseLoss(model, x, y, batch, steps), 5);
    for (const { path } of listTensors(model)) {
      const g = res.grads.get(path)!;
      const scale = Math.max(...g.map(Math.abs));
      expect(scale, path).toBeGreaterThan(1e-6);
      for (const i of [0, g.length >> 1, g.length - 1]) {
        const fd = centralDifference(model, path, i, (m) => frozenDenseLoss(m, x, y, batch, steps));
        expect(Math.abs(g[i]! - fd), `${path}[${i}]: ${g[i]} vs ${fd}`).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });

  it('mlp-node with a trajectory readout (mse): the readout seeds join the adjoint at their steps', async () => {
    const model = adaptive(runtimeModels.mlpTrajectory(), 1e-5, 1e-7);
    const batch = 2;
    const x = uniformInput(32, batch * inputSize(model));
    const target = uniformInput(33, batch * model.outputs);
    const res = await onnxGradients(model, x, target, batch, dopri5(1e-5, 1e-7), 'mse');
    const rec = res.steps;
    // several steps per readout segment
    expect(rec.readoutSteps.length).toBe(3);
    expect(rec.readoutSteps.at(-1)).toBe(rec.steps.length);
    expect(rec.readoutSteps[0]!).toBeGreaterThan(1);
    expect(res.loss).toBeCloseTo(frozenReadoutLoss(model, x, target, batch, rec), 5);
    for (const { path } of listTensors(model)) {
      const g = res.grads.get(path)!;
      const scale = Math.max(...g.map(Math.abs));
      expect(scale, path).toBeGreaterThan(1e-6);
      for (const i of [0, g.length >> 1, g.length - 1]) {
        const fd = centralDifference(model, path, i, (m) => frozenReadoutLoss(m, x, target, batch, rec));
        expect(Math.abs(g[i]! - fd), `${path}[${i}]: ${g[i]} vs ${fd}`).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });
});

// ───────────── the trainer ─────────────

/** A tiny van-der-pol dataset: trajectories observed at 15 times over [0, 3]. */
const vdp = (trajectories: number) => createDynamicsDataset({ system: 'van-der-pol', trajectories, test: 4, horizon: 3, samples: 15, seed: 3 });

function mse(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i]! - target[i]!) ** 2;
  return s / pred.length;
}

async function firstBatch(ds: DynamicsDataset, size: number): Promise<Batch> {
  for await (const b of ds.batches('train', size)) return b;
  throw new Error('empty dataset');
}

const vdpModel = (ds: DynamicsDataset, hidden: number, seed: number): ModelIR =>
  mlpNode({ hidden }, { dataset: ds.info, seed, solver: { use: 'dopri5', dt: 0.1, t0: 0, t1: 1, rtol: 1e-4, atol: 1e-6 } });

describe("Trainer 'backprop-onnx' with dopri5", () => {
  const solver = dopri5(1e-4, 1e-6);

  it('trains an mlp-node on 12 van-der-pol trajectories at rtol 1e-4: the MSE falls; the history counts the solves', async () => {
    const ds = vdp(12);
    const model = vdpModel(ds, 12, 1);
    const trainer = new OnnxBackpropTrainer({ threads: 1 });
    expect(trainer.supports(model, solver)).toEqual({ ok: true });
    const res = await trainer.train(model, { epochs: 6, batch: 6, optimizer: 'adam', lr: 0.02, seed: 5 }, { dataset: ds, solver, phase: 'train' });
    const history = res.history as OnnxEpochInfo[];
    const losses = history.map((h) => h.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!, `epoch losses ${losses.map((l) => l.toFixed(4)).join(' ')}`).toBeLessThan(0.5 * losses[0]!);
    for (const h of history) {
      expect(Number.isNaN(h.accuracy)).toBe(true);
      // two batches an epoch, 15 readout segments each: at least one step per segment, FSAL counts
      expect(h.accepted!).toBeGreaterThanOrEqual(2 * 15);
      expect(h.rejected!).toBeGreaterThanOrEqual(0);
      expect(h.nfe).toBe(6 * (h.accepted! + h.rejected!) + 2 * 15);
    }
    // the trained model solves closer to the data on the adaptive executable
    const runtime = new OnnxRuntime({ threads: 1 });
    const trained = await runtime.build(res.model, { solver });
    const initial = await runtime.build(model, { solver });
    try {
      const b = await firstBatch(ds, 12);
      const after = mse(await trained.predict(b.x, b.size), b.targets!);
      const before = mse(await initial.predict(b.x, b.size), b.targets!);
      expect(after, `training-set MSE ${before} → ${after}`).toBeLessThan(0.5 * before);
    } finally {
      await Promise.all([trained.dispose(), initial.dispose(), runtime.dispose()]);
    }
  });

  it('resumes from its checkpoint to the weights of the uninterrupted run, bit for bit; the tolerances are part of the fingerprint', async () => {
    const ds = vdp(8);
    const model = vdpModel(ds, 6, 3);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'odemor-onnx-adaptive-'));
    try {
      const checkpoint = path.join(dir, 'model.odemor');
      const o = { batch: 4, optimizer: 'adam' as const, lr: 0.01, seed: 2 };
      const trainer = new OnnxBackpropTrainer({ threads: 1 });
      const full = await trainer.train(model, { ...o, epochs: 2 }, { dataset: ds, solver, phase: 'train' });
      await trainer.train(model, { ...o, epochs: 1 }, { dataset: ds, solver, phase: 'train', checkpoint });
      const resumed = await trainer.train(model, { ...o, epochs: 2 }, { dataset: ds, solver, phase: 'train', checkpoint, resume: true });
      expect(resumed.history.map((h) => h.loss)).toEqual(full.history.map((h) => h.loss));
      expect((resumed.history as OnnxEpochInfo[]).map((h) => h.accepted)).toEqual((full.history as OnnxEpochInfo[]).map((h) => h.accepted));
      for (const { path: p, tensor } of listTensors(full.model)) {
        expect(Array.from(listTensors(resumed.model).find((t) => t.path === p)!.tensor.data), p).toEqual(Array.from(tensor.data));
      }
      // other tolerances: another discrete problem, the resume is refused
      const looser: ModelIR = { ...model, solver: { ...model.solver, rtol: 1e-3 } };
      await expect(trainer.train(looser, { ...o, epochs: 2 }, { dataset: ds, solver, phase: 'train', checkpoint, resume: true })).rejects.toThrow(/cannot resume.*adaptive/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('classification: close to backprop-tfjs with the same dopri5 (same steps, SGD); fine-tuning the post layers on cached block features', async () => {
    const model: ModelIR = { ...tinyModel(), solver: { use: 'dopri5', dt: 0.25, t0: 0, t1: 1, rtol: 1e-5, atol: 1e-7 } };
    const solver = dopri5(1e-5, 1e-7);
    const ctx = { dataset, solver, phase: 'train' as const };
    const o = { epochs: 2, batch: 16, optimizer: 'sgd' as const, lr: 0.1, seed: 3 };
    const a = await new BackpropTrainer().train(model, o, ctx);
    const b = await new OnnxBackpropTrainer({ threads: 1 }).train(model, o, ctx);
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-5);
    for (const [i, h] of b.history.entries()) {
      expect(h.loss).toBeCloseTo(a.history[i]!.loss, 5);
      expect(h.accuracy).toBe(a.history[i]!.accuracy);
    }
    // post layers only: the block's outputs come from the adaptive executable once, then a post-only program
    const f = await new OnnxBackpropTrainer({ threads: 1 }).train(model, { ...o, params: 'after-block' }, { ...ctx, phase: 'finetune' });
    for (const { path: p, tensor } of listTensors(f.model)) {
      const before = listTensors(model).find((t) => t.path === p)!.tensor.data;
      expect(tensor.data.some((v, i) => v !== before[i]), p).toBe(p.startsWith('post.'));
    }
    expect((f.history as OnnxEpochInfo[])[0]!.accepted).toBeUndefined();
  });

  it('a solve that fails in training (here: maxSteps) stops with a NUMERIC error naming the epoch and batch', async () => {
    const ds = vdp(4);
    const model = vdpModel(ds, 4, 1);
    const tight = new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, { rtol: 1e-4, atol: 1e-6, maxSteps: 3 });
    const err = await new OnnxBackpropTrainer({ threads: 1 }).train(model, { epochs: 1, batch: 2, optimizer: 'sgd', lr: 0.01, seed: 1 }, { dataset: ds, solver: tight, phase: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdemorError);
    expect((err as OdemorError).code).toBe('NUMERIC');
    expect((err as Error).message).toMatch(/^train: the adaptive solve failed in epoch 1, batch 1 .*maxSteps \(3\) reached/);
  });

  it('refuses adaptive step programs (no tableau) and adaptive tableaux without embedded weights', async () => {
    const ds = vdp(4);
    const model = vdpModel(ds, 4, 1);
    const trainer = new OnnxBackpropTrainer({ threads: 1 });
    const program: Solver = { name: 'adaptive-program', order: 2, adaptive: true, step: () => ({ y1: undefined as never }) };
    const expected = 'adaptive-program is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver';
    expect(trainer.supports(model, program)).toEqual({ ok: false, reason: expected });
    const options = { epochs: 1, batch: 2, optimizer: 'sgd' as const, lr: 0.01, seed: 1 };
    const err = await trainer.train(model, options, { dataset: ds, solver: program, phase: 'train' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdemorError);
    expect((err as OdemorError).code).toBe('RUNTIME');
    expect((err as Error).message).toBe(`trainer 'backprop-onnx': ${expected}`);
    const noHat = { name: 'rk4-adaptive', order: 4, adaptive: true, tableau: REFERENCE_TABLEAUX.rk4 } as Solver;
    expect(trainer.supports(model, noHat)).toEqual({ ok: false, reason: "solver 'rk4-adaptive' is adaptive but its Butcher tableau has no embedded weights (bHat) for the error estimate" });
    await expect(trainer.train(model, options, { dataset: ds, solver: noHat, phase: 'train' })).rejects.toThrow(/no embedded weights/);
  });
});

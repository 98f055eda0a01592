/**
 * System identification on onnxruntime: mlp blocks, reduced blocks with Zin and bias, state inputs with input
 * signals and trajectory readouts — the unrolled graph and the adaptive loop against core's float64
 * `simulateBlock` and the conformance kit's reference, the gradients of the new ops against central finite
 * differences of the float64 reference, MSE training on a `@odemor/dataset-dynamics` dataset, and the errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  ExplicitRungeKuttaSolver,
  OdemorError,
  cloneModel,
  listTensors,
  mlpNode,
  sequenceIndex,
  simulateBlock,
  type Batch,
  type Block,
  type ButcherTableau,
  type ModelIR,
  type Solver,
  type SolverSpec,
} from '@odemor/core';
import { REFERENCE_TABLEAUX, inputSize, referenceForward, runtimeModels, signalInput, uniformInput } from '@odemor/conformance';
import { createDynamicsDataset, type DynamicsDataset } from '@odemor/dataset-dynamics';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OnnxAdaptiveExecutable, OnnxBackpropTrainer, OnnxExecutable, OnnxRuntime, compileGradientProgram, lossAndGradients, runOnnxFile } from '../src/index.js';

const { rk4, dopri5: DOPRI5 } = REFERENCE_TABLEAUX;
const RK4: Solver = new ExplicitRungeKuttaSolver('rk4', rk4, false);
const runtime = new OnnxRuntime({ threads: 1 });
afterAll(() => runtime.dispose());

/** max over entries of |a − b| / (1 + |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

/** The first batch of a dataset split (in storage order). */
async function firstBatch(ds: DynamicsDataset, size: number): Promise<Batch> {
  for await (const b of ds.batches('train', size)) return b;
  throw new Error('empty dataset');
}

/**
 * core's float64 RK4 `simulateBlock` run segment by segment to each readout time (E = D = identity: an mlp
 * block), [batch, T·n] row-major; `u` [batch, steps, channels] feeds the block's input.
 */
function simulateReadout(model: ModelIR, x: Float32Array, batch: number, u?: Float32Array): Float64Array {
  const block = model.block;
  const n = block.n;
  const times = model.readout!.times;
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  const { t0, dt } = model.solver;
  const input = sig && u
    ? (t: number, sample: number) => {
        const j = sequenceIndex(t, t0, sig.stepDuration, sig.steps);
        const o = (sample * sig.steps + j) * sig.channels;
        return u.subarray(o, o + sig.channels);
      }
    : undefined;
  let states: Float64Array[] = Array.from({ length: batch }, (_, i) => Float64Array.from(x.subarray(i * n, (i + 1) * n)));
  const out = new Float64Array(batch * times.length * n);
  let from = t0;
  times.forEach((to, k) => {
    states = simulateBlock(block as Block, states, { t0: from, t1: to, dt, ...(input ? { input } : {}) });
    states.forEach((s, i) => out.set(s, (i * times.length + k) * n));
    from = to;
  });
  return out;
}

/** A Van der Pol dataset (2 states, no input) with `trajectories` training trajectories observed at 0.2, …, 3. */
const vdp = (trajectories = 16) => createDynamicsDataset({ system: 'van-der-pol', trajectories, test: 4, horizon: 3, samples: 15, seed: 3 });
/** A vehicle dataset (6 states, inputs steering and force, moderate amplitudes) observed at 0.1, …, 1. */
const vehicle = () => createDynamicsDataset({ system: 'vehicle', trajectories: 4, test: 2, horizon: 1, samples: 10, inputDt: 0.05, forceMax: 1, seed: 4 });
const rk4Spec = (dt: number): SolverSpec => ({ use: 'rk4', dt, t0: 0, t1: 1 });

describe('mlp-node forward (unrolled fixed steps) against core float64 simulateBlock at every readout time', () => {
  it('van-der-pol-like: mlp-node on a dynamics dataset, rk4 (dt 0.07: shortened last steps in every segment)', async () => {
    const ds = vdp();
    const model = mlpNode({ hidden: 16, scale: 2 }, { dataset: ds.info, seed: 7, solver: rk4Spec(0.07) });
    expect(model.input).toEqual({ kind: 'state', size: 2 });
    expect(model.outputs).toBe(15 * 2);
    expect(runtime.supports(model)).toEqual({ ok: true });
    const exe = await runtime.build(model, { solver: RK4 });
    expect(exe).toBeInstanceOf(OnnxExecutable);
    try {
      const b = await firstBatch(ds, 5);
      const got = await exe.predict(b.x, b.size);
      const want = simulateReadout(model, b.x, b.size);
      expect(got.length).toBe(b.size * model.outputs);
      expect(relErr(got, want)).toBeLessThan(1e-4);
      // the field is not trivial: the states move away from x0
      expect(Math.abs(want[2 * 14]! - b.x[0]!)).toBeGreaterThan(1e-2);
      // and the reference of the conformance kit agrees
      expect(relErr(got, referenceForward(model, b.x, b.size, rk4).logits)).toBeLessThan(1e-4);
    } finally {
      await exe.dispose();
    }
  });

  it('vehicle-like with an input signal u (steering, force) through Zin', async () => {
    const ds = vehicle();
    const model = mlpNode({ hidden: 12, scale: 1.5 }, { dataset: ds.info, seed: 8, solver: rk4Spec(0.05) });
    expect(model.input).toEqual({ kind: 'state', size: 6, signal: { steps: 20, channels: 2, stepDuration: 0.05 } });
    expect(model.block.kind === 'mlp' && model.block.Zin?.shape).toEqual([12, 2]);
    const exe = await runtime.build(model, { solver: RK4 });
    try {
      const b = await firstBatch(ds, 4);
      expect(b.u?.length).toBe(4 * 20 * 2);
      const got = await exe.predict(b.x, b.size, { u: b.u! });
      const want = simulateReadout(model, b.x, b.size, b.u);
      expect(relErr(got, want)).toBeLessThan(1e-4);
      // the signal matters: with u = 0 the states differ
      const still = simulateReadout(model, b.x, b.size, new Float32Array(b.u!.length));
      expect(relErr(still, want)).toBeGreaterThan(1e-3);
    } finally {
      await exe.dispose();
    }
  });

  it('a saved graph with an input signal runs from the file with options.u (and asks for it)', async () => {
    const model = runtimeModels.mlpSignal();
    const exe = (await runtime.build(model, { solver: RK4 })) as OnnxExecutable;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'odemor-onnx-'));
    try {
      const file = path.join(dir, 'mlp.onnx');
      await exe.save(file);
      const x = uniformInput(3, 2 * inputSize(model));
      const u = signalInput(model, 2, 4)!;
      expect(Array.from(await runOnnxFile(file, x, 2, { threads: 1, u }))).toEqual(Array.from(await exe.predict(x, 2, { u })));
      await expect(runOnnxFile(file, x, 2, { threads: 1 })).rejects.toThrow(/input signal u \[batch, 8, 2\]: pass options\.u/);
    } finally {
      await exe.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a reduced mlp block (E, D dense; Zin inside σ, Zr, bias) against the float64 reference, rk4 and euler', async () => {
    const model = runtimeModels.reducedMlpSignal();
    for (const [name, tableau] of [['rk4', rk4], ['euler', REFERENCE_TABLEAUX.euler]] as const) {
      const exe = await runtime.build({ ...model, solver: { ...model.solver, use: name } }, { tableau });
      try {
        const x = uniformInput(5, 3 * inputSize(model));
        const u = signalInput(model, 3, 6)!;
        const got = await exe.predict(x, 3, { u });
        expect(relErr(got, referenceForward(model, x, 3, tableau, 0, { u }).logits)).toBeLessThan(1e-4);
      } finally {
        await exe.dispose();
      }
    }
  });
});

describe('adaptive (dopri5) trajectory readouts', () => {
  const dopri5 = (rtol: number, atol: number): Solver => new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, { rtol, atol });

  it('land on every readout time and match a tight float64 solve; lastStats count the whole solve', async () => {
    for (const base of [runtimeModels.mlpSignal(), runtimeModels.reducedMlpSignal(), runtimeModels.mlpTrajectory()]) {
      const model: ModelIR = { ...base, solver: { ...base.solver, use: 'dopri5', rtol: 1e-7, atol: 1e-9 } };
      expect(runtime.supports(model)).toEqual({ ok: true });
      const exe = await runtime.build(model, { solver: dopri5(1e-7, 1e-9), tableau: DOPRI5 });
      expect(exe).toBeInstanceOf(OnnxAdaptiveExecutable);
      try {
        const x = uniformInput(9, 3 * inputSize(model));
        const u = signalInput(model, 3, 10);
        const got = await exe.predict(x, 3, u ? { u } : undefined);
        // RK4 with dt = 1/2000 in float64: error ≪ the tolerance
        const ref = referenceForward({ ...model, solver: { ...model.solver, dt: 5e-4 } }, x, 3, rk4, 0, u ? { u } : {});
        expect(relErr(got, ref.logits), model.name).toBeLessThan(1e-4);
        const stats = (exe as OnnxAdaptiveExecutable).lastStats!;
        // at least one accepted step per readout segment; dopri5 is FSAL: 6 evaluations per attempt and one f per segment
        expect(stats.accepted).toBeGreaterThanOrEqual(model.readout!.times.length);
        expect(stats.nfe).toBe(6 * (stats.accepted + stats.rejected) + model.readout!.times.length);
      } finally {
        await exe.dispose();
      }
    }
  });

  it('a loose tolerance takes fewer steps and is still close; maxSteps counts over all segments', async () => {
    const base = runtimeModels.mlpSignal();
    const x = uniformInput(12, 2 * inputSize(base));
    const u = signalInput(base, 2, 13)!;
    const run = async (rtol: number, maxSteps?: number) => {
      const model: ModelIR = { ...base, solver: { ...base.solver, use: 'dopri5', rtol, atol: rtol * 1e-2 } };
      const solver = new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, { rtol, atol: rtol * 1e-2, ...(maxSteps ? { maxSteps } : {}) });
      const exe = (await runtime.build(model, { solver, tableau: DOPRI5 })) as OnnxAdaptiveExecutable;
      try {
        return { y: await exe.predict(x, 2, { u }), stats: exe.lastStats! };
      } finally {
        await exe.dispose();
      }
    };
    const tight = await run(1e-8);
    const loose = await run(1e-3);
    expect(loose.stats.accepted).toBeLessThan(tight.stats.accepted);
    // (u jumps at every element: the loose solve's error is ~1e-2)
    expect(relErr(loose.y, tight.y)).toBeLessThan(5e-2);
    const err = await run(1e-8, tight.stats.accepted - 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdemorError);
    expect((err as OdemorError).code).toBe('NUMERIC');
    expect((err as OdemorError).message).toMatch(/maxSteps/);
  });
});

// ───────────── gradients ─────────────

/** Mean squared error over every entry. */
function mse(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i]! - target[i]!) ** 2;
  return s / pred.length;
}

/** Central difference of the float64 reference MSE in entry `i` of the tensor at `path` (float32-rounded steps). */
function finiteDifference(model: ModelIR, path: string, i: number, x: Float32Array, target: Float32Array, batch: number, tableau: ButcherTableau, u: Float32Array | undefined, h = 1e-3): number {
  const copy = cloneModel(model);
  const t = listTensors(copy).find((e) => e.path === path)!.tensor;
  const w = t.data[i]!;
  const loss = (v: number): number => {
    t.data[i] = v;
    return mse(referenceForward(copy, x, batch, tableau, 0, u ? { u } : {}).logits, target);
  };
  const up = Math.fround(w + h);
  const down = Math.fround(w - h);
  return (loss(up) - loss(down)) / (up - down);
}

const GRAD_CASES: { name: string; model: () => ModelIR; paths: string[] }[] = [
  { name: 'mlp block, readout (M, c, N, bias)', model: () => runtimeModels.mlpTrajectory(), paths: ['block.M', 'block.c', 'block.N', 'block.bias'] },
  { name: 'mlp block with a signal through Zin, readout', model: () => runtimeModels.mlpSignal(), paths: ['block.M', 'block.N', 'block.bias', 'block.Zin'] },
  { name: 'reduced block with Zin, Zr, bias on a state input with a signal, readout', model: () => runtimeModels.reducedMlpSignal(), paths: ['block.E.weight', 'block.Zin', 'block.Zr', 'block.bias', 'block.D.weight'] },
  { name: 'reduced block with Zin and bias on a sequence input (no readout)', model: () => runtimeModels.seqReducedZin(), paths: ['block.Zin', 'block.bias', 'post.0.weight'] },
];

describe('gradients of the MSE against central finite differences of the float64 reference (rk4)', () => {
  for (const c of GRAD_CASES) {
    it(c.name, async () => {
      const model = c.model();
      const batch = 2;
      const x = uniformInput(23, batch * inputSize(model));
      const u = signalInput(model, batch, 24);
      const target = uniformInput(25, batch * model.outputs);
      const res = await lossAndGradients(model, x, target, { tableau: rk4, loss: 'mse', threads: 1 }, u ? { u } : undefined);
      expect(res.loss).toBeCloseTo(mse(referenceForward(model, x, batch, rk4, 0, u ? { u } : {}).logits, target), 5);
      expect(res.correct).toBe(0);
      for (const path of c.paths) {
        const g = res.grads.get(path)!;
        expect(g, path).toBeDefined();
        const scale = Math.max(...g.map(Math.abs));
        expect(scale, `${path}: a nonzero gradient`).toBeGreaterThan(1e-6);
        for (const i of [0, g.length >> 1, g.length - 1]) {
          const fd = finiteDifference(model, path, i, x, target, batch, rk4, u);
          expect(Math.abs(g[i]! - fd), `${path}[${i}]: ${g[i]} vs ${fd}`).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-3));
        }
      }
    });
  }

  it('a gradient program of a signal model needs inputs.u of the right length', async () => {
    const model = runtimeModels.mlpSignal();
    const program = await compileGradientProgram(model, { tableau: rk4, trainable: () => true, loss: 'mse', threads: 1 });
    try {
      const x = uniformInput(1, 2 * inputSize(model));
      const target = new Float32Array(2 * model.outputs);
      await expect(program.run(new Map(), x, target, 2)).rejects.toThrow(/inputs\.u/);
      await expect(program.run(new Map(), x, target, 2, { u: new Float32Array(5) })).rejects.toThrow(/inputs\.u has 5 values/);
      const ok = await program.run(new Map(), x, target, 2, { u: signalInput(model, 2, 2)! });
      expect(Number.isFinite(ok.loss)).toBe(true);
    } finally {
      await program.dispose();
    }
  });
});

// ───────────── training ─────────────

describe('backprop-onnx on a trajectory dataset (MSE)', () => {
  it('trains an mlp-node on 16 van-der-pol trajectories: the training MSE falls below half of the first epoch', async () => {
    const ds = vdp(16);
    const model = mlpNode({ hidden: 16 }, { dataset: ds.info, seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } });
    const trainer = new OnnxBackpropTrainer({ threads: 1 });
    expect(trainer.supports(model, RK4)).toEqual({ ok: true });
    const details: string[] = [];
    const res = await trainer.train(
      model,
      { epochs: 12, batch: 8, optimizer: 'adam', lr: 0.02, seed: 5 },
      { dataset: ds, solver: RK4, phase: 'train', onProgress: (_d, _t, detail) => void (detail && details.push(detail)) },
    );
    const losses = res.history.map((h) => h.loss);
    expect(losses.length).toBe(12);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.5 * losses[0]!);
    // regression: no accuracy, and the progress line shows the loss only
    expect(res.history.every((h) => Number.isNaN(h.accuracy))).toBe(true);
    expect(res.summary.finalLoss).toBe(losses[losses.length - 1]);
    expect(Number.isNaN(res.summary.finalAccuracy)).toBe(true);
    expect(details.length).toBe(12 * 2);
    expect(details[0]).toMatch(/loss \d/);
    expect(details[0]).not.toMatch(/acc/);
    // the trained model's tensors changed, the MSE on the training set agrees with the last epoch's order of magnitude
    const trained = await runtime.build(res.model, { solver: RK4 });
    const initial = await runtime.build(model, { solver: RK4 });
    try {
      const b = await firstBatch(ds, 16);
      const after = mse(await trained.predict(b.x, b.size), b.targets!);
      const before = mse(await initial.predict(b.x, b.size), b.targets!);
      expect(after, `epoch losses ${losses.map((l) => l.toFixed(4)).join(' ')}; training-set MSE ${before} → ${after}`).toBeLessThan(0.5 * before);
    } finally {
      await Promise.all([trained.dispose(), initial.dispose()]);
    }
  });

  it('trains a vehicle-like mlp-node with input signals (one epoch, a ParamSelection) and refuses a mismatch of targets and outputs', async () => {
    const ds = vehicle();
    const model = mlpNode({ hidden: 8 }, { dataset: ds.info, seed: 2, solver: rk4Spec(0.1) });
    const trainer = new OnnxBackpropTrainer({ threads: 1 });
    const res = await trainer.train(model, { epochs: 1, batch: 2, optimizer: 'adam', lr: 0.01, seed: 1, params: ['block.Zin', 'block.bias'] }, { dataset: ds, solver: RK4, phase: 'train' });
    expect(Number.isFinite(res.history[0]!.loss)).toBe(true);
    const before = new Map(listTensors(model).map((t) => [t.path, t.tensor.data]));
    for (const { path, tensor } of listTensors(res.model)) {
      const changed = tensor.data.some((v, i) => v !== before.get(path)![i]);
      expect(changed, path).toBe(path === 'block.Zin' || path === 'block.bias');
    }
    const other = mlpNode({ hidden: 8 }, { dataset: vdp().info, seed: 2, solver: rk4Spec(0.1) });
    await expect(trainer.train(other, { epochs: 1, batch: 2, optimizer: 'sgd', lr: 0.01, seed: 1 }, { dataset: ds, solver: RK4, phase: 'train' })).rejects.toThrow(/targets \[10, 6\].*outputs = 30/);
  });

  it('resumes a regression run from its checkpoint: the history keeps the loss and a NaN accuracy', async () => {
    const ds = vdp(8);
    const model = mlpNode({ hidden: 6 }, { dataset: ds.info, seed: 3, solver: { use: 'rk4', dt: 0.2, t0: 0, t1: 1 } });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'odemor-onnx-'));
    try {
      const checkpoint = path.join(dir, 'model.json');
      const o = { batch: 4, optimizer: 'adam' as const, lr: 0.01, seed: 2 };
      const ctx = { dataset: ds, solver: RK4, phase: 'train' as const, checkpoint };
      const trainer = new OnnxBackpropTrainer({ threads: 1 });
      const full = await trainer.train(model, { ...o, epochs: 2 }, { dataset: ds, solver: RK4, phase: 'train' });
      await trainer.train(model, { ...o, epochs: 1 }, ctx);
      const resumed = await trainer.train(model, { ...o, epochs: 2 }, { ...ctx, resume: true });
      expect(resumed.history.map((h) => h.loss)).toEqual(full.history.map((h) => h.loss));
      expect(resumed.history.every((h) => Number.isNaN(h.accuracy))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trains with dopri5 too: backprop through the accepted steps (adaptive-train.test.ts has the checks)', async () => {
    const ds = vdp(4);
    const model = mlpNode({ hidden: 4 }, { dataset: ds.info, seed: 1, solver: { use: 'dopri5', dt: 0.1, t0: 0, t1: 1 } });
    const dopri5 = new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true);
    const trainer = new OnnxBackpropTrainer({ threads: 1 });
    expect(trainer.supports(model, dopri5)).toEqual({ ok: true });
    const res = await trainer.train(model, { epochs: 1, batch: 2, optimizer: 'sgd', lr: 0.01, seed: 1 }, { dataset: ds, solver: dopri5, phase: 'train' });
    expect(Number.isFinite(res.history[0]!.loss)).toBe(true);
  });
});

// ───────────── errors and refusals ─────────────

describe('errors', () => {
  it('predict of a signal model without inputs.u, or with a u of the wrong length, is a SHAPE error naming inputs.u (both executables)', async () => {
    const model = runtimeModels.mlpSignal();
    const adaptive: ModelIR = { ...model, solver: { ...model.solver, use: 'dopri5', rtol: 1e-5, atol: 1e-7 } };
    const x = uniformInput(1, 2 * inputSize(model));
    for (const [m, opts] of [[model, { solver: RK4 }], [adaptive, { tableau: DOPRI5 }]] as const) {
      const exe = await runtime.build(m, opts);
      try {
        for (const [inputs, pattern] of [
          [undefined, /pass inputs\.u, \[batch 2, steps 8, channels 2\] = 32 values/],
          [{}, /pass inputs\.u/],
          [{ u: new Float32Array(31) }, /inputs\.u has 31 values but batch 2 × \[steps 8, channels 2\] needs 32/],
        ] as const) {
          const err = await exe.predict(x, 2, inputs).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(OdemorError);
          expect((err as OdemorError).code).toBe('SHAPE');
          expect((err as OdemorError).message).toMatch(pattern);
        }
      } finally {
        await exe.dispose();
      }
    }
    // a model without a signal refuses a u
    const plain = runtimeModels.mlpTrajectory();
    const exe = await runtime.build(plain, { solver: RK4 });
    try {
      await expect(exe.predict(uniformInput(1, 2), 1, { u: new Float32Array(4) })).rejects.toThrow(/inputs\.u is given .* no input signal/);
    } finally {
      await exe.dispose();
    }
  });

  it('snapshot passes refuse mlp blocks and trajectory readouts; supports() takes midpoint networks and refuses solvers needing more than 3 derivatives', async () => {
    const mlp = runtimeModels.mlpClassifier();
    await expect(runtime.snapshotBatch(mlp, uniformInput(1, 8), 2, { every: 1, solver: RK4 })).rejects.toThrow(/full ODE block; this model has a 'mlp' block/);
    const trajectory = runtimeModels.mlpTrajectory();
    await expect(runtime.snapshotBatch(trajectory, uniformInput(1, 4), 2, { every: 1, solver: RK4 })).rejects.toThrow(/snapshot passes need a full ODE block/);
    // a midpoint network compiles (a Runge–Kutta solver never evaluates it: the same logits as without)
    const midpoint: ModelIR = { ...trajectory, midpoint: { layers: [{ type: 'dense', weight: { shape: [2, 2], data: new Float32Array(4) } }] } };
    expect(runtime.supports(midpoint)).toEqual({ ok: true });
    const x = uniformInput(2, 4);
    const [withNet, without] = await Promise.all([midpoint, trajectory].map(async (m) => {
      const exe = await runtime.build(m, { solver: RK4 });
      try {
        return await exe.predict(x, 2);
      } finally {
        await exe.dispose();
      }
    }));
    expect(Array.from(withNet!)).toEqual(Array.from(without!));
    // a tableau solver that declares derivatives (up to 3) is fine; 4 are more than the compiler builds
    const taylor3 = Object.assign(new ExplicitRungeKuttaSolver('taylor-3', rk4, false), { derivatives: 3 });
    expect(new OnnxRuntime({ threads: 1, solver: taylor3 }).supports(trajectory)).toEqual({ ok: true });
    const taylor = Object.assign(new ExplicitRungeKuttaSolver('taylor-4', rk4, false), { derivatives: 4 });
    const withTaylor = new OnnxRuntime({ threads: 1, solver: taylor });
    const sup = withTaylor.supports(trajectory);
    expect(sup.ok).toBe(false);
    expect(!sup.ok && sup.reason).toMatch(/time derivatives of the solution up to order 4 \(x⁽⁴⁾\), but the onnx runtime computes them up to order 3 only/);
    await expect(withTaylor.build(trajectory)).rejects.toThrow(/time derivatives/);
    expect(new OnnxBackpropTrainer().supports(trajectory, taylor).ok).toBe(false);
  });
});

describe('lastStats of an unrolled graph', () => {
  it('reports the evaluations and steps of one run, known from the compile (summed over readout segments)', async () => {
    const { OnnxRuntime: Rt } = await import('../src/runtime.js');
    const { Rk4Solver } = await import('@odemor/solver-rk4');
    const { mlpNode } = await import('@odemor/core');
    const info = { inputShape: [2], kind: 'trajectory' as const, numClasses: 0, task: 'regression' as const, targetShape: [3, 2], times: [0.25, 0.5, 1], t0: 0, trainSize: 1, testSize: 1 };
    const model = mlpNode({ hidden: 4 }, { dataset: info, seed: 1, solver: { use: 'rk4', dt: 0.25, t0: 0, t1: 1 } });
    const rt = new Rt({ solver: new Rk4Solver() });
    const exe = await rt.build(model);
    try {
      expect(exe.lastStats).toBeUndefined();
      await exe.predict(new Float32Array([0.1, 0.2, 0.3, 0.4]), 2);
      // segments [0, 0.25], [0.25, 0.5], [0.5, 1]: 1 + 1 + 2 steps of 4 stages
      expect(exe.lastStats).toEqual({ nfe: 16, accepted: 4, rejected: 0 });
    } finally {
      await exe.dispose();
      await rt.dispose?.();
    }
  });
});

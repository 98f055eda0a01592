/**
 * The adjoint method on onnxruntime (docs/algorithms.md#adjoint): its gradient converges to backprop-onnx's
 * (`lossAndGradients`, the exact gradient of the discrete solve) at the solver's order as dt → 0 and as rtol → 0
 * with dopri5; the program's graphs do not grow with the number of steps (backprop's unrolled graph does); Trainer
 * 'adjoint' trains, checks its options and refuses what it cannot do.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExplicitRungeKuttaSolver, mlpNode, type Batch, type ModelIR, type MlpBlock, type Solver, type Tensor32 } from '@odemor/core';
import { createDynamicsDataset, type DynamicsDataset } from '@odemor/dataset-dynamics';
import { REFERENCE_TABLEAUX, inputSize, runtimeModels, signalInput, uniformInput } from '@odemor/conformance';
import { OnnxBackpropTrainer, buildGradientGraph, lossAndGradients, type GradientResult, type LossKind, type OnnxEpochInfo } from '@odemor/runtime-onnx';
import plugin, { AdjointGradientProgram, AdjointTrainer, adjointLossAndGradients, buildAdjointGraphs, compileAdjointProgram } from '../src/index.js';

const { euler: EULER, rk4: RK4, dopri5: DOPRI5 } = REFERENCE_TABLEAUX;
const dopri5 = (rtol: number, atol: number): Solver => new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, { rtol, atol });
const rk4: Solver = new ExplicitRungeKuttaSolver('rk4', RK4, false);

/** max over every trained tensor of |adjoint − backprop|, over max |backprop|. */
function gradError(adj: GradientResult, bp: GradientResult): number {
  let d = 0;
  let m = 0;
  for (const [path, v] of bp.grads) {
    const w = adj.grads.get(path);
    expect(w, path).toBeDefined();
    expect(w!.length).toBe(v.length);
    for (let i = 0; i < v.length; i++) {
      d = Math.max(d, Math.abs(w![i]! - v[i]!));
      m = Math.max(m, Math.abs(v[i]!));
    }
  }
  return d / m;
}

interface Case {
  model: ModelIR;
  x: Float32Array;
  y: Int32Array | Float32Array;
  loss: LossKind;
  u?: Float32Array;
}

/** The adjoint and the backprop gradient of `c` with `model.solver` replaced by `solver` (and the tableau or solver given). */
async function compare(c: Case, spec: Partial<ModelIR['solver']>, integrator: { tableau: typeof RK4 } | { solver: Solver }) {
  const model: ModelIR = { ...c.model, solver: { ...c.model.solver, ...spec } };
  const opts = { ...integrator, loss: c.loss, threads: 1 };
  const inputs = c.u ? { u: c.u } : undefined;
  const bp = await lossAndGradients(model, c.x, c.y, opts, inputs);
  const adj = await adjointLossAndGradients(model, c.x, c.y, opts, inputs);
  return { bp, adj, error: gradError(adj, bp) };
}

/** The dense-node of the runtime suite (dense pre, tanh block n = 8, dense post), classification over [0, 3]. */
function denseCase(): Case {
  const model = { ...runtimeModels.denseNode(), solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 3 } };
  return { model, x: uniformInput(3, 4 * inputSize(model)), y: Int32Array.from([0, 1, 2, 1]), loss: 'softmax-cross-entropy' };
}

const vdpData = (trajectories: number, samples: number): DynamicsDataset =>
  createDynamicsDataset({ system: 'van-der-pol', trajectories, test: 2, horizon: 3, samples, seed: 3 });

async function firstBatch(ds: DynamicsDataset, size: number): Promise<Batch> {
  for await (const b of ds.batches('train', size)) return b;
  throw new Error('empty dataset');
}

const scaled = (t: Tensor32, k: number): Tensor32 => ({ shape: t.shape, data: Float32Array.from(t.data, (v) => v * k) });

/**
 * An mlp-node (hidden 12) on van-der-pol trajectories read out at t = 1, 2, 3 (mse), its M and N scaled by 4 so that
 * the dynamics are nonlinear enough for the solver's error to show above float32 rounding.
 */
async function vdpCase(): Promise<Case> {
  const ds = vdpData(6, 3);
  const base = mlpNode({ hidden: 12 }, { dataset: ds.info, seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 3 } });
  const block = base.block as MlpBlock;
  const model: ModelIR = { ...base, block: { ...block, M: scaled(block.M, 4), N: scaled(block.N, 4) } };
  expect(model.readout?.times).toEqual([1, 2, 3]);
  const b = await firstBatch(ds, 4);
  return { model, x: b.x, y: b.targets!, loss: 'mse' };
}

/** errors[i] / errors[i + 1] */
const ratios = (errors: number[]) => errors.slice(1).map((e, i) => errors[i]! / e);

describe('adjoint gradients converge to backprop-onnx gradients', () => {
  it('dense-node, euler: the error halves with dt (first order); the loss is the same forward solve', async () => {
    const c = denseCase();
    const errors: number[] = [];
    for (const dt of [0.1, 0.05, 0.025]) {
      const r = await compare(c, { use: 'euler', dt }, { tableau: EULER });
      expect(r.adj.loss).toBeCloseTo(r.bp.loss, 5);
      errors.push(r.error);
    }
    // measured: 0.052, 0.027, 0.0137
    expect(errors[0]!).toBeLessThan(0.2);
    for (const q of ratios(errors)) expect(q, `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(1.7), expect(q).toBeLessThan(2.3);
  });

  it('dense-node, rk4: the error falls ~16× from dt 0.4 to 0.2 (fourth order), then reaches float32 rounding', async () => {
    const c = denseCase();
    const errors: number[] = [];
    for (const dt of [0.4, 0.2, 0.1]) errors.push((await compare(c, { use: 'rk4', dt }, { tableau: RK4 })).error);
    // measured: 9.7e-5, 6.0e-6, 8.3e-7
    expect(ratios(errors)[0]!, `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(10);
    expect(errors[2]!).toBeLessThan(3e-6);
  });

  it('van-der-pol mlp-node (trajectory readout, mse), euler: the error halves with dt', async () => {
    const c = await vdpCase();
    const errors: number[] = [];
    for (const dt of [0.1, 0.05, 0.025]) errors.push((await compare(c, { use: 'euler', dt }, { tableau: EULER })).error);
    // measured: 0.019, 0.0097, 0.0049
    for (const q of ratios(errors)) expect(q, `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(1.7), expect(q).toBeLessThan(2.3);
  });

  it('van-der-pol mlp-node and dense-node, dopri5: the error falls as rtol → 0', async () => {
    const vdp = await vdpCase();
    const dense = denseCase();
    for (const [c, rtols, last] of [
      // measured: 1.2e-3, 7.6e-5, ~1e-6
      [vdp, [1e-3, 1e-5, 1e-7], 1e-5],
      // measured: 8.5e-3, 6.0e-5, 4.4e-7
      [dense, [1e-2, 1e-4, 1e-6], 3e-6],
    ] as const) {
      const errors: number[] = [];
      for (const rtol of rtols) {
        const r = await compare(c, { use: 'dopri5', dt: 1, rtol, atol: rtol * 1e-2 }, { solver: dopri5(rtol, rtol * 1e-2) });
        expect(r.adj.stats, 'an adaptive run reports the forward solve').toEqual(r.adj.adjointStats.forward);
        expect(r.adj.adjointStats.backward.accepted).toBeGreaterThan(0);
        errors.push(r.error);
      }
      const msg = `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`;
      expect(errors[1]!, msg).toBeLessThan(errors[0]! / 5);
      expect(errors[2]!, msg).toBeLessThan(errors[1]!);
      expect(errors[2]!, msg).toBeLessThan(last);
    }
  });

  it('conv, reduced, antisymmetric and mlp-classifier models agree with backprop at rk4 dt 0.05', async () => {
    for (const model of [runtimeModels.convNode(), runtimeModels.deimReduced(), runtimeModels.antisymmetricNode(), runtimeModels.mlpClassifier()]) {
      const c: Case = { model, x: uniformInput(3, 3 * inputSize(model)), y: Int32Array.from([0, 1, 2].map((v) => v % model.outputs)), loss: 'softmax-cross-entropy' };
      const r = await compare(c, { use: 'rk4', dt: 0.05 }, { tableau: RK4 });
      expect(r.error, model.name).toBeLessThan(2e-5);
    }
  });

  it('input signals (sequence input, a state input with u): first order, as the piecewise-constant input makes the discrete solve', async () => {
    // dt divides each signal element (0.125 and 0.1): the error halves with dt
    for (const base of [runtimeModels.mlpSignal(), runtimeModels.denseSeq()]) {
      const reg = !!base.readout;
      const c: Case = {
        model: base,
        x: uniformInput(3, 3 * inputSize(base)),
        y: reg ? uniformInput(4, 3 * base.outputs) : Int32Array.from([0, 1, 2].map((v) => v % base.outputs)),
        loss: reg ? 'mse' : 'softmax-cross-entropy',
        ...(signalInput(base, 3, 7) ? { u: signalInput(base, 3, 7)! } : {}),
      };
      const errors: number[] = [];
      for (const dt of [0.025, 0.0125]) errors.push((await compare(c, { use: 'rk4', dt }, { tableau: RK4 })).error);
      // measured: mlpSignal 9.4e-3, 4.7e-3; denseSeq 2.4e-2, 1.2e-2
      expect(ratios(errors)[0]!, `${base.name}: errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(1.6);
    }
  });
});

describe('memory: nothing per step', () => {
  it("the adjoint's graphs are the same for 100 and 1000 steps; backprop's unrolled gradient graph grows", async () => {
    const c = denseCase();
    const sizes = (dt: number) => {
      const model: ModelIR = { ...c.model, solver: { use: 'euler', dt, t0: 0, t1: 1 } };
      const g = buildAdjointGraphs(model, { tableau: EULER, adaptive: false, trainable: () => true });
      const adjoint = g.fixed!.stepMap.bytes.length + g.fixed!.pre!.bytes.length + g.post.bytes.length + g.augmented.bytes.length + (g.preBackward?.bytes.length ?? 0);
      return { adjoint, backprop: buildGradientGraph(model, { tableau: EULER, trainable: () => true }).bytes.length };
    };
    const s100 = sizes(0.01);
    const s1000 = sizes(0.001);
    expect(s1000.adjoint).toBe(s100.adjoint);
    expect(s1000.backprop).toBeGreaterThan(5 * s100.backprop);
    // and a run of 1000 steps holds the states at the readout times only
    const model: ModelIR = { ...c.model, solver: { use: 'euler', dt: 0.001, t0: 0, t1: 1 } };
    const program = await compileAdjointProgram(model, { tableau: EULER, trainable: () => true, threads: 1 });
    try {
      const r = await program.run(new Map(), c.x, c.y, 4);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(program.lastStats).toEqual({ forward: { nfe: 1000, accepted: 1000, rejected: 0 }, backward: { nfe: 1000, accepted: 1000, rejected: 0 } });
    } finally {
      await program.dispose();
    }
  });
});

describe('the adjoint program refuses bad input', () => {
  it('errors name what is wrong', async () => {
    const c = denseCase();
    const program = await compileAdjointProgram(c.model, { tableau: RK4, trainable: (p) => p.startsWith('block.'), threads: 1 });
    expect(program).toBeInstanceOf(AdjointGradientProgram);
    expect(program.paths).toEqual(['block.A.weight', 'block.b']);
    await expect(program.run(new Map(), c.x.subarray(1), c.y, 4)).rejects.toMatchObject({ code: 'SHAPE' });
    await expect(program.run(new Map(), c.x, Int32Array.from([0, 1, 2, 7]), 4)).rejects.toThrow(/label y\[3\] = 7/);
    await expect(program.run(new Map([['post.0.weight', new Float32Array(24)]]), c.x, c.y, 4)).rejects.toThrow(/'post.0.weight' is not a trainable tensor/);
    await expect(program.run(new Map([['block.b', new Float32Array(3)]]), c.x, c.y, 4)).rejects.toMatchObject({ code: 'SHAPE' });
    // the frozen pre and post layers get no gradient; the block's match backprop's
    const r = await program.run(new Map(), c.x, c.y, 4);
    expect([...r.grads.keys()]).toEqual(['block.A.weight', 'block.b']);
    await program.dispose();
    await program.dispose();
    await expect(program.run(new Map(), c.x, c.y, 4)).rejects.toThrow(/disposed/);

    const tl = { name: 'taylor-lagrange', order: 2, adaptive: false, step: () => ({ y1: 0 }) } as unknown as Solver;
    await expect(compileAdjointProgram(c.model, { solver: tl, trainable: () => true })).rejects.toThrow(/solver 'taylor-lagrange' has none/);
    const noBHat = ({ name: 'rk4-adaptive', order: 4, adaptive: true, tableau: RK4 } as unknown as Solver);
    await expect(compileAdjointProgram(c.model, { solver: noBHat, trainable: () => true })).rejects.toThrow(/no embedded weights/);
    await expect(compileAdjointProgram(c.model, { tableau: RK4, trainable: () => true, remainderWeight: 0.1 })).rejects.toThrow(/remainderWeight/);
    await expect(compileAdjointProgram(c.model, { tableau: RK4, trainable: () => true, loss: 'hinge' as LossKind })).rejects.toThrow(/loss must be one of/);
    const vdp = await vdpCase();
    await expect(compileAdjointProgram(vdp.model, { tableau: RK4, trainable: () => true })).rejects.toThrow(/its loss is 'mse' or 'l1'/);
    await expect(adjointLossAndGradients(vdp.model, vdp.x, vdp.y.subarray(1), { tableau: RK4, loss: 'mse' })).rejects.toMatchObject({ code: 'SHAPE' });
  });
});

describe("Trainer 'adjoint'", () => {
  it('is the plugin\'s Trainer', () => {
    const provided: { kind: string; name: string; options?: unknown }[] = [];
    plugin.register({ provide: (kind: string, name: string, _f: unknown, meta?: { options?: unknown }) => void provided.push({ kind, name, options: meta?.options }) } as never);
    expect(provided.map((p) => `${p.kind}:${p.name}`)).toEqual(['Trainer:adjoint']);
  });

  it('supports tableaux (fixed-step and adaptive with bHat), not step programs; refuses the Taylor-Lagrange options', () => {
    const trainer = new AdjointTrainer({ threads: 1 });
    expect(trainer.name).toBe('adjoint');
    const model = runtimeModels.denseNode();
    expect(trainer.supports(model, rk4)).toEqual({ ok: true });
    expect(trainer.supports(model, dopri5(1e-4, 1e-6))).toEqual({ ok: true });
    expect(trainer.supports(runtimeModels.convNode(), rk4)).toEqual({ ok: true });
    const tl = { name: 'taylor-lagrange', order: 2, adaptive: false, step: () => ({}) } as unknown as Solver;
    expect(trainer.supports(model, tl)).toMatchObject({ ok: false, reason: expect.stringMatching(/no Butcher tableau/) });
    expect(trainer.supports(model, ({ name: 'rk4-adaptive', order: 4, adaptive: true, tableau: RK4 } as unknown as Solver))).toMatchObject({ ok: false, reason: expect.stringMatching(/bHat/) });
    expect(() => new AdjointTrainer({ midpoint: {} } as never)).toThrow(/midpoint/);
    expect(() => new AdjointTrainer({ remainderWeight: 1 } as never)).toThrow(/remainderWeight/);
    expect(() => new AdjointTrainer({ threads: 0 })).toThrow(/trainer 'adjoint': threads/);
  });

  it('trains a van-der-pol mlp-node with rk4: the MSE falls', async () => {
    const ds = vdpData(12, 15);
    const model = mlpNode({ hidden: 12 }, { dataset: ds.info, seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 3 } });
    const trainer = new AdjointTrainer({ threads: 1 });
    const res = await trainer.train(model, { epochs: 6, batch: 6, optimizer: 'adam', lr: 0.02, seed: 5 }, { dataset: ds, solver: rk4, phase: 'train' });
    const losses = res.history.map((h) => h.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!, `epoch losses ${losses.map((l) => l.toFixed(4)).join(' ')}`).toBeLessThan(0.5 * losses[0]!);
    expect(res.summary.backend).toBe('onnx/cpu (adjoint)');
    await expect(trainer.train(model, { epochs: 1, batch: 0, optimizer: 'adam', lr: 0.02, seed: 5 }, { dataset: ds, solver: rk4, phase: 'train' })).rejects.toThrow(/batch must be a positive integer/);
    const tl = { name: 'taylor-lagrange', order: 2, adaptive: false, step: () => ({}) } as unknown as Solver;
    await expect(trainer.train(model, { epochs: 1, batch: 6, optimizer: 'adam', lr: 0.02, seed: 5 }, { dataset: ds, solver: tl, phase: 'train' })).rejects.toThrow(/trainer 'adjoint'/);
  });

  it('trains with dopri5 (the history counts the forward solves); its checkpoint does not resume into backprop-onnx', async () => {
    const ds = vdpData(12, 15);
    const model = mlpNode({ hidden: 12 }, { dataset: ds.info, seed: 1, solver: { use: 'dopri5', dt: 0.2, t0: 0, t1: 3, rtol: 1e-4, atol: 1e-6 } });
    const solver = dopri5(1e-4, 1e-6);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'odemor-adjoint-'));
    try {
      const checkpoint = path.join(dir, 'model.json');
      const options = { epochs: 4, batch: 6, optimizer: 'adam' as const, lr: 0.02, seed: 5 };
      const res = await new AdjointTrainer({ threads: 1 }).train(model, options, { dataset: ds, solver, phase: 'train', checkpoint });
      const history = res.history as OnnxEpochInfo[];
      const losses = history.map((h) => h.loss);
      expect(losses.at(-1)!, `epoch losses ${losses.map((l) => l.toFixed(4)).join(' ')}`).toBeLessThan(0.7 * losses[0]!);
      for (const h of history) expect(h.accepted!).toBeGreaterThanOrEqual(2 * 15);
      await expect(new OnnxBackpropTrainer({ threads: 1 }).train(model, { ...options, epochs: 5 }, { dataset: ds, solver, phase: 'train', checkpoint, resume: true })).rejects.toThrow(/cannot resume.*trainer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

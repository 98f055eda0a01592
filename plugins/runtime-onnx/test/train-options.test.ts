/** Trainer 'backprop-onnx': registration, option schema, bad input, what it refuses. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Experiment, ExplicitRungeKuttaSolver, OdemorError, type Solver, type TrainOptions } from '@odemor/core';
import onnxPlugin from '../src/index.js';
import { backpropOnnxOptionsSchema } from '../src/train/options.js';
import { OnnxBackpropTrainer } from '../src/train/trainer.js';
import { dataset, euler, tfjsCompile, tinyModel } from './train-fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const base: TrainOptions = { epochs: 1, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 1 };
const ctx = { dataset, solver: euler, phase: 'train' as const };
const onnx = (o: Record<string, unknown> = {}) => new OnnxBackpropTrainer(o, { compile: tfjsCompile });
const code = (e: unknown) => (OdemorError.is(e) ? e.code : String(e));

describe("the plugin provides Trainer 'backprop-onnx'", () => {
  it('registers it with its option schema, next to Runtime onnx; the manifest names it', async () => {
    const exp = new Experiment();
    await exp.use(onnxPlugin);
    expect(exp.names('Trainer')).toEqual(['backprop-onnx']);
    expect(exp.names('Runtime')).toEqual(['onnx']);
    const t = exp.factory('Trainer', 'backprop-onnx')({ schedule: { kind: 'cosine', min: 0.001 } });
    expect(t).toBeInstanceOf(OnnxBackpropTrainer);
    expect(t.name).toBe('backprop-onnx');
    const provision = exp.provision('Trainer', 'backprop-onnx')!;
    expect(provision.options).toBe(backpropOnnxOptionsSchema);
    expect(provision.description).toMatch(/onnxruntime/);
    const pkg = JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')) as { odemor: { provides: Record<string, string[]> } };
    expect(pkg.odemor.provides.Trainer).toEqual(['backprop-onnx']);
  });
});

describe('the option schema', () => {
  it('accepts the documented options', () => {
    for (const o of [
      {},
      { schedule: { kind: 'step', every: 3, gamma: 0.5 } },
      { schedule: { kind: 'cosine' } },
      { schedule: { kind: 'cosine', min: 1e-4 }, threads: 2, cacheFeatures: false, beta1: 0.8, beta2: 0.99, epsilon: 1e-8 },
    ]) {
      expect(backpropOnnxOptionsSchema.safeParse(o).success, JSON.stringify(o)).toBe(true);
    }
  });

  it.each([
    [{ schedul: { kind: 'step' } }, /schedul/],
    [{ schedule: { kind: 'linear' } }, /schedule/],
    [{ schedule: { kind: 'step', gamma: 0.5 } }, /schedule.every/],
    [{ schedule: { kind: 'step', every: 1.5, gamma: 0.5 } }, /schedule.every.*1.5/],
    [{ schedule: { kind: 'step', every: 2, gamma: 1.5 } }, /schedule.gamma.*1.5/],
    [{ schedule: { kind: 'cosine', min: -1 } }, /schedule.min/],
    [{ schedule: { kind: 'cosine', every: 2 } }, /schedule/],
    [{ threads: 0 }, /threads.*0/],
    [{ cacheFeatures: 'yes' }, /cacheFeatures.*"yes"/],
    [{ beta1: 1 }, /beta1/],
    [{ epsilon: 0 }, /epsilon/],
  ])('rejects %j (constructor: ARGUMENT naming the key and value)', (o, message) => {
    expect(backpropOnnxOptionsSchema.safeParse(o).success).toBe(false);
    let err: unknown;
    try {
      new OnnxBackpropTrainer(o as Record<string, unknown>);
    } catch (e) {
      err = e;
    }
    expect(code(err)).toBe('ARGUMENT');
    expect((err as Error).message).toMatch(/trainer 'backprop-onnx'/);
    expect((err as Error).message).toMatch(message);
  });

  it('checks the own keys given in TrainOptions too, and the schedule against lr and lrDecay', async () => {
    await expect(onnx().train(tinyModel(), { ...base, schedule: { kind: 'step', every: 0, gamma: 0.5 } }, ctx)).rejects.toThrow(/schedule.every/);
    await expect(onnx().train(tinyModel(), { ...base, schedule: { kind: 'cosine', min: 1 } }, ctx)).rejects.toThrow(/schedule.min must lie in \[0, lr = 0.1\], got 1/);
    await expect(onnx({ schedule: { kind: 'cosine' } }).train(tinyModel(), { ...base, lrDecay: 0.9 }, ctx)).rejects.toThrow(/two schedules/);
    // TrainOptions' own keys override the constructor's
    const out = await onnx({ schedule: { kind: 'step', every: 1, gamma: 0.5 } }).train(tinyModel(), { ...base, epochs: 2, schedule: { kind: 'step', every: 1, gamma: 0.25 } }, ctx);
    expect(out.history.map((h) => h.lr)).toEqual([0.1, 0.025]);
  });
});

describe('bad input and refusals', () => {
  it.each([
    [{ epochs: -1 }, /epochs/],
    [{ batch: 0 }, /batch/],
    [{ lr: 0 }, /lr/],
    [{ weightDecay: -1 }, /weightDecay/],
    [{ clipNorm: 0 }, /clipNorm/],
    [{ limit: 0 }, /limit/],
    [{ optimizer: 'rmsprop' }, /unknown optimizer 'rmsprop'/],
    [{ params: ['post.7.weight'] }, /'post.7.weight' names no tensor/],
    [{ params: 'everything' }, /unknown selection 'everything'/],
  ])('%j: ARGUMENT', async (bad, message) => {
    const err = await onnx().train(tinyModel(), { ...base, ...bad } as TrainOptions, ctx).catch((e: unknown) => e);
    expect(code(err)).toBe('ARGUMENT');
    expect((err as Error).message).toMatch(message);
  });

  it('nothing to train: ARGUMENT', async () => {
    const m = tinyModel();
    m.post[0] = { ...(m.post[0] as { type: 'dense'; weight: { shape: number[]; data: Float32Array } }), trainable: false };
    await expect(onnx().train(m, { ...base, params: 'after-block' }, ctx)).rejects.toThrow(/nothing to train/);
  });

  it('refuses adaptive step programs and solvers with neither a tableau nor a step program (supports, and train: RUNTIME); takes adaptive tableaux', async () => {
    // an adaptive tableau with embedded weights trains through the accepted steps (adaptive-train.test.ts)
    const adaptiveEuler = new ExplicitRungeKuttaSolver('adaptive-euler', { a: [[0]], b: [1], c: [0], order: 1, bHat: [1], embeddedOrder: 1 }, true);
    const dopri = { name: 'dopri5', order: 5, adaptive: true, step: () => ({ y1: undefined as never }) } as Solver;
    const t = onnx();
    const m = tinyModel();
    expect(t.supports(m, euler)).toEqual({ ok: true });
    expect(t.supports(m, adaptiveEuler)).toEqual({ ok: true });
    const r = t.supports(m, dopri);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/dopri5 is adaptive/);
    // a fixed-step step program is unrolled with its step (Taylor-Lagrange); a solver with neither is refused
    const program: Solver = { name: 'custom', order: 2, adaptive: false, step: () => ({ y1: undefined as never }) };
    expect(t.supports(m, program)).toEqual({ ok: true });
    const neither = { name: 'custom', order: 2, adaptive: false } as Solver;
    expect(t.supports(m, neither)).toMatchObject({ ok: false, reason: expect.stringMatching(/neither a Butcher tableau nor a step program/) });
    const err = await t.train(m, base, { ...ctx, solver: dopri }).catch((e: unknown) => e);
    expect(code(err)).toBe('RUNTIME');
    expect((err as Error).message).toMatch(/backprop-onnx.*dopri5 is adaptive/);
    expect(t.supports({ ...m, post: [{ type: 'softmax' } as never] }).ok).toBe(false);
  });

  it.skipIf(existsSync(path.join(here, '..', 'src', 'grad', 'program.ts')))('without grad/program.ts the default compiler is a RUNTIME error', async () => {
    const err = await new OnnxBackpropTrainer().train(tinyModel(), base, ctx).catch((e: unknown) => e);
    expect(code(err)).toBe('RUNTIME');
    expect((err as Error).message).toMatch(/gradient compiler/);
  });
});

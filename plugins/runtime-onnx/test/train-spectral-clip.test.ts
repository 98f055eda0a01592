/** Trainer 'backprop-onnx', option spectralClip: the spectrum of an ode-rnn's W − Wᵀ stays within max while it trains. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OdemorError, antisymmetricRadius, createRng, listTensors, odeRnn, type ModelIR, type TrainOptions } from '@odemor/core';
import { backpropOnnxOptionsSchema } from '../src/train/options.js';
import { OnnxBackpropTrainer } from '../src/train/trainer.js';
import { bits, dataset as blobDataset, euler, memoryDataset, tinyModel } from './train-fixtures.js';

const steps = 6;
/** 32 sequences of 6 steps: a rising ramp (class 0) or a falling one (class 1), with noise */
function ramps(): { x: Float32Array; y: Int32Array } {
  const rng = createRng(3);
  const count = 32;
  const x = new Float32Array(count * steps);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 2;
    for (let t = 0; t < steps; t++) x[i * steps + t] = (y[i] ? 1 - t / steps : t / steps) + 0.2 * rng.normal();
  }
  return { x, y };
}
const data = ramps();
const dataset = memoryDataset(data.x, data.y, [steps, 1], 2);
const n = 8;
/** an ode-rnn of 8 units at initial scale 3: ρ(W − Wᵀ) well above the clip's max */
const model = (): ModelIR => odeRnn({ hidden: n, scale: 3 }, { dataset: dataset.info, seed: 4, solver: { use: 'euler', dt: 0.25, t0: 0, t1: 1.5 } });
const W = (m: ModelIR): Float32Array => (m.block.kind === 'ode' && m.block.A.type === 'antisymmetric' ? m.block.A.weight.data : new Float32Array());
const base: TrainOptions = { epochs: 2, batch: 8, optimizer: 'adam', lr: 0.05, seed: 2 };
const ctx = { dataset, solver: euler, phase: 'train' as const };

describe('spectralClip', () => {
  it('keeps ρ(W − Wᵀ) ≤ max after every step and records it per epoch; without it the radius is far above (and recorded too)', async () => {
    const start = model();
    expect(antisymmetricRadius(W(start), n)).toBeGreaterThan(2);
    const max = 0.4;
    const clipped = await new OnnxBackpropTrainer().train(start, { ...base, spectralClip: { max } }, ctx);
    expect(antisymmetricRadius(W(clipped.model), n)).toBeLessThanOrEqual(max * (1 + 1e-5));
    expect(clipped.history.map((h) => h.spectralRadius)).toEqual([expect.closeTo(max, 5), expect.closeTo(max, 5)]);
    expect(Number.isFinite(clipped.summary.finalLoss)).toBe(true);
    const free = await new OnnxBackpropTrainer().train(model(), base, ctx);
    expect(antisymmetricRadius(W(free.model), n)).toBeGreaterThan(2);
    // without the clip the history still records the radius, which grows
    expect(free.history.map((h) => h.spectralRadius)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(free.history[1]!.spectralRadius).toBeCloseTo(antisymmetricRadius(W(free.model), n), 10);
    expect(free.history[1]!.spectralRadius!).toBeGreaterThan(2);
    // a model without an antisymmetric A records none
    const dense = await new OnnxBackpropTrainer().train(tinyModel(), base, { ...ctx, dataset: blobDataset });
    expect(dense.history.every((h) => h.spectralRadius === undefined)).toBe(true);
    // the block's other tensors and the readout train as they would (the clip touches W only)
    const readout = (m: ModelIR) => Array.from(listTensors(m).find((t) => t.path === 'post.0.weight')!.tensor.data);
    expect(readout(clipped.model)).toHaveLength(2 * n);
    expect(readout(clipped.model)).not.toEqual(readout(start));
  });

  it('with every: k clips after every k-th step and at the end of each epoch (the checkpoint meets the clip)', async () => {
    const every3 = await new OnnxBackpropTrainer().train(model(), { ...base, epochs: 1, spectralClip: { max: 0.4, every: 3 } }, ctx);
    const every1 = await new OnnxBackpropTrainer().train(model(), { ...base, epochs: 1, spectralClip: { max: 0.4 } }, ctx);
    for (const out of [every3, every1]) expect(antisymmetricRadius(W(out.model), n)).toBeLessThanOrEqual(0.4 * (1 + 1e-5));
    // steps 1, 2 (and 4) of the 4 run unclipped under every: 3, so the weights differ
    const diff = Math.max(...W(every3.model).map((v, i) => Math.abs(v - W(every1.model)[i]!)));
    expect(diff).toBeGreaterThan(1e-4);
  });

  it('resumes a clipped run exactly, and refuses to resume it with another clip, naming it', async () => {
    const o = { ...base, epochs: 2, spectralClip: { max: 0.4, every: 3 } };
    const full = await new OnnxBackpropTrainer().train(model(), o, ctx);
    const ck = path.join(mkdtempSync(path.join(os.tmpdir(), 'odemor-clip-')), 'm.odemor');
    await new OnnxBackpropTrainer().train(model(), { ...o, epochs: 1 }, { ...ctx, checkpoint: ck });
    const resumed = await new OnnxBackpropTrainer().train(model(), o, { ...ctx, checkpoint: ck, resume: true });
    expect(bits(W(resumed.model))).toEqual(bits(W(full.model)));
    expect(resumed.history.map((h) => h.spectralRadius)).toEqual(full.history.map((h) => h.spectralRadius));
    const resume = { ...ctx, checkpoint: ck, resume: true };
    await expect(new OnnxBackpropTrainer().train(model(), { ...o, spectralClip: { max: 0.5, every: 3 } }, resume)).rejects.toThrow(/cannot resume.*spectralClip/);
    await expect(new OnnxBackpropTrainer().train(model(), { ...base, epochs: 2 }, resume)).rejects.toThrow(/cannot resume.*spectralClip/);
  });

  it('the schema takes { max, every } and refuses a missing or non-positive max and a fractional every', () => {
    expect(backpropOnnxOptionsSchema.safeParse({ spectralClip: { max: 0.45 } }).success).toBe(true);
    expect(backpropOnnxOptionsSchema.safeParse({ spectralClip: { max: 0.45, every: 10 } }).success).toBe(true);
    for (const bad of [{ every: 2 }, { max: 0 }, { max: -1 }, { max: 0.4, every: 1.5 }, { max: 0.4, often: 2 }]) {
      expect(() => new OnnxBackpropTrainer({ spectralClip: bad } as Record<string, unknown>), JSON.stringify(bad)).toThrow(/trainer 'backprop-onnx': spectralClip/);
    }
  });

  it('refuses a model without an antisymmetric A, and an A that does not train: ARGUMENT naming the option', async () => {
    const err = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const e1 = await err(new OnnxBackpropTrainer().train(tinyModel(), { ...base, spectralClip: { max: 1 } }, { ...ctx, dataset: blobDataset }));
    expect(OdemorError.is(e1) && e1.code).toBe('ARGUMENT');
    expect((e1 as Error).message).toMatch(/spectralClip.*antisymmetric.*A is 'dense'/);
    const e2 = await err(new OnnxBackpropTrainer().train(model(), { ...base, params: ['post.0.weight'], spectralClip: { max: 1 } }, ctx));
    expect((e2 as Error).message).toMatch(/spectralClip.*block.A.weight does not train/);
  });
});

/**
 * Trainer 'backprop-onnx' against the tfjs trainer: with a GradientProgram on tfjs autodiff both see the same
 * gradients, so the optimizers, clipping, weight decay, schedules and the batch order decide the weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHooks, listTensors, type EpochInfo, type ProgressEvent, type TrainOptions } from '@odemor/core';
import { BackpropTrainer, blockFeatures, createParams, disposeParams, initTfjs, inputTensor } from '@odemor/runtime-tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { OnnxBackpropTrainer } from '../src/train/trainer.js';
import { adapterStats, dataset, euler, maxDiff, modelBits, tfjsCompile, tinyModel } from './train-fixtures.js';

const base: TrainOptions = { epochs: 3, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 3 };
const ctx = { dataset, solver: euler, phase: 'train' as const };
const onnx = (o = {}) => new OnnxBackpropTrainer(o, { compile: tfjsCompile, backend: 'tfjs-autodiff' });

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

describe('backprop-onnx reproduces backprop-tfjs (same gradients)', () => {
  it('SGD: the same weights to ~1e-6 (in fact bit for bit), the same history', async () => {
    const model = tinyModel();
    const a = await new BackpropTrainer().train(model, base, ctx);
    const b = await onnx().train(model, base, ctx);
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-6);
    expect(modelBits(b.model)).toEqual(modelBits(a.model));
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(b.history.map((h) => h.accuracy)).toEqual(a.history.map((h) => h.accuracy));
    expect(b.history.map((h) => h.lr)).toEqual(a.history.map((h) => h.lr));
    expect(b.summary.backend).toBe('tfjs-autodiff');
    // the input model is untouched; the trained one differs from it
    expect(maxDiff(model, tinyModel())).toBe(0);
    expect(maxDiff(model, b.model)).toBeGreaterThan(1e-3);
  });

  it.each([
    ['momentum', { optimizer: 'momentum', momentum: 0.8, lr: 0.05 }],
    ['adam', { optimizer: 'adam', lr: 0.01 }],
    ['adam + lrDecay', { optimizer: 'adam', lr: 0.02, lrDecay: 0.5 }],
    ['sgd + weight decay', { optimizer: 'sgd', lr: 0.1, weightDecay: 0.05 }],
  ] as const)('%s: the same weights (bit for bit on the cpu backend)', async (_name, extra) => {
    const model = tinyModel();
    const o = { ...base, ...extra } as TrainOptions;
    const a = await new BackpropTrainer().train(model, o, ctx);
    const b = await onnx().train(model, o, ctx);
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-6);
    expect(modelBits(b.model)).toEqual(modelBits(a.model));
    for (const [i, h] of b.history.entries()) expect(h.loss).toBeCloseTo(a.history[i]!.loss, 6);
  });

  it('clipping by global norm: close to tfjs (its norm is summed in float32)', async () => {
    const model = tinyModel();
    const o: TrainOptions = { ...base, optimizer: 'adam', lr: 0.01, clipNorm: 0.05, weightDecay: 0.01 };
    const a = await new BackpropTrainer().train(model, o, ctx);
    const b = await onnx().train(model, o, ctx);
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-4);
    // the clip is active: unclipped training ends elsewhere
    const c = await onnx().train(model, { ...o, clipNorm: undefined }, ctx);
    expect(maxDiff(b.model, c.model)).toBeGreaterThan(1e-3);
  });

  it('fine-tuning the post layers on cached block features: tfjs features given to both, same weights; frozen tensors bit-identical', async () => {
    const model = tinyModel();
    const feats = async (x: Float32Array, n: number) => {
      const params = createParams(model);
      const h = tf.tidy(() => blockFeatures(model, params, inputTensor(model, x, n), euler));
      const out = (await h.data()) as Float32Array;
      h.dispose();
      disposeParams(params);
      return out;
    };
    const o: TrainOptions = { ...base, optimizer: 'adam', lr: 0.02, params: 'after-block' };
    const fctx = { ...ctx, phase: 'finetune' as const, blockFeatures: feats };
    const a = await new BackpropTrainer().train(model, o, fctx);
    const before = adapterStats.runs;
    const b = await onnx().train(model, o, fctx);
    expect(adapterStats.runs - before).toBe(3 * 3); // 48 samples / 16 per batch × 3 epochs: one program run per batch
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-6);
    const t0 = new Map(listTensors(model).map((t) => [t.path, t.tensor.data]));
    for (const { path, tensor } of listTensors(b.model)) {
      if (!path.startsWith('post.')) expect(Array.from(tensor.data)).toEqual(Array.from(t0.get(path)!));
    }
    expect(b.summary.phase).toBe('finetune');
  });

  it('fine-tuning with the default block features (an onnx executable of blockFeatureModel): close to tfjs', async () => {
    const model = tinyModel();
    const o: TrainOptions = { ...base, optimizer: 'sgd', lr: 0.1, params: ['post.'] };
    const a = await new BackpropTrainer().train(model, o, ctx);
    const b = await onnx().train(model, o, ctx);
    expect(maxDiff(a.model, b.model)).toBeLessThan(1e-5);
    // without the cache: the dataset's order instead of the cache's permutation, other weights, same quality
    const c = await onnx({ cacheFeatures: false }).train(model, o, ctx);
    expect(maxDiff(b.model, c.model)).toBeGreaterThan(0);
  });
});

describe('backprop-onnx: determinism, hooks, history', () => {
  it('the same seed gives bit-identical weights; another seed other weights', async () => {
    const o: TrainOptions = { ...base, optimizer: 'adam', lr: 0.01 };
    const a = await onnx().train(tinyModel(), o, ctx);
    const b = await onnx().train(tinyModel(), o, ctx);
    expect(modelBits(b.model)).toEqual(modelBits(a.model));
    const c = await onnx().train(tinyModel(), { ...o, seed: 4 }, ctx);
    expect(modelBits(c.model)).not.toEqual(modelBits(a.model));
  });

  it('fires beforeTrain, epoch, progress, afterTrain; the loss falls; history has loss, accuracy, seconds, lr', async () => {
    const hooks = createHooks();
    const calls: string[] = [];
    const epochs: EpochInfo[] = [];
    const progress: ProgressEvent[] = [];
    hooks.beforeTrain.tapPromise('t', async (_m, phase) => void calls.push(`before:${phase}`));
    hooks.epoch.tapPromise('t', async (e) => void epochs.push(e));
    hooks.progress.tap('t', (e) => void progress.push(e));
    hooks.afterTrain.tapPromise('t', async (_m, s) => void calls.push(`after:${s.epochs}`));
    const out = await onnx({ schedule: { kind: 'step', every: 2, gamma: 0.5 } }).train(tinyModel(), { ...base, epochs: 4, optimizer: 'adam', lr: 0.02 }, { ...ctx, hooks });
    expect(calls).toEqual(['before:train', 'after:4']);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(epochs.map((e) => e.lr)).toEqual([0.02, 0.02, 0.01, 0.01]);
    expect(progress.length).toBe(4 * 3);
    expect(progress.at(-1)).toMatchObject({ task: 'train', label: 'Training', done: 12, total: 12 });
    expect(out.history).toEqual(epochs);
    for (const h of out.history) {
      expect(h.seconds).toBeGreaterThanOrEqual(0);
      expect(h.accuracy).toBeGreaterThanOrEqual(0);
      expect(h.accuracy).toBeLessThanOrEqual(1);
    }
    expect(out.history.at(-1)!.loss).toBeLessThan(out.history[0]!.loss);
    expect(out.summary).toMatchObject({ epochs: 4, finalLoss: out.history.at(-1)!.loss, phase: 'train' });
  });

  it('onProgress replaces the progress hook', async () => {
    const hooks = createHooks();
    let viaHook = 0;
    hooks.progress.tap('t', () => void viaHook++);
    const seen: [number, number][] = [];
    await onnx().train(tinyModel(), { ...base, epochs: 1 }, { ...ctx, hooks, onProgress: (d, t) => void seen.push([d, t]) });
    expect(viaHook).toBe(0);
    expect(seen).toEqual([[1, 3], [2, 3], [3, 3]]);
  });
});

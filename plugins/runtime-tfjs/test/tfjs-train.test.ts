import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExplicitRungeKuttaSolver, rkStep, type Batch, type BatchOptions, type Dataset, type Solver } from '@odemor/core';
import { createHooks, type EpochInfo, type ProgressEvent } from '@odemor/core';
import { loadModel } from '@odemor/core';
import type { ModelIR, OdeBlock, ReducedBlock } from '@odemor/core';
import { convNode, denseNode } from '@odemor/core';
import { listTensors } from '@odemor/core';
import { initTfjs } from '../src/backend.js';
import { TfjsRuntime } from '../src/runtime.js';
import { train } from '../src/train.js';
import { createRng } from '@odemor/core';

/** explicit Euler, the cheapest differentiable solver: a Solver is its tableau */
const euler: Solver = new ExplicitRungeKuttaSolver('euler-test', { a: [[0]], b: [1], c: [0], order: 1 }, false);

/** in-memory dataset; shuffles with its own seeded RNG */
function memoryDataset(x: Float32Array, y: Int32Array, inputShape: number[], numClasses: number): Dataset {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const size = y.length;
  return {
    name: 'memory',
    info: { inputShape, kind: 'vector', numClasses, trainSize: size, testSize: size },
    async *batches(_split, batchSize, o: BatchOptions = {}): AsyncIterable<Batch> {
      const count = Math.min(o.limit ?? size, size);
      const order = Array.from({ length: count }, (_, i) => i);
      if (o.shuffle) createRng(o.seed ?? 0).shuffle(order);
      for (let s = 0; s < count; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const bx = new Float32Array(idx.length * per);
        idx.forEach((j, r) => bx.set(x.subarray(j * per, (j + 1) * per), r * per));
        yield { x: bx, y: Int32Array.from(idx.map((j) => y[j]!)), size: idx.length };
      }
    },
  };
}

/** two Gaussian blobs in 2-D, linearly separable with a margin */
function blobs(count: number, seed: number) {
  const rng = createRng(seed);
  const x = new Float32Array(count * 2);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 2;
    y[i] = c;
    x[2 * i] = (c ? 1.5 : -1.5) + 0.4 * rng.normal();
    x[2 * i + 1] = (c ? -1 : 1) + 0.4 * rng.normal();
  }
  return { x, y };
}

const solver = { use: 'euler', dt: 0.25, t0: 0, t1: 1 };
const data = blobs(64, 1);
const dataset = memoryDataset(data.x, data.y, [2], 2);
const fresh = () => denseNode({ hidden: 8 }, { dataset: dataset.info, seed: 5, solver });

/** accuracy and mean cross-entropy on the whole set, computed in plain JS from the logits */
async function evaluate(model: ModelIR): Promise<{ acc: number; loss: number }> {
  const exec = await new TfjsRuntime().build(model, { solver: euler });
  const logits = await exec.predict(data.x, 64);
  await exec.dispose();
  let ok = 0;
  let loss = 0;
  for (let i = 0; i < 64; i++) {
    const [a, b] = [logits[2 * i]!, logits[2 * i + 1]!];
    if ((b > a ? 1 : 0) === data.y[i]) ok++;
    const m = Math.max(a, b);
    loss += m + Math.log(Math.exp(a - m) + Math.exp(b - m)) - (data.y[i] ? b : a);
  }
  return { acc: ok / 64, loss: loss / 64 };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

describe('train', () => {
  it('reduces the loss and separates a tiny problem; fires hooks; deterministic for a seed', async () => {
    const hooks = createHooks();
    const epochs: EpochInfo[] = [];
    const progress: ProgressEvent[] = [];
    const phases: string[] = [];
    hooks.epoch.tapPromise('t', async (e) => void epochs.push(e));
    hooks.progress.tap('t', (e) => void progress.push(e));
    hooks.beforeTrain.tapPromise('t', async (_m, phase) => void phases.push(`before:${phase}`));
    hooks.afterTrain.tapPromise('t', async (_m, s) => void phases.push(`after:${s.phase}`));
    const model = fresh();
    const opts = { epochs: 6, batch: 16, optimizer: 'adam' as const, lr: 0.05, lrDecay: 0.9, seed: 3, solver: euler };
    const before = await evaluate(model);
    const out = await train(model, dataset, { ...opts, hooks });
    expect(epochs).toHaveLength(6);
    expect(epochs[5]!.loss).toBeLessThan(epochs[0]!.loss);
    expect(epochs[5]!.lr).toBeCloseTo(0.05 * 0.9 ** 5, 10);
    expect(out.summary).toMatchObject({ epochs: 6, phase: 'train' });
    expect(out.summary.finalAccuracy).toBeGreaterThan(0.9);
    const after = await evaluate(out.model);
    expect(after.acc).toBeGreaterThan(0.9);
    expect(after.loss).toBeLessThan(before.loss / 2);
    expect(Math.abs(after.loss - out.summary.finalLoss)).toBeLessThan(0.2);
    expect(progress).toHaveLength(6 * 4);
    expect(progress.at(-1)).toMatchObject({ task: 'train', done: 24, total: 24 });
    expect(progress[0]!.detail).toMatch(/loss \d/);
    expect(phases).toEqual(['before:train', 'after:train']);
    // the input model is untouched; same seed → identical weights
    expect(bits(listTensors(model)[0]!.tensor.data)).toEqual(bits(listTensors(fresh())[0]!.tensor.data));
    const again = await train(fresh(), dataset, opts);
    listTensors(out.model).forEach(({ tensor }, i) => expect(bits(listTensors(again.model)[i]!.tensor.data)).toEqual(bits(tensor.data)));
    const other = await train(fresh(), dataset, { ...opts, seed: 4 });
    expect(bits(listTensors(other.model)[0]!.tensor.data)).not.toEqual(bits(listTensors(out.model)[0]!.tensor.data));
  });

  it('freeze keeps frozen tensors bit-identical (full and reduced blocks) and checkpoints atomically', async () => {
    const model = fresh();
    const dir = mkdtempSync(path.join(tmpdir(), 'odemor-train-'));
    const checkpoint = path.join(dir, 'ckpt.odemor');
    const calls: [number, number][] = [];
    const out = await train(model, dataset, {
      epochs: 2, batch: 32, optimizer: 'sgd', lr: 0.1, seed: 1, solver: euler, freeze: 'all-but-post', checkpoint,
      onProgress: (done, total) => void calls.push([done, total]),
    });
    expect(out.summary.phase).toBe('finetune');
    expect(calls).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    for (const [i, { path: p, tensor }] of listTensors(model).entries()) {
      const after = listTensors(out.model)[i]!;
      expect(after.path).toBe(p);
      if (p.startsWith('post')) expect(bits(after.tensor.data)).not.toEqual(bits(tensor.data));
      else expect(bits(after.tensor.data)).toEqual(bits(tensor.data));
    }
    const saved = await loadModel(checkpoint);
    listTensors(saved).forEach(({ tensor }, i) => expect(bits(tensor.data)).toEqual(bits(listTensors(out.model)[i]!.tensor.data)));

    const pre = await train(model, dataset, { epochs: 1, batch: 32, optimizer: 'momentum', lr: 0.05, seed: 1, solver: euler, freeze: 'before-block' });
    for (const [i, { path: p, tensor }] of listTensors(model).entries()) {
      const same = bits(listTensors(pre.model)[i]!.tensor.data).join() === bits(tensor.data).join();
      expect([p, same]).toEqual([p, p.startsWith('pre')]);
    }

    // a reduced block (identity E/D/N, M = A) fine-tunes only the post layers by default
    const fb = model.block as OdeBlock;
    const n = fb.n;
    const block: ReducedBlock = { kind: 'reduced', method: 'test', n, k: n, m: n, E: { type: 'identity', size: n }, D: { type: 'identity', size: n }, N: { type: 'identity', size: n }, M: { type: 'dense', weight: (fb.A as { weight: { shape: number[]; data: Float32Array } }).weight }, c: fb.b, activation: fb.activation };
    const reduced: ModelIR = { ...model, block };
    const ft = await train(reduced, dataset, { epochs: 1, batch: 32, optimizer: 'adam', lr: 0.05, seed: 2, solver: euler });
    expect(ft.summary.phase).toBe('finetune');
    for (const [i, { path: p, tensor }] of listTensors(reduced).entries()) {
      const same = bits(listTensors(ft.model)[i]!.tensor.data).join() === bits(tensor.data).join();
      expect([p, same]).toEqual([p, !p.startsWith('post')]);
    }
    // and the reduced block itself trains when asked
    const all = await train(reduced, dataset, { epochs: 1, batch: 32, optimizer: 'adam', lr: 0.05, seed: 2, solver: euler, freeze: 'none' });
    expect(bits(listTensors(all.model).find((t) => t.path === 'block.M.weight')!.tensor.data)).not.toEqual(bits(block.M.type === 'dense' ? block.M.weight.data : new Float32Array()));
  });

  it('fine-tuning on cached block features equals fine-tuning through the solver, with one pass through the block', async () => {
    const model = fresh();
    let solves = 0;
    // a step program that counts solves by their first step (a Solver is its tableau or step program)
    const counting: Solver = {
      name: euler.name,
      order: 1,
      adaptive: false,
      step: (alg, f, t, y, h, ctx) => (t === 0 && solves++, rkStep(alg, euler.tableau!, f, t, y, h, ctx)),
    };
    // one batch holding the whole set: sample order cannot differ, so the updates must agree
    const opts = { epochs: 3, batch: 1000, optimizer: 'adam' as const, lr: 0.05, seed: 5, freeze: 'all-but-post' as const };
    const cached = await train(model, dataset, { ...opts, solver: counting });
    const cachedSolves = solves;
    solves = 0;
    const direct = await train(model, dataset, { ...opts, solver: counting, cacheFeatures: false });
    expect(cachedSolves).toBe(1);
    expect(solves).toBe(3);
    expect(cached.summary.finalLoss).toBeCloseTo(direct.summary.finalLoss, 4);
    listTensors(cached.model).forEach(({ tensor }, i) => {
      const other = listTensors(direct.model)[i]!.tensor.data;
      let d = 0;
      for (let j = 0; j < tensor.data.length; j++) d = Math.max(d, Math.abs(tensor.data[j]! - other[j]!));
      expect(d).toBeLessThan(1e-4);
    });
  });

  it('trains a tiny conv-node on the cpu backend (conv filter gradients)', async () => {
    const rng = createRng(7);
    const count = 8;
    const x = rng.normalArray(count * 8 * 8);
    const y = Int32Array.from({ length: count }, (_, i) => i % 2);
    const ds = memoryDataset(x, y, [8, 8, 1], 2);
    const model = convNode({ channels: 2 }, { dataset: { ...ds.info, kind: 'image' }, seed: 1, solver });
    const out = await train(model, ds, { epochs: 1, batch: 4, optimizer: 'sgd', lr: 0.05, seed: 1, solver: euler });
    expect(Number.isFinite(out.summary.finalLoss)).toBe(true);
    for (const p of ['pre.0.kernel', 'block.A.kernel', 'post.3.weight']) {
      const a = listTensors(model).find((t) => t.path === p)!.tensor.data;
      const b = listTensors(out.model).find((t) => t.path === p)!.tensor.data;
      expect(bits(b)).not.toEqual(bits(a));
    }
  });

  it('clipNorm and weightDecay: a huge clip changes nothing; a tiny clip bounds each step; decay is decoupled', async () => {
    const model = fresh();
    // one SGD step on one batch holding the whole set
    const one = { epochs: 1, batch: 1000, optimizer: 'sgd' as const, lr: 0.1, seed: 1, solver: euler };
    const plain = (await train(model, dataset, one)).model;
    const huge = (await train(model, dataset, { ...one, clipNorm: 1e9 })).model;
    const tiny = (await train(model, dataset, { ...one, clipNorm: 1e-3 })).model;
    const decayed = (await train(model, dataset, { ...one, weightDecay: 0.5 })).model;
    const at = (m: ModelIR) => listTensors(m).map((t) => t.tensor.data);
    const w0 = at(model);
    expect(w0.length).toBeGreaterThan(0);
    let stepNorm = 0;
    at(plain).forEach((w, i) => {
      const h = at(huge)[i]!;
      const d = at(decayed)[i]!;
      for (let j = 0; j < w.length; j++) {
        expect(Math.abs(h[j]! - w[j]!)).toBeLessThan(1e-6);
        // decoupled: w ← (w − lr·g) − lr·wd·(w − lr·g)
        expect(d[j]!).toBeCloseTo(w[j]! - 0.1 * 0.5 * w[j]!, 5);
        stepNorm += (at(tiny)[i]![j]! - w0[i]![j]!) ** 2;
      }
    });
    // a clipped SGD step moves the weights by lr · clipNorm at most (up to float32 rounding of the updated values)
    expect(Math.sqrt(stepNorm)).toBeLessThanOrEqual(0.1 * 1e-3 * 1.01); // float32 weights: rounding of the updated values
    expect(Math.sqrt(stepNorm)).toBeGreaterThan(0);
  });

  it('rejects bad options', async () => {
    await expect(train(fresh(), dataset, { epochs: 1, batch: 0, optimizer: 'sgd', lr: 0.1, seed: 1, solver: euler })).rejects.toMatchObject({ code: 'ARGUMENT' });
    await expect(train(fresh(), dataset, { epochs: 1, batch: 8, optimizer: 'nope' as 'sgd', lr: 0.1, seed: 1, solver: euler })).rejects.toMatchObject({ code: 'ARGUMENT' });
    await expect(train(fresh(), dataset, { epochs: 1, batch: 8, optimizer: 'sgd', lr: 1e30, seed: 1, solver: euler })).rejects.toMatchObject({ code: 'NUMERIC' });
  });
});

/** Checkpoints and resume of Trainer 'backprop-onnx', and the NaN stop that keeps the last good checkpoint. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { OdemorError, loadModel, type TrainOptions } from '@odemor/core';
import { initTfjs } from '@odemor/runtime-tfjs';
import type { CompileGradientProgram } from '../src/grad/types.js';
import { readTrainState, statePath } from '../src/train/state.js';
import { OnnxBackpropTrainer } from '../src/train/trainer.js';
import { adapterStats, childOptions, dataset, euler, maxDiff, modelBits, tfjsCompile, tinyModel } from './train-fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ctx = { dataset, solver: euler, phase: 'train' as const };
const onnx = (o = {}, compile: CompileGradientProgram = tfjsCompile) => new OnnxBackpropTrainer(o, { compile });
const tmp = () => mkdtempSync(path.join(tmpdir(), 'odemor-onnxtrain-'));

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

describe('checkpoints and resume', () => {
  it.each([
    ['adam', { optimizer: 'adam', lr: 0.01 }],
    ['momentum + weight decay + clipping + step schedule', { optimizer: 'momentum', lr: 0.05, weightDecay: 0.01, clipNorm: 0.5, schedule: { kind: 'step', every: 1, gamma: 0.7 } }],
  ] as const)('%s: 1 epoch, then resume to 3 = 3 epochs at once, bit for bit', async (_name, extra) => {
    const dir = tmp();
    const o = { batch: 16, seed: 2, ...extra, epochs: 3 } as TrainOptions;
    const full = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: path.join(dir, 'full.odemor') });
    const ck = path.join(dir, 'part.odemor');
    const first = await onnx().train(tinyModel(), { ...o, epochs: 1 }, { ...ctx, checkpoint: ck });
    expect(modelBits(first.model)).not.toEqual(modelBits(full.model));
    const s1 = (await readTrainState(statePath(ck)))!;
    expect(s1.epoch).toBe(1);
    expect(s1.optimizer.iterations).toBe(3);
    const resumed = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck, resume: true });
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model));
    expect(modelBits(await loadModel(ck))).toEqual(modelBits(full.model));
    expect(resumed.history.map((h) => [h.epoch, h.epochs, h.loss, h.lr])).toEqual(full.history.map((h) => [h.epoch, h.epochs, h.loss, h.lr]));
    expect((await readTrainState(statePath(ck)))!.epoch).toBe(3);
  });

  it('resuming a finished run trains nothing and returns the same model; progress continues where it stopped', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 2, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 1 };
    const a = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck });
    const compiled = adapterStats.compiled;
    const b = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck, resume: true });
    expect(adapterStats.compiled).toBe(compiled);
    expect(modelBits(b.model)).toEqual(modelBits(a.model));
    expect(b.history).toEqual(a.history);
    const seen: number[] = [];
    await onnx().train(tinyModel(), { ...o, epochs: 3 }, { ...ctx, checkpoint: ck, resume: true, onProgress: (d, t) => void seen.push(d, t) });
    expect(seen).toEqual([7, 9, 8, 9, 9, 9]);
  });

  it('a kill between the state and the model write: the state alone resumes exactly', async () => {
    const dir = tmp();
    const o: TrainOptions = { epochs: 3, batch: 16, optimizer: 'adam', lr: 0.01, seed: 5 };
    const full = await onnx().train(tinyModel(), o, ctx);
    const ck = path.join(dir, 'm.odemor');
    await onnx().train(tinyModel(), { ...o, epochs: 1 }, { ...ctx, checkpoint: ck });
    const epoch1 = readFileSync(ck);
    await onnx().train(tinyModel(), { ...o, epochs: 2 }, { ...ctx, checkpoint: ck, resume: true });
    // state after epoch 2, model file put back to epoch 1: what a kill right after the state write leaves
    writeFileSync(ck, epoch1);
    expect((await readTrainState(statePath(ck)))!.epoch).toBe(2);
    const resumed = await onnx().train(tinyModel(), { ...o, epochs: 3 }, { ...ctx, checkpoint: ck, resume: true });
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model));
  });

  it('refuses to resume with other options, naming what changed; fewer epochs than done; resume without a checkpoint', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 2, batch: 16, optimizer: 'adam', lr: 0.01, seed: 1 };
    await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck });
    const resume = { ...ctx, checkpoint: ck, resume: true };
    await expect(onnx().train(tinyModel(), { ...o, lr: 0.02 }, resume)).rejects.toThrow(/cannot resume.*lr: 0.01 → 0.02/);
    await expect(onnx().train(tinyModel(), { ...o, batch: 8 }, resume)).rejects.toThrow(/batch: 16 → 8/);
    await expect(onnx({ schedule: { kind: 'cosine' } }).train(tinyModel(), o, resume)).rejects.toThrow(/schedule: none → \{"kind":"cosine"\}/);
    await expect(onnx().train(tinyModel(), { ...o, params: 'after-block' }, resume)).rejects.toThrow(/params: "all" → "after-block"/);
    // another frozen tensor (a different initialisation of what does not train)
    const other = tinyModel();
    other.pre[0] = { ...(other.pre[0] as { type: 'dense'; weight: { shape: number[]; data: Float32Array } }), trainable: false };
    await expect(onnx().train(other, o, resume)).rejects.toThrow(/cannot resume/);
    await expect(onnx().train(tinyModel(), { ...o, epochs: 1 }, resume)).rejects.toThrow(/2 epochs done but epochs = 1/);
    const err = await onnx().train(tinyModel(), o, { ...ctx, resume: true }).catch((e: unknown) => e);
    expect(OdemorError.is(err) && err.code).toBe('ARGUMENT');
    // more epochs, same options: fine
    await expect(onnx().train(tinyModel(), { ...o, epochs: 3 }, resume)).resolves.toBeDefined();
  });

  it('a cosine schedule depends on epochs: resuming to another epoch count is refused', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 1, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 1 };
    await onnx({ schedule: { kind: 'cosine', min: 0.01 } }).train(tinyModel(), o, { ...ctx, checkpoint: ck });
    await expect(onnx({ schedule: { kind: 'cosine', min: 0.01 } }).train(tinyModel(), { ...o, epochs: 3 }, { ...ctx, checkpoint: ck, resume: true })).rejects.toThrow(/epochs: 1 → 3/);
  });

  it('resume without a state file starts afresh; a fresh run removes a stale state file', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 2, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 1 };
    const a = await onnx().train(tinyModel(), o, ctx);
    const b = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck, resume: true });
    expect(modelBits(b.model)).toEqual(modelBits(a.model));
    // a fresh run that fails before its first epoch ends leaves no state of the earlier run behind
    const failing: CompileGradientProgram = async () => {
      throw new Error('no program');
    };
    await expect(onnx({}, failing).train(tinyModel(), o, { ...ctx, checkpoint: ck })).rejects.toThrow('no program');
    expect(existsSync(statePath(ck))).toBe(false);
  });
});

describe('a NaN or Inf loss stops training', () => {
  /** the tfjs program, but the loss of the `at`-th run (from 1) is `value` */
  const poisoned = (at: number, value: number, grad = false): CompileGradientProgram => async (model, options) => {
    const p = await tfjsCompile(model, options);
    let runs = 0;
    return {
      paths: p.paths,
      async run(params, x, y, batch) {
        const r = await p.run(params, x, y, batch);
        if (++runs === at) {
          if (grad) r.grads.get(p.paths[1]!)![0] = value;
          else r.loss = value;
        }
        return r;
      },
      dispose: () => p.dispose(),
    };
  };

  it('names the epoch and the batch, and keeps the last good checkpoint and state', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 3, batch: 16, optimizer: 'adam', lr: 0.01, seed: 4 };
    const err = await onnx({}, poisoned(5, NaN)).train(tinyModel(), o, { ...ctx, checkpoint: ck }).catch((e: unknown) => e);
    expect(OdemorError.is(err) && err.code).toBe('NUMERIC');
    expect((err as Error).message).toMatch(/the loss became NaN in epoch 2, batch 2 .*checkpoint of epoch 1 is kept/);
    const one = await onnx().train(tinyModel(), { ...o, epochs: 1 }, ctx);
    expect(modelBits(await loadModel(ck))).toEqual(modelBits(one.model));
    expect((await readTrainState(statePath(ck)))!.epoch).toBe(1);
    // and the run resumes from there to the weights of an uninterrupted run
    const full = await onnx().train(tinyModel(), o, ctx);
    const resumed = await onnx().train(tinyModel(), o, { ...ctx, checkpoint: ck, resume: true });
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model));
  });

  it('Infinity in the first epoch: no checkpoint is written; a non-finite gradient names its tensor', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const o: TrainOptions = { epochs: 2, batch: 16, optimizer: 'sgd', lr: 0.1, seed: 4 };
    await expect(onnx({}, poisoned(2, Infinity)).train(tinyModel(), o, { ...ctx, checkpoint: ck })).rejects.toThrow(/loss became Infinity in epoch 1, batch 2.*no checkpoint was written/);
    expect(existsSync(ck)).toBe(false);
    expect(existsSync(statePath(ck))).toBe(false);
    await expect(onnx({}, poisoned(3, NaN, true)).train(tinyModel(), o, ctx)).rejects.toThrow(/the gradient of 'pre.0.bias' is not finite in epoch 1, batch 3/);
  });
});

describe('a SIGKILLed training resumes to the weights of the uninterrupted run', () => {
  it('kill -9 after the first checkpoint, then resume', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'm.odemor');
    const epochs = 4;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'train-child.ts'), ck, String(epochs), '0'], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const t0 = Date.now();
    while (!existsSync(statePath(ck))) {
      if (Date.now() - t0 > 50_000 || child.exitCode !== null) throw new Error(`the child wrote no checkpoint: ${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('done');
    const done = (await readTrainState(statePath(ck)))!.epoch;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(epochs);
    const full = await onnx().train(tinyModel(), { ...childOptions, epochs }, ctx);
    const resumed = await onnx().train(tinyModel(), { ...childOptions, epochs }, { ...ctx, checkpoint: ck, resume: true });
    expect(maxDiff(resumed.model, full.model)).toBe(0);
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model));
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGING_DIR, encodeModel, loadModel, runExperiment, type ExperimentResults, type OdemorPlugin, type Solver } from '@odemor/core';
import { cli, fixtures, tmpDir, writeConfig } from './helpers.js';

describe('an experiment from YAML, end to end', () => {
  it('trains, snapshots, reduces with a built-in and a local plugin reducer, evaluates and writes results', async () => {
    const file = writeConfig(fs.readFileSync(path.join(fixtures, 'tiny.yaml'), 'utf8'), ['random-points-reducer.js']);
    const out = tmpDir();
    const r = await cli(['run', file, '--out', out, '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| method \| dim \| stage \|/);
    expect(r.out).toMatch(/\| random-points \| 6 \| reduced \|/);
    expect(fs.readdirSync(out).sort()).toEqual(['model.odemor', 'results.json', 'results.md']);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(res.format).toBe('odemor-results');
    expect(res.rows.map((row) => `${row.method}@${row.dim}:${row.stage}`)).toEqual([
      'original@12:original',
      'deim@4:reduced',
      'deim@12:reduced',
      'random-points@6:reduced',
    ]);
    for (const row of res.rows) {
      for (const key of ['top1', 'top3', 'wallSeconds', 'speedup', 'activations', 'params', 'macsPerRhs', 'runtime', 'backend'] as const) {
        expect(row[key], `${row.method}.${key}`).toBeDefined();
      }
      expect(row.top1).toBeGreaterThanOrEqual(0);
      expect(row.top1).toBeLessThanOrEqual(1);
    }
    // DEIM at full dimension reproduces the original model
    expect(res.rows[2]!.top1).toBeCloseTo(res.rows[0]!.top1, 2);
    expect(res.rows[1]!.activations).toBe(4);
    expect(res.snapshots!.n).toBe(12);
    // the saved model loads
    const model = await loadModel(path.join(out, 'model.odemor'));
    expect(model.block.n).toBe(12);
  });

  it('fires the lifecycle hooks in order, and the reduced waterfall can transform models', async () => {
    const file = writeConfig(
      `name: hooks
seed: 2
dataset: { use: spirals, classes: 2, train: 120, test: 60 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 60 }
reducers: [ { use: svd, dims: [2, 4] } ]
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`,
    );
    const seen: string[] = [];
    let steps = 0;
    const { results } = await runExperiment(file, {
      outDir: tmpDir(),
      setup: (exp) => {
        const h = exp.hooks;
        h.configLoaded.tap('t', (c) => (seen.push('configLoaded'), c));
        h.beforeTrain.tap('t', () => void seen.push('beforeTrain'));
        h.epoch.tap('t', () => void seen.push('epoch'));
        h.afterTrain.tap('t', () => void seen.push('afterTrain'));
        h.beforeReduce.tap('t', (m, dims) => void seen.push(`beforeReduce:${m}:${dims.map((d) => d.k).join(',')}`));
        h.reduced.tap('t', (r) => (seen.push(`reduced:${r.dims.k}`), r));
        h.evaluated.tap('t', (row) => void seen.push(`evaluated:${row.method}`));
        h.report.tap('t', () => void seen.push('report'));
        h.step.tap('t', () => void steps++);
        expect(typeof h.step.call).toBe('function');
        expect(Object.isFrozen(h)).toBe(true);
      },
    });
    expect(seen).toEqual([
      'configLoaded',
      'beforeTrain',
      'epoch',
      'afterTrain',
      'evaluated:original',
      'beforeReduce:svd:2,4',
      'reduced:2',
      'evaluated:svd',
      'reduced:4',
      'evaluated:svd',
      'report',
    ]);
    // the tfjs runtime steps the solver eagerly: t1 = 1, dt = 0.5 → 2 steps per solve
    expect(steps).toBeGreaterThan(0);
    expect(steps % 2).toBe(0);
    expect(results.rows.every((r) => r.runtime === 'tfjs')).toBe(true);
  });

  it('odemor plugins lists the solvers, the evaluator and the datasets', async () => {
    const r = await cli(['plugins']);
    expect(r.code).toBe(0);
    for (const line of [/Solver +euler/, /Solver +rk4/, /Solver +dopri5/, /Evaluator +classification/, /Dataset +spirals/, /Reducer +deim/, /Runtime +onnx/, /Model +dense-node/]) {
      expect(r.out).toMatch(line);
    }
  });
});

describe('adaptive solvers', () => {
  it('training, evaluation and snapshots run dopri5 on onnx (the step loop; training backprops through the accepted steps)', async () => {
    const file = writeConfig(`name: adaptive
dataset: { use: spirals, classes: 2, train: 100, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: dopri5, dt: 0.1, rtol: 0.0001, atol: 0.000001 } }
train: { epochs: 1, batch: 50 }
reducers: [ { use: deim, dims: [3, 6] } ]
evaluate: { repeats: 1, topk: [1] }
`);
    const log: string[] = [];
    const { results } = await runExperiment(file, { outDir: tmpDir(), log: (l) => log.push(l) });
    // nothing falls back (other lines: timing-drift warnings of these tiny models)
    expect(log.filter((l) => l.includes('falling back'))).toEqual([]);
    expect(results.training!.trainer).toBe('backprop-onnx');
    expect(results.rows.map((r) => `${r.method}@${r.dim}:${r.runtime}`)).toEqual(['original@6:onnx', 'deim@3:onnx', 'deim@6:onnx']);
    expect(results.snapshots!.n).toBe(6);
    // DEIM at full dimension reproduces the original model
    expect(results.rows[2]!.top1).toBeCloseTo(results.rows[0]!.top1, 2);
  });

  it('a fixed-step step program without a tableau is unrolled by the onnx runtime (no fallback)', async () => {
    // Heun's method as a step program over the runtime's algebra: no Butcher tableau to unroll
    const heun: Solver = {
      name: 'heun-program',
      order: 2,
      adaptive: false,
      step(alg, f, t, y, h, context) {
        context.onEval?.();
        const k1 = f(t, y);
        const y1 = alg.axpy(y, [h], [k1]);
        context.onEval?.();
        const k2 = f(t + h, y1);
        return { y1: alg.axpy(y, [h / 2, h / 2], [k1, k2]) };
      },
    };
    const plugin: OdemorPlugin = { name: 'heun-program', register: (ctx) => ctx.provide('Solver', 'heun-program', () => heun, "Heun's method as a step program") };
    const file = writeConfig(`name: step-program
dataset: { use: spirals, classes: 2, train: 100, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: heun-program, dt: 0.25 } }
train: { epochs: 1, batch: 50 }
evaluate: { repeats: 1, topk: [1] }
`);
    const log: string[] = [];
    const { results } = await runExperiment(file, { outDir: tmpDir(), log: (l) => log.push(l), plugins: [plugin] });
    expect(log.filter((l) => l.includes('falling back'))).toEqual([]);
    expect(results.rows[0]!.runtime).toBe('onnx');
    expect(results.training!.trainer).toBe('backprop-onnx');
  });
});

describe('checkpoints', () => {
  it("keep their solver unless the config overrides it, key by key; training saves after every epoch", async () => {
    const first = writeConfig(`name: solver-kept
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: euler, dt: 0.5, t1: 1 } }
train: { epochs: 2, batch: 30 }
evaluate: { runtime: tfjs, repeats: 1, topk: [1], batch: 100 }
`);
    const outA = tmpDir();
    let epochsSaved = 0;
    await runExperiment(first, {
      outDir: outA,
      setup: (exp) => exp.hooks.epoch.tap('t', () => void (fs.existsSync(path.join(outA, STAGING_DIR, 'model.odemor')) && epochsSaved++)),
    });
    // the checkpoint is written after each epoch (into the run's staging folder until the run ends); the epoch
    // hook of epoch 2 sees epoch 1's file
    expect(epochsSaved).toBeGreaterThanOrEqual(1);
    fs.copyFileSync(path.join(outA, 'model.odemor'), path.join(path.dirname(first), 'm.odemor'));
    const count = async (solver: string) => {
      const cfg = path.join(path.dirname(first), `c${solver.length}.yaml`);
      fs.writeFileSync(cfg, `name: from-ckpt
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, checkpoint: ./m.odemor${solver} }
evaluate: { runtime: tfjs, repeats: 1, topk: [1], batch: 100 }
`);
      let steps = 0;
      await runExperiment(cfg, { outDir: tmpDir(), setup: (exp) => exp.hooks.step.tap('t', () => void steps++) });
      return steps;
    };
    // warm-up + 1 timed pass, one batch each: 2 solves; euler dt 0.5 on [0, 1] → 2 steps per solve
    expect(await count('')).toBe(4);
    // overriding dt alone keeps euler and t1 from the checkpoint
    expect(await count(', solver: { dt: 0.25 }')).toBe(8);
  });
});

describe('bad checkpoints', () => {
  async function checkpointConfig(mutate: (bytes: Uint8Array) => Uint8Array | void, model?: (m: any) => void) {
    // make a valid checkpoint by running a one-epoch experiment
    const first = writeConfig(`name: ck
dataset: { use: spirals, classes: 2, train: 60, test: 30 }
model: { use: dense-node, hidden: 6, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 30 }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`);
    const outA = tmpDir();
    expect((await cli(['run', first, '--out', outA, '--quiet'])).code).toBe(0);
    const ckpt = path.join(path.dirname(first), 'model.odemor');
    if (model) {
      const m = await loadModel(path.join(outA, 'model.odemor'));
      model(m);
      // write the altered model with the real encoder, bypassing validation
      fs.writeFileSync(ckpt, encodeModel(m, { validate: false }));
    } else {
      const bytes = new Uint8Array(fs.readFileSync(path.join(outA, 'model.odemor')));
      fs.writeFileSync(ckpt, mutate(bytes) ?? bytes);
    }
    const cfg = path.join(path.dirname(first), 'from-checkpoint.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(first, 'utf8').replace('use: dense-node', 'use: dense-node, checkpoint: ./model.odemor').replace(/^train: .*\n/m, ''));
    const out = tmpDir();
    const r = await cli(['run', cfg, '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    expect(fs.readdirSync(out)).toEqual([]);
    return r.err;
  }

  it('a truncated checkpoint is named', async () => {
    expect(await checkpointConfig((b) => b.subarray(0, b.length - 100))).toMatch(/model\.odemor.*truncated|truncated.*model\.odemor/i);
  });

  it('NaN weights are named by path', async () => {
    expect(await checkpointConfig(() => undefined, (m) => (m.block.A.weight.data[3] = Number.NaN))).toMatch(/block\.A\.weight contains NaN/);
  });

  it('a shape mismatch is named', async () => {
    expect(
      await checkpointConfig(
        () => undefined,
        (m) => {
          m.post[0].weight = { shape: [2, 5], data: new Float32Array(10) };
        },
      ),
    ).toMatch(/post\[0\].*(shape|5|6)/);
  });
});

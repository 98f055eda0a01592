/**
 * The pipeline as stages: stage hooks in order, the `shouldEvaluate` veto, `failed` with the error, runtimes
 * disposed whatever happens, every written file reported, and the Trainer options core passes through
 * (`params`, `weightDecay`, `clipNorm`, the `<use>-<runtime>` naming).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES, listTensors, loadModel, runExperiment, type ModelIR, type OdemorPlugin, type Runtime } from '@odemor/core';
import { tmpDir, writeConfig } from './helpers.js';

const tiny = (extra = '') => `name: stages
seed: 2
dataset: { use: spirals, classes: 2, train: 120, test: 60 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 60 }
reducers: [ { use: svd, dims: [2, 4] } ]
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
${extra}`;

/** Wraps the 'tfjs' runtime so the test sees its dispose. */
function countingRuntime(counter: { disposed: number }): OdemorPlugin {
  return {
    name: 'counting-runtime',
    async register(ctx) {
      const tfjs = (await import('@odemor/runtime-tfjs')).TfjsRuntime;
      ctx.provide('Runtime', 'counted', (o) => {
        const inner: Runtime = new tfjs(o as never);
        return Object.assign(Object.create(inner) as Runtime, { name: 'counted', dispose: () => void counter.disposed++ });
      });
    },
  };
}

describe('the pipeline as stages', () => {
  it('brackets every stage with beforeStage/afterStage, in order, and lists every file it wrote', async () => {
    const seen: string[] = [];
    const out = tmpDir();
    const run = await runExperiment(writeConfig(tiny()), {
      outDir: out,
      setup: (exp) => {
        exp.hooks.beforeStage.tap('t', (s) => void seen.push(`+${s}`));
        exp.hooks.afterStage.tap('t', (s) => void seen.push(`-${s}`));
      },
    });
    expect(seen).toEqual(STAGES.flatMap((s) => [`+${s.name}`, `-${s.name}`]));
    expect(STAGES.map((s) => s.name)).toEqual(['setup', 'model', 'train', 'originals', 'snapshots', 'reduce', 'compare', 'report']);
    expect(run.written.map((f) => path.relative(out, f)).sort()).toEqual(['model.odemor', 'results.json', 'results.md']);
    for (const f of run.written) expect(fs.existsSync(f)).toBe(true);
    expect(run.results.training).toMatchObject({ trainer: 'backprop-onnx' });
    expect(run.results.environment.runtimes).toHaveProperty('tfjs');
  });

  it('skips a reduced model that a shouldEvaluate tap vetoes', async () => {
    const { results } = await runExperiment(writeConfig(tiny()), {
      outDir: tmpDir(),
      setup: (exp) => exp.hooks.shouldEvaluate.tap('t', (r) => (r.dims.k === 2 ? false : undefined)),
    });
    expect(results.rows.map((r) => `${r.method}@${r.dim}`)).toEqual(['original@8', 'svd@4']);
  });

  it('fires failed with the error and disposes the runtimes when a stage throws', async () => {
    const counter = { disposed: 0 };
    const failures: string[] = [];
    const cfg = writeConfig(tiny().replace('runtime: tfjs', 'runtime: counted'));
    await expect(
      runExperiment(cfg, {
        outDir: tmpDir(),
        plugins: [countingRuntime(counter)],
        setup: (exp) => {
          exp.hooks.failed.tap('t', (e) => void failures.push(e.message));
          exp.hooks.afterStage.tap('t', (s) => {
            if (s === 'originals') throw new Error('boom after originals');
          });
        },
      }),
    ).rejects.toThrow('boom after originals');
    expect(failures).toEqual(['boom after originals']);
    expect(counter.disposed).toBe(1);
  });

  it('disposes the runtimes after a successful run too', async () => {
    const counter = { disposed: 0 };
    await runExperiment(writeConfig(tiny().replace('runtime: tfjs', 'runtime: counted')), { outDir: tmpDir(), plugins: [countingRuntime(counter)] });
    expect(counter.disposed).toBe(1);
  });

  it('train.params trains only the selected tensors; weightDecay and clipNorm reach the trainer', async () => {
    const withTrain = (t: string) => writeConfig(tiny().replace('train: { epochs: 1, batch: 60 }', `train: { epochs: 1, batch: 60, ${t} }`));
    let initial: ModelIR | undefined;
    const frozen = await runExperiment(withTrain('params: after-block'), {
      outDir: tmpDir(),
      setup: (exp) => exp.hooks.beforeTrain.tap('t', (m) => void (initial = m)),
    });
    const trained = await loadModel(path.join(frozen.outDir, 'model.odemor'));
    const before = new Map(listTensors(initial!).map((t) => [t.path, t.tensor.data]));
    for (const { path: p, tensor } of listTensors(trained)) {
      const same = tensor.data.every((v, i) => v === before.get(p)![i]);
      expect(same, `${p} ${p.startsWith('post.') ? 'should have trained' : 'should be frozen'}`).toBe(!p.startsWith('post.'));
    }
    // the same run with decay and clipping ends elsewhere
    const decayed = await runExperiment(withTrain('params: after-block, weightDecay: 0.5, clipNorm: 0.01'), { outDir: tmpDir() });
    expect(decayed.results.training!.finalLoss).not.toBe(frozen.results.training!.finalLoss);
  });

  it("a list of IR paths selects tensors, and a path that names nothing is an error naming it", async () => {
    await expect(runExperiment(writeConfig(tiny().replace('train: { epochs: 1, batch: 60 }', 'train: { epochs: 1, batch: 60, params: [block.Z] }')), { outDir: tmpDir() })).rejects.toThrow(
      /params: 'block.Z' names no tensor of the model/,
    );
  });
});

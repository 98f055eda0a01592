/**
 * Fine-tuning stages (issue 12): `finetune` as a list of stages — `finetuned` (the layers after the block),
 * `finetuned-block` (the reduced block's own tensors too) and `retrained` (30 epochs by default) — each limited
 * by `dims` and `methods`, with its own rows, table columns, plan count and resume.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGING_DIR, configSchema, listTensors, planExperiment, runExperiment, type ModelIR, type OdemorPlugin, type TrainOptions } from '@odemor/core';
import { tmpDir, writeConfig } from './helpers.js';

const base = `name: ftstages
seed: 3
dataset: { use: spirals, classes: 2, train: 120, test: 60 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 60 }
snapshots: { use: stream, every: 1 }
reducers:
  - { use: deim, dims: [2, 4] }
  - { use: svd, dims: [2, 4] }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`;

const stages = `finetune:
  - { stage: finetuned, epochs: 1, use: rec }
  - { stage: finetuned-block, epochs: 1, dims: [4], use: rec }
  - { stage: retrained, epochs: 2, dims: [4], methods: [deim], use: rec }
`;

interface Call {
  epochs: number;
  params: TrainOptions['params'];
  before: ModelIR;
  after: ModelIR;
}

/** Trainer 'rec': backprop-onnx, recording what each fine-tuning call trained. */
function recorder(calls: Call[]): OdemorPlugin {
  return {
    name: 'recording-trainer',
    async register(ctx) {
      const { OnnxBackpropTrainer } = await import('@odemor/runtime-onnx');
      ctx.provide('Trainer', 'rec', () => {
        const inner = new OnnxBackpropTrainer();
        return {
          name: 'rec',
          async train(model, options, context) {
            const out = await inner.train(model, options, context);
            calls.push({ epochs: options.epochs, params: options.params, before: model, after: out.model });
            return out;
          },
        };
      });
    },
  };
}

const changed = (a: ModelIR, b: ModelIR): string[] => {
  const before = new Map(listTensors(a).map((t) => [t.path, t.tensor.data]));
  return listTensors(b)
    .filter((t) => !t.tensor.data.every((v, i) => v === before.get(t.path)![i]))
    .map((t) => t.path.split('.')[0]!);
};

describe('fine-tuning stages', () => {
  it('publishes one row per stage that applies, training what each stage names', async () => {
    const calls: Call[] = [];
    const { results } = await runExperiment(writeConfig(base + stages), { outDir: tmpDir(), plugins: [recorder(calls)] });
    const got = results.rows.filter((r) => r.stage !== 'original').map((r) => `${r.method}@${r.dim}:${r.stage}`);
    expect(got).toEqual([
      'deim@2:reduced',
      'deim@2:finetuned',
      'deim@4:reduced',
      'deim@4:finetuned',
      'deim@4:finetuned-block',
      'deim@4:retrained',
      'svd@2:reduced',
      'svd@2:finetuned',
      'svd@4:reduced',
      'svd@4:finetuned',
      'svd@4:finetuned-block',
    ]);
    expect(calls.map((c) => `${c.epochs}:${JSON.stringify(c.params)}`)).toEqual([
      '1:"after-block"',
      '1:"after-block"',
      '1:["block.","post."]',
      '2:"after-block"',
      '1:"after-block"',
      '1:"after-block"',
      '1:["block.","post."]',
    ]);
    // after-block trains only the post layers; finetuned-block changes the reduced block too
    expect(new Set(changed(calls[0]!.before, calls[0]!.after))).toEqual(new Set(['post']));
    expect(new Set(changed(calls[2]!.before, calls[2]!.after))).toEqual(new Set(['block', 'post']));
    // the paper's table layout gets a column per further stage
    const { resultsMarkdown } = await import('@odemor/core');
    const md = resultsMarkdown(results);
    expect(md).toMatch(/top-1 block fine-tuned \| top-1 retrained/);
  }, 120_000);

  it('one object is the paper\'s stage; retrained defaults to 30 epochs; the plan counts what applies', async () => {
    const one = configSchema.parse({ dataset: { use: 'x' }, model: { use: 'y' }, finetune: { epochs: 2 } });
    expect(one.finetune).toMatchObject({ stage: 'finetuned', epochs: 2 });
    const { finetuneJobs } = await import('@odemor/core');
    const jobs = finetuneJobs(configSchema.parse({ dataset: { use: 'x' }, model: { use: 'y' }, finetune: [{ stage: 'retrained' }, { stage: 'finetuned-block', epochs: 0 }] }));
    expect(jobs.map((j) => `${j.stage}:${j.epochs}`)).toEqual(['retrained:30']);
    const plan = await planExperiment(writeConfig(base + stages.replaceAll(', use: rec', '')));
    // 4 reduced models + 4 finetuned + 2 finetuned-block + 1 retrained, and the original
    expect(plan.finetunes).toBe(7);
    expect(plan.evaluations).toBe(1 + 4 + 7);
  }, 60_000);

  it('--resume redoes only the stages whose rows are missing', async () => {
    const cfg = writeConfig(base + stages);
    const out = tmpDir();
    const whole = await runExperiment(cfg, { outDir: out, plugins: [recorder([])] });
    // stage the run as if killed after deim@4's first fine-tuning
    const cut = whole.results.rows.findIndex((r) => r.method === 'deim' && r.dim === 4 && r.stage === 'finetuned') + 1;
    const staging = path.join(out, STAGING_DIR);
    fs.mkdirSync(staging);
    fs.copyFileSync(path.join(out, 'model.odemor'), path.join(staging, 'model.odemor'));
    fs.writeFileSync(path.join(staging, 'results.json'), JSON.stringify({ ...whole.results, status: 'partial', rows: whole.results.rows.slice(0, cut) }));
    const calls: Call[] = [];
    const resumed = await runExperiment(cfg, { outDir: out, resume: true, plugins: [recorder(calls)], log: () => {} });
    const key = (rows: typeof whole.results.rows) => rows.map((r) => `${r.method}@${r.dim}:${r.stage}=${r.top1}`);
    expect(key(resumed.results.rows)).toEqual(key(whole.results.rows));
    // deim@4's finetuned-block and retrained, then svd@2 finetuned, svd@4 finetuned and finetuned-block
    expect(calls.map((c) => c.epochs)).toEqual([1, 2, 1, 1, 1]);
  }, 120_000);

  it('a stage given twice is a config error naming it', async () => {
    const bad = base + 'finetune:\n  - { stage: retrained }\n  - { stage: retrained, epochs: 3 }\n';
    await expect(runExperiment(writeConfig(bad), { outDir: tmpDir() })).rejects.toThrow(/finetune\.1\.stage|finetune\[1\]\.stage|stage 'retrained' appears twice/);
  });
});

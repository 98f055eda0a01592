/**
 * System identification end to end (issue 13, item 7 in small): an mlp-node trained on Van der Pol trajectories
 * on onnx, snapshots of its hidden activations (the tfjs runtime samples mlp blocks; onnx hands them over), every
 * reducer on the hidden layer, the reduced models evaluated by the regression evaluator, and resume.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment, type ExperimentResults } from '@odemor/core';
import { tmpDir, writeConfig } from './helpers.js';

const config = `name: mlp-mor
seed: 3
plugins: ['@odemor/dataset-dynamics', '@odemor/evaluator-regression']
dataset: { use: dynamics, system: van-der-pol, trajectories: 48, test: 16, samples: 10, horizon: 2 }
model: { use: mlp-node, hidden: 24, solver: { use: rk4, dt: 0.1 } }
train: { epochs: 6, batch: 16, optimizer: adam, lr: 0.02, runtime: onnx }
snapshots: { every: 1, limit: 32 }
reducers:
  - { use: deim, dims: [4, 24] }
  - { use: qdeim, dims: [4] }
  - { use: odeim, dims: [4], points: [8] }
  - { use: svd, dims: [1] }
  - { use: apoz, dims: [4, 24] }
evaluate: { runtime: onnx, repeats: 1 }
`;

describe('mlp-node: reducers on the hidden layer, through the pipeline', () => {
  it('reduces every method at hidden widths, full width reproduces the original, rows carry the regression fields', async () => {
    const out = tmpDir();
    const log: string[] = [];
    const { results } = await runExperiment(writeConfig(config), { outDir: out, log: (l) => log.push(l) });
    const rows = results.rows;
    const original = rows.find((r) => r.stage === 'original')!;
    expect(original.testMse).toBeGreaterThan(0);
    const reduced = rows.filter((r) => r.stage === 'reduced');
    expect(reduced.map((r) => `${r.method}@${r.dim}`).sort()).toEqual(['apoz@24', 'apoz@4', 'deim@24', 'deim@4', 'odeim@4', 'qdeim@4', 'svd@1']);
    for (const r of reduced) {
      expect(Number.isFinite(r.testMse!)).toBe(true);
      expect(r.mseRatio).toBeCloseTo(r.testMse! / original.testMse!, 6);
    }
    // all 24 hidden units kept: DEIM interpolates exactly (U square, P = I up to order), APoZ keeps every unit
    const at = (m: string, k: number) => rows.find((r) => r.method === m && r.dim === k && r.stage === 'reduced')!;
    expect(Math.abs(at('deim', 24).testMse! - original.testMse!)).toBeLessThan(1e-4 * Math.max(1, original.testMse!));
    expect(Math.abs(at('apoz', 24).testMse! - original.testMse!)).toBeLessThan(1e-4 * Math.max(1, original.testMse!));
    expect(at('deim', 4).activations).toBe(4);
    expect(at('odeim', 4).activations).toBe(8);
    // the snapshot pass fell back to tfjs (onnx samples full ODE blocks only), and said so
    expect(log.some((l) => /snapshot graph samples full ODE blocks/.test(l))).toBe(true);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(saved.rows).toHaveLength(rows.length);
  }, 120_000);

  it('a dimension above the hidden width is a config error before training', async () => {
    const bad = config.replace('{ use: qdeim, dims: [4] }', '{ use: qdeim, dims: [25] }');
    await expect(runExperiment(writeConfig(bad), { write: false, log: () => {} })).rejects.toThrow(/dimension 25 exceeds the mlp block's hidden width m = 24/);
  });
});

/**
 * The paper's convolutional experiment from its YAML file and the committed checkpoint, shrunk through
 * the configLoaded waterfall hook so that it fits in a test: fewer snapshot images, two reducers at one
 * dimension, a short fine-tuning, a subset of the test set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment, type ExperimentConfig } from '@odemor/core';
import { repoRoot, tmpDir } from './helpers.js';

describe('conv-mnist-quick from the committed checkpoint', () => {
  it('reduces the trained convolutional Neural ODE, fine-tunes, evaluates against both originals and writes the report', async () => {
    const out = tmpDir();
    const { results } = await runExperiment(path.join(repoRoot, 'configs', 'conv-mnist-quick.yaml'), {
      outDir: out,
      setup: (exp) => {
        exp.hooks.configLoaded.tap('shrink for the test', (c: ExperimentConfig) => ({
          ...c,
          snapshots: { ...c.snapshots!, limit: 200 },
          reducers: [
            { use: 'deim', dims: [50] },
            { use: 'apoz', dims: [50] },
          ],
          finetune: { epochs: 1, layers: 'after-block', batch: 64, optimizer: 'adam', lr: 0.001, limit: 300 },
          evaluate: { ...c.evaluate, repeats: 1, limit: 500 },
        }));
      },
    });
    const row = (method: string, stage: string) => results.rows.find((r) => r.method === method && r.stage === stage)!;
    // the dense Toeplitz form is the paper's timing baseline; the convolutional original is the honest one
    expect(row('original', 'original').params).toBe(1024 * 1024);
    expect(row('original-conv', 'original').params).toBe(3 * 3 * 16 * 16);
    expect(row('original', 'original').top1).toBeGreaterThan(0.95);
    expect(row('original-conv', 'original').top1).toBeCloseTo(row('original', 'original').top1, 2);
    expect(row('deim', 'reduced').stateDim).toBe(50);
    expect(row('deim', 'reduced').speedupVsConv).toBeDefined();
    expect(row('deim', 'reduced').top1).toBeGreaterThan(0.5);
    expect(row('deim', 'finetuned')).toBeDefined();
    expect(row('apoz', 'reduced').stateDim).toBe(50);
    expect(results.snapshots!.n).toBe(1024);
    expect(results.analysis?.apozScores).toHaveLength(1024);
    for (const f of ['results.json', 'results.md', 'report.html', path.join('plots', 'singular-values.svg')]) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toContain('### POD-DEIM');
  }, 300_000);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults, ResultRow } from '@odemor/core';
import { apozSpec, renderSvg, singularValueSpec, tradeoffSpec, trainingSpec, writeReport } from '../src/index.js';

function row(method: string, dim: number, stage: ResultRow['stage'], speedup: number, rel: number): ResultRow {
  return {
    method, dim, stage, top1: 0.9 * rel, top3: 0.99, topk: { top1: 0.9 * rel }, wallSeconds: 1 / speedup, timings: [1 / speedup], throughput: 1000,
    speedup, relativeTop1: rel, activations: dim, params: dim * dim, macsPerRhs: dim * dim, stateDim: dim, runtime: 'onnx', backend: 'cpu', samples: 100,
  };
}

function results(outDir: string): ExperimentResults {
  return {
    format: 'odemor-results', version: 1, name: 'demo', seed: 1, startedAt: 'a', finishedAt: 'b', config: {},
    environment: { node: 'v20', tfjsBackend: 'wasm', platform: 'linux-x64', cpus: 2 },
    snapshots: { n: 8, snapshots: 100, samples: 50, stateSingularValues: [10, 3, 1, 0.1, 0.01, 0, 0, 0], nonlinearSingularValues: [9, 4, 2, 0.5, 0.1, 0.01, 0.001, 0] },
    analysis: { apozScores: [0.1, 0.5, 0.7, 0.2, 0.9, 0.05, 0.3, 0.6], deimPoints: [4, 2, 7], weightSingularValues: [2, 1.5, 1, 0.5, 0.2, 0.1, 0.05, 0.01] },
    rows: [row('original', 8, 'original', 1, 1), row('deim', 2, 'reduced', 4, 0.7), row('deim', 4, 'reduced', 2, 0.95), row('svd', 2, 'reduced', 1.2, 0.5), row('deim', 2, 'finetuned', 4, 0.9)],
    outDir,
  };
}

describe('report-html', () => {
  it('renders each plot to SVG with the data in it', async () => {
    const res = results('/tmp');
    const sv = await renderSvg(singularValueSpec(res)!);
    expect(sv.startsWith('<svg')).toBe(true);
    expect(sv).toContain('state snapshots');
    expect(sv).toContain('weight matrix A');
    const apoz = await renderSvg(apozSpec(res)!);
    expect(apoz).toContain('the first 3 DEIM points');
    const tr = await renderSvg(tradeoffSpec(res, 'reduced')!);
    expect(tr).toContain('deim');
    expect(tr).toContain('svd');
    expect(tradeoffSpec({ ...res, rows: [] }, 'finetuned')).toBeUndefined();
  });

  it('plots the training curve from training.history, and none without a history', async () => {
    const res = results('/tmp');
    expect(trainingSpec(res)).toBeUndefined();
    const history = [1, 2, 3].map((epoch) => ({ epoch, epochs: 3, loss: 1 / epoch, accuracy: 0.5 + 0.1 * epoch, lr: 0.01, seconds: 1, phase: 'train' }));
    const svg = await renderSvg(trainingSpec({ ...res, training: { epochs: 3, finalLoss: 1 / 3, finalAccuracy: 0.8, seconds: 3, phase: 'train', trainer: 'backprop-onnx', backend: 'onnx/cpu', history } })!);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('backprop-onnx on onnx/cpu');
    expect(svg).toContain('training accuracy');
  });

  it('writes report.html and the SVG files into the results folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-report-'));
    const out = await writeReport(results(dir));
    expect(out.plots.map((p) => path.basename(p)).sort()).toEqual(['apoz-scores.svg', 'singular-values.svg', 'tradeoff-finetuned.svg', 'tradeoff-reduced.svg']);
    const html = fs.readFileSync(out.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toMatch(/<td class="t">deim<\/td><td>4<\/td><td class="t">reduced<\/td>/);
    // no temporary files left behind
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

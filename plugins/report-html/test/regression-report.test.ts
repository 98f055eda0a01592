import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults, ResultRow } from '@odemor/core';
import { bestRegressionRows, errorByTimeSpec, renderSvg, tradeoffSpec, trainingSpec, trajectorySpec, writeReport } from '../src/index.js';

const TIMES = [0.5, 1, 1.5, 2];
const truthOf = (s: number) => TIMES.map((t) => [Math.cos(t + s), Math.sin(t + s)]);

/** A regression row whose predictions are the truth plus `err` · t; its test MSE grows with err. */
function row(method: string, dim: number, stage: ResultRow['stage'], speedup: number, err: number, originalMse = 0.01): ResultRow {
  const mse = err * err + 1e-4;
  return {
    method,
    dim,
    stage,
    testMse: mse,
    rmse: Math.sqrt(mse),
    relativeError: Math.sqrt(mse),
    mseRatio: mse / originalMse,
    nfePerSample: 40,
    errorByTime: { times: TIMES, rmse: TIMES.map((t) => err * t + 0.01) },
    trajectories: { samples: [0, 1], predicted: [0, 1].map((s) => truthOf(s).map((xs, k) => xs.map((v) => v + err * TIMES[k]!))) },
    wallSeconds: 1 / speedup,
    timings: [1 / speedup],
    throughput: 100,
    speedup,
    activations: dim,
    params: dim * dim,
    macsPerRhs: dim * dim,
    stateDim: 2,
    runtime: 'onnx',
    backend: 'cpu',
    samples: 20,
  };
}

function results(outDir: string): ExperimentResults {
  const original = row('original', 8, 'original', 1, Math.sqrt(0.01 - 1e-4));
  return {
    format: 'odemor-results',
    version: 1,
    name: 'sysid',
    seed: 1,
    startedAt: 'a',
    finishedAt: 'b',
    config: {},
    environment: { node: 'v20', platform: 'linux-x64', cpus: 2 },
    task: 'regression',
    regression: { times: TIMES, states: 2, samples: [0, 1], truth: [truthOf(0), truthOf(1)] },
    rows: [original, row('deim', 2, 'reduced', 4, 0.5), row('deim', 4, 'reduced', 2, 0.2), row('svd', 2, 'reduced', 1.5, 0.8), row('deim', 2, 'finetuned', 4, 0.15), row('svd', 4, 'reduced', 1.2, 0.3)],
    outDir,
  };
}

describe('report-html on regression results', () => {
  it('shows the original and each method’s best row (lowest test MSE over its dimensions and stages)', () => {
    const shown = bestRegressionRows(results('/tmp')).map((r) => `${r.method}@${r.dim} ${r.stage}`);
    expect(shown).toEqual(['original@8 original', 'deim@2 finetuned', 'svd@4 reduced']);
  });

  it('plots predicted against observed trajectories per state, and the RMSE against time', async () => {
    const res = results('/tmp');
    const traj = await renderSvg(trajectorySpec(res)!);
    expect(traj.startsWith('<svg')).toBe(true);
    expect(traj).toContain('Predicted vs observed trajectories (test samples 0, 1)');
    for (const label of ['observed', 'original', 'deim@2 (finetuned)', 'svd@4', 'state 1', 'state 2']) expect(traj).toContain(label);
    const err = await renderSvg(errorByTimeSpec(res)!);
    expect(err).toContain('Rollout error: RMSE at each observation time');
    for (const label of ['original', 'deim@2 (finetuned)', 'svd@4']) expect(err).toContain(label);
    // the MSE ratio against speedup replaces the relative accuracy
    const tr = await renderSvg(tradeoffSpec(res, 'reduced')!);
    expect(tr).toContain('MSE ratio vs speedup');
    expect(tr).toContain('test MSE relative to the original');
    // nothing to plot without the observed trajectories or the rows' errors
    expect(trajectorySpec({ ...res, regression: undefined })).toBeUndefined();
    expect(errorByTimeSpec({ ...res, rows: res.rows.map(({ errorByTime: _e, ...r }) => r) })).toBeUndefined();
  });

  it('the training curve of a regression run plots the loss only', async () => {
    const history = [1, 2].map((epoch) => ({ epoch, epochs: 2, loss: 1 / epoch, accuracy: Number.NaN, lr: 0.01, seconds: 1, phase: 'train' }));
    const svg = await renderSvg(trainingSpec({ ...results('/tmp'), training: { epochs: 2, finalLoss: 0.5, finalAccuracy: Number.NaN, seconds: 2, phase: 'train', history } })!);
    expect(svg).toContain('loss');
    expect(svg).not.toContain('training accuracy');
  });

  it('writes report.html with the trajectory and error plots and the regression table', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-report-regression-'));
    const out = await writeReport(results(dir));
    expect(out.plots.map((p) => path.basename(p)).sort()).toEqual(['error-by-time.svg', 'tradeoff-finetuned.svg', 'tradeoff-reduced.svg', 'trajectories.svg']);
    const html = fs.readFileSync(out.html, 'utf8');
    expect(html).toContain('<a href="plots/trajectories.svg">SVG</a>');
    expect(html).toContain('<a href="plots/error-by-time.svg">SVG</a>');
    expect(html).toContain('Predicted against observed trajectories of the first test samples');
    expect(html).toContain('<th>test MSE</th><th>RMSE</th><th>rel. error</th><th>MSE ratio</th><th>NFE/sample</th>');
    // text columns are left-aligned (class t), figures right-aligned
    expect(html).toMatch(/<td class="t">deim<\/td><td>2<\/td><td class="t">reduced<\/td><td>0\.2501<\/td>/);
    expect(html).toContain('MSE ratio (test MSE / the original’s)');
    expect(html).not.toContain('top-1');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/**
 * The trainer comparison (`compare.trainers`, issue 14): one initial model, each trainer (on its own runtime,
 * with its own training solver) trains a copy of it; the common training-loss curve (the rollout MSE on training
 * trajectories with model.solver, measured outside the timed training); secondsToTarget, testMse, peakRssMiB; the
 * results.md table and the report; config errors before any work.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGING_DIR, listTensors, planExperiment, formatPlan, runExperiment, type ExperimentResults, type ModelIR, type ResultRow } from '@odemor/core';
import { repoRoot, tmpDir, writeConfig } from './helpers.js';

const config = (compare: string, extra = '') => `name: trainers
seed: 3
dataset: { use: dynamics, system: van-der-pol, trajectories: 16, test: 8, samples: 5, horizon: 2 }
model: { use: mlp-node, hidden: 8, solver: { use: rk4, dt: 0.1 } }
train: { epochs: 3, batch: 8, lr: 0.01 }
evaluate: { runtime: tfjs, repeats: 1 }
${extra}compare:
${compare}`;

const TRAINERS = `  target: 1000
  trainLossSamples: 8
  trainers:
    - { use: backprop, runtime: onnx, solver: { use: rk4, dt: 0.1 } }
    - { use: adjoint, solver: { use: dopri5, rtol: 1e-3 } }
    - { use: spectral, train: { order: 4, lambda: 0.1 } }
`;

const tensors = (m: ModelIR) => Object.fromEntries(listTensors(m).map((t) => [t.path, Array.from(t.tensor.data)]));
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;

describe('a trainer comparison', () => {
  it('trains each trainer from the same initial model and writes one compared row per entry with the common curve', async () => {
    const out = tmpDir();
    const initial: ModelIR[] = [];
    const { results } = await runExperiment(writeConfig(config(TRAINERS, 'report: { use: html }\n')), {
      outDir: out,
      log: () => {},
      setup: (exp) => exp.hooks.beforeTrain.tapPromise('test', async (m) => void initial.push(m)),
    });
    // warm-ups and the timed runs all start from the one initial model
    expect(initial.length).toBeGreaterThanOrEqual(3);
    for (const m of initial.slice(1)) expect(tensors(m)).toEqual(tensors(initial[0]!));
    expect(results.rows.map((r) => `${r.method}:${r.stage}`)).toEqual(['backprop:compared', 'adjoint:compared', 'spectral:compared']);
    const [bp, adj, sp] = results.rows as [ResultRow, ResultRow, ResultRow];
    expect(bp.trainer).toBe('backprop-onnx');
    expect(adj.trainer).toBe('adjoint');
    expect(sp.trainer).toBe('spectral');
    expect(bp.solver).toMatchObject({ use: 'rk4', dt: 0.1 });
    expect(adj.solver).toMatchObject({ use: 'dopri5', rtol: 1e-3 });
    expect(sp.solver).toMatchObject({ use: 'rk4', dt: 0.1 }); // the default: model.solver
    expect(bp.training!.backend).toMatch(/onnx/);
    expect(adj.training!.backend).toMatch(/onnx/);
    for (const r of results.rows) {
      // evaluated on the one evaluation runtime with model.solver
      expect(r.runtime, r.method).toBe('tfjs');
      expect(Number.isFinite(r.testMse!) && r.testMse! > 0, r.method).toBe(true);
      expect(r.trainSeconds!, r.method).toBeGreaterThan(0);
      expect(Number.isFinite(r.peakRssMiB!) && r.peakRssMiB! >= 0, r.method).toBe(true);
      expect(Number.isFinite(r.speedup)).toBe(true);
      const h = r.training!.history;
      expect(h.map((e) => e.epoch), r.method).toEqual([1, 2, 3]);
      for (const e of h) expect(Number.isFinite(e.trainMse!) && e.trainMse! > 0, `${r.method} epoch ${e.epoch}`).toBe(true);
      for (let i = 1; i < h.length; i++) expect(h[i]!.elapsed).toBeGreaterThan(h[i - 1]!.elapsed);
      expect(h[h.length - 1]!.elapsed).toBeLessThanOrEqual(r.trainSeconds! + 1e-9);
      // the loose target is reached in the first epoch
      expect(r.secondsToTarget, r.method).toBe(h[0]!.elapsed);
    }
    expect(bp.speedup).toBe(1);
    expect(bp.mseRatio).toBe(1);
    // the models are saved; the checkpoints of the curve are not left behind
    const saved = read(out);
    expect(saved.files).toEqual(expect.arrayContaining(['models/backprop.odemor', 'models/spectral.odemor', 'plots/compare-loss-time.svg', 'report.html']));
    expect(saved.files!.some((f) => f.includes('compare-checkpoints'))).toBe(false);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/## Trainer comparison/);
    expect(md).toMatch(/\| backprop \| backprop-onnx \|/);
    expect(md).toMatch(/peak RSS/);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/rollout MSE/);
  }, 90_000);

  it('resumes after a kill: finished entries are kept, the rest train again', async () => {
    const cfg = writeConfig(`plugins: ['./kill.js']\n${config(TRAINERS)}`);
    fs.writeFileSync(
      path.join(path.dirname(cfg), 'kill.js'),
      `export default { name: 'kill', register(ctx) { ctx.hooks.evaluated.tapPromise('kill', async (row) => { if (row.method === process.env.ODEMOR_TEST_KILL) process.kill(process.pid, 'SIGKILL'); }); } };\n`,
    );
    const out = tmpDir();
    const killed = spawnSync(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'run', cfg, '--out', out, '--quiet'], {
      env: { ...process.env, ODEMOR_TEST_KILL: 'spectral' },
      stdio: 'ignore',
      timeout: 100_000,
    });
    expect(killed.signal).toBe('SIGKILL');
    const partial = read(path.join(out, STAGING_DIR));
    expect(partial.rows.map((r) => r.method)).toEqual(['backprop', 'adjoint']);
    const trained: string[] = [];
    const log: string[] = [];
    const { results } = await runExperiment(cfg, {
      outDir: out,
      resume: true,
      log: (l) => log.push(l),
      setup: (exp) => exp.hooks.beforeTrain.tapPromise('test', async (_m, phase) => void trained.push(phase)),
    });
    expect(trained).toHaveLength(1); // spectral only
    expect(log.join('\n')).toMatch(/compare: 2 of 3 entries finished before \(backprop, adjoint\)/);
    expect(results.rows.map((r) => r.method)).toEqual(['backprop', 'adjoint', 'spectral']);
    expect(results.rows[0]).toEqual(partial.rows[0]);
    expect(results.rows[2]!.training!.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(fs.existsSync(path.join(out, 'compare-checkpoints'))).toBe(false);
  }, 90_000);

  it('plans the entries with their trainers and runtimes', async () => {
    const plan = await planExperiment(writeConfig(config(TRAINERS)));
    expect(plan.compareTrainers!.map((e) => `${e.label}:${e.trainer}:${e.runtime}`)).toEqual(['backprop:backprop-onnx:onnx', 'adjoint:adjoint:onnx', 'spectral:spectral:tfjs']);
    const text = formatPlan(plan);
    expect(text).toMatch(/3 trainers/);
    expect(text).toMatch(/spectral: trainer spectral \(tfjs\)/);
  });

  it('rejects a config that gives both solvers and trainers, duplicate labels and an unknown trainer', async () => {
    const both = `  solvers: [{ use: rk4 }]\n  trainers: [{ use: backprop }]\n`;
    await expect(runExperiment(writeConfig(config(both)), { outDir: tmpDir(), log: () => {} })).rejects.toThrow(/exactly one of compare\.solvers .* and compare\.trainers .*not both/);
    const neither = `  target: 1\n`;
    await expect(runExperiment(writeConfig(config(neither)), { outDir: tmpDir(), log: () => {} })).rejects.toThrow(/exactly one of compare\.solvers/);
    const dup = `  trainers:\n    - { use: backprop }\n    - { use: backprop, train: { lr: 0.1 } }\n`;
    await expect(runExperiment(writeConfig(config(dup)), { outDir: tmpDir(), log: () => {} })).rejects.toThrow(/label 'backprop' is also the label of compare\.trainers\[0\]/);
    const unknown = `  trainers:\n    - { use: backprop }\n    - { use: nosuchtrainer }\n`;
    await expect(runExperiment(writeConfig(config(unknown)), { outDir: tmpDir(), log: () => {} })).rejects.toThrow(/compare\.trainers\[1\]\.use/);
    const perEntry = `  trainers:\n    - { use: backprop, train: { runtime: tfjs } }\n`;
    await expect(runExperiment(writeConfig(config(perEntry)), { outDir: tmpDir(), log: () => {} })).rejects.toThrow(/cannot be set per entry/);
  });
});

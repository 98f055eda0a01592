/**
 * Nothing lost, nothing mixed: rows persist as they finish, a failing model does not stop the sweep, one
 * run per results folder (lock, staging, replaced at the end), and a sweep killed mid-way resumes to the
 * same rows as an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, STAGING_DIR, listTensors, loadModel, runExperiment, type ExperimentResults } from '@odemor/core';
import { cli, repoRoot, tmpDir, writeConfig } from './helpers.js';

/** A reducer plugin (by path) that fails on k = 3 and otherwise keeps the full block (an exact "reduction"). */
const FLAKY = `import { OdemorError } from '@odemor/core';
export default {
  name: 'flaky-reducer',
  register(ctx) {
    ctx.provide('Reducer', 'flaky', () => ({
      name: 'flaky',
      needsSnapshots: false,
      fit(c) { this.model = c.model; },
      reduce(d) {
        if (d.k === 3) throw new OdemorError('REDUCER', 'flaky: k = 3 is not possible');
        const b = this.model.block;
        const n = b.n;
        const id = { type: 'identity', size: n };
        const block = { kind: 'reduced', method: 'flaky', n, k: n, m: n, E: id, M: { type: 'dense', weight: b.A.weight }, c: b.b, N: id, D: id, activation: b.activation };
        return { method: 'flaky', dims: d, model: { ...this.model, block }, diagnostics: { stateDim: n, activations: n, params: n * n, macsPerRhs: n * n } };
      },
    }));
  },
};
`;

const sweep = (extra = '') => `name: sweep
seed: 4
dataset: { use: spirals, classes: 2, train: 120, test: 60 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.5 } }
train: { epochs: 2, batch: 60 }
snapshots: { use: stream, every: 1 }
reducers:
  - { use: deim, dims: [2, 4, 6] }
  - { use: svd, dims: [2, 4] }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
${extra}`;

const key = (r: ExperimentResults) => r.rows.map((row) => `${row.method}@${row.dim}:${row.stage}=${row.top1}`);
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;

describe('incremental, resumable sweeps', () => {
  it('records a failing model with its reason, finishes the sweep, and exits non-zero naming it', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'flaky.js'), FLAKY);
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(cfg, sweep().replace('  - { use: svd, dims: [2, 4] }', '  - { use: ./flaky.js, dims: [2, 3, 8] }'));
    const out = path.join(dir, 'out');
    const r = await cli(['run', cfg, '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/1 model\(s\) of the sweep failed: flaky@3 \(reduced\): flaky: k = 3 is not possible/);
    const res = read(out);
    expect(res.status).toBe('complete');
    expect(res.failures).toEqual([{ method: 'flaky', dim: 3, stage: 'reduced', error: 'flaky: k = 3 is not possible' }]);
    expect(res.rows.map((row) => `${row.method}@${row.dim}`)).toEqual(['original@8', 'deim@2', 'deim@4', 'deim@6', 'flaky@2', 'flaky@8']);
    expect(fs.existsSync(path.join(out, STAGING_DIR))).toBe(false);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it('a sweep killed mid-way resumes to the same rows as an uninterrupted run', async () => {
    const cfg = writeConfig(sweep());
    const whole = await runExperiment(cfg, { outDir: tmpDir() });
    const out = tmpDir();
    const child = spawn(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'run', cfg, '--out', out, '--quiet'], { stdio: 'ignore' });
    const partial = path.join(out, STAGING_DIR, 'results.json');
    // kill -9 once a few rows are persisted (the original and at least one reduced model)
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        let rows = 0;
        try {
          rows = (JSON.parse(fs.readFileSync(partial, 'utf8')) as ExperimentResults).rows.length;
        } catch {
          /* not yet */
        }
        if (rows >= 2) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - t0 > 60_000 || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`the child ended or never wrote 2 rows (exit ${child.exitCode})`));
        }
      }, 20);
    });
    await new Promise((r) => child.once('exit', r));
    const before = JSON.parse(fs.readFileSync(partial, 'utf8')) as ExperimentResults;
    expect(before.status).toBe('partial');
    expect(before.rows.length).toBeLessThan(whole.results.rows.length);
    // the killed run left its lock (its pid is gone: stale) and no results in the folder itself
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
    // without --resume the unfinished run is not silently mixed or discarded
    const refused = await cli(['run', cfg, '--out', out, '--quiet']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/holds an unfinished run \(\d+ rows finished\); continue it with --resume or discard it with --restart/);
    const log: string[] = [];
    const resumed = await runExperiment(cfg, { outDir: out, resume: true, log: (l) => log.push(l) });
    expect(log.join('\n')).toMatch(/resuming the unfinished run/);
    expect(key(resumed.results)).toEqual(key(whole.results));
    expect(key(read(out))).toEqual(key(whole.results));
    // the run keeps its first start, and says when it resumed
    expect(resumed.results.startedAt).toBe(before.startedAt);
    expect(Date.parse(resumed.results.resumedAt!)).toBeGreaterThan(Date.parse(before.startedAt));
    expect(whole.results.resumedAt).toBeUndefined();
    expect(fs.existsSync(path.join(out, STAGING_DIR))).toBe(false);
  }, 120_000);

  it('a run killed while training resumes the training to the same weights (backprop-onnx keeps its state)', async () => {
    const cfg = writeConfig(sweep().replace('train: { epochs: 2, batch: 60 }', 'train: { epochs: 150, batch: 60 }').replace(/reducers:[\s\S]*?evaluate/, 'reducers: []\nevaluate'));
    const whole = await runExperiment(cfg, { outDir: tmpDir() });
    const out = tmpDir();
    const child = spawn(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'run', cfg, '--out', out, '--quiet'], { stdio: 'ignore' });
    const state = path.join(out, STAGING_DIR, 'model.odemor.train');
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (fs.existsSync(state)) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - t0 > 60_000 || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`no training state appeared (exit ${child.exitCode})`));
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    expect(fs.existsSync(path.join(out, 'model.odemor'))).toBe(false);
    const log: string[] = [];
    const resumed = await runExperiment(cfg, { outDir: out, resume: true, log: (l) => log.push(l) });
    expect(log.join('\n')).toMatch(/resuming the unfinished run in .* \(0 rows finished\)/);
    const a = listTensors(await loadModel(path.join(whole.outDir, 'model.odemor')));
    const b = listTensors(await loadModel(path.join(out, 'model.odemor')));
    expect(b.map((t) => t.path)).toEqual(a.map((t) => t.path));
    a.forEach((t, i) => expect(Buffer.from(b[i]!.tensor.data.buffer).equals(Buffer.from(t.tensor.data.buffer)), t.path).toBe(true));
    expect(resumed.results.training!.finalLoss).toBe(whole.results.training!.finalLoss);
  }, 120_000);

  it('refuses to resume a run of another config, and --restart discards it', async () => {
    const cfg = writeConfig(sweep());
    const out = tmpDir();
    const work = path.join(out, STAGING_DIR);
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(path.join(work, 'results.json'), JSON.stringify({ format: 'odemor-results', rows: [], fingerprint: 'other', status: 'partial' }));
    await expect(runExperiment(cfg, { outDir: out, resume: true })).rejects.toThrow(/started with another config/);
    const { results } = await runExperiment(cfg, { outDir: out, restart: true, log: () => {} });
    expect(results.status).toBe('complete');
  });
});

describe('one run per results folder', () => {
  it('refuses a second run while the first holds the lock, and takes over a stale lock', async () => {
    const cfg = writeConfig(sweep());
    const out = tmpDir();
    // a live process of this host holds the folder
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: os.hostname(), startedAt: 'then' }));
      const r = await cli(['run', cfg, '--out', out, '--quiet']);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(new RegExp(`in use by another odemor run \\(pid ${sleeper.pid} on ${os.hostname()}`));
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((r) => sleeper.once('exit', r));
    // the holder is gone: its lock is stale
    const log: string[] = [];
    await runExperiment(cfg, { outDir: out, log: (l) => log.push(l) });
    expect(log.join('\n')).toMatch(/taking over the stale lock/);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it("a rerun replaces the previous run's files: none of the old run's remain", async () => {
    const out = tmpDir();
    await runExperiment(writeConfig(sweep('report: { use: html }\noutput: { saveModels: true }\n')), { outDir: out });
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'models', 'deim-2.odemor'))).toBe(true);
    const second = await runExperiment(writeConfig(sweep().replace('hidden: 8', 'hidden: 6')), { outDir: out });
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'models', 'deim-2.odemor'))).toBe(false);
    expect(read(out).files).toEqual(['results.json', 'results.md', 'model.odemor']);
    expect(second.written.map((f) => path.relative(out, f)).sort()).toEqual(['model.odemor', 'results.json', 'results.md']);
  });

  it('Ctrl-C stops with a message and exit 130, keeps what finished and releases the lock', async () => {
    const cfg = writeConfig(sweep().replace('epochs: 2', 'epochs: 200'));
    const out = tmpDir();
    const child = spawn(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'run', cfg, '--out', out, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    // interrupt once training has saved a model
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (fs.existsSync(path.join(out, STAGING_DIR, 'model.odemor'))) {
          clearInterval(poll);
          child.kill('SIGINT');
          resolve();
        } else if (Date.now() - t0 > 60_000) {
          clearInterval(poll);
          reject(new Error('no checkpoint appeared'));
        }
      }, 20);
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(err).toMatch(/stopped by SIGINT; finished work is kept in .*\.odemor-run: continue with --resume/);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
  }, 90_000);
});

/**
 * The solver comparison (`compare`): one initial model, each solver trains a copy of it from the same
 * initialisation on one runtime and is evaluated with the same solver; one `compared` row per entry with its
 * solver, training time and history, time to the loss target, NFE per sample and the paired speedup against the
 * first entry; the trained models saved; resumable entry by entry; config errors before any work; the plan; the
 * results.md table and the report's plots.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGING_DIR, listTensors, loadModel, runExperiment, type Experiment, type ExperimentResults, type ModelIR, type OdemorPlugin, type ResultRow, type Solver, type TrainContext, type TrainOptions } from '@odemor/core';
import { OnnxBackpropTrainer } from '@odemor/runtime-onnx';
import { BackpropTrainer } from '@odemor/runtime-tfjs';
import { cli, repoRoot, tmpDir, writeConfig } from './helpers.js';

const comparison = (extra = '', solvers = `    - { use: rk4, dt: 0.1 }
    - { use: euler, dt: 0.05 }
    - { use: dopri5, rtol: 1e-3 }
    - { use: taylor, order: 2, dt: 0.1 }
`) => `name: solvers
seed: 3
dataset: { use: dynamics, system: van-der-pol, trajectories: 16, test: 8, samples: 5, horizon: 1 }
model: { use: mlp-node, hidden: 8, solver: { use: rk4, dt: 0.1 } }
train: { epochs: 2, batch: 8, lr: 0.01, runtime: tfjs }
evaluate: { runtime: tfjs, repeats: 2 }
${extra}compare:
  target: 100
  solvers:
${solvers}`;

/**
 * Trainers 'picky-onnx' (backprop-onnx that refuses adaptive solvers, as it did before it trained through the
 * accepted steps) and 'picky-tfjs' (backprop-tfjs): a trainer that cannot take every entry, for the runtime choice.
 */
const pickyTrainers: OdemorPlugin = {
  name: 'picky-trainers',
  register(ctx) {
    ctx.provide('Trainer', 'picky-onnx', () => {
      const t = new OnnxBackpropTrainer();
      return {
        name: 'picky-onnx',
        supports: (m: ModelIR, solver?: Solver) => (solver?.adaptive ? { ok: false as const, reason: 'picky: no adaptive solvers' } : t.supports(m, solver)),
        train: (m: ModelIR, o: TrainOptions, c: TrainContext) => t.train(m, o, c),
      };
    });
    ctx.provide('Trainer', 'picky-tfjs', () => new BackpropTrainer());
  },
};

const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;
const LABELS = ['rk4', 'euler', 'dopri5', 'taylor'];
/** every tensor of a model, by path, as plain numbers */
const tensors = (m: ModelIR) => Object.fromEntries(listTensors(m).map((t) => [t.path, Array.from(t.tensor.data)]));

describe('a solver comparison', () => {
  it('trains each solver from the same initial model, evaluates it with that solver and writes one compared row per entry', async () => {
    const out = tmpDir();
    const initial: ModelIR[] = [];
    const log: string[] = [];
    const { results } = await runExperiment(writeConfig(comparison('report: { use: html }\n')), {
      outDir: out,
      log: (l) => log.push(l),
      setup: (exp) => exp.hooks.beforeTrain.tapPromise('test', async (m) => void initial.push(m)),
    });
    // ONE initial model: every entry starts from the same tensors, with its own solver
    expect(initial.map((m) => m.solver.use)).toEqual(['rk4', 'euler', 'dopri5', 'taylor']);
    for (const m of initial.slice(1)) expect(tensors(m)).toEqual(tensors(initial[0]!));
    expect(initial[3]!.solver).toMatchObject({ use: 'taylor', dt: 0.1, order: 2 });

    expect(results.task).toBe('regression');
    expect(results.training).toBeUndefined();
    expect(results.rows.map((r) => `${r.method}:${r.stage}`)).toEqual(LABELS.map((l) => `${l}:compared`));
    const [rk4, euler, dopri5, taylor] = results.rows as [ResultRow, ResultRow, ResultRow, ResultRow];
    expect(rk4.solver).toEqual({ use: 'rk4', dt: 0.1, t0: 0, t1: 1 });
    expect(euler.solver).toEqual({ use: 'euler', dt: 0.05, t0: 0, t1: 1 });
    expect(dopri5.solver).toEqual({ use: 'dopri5', dt: 0.1, t0: 0, t1: 1, rtol: 1e-3 });
    expect(taylor.solver).toEqual({ use: 'taylor', dt: 0.1, t0: 0, t1: 1, order: 2 });
    // 5 readout segments of 0.2: rk4 2 steps × 4 stages each, euler 4 × 1, taylor 2 steps × 2 derivatives
    expect(rk4.nfePerSample).toBe(40);
    expect(euler.nfePerSample).toBe(20);
    expect(taylor.nfePerSample).toBe(20);
    expect(dopri5.nfePerSample!).toBeGreaterThan(0);
    for (const r of results.rows) {
      expect(r.nfeSource, r.method).toBe('runtime'); // tfjs counts its evaluations
      expect(r.testMse!, r.method).toBeGreaterThan(0);
      expect(r.wallSeconds).toBeGreaterThan(0);
      expect(r.runtime).toBe('tfjs');
      expect(r.trainSeconds!).toBeGreaterThan(0);
      expect(r.training!.trainer).toBe('backprop-tfjs');
      expect(r.training!.history.map((h) => h.epoch)).toEqual([1, 2]);
      const [e1, e2] = r.training!.history;
      expect(e2!.elapsed).toBeGreaterThan(e1!.elapsed);
      expect(e2!.elapsed).toBeLessThanOrEqual(r.trainSeconds!);
      expect(e1!.loss).toBeGreaterThan(0);
      // the target (100) is reached in the first epoch
      expect(r.timeToTarget).toBe(e1!.elapsed);
      expect(r.errorByTime!.rmse).toHaveLength(5);
    }
    // paired timing against the first entry's trained model
    expect(rk4.speedup).toBe(1);
    expect(rk4.speedupRange).toEqual([1, 1]);
    expect(rk4.mseRatio).toBe(1);
    for (const r of [euler, dopri5, taylor]) {
      expect(r.speedup).toBeGreaterThan(0);
      expect(r.speedupRange![0]).toBeLessThanOrEqual(r.speedup);
      expect(r.baselineSeconds!).toBeGreaterThan(0);
      expect(r.mseRatio).toBeCloseTo(r.testMse! / rk4.testMse!, 10);
    }
    expect(results.timing!.mode).toBe('paired');
    expect(log.join('\n')).toMatch(/every entry trains with trainer 'backprop-tfjs' \(train\.runtime: tfjs\)/);

    // the trained models, saved: each with its solver
    for (const l of LABELS) {
      const m = await loadModel(path.join(out, 'models', `${l}.odemor`));
      expect(m.solver.use).toBe(l);
    }
    const saved = read(out);
    expect(saved.files).toEqual(expect.arrayContaining(['models/rk4.odemor', 'models/taylor.odemor', 'plots/compare-loss-time.svg', 'plots/compare-error-nfe.svg', 'report.html']));
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('## Solver comparison');
    expect(md).toContain('| method | solver | test MSE | NFE/sample | train s | time to target s | wall s | speedup |');
    expect(md).toMatch(/\| taylor \| taylor \(order 2, dt 0\.1\) \| [\d.e+-]+ \| 20 \| /);
    expect(md).toMatch(/\| dopri5 \| dopri5 \(dt 0\.1, rtol 0\.001\) \| /);
    expect(md).toContain('against the first entry (rk4)');
    expect(md).not.toMatch(/### rk4/); // no paper tables of the compared rows
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Solver comparison</h2>');
    expect(html).toContain('<a href="plots/compare-loss-time.svg">SVG</a>');
    expect(html).toContain('<a href="plots/compare-error-nfe.svg">SVG</a>');
    const lossPlot = fs.readFileSync(path.join(out, 'plots', 'compare-loss-time.svg'), 'utf8');
    for (const l of LABELS) expect(lossPlot).toContain(l);
    expect(fs.readFileSync(path.join(out, 'plots', 'compare-error-nfe.svg'), 'utf8')).toContain('NFE per sample');
  }, 120_000);

  it('resumes after a kill: finished entries (row and model) are kept, the rest train, paired with the first entry’s model again', async () => {
    // a plugin that kills its process (SIGKILL) when the entry named by ODEMOR_TEST_KILL is evaluated, before its row is kept
    const cfg = writeConfig(`plugins: ['./kill.js']\n${comparison()}`);
    fs.writeFileSync(
      path.join(path.dirname(cfg), 'kill.js'),
      `export default { name: 'kill', register(ctx) { ctx.hooks.evaluated.tapPromise('kill', async (row) => { if (row.method === process.env.ODEMOR_TEST_KILL) process.kill(process.pid, 'SIGKILL'); }); } };\n`,
    );
    const out = tmpDir();
    const killed = spawnSync(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'run', cfg, '--out', out, '--quiet'], {
      env: { ...process.env, ODEMOR_TEST_KILL: 'dopri5' },
      stdio: 'ignore',
      timeout: 100_000,
    });
    expect(killed.signal).toBe('SIGKILL');
    const work = path.join(out, STAGING_DIR);
    const partial = read(work);
    expect(partial.status).toBe('partial');
    expect(partial.rows.map((r) => r.method)).toEqual(['rk4', 'euler']);
    expect(fs.readdirSync(path.join(work, 'models')).sort()).toEqual(['dopri5.odemor', 'euler.odemor', 'rk4.odemor']);

    // another comparison is another config: not resumed
    const other = writeConfig(`plugins: ['./kill.js']\n${comparison().replace('target: 100', 'target: 50')}`);
    fs.copyFileSync(path.join(path.dirname(cfg), 'kill.js'), path.join(path.dirname(other), 'kill.js'));
    await expect(runExperiment(other, { outDir: out, resume: true, log: () => {} })).rejects.toThrow(/started with another config/);

    const trained: string[] = [];
    const log: string[] = [];
    const { results } = await runExperiment(cfg, {
      outDir: out,
      resume: true,
      log: (l) => log.push(l),
      setup: (exp) => exp.hooks.beforeTrain.tapPromise('test', async (m) => void trained.push(m.solver.use)),
    });
    expect(trained).toEqual(['dopri5', 'taylor']);
    expect(log.join('\n')).toMatch(/compare: 2 of 4 entries finished before \(rk4, euler\)/);
    expect(results.status).toBe('complete');
    expect(results.rows.map((r) => r.method)).toEqual(LABELS);
    expect(results.rows[0]).toEqual(partial.rows[0]);
    expect(results.rows[1]).toEqual(partial.rows[1]);
    for (const r of results.rows.slice(2)) {
      expect(r.speedupRange).toBeDefined();
      expect(r.baselineSeconds!).toBeGreaterThan(0);
      expect(r.mseRatio).toBeCloseTo(r.testMse! / partial.rows[0]!.testMse!, 10);
    }
    expect(fs.existsSync(work)).toBe(false);
    expect(fs.readdirSync(path.join(out, 'models')).sort()).toEqual(LABELS.map((l) => `${l}.odemor`).sort());
  }, 120_000);

  it('an entry that fails is recorded and the comparison goes on; the first entry (the reference) failing stops it, naming it', async () => {
    const cfg = writeConfig(comparison('', '    - { use: rk4, dt: 0.1 }\n    - { use: euler, dt: 0.05 }\n    - { use: taylor, order: 2, dt: 0.1 }\n'));
    const boom = (label: string) => (exp: Experiment) =>
      exp.hooks.beforeTrain.tapPromise('boom', async (m) => {
        if (m.solver.use === label) throw new Error(`boom in ${label}`);
      });
    const out = tmpDir();
    await expect(runExperiment(cfg, { outDir: out, log: () => {}, setup: boom('euler') })).rejects.toThrow(/1 model\(s\) of the sweep failed: euler@2 \(compared\): boom in euler/);
    const res = read(out);
    expect(res.rows.map((r) => r.method)).toEqual(['rk4', 'taylor']);
    expect(res.failures).toEqual([{ method: 'euler', dim: 2, stage: 'compared', error: 'boom in euler' }]);
    await expect(runExperiment(cfg, { outDir: tmpDir(), log: () => {}, setup: boom('rk4') })).rejects.toThrow(/compare\.solvers\[0\] \(rk4\), the reference entry of the comparison, failed: boom in rk4/);
  }, 120_000);

  it('classification, runtimes not pinned: one trainer for all (onnx trains dopri5 too), onnx evaluates all and counts NFE', async () => {
    const cfg = writeConfig(`name: spirals-solvers
dataset: { use: spirals, classes: 2, train: 120, test: 60 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.25 } }
train: { epochs: 1, batch: 60 }
evaluate: { repeats: 1, topk: [1] }
compare:
  solvers:
    - { use: rk4, dt: 0.25 }
    - { use: euler, dt: 0.25, label: euler-coarse, train: { epochs: 0 } }
    - { use: dopri5, rtol: 1e-3 }
`);
    const log: string[] = [];
    const { results } = await runExperiment(cfg, { outDir: tmpDir(), log: (l) => log.push(l) });
    expect(log.join('\n')).toMatch(/compare: every entry trains with trainer 'backprop-onnx'/);
    const [rk4, coarse, dopri5] = results.rows as [ResultRow, ResultRow, ResultRow];
    expect(results.rows.map((r) => r.method)).toEqual(['rk4', 'euler-coarse', 'dopri5']);
    for (const r of results.rows) {
      expect(r.runtime).toBe('onnx');
      expect(r.top1!).toBeGreaterThanOrEqual(0);
      expect(r.relativeTop1).toBeCloseTo(r.top1! / rk4.top1!, 12);
      expect(r).not.toHaveProperty('timeToTarget'); // no compare.target
    }
    // 4 steps of 0.25: rk4 4 stages each, euler 1; onnx's unrolled graph knows its evaluations from the compile
    expect(rk4).toMatchObject({ nfePerSample: 16, nfeSource: 'runtime' });
    expect(coarse).toMatchObject({ nfePerSample: 4, nfeSource: 'runtime', trainSeconds: 0 });
    expect(coarse).not.toHaveProperty('training');
    // onnx's adaptive step loop counts
    expect(dopri5.nfeSource).toBe('runtime');
    expect(dopri5.nfePerSample!).toBeGreaterThan(0);
    expect(rk4.training!.trainer).toBe('backprop-onnx');
    expect(dopri5.training!.trainer).toBe('backprop-onnx');
    expect(rk4.training!.history[0]!.accuracy).toBeGreaterThanOrEqual(0);
    expect(Object.keys(results.environment.runtimes!)).toEqual(['onnx']);
  }, 120_000);

  it('runtimes not pinned, one trainer cannot train an entry: the runtime whose trainer takes all is chosen, and logged', async () => {
    const log: string[] = [];
    const { results } = await runExperiment(writeConfig(comparison().replace('runtime: tfjs }\nevaluate', 'use: picky }\nevaluate')), {
      outDir: tmpDir(),
      log: (l) => log.push(l),
      plugins: [pickyTrainers],
    });
    expect(log.join('\n')).toMatch(/compare: every entry trains with trainer 'picky-tfjs' \(trainer 'picky-onnx' cannot train compare\.solvers\[2\] \(dopri5\): picky: no adaptive solvers/);
    for (const r of results.rows) expect(r.training!.trainer).toBe('backprop-tfjs');
  }, 120_000);

  it('odemor validate lists the entries with the trainer and runtime they will use', async () => {
    const cfg = writeConfig(comparison());
    const r = await cli(['validate', cfg, '--out', path.join(tmpDir(), 'r')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('compare: 4 solvers, trained with backprop-tfjs, evaluated on tfjs:');
    expect(r.out).toContain('rk4: rk4 (dt 0.1), 2 epochs, 10 steps per sample');
    expect(r.out).toContain('euler: euler (dt 0.05), 2 epochs, 20 steps per sample');
    expect(r.out).toContain('dopri5: dopri5 (dt 0.1, rtol 0.001), 2 epochs, adaptive');
    expect(r.out).toContain('taylor: taylor (order 2, dt 0.1), 2 epochs, 10 steps per sample');
  }, 60_000);
});

describe('solver comparison config errors, before any work', () => {
  const fails = async (yaml: string, pattern: RegExp, code?: number) => {
    const out = tmpDir();
    const r = await cli(['run', writeConfig(yaml), '--out', out, '--quiet']);
    expect(r.code).not.toBe(0);
    if (code !== undefined) expect(r.code).toBe(code);
    expect(r.err).toMatch(pattern);
    expect(fs.readdirSync(out)).toEqual([]);
  };

  it('duplicate labels (also the default label, the solver name)', async () => {
    await fails(
      comparison('', '    - { use: rk4, dt: 0.1 }\n    - { use: rk4, dt: 0.05 }\n'),
      /compare\.solvers\[1\]: label 'rk4' is also the label of compare\.solvers\[0\]: labels must be unique/,
      2,
    );
    await fails(comparison('', '    - { use: rk4, label: a }\n    - { use: euler, label: a }\n'), /compare\.solvers\[1\]: label 'a' is also the label of compare\.solvers\[0\]/, 2);
  });

  it('compare with reducers names both keys', async () => {
    await fails(comparison('reducers: [ { use: svd, dims: [2] } ]\n'), /compare: compare and reducers cannot be combined/, 2);
  });

  it('an unknown solver names the entry, the known solvers and the closest', async () => {
    await fails(comparison('', '    - { use: rk4 }\n    - { use: dopri6 }\n'), /compare\.solvers\[1\]\.use: unknown solver 'dopri6'.*did you mean 'dopri5'\?/);
  });

  it('a solver option the solver does not take, and a span key per entry', async () => {
    await fails(comparison('', '    - { use: rk4 }\n    - { use: euler, order: 2 }\n'), /compare\.solvers\[1\]\.order: unknown key 'order' in compare\.solvers\[1\] \(solver 'euler' takes no options of its own\)/, 2);
    await fails(comparison('', '    - { use: rk4 }\n    - { use: taylor, ordr: 2 }\n'), /compare\.solvers\[1\]\.ordr: unknown option of solver 'taylor'; did you mean 'order'\?/, 2);
    await fails(comparison('', '    - { use: rk4, t1: 2 }\n'), /compare\.solvers\[0\]\.t1: cannot be set per entry/, 2);
    await fails(comparison('', '    - { use: rk4, train: { runtime: onnx } }\n'), /compare\.solvers\[0\]\.train\.runtime: cannot be set per entry/, 2);
  });

  it('a pinned train.runtime whose trainer cannot train an entry fails naming it; runtimes are never mixed', async () => {
    const yaml = comparison().replace('runtime: tfjs }\nevaluate', 'use: picky, runtime: onnx }\nevaluate');
    await expect(runExperiment(writeConfig(yaml), { outDir: tmpDir(), log: () => {}, plugins: [pickyTrainers] })).rejects.toThrow(
      /compare\.solvers\[2\] \(dopri5\): train\.runtime is 'onnx', and its trainer 'picky-onnx' cannot train this solver: picky: no adaptive solvers/,
    );
  });
});

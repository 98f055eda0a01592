/**
 * The pipeline's regression path: an `mlp-node` on a `dynamics` dataset is evaluated by the `regression`
 * evaluator (the default for a regression dataset), rows carry `testMse`, `rmse`, `mseRatio`, `errorByTime`,
 * `trajectories` and `nfePerSample` instead of top-k, results.json gets `task` and the observed `regression`
 * trajectories, results.md the regression tables. The runtime is a fake that integrates the model's block with
 * core's float64 `simulateBlock` (the real runtimes do not run mlp blocks on this branch yet); a test reducer
 * keeps the first hidden units of the mlp block.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Executable, ExperimentResults, MlpBlock, ModelIR, OdemorPlugin, ReducedBlock, ReducedModel, Reducer, Runtime, SolveStats } from '../src/index.js';
import { createHooks, parseConfig, planExperiment, ProgressReporter, runExperiment, simulateBlock, STAGING_DIR } from '../src/index.js';
import { configFingerprint } from '../src/pipeline/persist.js';
import { fingerprintedConfig } from '../src/pipeline/run.js';
import { resultsMarkdown } from '../src/pipeline/results.js';

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-regression-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * Runtime 'traj': executables that integrate the model's block with simulateBlock between the readout times
 * (the model's dt), holding the input signal u per step; `lastStats` reports 4 evaluations per RK4 step.
 * Records the length of every `u` it was given.
 */
function trajRuntimePlugin(): OdemorPlugin & { uLengths: (number | undefined)[]; built: number } {
  const plugin = {
    name: 'traj-runtime',
    uLengths: [] as (number | undefined)[],
    built: 0,
    register: (ctx: Parameters<OdemorPlugin['register']>[0]) => ctx.provide('Runtime', 'traj', () => runtime),
  };
  const runtime: Runtime = {
    name: 'traj',
    capabilities: { snapshots: false, gram: false, adaptive: false, train: false },
    supports: (m) => (m.readout ? { ok: true } : { ok: false, reason: 'traj runs trajectory models only' }),
    async build(model: ModelIR): Promise<Executable> {
      plugin.built++;
      const times = model.readout!.times;
      const { t0, dt } = model.solver;
      const input = model.input.kind === 'state' ? model.input : undefined;
      const n = input!.size;
      const sig = input?.signal;
      let stats: SolveStats | undefined;
      return {
        info: { runtime: 'traj', backend: 'float64' },
        get lastStats() {
          return stats;
        },
        async predict(x, batch, inputs) {
          plugin.uLengths.push(inputs?.u?.length);
          const out = new Float32Array(batch * times.length * n);
          let steps = 0;
          for (let i = 0; i < batch; i++) {
            const u = sig && inputs?.u ? inputs.u.subarray(i * sig.steps * sig.channels, (i + 1) * sig.steps * sig.channels) : undefined;
            const held = u
              ? (t: number) => {
                  const j = Math.min(sig!.steps - 1, Math.max(0, Math.floor((t - t0) / sig!.stepDuration + 1e-9)));
                  return u.subarray(j * sig!.channels, (j + 1) * sig!.channels);
                }
              : undefined;
            let state: ArrayLike<number> = x.subarray(i * n, (i + 1) * n);
            let t = t0;
            // a reduced block maps x → z and back at each segment (E, D): fine for the identity maps of the test reducer
            times.forEach((t1, k) => {
              state = simulateBlock(model.block, [state], { t0: t, t1, dt, ...(held ? { input: held } : {}) })[0]!;
              if (i === 0) steps += Math.max(1, Math.ceil((t1 - t) / dt - 1e-9));
              out.set(state, (i * times.length + k) * n);
              t = t1;
            });
          }
          stats = { nfe: 4 * steps, accepted: steps, rejected: 0 };
          return out;
        },
        dispose() {},
      };
    },
  };
  return plugin;
}

/** Reducer 'keep-hidden': keeps the first k · (m / n) hidden units of the mlp block (k = n keeps them all: the same model). */
const keepHiddenPlugin: OdemorPlugin = {
  name: 'keep-hidden',
  register(ctx) {
    ctx.provide('Reducer', 'keep-hidden', () => {
      let model: ModelIR | undefined;
      const reducer: Reducer = {
        name: 'keep-hidden',
        needsSnapshots: false,
        fit(c) {
          model = c.model;
        },
        reduce(dims): ReducedModel {
          const b = model!.block as MlpBlock;
          const keep = (dims.k * b.m) / b.n;
          const rows = (t: Float32Array, cols: number) => t.slice(0, keep * cols);
          const N = new Float32Array(b.n * keep);
          for (let i = 0; i < b.n; i++) for (let j = 0; j < keep; j++) N[i * keep + j] = b.N.data[i * b.m + j]!;
          const p = b.Zin?.shape[1];
          const block: ReducedBlock = {
            kind: 'reduced',
            method: 'keep-hidden',
            n: b.n,
            k: b.n,
            m: keep,
            E: { type: 'identity', size: b.n },
            M: { type: 'dense', weight: { shape: [keep, b.n], data: rows(b.M.data, b.n) } },
            c: { shape: [keep], data: b.c.data.slice(0, keep) },
            N: { type: 'dense', weight: { shape: [b.n, keep], data: N } },
            ...(b.Zin ? { Zin: { shape: [keep, p!], data: rows(b.Zin.data, p!) } } : {}),
            bias: b.bias,
            D: { type: 'identity', size: b.n },
            activation: b.activation,
          };
          return {
            method: 'keep-hidden',
            dims,
            model: { ...model!, block },
            diagnostics: { stateDim: b.n, activations: keep, params: keep * (2 * b.n + 1) + b.n, macsPerRhs: 2 * keep * b.n },
          };
        },
      };
      return reducer;
    });
  },
};

const vdp = (evaluate = '{ runtime: traj, repeats: 2, batch: 4 }', extra = '') => `name: regression
seed: 5
dataset: { use: dynamics, system: van-der-pol, trajectories: 4, test: 6, samples: 5, horizon: 1 }
model: { use: mlp-node, hidden: 8, scale: 3, solver: { use: rk4, dt: 0.05 } }
train: false
reducers:
  - { use: keep-hidden, dims: [1, 2] }
evaluate: ${evaluate}
${extra}`;

function config(text: string): string {
  const file = path.join(tmp(), 'c.yaml');
  fs.writeFileSync(file, text);
  return file;
}
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;

describe('the pipeline on a regression dataset', () => {
  it('defaults to the regression evaluator; rows carry the errors, results.json the observed trajectories, results.md the regression tables', async () => {
    const out = tmp();
    const rt = trajRuntimePlugin();
    const log: string[] = [];
    const { results } = await runExperiment(config(vdp(undefined, 'report: { use: html }')), { outDir: out, plugins: [rt, keepHiddenPlugin], log: (l) => log.push(l) });
    expect(log.join('\n')).not.toMatch(/topk/);
    expect(results.task).toBe('regression');
    expect(results.rows.map((r) => `${r.method}@${r.dim}`)).toEqual(['original@2', 'keep-hidden@1', 'keep-hidden@2']);
    const [orig, half, all] = results.rows;
    for (const r of results.rows) {
      expect(r).not.toHaveProperty('top1');
      expect(r).not.toHaveProperty('top3');
      expect(r).not.toHaveProperty('topk');
      expect(r).not.toHaveProperty('relativeTop1');
      expect(r.testMse!).toBeGreaterThan(0);
      expect(r.rmse!).toBeCloseTo(Math.sqrt(r.testMse!), 12);
      expect(r.relativeError!).toBeGreaterThan(0);
      expect(r.errorByTime!.times).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
      expect(r.errorByTime!.rmse).toHaveLength(5);
      expect(r.trajectories!.samples).toEqual([0, 1, 2]);
      expect(r.trajectories!.predicted).toHaveLength(3);
      expect(r.trajectories!.predicted[0]).toHaveLength(5);
      expect(r.trajectories!.predicted[0]![0]).toHaveLength(2);
      // 20 RK4 steps of 0.05 over [0, 1] (4 segments of 4, the last of 4): 4 evaluations each
      expect(r.nfePerSample).toBe(80);
      expect(r.samples).toBe(6);
      expect(r.speedupRange).toBeDefined();
    }
    expect(orig!.mseRatio).toBe(1);
    // all hidden units kept: the same model, the same errors
    expect(all!.testMse).toBe(orig!.testMse);
    expect(all!.mseRatio).toBe(1);
    expect(half!.mseRatio).toBeCloseTo(half!.testMse! / orig!.testMse!, 12);
    expect(half!.mseRatio).not.toBe(1);
    expect(results.regression!.times).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(results.regression!.states).toBe(2);
    expect(results.regression!.samples).toEqual([0, 1, 2]);
    expect(results.regression!.truth).toHaveLength(3);
    expect(results.regression!.truth[2]![4]).toHaveLength(2);

    const saved = read(out);
    expect(saved.task).toBe('regression');
    expect(saved.rows[1]!.testMse).toBe(half!.testMse);
    expect(saved.regression).toEqual(results.regression);
    expect((saved.config as { evaluate: { use?: string } }).evaluate.use).toBeUndefined();
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toBe(resultsMarkdown(saved));
    expect(md).toContain('| original | test MSE | RMSE | rel. error | NFE/sample | wall s | speedup | params | activations |');
    expect(md).toContain('| method | dim | stage | test MSE | RMSE | rel. error | MSE ratio | NFE/sample | wall s | speedup | activations | params | MACs/rhs | runtime |');
    expect(md).toMatch(/\| keep-hidden \| 2 \| reduced \| [\d.e+-]+ \| [\d.e+-]+ \| [\d.e+-]+ \| 1\.000 \| 80 \|/);
    expect(md).toContain('MSE ratio (test MSE / the original’s)');
    expect(md).not.toMatch(/top-1/);
    // the html report plots the trajectories and the rollout error of these rows
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<a href="plots/trajectories.svg">SVG</a>');
    expect(html).toContain('<a href="plots/error-by-time.svg">SVG</a>');
    expect(fs.readFileSync(path.join(out, 'plots', 'trajectories.svg'), 'utf8')).toContain('keep-hidden@');
    expect(saved.files).toEqual(expect.arrayContaining(['plots/trajectories.svg', 'plots/error-by-time.svg', 'plots/tradeoff-reduced.svg', 'report.html']));
  }, 60_000);

  it('passes each batch’s input signal u to predict (the vehicle, 2 input channels)', async () => {
    const rt = trajRuntimePlugin();
    const text = `name: vehicle
dataset: { use: dynamics, system: vehicle, trajectories: 2, test: 3, samples: 4, horizon: 0.4, inputDt: 0.1 }
model: { use: mlp-node, hidden: 6, solver: { use: rk4, dt: 0.05 } }
train: false
evaluate: { runtime: traj, repeats: 1, batch: 2, timing: single }
`;
    const { results } = await runExperiment(config(text), { write: false, plugins: [rt], log: () => {} });
    // 4 input steps × 2 channels per sample: batches of 2 and 1 (warm-up and one timed pass)
    expect(rt.uLengths).toEqual([16, 8, 16, 8]);
    const row = results.rows[0]!;
    expect(row.testMse!).toBeGreaterThan(0);
    expect(row.errorByTime!.rmse).toHaveLength(4);
    expect(results.regression!.states).toBe(6);
  }, 60_000);

  it('an evaluator for the other kind of dataset is a CONFIG error before any work, naming the dataset and the right evaluator', async () => {
    const rt = trajRuntimePlugin();
    await expect(runExperiment(config(vdp('{ use: classification, runtime: traj }')), { write: false, plugins: [rt, keepHiddenPlugin], log: () => {} })).rejects.toThrow(
      /evaluate\.use: 'classification' cannot evaluate dataset dynamics-van-der-pol, a regression dataset \(targets, no class labels\); use 'regression'/,
    );
    expect(rt.built).toBe(0);
    const spirals = `name: s
dataset: { use: spirals, classes: 2, train: 20, test: 10 }
model: { use: dense-node, hidden: 4, solver: { use: euler, dt: 0.5 } }
train: false
evaluate: { use: regression, runtime: tfjs, topk: [1] }
`;
    await expect(runExperiment(config(spirals), { write: false, log: () => {} })).rejects.toThrow(
      /evaluate\.use: 'regression' cannot evaluate dataset synthetic-spirals, a classification dataset \(2 classes\); use 'classification'/,
    );
  });

  it('odemor validate plans with the regression evaluator', async () => {
    const text = vdp('{ runtime: tfjs }').replace(/reducers:\n.*\n/, '');
    const plan = await planExperiment(parseConfig(text, path.join(tmp(), 'v.yaml')));
    expect(plan.resolved.evaluator).toBe('regression');
  });

  it('--resume: the original row (and its MSE, the reference of mseRatio) and the observed trajectories come from the unfinished run', async () => {
    const out = tmp();
    const cfg = config(vdp());
    await expect(
      runExperiment(cfg, {
        outDir: out,
        plugins: [trajRuntimePlugin(), keepHiddenPlugin],
        log: () => {},
        setup: (exp) =>
          exp.hooks.beforeStage.tapPromise('kill', async (stage) => {
            if (stage === 'reduce') throw new Error('killed');
          }),
      }),
    ).rejects.toThrow(/killed/);
    const partial = JSON.parse(fs.readFileSync(path.join(out, STAGING_DIR, 'results.json'), 'utf8')) as ExperimentResults;
    expect(partial.task).toBe('regression');
    expect(partial.rows.map((r) => r.method)).toEqual(['original']);
    expect(partial.regression!.truth).toHaveLength(3);
    // the original's MSE in the file is the reference of the remaining rows' mseRatio
    const { results } = await runExperiment(cfg, { outDir: out, resume: true, plugins: [trajRuntimePlugin(), keepHiddenPlugin], log: () => {} });
    expect(results.rows[0]).toEqual(partial.rows[0]);
    expect(results.rows[2]!.mseRatio).toBeCloseTo(results.rows[2]!.testMse! / partial.rows[0]!.testMse!, 12);
    expect(results.regression).toEqual(partial.regression);
  }, 60_000);
});

describe('the fingerprint without evaluate.use', () => {
  it('is the one of evaluate.use: classification, as before the default depended on the dataset (runs started before still resume)', () => {
    const text = (use: string) => `name: fp
dataset: { use: spirals }
model: { use: dense-node }
evaluate: { ${use}repeats: 3 }
`;
    const implicit = parseConfig(text(''), '/x/a.yaml').config;
    const explicit = parseConfig(text('use: classification, '), '/x/a.yaml').config;
    expect(implicit.evaluate.use).toBeUndefined();
    expect(configFingerprint(fingerprintedConfig(implicit))).toBe(configFingerprint(explicit));
    expect(JSON.stringify(fingerprintedConfig(implicit))).toBe(JSON.stringify(explicit));
    const regression = parseConfig(text('use: regression, '), '/x/a.yaml').config;
    expect(fingerprintedConfig(regression)).toBe(regression);
    expect(configFingerprint(fingerprintedConfig(regression))).not.toBe(configFingerprint(explicit));
  });
});

describe('the CLI progress line of an evaluated row', () => {
  it('reports a regression row’s test MSE and a classification row’s top-1', async () => {
    let text = '';
    const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const hooks = createHooks();
    new ProgressReporter(stream).apply(hooks);
    const base = { dim: 2, wallSeconds: 0.5, timings: [0.5], throughput: 10, speedup: 2, activations: 2, params: 4, macsPerRhs: 4, stateDim: 2, runtime: 'x', backend: 'y', samples: 1 };
    await hooks.evaluated.promise({ ...base, method: 'deim', stage: 'reduced', testMse: 0.0012345 });
    await hooks.evaluated.promise({ ...base, method: 'svd', stage: 'reduced', top1: 0.9, top3: 1, topk: { top1: 0.9 }, relativeTop1: 0.95 });
    expect(text).toBe('evaluated deim@2 (reduced): test MSE 0.001234, 0.500 s, speedup 2.00×\nevaluated svd@2 (reduced): top-1 90.00%, 0.500 s, speedup 2.00×\n');
  });
});

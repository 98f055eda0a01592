import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Experiment, type OdemorPlugin } from '../src/container.js';
import { ConfigError, parseConfig, validateConfigObject, type LoadedConfig } from '../src/config/load.js';
import { validatePluginOptions } from '../src/config/plugin-options.js';
import type { Reducer, ReducerCapabilities } from '../src/extension-points.js';
import { coreModelsPlugin } from '../src/model/plugin.js';
import type { Resolved } from '../src/pipeline/run.js';

/** A reducer that does nothing; only its construction and capabilities matter here. */
function fakeReducer(name: string, capabilities?: ReducerCapabilities): Reducer {
  return {
    name,
    ...(capabilities ? { capabilities } : {}),
    needsSnapshots: false,
    fit() {},
    reduce() {
      throw new Error('not used');
    },
  };
}

const seen: Record<string, Record<string, unknown>[]> = {};
const record = (name: string, options: Record<string, unknown> | undefined) => (seen[name] ??= []).push({ ...(options ?? {}) });

const testPlugin: OdemorPlugin = {
  name: 'test-plugin',
  register(ctx) {
    ctx.provide('Dataset', 'toy', () => ({ name: 'toy' }) as never, {
      options: z.strictObject({ classes: z.number().int().min(2).optional(), seed: z.number().int(), baseDir: z.string() }),
    });
    ctx.provide('Dataset', 'free', () => ({ name: 'free' }) as never, 'declares no schema');
    ctx.provide(
      'Reducer',
      'pod',
      (o) => {
        record('pod', o);
        return fakeReducer('pod', { points: true, oversampling: false });
      },
      { options: z.strictObject({ oversampling: z.number().int().min(0).optional(), seed: z.number().int() }) },
    );
    ctx.provide('Reducer', 'trunc', () => fakeReducer('trunc'), { options: z.strictObject({ seed: z.number() }) });
    ctx.provide('Reducer', 'loose', (o) => {
      if (o?.bad !== undefined) throw new Error(`loose: option bad is not allowed`);
      return fakeReducer('loose');
    });
    ctx.provide('Snapshotter', 'snap', () => ({}) as never, { options: z.strictObject({ mode: z.enum(['a', 'b']).optional() }) });
    ctx.provide('Evaluator', 'cls', () => ({}) as never, { options: z.strictObject({ ties: z.enum(['index']).optional() }) });
    ctx.provide('Report', 'page', () => ({ apply() {} }), { options: z.strictObject({ file: z.string().optional() }) });
    ctx.provide('Solver', 'step', () => ({}) as never, { options: z.strictObject({ dt: z.number().max(0.5), t0: z.number(), t1: z.number() }) });
  },
};

async function experiment(extra: OdemorPlugin[] = []): Promise<Experiment> {
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  await exp.use(testPlugin);
  for (const p of extra) await exp.use(p);
  return exp;
}

/** The names each `use:` resolves to, as `resolveAll` would give them (the test names are registered as is). */
function resolvedOf(loaded: LoadedConfig): Resolved {
  const c = loaded.config;
  return {
    dataset: c.dataset.use,
    model: c.model.use,
    solver: c.model.solver?.use ?? 'rk4',
    evaluator: c.evaluate.use,
    runtime: 'tfjs',
    reducers: c.reducers.map((r) => r.use),
    ...(c.snapshots ? { snapshotter: c.snapshots.use } : {}),
    ...(c.report ? { report: c.report.use } : {}),
    ...(c.train !== false ? { trainer: c.train?.use ?? 'backprop' } : {}),
  };
}

async function problemsOf(yaml: string, extra: OdemorPlugin[] = []): Promise<ConfigError | undefined> {
  const loaded = parseConfig(yaml, '/cfg/exp.yaml');
  const exp = await experiment(extra);
  try {
    validatePluginOptions(exp, loaded.config, loaded, resolvedOf(loaded));
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

const base = `dataset: { use: toy, classes: 3 }
model: { use: dense-node, hidden: 4, solver: { use: step, dt: 0.25 } }
evaluate: { use: cls }
`;

describe('validatePluginOptions', () => {
  it('accepts a config whose plugin options all fit their schemas', async () => {
    const yaml = base + 'snapshots: { use: snap, every: 1, limit: 10, batch: 5, mode: a }\nreducers:\n  - { use: pod, dims: [2, 3], points: 4, energy: 0.9, oversampling: 1 }\nreport: { use: page, file: r.html }\n';
    expect(await problemsOf(yaml)).toBeUndefined();
  });

  it('reports an unknown reducer option with file, line, key path, a caret and a suggestion', async () => {
    const e = await problemsOf(base + 'reducers:\n  - { use: pod, dims: [4], oversample: 2 }\n');
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.code).toBe('CONFIG');
    expect(e!.problems).toHaveLength(1);
    expect(e!.problems[0]).toMatchObject({ key: 'reducers[0].oversample', line: 5, column: 28 });
    expect(e!.problems[0]!.message).toBe("unknown option of reducer 'pod'; did you mean 'oversampling'?");
    expect(e!.message).toContain("/cfg/exp.yaml:5:28: reducers[0].oversample: unknown option of reducer 'pod'; did you mean 'oversampling'?");
    expect(e!.message).toContain(`     5 |   - { use: pod, dims: [4], oversample: 2 }\n${' '.repeat(9 + 27)}^`);
  });

  it('lists the known options when no key is close', async () => {
    const e = await problemsOf(base.replace('classes: 3', 'colour: red'));
    expect(e!.problems[0]).toMatchObject({ key: 'dataset.colour', message: "unknown option of dataset 'toy'; known: classes, seed" });
  });

  it('collects every problem of every plugin into one error, in the order of the file', async () => {
    const yaml = `dataset: { use: toy, clases: 3 }
model:
  use: dense-node
  hiddn: 4
  activation: gelu
  solver: { use: step, dt: 0.75 }
snapshots: { use: snap, mode: c }
reducers:
  - { use: pod, dims: [4], oversampling: -1 }
  - { use: trunc, dims: [4], points: 3 }
evaluate: { use: cls }
report: { use: page, file: 3 }
`;
    const e = await problemsOf(yaml);
    expect(e!.problems.map((p) => [p.key, p.line])).toEqual([
      ['dataset.clases', 1],
      ['model.hiddn', 4],
      ['model.activation', 5],
      ['model.solver.dt', 6],
      ['snapshots.mode', 7],
      ['reducers[0].oversampling', 9],
      ['reducers[1].points', 10],
      ['report.file', 12],
    ]);
    const by = Object.fromEntries(e!.problems.map((p) => [p.key, p.message]));
    expect(by['dataset.clases']).toMatch(/did you mean 'classes'\?/);
    expect(by['model.hiddn']).toBe("unknown option of model 'dense-node'; did you mean 'hidden'?");
    expect(by['model.activation']).toMatch(/must be one of "tanh", "relu", "softplus", "identity", got "gelu"/);
    expect(by['model.solver.dt']).toBe('must be ≤ 0.5, got 0.75');
    expect(by['reducers[0].oversampling']).toBe('must be ≥ 0, got -1');
    expect(by['reducers[1].points']).toBe("reducer 'trunc' does not take interpolation points");
    expect(by['report.file']).toBe('expected string, got 3');
    expect(e!.message).toMatch(/^invalid config \/cfg\/exp\.yaml \(8 problems\)/);
  });

  it('leaves the keys core owns to core and passes the seed to datasets and reducers', async () => {
    seen.pod = [];
    const yaml = `seed: 7\n${base}snapshots: { use: snap, every: 2, limit: 5, batch: 9 }\nreducers:\n  - { use: pod, dims: auto, energy: 0.99, points: [3] }\n`;
    expect(await problemsOf(yaml)).toBeUndefined();
    // the reducer is built from its own options (and the seed) to read its capabilities
    expect(seen.pod).toEqual([{ seed: 7 }]);
  });

  it("checks model.solver keys against the solver's schema, and rejects every extra key of a solver that declares none", async () => {
    const typo = await problemsOf(base.replace('dt: 0.25', 'dtt: 0.25'));
    expect(typo!.problems[0]).toMatchObject({ key: 'model.solver.dtt', line: 2 });
    expect(typo!.problems[0]!.message).toBe("unknown option of solver 'step'; did you mean 'dt'?");
    const free: OdemorPlugin = { name: 'free-solver', register: (ctx) => ctx.provide('Solver', 'free', () => ({}) as never, 'declares no schema') };
    const e = await problemsOf(base.replace('use: step, dt: 0.25', 'use: free, dtt: 0.1, order: 2'), [free]);
    expect(e!.problems.map((p) => [p.key, p.message])).toEqual([
      ['model.solver.dtt', "unknown key 'dtt' in model.solver (solver 'free' takes no options of its own); did you mean 'dt'?"],
      ['model.solver.order', "unknown key 'order' in model.solver (solver 'free' takes no options of its own); known: use, dt, t0, t1, rtol, atol, maxSteps"],
    ]);
    expect(await problemsOf(base.replace('use: step, dt: 0.25', 'use: free, dt: 0.1, rtol: 1e-4'), [free])).toBeUndefined();
  });

  it('does not check a plugin that declares no schema', async () => {
    expect(await problemsOf(base.replace('use: toy, classes: 3', 'use: free, anything: [1, 2]'))).toBeUndefined();
  });

  it('reports a reducer whose constructor rejects its options before any work', async () => {
    const e = await problemsOf(base + 'reducers: [ { use: loose, dims: [2], bad: 1 } ]\n');
    expect(e!.problems[0]).toMatchObject({ key: 'reducers[0]', line: 4, message: 'loose: option bad is not allowed' });
    const e2 = await problemsOf(base + 'reducers: [ { use: loose, dims: [2], points: 2 } ]\n');
    expect(e2!.problems[0]).toMatchObject({ key: 'reducers[0].points', message: "reducer 'loose' does not take interpolation points" });
  });

  it('checks the trainer named by train.use (default backprop) when one is provided, and skips it otherwise', async () => {
    expect(await problemsOf(base + 'train: { epochs: 1 }\n')).toBeUndefined();
    const trainer: OdemorPlugin = {
      name: 'trainer',
      register(ctx) {
        ctx.provide('Trainer', 'backprop', () => ({}) as never, { options: z.strictObject({ runtime: z.string() }) });
      },
    };
    const e = await problemsOf(base + 'train: { epochs: 1 }\n', [trainer]);
    expect(e!.problems[0]).toMatchObject({ key: 'train.runtime', message: 'is required (expected string)', line: 4 });
    // train: false trains nothing, so there is nothing to check
    expect(await problemsOf(base + 'train: false\n', [trainer])).toBeUndefined();
  });

  it('checks the built-in models against what they read', async () => {
    const conv = await problemsOf(base.replace('use: dense-node, hidden: 4', 'use: conv-node, channel: 8'));
    expect(conv!.problems[0]).toMatchObject({ key: 'model.channel', message: "unknown option of model 'conv-node'; did you mean 'channels'?" });
    const rnn = await problemsOf(base.replace('use: dense-node, hidden: 4', 'use: ode-rnn, hidden: 0, gama: 0.1'));
    expect(rnn!.problems.map((p) => [p.key, p.message])).toEqual([
      ['model.hidden', 'must be > 0, got 0'],
      ['model.gama', "unknown option of model 'ode-rnn'; did you mean 'gamma'?"],
    ]);
    expect(await problemsOf(base.replace('hidden: 4', 'hidden: 4, antisymmetric: { gamma: 0.1 }, preActivation: tanh, scale: 2'))).toBeUndefined();
    expect(await problemsOf(base.replace('hidden: 4', 'hidden: 4, antisymmetric: true'))).toBeUndefined();
  });

  it('names the key without a line for a config given as an object, and re-reads the file when it exists', async () => {
    const raw = { dataset: { use: 'toy', clases: 3 }, model: { use: 'dense-node' } };
    const inline = validateConfigObject(raw);
    const exp = await experiment();
    let err: ConfigError | undefined;
    try {
      validatePluginOptions(exp, inline.config, inline, resolvedOf(inline));
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err!.problems[0]).toEqual({ key: 'dataset.clases', message: "unknown option of dataset 'toy'; did you mean 'classes'?" });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-config-'));
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'model: { use: dense-node }\ndataset:\n  use: toy\n  clases: 3\n');
    const fromFile = validateConfigObject(raw, file);
    try {
      validatePluginOptions(exp, fromFile.config, fromFile, resolvedOf(fromFile));
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err!.problems[0]).toMatchObject({ key: 'dataset.clases', line: 4, column: 3 });
    expect(err!.message).toContain(`${file}:4:3: dataset.clases`);
  });
});

/**
 * Config hardening: a plain folder name, list and file size limits, YAML alias bombs and deep nesting, core-key
 * typos in reducer entries, the time span and the fixed-step count, and the `baseDir` core passes datasets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Experiment, type OdemorPlugin } from '../src/container.js';
import { ConfigError, LIST_LIMITS, MAX_CONFIG_BYTES, loadConfig, parseConfig, type LoadedConfig } from '../src/config/index.js';
import { validatePluginOptions, type SolverSpan } from '../src/config/plugin-options.js';
import { ExplicitRungeKuttaSolver } from '../src/solvers/rk.js';
import { rkSolveFloat64 } from '../src/solvers/float64.js';
import type { ButcherTableau } from '../src/extension-points.js';
import type { Resolved } from '../src/pipeline/run.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-limits-'));
  made.push(d);
  return d;
};

const base = `dataset: { use: toy }
model:
  use: dense-node
  solver: { use: fixed, dt: 0.25 }
`;

/** The problems parseConfig reports for `yaml`, or [] when it is valid. */
function problems(yaml: string): ConfigError['problems'] {
  try {
    parseConfig(yaml, '/cfg/exp.yaml');
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('name is a plain folder name', () => {
  it.each(['..', '.', 'a/b', '../up', 'a\\b', '/abs', ''])('refuses %j', (name) => {
    const p = problems(`name: ${JSON.stringify(name)}\n` + base);
    expect(p).toHaveLength(1);
    expect(p[0]!.key).toBe('name');
  });

  it("says why for '.' and '..'", () => {
    expect(problems('name: ".."\n' + base)[0]!.message).toBe(`must be a plain folder name, not '.' or '..' (got "..")`);
  });

  it('accepts names with dots, dashes and underscores', () => {
    for (const name of ['a.b', '.hidden', 'x..y', 'run_2-b']) expect(problems(`name: ${name}\n` + base)).toEqual([]);
  });
});

describe('list limits', () => {
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;

  it('dims, points, topk, plugins, reducers and params each have a limit, and the message gives it and the count', () => {
    const cases: [string, string, string][] = [
      [base + `reducers: [ { use: r, dims: ${list(LIST_LIMITS.dims + 1)} } ]\n`, 'reducers[0].dims', `at most ${LIST_LIMITS.dims} dimensions per reducer (got 257 entries)`],
      [base + `reducers: [ { use: r, dims: [2], points: ${list(LIST_LIMITS.dims + 1)} } ]\n`, 'reducers[0].points', `at most ${LIST_LIMITS.dims} point counts per reducer (got 257 entries)`],
      [base + `evaluate: { topk: ${list(LIST_LIMITS.topk + 1)} }\n`, 'evaluate.topk', `at most ${LIST_LIMITS.topk} top-k values (got 33 entries)`],
      [base + `plugins: ${list(LIST_LIMITS.plugins + 1).replace(/(\d+)/g, './p$1.js')}\n`, 'plugins', `at most ${LIST_LIMITS.plugins} plugins (got 65 entries)`],
      [base + `reducers: [${Array(LIST_LIMITS.reducers + 1).fill('{ use: r, dims: [2] }').join(', ')}]\n`, 'reducers', `at most ${LIST_LIMITS.reducers} reducers (got 257 entries)`],
      [base + `train: { params: [${Array(LIST_LIMITS.params + 1).fill('a').join(', ')}] }\n`, 'train.params', `at most ${LIST_LIMITS.params} IR paths (got 1025 entries)`],
    ];
    for (const [yaml, key, message] of cases) {
      const p = problems(yaml);
      expect(p, key).toHaveLength(1);
      expect(p[0], key).toMatchObject({ key, message });
    }
  });

  it('lists at the limit pass', () => {
    expect(problems(base + `reducers: [ { use: r, dims: ${list(LIST_LIMITS.dims)} } ]\nevaluate: { topk: ${list(LIST_LIMITS.topk)} }\n`)).toEqual([]);
  });

  it('a long line is cut around the column in the excerpt, a long value in the message', () => {
    const p = problems(base + `reducers: [ { use: r, dims: ${list(300)} } ]\n`);
    expect(p[0]!.excerpt!.split('\n')[0]!.length).toBeLessThan(180);
    const q = problems(base + `evaluate: { repeats: [${'1, '.repeat(200)}1] }\n`);
    expect(q[0]!.message.length).toBeLessThan(140);
  });
});

describe('file size, alias bombs and nesting', () => {
  it('a file over MAX_CONFIG_BYTES is refused before parsing, naming the file and the limit', () => {
    const file = path.join(tmp(), 'big.yaml');
    fs.writeFileSync(file, base + `reducers: [ { use: r, dims: [${'4,'.repeat(MAX_CONFIG_BYTES)}4] } ]\n`);
    const t0 = Date.now();
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (e) {
      expect((e as ConfigError).file).toBe(file);
      expect((e as Error).message).toMatch(/: the config is 256\.\d KiB, above the limit of 128 KiB for a config file/);
    }
    expect(Date.now() - t0).toBeLessThan(500);
    expect(() => parseConfig('x'.repeat(MAX_CONFIG_BYTES + 1))).toThrow(/above the limit of 128 KiB/);
  });

  it('an alias bomb is a ConfigError naming the file (it was a ReferenceError, exit 1)', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
    let err: unknown;
    try {
      parseConfig(lines.join('\n') + '\n' + base, '/cfg/bomb.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG');
    expect((err as Error).message).toMatch(/^invalid config \/cfg\/bomb\.yaml \(1 problem\)\n\/cfg\/bomb\.yaml: YAML aliases expand too far \(more than 100 alias expansions/);
  });

  it('a few aliases are fine', () => {
    expect(problems(`${base}reducers: [ { use: r, dims: &d [2, 4] }, { use: s, dims: *d }, { use: t, dims: *d } ]\n`)).toEqual([]);
  });

  it('YAML nested too deeply is a located problem', () => {
    const p = problems(base + `x: ${'['.repeat(3000)}${']'.repeat(3000)}\n`);
    expect(p[0]!.message).toMatch(/^malformed YAML: .*\(the YAML is nested too deeply\)$/);
    expect(p[0]!.line).toBe(5);
  });
});

describe("a core key's typo in a reducer entry", () => {
  it("dimz is reported as core's dims, not handed to the reducer", () => {
    const p = problems(base + 'reducers: [ { use: r, dims: [2], dimz: 3 } ]\n');
    expect(p).toEqual([expect.objectContaining({ key: 'reducers[0]', message: "unknown key 'dimz' in reducers[0]; did you mean 'dims'?", line: 5 })]);
  });
});

const TABLEAU: ButcherTableau = { a: [[0]], b: [1], c: [0], order: 1 };
const ADAPTIVE: ButcherTableau = { a: [[0, 0], [1, 0]], b: [0.5, 0.5], bHat: [1, 0], c: [0, 1], order: 2 };
const seen: Record<string, unknown>[] = [];
const solvers: OdemorPlugin = {
  name: 'span-solvers',
  register(ctx) {
    ctx.provide('Solver', 'fixed', (o) => new ExplicitRungeKuttaSolver('fixed', TABLEAU, false, o ?? {}));
    ctx.provide('Solver', 'adaptive', (o) => new ExplicitRungeKuttaSolver('adaptive', ADAPTIVE, true, o ?? {}));
    ctx.provide('Dataset', 'toy', (o) => {
      seen.push({ ...o });
      return {} as never;
    });
  },
};

async function spanProblems(yaml: string, merged?: SolverSpan): Promise<ConfigError['problems']> {
  const loaded: LoadedConfig = parseConfig(yaml, '/cfg/exp.yaml');
  const exp = new Experiment();
  await exp.use(solvers);
  const c = loaded.config;
  const resolved: Resolved = { dataset: 'toy', model: 'dense-node', solver: c.model.solver?.use ?? 'fixed', evaluator: 'none', runtime: 'none', reducers: [] };
  try {
    validatePluginOptions(exp, c, loaded, resolved, merged);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('the time span and the fixed-step count, before any work', () => {
  it('dt 1e-7 on [0, 1]: ten million steps, above maxSteps, located at model.solver.dt', async () => {
    const p = await spanProblems(base.replace('dt: 0.25', 'dt: 1e-7'));
    expect(p).toEqual([
      {
        key: 'model.solver.dt',
        message: 'dt 1e-7 on [0, 1] means 10,000,000 steps, above model.solver.maxSteps (100000); use a larger dt, or raise model.solver.maxSteps if so many steps are meant',
        line: 4,
        column: 25,
        excerpt: expect.any(String),
      },
    ]);
  });

  it('model.solver.maxSteps raises the limit; exactly maxSteps steps pass', async () => {
    expect(await spanProblems(base.replace('dt: 0.25', 'dt: 1e-6, maxSteps: 1000000'))).toEqual([]);
    expect(await spanProblems(base.replace('dt: 0.25', 'dt: 0.01, maxSteps: 100'))).toEqual([]);
    expect((await spanProblems(base.replace('dt: 0.25', 'dt: 0.01, maxSteps: 99')))[0]!.message).toMatch(/^dt 0\.01 on \[0, 1\] means 100 steps, above model\.solver\.maxSteps \(99\)/);
  });

  it('a long span with the default dt counts too', async () => {
    expect((await spanProblems(base.replace('dt: 0.25', 'dt: 0.1, t1: 1000000')))[0]).toMatchObject({ key: 'model.solver.dt', message: expect.stringMatching(/^dt 0\.1 on \[0, 1000000\] means 10,000,000 steps/) });
  });

  it('an adaptive solver is not limited by its initial step', async () => {
    expect(await spanProblems(base.replace('use: fixed, dt: 0.25', 'use: adaptive, dt: 1e-9'))).toEqual([]);
  });

  it('t0 == t1 is refused, given in the config or reached through the defaults', async () => {
    expect(problems(base.replace('dt: 0.25', 'dt: 0.25, t0: 2, t1: 2'))).toEqual([
      expect.objectContaining({ key: 'model.solver.t1', message: 't1 must be greater than t0: a zero-length span [t0, t1] integrates nothing and makes no snapshots (got 2)' }),
    ]);
    expect(await spanProblems(base.replace('dt: 0.25', 'dt: 0.25, t1: 0'))).toEqual([
      expect.objectContaining({ key: 'model.solver.t1', message: 't1 must be greater than t0: the span [0, 0] has zero length, so the solve integrates nothing and makes no snapshots' }),
    ]);
    expect((await spanProblems(base.replace('dt: 0.25', 'dt: 0.25, t0: 3')))[0]).toMatchObject({ key: 'model.solver.t1', message: 't1 (1) must not be smaller than t0 (3)' });
  });

  it('with a checkpoint the span is checked only when the merged solver is given (a checkpoint may supply dt, t0, t1)', async () => {
    const yaml = base.replace('use: dense-node', 'use: dense-node\n  checkpoint: m.odemor').replace('dt: 0.25', 't1: 100000');
    expect(await spanProblems(yaml)).toEqual([]);
    expect((await spanProblems(yaml, { dt: 1e-3, t0: 0, t1: 100000 }))[0]!.message).toMatch(/^dt 0\.001 on \[0, 100000\] means 100,000,000 steps/);
  });

  it("the solve itself refuses a fixed-step count over maxSteps before the first step (a checkpoint's dt)", () => {
    let calls = 0;
    const f = (_t: number, y: Float64Array) => {
      calls++;
      return y;
    };
    expect(() => rkSolveFloat64(TABLEAU, f, 1, { t0: 0, t1: 1, dt: 1e-7 })).toThrow(/solver 'float64': dt 1e-7 on \[0, 1\] means 10,000,000 steps, above maxSteps \(100000\)/);
    expect(calls).toBe(0);
    expect(rkSolveFloat64(TABLEAU, f, 1, { t0: 0, t1: 1, dt: 1e-5, maxSteps: 100_000 }).stats.accepted).toBe(100_000);
  });
});

describe('datasets get the config folder as baseDir', () => {
  it('next to seed, checked by the schema site', async () => {
    seen.length = 0;
    const loaded = parseConfig(base, '/cfg/sub/exp.yaml');
    expect(loaded.baseDir).toBe('/cfg/sub');
    const exp = new Experiment();
    await exp.use(solvers);
    let options: unknown;
    await exp.use({
      name: 'spy',
      register(ctx) {
        ctx.provide('Dataset', 'spy', () => ({}) as never, {
          options: {
            safeParse: (o: unknown) => {
              options = o;
              return { success: true, data: o };
            },
          } as never,
        });
      },
    });
    validatePluginOptions(exp, { ...loaded.config, dataset: { use: 'spy' } }, loaded, { dataset: 'spy', model: 'dense-node', solver: 'fixed', evaluator: 'none', runtime: 'none', reducers: [] });
    expect(options).toEqual({ seed: 1, baseDir: '/cfg/sub' });
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, repoRoot, tmpDir, writeConfig } from './helpers.js';

const base = `name: bad
dataset: { use: spirals, train: 100, test: 50 }
model:
  use: dense-node
  hidden: 8
  solver: { use: rk4, dt: 0.25 }
train: { epochs: 1 }
evaluate: { repeats: 1 }
`;

async function expectFailure(yaml: string, pattern: RegExp, copy: string[] = []) {
  const file = writeConfig(yaml, copy);
  const out = tmpDir();
  const r = await cli(['run', file, '--out', out, '--quiet']);
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(pattern);
  // nothing half-written in the results folder
  expect(fs.readdirSync(out)).toEqual([]);
  return r;
}

describe('bad input gives a clear error, a non-zero exit and no results', () => {
  it('malformed YAML names the file and line', async () => {
    const r = await expectFailure(base + 'reducers: [ { use: deim, dims: [4 }\n', /config\.yaml:9:\d+: malformed YAML/);
    expect(r.code).toBe(2);
  });

  it('an unknown key is rejected with its line and a caret', async () => {
    const r = await expectFailure(base.replace('hidden: 8', 'hidden: 8\n') + 'evaluat: { repeats: 1 }\n', /config\.yaml:10:1: unknown key 'evaluat' in the top level/);
    expect(r.err).toContain('^');
  });

  it('dt <= 0 names the key', async () => {
    await expectFailure(base.replace('dt: 0.25', 'dt: -0.1'), /config\.yaml:6:\d+: model\.solver\.dt: must be > 0/);
  });

  it('t1 < t0 names the key', async () => {
    await expectFailure(base.replace('dt: 0.25', 'dt: 0.25, t0: 1, t1: 0.5'), /model\.solver\.t1: t1 must not be smaller than t0/);
  });

  it('a wrong type names the value', async () => {
    await expectFailure(base.replace('train: { epochs: 1 }', 'train: { epochs: many }'), /train\.epochs: expected number, got "many"/);
  });

  it('an unknown plugin lists the known ones and the closest match', async () => {
    await expectFailure(base.replace('use: rk4', 'use: rk5'), /unknown solver 'rk5' \(tried @odemor\/solver-rk5.*known solvers: .*rk4.*did you mean 'rk4'\?/);
  });

  it('an unknown reducer is reported before any training', async () => {
    const t0 = Date.now();
    await expectFailure(base + 'reducers: [ { use: deimm, dims: [2] } ]\n', /reducers\[0\]\.use: unknown reducer 'deimm'.*did you mean 'deim'\?/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a missing plugin file is named', async () => {
    await expectFailure(base + 'reducers: [ { use: ./nope.js, dims: [2] } ]\n', /plugin file .*nope\.js does not exist/);
  });

  it('a missing config file is an IO error', async () => {
    const r = await cli(['run', path.join(tmpDir(), 'absent.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read config .*absent\.yaml: ENOENT/);
  });

  it('validate accepts a good config and rejects a bad one', async () => {
    const good = writeConfig(base);
    expect((await cli(['validate', good])).code).toBe(0);
    const bad = writeConfig(base.replace('dt: 0.25', 'dt: 0'));
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/model\.solver\.dt/);
  });

  it('an unknown command is an error', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown command 'frobnicate'/);
  });
});

/** `odemor validate` on the config: it must fail with exit 2 (a CONFIG error) and match every pattern. */
async function expectInvalid(yaml: string, patterns: RegExp[], copy: string[] = []) {
  const r = await cli(['validate', writeConfig(yaml, copy)]);
  expect(r.code).toBe(2);
  for (const p of patterns) expect(r.err).toMatch(p);
  return r;
}

describe('every option is checked before anything runs, with a suggestion for unknown keys', () => {
  it("a reducer option the reducer does not take (deim's oversample) names file, line and key", async () => {
    // needs the deim option schema (plugins/reducer-deim): until it is declared, the constructor's check reports reducers[0]
    await expectInvalid(base + 'reducers: [ { use: deim, dims: [4], oversample: 2 } ]\n', [/config\.yaml:9:\d+: reducers\[0\]\.oversample: /]);
  });

  it("a plugin's own schema: an unknown option with file:line, key path, caret and the closest option", async () => {
    const r = await expectInvalid(base + 'reducers: [ { use: ./strict-points-reducer.js, dims: [4], pointsRatoi: 2 } ]\n', [
      /config\.yaml:9:59: reducers\[0\]\.pointsRatoi: unknown option of reducer 'strict-points'; did you mean 'pointsRatio'\?/,
    ], ['strict-points-reducer.js']);
    expect(r.err).toContain(`     9 | reducers: [ { use: ./strict-points-reducer.js, dims: [4], pointsRatoi: 2 } ]\n${' '.repeat(9 + 58)}^`);
  });

  it("evaluate.repeatz → did you mean 'repeats'?", async () => {
    await expectInvalid(base.replace('repeats: 1', 'repeatz: 1'), [/config\.yaml:8:13: evaluate: unknown key 'repeatz' in evaluate; did you mean 'repeats'\?/]);
  });

  it("dataset.clases → did you mean 'classes'? (the dataset plugin's schema)", async () => {
    await expectInvalid(base.replace('train: 100', 'clases: 3, train: 100'), [/config\.yaml:2:26: dataset\.clases: unknown option of dataset 'spirals'; did you mean 'classes'\?/]);
  });

  it("model.hiddn → did you mean 'hidden'? (the model's schema)", async () => {
    await expectInvalid(base.replace('hidden: 8', 'hiddn: 8'), [/config\.yaml:5:3: model\.hiddn: unknown option of model 'dense-node'; did you mean 'hidden'\?/]);
  });

  it('points on a reducer without interpolation points, a bad snapshotter and report option: all in one error', async () => {
    const yaml = base.replace('hidden: 8', 'hiddn: 8') + 'snapshots: { use: stream, mode: fast }\nreducers: [ { use: svd, dims: [4], points: 6 } ]\nreport: { use: html, fil: r.html }\n';
    await expectInvalid(yaml, [
      /\(4 problems\)/,
      /config\.yaml:5:3: model\.hiddn: /,
      /config\.yaml:9:27: snapshots\.mode: must be one of "gram", "exact", got "fast"/,
      /config\.yaml:10:\d+: reducers\[0\]\.points: reducer 'svd' does not take interpolation points/,
      /config\.yaml:11:\d+: report\.fil: unknown option of report 'html'; did you mean 'file'\?/,
    ]);
  });

  it('odemor run on such a config fails before training: no results, no training progress', async () => {
    // a run that would train for a long time if it got that far
    const yaml = base.replace('train: 100, test: 50', 'clases: 3, train: 3000, test: 500').replace('epochs: 1', 'epochs: 100') + 'reducers: [ { use: deim, dims: [4] } ]\n';
    const file = writeConfig(yaml);
    const out = tmpDir();
    const t0 = Date.now();
    const r = await cli(['run', file, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/dataset\.clases: unknown option of dataset 'spirals'; did you mean 'classes'\?/);
    expect(r.err).not.toMatch(/^train( epoch)?[: ]/m);
    expect(fs.readdirSync(out)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(10_000);

    // the reducer's option error of the MNIST run that used to come after training and the snapshot pass
    const deim = writeConfig(yaml.replace('clases: 3, ', '').replace('dims: [4] }', 'dims: [4], oversample: 2 }'));
    const out2 = tmpDir();
    const t1 = Date.now();
    const r2 = await cli(['run', deim, '--out', out2]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/config\.yaml:9:\d+: reducers\[0\][^\n]*oversample/);
    expect(r2.err).not.toMatch(/^train( epoch)?[: ]/m);
    expect(fs.readdirSync(out2)).toEqual([]);
    expect(Date.now() - t1).toBeLessThan(10_000);
  });
});

/** `odemor run` on the config must fail with exit `code` before any work, matching `pattern`, leaving the results folder empty. */
async function expectRunRefused(yaml: string, pattern: RegExp, code = 2) {
  const file = writeConfig(yaml);
  const out = tmpDir();
  const t0 = Date.now();
  const r = await cli(['run', file, '--out', out, '--quiet']);
  expect(r.code).toBe(code);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/^train( epoch)?[: ]/m);
  expect(fs.readdirSync(out)).toEqual([]);
  expect(Date.now() - t0).toBeLessThan(10_000);
  return r;
}

/** Both `odemor validate` and `odemor run` refuse the config (exit 2) with `pattern`. */
async function expectBothRefuse(yaml: string, pattern: RegExp) {
  await expectInvalid(yaml, [pattern]);
  await expectRunRefused(yaml, pattern);
}

describe('unknown keys are rejected everywhere, by validate and by run alike', () => {
  it("snapshots.evry → did you mean 'every'?", async () => {
    await expectBothRefuse(base + 'snapshots: { evry: 2 }\n', /config\.yaml:9:\d+: snapshots: unknown key 'evry' in snapshots; did you mean 'every'\?/);
  });

  it("a reducer entry's dimz → did you mean 'dims'?", async () => {
    await expectBothRefuse(base + 'reducers: [ { use: deim, dims: [4], dimz: 3 } ]\n', /config\.yaml:9:\d+: reducers\[0\]: unknown key 'dimz' in reducers\[0\]; did you mean 'dims'\?/);
  });

  it("a reducer entry's foo: an unknown option of reducer 'deim'", async () => {
    await expectBothRefuse(base + 'reducers: [ { use: deim, dims: [4], foo: 3 } ]\n', /config\.yaml:9:\d+: reducers\[0\]\.foo: unknown option of reducer 'deim'/);
  });

  it('model.widht: an unknown option of the model', async () => {
    await expectBothRefuse(base.replace('hidden: 8', 'hidden: 8\n  widht: 3'), /config\.yaml:6:3: model\.widht: unknown option of model 'dense-node'/);
  });
});

describe('name is a plain folder name', () => {
  for (const name of ['..', '.', 'a/b', '../x', 'a\\\\b']) {
    it(`name: "${name}" is refused`, async () => {
      await expectBothRefuse(base.replace('name: bad', `name: "${name}"`), /config\.yaml:1:1: name: /);
    });
  }

  it("'..' says why", async () => {
    await expectInvalid(base.replace('name: bad', 'name: ".."'), [/name: must be a plain folder name, not '\.' or '\.\.'/]);
  });
});

describe('huge lists and files are refused early, with the limit', () => {
  it('a dims list over 256 entries', async () => {
    const dims = Array.from({ length: 300 }, (_, i) => i + 1).join(', ');
    await expectBothRefuse(base + `reducers: [ { use: deim, dims: [${dims}] } ]\n`, /reducers\[0\]\.dims: at most 256 dimensions per reducer \(got 300 entries\)/);
  });

  it('topk, plugins and reducers lists over their limits', async () => {
    const topk = Array.from({ length: 40 }, (_, i) => i + 1).join(', ');
    await expectInvalid(base.replace('repeats: 1', `repeats: 1, topk: [${topk}]`), [/evaluate\.topk: at most 32 top-k values \(got 40 entries\)/]);
    const plugins = Array.from({ length: 70 }, (_, i) => `./p${i}.js`).join(', ');
    await expectInvalid(base + `plugins: [${plugins}]\n`, [/plugins: at most 64 plugins \(got 70 entries\)/]);
    const reducers = Array.from({ length: 300 }, () => '{ use: deim, dims: [2] }').join(', ');
    await expectInvalid(base + `reducers: [${reducers}]\n`, [/reducers: at most 256 reducers \(got 300 entries\)/]);
  });

  it('a 3.5M-entry dims list is refused by its size in well under a second, not validated for 44 s', async () => {
    const file = writeConfig(base + `reducers: [ { use: deim, dims: [${'4,'.repeat(3_500_000)}4] } ]\n`);
    const t0 = Date.now();
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config\.yaml: the config is 6\.7 MiB, above the limit of 128 KiB for a config file/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a YAML alias bomb exits 2 naming the file', async () => {
    const bomb = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) bomb.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
    const file = writeConfig(bomb.join('\n') + '\n' + base);
    const t0 = Date.now();
    for (const command of ['validate', 'run']) {
      const r = await cli([command, file, '--quiet'].slice(0, command === 'run' ? 3 : 2));
      expect(r.code).toBe(2);
      expect(r.err).toContain(`invalid config ${file}`);
      expect(r.err).toMatch(/YAML aliases expand too far \(more than 100 alias expansions/);
    }
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('YAML nested too deeply is a located CONFIG error, not a crash', async () => {
    const r = await cli(['validate', writeConfig(base + `extra: ${'['.repeat(5000)}${']'.repeat(5000)}\n`)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config\.yaml:9:\d+: malformed YAML: .*nested too deeply/);
  });
});

describe('flags are checked under their own names, at once', () => {
  it('--seed 1e30 blames --seed, not dataset.seed', async () => {
    for (const seed of ['1e30', '-1', '1.5', '0x10', '', 'abc']) {
      const r = await cli(['run', writeConfig(base), `--seed=${seed}`, '--out', tmpDir(), '--quiet']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`odemor: --seed must be a whole number from 0 to 9007199254740991 written in digits, got '${seed}'`);
      expect(r.err).not.toMatch(/dataset\.seed/);
    }
  });

  it('--out under /proc fails at once: no mkdir loop, nothing trained', async () => {
    if (!fs.existsSync('/proc/self')) return; // Linux only
    const t0 = Date.now();
    const r = await cli(['run', writeConfig(base), '--out', '/proc/odemor-test/out', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('odemor: --out /proc/odemor-test/out: cannot use /proc/odemor-test/out as the results folder: cannot create folders in /proc (ENOENT)\n');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('--out at a file, or under a file, fails at once', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'not a folder');
    for (const out of [file, path.join(file, 'sub', 'deeper')]) {
      const r = await cli(['run', writeConfig(base), '--out', out, '--quiet']);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`odemor: --out ${out}: cannot use ${out} as the results folder: ${file} is a file, not a folder\n`);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
  });

  it('output.dir at a file fails at once, naming the key', async () => {
    const yaml = base + 'output: { dir: taken }\n';
    const file = writeConfig(yaml);
    fs.writeFileSync(path.join(path.dirname(file), 'taken'), 'x');
    const r = await cli(['run', file, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`odemor: ${file}: output.dir taken: cannot use ${path.join(path.dirname(file), 'taken')} as the results folder: `);
  });
});

describe('plugin load and register() errors name the plugin, its file and the line', () => {
  // syntax errors run in a child process: in-process, vitest's module loader parses the plugin itself
  it('a syntax error gives file:line:column and the line', async () => {
    const file = writeConfig(base + 'plugins: [ ./broken.mjs ]\n');
    const plugin = path.join(path.dirname(file), 'broken.mjs');
    fs.writeFileSync(plugin, 'export default {\n  name: "broken",\n  register(ctx) {\n    const a = ;\n  },\n};\n');
    const r = cliIn(tmpDir(), ['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`odemor: ${file}: plugins[0]: cannot load plugin './broken.mjs' (${plugin}): syntax error at ${plugin}:4:15: Unexpected token ';'\n     4 |     const a = ;\n${' '.repeat(23)}^`);
  });

  it('a syntax error in a file the plugin imports names that file', async () => {
    const file = writeConfig(base + 'reducers: [ { use: ./outer.mjs, dims: [2] } ]\n');
    const dir = path.dirname(file);
    fs.writeFileSync(path.join(dir, 'outer.mjs'), "import { helper } from './lib/inner.mjs';\nexport default { name: 'outer', register() { helper(); } };\n");
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'inner.mjs'), 'export function helper() {\n  return [1, 2;\n}\n');
    const r = cliIn(tmpDir(), ['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot load plugin './outer.mjs' (${path.join(dir, 'outer.mjs')}): syntax error at ${path.join(dir, 'lib', 'inner.mjs')}:2:`);
  });

  it('a throw in register() names the plugin, its file and the line', async () => {
    const file = writeConfig(base + 'plugins: [ ./boom.mjs ]\n');
    const plugin = path.join(path.dirname(file), 'boom.mjs');
    fs.writeFileSync(plugin, 'export default {\n  name: "boomer",\n  register(ctx) {\n    throw new Error("boom in register");\n  },\n};\n');
    for (const command of ['validate', 'run']) {
      const r = await cli([command, file]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`odemor: plugin 'boomer' (${plugin}) failed in register(): boom in register (at ${plugin}:4:11)`);
    }
  });

  it('a throw while the module loads names its file and line', async () => {
    const file = writeConfig(base + 'plugins: [ ./top.mjs ]\n');
    const plugin = path.join(path.dirname(file), 'top.mjs');
    fs.writeFileSync(plugin, 'const x = undefined;\nx.boom();\nexport default {};\n');
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`cannot load plugin '\\./top\\.mjs' \\(${plugin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\): TypeError: .* \\(at ${plugin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:3\\)`));
  });
});

describe('the time span and the step count are checked up front', () => {
  it('dt: 1e-7 names model.solver.dt, the step count and the limit, before any training', async () => {
    await expectBothRefuse(
      base.replace('dt: 0.25', 'dt: 1e-7'),
      /config\.yaml:6:\d+: model\.solver\.dt: dt 1e-7 on \[0, 1\] means 10,000,000 steps, above model\.solver\.maxSteps \(100000\)/,
    );
  });

  it('raising model.solver.maxSteps allows more steps; an adaptive solver is not limited by its first step', async () => {
    expect((await cli(['validate', writeConfig(base.replace('dt: 0.25', 'dt: 1e-6, maxSteps: 1000000'))])).code).toBe(0);
    expect((await cli(['validate', writeConfig(base.replace('use: rk4, dt: 0.25', 'use: dopri5, dt: 1e-7'))])).code).toBe(0);
  });

  it('t0 == t1 is refused with a clear message, given both or through the defaults', async () => {
    await expectBothRefuse(base.replace('dt: 0.25', 'dt: 0.25, t0: 1, t1: 1'), /model\.solver\.t1: t1 must be greater than t0: a zero-length span/);
    await expectBothRefuse(base.replace('dt: 0.25', 'dt: 0.25, t1: 0'), /model\.solver\.t1: t1 must be greater than t0: the span \[0, 0\] has zero length/);
  });
});

/** An IDX file of unsigned bytes with these dimensions (big-endian sizes after the 0x0000 08 nd magic). */
function idx(dims: number[], fill: (i: number) => number): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(4 + 4 * dims.length + count);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 0; i < count; i++) out[4 + 4 * dims.length + i] = fill(i);
  return out;
}

/** Run the odemor CLI in a child process with working directory `cwd`. */
function cliIn(cwd: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("relative paths resolve from the config's folder, dataset folders too", () => {
  const mnist = (dir: string) => `name: mnist-dir
dataset: { use: mnist, dir: ${dir}, train: 16, test: 16, downsample: 4 }
model: { use: dense-node, hidden: 4, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 16, checkpoint: false }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`;

  it("mnist's dataset.dir is found next to the config when run from another folder", async () => {
    const file = writeConfig(mnist('data'));
    const data = path.join(path.dirname(file), 'data');
    fs.mkdirSync(data);
    for (const [prefix, n] of [['train', 16], ['t10k', 16]] as const) {
      fs.writeFileSync(path.join(data, `${prefix}-images-idx3-ubyte`), idx([n, 28, 28], (i) => (i * 37) % 256));
      fs.writeFileSync(path.join(data, `${prefix}-labels-idx1-ubyte`), idx([n], (i) => i % 10));
    }
    const elsewhere = tmpDir();
    const out = tmpDir();
    const r = cliIn(elsewhere, ['run', file, '--out', out, '--quiet']);
    expect(r.err).not.toMatch(/ENOENT/);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(true);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it("a dataset.dir that is not there is named, with the config's folder it was resolved from, by validate and before training", async () => {
    const file = writeConfig(mnist('no-such-data'));
    const want = `config.yaml:2:\\d+: dataset\\.dir: ${path.join(path.dirname(file), 'no-such-data')} is not a folder \\(resolved from the config's folder ${path.dirname(file)}\\)`;
    const out = tmpDir();
    for (const args of [['validate', file], ['run', file, '--out', out, '--quiet']]) {
      const r = cliIn(tmpDir(), args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(want));
    }
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

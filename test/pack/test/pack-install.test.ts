// What a plugin author outside the monorepo gets: the packages as npm would publish them, installed
// from their tarballs into a folder outside the repo, with a conformance test and an experiment run there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, repoRoot, repoVersion, requireBuilt, run, runVitest, show, writeAuthorPackage, type Run } from '../../support/outside-repo.js';

/** The workspaces packed and installed together (folders under the repo root); extend as packages are added. */
const PACKAGES = [
  'core',
  'test/conformance',
  'plugins/runtime-onnx',
  'plugins/runtime-tfjs',
  'plugins/solver-euler',
  'plugins/solver-rk4',
  'plugins/solver-dopri5',
  'plugins/reducer-deim',
  'plugins/dataset-synthetic',
  'plugins/evaluator-classification',
  'plugins/snapshotter-stream',
];

describe('tarballs as npm would publish them', () => {
  it('ship no .tsbuildinfo, and every source map points at files in the tarball', async () => {
    const r = await run('npm', ['pack', '--dry-run', '--json', '--workspaces', '--loglevel=error'], repoRoot, 120_000);
    expect(r.code, show(r)).toBe(0);
    const packs = JSON.parse(r.out) as { name: string; files: { path: string }[] }[];
    const dirs = new Map<string, string>();
    for (const group of ['.', 'plugins', 'test']) {
      for (const d of group === '.' ? ['core'] : fs.readdirSync(path.join(repoRoot, group)).map((x) => path.join(group, x))) {
        const pj = path.join(repoRoot, d, 'package.json');
        if (fs.existsSync(pj)) dirs.set(readJson<{ name: string }>(pj).name, d);
      }
    }
    const problems: string[] = [];
    let checked = 0;
    for (const p of packs) {
      const dir = dirs.get(p.name);
      if (!dir || readJson<{ private?: boolean }>(path.join(repoRoot, dir, 'package.json')).private) continue;
      checked++;
      const files = new Set(p.files.map((f) => f.path));
      for (const f of files) {
        if (f.endsWith('.tsbuildinfo')) problems.push(`${p.name}: ships ${f}`);
        if (!f.endsWith('.map')) continue;
        const map = readJson<{ sources: string[]; sourceRoot?: string }>(path.join(repoRoot, dir, f));
        for (const s of map.sources) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), map.sourceRoot ?? '', s));
          if (!files.has(target)) problems.push(`${p.name}: ${f} points at ${target}, which is not in the tarball`);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(PACKAGES.length);
    expect(problems).toEqual([]);
  });
});

describe('installed from tarballs outside the repo', () => {
  let tmp: string;
  let app: string;
  let install: Run;

  beforeAll(async () => {
    requireBuilt(PACKAGES);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-pack-'));
    const tarballs = path.join(tmp, 'tarballs');
    app = path.join(tmp, 'app');
    fs.mkdirSync(tarballs);
    fs.mkdirSync(path.join(app, 'test'), { recursive: true });
    const packed = await run('npm', ['pack', '--json', '--loglevel=error', '--pack-destination', tarballs, ...PACKAGES.flatMap((d) => ['-w', d])], repoRoot, 120_000);
    if (packed.code !== 0) throw new Error(`npm pack failed\n${show(packed)}`);
    const files = (JSON.parse(packed.out) as { filename: string }[]).map((p) => path.join(tarballs, p.filename));
    // the peers the kit needs, at the versions the monorepo has (already in npm's cache after npm ci)
    writeAuthorPackage(app);
    install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...files, `vitest@${repoVersion('vitest')}`, `@tensorflow/tfjs-core@${repoVersion('@tensorflow/tfjs-core')}`],
      app,
    );
    if (install.code !== 0) throw new Error(`npm install of the tarballs failed\n${show(install)}`);
  });

  afterAll(() => {
    if (tmp && !process.env.ODEMOR_KEEP_PACK) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs without npm warnings and without the workspace', () => {
    expect(install.err).not.toMatch(/npm warn/i);
    const core = fs.realpathSync(path.join(app, 'node_modules', '@odemor', 'core'));
    expect(core.startsWith(fs.realpathSync(app))).toBe(true);
  });

  it("a reducer's two-line conformance test passes with the installed kit", async () => {
    fs.writeFileSync(
      path.join(app, 'test', 'deim.test.js'),
      `import { it } from 'vitest';\nimport { reducerConformance } from '@odemor/conformance';\nimport { DeimReducer } from '@odemor/reducer-deim';\nreducerConformance(it, () => new DeimReducer());\n`,
    );
    const r = await runVitest(app);
    expect(r.code, show(r)).toBe(0);
    expect(r.out).toMatch(/Tests +\d+ passed/);
    expect(r.out).toMatch(/reducer 'deim' conformance/);
  });

  it('npx odemor runs an experiment that does not train, on the ONNX runtime', async () => {
    fs.writeFileSync(
      path.join(app, 'experiment.yaml'),
      `name: packed
seed: 1
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: rk4, dt: 0.25 } }
train: { epochs: 0 }
reducers: [ { use: deim, dims: [2, 4] } ]
evaluate: { repeats: 1, topk: [1] }
`,
    );
    const r = await run('npx', ['odemor', 'run', 'experiment.yaml', '--out', 'out', '--quiet'], app);
    expect(r.code, show(r)).toBe(0);
    expect(r.err).not.toMatch(/npm warn/i);
    expect(r.out).toMatch(/^results written to out\/ \(results\.json, results\.md\)$/m);
    const res = readJson<{ rows: { method: string; dim: number; runtime: string }[] }>(path.join(app, 'out', 'results.json'));
    expect(res.rows.map((row) => `${row.method}@${row.dim}`)).toEqual(['original@6', 'deim@2', 'deim@4']);
    expect(res.rows.every((row) => row.runtime === 'onnx')).toBe(true);
  });

  it('npx odemor plugins names each installed package and version; a misspelt package name gets the helpful error', async () => {
    const list = await run('npx', ['odemor', 'plugins'], app);
    expect(list.code, show(list)).toBe(0);
    for (const d of PACKAGES.filter((p) => p.startsWith('plugins/'))) {
      const pj = readJson<{ name: string; version: string }>(path.join(repoRoot, d, 'package.json'));
      expect(list.out).toContain(`${pj.name}@${pj.version}\n`);
    }
    fs.writeFileSync(
      path.join(app, 'typo.yaml'),
      fs.readFileSync(path.join(app, 'experiment.yaml'), 'utf8').replace('use: deim', 'use: odemor-reducer-deimx'),
    );
    const bad = await run('npx', ['odemor', 'validate', 'typo.yaml'], app);
    expect(bad.code, show(bad)).toBe(1);
    expect(bad.err).toMatch(/^odemor: .*typo\.yaml: reducers\[0\]\.use: cannot find plugin package 'odemor-reducer-deimx': looked for node_modules\/odemor-reducer-deimx/);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  });
});

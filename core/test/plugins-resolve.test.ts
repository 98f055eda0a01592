import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../src/container.js';
import { OdemorError } from '../src/errors.js';
import { checkExperiment } from '../src/pipeline/run.js';
import { importPlugin, loadPlugin, resolveUse } from '../src/plugins/resolve.js';

let dir: string;

/** Write node_modules/<name> with `pkg` as package.json and `files` (path → text). */
function writePackage(name: string, pkg: object, files: Record<string, string>) {
  const root = path.join(dir, 'node_modules', name);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name, version: '1.2.3', keywords: ['odemor-plugin'], ...pkg }));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
}

const esmPlugin = (name: string, point: string, impl: string) =>
  `export default { name: '${name}', register(ctx) { ctx.provide('${point}', '${impl}', () => ({}), 'test ${impl}'); } };\n`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-resolve-'));
  // ESM only: exports with nothing but an `import` condition (require.resolve cannot see it)
  writePackage('odemor-solver-rk38', { type: 'module', exports: { '.': { import: './dist/index.js' } } }, { 'dist/index.js': esmPlugin('odemor-solver-rk38', 'Solver', 'rk38') });
  // scoped, nested conditions
  writePackage('@me/odemor-reducer-nice', { type: 'module', exports: { '.': { node: { import: './esm.js' }, default: './missing.js' } } }, { 'esm.js': esmPlugin('nice', 'Reducer', 'nice') });
  // CommonJS whose exports offer only `require`
  writePackage('odemor-dataset-cjs', { exports: { '.': { require: './index.cjs' } } }, {
    'index.cjs': `module.exports = { name: 'odemor-dataset-cjs', register(ctx) { ctx.provide('Dataset', 'cjs', () => ({}), 'test'); } };\n`,
  });
  // no exports, only main
  writePackage('odemor-report-main', { type: 'module', main: 'lib/main.js' }, { 'lib/main.js': esmPlugin('odemor-report-main', 'Report', 'main') });
  // exports name a file that was never built
  writePackage('odemor-solver-unbuilt', { type: 'module', exports: './dist/index.js' }, {});
  // a name that matches no package prefix: found through the manifest of the one package that declares it
  writePackage('odemor-aaa-runtime', { type: 'module', exports: './index.js' }, { 'index.js': esmPlugin('odemor-aaa-runtime', 'Runtime', 'aaa') });
  writePackage('odemor-zzz-runtime', { type: 'module', exports: './index.js', odemor: { provides: { Trainer: ['fastprop'] } } }, {
    'index.js': `export default { name: 'odemor-zzz-runtime', register(ctx) { ctx.provide('Trainer', 'fastprop', () => ({}), 'test'); } };\n`,
  });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('plugin packages are resolved as import would', () => {
  it("imports first the package whose package.json declares the name (odemor.provides), not every installed plugin", async () => {
    const exp = new Experiment();
    expect(await resolveUse(exp, 'Trainer', 'fastprop', dir)).toBe('fastprop');
    expect([...exp.plugins.keys()]).toEqual(['odemor-zzz-runtime']);
  });

  it('loads an ESM-only package by full name, with its package name and version', async () => {
    const p = await loadPlugin('odemor-solver-rk38', dir);
    expect(p.plugin.name).toBe('odemor-solver-rk38');
    expect(p.package).toMatchObject({ name: 'odemor-solver-rk38', version: '1.2.3' });
    expect(p.file).toBe(fs.realpathSync(path.join(dir, 'node_modules', 'odemor-solver-rk38', 'dist', 'index.js')));
  });

  it('resolves a short name to an ESM-only package', async () => {
    const exp = new Experiment();
    expect(await resolveUse(exp, 'Solver', 'rk38', dir)).toBe('rk38');
  });

  it('resolves scoped packages with nested conditions, require-only CommonJS and main-only packages', async () => {
    expect((await importPlugin('@me/odemor-reducer-nice', dir)).name).toBe('nice');
    expect((await importPlugin('odemor-dataset-cjs', dir)).name).toBe('odemor-dataset-cjs');
    expect((await importPlugin('odemor-report-main', dir)).name).toBe('odemor-report-main');
  });

  it('a package whose entry file is missing says so', async () => {
    await expect(importPlugin('odemor-solver-unbuilt', dir)).rejects.toThrow(/plugin package 'odemor-solver-unbuilt' \(found at .*odemor-solver-unbuilt\) cannot be imported/);
  });

  it('a missing full package name says where it looked, names the key, and suggests the closest installed one', async () => {
    const err = await importPlugin('odemor-solver-rk38x', dir, 'exp.yaml: plugins[0]').catch((e: unknown) => e);
    expect(OdemorError.is(err)).toBe(true);
    expect((err as OdemorError).code).toBe('PLUGIN');
    const msg = (err as Error).message;
    expect(msg).toMatch(/^exp\.yaml: plugins\[0\]: cannot find plugin package 'odemor-solver-rk38x'/);
    expect(msg).toContain(`node_modules/odemor-solver-rk38x in and above ${dir} (the config's folder)`);
    expect(msg).toContain('npm install odemor-solver-rk38x');
    expect(msg).toMatch(/did you mean 'odemor-solver-rk38'\?$/);
    const scoped = await importPlugin('@me/odemor-reducer-typo', dir).catch((e: unknown) => e);
    expect((scoped as Error).message).toMatch(/^cannot find plugin package '@me\/odemor-reducer-typo'.*installed odemor plugin packages: .*@me\/odemor-reducer-nice/);
  });

  it("a missing package in a config's use: names the config file and key", async () => {
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(
      file,
      `name: t
dataset: { use: spirals, train: 40, test: 20 }
model: { use: dense-node, hidden: 4, solver: { use: odemor-solver-rk38x, dt: 0.5 } }
evaluate: { runtime: tfjs, repeats: 1 }
`,
    );
    await expect(checkExperiment(file)).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: model\\.solver\\.use: cannot find plugin package 'odemor-solver-rk38x'.*did you mean 'odemor-solver-rk38'`));
  });
});

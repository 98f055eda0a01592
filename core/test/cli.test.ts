import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configPluginSpecs, formatWritten, main, writtenFiles } from '../src/cli/main.js';

const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  return { code, out: o, err: e };
}

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-cli-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const base = `name: cli
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, hidden: 4, solver: { use: euler, dt: 0.5 } }
train: { epochs: 1, batch: 30 }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`;

describe('odemor plugins', () => {
  it('shows each plugin as package@version', async () => {
    const r = await cli(['plugins']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^@odemor\/core@\d+\.\d+\.\d+$/m);
    expect(r.out).toMatch(/^@odemor\/solver-rk4@\d+\.\d+\.\d+$/m);
  });

  it('--config also lists the plugins that config loads by path, and --json says where each came from', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'mine.js'), `export default { name: 'mine', register(ctx) { ctx.provide('Reducer', 'mine', () => ({}), 'my reducer'); } };\n`);
    fs.writeFileSync(path.join(dir, 'extra.mjs'), `export default { name: 'extra', register(ctx) { ctx.provide('Report', 'extra', () => ({}), 'an extra report'); } };\n`);
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(file, base + 'plugins: [./extra.mjs]\nreducers: [ { use: ./mine.js, dims: [2] } ]\n');
    const plain = await cli(['plugins']);
    expect(plain.out).not.toMatch(/my reducer/);
    const r = await cli(['plugins', '--config', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mine\.js \(plugin 'mine'\), loaded by .*exp\.yaml: reducers\[0\]\.use\n {2}Reducer +mine +my reducer/);
    expect(r.out).toMatch(/extra\.mjs \(plugin 'extra'\), loaded by .*exp\.yaml: plugins\[0\]\n {2}Report +extra/);
    const j = JSON.parse((await cli(['plugins', '--config', file, '--json'])).out) as { plugins: { name: string; source: string; file?: string; package?: string; version?: string }[] };
    expect(j.plugins.find((p) => p.name === 'mine')).toMatchObject({ source: 'config', file: path.join(dir, 'mine.js') });
    expect(j.plugins.find((p) => p.name === '@odemor/reducer-deim')).toMatchObject({ source: 'installed', package: '@odemor/reducer-deim', version: expect.stringMatching(/^\d/) });
  });

  it('configPluginSpecs finds the plugins list and path or package use: values', () => {
    const specs = configPluginSpecs({
      plugins: ['./a.js'],
      dataset: { use: 'spirals' },
      model: { use: 'dense-node', solver: { use: 'odemor-solver-rk38' } },
      evaluate: { runtime: '@me/runtime-x' },
      reducers: [{ use: 'deim' }, { use: './a.js' }, { use: '../b.mjs' }],
    });
    expect(specs).toEqual([
      ['./a.js', 'plugins[0]'],
      ['odemor-solver-rk38', 'model.solver.use'],
      ['@me/runtime-x', 'evaluate.runtime'],
      ['../b.mjs', 'reducers[2].use'],
    ]);
  });
});

describe('odemor run', () => {
  it('closes with every file it wrote', async () => {
    const dir = tmp();
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(file, base + 'reducers: [ { use: svd, dims: [2] } ]\noutput: { saveModels: true }\n');
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'stale.txt'), 'from an earlier run');
    fs.utimesSync(path.join(out, 'stale.txt'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const r = await cli(['run', file, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/results written to .*out\/ \(results\.json, results\.md, model\.odemor, models\/svd-2\.odemor\)\n$/);
  });

  it('prefers the list the run reports, and formats folders', () => {
    expect(writtenFiles({ outDir: '/r', written: ['/r/results.json', '/r/x.bin'] }, Date.now())).toEqual(['/r/results.json', '/r/x.bin']);
    const plots = Array.from({ length: 9 }, (_, i) => `/r/plots/p${i}.svg`);
    expect(formatWritten(['/r/models/deim-12.odemor', '/r/report.html', '/r/models/deim-4.odemor', '/r/results.md', '/r/results.json', ...plots], '/r')).toBe(
      'results.json, results.md, report.html, models/deim-4.odemor, models/deim-12.odemor, plots/ (9 files)',
    );
  });
});

describe('errors from another copy of core', () => {
  it('a CONFIG error thrown by a plugin with its own copy of core exits 2 with the one-line message', () => {
    const dir = tmp();
    const errorsUrl = pathToFileURL(path.join(coreDir, 'dist', 'errors.js')).href + '?copy=plugin';
    fs.writeFileSync(
      path.join(dir, 'strict.js'),
      `import { OdemorError } from ${JSON.stringify(errorsUrl)};
export default { name: 'strict', register() { throw new OdemorError('CONFIG', 'exp.yaml: strict.level: must be 1 to 3, got 7'); } };\n`,
    );
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(file, base + 'plugins: [./strict.js]\n');
    let code = 0;
    let err = '';
    try {
      execFileSync(process.execPath, [path.join(coreDir, 'bin', 'odemor.js'), 'validate', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      err = (e as { stderr: string }).stderr;
    }
    expect(err).toBe('odemor: exp.yaml: strict.level: must be 1 to 3, got 7\n');
    expect(code).toBe(2);
  });
});

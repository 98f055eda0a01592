/**
 * Plugin load and `register()` errors name the plugin, its file and the line (column too for syntax errors).
 * Importing a broken file in-process would go through vitest's own loader, so the syntax checks call
 * `locateSyntaxError` directly and the CLI runs in a child process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Experiment } from '../src/container.js';
import { OdemorError } from '../src/errors.js';
import { locateSyntaxError, pluginFile, recordPluginFile, stackLocation } from '../src/plugins/origin.js';

const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-plugin-errors-'));
  made.push(d);
  return d;
};

describe('locateSyntaxError', () => {
  it('gives file, line, column, the message and the line with a caret', () => {
    const dir = tmp();
    const file = path.join(dir, 'broken.mjs');
    fs.writeFileSync(file, 'export default {\n  name: "broken",\n  register(ctx) {\n    const a = ;\n  },\n};\n');
    expect(locateSyntaxError(file)).toEqual({ file, line: 4, column: 15, message: "Unexpected token ';'", excerpt: `     4 |     const a = ;\n${' '.repeat(23)}^` });
  });

  it('follows relative imports to the file at fault', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'entry.mjs'), "import { a } from './lib/a.mjs';\nexport { b } from './b.mjs';\nexport default { name: 'x', register() {} };\n");
    fs.writeFileSync(path.join(dir, 'lib', 'a.mjs'), 'export const a = 1;\n');
    fs.writeFileSync(path.join(dir, 'b.mjs'), 'export const b = (;\n');
    expect(locateSyntaxError(path.join(dir, 'entry.mjs'))).toMatchObject({ file: path.join(dir, 'b.mjs'), line: 1 });
  });

  it('reads .js as the package type says; an untyped .js is at fault only when it is neither CommonJS nor a module', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'cjs.js'), 'const p = require("path");\nmodule.exports = { name: "c", register() { with (p) {} } };\n');
    expect(locateSyntaxError(path.join(dir, 'cjs.js'))).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'esm.js'), 'export default {\n  name: "e",\n  register() { return 1 +; },\n};\n');
    expect(locateSyntaxError(path.join(dir, 'esm.js'))).toMatchObject({ line: 3 });
    const typed = path.join(dir, 'typed');
    fs.mkdirSync(typed);
    fs.writeFileSync(path.join(typed, 'package.json'), '{ "type": "commonjs" }');
    fs.writeFileSync(path.join(typed, 'p.js'), 'export default {};\n');
    expect(locateSyntaxError(path.join(typed, 'p.js'))).toMatchObject({ line: 1, message: expect.stringMatching(/export/) });
  });

  it('a file that parses gives undefined', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'ok.mjs'), 'export default { name: "ok", register() {} };\n');
    expect(locateSyntaxError(path.join(dir, 'ok.mjs'))).toBeUndefined();
  });
});

describe('register() errors', () => {
  it('name the plugin, its file and the line; the plugin is not left registered', async () => {
    const plugin = {
      name: 'boomer',
      register() {
        throw new Error('boom in register');
      },
    };
    const file = fileURLToPath(import.meta.url);
    recordPluginFile(plugin, file);
    expect(pluginFile(plugin)).toBe(file);
    const exp = new Experiment();
    const err = await exp.use(plugin).catch((e: unknown) => e);
    expect(OdemorError.is(err) && err.code).toBe('PLUGIN');
    expect((err as Error).message).toMatch(new RegExp(`^plugin 'boomer' \\(${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\) failed in register\\(\\): boom in register \\(at .*cli-plugin-errors\\.test\\.ts:\\d+:\\d+\\)$`));
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(exp.plugins.has('boomer')).toBe(false);
  });

  it("keep a TypeError's name; a plugin given in code is located by the stack", async () => {
    const exp = new Experiment();
    const err = await exp
      .use({
        name: 'inline',
        register(ctx) {
          (ctx as unknown as { nope: () => void }).nope();
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^plugin 'inline' failed in register\(\): TypeError: .*nope.* \(at .*cli-plugin-errors\.test\.ts:\d+:\d+\)$/);
  });

  it("pass a plugin's own OdemorError unchanged", async () => {
    const own = new OdemorError('CONFIG', 'exp.yaml: strict.level: must be 1 to 3, got 7');
    const exp = new Experiment();
    await expect(
      exp.use({
        name: 'strict',
        register() {
          throw own;
        },
      }),
    ).rejects.toBe(own);
  });

  it('stackLocation finds the frame in a given file', () => {
    const e = new Error('x');
    expect(stackLocation(e, fileURLToPath(import.meta.url))).toMatch(/cli-plugin-errors\.test\.ts:\d+:\d+$/);
    expect(stackLocation(e, '/elsewhere.js')).toBeUndefined();
    expect(stackLocation('not an error')).toBeUndefined();
  });
});

describe('the CLI (child process)', () => {
  const run = (cwd: string, args: string[]) => spawnSync(process.execPath, [path.join(coreDir, 'bin', 'odemor.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  const config = `dataset: { use: spirals, train: 20, test: 10 }
model: { use: dense-node, hidden: 4, solver: { use: euler, dt: 0.5 } }
`;

  it('a plugin with a syntax error: the config key, the plugin, its file, line and column', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'exp.yaml'), config + 'plugins: [ ./broken.mjs ]\n');
    fs.writeFileSync(path.join(dir, 'broken.mjs'), 'export default {\n  name: "broken",\n  register() { return [1, 2; },\n};\n');
    const r = run(dir, ['validate', 'exp.yaml']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`odemor: ${path.join(dir, 'exp.yaml')}: plugins[0]: cannot load plugin './broken.mjs' (${path.join(dir, 'broken.mjs')}): syntax error at ${path.join(dir, 'broken.mjs')}:3:`);
  });

  it('a plugin whose register() throws: the plugin, its file and the line', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'exp.yaml'), config + 'plugins: [ ./boom.mjs ]\n');
    fs.writeFileSync(path.join(dir, 'boom.mjs'), 'export default {\n  name: "boomer",\n  register() {\n    throw new Error("boom in register");\n  },\n};\n');
    const r = run(dir, ['validate', 'exp.yaml']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`odemor: plugin 'boomer' (${path.join(dir, 'boom.mjs')}) failed in register(): boom in register (at ${path.join(dir, 'boom.mjs')}:4:11)\n`);
  });
});

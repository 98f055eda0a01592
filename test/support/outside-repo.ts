// Helpers shared by the tests that install odemor's packages into a folder outside the repo (test/pack,
// test/registry) and run npm, npx, vitest and the CLI there as a plugin author would.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo's root folder. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A finished child process: its exit code and output. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

/**
 * The environment without what `npm test` and vitest set for themselves (npm_config_*, npm_package_*,
 * VITEST_*, NODE_OPTIONS …), so the npm, npx and vitest started here behave as in a user's shell.
 * onnxruntime-node's install script is told to skip its CUDA download (plugins/runtime-onnx/README.md).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|VITE_)/i.test(k) || ['NODE_OPTIONS', 'INIT_CWD', 'NODE_ENV', 'TEST', 'NODE_PATH'].includes(k)) continue;
    env[k] = v;
  }
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  env.NO_COLOR = '1';
  return env;
}

/** Run `cmd args` in `cwd` with {@link cleanEnv} (plus `extraEnv`); never rejects, the exit code says how it went. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs = 180_000, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...cleanEnv(), ...extraEnv }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** A run's exit code and the tails of its output, for assertion messages. */
export const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.out.slice(-4000)}\n--- stderr\n${r.err.slice(-4000)}`;

export const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** The version of `name` installed in the monorepo (already in npm's cache after `npm ci`). */
export const repoVersion = (name: string): string => readJson<{ version: string }>(path.join(repoRoot, 'node_modules', name, 'package.json')).version;

/**
 * Write the package.json of a plugin author's project in `dir`: private, ESM, with the root's `allowScripts`
 * (so npm runs no install script the monorepo does not run either).
 */
export function writeAuthorPackage(dir: string, name = 'odemor-plugin-author'): void {
  const root = readJson<{ allowScripts?: Record<string, boolean> }>(path.join(repoRoot, 'package.json'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', allowScripts: root.allowScripts ?? {} }, null, 2) + '\n',
  );
}

/** Run the vitest installed in `app` on `app` (verbose reporter, so the suites' titles are in the output). */
export const runVitest = (app: string): Promise<Run> =>
  run(process.execPath, [path.join(app, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', app, '--reporter=verbose'], app);

/** Throw unless every folder in `dirs` (relative to the repo root) has been built (dist/index.js). */
export function requireBuilt(dirs: string[]): void {
  for (const d of dirs) {
    if (!fs.existsSync(path.join(repoRoot, d, 'dist', 'index.js'))) throw new Error(`${d}/dist is missing: build first (npx tsc -b)`);
  }
}

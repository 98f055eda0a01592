// The registry round trip: every public package published with lerna to a throwaway npm registry (verdaccio,
// in this process), installed from it alone into a folder outside the repo, where a plugin author writes a
// reducer plugin, runs the conformance kit on it, publishes it to the same registry, installs it by name and
// runs an experiment with it.
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runServer } from 'verdaccio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, repoRoot, repoVersion, requireBuilt, run, runVitest, show, writeAuthorPackage, type Run } from '../../support/outside-repo.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}

/** The packages lerna publishes: its `packages` globs (lerna.json), less the private ones; folder → manifest. */
function publicPackages(): Map<string, Manifest> {
  const globs = readJson<{ packages: string[] }>(path.join(repoRoot, 'lerna.json')).packages;
  const out = new Map<string, Manifest>();
  for (const g of globs) {
    const dirs = g.endsWith('/*') ? fs.readdirSync(path.join(repoRoot, g.slice(0, -2))).map((d) => `${g.slice(0, -2)}/${d}`) : [g];
    for (const d of dirs.sort()) {
      const pj = path.join(repoRoot, d, 'package.json');
      if (!fs.existsSync(pj)) continue;
      const m = readJson<Manifest>(pj);
      if (!m.private) out.set(d, m);
    }
  }
  return out;
}

const PACKAGES = publicPackages();
const versionOf = (name: string) => [...PACKAGES.values()].find((m) => m.name === name)!.version;

/** What the plugin author installs from the registry: the kit, the ONNX runtime, two reducers and what the experiment uses. */
const INSTALL = [
  '@odemor/core',
  '@odemor/conformance',
  '@odemor/runtime-onnx',
  '@odemor/runtime-tfjs',
  '@odemor/reducer-deim',
  '@odemor/reducer-qdeim',
  '@odemor/solver-rk4',
  '@odemor/dataset-synthetic',
  '@odemor/evaluator-classification',
  '@odemor/snapshotter-stream',
];

/** The verdaccio config: odemor's names are local only (published here, never proxied); everything else comes from npmjs. */
const verdaccioConfig = (dir: string) => `storage: ${JSON.stringify(path.join(dir, 'storage'))}
auth:
  htpasswd:
    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}
    max_users: 1
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
    maxage: 60m
packages:
  '@odemor/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  'odemor-*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: nobody
    proxy: npmjs
web:
  enable: false
middlewares:
  audit:
    enabled: false
log: { type: stdout, format: pretty, level: fatal }
`;

/** A reducer plugin as a third party writes it: plain JS against the installed @odemor/core. */
const PLUGIN_SOURCE = `// odemor-reducer-leverage: POD + interpolation at the rows of the nonlinear basis with the largest leverage
import { InterpolationReducer, interpolationReducerOptionsSchema } from '@odemor/core';

/**
 * \`count\` rows of U by decreasing leverage ‖U[i, :]‖² (ties: the lower index), skipping a row that lies in
 * the span of the rows already taken, so PᵀU is never singular while U has full column rank.
 */
export function leveragePoints(U, count) {
  const rows = Array.from({ length: U.rows }, (_, i) => U.getRow(i));
  const dot = (a, b) => a.reduce((s, x, j) => s + x * b[j], 0);
  const order = rows.map((r, i) => [dot(r, r), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
  const picked = [];
  const basis = []; // orthonormal basis of the rows picked
  for (const i of order) {
    if (picked.length === count) break;
    let r = rows[i];
    for (const q of basis) {
      const d = dot(r, q);
      r = r.map((x, j) => x - d * q[j]);
    }
    const norm = Math.sqrt(dot(r, r));
    if (!(norm > 1e-8 * Math.sqrt(dot(rows[i], rows[i])))) continue;
    basis.push(r.map((x) => x / norm));
    picked.push(i);
  }
  return picked.sort((a, b) => a - b);
}

export class LeverageReducer extends InterpolationReducer {
  constructor(options = {}) {
    super('leverage', (U, count) => leveragePoints(U, count), options);
  }
}

export default {
  name: 'odemor-reducer-leverage',
  register(ctx) {
    ctx.provide('Reducer', 'leverage', (options) => new LeverageReducer(options ?? {}), {
      description: 'POD + interpolation at the rows of largest leverage',
      options: interpolationReducerOptionsSchema({ oversample: false }),
    });
  },
};
`;

const PLUGIN_MANIFEST = {
  name: 'odemor-reducer-leverage',
  version: '1.0.0',
  description: 'POD + interpolation at the rows of largest leverage (an odemor reducer plugin)',
  type: 'module',
  license: 'MIT',
  exports: './index.js',
  files: ['index.js'],
  keywords: ['odemor', 'odemor-plugin'],
  odemor: { provides: { Reducer: ['leverage'] } },
  peerDependencies: { '@odemor/core': '^0.1.0' },
};

const EXPERIMENT = `name: registry
seed: 1
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: rk4, dt: 0.25 } }
train: { epochs: 0 }
reducers:
  - { use: deim, dims: [2, 4] }
  - { use: qdeim, dims: [4] }
  - { use: leverage, dims: [2, 4] }
evaluate: { repeats: 1, topk: [1] }
`;

/** GET a path of the registry as JSON (status and body). */
async function registryGet(registry: string, name: string): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(name.replace('/', '%2f'), registry));
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
}

describe('published with lerna to a local registry, installed from it alone', () => {
  let tmp: string | undefined;
  let server: Server | undefined;
  let registry: string;
  let stage: string;
  let app: string;
  let publish: Run;
  let install: Run;

  beforeAll(async () => {
    requireBuilt([...PACKAGES.keys()]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-registry-'));
    const verdaccio = path.join(tmp, 'verdaccio');
    stage = path.join(tmp, 'stage');
    app = path.join(tmp, 'app');
    fs.mkdirSync(verdaccio);
    fs.writeFileSync(path.join(verdaccio, 'config.yaml'), verdaccioConfig(verdaccio));

    // the registry, in this process, on a free loopback port
    server = (await runServer(path.join(verdaccio, 'config.yaml'))) as Server;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', () => resolve());
    });
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    // a user for this test (npm adduser's request); its token publishes
    const user = await fetch(new URL('-/user/org.couchdb.user:odemor-test', registry), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'odemor-test', password: `pw-${process.pid}-${Date.now()}`, type: 'user', roles: [], date: new Date().toISOString() }),
    });
    const { token } = (await user.json()) as { token?: string };
    if (user.status !== 201 || !token) throw new Error(`verdaccio did not create the test user (HTTP ${user.status})`);
    const npmrc = `registry=${registry}\n${registry.replace(/^http:/, '')}:_authToken=${token}\naudit=false\nfund=false\nomit-lockfile-registry-resolved=false\n`;

    // lerna publishes from a throwaway git copy of the packages (its git reset and gitHead never touch the repo)
    fs.mkdirSync(stage);
    fs.copyFileSync(path.join(repoRoot, 'lerna.json'), path.join(stage, 'lerna.json'));
    const globs = readJson<{ packages: string[] }>(path.join(repoRoot, 'lerna.json')).packages;
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ name: 'odemor-monorepo', private: true, workspaces: globs }, null, 2) + '\n');
    fs.writeFileSync(path.join(stage, '.npmrc'), npmrc);
    fs.writeFileSync(path.join(stage, '.gitignore'), 'node_modules\n.nx\n');
    for (const d of PACKAGES.keys()) {
      fs.cpSync(path.join(repoRoot, d), path.join(stage, d), { recursive: true, filter: (src) => path.basename(src) !== 'node_modules' });
    }
    const git = (...args: string[]) => run('git', ['-c', 'user.name=odemor test', '-c', 'user.email=test@odemor.invalid', '-c', 'commit.gpgsign=false', ...args], stage, 60_000);
    for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'stage']]) {
      const r = await git(...args);
      if (r.code !== 0) throw new Error(`git ${args[0]} in the stage failed\n${show(r)}`);
    }
    // --no-sort: lerna 8's topological order gives up on the packages' dev-dependency cycles (conformance ↔
    // runtime-tfjs ↔ dataset-dynamics ↔ solver-dopri5: "Not all tasks were run"); a registry needs no order
    publish = await run(
      process.execPath,
      [path.join(repoRoot, 'node_modules', 'lerna', 'dist', 'cli.js'), 'publish', 'from-package', '--yes', '--no-sort', '--registry', registry, '--loglevel', 'warn'],
      stage,
      120_000,
      { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_WORKSPACE_ROOT_PATH: stage, CI: 'true' },
    );
    if (publish.code !== 0) throw new Error(`lerna publish failed\n${show(publish)}`);

    // the plugin author's folder: the registry alone, npm's cache for third-party tarballs
    fs.mkdirSync(path.join(app, 'my-reducer', 'test'), { recursive: true });
    writeAuthorPackage(app);
    fs.writeFileSync(path.join(app, '.npmrc'), npmrc);
    install = await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...INSTALL.map((n) => `${n}@${versionOf(n)}`),
        `vitest@${repoVersion('vitest')}`,
        `@tensorflow/tfjs-core@${repoVersion('@tensorflow/tfjs-core')}`,
      ],
      app,
    );
    if (install.code !== 0) throw new Error(`npm install from the registry failed\n${show(install)}`);
  });

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    }
    if (tmp && !process.env.ODEMOR_KEEP_REGISTRY) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lerna publishes every public package at its version, and makes no git tag or commit', async () => {
    expect(PACKAGES.size).toBeGreaterThanOrEqual(20);
    for (const m of PACKAGES.values()) {
      const r = await registryGet(registry, m.name);
      expect(r.status, `${m.name}: ${String(r.body).slice(0, 200)}`).toBe(200);
      expect(r.body['dist-tags'].latest, m.name).toBe(m.version);
      expect(publish.out).toContain(` - ${m.name}@${m.version}`);
    }
    const tags = await run('git', ['tag', '--list'], stage);
    const commits = await run('git', ['rev-list', '--count', 'HEAD'], stage);
    const status = await run('git', ['status', '--porcelain'], stage);
    expect([tags.out, commits.out.trim(), status.out]).toEqual(['', '1', '']);
    // a name the registry does not have stays unknown: nothing of odemor's is proxied
    expect((await registryGet(registry, '@odemor/no-such-package')).status).toBe(404);
  });

  it('installs everything from the registry alone, without npm warnings', () => {
    expect(install.err).not.toMatch(/npm warn/i);
    const lock = readJson<{ packages: Record<string, { resolved?: string; link?: boolean }> }>(path.join(app, 'package-lock.json'));
    const entries = Object.entries(lock.packages).filter(([k]) => k !== '');
    expect(entries.length).toBeGreaterThan(INSTALL.length);
    expect(entries.filter(([, p]) => !p.resolved?.startsWith(registry)).map(([k, p]) => `${k}: ${p.resolved ?? '(no resolved)'}`)).toEqual([]);
    for (const n of INSTALL) expect(readJson<Manifest>(path.join(app, 'node_modules', n, 'package.json')).version).toBe(versionOf(n));
  });

  it('a third-party reducer plugin written against the installed @odemor/core passes the conformance kit', async () => {
    fs.writeFileSync(path.join(app, 'my-reducer', 'package.json'), JSON.stringify(PLUGIN_MANIFEST, null, 2) + '\n');
    fs.writeFileSync(path.join(app, 'my-reducer', 'index.js'), PLUGIN_SOURCE);
    fs.writeFileSync(
      path.join(app, 'my-reducer', 'test', 'conformance.test.js'),
      `import { it } from 'vitest';\nimport { reducerConformance } from '@odemor/conformance';\nimport { LeverageReducer } from '../index.js';\n\nreducerConformance(it, () => new LeverageReducer());\n`,
    );
    const r = await runVitest(app);
    expect(r.code, show(r)).toBe(0);
    expect(r.out).toMatch(/reducer 'leverage' conformance/);
    const [, passed, total] = /Tests +(\d+) passed \((\d+)\)/.exec(r.out) ?? [];
    expect(Number(passed), 'every test of the kit ran and passed').toBeGreaterThanOrEqual(20);
    expect(passed).toBe(total);
  });

  it('the plugin, published to the registry and installed by name, runs in an experiment next to deim and qdeim', async () => {
    const pub = await run('npm', ['publish', './my-reducer', '--loglevel=error'], app, 60_000);
    expect(pub.code, show(pub)).toBe(0);
    expect((await registryGet(registry, PLUGIN_MANIFEST.name)).body['dist-tags']?.latest).toBe(PLUGIN_MANIFEST.version);
    const add = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `${PLUGIN_MANIFEST.name}@${PLUGIN_MANIFEST.version}`], app);
    expect(add.code, show(add)).toBe(0);
    const installed = path.join(app, 'node_modules', PLUGIN_MANIFEST.name);
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false); // a copy from the registry's tarball, not a link to my-reducer/
    expect(fs.readFileSync(path.join(installed, 'index.js'), 'utf8')).toBe(PLUGIN_SOURCE);

    const list = await run('npx', ['odemor', 'plugins'], app);
    expect(list.code, show(list)).toBe(0);
    expect(list.out).toContain(`${PLUGIN_MANIFEST.name}@${PLUGIN_MANIFEST.version}\n`);

    fs.writeFileSync(path.join(app, 'experiment.yaml'), EXPERIMENT);
    const r = await run('npx', ['odemor', 'run', 'experiment.yaml', '--out', 'out', '--quiet'], app);
    expect(r.code, show(r)).toBe(0);
    expect(r.err).not.toMatch(/npm warn/i);
    expect(r.out).toMatch(/^results written to out\/ \(results\.json, results\.md\)$/m);
    const res = readJson<{ rows: { method: string; dim: number; runtime: string; accuracy?: unknown }[] }>(path.join(app, 'out', 'results.json'));
    expect(res.rows.map((row) => `${row.method}@${row.dim}`)).toEqual(['original@6', 'deim@2', 'deim@4', 'qdeim@4', 'leverage@2', 'leverage@4']);
    expect(res.rows.every((row) => row.runtime === 'onnx')).toBe(true);
  });
});

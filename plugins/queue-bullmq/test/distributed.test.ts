/**
 * A distributed sweep end to end: a Redis server of its own (`redis-server` on a free loopback port, nothing
 * saved), the coordinator (`odemor run --queue`) and two workers (`odemor worker`) as child processes running the
 * CLI; one worker is killed (SIGKILL) while it holds a job, which the other takes over once BullMQ's stalled check
 * finds it. The merged results must equal an in-process run's (accuracies; timings aside), every row must name
 * its host, and the sharded snapshot pass's Gram matrices must equal one pass's to float64 rounding.
 *
 * Needs `redis-server` on the PATH (.ci/run installs it); without it the test is skipped, saying so, except under CI
 * (CI=true), where it fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment, type ExperimentResults } from '@odemor/core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const cliBin = path.join(repoRoot, 'core', 'bin', 'odemor.js');
const probe = path.join(here, 'fixtures', 'gram-probe.js');
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
// skipped without redis-server on a developer's machine, but never under CI (CI=true), where .ci/run installs it
const skip = !haveRedis && !process.env.CI;
if (skip) console.warn('distributed.test.ts: redis-server is not installed; the distributed sweep test is skipped (apt-get install redis-server)');

const config = (gramOut: string) => `name: queued
seed: 5
dataset: { use: spirals, classes: 3, train: 240, test: 90 }
model: { use: dense-node, hidden: 8, solver: { use: euler, dt: 0.5 } }
train: { epochs: 2, batch: 60 }
snapshots: { use: ${probe}, every: 1, batch: 40, out: ${gramOut} }
reducers:
  - { use: deim, dims: [2, 4] }
  - { use: svd, dims: [3, 6] }
finetune: { epochs: 1, dims: [4, 6] }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
output: { saveModels: true }
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolve once `child`'s output (as collected in `log()`) matches `re`; reject if it exits first or after `ms`. */
function waitFor(child: ChildProcess, log: () => string, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const m = log().match(re);
      if (m) {
        clearInterval(poll);
        resolve(m);
      } else if (child.exitCode !== null || child.signalCode !== null || Date.now() - t0 > ms) {
        clearInterval(poll);
        reject(new Error(`no ${re} in the output (exit ${child.exitCode ?? child.signalCode}):\n${log()}`));
      }
    }, 50);
  });
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  let out = '';
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, log: () => out };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe.skipIf(skip)('odemor run --queue with odemor workers (BullMQ on a local redis-server)', () => {
  let redis: ChildProcess;
  let url = '';
  const children: ChildProcess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-queue-'));

  beforeAll(async () => {
    if (!haveRedis) throw new Error('redis-server is not on the PATH (CI needs it: apt-get install redis-server)');
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    let out = '';
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    redis.stdout!.on('data', (d) => (out += d));
    await waitFor(redis, () => out, /Ready to accept connections/, 20_000);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    redis?.kill('SIGTERM');
    if (redis) await exited(redis);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('merges a sweep run by two workers, one killed mid-job, into the results of an in-process run', async () => {
    // in-process, the reference
    const localCfg = path.join(dir, 'local.yaml');
    fs.writeFileSync(localCfg, config(path.join(dir, 'gram-local.json')));
    const local = await runExperiment(localCfg, { outDir: path.join(dir, 'local'), log: () => undefined });

    const queuedCfg = path.join(dir, 'queued.yaml');
    fs.writeFileSync(queuedCfg, config(path.join(dir, 'gram-queued.json')));
    // worker A sleeps on every job it takes (the test hook) with a short lock: killed while it holds its first job
    const a = start(['worker', '--queue', url, '--lock-duration', '2000', '--stalled-interval', '1000'], { ODEMOR_WORKER_TEST_DELAY_MS: '600000' });
    children.push(a.child);
    await waitFor(a.child, a.log, /waiting for jobs/, 30_000);
    const coordinator = start(['run', queuedCfg, '--out', path.join(dir, 'queued'), '--queue', url, '--shards', '3', '--quiet']);
    children.push(coordinator.child);
    const took = await waitFor(a.child, a.log, /took (.+) \(job (\S+), attempt 1\)/, 60_000);
    a.child.kill('SIGKILL');
    await exited(a.child);
    // worker B: a lock long enough for busy machines; its stalled check finds A's job once A's lock expired
    const b = start(['worker', '--queue', url, '--lock-duration', '15000', '--stalled-interval', '1000']);
    children.push(b.child);
    const code = await exited(coordinator.child);
    expect(code, coordinator.log()).toBe(0);
    // B took over the job A held
    expect(b.log()).toContain(`took ${took[1]} (job ${took[2]}`);
    b.child.kill('SIGTERM');
    await exited(b.child);

    const queued = JSON.parse(fs.readFileSync(path.join(dir, 'queued', 'results.json'), 'utf8')) as ExperimentResults;
    const key = (r: ExperimentResults) => r.rows.map((row) => `${row.method}@${row.dim}:${row.stage} top1=${row.top1} params=${row.params}`);
    expect(queued.status).toBe('complete');
    expect(key(queued)).toEqual(key(local.results));
    expect(queued.rows.length).toBe(1 + 4 + 2); // the original, 2 methods × 2 dims, 2 fine-tuned
    const host = os.hostname();
    for (const row of queued.rows) expect(row.host, `${row.method}@${row.dim}`).toBe(host);
    expect(queued.distributed).toMatchObject({ shards: 3, coordinator: host, hosts: [host] });
    expect(queued.failures).toBeUndefined();
    // speedups are paired on the worker: each reduced row has the original's times beside it
    for (const row of queued.rows.filter((r) => r.stage !== 'original')) expect(row.baselineSeconds).toBeGreaterThan(0);

    // output.saveModels: the workers' reduced models are saved by the coordinator, as in-process
    const models = (d: string) => fs.readdirSync(path.join(d, 'models')).sort();
    expect(models(path.join(dir, 'queued'))).toEqual(models(path.join(dir, 'local')));
    expect(models(path.join(dir, 'queued'))).toEqual(['deim-2.odemor', 'deim-4.odemor', 'svd-3.odemor', 'svd-6.odemor']);

    // the sharded pass's summed Gram matrices equal one pass's to float64 rounding
    const g1 = JSON.parse(fs.readFileSync(path.join(dir, 'gram-local.json'), 'utf8')) as { stateGram: number[]; nonlinearGram: number[]; snapshots: number };
    const g2 = JSON.parse(fs.readFileSync(path.join(dir, 'gram-queued.json'), 'utf8')) as typeof g1;
    expect(g2.snapshots).toBe(g1.snapshots);
    for (const k of ['stateGram', 'nonlinearGram'] as const) {
      expect(g2[k].length).toBe(64);
      const norm = Math.hypot(...g1[k]);
      const diff = Math.hypot(...g1[k].map((v, i) => v - g2[k][i]!));
      expect(norm).toBeGreaterThan(0);
      expect(diff / norm, k).toBeLessThan(1e-12);
    }
    // singular values of both passes agree as well
    const sv = (r: ExperimentResults) => r.snapshots!.stateSingularValues;
    sv(queued).forEach((s, i) => expect(s).toBeCloseTo(sv(local.results)[i]!, 9));
  }, 150_000);
});

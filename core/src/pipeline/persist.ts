/**
 * One run per results folder, and nothing lost (docs/architecture.md#persistence):
 * - a lock file `<out>/.odemor.lock` (pid, host, start) refuses a second run into the same folder; a lock
 *   whose process is gone (same host) is stale and taken over;
 * - a run writes into the staging folder `<out>/.odemor-run/`: the trained model, each saved model, and after
 *   every finished row a partial results.json (`status: 'partial'`) and results.md; the snapshot set once;
 * - at the end the staging folder's files replace the previous run's (whose files results.json lists), so
 *   the results folder always describes exactly one run;
 * - `--resume` continues from the staging folder of a killed or failed run with the same config.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Matrix } from 'ml-matrix';
import { OdemorError } from '../errors.js';
import type { SnapshotSet } from '../extension-points.js';
import type { ExperimentResults } from '../hooks.js';
import { writeFileAtomic } from '../util/index.js';

/** The staging folder of a results folder. */
export const STAGING_DIR = '.odemor-run';
/** The lock file of a results folder. */
export const LOCK_FILE = '.odemor.lock';
const SNAPSHOTS_FILE = 'snapshots.bin';

export interface RunLock {
  readonly file: string;
  release(): void;
}

const held = new Set<RunLock>();

/** Release every lock this process holds (the CLI calls it when a signal stops the run). */
export function releaseAllLocks(): void {
  for (const l of [...held]) l.release();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock of `outDir` (creating the folder), or refuse with an IO error naming the process that holds
 * it. A lock left by a process of this host that no longer runs is stale: it is taken over, saying so.
 */
export function acquireLock(outDir: string, log: (line: string) => void): RunLock {
  try {
    fs.mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new OdemorError('IO', `cannot create the results folder ${outDir}: ${(e as Error).message}`, { cause: e });
  }
  if (!fs.statSync(outDir).isDirectory()) throw new OdemorError('IO', `the results folder ${outDir} is not a folder`);
  const file = path.join(outDir, LOCK_FILE);
  const me = JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      const lock: RunLock = {
        file,
        release() {
          held.delete(lock);
          try {
            if (fs.readFileSync(file, 'utf8') === me) fs.rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        },
      };
      held.add(lock);
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new OdemorError('IO', `cannot write the lock file ${file}: ${(e as Error).message}`, { cause: e });
    }
    let owner: { pid?: number; host?: string; startedAt?: string } = {};
    try {
      owner = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      /* unreadable (a run killed while writing it): no live owner can be named, so it is stale */
    }
    const sameHost = owner.host === os.hostname();
    if (sameHost && typeof owner.pid === 'number' && alive(owner.pid)) {
      throw new OdemorError(
        'IO',
        `the results folder ${outDir} is in use by another odemor run (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}); wait for it or choose another --out`,
      );
    }
    if (!sameHost && owner.host) {
      throw new OdemorError('IO', `the results folder ${outDir} is locked by a run on host ${owner.host} (pid ${owner.pid}, since ${owner.startedAt}); if that run is gone, delete ${file}`);
    }
    log(`odemor: taking over the stale lock of ${outDir} (pid ${owner.pid ?? '?'} is gone)`);
    fs.rmSync(file, { force: true });
  }
  throw new OdemorError('IO', `cannot take the lock ${file}`);
}

/** A stable fingerprint of a validated config: a resumed run must have the same. */
export function configFingerprint(config: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** The partial results of the staging folder, when there are any. */
export function readPartial(workDir: string): ExperimentResults | undefined {
  const file = path.join(workDir, 'results.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as ExperimentResults;
    return r.format === 'odemor-results' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Save a snapshot set (bases and statistics) in the staging folder ({@link encodeSnapshots}). */
export async function saveSnapshots(workDir: string, s: SnapshotSet): Promise<void> {
  await writeFileAtomic(path.join(workDir, SNAPSHOTS_FILE), encodeSnapshots(s));
}

/** A snapshot set (bases and statistics) as bytes: an 8-byte header length, JSON, then float64 data. */
export function encodeSnapshots(s: SnapshotSet): Uint8Array {
  const parts: Float64Array[] = [];
  const put = (a: ArrayLike<number>) => {
    const f = Float64Array.from(a);
    parts.push(f);
    return f.length;
  };
  const header = {
    n: s.n,
    snapshots: s.snapshots,
    samples: s.samples,
    stateBasis: [s.stateBasis.rows, s.stateBasis.columns, put(s.stateBasis.to1DArray())],
    nonlinearBasis: [s.nonlinearBasis.rows, s.nonlinearBasis.columns, put(s.nonlinearBasis.to1DArray())],
    stateSingularValues: put(s.stateSingularValues),
    nonlinearSingularValues: put(s.nonlinearSingularValues),
    meanAbs: put(s.final.meanAbs),
    zeroFraction: put(s.final.zeroFraction),
    ...(s.nonlinearDim !== undefined ? { nonlinearDim: s.nonlinearDim } : {}),
    ...(s.hidden ? { hiddenMeanAbs: put(s.hidden.meanAbs), hiddenZeroFraction: put(s.hidden.zeroFraction) } : {}),
  };
  const json = Buffer.from(JSON.stringify(header));
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(8 + json.length + pad + total * 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length + pad), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + json.length + pad);
  let off = 8 + json.length + pad;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return out;
}

/** The snapshot set saved by {@link saveSnapshots}, or undefined when there is none (or it is unreadable). */
export function loadSnapshots(workDir: string): SnapshotSet | undefined {
  const file = path.join(workDir, SNAPSHOTS_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return decodeSnapshots(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

/**
 * The snapshot set of {@link encodeSnapshots}' bytes.
 * @throws on malformed bytes (a JSON or range error)
 */
export function decodeSnapshots(bytes: Uint8Array): SnapshotSet {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  const data = new Float64Array(buf.buffer.slice(buf.byteOffset + 8 + len, buf.byteOffset + buf.byteLength));
  let off = 0;
  const take = (count: number) => data.subarray(off, (off += count));
  const matrix = ([rows, cols, count]: [number, number, number]) => {
    const d = take(count);
    return new Matrix(Array.from({ length: rows }, (_, i) => Array.from(d.subarray(i * cols, (i + 1) * cols))));
  };
  const stateBasis = matrix(h.stateBasis);
  const nonlinearBasis = matrix(h.nonlinearBasis);
  return {
    n: h.n,
    snapshots: h.snapshots,
    samples: h.samples,
    stateBasis,
    nonlinearBasis,
    stateSingularValues: [...take(h.stateSingularValues)],
    nonlinearSingularValues: [...take(h.nonlinearSingularValues)],
    final: { meanAbs: Float64Array.from(take(h.meanAbs)), zeroFraction: Float64Array.from(take(h.zeroFraction)) },
    ...(h.nonlinearDim !== undefined ? { nonlinearDim: h.nonlinearDim as number } : {}),
    ...(h.hiddenMeanAbs !== undefined
      ? { hidden: { meanAbs: Float64Array.from(take(h.hiddenMeanAbs)), zeroFraction: Float64Array.from(take(h.hiddenZeroFraction)) } }
      : {}),
  };
}

/**
 * Replace the previous run's files in `outDir` by the staging folder's: the previous run's files that this run
 * did not write are removed, then every file the staging folder holds is renamed into place, file by file,
 * results.json last (each rename is atomic; the commit as a whole is not), and the staging folder goes.
 * Returns the final paths of the files moved.
 */
export function commitRun(workDir: string, outDir: string, previousFiles: readonly string[]): string[] {
  const moved: string[] = [];
  const mine = new Set<string>();
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (e.isFile() && r !== SNAPSHOTS_FILE && !e.name.startsWith('.')) mine.add(r);
    }
  };
  walk(workDir, '');
  for (const r of previousFiles) {
    if (mine.has(r) || path.isAbsolute(r) || r.split(/[\\/]/).includes('..')) continue;
    fs.rmSync(path.join(outDir, r), { force: true });
  }
  // results.json last: until it moves, the folder's results.json still names the previous run's files
  const order = [...mine].sort((a, b) => Number(a === 'results.json') - Number(b === 'results.json'));
  for (const r of order) {
    const to = path.join(outDir, r);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.renameSync(path.join(workDir, r), to);
    moved.push(to);
  }
  fs.rmSync(workDir, { recursive: true, force: true });
  return moved;
}

/** The files (relative to its folder) the results.json in `outDir` says its run wrote. */
export function previousRunFiles(outDir: string): string[] {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8')) as ExperimentResults;
    // results of older versions do not list their files: the well-known ones
    return Array.isArray(r.files) ? r.files : ['results.json', 'results.md', 'model.odemor', 'report.html'];
  } catch {
    return [];
  }
}

/**
 * Distributed sweeps (docs/architecture.md#scale-out): with `RunOptions.queue` the snapshot pass runs in shards
 * and every (method, dim) point of the sweep — reduce, fine-tune, evaluate — runs as one job on a job queue,
 * processed by `odemor worker`s; everything else (training, the originals, the report) stays on the coordinator,
 * which merges what the workers return into its one results.json (written atomically after every job, as
 * in-process).
 *
 * What travels through the queue's store (Redis with @odemor/queue-bullmq), per run: `context` (the validated
 * config, its file and folder), `model` (the trained model), `shard-<i>` (each shard's snapshot sums),
 * `snapshots` (the merged snapshot set). A worker needs the same plugins installed and the config's own files
 * (path plugins, dataset files) at the same absolute path as the coordinator.
 *
 * Timing stays paired on one host: each worker evaluates the original itself once per run (its baseline and the
 * reference executable every later model is timed beside), so a row's speedup is against the original on the
 * host that timed the row (`row.host`).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Experiment, type OdemorPlugin } from '../container.js';
import { OdemorError } from '../errors.js';
import type { ReduceDims, ReducerAnalysis, SnapshotPartial, Snapshotter, SnapshotSet } from '../extension-points.js';
import type { ResultRow, RowFailure } from '../hooks.js';
import { decodeModel, encodeModel } from '../ir/io.js';
import { validateModel } from '../ir/validate.js';
import { validateConfigObject, type LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { ModelIR } from '../ir/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { coreModelsPlugin } from '../model/plugin.js';
import { progress, publishRow, resumedRow } from './evaluate.js';
import { configFingerprint, decodeSnapshots, encodeSnapshots, loadSnapshots, saveSnapshots } from './persist.js';
import { prepare } from './run.js';
import type { ExperimentState, Stage } from './state.js';
import { finetuneJobs, jobApplies } from './stages/finetune.js';
import { originalsStage } from './stages/originals.js';
import { expandDims, reducibleSize, sweepPoint, type PointRows } from './stages/reduce.js';
import { persistPartial } from './stages/report.js';
import { setupStage } from './stages/setup.js';
import { beginSnapshots, needsSnapshots, snapshotBatches, snapshotPass } from './stages/snapshots.js';

/** Shards of the snapshot pass when `RunOptions.shards` is not given (at most one per batch). */
export const DEFAULT_SHARDS = 4;

/** Where a queue keeps a run's artifacts (bytes by name), for the coordinator and the workers. */
export interface ArtifactStore {
  putArtifact(run: string, name: string, bytes: Uint8Array): Promise<void>;
  /** @throws OdemorError `IO` when the run has no artifact of that name (expired, or the run was cleared) */
  getArtifact(run: string, name: string): Promise<Uint8Array>;
}

/** One job the coordinator puts on the queue. */
export interface QueueJobSpec {
  kind: 'snapshot-shard' | 'sweep';
  /** for logs and messages: 'shard 2/4', 'deim@4' */
  label: string;
  /** JSON-able */
  data: Record<string, unknown>;
}

/** How a job ended, after the queue's retries: the worker's return value, or the last error. */
export type JobOutcome = { ok: true; value: unknown } | { ok: false; error: string };

/** A job as a worker receives it. */
export interface QueueJob extends QueueJobSpec {
  run: string;
}

/** The coordinator's side of a job queue (implemented by @odemor/queue-bullmq's `openSweepQueue`). */
export interface SweepQueue extends ArtifactStore {
  /** where the queue is, for messages and results.json (no password) */
  readonly url: string;
  /**
   * Put `jobs` of `run` on the queue and wait until every one has settled (completed, or failed after its
   * retries), calling `onSettled` as each does (in the order they settle).
   */
  runJobs(run: string, jobs: readonly QueueJobSpec[], onSettled: (index: number, outcome: JobOutcome) => void | Promise<void>): Promise<void>;
  /** Remove the run's artifacts. */
  clearRun(run: string): Promise<void>;
  close(): Promise<void>;
}

/** What a sweep job returns: the rows and failures of its point, the reducer's analysis and the points it marked. */
interface SweepResult {
  host: string;
  rows: ResultRow[];
  failures: RowFailure[];
  analysis: ReducerAnalysis;
  marked?: number[];
  /** the worker's timing warnings raised by this job (the original's time drifting on that host) */
  timingWarnings: string[];
  /** `output.saveModels`: the artifact holding the reduced model (`encodeModel`), for the coordinator to save */
  savedModel?: string;
}

/** What a snapshot-shard job returns: the artifact holding its partial. */
interface ShardResult {
  host: string;
  artifact: string;
  batches: number;
}

/** The run's `context` artifact: what a worker rebuilds the experiment from. */
interface RunContext {
  format: 'odemor-queue-run';
  version: 1;
  file: string;
  baseDir: string;
  config: ExperimentConfig;
  fingerprint: string;
  coordinator: string;
}

// ───────────────────────────── encoding ─────────────────────────────

/** A snapshot partial as bytes: an 8-byte header length, JSON (snapshotter, meta, array names, types, lengths), then the arrays, 8-byte aligned. */
export function encodeSnapshotPartial(p: SnapshotPartial): Uint8Array {
  const arrays = Object.entries(p.arrays).map(([name, a]) => ({ name, type: a instanceof Float64Array ? 'f64' : 'f32', length: a.length, a }));
  const header = Buffer.from(JSON.stringify({ snapshotter: p.snapshotter, meta: p.meta, arrays: arrays.map(({ name, type, length }) => ({ name, type, length })) }));
  const pad8 = (v: number) => (8 - (v % 8)) % 8;
  const head = 8 + header.length + pad8(8 + header.length);
  const total = arrays.reduce((acc, x) => acc + x.a.byteLength + pad8(x.a.byteLength), head);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setBigUint64(0, BigInt(head - 8), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, head);
  let off = head;
  for (const x of arrays) {
    out.set(new Uint8Array(x.a.buffer, x.a.byteOffset, x.a.byteLength), off);
    off += x.a.byteLength + pad8(x.a.byteLength);
  }
  return out;
}

/** The snapshot partial of {@link encodeSnapshotPartial}'s bytes. @throws OdemorError `DATA` for malformed bytes */
export function decodeSnapshotPartial(bytes: Uint8Array, what = 'snapshot shard'): SnapshotPartial {
  const bad = (why: string) => new OdemorError('DATA', `${what}: malformed snapshot partial (${why})`);
  if (bytes.byteLength < 8) throw bad('too short');
  const copy = new Uint8Array(bytes); // aligned
  const len = Number(new DataView(copy.buffer).getBigUint64(0, true));
  if (8 + len > copy.byteLength) throw bad('header past the end');
  let h: { snapshotter: string; meta: SnapshotPartial['meta']; arrays: { name: string; type: string; length: number }[] };
  try {
    h = JSON.parse(Buffer.from(copy.buffer, 8, len).toString('utf8'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  const arrays: SnapshotPartial['arrays'] = {};
  let off = 8 + len;
  for (const a of h.arrays) {
    const size = a.type === 'f64' ? 8 : 4;
    if (off + a.length * size > copy.byteLength) throw bad(`array ${a.name} past the end`);
    arrays[a.name] = a.type === 'f64' ? new Float64Array(copy.buffer, off, a.length) : new Float32Array(copy.buffer, off, a.length);
    const bytesLen = a.length * size;
    off += bytesLen + ((8 - (bytesLen % 8)) % 8);
  }
  return { snapshotter: h.snapshotter, meta: h.meta, arrays };
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const parseJson = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

// ───────────────────────────── coordinator ─────────────────────────────

/** The run id of a distributed experiment, set when its context is first uploaded. */
const runs = new WeakMap<ExperimentState, string>();

/**
 * The config a worker rebuilds the experiment from: the validated config with the merged solver written out,
 * `train` after its defaults (false: nothing trains) and no checkpoint (the worker gets the model itself).
 */
function workerConfig(state: ExperimentState): ExperimentConfig {
  const { checkpoint: _c, ...model } = state.config.model;
  return { ...state.config, model: { ...model, solver: { ...state.solverConfig } } as ExperimentConfig['model'], train: state.train };
}

/** Upload the run's context and model once (the first distributed stage), returning the run id. */
async function ensureRun(state: ExperimentState, queue: SweepQueue): Promise<string> {
  let run = runs.get(state);
  if (run) return run;
  run = `${state.fingerprint}-${crypto.randomBytes(4).toString('hex')}`;
  const config = workerConfig(state);
  const context: RunContext = {
    format: 'odemor-queue-run',
    version: 1,
    file: state.loaded.file,
    baseDir: state.loaded.baseDir,
    config,
    // of the config as a worker validates it (validation orders the keys)
    fingerprint: configFingerprint(validateConfigObject(config, state.loaded.file).config),
    coordinator: os.hostname(),
  };
  await queue.putArtifact(run, 'context', json(context));
  await queue.putArtifact(run, 'model', encodeModel(state.model));
  runs.set(state, run);
  state.distributed = { queue: queue.url, coordinator: os.hostname(), hosts: [] };
  state.log(`odemor: distributed run ${run} on ${queue.url}: start workers with 'odemor worker --queue ${queue.url}'`);
  return run;
}

function noteHost(state: ExperimentState, host: string): void {
  const d = state.distributed!;
  if (!d.hosts.includes(host)) d.hosts.push(host);
}

/** `count` batches in `shards` contiguous ranges of near-equal size. */
export function shardRanges(count: number, shards: number): { from: number; to: number }[] {
  const s = Math.max(1, Math.min(shards, count));
  return Array.from({ length: s }, (_, i) => ({ from: Math.floor((i * count) / s), to: Math.floor(((i + 1) * count) / s) }));
}

/** Stage 'snapshots' on the queue: the pass in shards, their partials merged in shard order on the coordinator. */
function queueSnapshotsStage(queue: SweepQueue): Stage {
  return {
    name: 'snapshots',
    async run(state) {
      const run = await ensureRun(state, queue);
      if (!needsSnapshots(state)) return;
      let set: SnapshotSet | undefined = state.resumed ? loadSnapshots(state.workDir) : undefined;
      if (!set) {
        const snapshotter = beginSnapshots(state);
        if (!snapshotter.partial || !snapshotter.merge) {
          state.log(`odemor: snapshotter '${snapshotter.name}' cannot be sharded (no partial/merge); the snapshot pass runs on the coordinator`);
          await snapshotPass(state, snapshotter);
        } else {
          await shardedPass(state, queue, run, snapshotter);
        }
        set = snapshotter.finish();
        if (state.options.write !== false) await saveSnapshots(state.workDir, set);
      }
      state.snapshots = set;
      await queue.putArtifact(run, 'snapshots', encodeSnapshots(set));
    },
  };
}

async function shardedPass(state: ExperimentState, queue: SweepQueue, run: string, snapshotter: Snapshotter): Promise<void> {
  const { batches } = snapshotBatches(state);
  const ranges = shardRanges(batches, state.options.shards ?? DEFAULT_SHARDS);
  state.distributed!.shards = ranges.length;
  const jobs: QueueJobSpec[] = ranges.map((r, i) => ({ kind: 'snapshot-shard', label: `snapshot shard ${i + 1}/${ranges.length}`, data: { shard: i, from: r.from, to: r.to } }));
  const results: (ShardResult | undefined)[] = [];
  const errors: string[] = [];
  let done = 0;
  await queue.runJobs(run, jobs, (i, outcome) => {
    if (outcome.ok) {
      results[i] = outcome.value as ShardResult;
      noteHost(state, results[i]!.host);
    } else errors.push(`${jobs[i]!.label}: ${outcome.error}`);
    progress(state, 'snapshots', 'snapshot shards', ++done, jobs.length);
  });
  if (errors.length) throw new OdemorError('RUNTIME', `the sharded snapshot pass failed: ${errors.join('; ')}`);
  // summed in shard order (float64), whatever order the shards finished in
  for (const [i, r] of results.entries()) {
    snapshotter.merge!(decodeSnapshotPartial(await queue.getArtifact(run, r!.artifact), jobs[i]!.label));
  }
}

/** Stage 'reduce' on the queue: one job per (method, dim) point; their rows published as they come, ordered as in-process at the end. */
function queueReduceStage(queue: SweepQueue): Stage {
  return {
    name: 'reduce',
    async run(state) {
      const run = await ensureRun(state, queue);
      try {
        await queueSweep(state, queue, run);
      } finally {
        await queue.clearRun(run);
      }
    },
  };
}

async function queueSweep(state: ExperimentState, queue: SweepQueue, run: string): Promise<void> {
  const { snapshots } = state;
  const n = reducibleSize(state.model.block);
  const ft = finetuneJobs(state.config);
  const points: { reducer: number; d: ReduceDims; label: string; name: string; rows: ResultRow[]; result?: SweepResult }[] = [];
  const jobs: QueueJobSpec[] = [];
  const jobPoint: number[] = [];
  for (const [ri, rj] of state.reducers.entries()) {
    for (const d of expandDims(rj.config, snapshots, n)) {
      const before: PointRows = {
        reduced: resumedRow(state, rj.name, d.k, 'reduced'),
        tuned: ft.filter((j) => jobApplies(j, rj.config.use, d.k)).map((j) => resumedRow(state, rj.name, d.k, j.stage)),
      };
      const label = `${rj.name}@${d.k}`;
      const finished = !!before.reduced && before.tuned.every((t) => !!t);
      const rows = finished ? [before.reduced!, ...(before.tuned as ResultRow[])] : [];
      points.push({ reducer: ri, d, label, name: rj.name, rows });
      // --resume: a point whose rows all finished is not redone; one that finished in part is redone whole on a worker
      if (!finished) {
        jobPoint.push(points.length - 1);
        jobs.push({ kind: 'sweep', label, data: { reducer: ri, k: d.k, ...(d.m !== undefined ? { m: d.m } : {}) } });
      }
    }
  }
  const kept = state.rows.slice();
  let done = 0;
  await queue.runJobs(run, jobs, async (i, outcome) => {
    const point = points[jobPoint[i]!]!;
    if (outcome.ok) {
      const r = outcome.value as SweepResult;
      point.result = r;
      point.rows = r.rows;
      noteHost(state, r.host);
      for (const w of r.timingWarnings ?? []) if (!state.timingWarnings.includes(w)) state.timingWarnings.push(w);
      if (r.savedModel && state.options.write !== false) {
        // output.saveModels: as in-process, models/<method>-<k>.odemor in the staging folder
        await writeFileAtomic(path.join(state.workDir, 'models', `${point.name}-${point.d.k}.odemor`), await queue.getArtifact(run, r.savedModel));
      }
      for (const row of r.rows) await publishRow(state, row);
      for (const f of r.failures) {
        state.failures.push(f);
        state.log(`odemor: ${point.label} failed (${f.stage}) on ${r.host}: ${f.error}`);
      }
    } else {
      state.failures.push({ method: point.name, dim: point.d.k, stage: 'reduced', error: `the queue job failed: ${outcome.error}` });
      state.log(`odemor: ${point.label} failed on the queue: ${outcome.error}`);
    }
    if (!outcome.ok || (outcome.value as SweepResult).failures.length) await persistPartial(state);
    progress(state, 'queue', 'sweep jobs', ++done, jobs.length);
  });
  // as in-process: the rows in config order, the reducers' analysis merged in that order
  state.rows = [...kept, ...points.flatMap((p) => p.rows)];
  const seen = new Set<number>();
  for (const p of points) {
    const info = p.result?.analysis;
    if (!info) continue;
    if (!seen.has(p.reducer)) {
      seen.add(p.reducer);
      if (info.weightSingularValues && !state.analysis.weightSingularValues) state.analysis.weightSingularValues = info.weightSingularValues;
      if (info.neuronScores) state.analysis.apozScores = info.neuronScores;
    }
    const pts = p.result?.marked;
    if (pts && pts.length > (state.analysis.deimPoints?.length ?? 0)) state.analysis.deimPoints = pts;
  }
  if (snapshots && !state.analysis.apozScores) state.analysis.apozScores = [...snapshots.final.meanAbs];
  await persistPartial(state);
}

/**
 * The stages of a distributed run: `stages` with 'snapshots' and 'reduce' on `queue`, and every row the
 * coordinator evaluates itself (the originals) marked with its host.
 */
export function distributedStages(stages: readonly Stage[], queue: SweepQueue): Stage[] {
  return stages.map((s) => {
    if (s.name === 'snapshots') return queueSnapshotsStage(queue);
    if (s.name === 'reduce') return queueReduceStage(queue);
    if (s.name === 'setup') {
      return {
        name: s.name,
        async run(state) {
          await s.run(state);
          const host = os.hostname();
          state.exp.hooks.evaluated.tap('odemor-queue', (row: ResultRow) => {
            row.host ??= host;
          });
        },
      };
    }
    return s;
  });
}

// ───────────────────────────── worker ─────────────────────────────

/** One run as a worker holds it: the experiment rebuilt from its context, and what it fitted and evaluated. */
interface WorkerRun {
  state: ExperimentState;
  /** the worker's own originals evaluated (its baseline and reference) */
  baseline: boolean;
  snapshots: boolean;
  fitted: Map<number, ReducerAnalysis>;
  /** the last reduced model after every `reduced` tap (for `output.saveModels`) */
  lastReduced?: ModelIR;
}

export interface SweepWorkerOptions {
  /** plugins to register before each run's config's (embedders, tests) */
  plugins?: OdemorPlugin[];
  /** where notices go (default: standard error) */
  log?: (line: string) => void;
  /** runs kept open at once (default 2); the least recently used is disposed */
  keepRuns?: number;
}

/**
 * The worker's side: runs jobs of any run, rebuilding each run's experiment from its artifacts on first use
 * (prepare → setup → the coordinator's trained model) and keeping it for the run's later jobs.
 */
export class SweepWorker {
  private readonly runs = new Map<string, Promise<WorkerRun>>();
  private readonly log: (line: string) => void;
  readonly host = os.hostname();

  constructor(
    private readonly store: ArtifactStore,
    private readonly options: SweepWorkerOptions = {},
  ) {
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** Run one job; the return value goes back to the coordinator (JSON). */
  async handle(job: QueueJob): Promise<unknown> {
    const ctx = await this.open(job.run);
    if (job.kind === 'snapshot-shard') return this.shard(job, ctx);
    if (job.kind === 'sweep') return this.sweep(job, ctx);
    throw new OdemorError('ARGUMENT', `unknown queue job kind '${String(job.kind)}' (this worker knows snapshot-shard and sweep)`);
  }

  private open(run: string): Promise<WorkerRun> {
    let p = this.runs.get(run);
    if (p) {
      // most recently used last
      this.runs.delete(run);
      this.runs.set(run, p);
      return p;
    }
    p = this.build(run);
    this.runs.set(run, p);
    p.catch(() => this.runs.delete(run));
    const keep = this.options.keepRuns ?? 2;
    while (this.runs.size > keep) {
      const [oldest, old] = this.runs.entries().next().value as [string, Promise<WorkerRun>];
      this.runs.delete(oldest);
      void old.then((r) => disposeState(r.state), () => undefined);
    }
    return p;
  }

  private async build(run: string): Promise<WorkerRun> {
    const context = parseJson<RunContext>(await this.store.getArtifact(run, 'context'));
    if (context.format !== 'odemor-queue-run' || context.version !== 1) throw new OdemorError('DATA', `run ${run}: its context is not an odemor queue run of version 1`);
    const exp = new Experiment();
    await exp.use(coreModelsPlugin);
    for (const p of this.options.plugins ?? []) await exp.use(p);
    const loaded: LoadedConfig = { config: context.config, file: context.file, baseDir: context.baseDir };
    const outDir = path.join(os.tmpdir(), `odemor-worker-${run}`);
    const state = {
      exp,
      loaded,
      options: { write: false, outDir },
      log: (line: string) => this.log(`[${run}] ${line}`),
      runtimes: new Map(),
      rows: [],
      analysis: {},
      written: [],
      failures: [],
      timingWarnings: [],
    } as unknown as ExperimentState;
    try {
      await prepare(state);
      if (configFingerprint(state.config) !== context.fingerprint) {
        throw new OdemorError('CONFIG', `run ${run}: the config validates differently on this worker (${this.host}) than on the coordinator (${context.coordinator}): are the same versions of odemor and its plugins installed?`);
      }
      await setupStage.run(state);
      state.model = decodeModel(await this.store.getArtifact(run, 'model'), `run ${run}: model`);
      validateModel(state.model);
    } catch (e) {
      await disposeState(state);
      throw e;
    }
    const ctx: WorkerRun = { state, baseline: false, snapshots: false, fitted: new Map() };
    // the reduced model as the sweep evaluates it: after every other tap of the waterfall
    exp.hooks.reduced.tap({ name: 'odemor-worker', stage: Number.MAX_SAFE_INTEGER }, (r) => {
      ctx.lastReduced = r.model;
      return r;
    });
    return ctx;
  }

  private async shard(job: QueueJob, ctx: WorkerRun): Promise<ShardResult> {
    const { shard, from, to } = job.data as { shard: number; from: number; to: number };
    const snapshotter = beginSnapshots(ctx.state);
    if (!snapshotter.partial) throw new OdemorError('PLUGIN', `snapshotter '${snapshotter.name}' cannot be sharded (no partial)`);
    await snapshotPass(ctx.state, snapshotter, { from, to });
    const artifact = `shard-${shard}`;
    await this.store.putArtifact(job.run, artifact, encodeSnapshotPartial(snapshotter.partial()));
    return { host: this.host, artifact, batches: to - from };
  }

  private async sweep(job: QueueJob, ctx: WorkerRun): Promise<SweepResult> {
    const { state } = ctx;
    const { reducer: ri, k, m } = job.data as { reducer: number; k: number; m?: number };
    const rj = state.reducers[ri];
    if (!rj) throw new OdemorError('ARGUMENT', `job ${job.label}: the run has no reducers[${ri}]`);
    if (rj.reducer.needsSnapshots && !ctx.snapshots) {
      state.snapshots = decodeSnapshots(await this.store.getArtifact(job.run, 'snapshots'));
      ctx.snapshots = true;
    }
    if (!ctx.baseline) {
      // this host's originals: the baseline of every speedup timed here, and the reference paired with each model
      await originalsStage.run(state);
      ctx.baseline = true;
    }
    const base = { rows: state.rows.length, failures: state.failures.length, warnings: state.timingWarnings.length };
    let info = ctx.fitted.get(ri);
    if (!info) {
      await rj.reducer.fit({ model: state.model, ...(state.snapshots ? { snapshots: state.snapshots } : {}), seed: state.seed });
      info = rj.reducer.analysis?.() ?? {};
      ctx.fitted.set(ri, info);
    }
    const d: ReduceDims = m === undefined ? { k } : { k, m };
    await state.exp.hooks.beforeReduce.promise(rj.name, [d]);
    delete ctx.lastReduced;
    const marked = await sweepPoint(state, rj, d, info);
    let savedModel: string | undefined;
    const reducedRow = state.rows.slice(base.rows).some((r) => r.stage === 'reduced');
    if (state.config.output.saveModels && ctx.lastReduced && reducedRow) {
      savedModel = `model-${ri}-${k}`;
      await this.store.putArtifact(job.run, savedModel, encodeModel(ctx.lastReduced));
    }
    const rows = state.rows.splice(base.rows).map((r) => ({ ...r, host: this.host }));
    const failures = state.failures.splice(base.failures);
    const timingWarnings = state.timingWarnings.slice(base.warnings).map((w) => `${this.host}: ${w}`);
    return { host: this.host, rows, failures, analysis: info, ...(marked ? { marked } : {}), timingWarnings, ...(savedModel ? { savedModel } : {}) };
  }

  /** Dispose every run's runtimes and executables. */
  async close(): Promise<void> {
    const all = [...this.runs.values()];
    this.runs.clear();
    for (const p of all) {
      try {
        await disposeState((await p).state);
      } catch {
        /* a run that failed to open holds nothing */
      }
    }
  }
}

async function disposeState(state: ExperimentState): Promise<void> {
  const reference = state.reference;
  delete state.reference;
  try {
    await reference?.dispose();
  } catch {
    /* the runtimes go next anyway */
  }
  for (const rt of state.runtimes.values()) await rt.dispose?.();
  state.runtimes.clear();
}

/**
 * Stage 'compare' of a trainer comparison (`compare.trainers`, docs/architecture.md#compare): the model stage
 * builds ONE initial model; for each entry, in order, a copy of it trains with the entry's trainer (on that
 * trainer's own runtime) and the entry's training solver, timed; after every epoch the model of that epoch (the
 * trainer's per-epoch checkpoint) is measured OUTSIDE the timed training — its rollout MSE on the first
 * `compare.trainLossSamples` training trajectories, integrated with `model.solver` on the evaluation runtime, the
 * same for every entry — because the trainers' own losses differ (SNODE's objective is not the rollout MSE). That
 * curve gives `secondsToTarget` and the report's loss-against-time plot. Every trained model is then evaluated with
 * `model.solver` on the one evaluation runtime, and one row (`stage: 'compared'`) is published; the first entry's
 * model is the baseline of `speedup` (the models share one architecture: ≈ 1, a sanity check) and `mseRatio`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AsyncSeriesHook } from 'tapable';
import type { Experiment } from '../../container.js';
import { ConfigError, describeIssues, type ConfigProblem, type LoadedConfig } from '../../config/load.js';
import { trainSchema, type CompareTrainerEntryConfig, type ExperimentConfig } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { Runtime, Solver, Trainer } from '../../extension-points.js';
import type { CompareSolver, CompareTraining, EpochInfo, ResultRow } from '../../hooks.js';
import { loadModel, saveModel } from '../../ir/io.js';
import type { ModelIR } from '../../ir/types.js';
import { resolveUse } from '../../plugins/resolve.js';
import { RK_DEFAULTS, fixedStepCount } from '../../solvers/driver.js';
import { buildFor, progress, publishRow, runtimeFor } from '../evaluate.js';
import type { ExperimentState } from '../state.js';
import { resolveTrainer } from '../trainers.js';
import { CORE_SOLVER_KEYS, entrySolverOptions, evaluateCompared } from './compare.js';
import { trainerOwnOptions } from './model.js';
import { persistPartial } from './report.js';
import { trainOptionsOf } from './train-options.js';

type TrainConfig = Exclude<ExperimentConfig['train'], false | undefined>;

/** The default of `compare.trainLossSamples`: training trajectories of the common training-loss curve. */
export const DEFAULT_TRAIN_LOSS_SAMPLES = 64;

/** One entry of `compare.trainers`, prepared (see {@link prepareTrainerCompare}). */
export interface TrainerCompareJob {
  /** index in `compare.trainers` */
  index: number;
  /** the row's `method` and the saved model's name: `label`, default `use` */
  label: string;
  config: CompareTrainerEntryConfig;
  /** the Trainer `use` (and `runtime`) resolved to */
  trainerName: string;
  /** the training solver's implementation name */
  solverName: string;
  /** the solver the entry trains with */
  solver: Solver;
  /** the training solver as the row's `solver` records it */
  spec: CompareSolver;
  /** the initial model with `spec` as its solver (what the trainer gets) */
  model: ModelIR;
  /** `train` with the entry's overrides over it; false: the entry does not train (0 epochs) */
  train: TrainConfig | false;
  trainer: Trainer;
}

const at = (i: number) => `compare.trainers[${i}]`;

/** Resolve every entry's trainer (`use`, `runtime` as `train.use` resolves) and training solver (PLUGIN errors name the key). */
export async function resolveCompareTrainers(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig): Promise<{ trainer: string; solver: string }[] | undefined> {
  const entries = config.compare?.trainers;
  if (!entries) return undefined;
  const base = config.train === false || config.train === undefined ? undefined : config.train;
  const named = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      if (OdemorError.is(err) && err.code === 'PLUGIN') throw new OdemorError('PLUGIN', `${loaded.file}: ${key}: ${err.message}`, { cause: err });
      throw err;
    }
  };
  const out: { trainer: string; solver: string }[] = [];
  for (const [i, e] of entries.entries()) {
    const trainer = await named(`${at(i)}.use`, () => resolveTrainer(exp, e.use, e.runtime ?? base?.runtime, loaded.baseDir));
    const solverUse = e.solver?.use ?? config.model.solver?.use;
    const solver = solverUse === undefined ? undefined : await named(`${at(i)}.solver.use`, () => resolveUse(exp, 'Solver', solverUse, loaded.baseDir));
    out.push({ trainer, solver: solver ?? '' }); // '' : the model's solver, known once it is resolved (prepareTrainerCompare)
  }
  return out;
}

/** The entry's `train`: the experiment's (or the schema's defaults without one) with the entry's keys over it. */
function entryTrain(state: ExperimentState, entry: CompareTrainerEntryConfig): TrainConfig | false {
  const base: TrainConfig = state.train === false ? trainSchema.parse({}) : state.train;
  const merged = { ...base, ...(entry.train ?? {}), use: entry.use, ...(entry.runtime !== undefined ? { runtime: entry.runtime } : {}) } as TrainConfig;
  return merged.epochs > 0 ? merged : false;
}

/**
 * Prepare the entries once the dataset and the initial model are known (the compare stage, and `odemor validate`):
 * each entry's training solver (its keys over `model.solver`'s), model, merged `train` and trainer, whose own
 * options are checked against its option schema and which must take the model with that solver (a CONFIG error
 * naming the entry otherwise). Nothing trains. Sets `state.compareTrainers`.
 */
export async function prepareTrainerCompare(state: ExperimentState): Promise<TrainerCompareJob[]> {
  const { exp, config } = state;
  const entries = config.compare!.trainers!;
  const resolved = state.resolved.compareTrainers!;
  const initial = state.model;
  const jobs: TrainerCompareJob[] = [];
  const problems: ConfigProblem[] = [];
  for (const [i, entry] of entries.entries()) {
    const trainerName = resolved[i]!.trainer;
    const solverName = resolved[i]!.solver || state.resolved.solver;
    const given = entry.solver ?? {};
    const opts = entrySolverOptions(state.solverConfig as unknown as Record<string, unknown>, state.resolved.solver, given as never, solverName);
    const solverOptions: Record<string, unknown> = { ...opts, t0: initial.solver.t0, t1: initial.solver.t1 };
    const schema = exp.provision('Solver', solverName)?.options;
    if (schema) {
      const r = schema.safeParse(solverOptions);
      if (!r.success) {
        problems.push(...describeIssues(r.error.issues, solverOptions, { ...(state.loaded.source ? { source: state.loaded.source } : {}), prefix: ['compare', 'trainers', i, 'solver'], schema, owner: `solver '${solverName}'` }));
        continue;
      }
    }
    let solver: Solver;
    try {
      solver = exp.factory('Solver', solverName)(solverOptions) as Solver;
    } catch (e) {
      throw new OdemorError('CONFIG', `${at(i)}.solver: solver '${solverName}': ${(e as Error).message}`, { cause: e });
    }
    const extra = Object.fromEntries(Object.entries(solverOptions).filter(([k]) => !(CORE_SOLVER_KEYS as readonly string[]).includes(k)));
    const pick = (k: 'rtol' | 'atol' | 'maxSteps') => (solverOptions[k] !== undefined ? { [k]: solverOptions[k] as number } : {});
    const spec: CompareSolver = { use: solverName, dt: solverOptions.dt as number, t0: initial.solver.t0, t1: initial.solver.t1, ...pick('rtol'), ...pick('atol'), ...pick('maxSteps'), ...extra };
    const model: ModelIR = { ...initial, solver: spec };
    const label = entry.label ?? entry.use;
    if (!solver.adaptive) {
      const steps = fixedStepCount(spec.t0, spec.t1, spec.dt);
      const max = spec.maxSteps ?? solver.maxSteps ?? RK_DEFAULTS.maxSteps;
      if (steps > max) throw new OdemorError('CONFIG', `${at(i)} (${label}): dt ${spec.dt} on [${spec.t0}, ${spec.t1}] means ${steps.toLocaleString('en-US')} steps, above maxSteps (${max}); use a larger dt, or raise maxSteps`);
    }
    const train = entryTrain(state, entry);
    const own = trainerOwnOptions((train === false ? { ...(entry.train ?? {}) } : train) as Record<string, unknown>);
    const trainerSchema = exp.provision('Trainer', trainerName)?.options;
    if (trainerSchema) {
      const r = trainerSchema.safeParse(own);
      if (!r.success) {
        for (const issue of r.error.issues) {
          const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[0];
          const fromEntry = key !== undefined && entry.train !== undefined && String(key) in entry.train;
          const prefix = fromEntry ? ['compare', 'trainers', i, 'train'] : ['train'];
          problems.push(...describeIssues([issue], own, { ...(state.loaded.source ? { source: state.loaded.source } : {}), prefix, schema: trainerSchema, owner: `trainer '${trainerName}' (${at(i)}, ${label})` }));
        }
        continue;
      }
    }
    let trainer: Trainer;
    try {
      trainer = exp.factory('Trainer', trainerName)(own);
    } catch (e) {
      throw new OdemorError('CONFIG', `${at(i)} (${label}): trainer '${trainerName}': ${(e as Error).message}`, { cause: e });
    }
    const ok = trainer.supports?.(model, solver) ?? { ok: true as const };
    if (!ok.ok) {
      throw new OdemorError(
        'CONFIG',
        `${at(i)} (${label}): trainer '${trainerName}' cannot train this model with solver '${solverName}': ${ok.reason}` +
          (entry.runtime === undefined ? ` (give the entry a runtime, e.g. runtime: tfjs, or another solver)` : ''),
      );
    }
    jobs.push({ index: i, label, config: entry, trainerName, solverName, solver, spec, model, train, trainer });
  }
  if (problems.length) {
    problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(state.loaded.file, problems);
  }
  // the evaluation runtime takes the model with the experiment's solver (else the tfjs runtime, said once)
  await runtimeFor(state, initial);
  state.compareTrainers = jobs;
  return jobs;
}

/** Where entry `job`'s trained model is kept (in the staging folder while the run is in progress). */
function modelFile(state: ExperimentState, job: TrainerCompareJob): string {
  return path.join(state.workDir, 'models', `${job.label}.odemor`);
}

/** The first `n` training trajectories: initial states, observed states and input signals, read once. */
interface TrainSubset {
  x: Float32Array;
  targets: Float32Array;
  u?: Float32Array;
  size: number;
}

async function readTrainSubset(state: ExperimentState, n: number): Promise<TrainSubset> {
  const count = Math.min(n, state.dataset.info.trainSize);
  for await (const b of state.dataset.batches('train', count, { limit: count })) {
    if (!b.targets) throw new OdemorError('DATA', `compare.trainers: dataset ${state.dataset.name} has no regression targets: the common training-loss curve is the rollout MSE of trajectories`);
    return { x: b.x, targets: b.targets, ...(b.u ? { u: b.u } : {}), size: b.size };
  }
  throw new OdemorError('DATA', `compare.trainers: dataset ${state.dataset.name} has an empty training split`);
}

/**
 * The rollout MSE of `model` on `subset` (mean over trajectories, observation times and states), integrated with
 * the experiment's solver (`model.solver`) on `runtime`.
 */
async function rolloutMse(state: ExperimentState, model: ModelIR, subset: TrainSubset, runtime: Runtime): Promise<number> {
  const exec = await buildFor(state, { ...model, solver: evaluationSolver(state) }, runtime, state.solver);
  try {
    const pred = await exec.predict(subset.x, subset.size, subset.u ? { u: subset.u } : undefined);
    if (pred.length !== subset.targets.length) {
      throw new OdemorError('SHAPE', `compare.trainers: the model predicts ${pred.length} values for ${subset.size} training trajectories whose targets have ${subset.targets.length}`);
    }
    let sum = 0;
    for (let i = 0; i < pred.length; i++) {
      const d = pred[i]! - subset.targets[i]!;
      sum += d * d;
    }
    return sum / pred.length;
  } finally {
    await exec.dispose();
  }
}

const MiB = 1024 * 1024;

/**
 * Train `job`'s copy of the initial model. The per-epoch checkpoint goes to a temporary file; a trainer fires the
 * `epoch` hook before it writes that epoch's checkpoint, so the tap of epoch e measures the checkpoint of epoch
 * e − 1 and the last epoch is measured on the returned model. The measurement (loading the checkpoint, building
 * and running it) is timed and SUBTRACTED: `elapsed` and `trainSeconds` are the trainer's wall time without it.
 */
async function trainJob(
  state: ExperimentState,
  job: TrainerCompareJob,
  subset: TrainSubset,
  evalRuntime: Runtime,
): Promise<{ model: ModelIR; trainSeconds: number; peakRssMiB?: number; training?: CompareTraining }> {
  if (job.train === false) return { model: job.model, trainSeconds: 0 };
  const trainer = job.trainer;
  const dir = state.options.write !== false ? path.join(state.workDir, 'compare-checkpoints') : fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-compare-'));
  fs.mkdirSync(dir, { recursive: true });
  const checkpoint = path.join(dir, `${job.label}.odemor`);
  for (const f of [checkpoint, `${checkpoint}.train`]) fs.rmSync(f, { force: true });
  const history: CompareTraining['history'] = [];
  const epoch = new AsyncSeriesHook<[info: EpochInfo]>(['info']);
  let start = 0;
  let paused = 0;
  let pending: { info: EpochInfo; elapsed: number } | undefined;
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sample = () => void (rssPeak = Math.max(rssPeak, process.memoryUsage.rss()));
  const record = (p: { info: EpochInfo; elapsed: number }, trainMse: number | undefined) =>
    history.push({
      epoch: p.info.epoch,
      loss: p.info.loss,
      ...(Number.isFinite(p.info.accuracy) ? { accuracy: p.info.accuracy } : {}),
      seconds: p.info.seconds,
      elapsed: p.elapsed,
      ...(trainMse !== undefined ? { trainMse } : {}),
    });
  epoch.tapPromise('odemor-compare', async (info) => {
    const now = performance.now();
    sample();
    const elapsed = (now - start) / 1000 - paused;
    try {
      if (pending) {
        // the checkpoint holds the previous epoch's model (this epoch's is written after the hook)
        const m = fs.existsSync(checkpoint) ? await loadModel(checkpoint) : undefined;
        record(pending, m ? await rolloutMse(state, m, subset, evalRuntime) : undefined);
      }
      pending = { info, elapsed };
      await state.exp.hooks.epoch.promise({ ...info, phase: `compare:${job.label}` });
    } finally {
      paused += (performance.now() - now) / 1000;
    }
  });
  const { beforeTrain, afterTrain, progress: progressHook } = state.exp.hooks;
  let out;
  start = performance.now();
  try {
    out = await trainer.train(job.model, trainOptionsOf(job.train, state.seed), {
      dataset: state.dataset,
      solver: job.solver,
      phase: 'train',
      hooks: { beforeTrain, afterTrain, progress: progressHook, epoch },
      checkpoint,
      onProgress: (done, total, detail) => {
        sample();
        progress(state, `compare:${job.label}`, `train ${job.label}`, done, total, detail);
      },
    });
  } finally {
    if (state.options.write !== false) for (const f of [checkpoint, `${checkpoint}.train`]) fs.rmSync(f, { force: true });
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  const trainSeconds = (performance.now() - start) / 1000 - paused;
  sample();
  if (pending) record(pending, await rolloutMse(state, out.model, subset, evalRuntime));
  else {
    // a trainer that fires no epoch hook: its own history, the epochs' seconds summed, the final model measured
    let sum = 0;
    for (const [k, h] of out.history.entries()) {
      sum += h.seconds;
      record({ info: h, elapsed: sum }, k === out.history.length - 1 ? await rolloutMse(state, out.model, subset, evalRuntime) : undefined);
    }
  }
  const s = out.summary;
  return {
    model: out.model,
    trainSeconds,
    peakRssMiB: Math.max(0, rssPeak - rssBefore) / MiB,
    training: { trainer: trainer.name, ...(s.backend ? { backend: s.backend } : {}), epochs: s.epochs, finalLoss: s.finalLoss, seconds: s.seconds, history },
  };
}

/**
 * Before the first timed training of each trainer: one untimed epoch over one batch (its result discarded), so
 * that a runtime's start-up — the backend's initialisation, the first use of each kernel — is not charged to an entry.
 */
async function warmUp(state: ExperimentState, jobs: TrainerCompareJob[]): Promise<void> {
  const seen = new Set<string>();
  for (const job of jobs) {
    if (job.train === false || seen.has(job.trainerName)) continue;
    seen.add(job.trainerName);
    const t = job.train;
    await job.trainer.train(job.model, { ...trainOptionsOf(t, state.seed), epochs: 1, limit: Math.min(t.batch, t.limit ?? Infinity) }, { dataset: state.dataset, solver: job.solver, phase: 'train' });
  }
}

/**
 * The solver every entry is evaluated (and its training curve measured) with: the experiment's `model.solver` over
 * the initial model's time span — a model factory may set the span (an mlp-node takes the dataset's [t0, last
 * observation time]), which the config's solver keys do not know.
 */
function evaluationSolver(state: ExperimentState): ModelIR['solver'] {
  return { ...state.solverSpec, t0: state.model.solver.t0, t1: state.model.solver.t1 };
}

/** Train, save, evaluate `job` (with the experiment's solver) and publish its row. */
async function runJob(state: ExperimentState, job: TrainerCompareJob, subset: TrainSubset, evalRuntime: Runtime): Promise<void> {
  const trained = await trainJob(state, job, subset, evalRuntime);
  // evaluated with the model's configured solver, whatever the entry trained with
  const model: ModelIR = { ...trained.model, solver: evaluationSolver(state) };
  if (state.options.write !== false) await saveModel(modelFile(state, job), model);
  const { row, nfe } = await evaluateCompared(state, model, job.label, evalRuntime, state.solver);
  const target = state.config.compare!.target;
  const history = trained.training?.history ?? [];
  const secondsToTarget = target === undefined ? undefined : (history.find((h) => h.trainMse !== undefined && h.trainMse < target)?.elapsed ?? null);
  const { method, dim, stage, ...rest } = row;
  await publishRow(state, {
    method,
    dim,
    stage,
    trainer: job.trainerName,
    solver: job.spec,
    ...rest,
    ...nfe,
    trainSeconds: trained.trainSeconds,
    ...(secondsToTarget !== undefined ? { secondsToTarget } : {}),
    ...(trained.peakRssMiB !== undefined ? { peakRssMiB: trained.peakRssMiB } : {}),
    ...(trained.training ? { training: trained.training } : {}),
  });
}

/** The stage's work for `compare.trainers` (called by the compare stage). */
export async function runTrainerCompare(state: ExperimentState): Promise<void> {
  const jobs = state.compareTrainers ?? (await prepareTrainerCompare(state));
  const evalRuntime = await runtimeFor(state, state.model);
  const paired = state.config.evaluate.timing !== 'single';
  const finished = (job: TrainerCompareJob) => {
    const row = state.resumed?.rows.find((r) => r.stage === 'compared' && r.method === job.label);
    return row && fs.existsSync(modelFile(state, job)) ? row : undefined;
  };
  // --resume: as a solver comparison — the first entry is the reference of every speedup, so without it every entry runs again
  const done = new Map<number, ResultRow>();
  const first = jobs[0]!;
  if (finished(first)) for (const job of jobs) {
    const row = finished(job);
    if (row) done.set(job.index, row);
  }
  if (done.size) {
    const row = done.get(0)!;
    state.baseline = { seconds: row.wallSeconds, ...(state.regression ? (row.testMse !== undefined ? { mse: row.testMse } : {}) : { top1: row.top1 ?? Number.NaN }) };
    if (state.resumed?.regression) state.observed = state.resumed.regression;
    state.timingWarnings.push(...(state.resumed?.timing?.warnings ?? []));
    for (const job of jobs) if (done.has(job.index)) state.rows.push(done.get(job.index)!);
    state.log(`odemor: compare: ${done.size} of ${jobs.length} entries finished before (${jobs.filter((j) => done.has(j.index)).map((j) => j.label).join(', ')})`);
    if (paired && done.size < jobs.length) state.reference = await buildFor(state, await loadModel(modelFile(state, first)), evalRuntime, state.solver);
  } else {
    await persistPartial(state);
  }
  const todo = jobs.filter((j) => !done.has(j.index));
  if (!todo.length) return;
  state.log(`odemor: compare: ${todo.map((j) => `${j.label} trains with '${j.trainerName}'`).join(', ')}; every entry is evaluated on runtime '${evalRuntime.name}' with solver '${state.resolved.solver}'`);
  const subset = await readTrainSubset(state, state.config.compare!.trainLossSamples ?? DEFAULT_TRAIN_LOSS_SAMPLES);
  await warmUp(state, todo);
  for (const job of todo) {
    try {
      await runJob(state, job, subset, evalRuntime);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (!state.baseline) {
        throw new OdemorError(OdemorError.is(e) ? e.code : 'RUNTIME', `${at(job.index)} (${job.label}), the reference entry of the comparison, failed: ${error}`, { cause: e });
      }
      state.failures.push({ method: job.label, dim: job.model.block.n, stage: 'compared', error });
      state.log(`odemor: ${at(job.index)} (${job.label}) failed: ${error}`);
      await persistPartial(state);
    }
  }
  const order = new Map(jobs.map((j) => [j.label, j.index]));
  state.rows.sort((a, b) => (order.get(a.method) ?? -1) - (order.get(b.method) ?? -1));
}

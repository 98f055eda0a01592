/**
 * Stage 'compare': a solver comparison (`compare`, docs/architecture.md#compare) instead of a reduction sweep. The
 * model stage builds ONE initial model; for each entry of `compare.solvers`, in order, a copy of it with the
 * entry's solver trains from that same initialisation (same seed, same data order), the training is timed, the
 * trained model is saved (`models/<label>.odemor`) and evaluated with the same solver, and one row (`stage:
 * 'compared'`) is published. The first entry's model is the baseline of every `speedup` (paired timing: its
 * executable is `state.reference`), of `mseRatio` and of `relativeTop1`.
 *
 * Every entry trains with one trainer on one runtime and is evaluated on one runtime, chosen before any of them
 * trains ({@link prepareCompare}): a pinned `train.runtime` / `evaluate.runtime` that cannot take an entry is a
 * CONFIG error naming it; otherwise the first runtime that takes every entry is chosen, and logged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AsyncSeriesHook } from 'tapable';
import type { Experiment } from '../../container.js';
import { ConfigError, describeIssues, formatKey, locateProblem, suggest, type ConfigProblem, type LoadedConfig } from '../../config/load.js';
import { COMPARE_ENTRY_KEYS, trainSchema, type CompareEntryConfig, type ExperimentConfig } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { Runtime, SolveStats, Solver, Trainer } from '../../extension-points.js';
import type { CompareSolver, CompareTraining, EpochInfo, ResultRow } from '../../hooks.js';
import { loadModel, saveModel } from '../../ir/io.js';
import type { ModelIR } from '../../ir/types.js';
import { resolveUse } from '../../plugins/resolve.js';
import { RK_DEFAULTS, fixedStepCount } from '../../solvers/driver.js';
import { buildFor, evaluateModel, progress, publishRow } from '../evaluate.js';
import type { ExperimentState, Resolved, Stage } from '../state.js';
import { DEFAULT_TRAIN_RUNTIMES, resolveTrainer } from '../trainers.js';
import { trainerOwnOptions } from './model.js';
import { persistPartial } from './report.js';
import { trainOptionsOf } from './train-options.js';
import { runTrainerCompare } from './compare-trainers.js';

type TrainConfig = Exclude<ExperimentConfig['train'], false | undefined>;

/** The solver keys core owns (`model.solver`'s schema); every other key of an entry is the solver's own. */
export const CORE_SOLVER_KEYS = ['use', 'dt', 't0', 't1', 'rtol', 'atol', 'maxSteps'] as const;

/** One entry of `compare.solvers`, prepared: its solver, model, training and runtime (see {@link prepareCompare}). */
export interface CompareJob {
  /** index in `compare.solvers` */
  index: number;
  /** the row's `method` and the saved model's name: `label`, default the solver's name */
  label: string;
  /** the Solver implementation `use` resolved to */
  name: string;
  config: CompareEntryConfig;
  /** what the solver's factory gets: the span keys (the model's t0, t1) and the solver's own keys */
  solverOptions: Record<string, unknown>;
  solver: Solver;
  /** the entry's solver as the model (and the row's `solver`) records it */
  spec: CompareSolver;
  /** the initial model with `spec` as its solver */
  model: ModelIR;
  /** `train` with the entry's overrides over it; false: the entry does not train (0 epochs, or `train: false`) */
  train: TrainConfig | false;
  /** the trainer (one per entry: its own options may differ), when it trains */
  trainer?: Trainer;
  /** the evaluation runtime, created for the entry's solver (a compiled runtime checks its solver) */
  runtime: Runtime;
}

/** The keys an entry may have besides a solver's own ones (the span is the model's). */
const ENTRY_KEYS = ['label', 'use', 'dt', 'rtol', 'atol', 'maxSteps', 'train'];

const own = (k: string) => !(CORE_SOLVER_KEYS as readonly string[]).includes(k) && !(COMPARE_ENTRY_KEYS as readonly string[]).includes(k);

/**
 * The options the solver factory of entry `entry` gets: the merged `model.solver` (defaults, the checkpoint's, the
 * config's) — its core keys, and its own keys only when the entry names the same solver — then the entry's keys.
 */
export function entrySolverOptions(solverConfig: Record<string, unknown>, modelSolver: string, entry: CompareEntryConfig, name: string): Record<string, unknown> {
  const inherited = Object.entries(solverConfig).filter(([k]) => k !== 'use' && (!own(k) || name === modelSolver));
  const given = Object.entries(entry).filter(([k]) => k !== 'use' && !(COMPARE_ENTRY_KEYS as readonly string[]).includes(k));
  return Object.fromEntries([...inherited, ...given]);
}

/** Resolve every entry's `use` to a Solver (PLUGIN errors name `compare.solvers[i].use`). */
export async function resolveCompare(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig): Promise<string[] | undefined> {
  if (!config.compare?.solvers) return undefined;
  const names: string[] = [];
  for (const [i, e] of config.compare.solvers.entries()) {
    try {
      names.push(await resolveUse(exp, 'Solver', e.use, loaded.baseDir));
    } catch (err) {
      if (OdemorError.is(err) && err.code === 'PLUGIN') throw new OdemorError('PLUGIN', `${loaded.file}: compare.solvers[${i}].use: ${err.message}`, { cause: err });
      throw err;
    }
  }
  return names;
}

/** The label of each entry: its `label`, else the solver's name. */
export function compareLabels(config: ExperimentConfig, names: readonly string[]): string[] {
  return (config.compare?.solvers ?? []).map((e, i) => e.label ?? names[i]!);
}

/**
 * Check the entries before any work: the labels are unique (the defaults, the solvers' names, once resolved), and
 * each entry's solver options pass the solver's option schema (a solver that declares none takes no keys of its
 * own) and its factory. Throws a ConfigError listing every problem with its line.
 */
export function checkCompare(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig, resolved: Resolved, solverConfig: Record<string, unknown>): void {
  if (!config.compare?.solvers || !resolved.compare) return;
  const source = loaded.source;
  const problems: ConfigProblem[] = [];
  const labels = compareLabels(config, resolved.compare);
  const seen = new Map<string, number>();
  labels.forEach((label, i) => {
    const first = seen.get(label);
    if (first === undefined) return void seen.set(label, i);
    const at = ['compare', 'solvers', i];
    problems.push(
      locateProblem(
        { key: formatKey(at), message: `label '${label}' is also the label of compare.solvers[${first}]: labels must be unique (give each entry of the same solver a label)` },
        at,
        source,
      ),
    );
  });
  config.compare.solvers.forEach((entry, i) => {
    const name = resolved.compare![i]!;
    const at = ['compare', 'solvers', i];
    const options = entrySolverOptions(solverConfig, resolved.solver, entry, name);
    const schema = exp.provision('Solver', name)?.options;
    if (schema) {
      const r = schema.safeParse(options);
      if (!r.success) {
        problems.push(...describeIssues(r.error.issues, options, { ...(source ? { source } : {}), prefix: at, schema, owner: `solver '${name}'` }));
        return;
      }
    } else {
      const unknown = Object.keys(entry).filter(own);
      for (const k of unknown) {
        const p = [...at, k];
        problems.push(locateProblem({ key: formatKey(p), message: `unknown key '${k}' in compare.solvers[${i}] (solver '${name}' takes no options of its own)${suggest(k, ENTRY_KEYS)}` }, p, source));
      }
      if (unknown.length) return;
    }
    try {
      exp.factory('Solver', name)(options);
    } catch (e) {
      const message = (e as Error).message;
      problems.push(locateProblem({ key: formatKey(at), message: message.includes(name) ? message : `solver '${name}': ${message}` }, at, source));
    }
  });
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length) throw new ConfigError(loaded.file, problems);
}

/** The entry's `train`: the experiment's (or the schema's defaults without one) with the entry's keys over it. */
function entryTrain(state: ExperimentState, entry: CompareEntryConfig): TrainConfig | false {
  if (state.train === false && !entry.train) return false;
  const base: TrainConfig = state.train === false ? trainSchema.parse({}) : state.train;
  const merged = { ...base, ...(entry.train ?? {}) } as TrainConfig;
  return merged.epochs > 0 ? merged : false;
}

/** Solver steps per sample of `model`: over each readout segment (a trajectory model), else over [t0, t1]. */
export function stepsPerSample(model: ModelIR): number {
  const { t0, t1, dt } = model.solver;
  const times = model.readout ? model.readout.times : [t1];
  let t = t0;
  let steps = 0;
  for (const ti of times) {
    steps += Math.max(1, fixedStepCount(t, ti, dt));
    t = ti;
  }
  return steps;
}

/**
 * A fixed-step solver's right-hand-side evaluations per sample, from the solver itself: steps × the stages of its
 * Butcher tableau, or steps × the time derivatives a derivative solver declares (one evaluation per order, as the
 * runtimes count them; with a midpoint network a Taylor-Lagrange step of order p takes the p orders at x and the
 * p + 1 at ξ: 2p + 1 = 2·derivatives − 1, docs/algorithms.md#taylor-lagrange). Undefined for an adaptive solver
 * (only a run knows) and for a step program that declares neither.
 */
export function solverNfePerSample(solver: Solver, model: ModelIR): number | undefined {
  if (solver.adaptive) return undefined;
  const perStep = solver.derivatives ? (model.midpoint ? 2 * solver.derivatives - 1 : solver.derivatives) : solver.tableau?.b.length;
  return perStep ? stepsPerSample(model) * perStep : undefined;
}

/**
 * Prepare the entries once the dataset and the initial model are known (the compare stage, and `odemor validate`):
 * each entry's solver, model, merged `train` and step limit; then ONE trainer (`train.use` on `train.runtime`, or
 * without it the first of `DEFAULT_TRAIN_RUNTIMES` whose trainer trains every entry) and ONE evaluation runtime
 * (`evaluate.runtime`, or without it the default runtime when it runs every entry, else tfjs); the trainer's own
 * options of each entry are checked against its option schema. Nothing trains. Sets `state.compare`.
 */
export async function prepareCompare(state: ExperimentState): Promise<CompareJob[]> {
  const { exp, config } = state;
  const cmp = config.compare!;
  const names = state.resolved.compare!;
  const labels = compareLabels(config, names);
  const initial = state.model;
  const jobs: CompareJob[] = [];
  for (const [i, entry] of cmp.solvers!.entries()) {
    const name = names[i]!;
    const opts = entrySolverOptions(state.solverConfig as unknown as Record<string, unknown>, state.resolved.solver, entry, name);
    const solverOptions: Record<string, unknown> = { ...opts, t0: initial.solver.t0, t1: initial.solver.t1 };
    const solver = exp.factory('Solver', name)(solverOptions) as Solver;
    const extra = Object.fromEntries(Object.entries(solverOptions).filter(([k]) => own(k)));
    const pick = (k: 'dt' | 'rtol' | 'atol' | 'maxSteps') => (solverOptions[k] !== undefined ? { [k]: solverOptions[k] as number } : {});
    const spec: CompareSolver = { use: name, dt: solverOptions.dt as number, t0: initial.solver.t0, t1: initial.solver.t1, ...pick('rtol'), ...pick('atol'), ...pick('maxSteps'), ...extra };
    const model: ModelIR = { ...initial, solver: spec };
    if (!solver.adaptive) {
      const steps = fixedStepCount(spec.t0, spec.t1, spec.dt);
      const max = spec.maxSteps ?? solver.maxSteps ?? RK_DEFAULTS.maxSteps;
      if (steps > max) {
        throw new OdemorError('CONFIG', `compare.solvers[${i}] (${labels[i]}): dt ${spec.dt} on [${spec.t0}, ${spec.t1}] means ${steps.toLocaleString('en-US')} steps, above maxSteps (${max}); use a larger dt, or raise maxSteps`);
      }
    }
    jobs.push({ index: i, label: labels[i]!, name, config: entry, solverOptions, solver, spec, model, train: entryTrain(state, entry), runtime: undefined as unknown as Runtime });
  }
  await chooseTrainer(state, jobs);
  await chooseRuntime(state, jobs);
  state.compare = jobs;
  return jobs;
}

const describe = (j: CompareJob) => `compare.solvers[${j.index}] (${j.label})`;

/** One trainer for every entry that trains: see {@link prepareCompare}. */
async function chooseTrainer(state: ExperimentState, jobs: CompareJob[]): Promise<void> {
  const training = jobs.filter((j) => j.train !== false);
  if (!training.length) return;
  const { exp, loaded } = state;
  const base = state.train === false ? trainSchema.parse({}) : state.train;
  const pinned = base.runtime;
  const candidates: string[] = [];
  const tryResolve = async (name: string) => {
    try {
      const found = await resolveUse(exp, 'Trainer', name, loaded.baseDir);
      if (!candidates.includes(found)) candidates.push(found);
    } catch (e) {
      if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
    }
  };
  if (pinned !== undefined) {
    candidates.push(await resolveTrainer(exp, base.use, pinned, loaded.baseDir));
  } else {
    for (const rt of DEFAULT_TRAIN_RUNTIMES) await tryResolve(`${base.use}-${rt}`);
    await tryResolve(base.use);
    if (!candidates.length) {
      await resolveTrainer(exp, base.use, undefined, loaded.baseDir); // throws the usual PLUGIN error
    }
  }
  const refusals: string[] = [];
  for (const name of candidates) {
    let refused: { job: CompareJob; reason: string } | undefined;
    const made = new Map<CompareJob, Trainer>();
    for (const job of training) {
      let trainer: Trainer;
      try {
        trainer = exp.factory('Trainer', name)(trainerOwnOptions(job.train as TrainConfig));
      } catch (e) {
        refused = { job, reason: (e as Error).message };
        break;
      }
      const ok = trainer.supports?.(job.model, job.solver) ?? { ok: true as const };
      if (!ok.ok) {
        refused = { job, reason: ok.reason };
        break;
      }
      made.set(job, trainer);
    }
    if (!refused) {
      for (const [job, trainer] of made) job.trainer = trainer;
      checkTrainerOptions(state, name, training);
      const skipped = refusals.length ? ` (${refusals.join('; ')})` : '';
      state.log(`odemor: compare: every entry trains with trainer '${name}'${pinned !== undefined ? ` (train.runtime: ${pinned})` : ''}${skipped}`);
      return;
    }
    if (pinned !== undefined) {
      throw new OdemorError(
        'CONFIG',
        `${describe(refused.job)}: train.runtime is '${pinned}', and its trainer '${name}' cannot train this solver: ${refused.reason}; ` +
          'every entry of a comparison trains on one runtime — pin one that trains every solver (tfjs trains them all), or leave train.runtime out to pick one',
      );
    }
    refusals.push(`trainer '${name}' cannot train ${describe(refused.job)}: ${refused.reason}`);
  }
  throw new OdemorError('CONFIG', `compare: no trainer of train.use '${base.use}' trains every solver of the comparison: ${refusals.join('; ')}`);
}

/** The trainer's own options of each entry (`train` and the entry's `train` merged) against the trainer's option schema. */
function checkTrainerOptions(state: ExperimentState, name: string, jobs: CompareJob[]): void {
  const schema = state.exp.provision('Trainer', name)?.options;
  if (!schema) return;
  const source = state.loaded.source;
  const problems: ConfigProblem[] = [];
  for (const job of jobs) {
    const options = trainerOwnOptions(job.train as TrainConfig);
    const r = schema.safeParse(options);
    if (r.success) continue;
    for (const issue of r.error.issues) {
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[0];
      const fromEntry = key !== undefined && job.config.train !== undefined && String(key) in job.config.train;
      const prefix = fromEntry ? ['compare', 'solvers', job.index, 'train'] : ['train'];
      problems.push(...describeIssues([issue], options, { ...(source ? { source } : {}), prefix, schema, owner: `trainer '${name}' (${describe(job)})` }));
    }
  }
  if (problems.length) throw new ConfigError(state.loaded.file, problems);
}

/** One evaluation runtime for every entry: see {@link prepareCompare}. */
async function chooseRuntime(state: ExperimentState, jobs: CompareJob[]): Promise<void> {
  const { exp, config, loaded } = state;
  const pinned = config.evaluate.runtime !== undefined;
  const candidates = [state.resolved.runtime];
  if (!pinned) {
    try {
      const tfjs = await resolveUse(exp, 'Runtime', 'tfjs', loaded.baseDir);
      if (!candidates.includes(tfjs)) candidates.push(tfjs);
    } catch (e) {
      if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
    }
  }
  const refusals: string[] = [];
  for (const name of candidates) {
    const made: Runtime[] = [];
    let refused: { job: CompareJob; reason: string } | undefined;
    for (const job of jobs) {
      const rt = await exp.factory('Runtime', name)({ solver: job.solver, hooks: exp.hooks, threads: config.evaluate.threads });
      made.push(rt);
      const ok = rt.supports(job.model);
      if (!ok.ok) {
        refused = { job, reason: ok.reason };
        break;
      }
    }
    if (!refused) {
      jobs.forEach((job, i) => {
        job.runtime = made[i]!;
        // disposed with the experiment's runtimes at the end of the run
        state.runtimes.set(`${name}:compare:${job.label}`, made[i]!);
      });
      if (name !== state.resolved.runtime || refusals.length) state.log(`odemor: compare: every entry is evaluated on runtime '${name}' (${refusals.join('; ')})`);
      return;
    }
    for (const rt of made) await rt.dispose?.();
    if (pinned) {
      throw new OdemorError(
        'CONFIG',
        `${describe(refused.job)}: evaluate.runtime is '${config.evaluate.runtime}', which cannot run this solver: ${refused.reason}; ` +
          'every entry of a comparison is evaluated on one runtime — choose one that runs every solver (tfjs runs them all), or leave evaluate.runtime out to pick one',
      );
    }
    refusals.push(`runtime '${name}' cannot run ${describe(refused.job)}: ${refused.reason}`);
  }
  throw new OdemorError('CONFIG', `compare: no runtime runs every solver of the comparison: ${refusals.join('; ')}`);
}

/** Where entry `job`'s trained model is kept (in the staging folder while the run is in progress). */
function modelFile(state: ExperimentState, job: CompareJob): string {
  return path.join(state.workDir, 'models', `${job.label}.odemor`);
}

/** The finished row of `job` in the unfinished run being resumed: its row, and its trained model saved. */
function finishedRow(state: ExperimentState, job: CompareJob): ResultRow | undefined {
  const row = state.resumed?.rows.find((r) => r.stage === 'compared' && r.method === job.label);
  return row && fs.existsSync(modelFile(state, job)) ? row : undefined;
}

/** Train `job`'s copy of the initial model with its solver, timing the whole `train` call and each epoch's end. */
async function trainJob(state: ExperimentState, job: CompareJob): Promise<{ model: ModelIR; trainSeconds: number; training?: CompareTraining }> {
  if (job.train === false || !job.trainer) return { model: job.model, trainSeconds: 0 };
  const trainer = job.trainer;
  const history: CompareTraining['history'] = [];
  const epoch = new AsyncSeriesHook<[info: EpochInfo]>(['info']);
  let start = 0;
  epoch.tapPromise('odemor-compare', async (info) => {
    const elapsed = (performance.now() - start) / 1000;
    history.push({ epoch: info.epoch, loss: info.loss, ...(Number.isFinite(info.accuracy) ? { accuracy: info.accuracy } : {}), seconds: info.seconds, elapsed });
    await state.exp.hooks.epoch.promise({ ...info, phase: `compare:${job.label}` });
  });
  const { beforeTrain, afterTrain, progress: progressHook } = state.exp.hooks;
  start = performance.now();
  const out = await trainer.train(job.model, trainOptionsOf(job.train, state.seed), {
    dataset: state.dataset,
    solver: job.solver,
    phase: 'train',
    hooks: { beforeTrain, afterTrain, progress: progressHook, epoch },
    onProgress: (done, total, detail) => progress(state, `compare:${job.label}`, `train ${job.label}`, done, total, detail),
  });
  const trainSeconds = (performance.now() - start) / 1000;
  if (!history.length) {
    // a trainer that fires no epoch hook: its own history, the epochs' seconds summed
    let sum = 0;
    for (const h of out.history) {
      sum += h.seconds;
      history.push({ epoch: h.epoch, loss: h.loss, ...(Number.isFinite(h.accuracy) ? { accuracy: h.accuracy } : {}), seconds: h.seconds, elapsed: sum });
    }
  }
  const s = out.summary;
  return {
    model: out.model,
    trainSeconds,
    training: { trainer: trainer.name, ...(s.backend ? { backend: s.backend } : {}), epochs: s.epochs, finalLoss: s.finalLoss, seconds: s.seconds, history },
  };
}

/**
 * Before the first timed training: one untimed epoch over one batch of the first entry that trains (its result
 * discarded), so that the runtime's start-up — the backend's initialisation, the first use of each kernel — is not
 * charged to whichever entry happens to train first.
 */
async function warmUp(state: ExperimentState, jobs: CompareJob[]): Promise<void> {
  const job = jobs.find((j) => j.train !== false && j.trainer);
  if (!job || job.train === false) return;
  const t = job.train;
  await job.trainer!.train(job.model, { ...trainOptionsOf(t, state.seed), epochs: 1, limit: Math.min(t.batch, t.limit ?? Infinity) }, { dataset: state.dataset, solver: job.solver, phase: 'train' });
}

/**
 * Evaluate a comparison entry's trained `model` with `solver` on `runtime` (a `compared` row, paired with the
 * reference), and its NFE per sample: the evaluator's count (from lastStats), else the executable's last predict,
 * else the fixed-step solver's count ({@link solverNfePerSample}). Shared by solver and trainer comparisons.
 */
export async function evaluateCompared(
  state: ExperimentState,
  model: ModelIR,
  label: string,
  runtime: Runtime,
  solver: Solver,
): Promise<{ row: ResultRow; nfe: Pick<ResultRow, 'nfePerSample' | 'nfeSource'> }> {
  let stats: SolveStats | undefined;
  const row = await evaluateModel(state, model, label, 'compared', label, model.block.n, undefined, { runtime, solver, onStats: (s) => void (stats = s) });
  if (row.nfePerSample !== undefined) return { row, nfe: { nfePerSample: row.nfePerSample, nfeSource: 'runtime' } };
  if (stats) return { row, nfe: { nfePerSample: stats.nfe, nfeSource: 'runtime' } };
  const count = solverNfePerSample(solver, model);
  return { row, nfe: count !== undefined ? { nfePerSample: count, nfeSource: 'solver' } : {} };
}

/** Train, save, evaluate `job` and publish its row. */
async function runJob(state: ExperimentState, job: CompareJob): Promise<void> {
  const { model, trainSeconds, training } = await trainJob(state, job);
  if (state.options.write !== false) await saveModel(modelFile(state, job), model);
  const { row, nfe } = await evaluateCompared(state, model, job.label, job.runtime, job.solver);
  const target = state.config.compare!.target;
  const timeToTarget = target === undefined ? undefined : (training?.history.find((h) => h.loss < target)?.elapsed ?? null);
  const { method, dim, stage, ...rest } = row;
  await publishRow(state, {
    method,
    dim,
    stage,
    solver: job.spec,
    ...rest,
    ...nfe,
    trainSeconds,
    ...(timeToTarget !== undefined ? { timeToTarget } : {}),
    ...(training ? { training } : {}),
  });
}

export const compareStage: Stage = {
  name: 'compare',
  async run(state) {
    if (!state.config.compare) return;
    if (state.config.compare.trainers) return runTrainerCompare(state);
    const jobs = state.compare ?? (await prepareCompare(state));
    const paired = state.config.evaluate.timing !== 'single';
    // --resume: an entry finished when its row and its model are in the staging folder; the first entry is the
    // reference of every speedup, so without it every entry runs again
    const done = new Map<number, ResultRow>();
    const first = jobs[0]!;
    if (finishedRow(state, first)) for (const job of jobs) {
      const row = finishedRow(state, job);
      if (row) done.set(job.index, row);
    }
    if (done.size) {
      const row = done.get(0)!;
      state.baseline = { seconds: row.wallSeconds, ...(state.regression ? (row.testMse !== undefined ? { mse: row.testMse } : {}) : { top1: row.top1 ?? Number.NaN }) };
      if (state.resumed?.regression) state.observed = state.resumed.regression;
      state.timingWarnings.push(...(state.resumed?.timing?.warnings ?? []));
      // every finished row first, so the partial results keep them all while the rest runs (sorted at the end)
      for (const job of jobs) if (done.has(job.index)) state.rows.push(done.get(job.index)!);
      state.log(`odemor: compare: ${done.size} of ${jobs.length} entries finished before (${jobs.filter((j) => done.has(j.index)).map((j) => j.label).join(', ')})`);
      if (paired && done.size < jobs.length) state.reference = await buildFor(state, await loadModel(modelFile(state, first)), first.runtime, first.solver);
    } else {
      // the partial results mark the staging folder as this config's run before the first entry trains
      await persistPartial(state);
    }
    await warmUp(state, jobs.filter((j) => !done.has(j.index)));
    for (const job of jobs) {
      if (done.has(job.index)) continue;
      try {
        await runJob(state, job);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        if (!state.baseline) {
          // the first entry is the baseline of every speedup: the comparison cannot go on without it
          throw new OdemorError(OdemorError.is(e) ? e.code : 'RUNTIME', `${describe(job)}, the reference entry of the comparison, failed: ${error}`, { cause: e });
        }
        state.failures.push({ method: job.label, dim: job.model.block.n, stage: 'compared', error });
        state.log(`odemor: ${describe(job)} failed: ${error}`);
        await persistPartial(state);
      }
    }
    const order = new Map(jobs.map((j) => [j.label, j.index]));
    state.rows.sort((a, b) => (order.get(a.method) ?? -1) - (order.get(b.method) ?? -1));
  },
};

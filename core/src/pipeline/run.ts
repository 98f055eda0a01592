/**
 * The pipeline: prepare an experiment (config, plugins, every name resolved, every option checked), then run
 * its stages in order over one typed state (docs/architecture.md#stages). Any error fires `failed`; the
 * baseline's executable (paired timing) and the runtimes are disposed in a `finally`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import type { ExperimentResults } from '../hooks.js';
import { loadModel } from '../ir/io.js';
import { readSafetensors } from '../import/safetensors.js';
import { readTensorNameMap } from '../import/map.js';
import type { ModelIR } from '../ir/types.js';
import { loadConfig, resolveConfigPath, validateConfigObject, type LoadedConfig } from '../config/load.js';
import { validatePluginOptions } from '../config/plugin-options.js';
import { DEFAULT_SOLVER, snapshotsSchema, trainSchema, type ExperimentConfig } from '../config/schema.js';
import { coreModelsPlugin } from '../model/plugin.js';
import { unwritableFolderReason } from '../util/index.js';
import { resolveUse, importPlugin } from '../plugins/resolve.js';
import { STAGING_DIR, acquireLock, configFingerprint, readPartial, type RunLock } from './persist.js';
import { DEFAULT_TRAIN_RUNTIMES, resolveTrainer } from './trainers.js';
import type { ExperimentState, Resolved, RunOptions, Stage } from './state.js';
import { DEFAULT_EVALUATORS, setupStage } from './stages/setup.js';
import { modelStage, trainStage } from './stages/model.js';
import { originalsStage } from './stages/originals.js';
import { snapshotsStage } from './stages/snapshots.js';
import { reduceStage } from './stages/reduce.js';
import { reportStage } from './stages/report.js';
import { finetuneJobs } from './stages/finetune.js';
import { checkCompare, compareStage, resolveCompare } from './stages/compare.js';
import { resolveCompareTrainers } from './stages/compare-trainers.js';
import { distributedStages } from './distributed.js';
import { checkAdaptive } from './adaptive.js';

export type { Resolved, RunOptions } from './state.js';
export { DEFAULT_TRAIN_RUNTIMES };

/** The stages of an experiment, in order (`compare` does its work only for a solver comparison, when `train` and `originals` do none). */
export const STAGES: readonly Stage[] = Object.freeze([setupStage, modelStage, trainStage, originalsStage, snapshotsStage, reduceStage, compareStage, reportStage]);

export interface RunResult {
  results: ExperimentResults;
  outDir: string;
  experiment: Experiment;
  /** every file the run wrote (absolute paths), in order */
  written: string[];
}

/** Run one experiment from a config file (or an already loaded config), stage by stage. */
export async function runExperiment(source: string | LoadedConfig, options: RunOptions = {}): Promise<RunResult> {
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  for (const p of options.plugins ?? []) await exp.use(p);
  await options.setup?.(exp);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const state = { exp, loaded, options, log, runtimes: new Map(), rows: [], analysis: {}, written: [], failures: [], timingWarnings: [] } as unknown as ExperimentState;
  let lock: RunLock | undefined;
  try {
    await prepare(state);
    if (options.write !== false) lock = openRunFolder(state);
    for (const stage of options.queue ? distributedStages(STAGES, options.queue) : STAGES) {
      await exp.hooks.beforeStage.promise(stage.name);
      await stage.run(state);
      await exp.hooks.afterStage.promise(stage.name);
    }
    if (state.failures.length) {
      const list = state.failures.map((f) => `${f.method}@${f.dim} (${f.stage}): ${f.error}`).join('; ');
      throw new OdemorError('RUNTIME', `${state.failures.length} model(s) of the sweep failed: ${list}; the other rows are in ${path.join(state.outDir, 'results.json')}`);
    }
  } catch (e) {
    await exp.hooks.failed.promise(e instanceof Error ? e : new Error(String(e)));
    throw e;
  } finally {
    await releaseRun(state, log);
    lock?.release();
  }
  return { results: state.results!, outDir: state.outDir, experiment: exp, written: state.written };
}

/**
 * The end of a run, however it ended: the baseline's executable (paired timing) is disposed before the runtimes it
 * was built on, then the runtimes. A failure to dispose is logged, not thrown (it must not hide the run's own error).
 */
export async function releaseRun(state: ExperimentState, log: (line: string) => void): Promise<void> {
  const reference = state.reference;
  delete state.reference;
  try {
    await reference?.dispose();
  } catch (e) {
    log(`odemor: disposing the baseline's executable failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const rt of state.runtimes.values()) await rt.dispose?.();
}

/**
 * Lock the results folder and set up its staging folder: continue the unfinished run of the same config with
 * `resume`, discard one with `restart`, and otherwise refuse to mix with one.
 */
export function openRunFolder(state: ExperimentState): RunLock {
  const lock = acquireLock(state.outDir, state.log);
  try {
    const work = state.workDir;
    const partial = readPartial(work);
    if (state.options.resume) {
      if (partial && partial.fingerprint !== state.fingerprint) {
        throw new OdemorError('CONFIG', `cannot resume the run in ${state.outDir}: it was started with another config (or seed); rerun with --restart to discard it`);
      }
      if (partial) {
        state.resumed = partial;
        state.analysis = { ...(partial.analysis ?? {}) };
        state.log(`odemor: resuming the unfinished run in ${state.outDir} (${partial.rows.length} rows finished${partial.training ? ', training done' : ''})`);
      } else {
        state.log(`odemor: nothing to resume in ${state.outDir}; starting the run`);
        fs.rmSync(work, { recursive: true, force: true });
      }
    } else if (fs.existsSync(work)) {
      if (!state.options.restart) {
        const rows = partial ? `${partial.rows.length} rows finished` : 'no rows finished';
        throw new OdemorError('CONFIG', `${state.outDir} holds an unfinished run (${rows}); continue it with --resume or discard it with --restart`);
      }
      state.log(`odemor: discarding the unfinished run in ${state.outDir}`);
      fs.rmSync(work, { recursive: true, force: true });
    }
    // the staging folder appears with the first file the run keeps (a run that fails early leaves nothing)
    return lock;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** The config after `configLoaded`, the seed and results folder, every plugin name resolved, the checkpoint. */
export async function prepare(state: ExperimentState): Promise<void> {
  const { exp, loaded, options } = state;
  let config: ExperimentConfig = await exp.hooks.configLoaded.promise(loaded.config);
  // a configLoaded tap may transform the config; validate again
  config = validateConfigObject(config, loaded.file).config;
  if (options.seed !== undefined) config = { ...config, seed: options.seed };
  state.config = config;
  state.seed = config.seed;
  state.outDir = path.resolve(options.outDir ?? (config.output.dir ? resolveConfigPath(loaded, config.output.dir) : path.join(process.cwd(), 'results', config.name)));
  state.workDir = options.write === false ? state.outDir : path.join(state.outDir, STAGING_DIR);
  checkOutDir(state.outDir, loaded);
  options.onOutDir?.(state.outDir);
  state.fingerprint = configFingerprint(fingerprintedConfig(config));
  for (const [i, p] of config.plugins.entries()) await exp.use(await importPlugin(p, loaded.baseDir, `${loaded.file}: plugins[${i}]`));
  await prepareModelConfig(state, config, loaded);
  state.resolved = await resolveAll(exp, config, loaded, state.solverConfig.use, trains(state));
  validatePluginOptions(exp, config, loaded, state.resolved, state.solverConfig); // validate every plugin's options before any work
  checkCompare(exp, config, loaded, state.resolved, state.solverConfig as unknown as Record<string, unknown>);
  const adaptive = await checkAdaptive(exp, config, loaded);
  if (adaptive) state.resolved = { ...state.resolved, adaptive };
  state.solverSpec = solverSpecOf(state.solverConfig, state.resolved.solver);
  state.startedAt = new Date().toISOString();
}

/**
 * The results folder must be a folder of its own: not a file, not the config's folder or the working
 * directory (a run replaces the files of the previous run there), and creatable.
 */
function checkOutDir(outDir: string, loaded: LoadedConfig): void {
  const bad = (why: string) => new OdemorError('CONFIG', `the results folder ${outDir} ${why}; choose another (--out DIR or output.dir)`);
  if (outDir === path.resolve(process.cwd())) throw bad('is the working directory');
  if (loaded.file !== '<inline>' && outDir === path.resolve(loaded.baseDir)) throw bad("is the config's own folder");
  if (path.dirname(outDir) === outDir) throw bad('is a file system root');
  const why = unwritableFolderReason(outDir);
  if (why) throw bad(`cannot be used: ${why}`);
}

/** The checkpoint (if any), `model.solver` merged key by key, and `train` with its defaults (false: no training). */
async function prepareModelConfig(state: ExperimentState, config: ExperimentConfig, loaded: LoadedConfig): Promise<void> {
  const checkpoint: ModelIR | undefined = config.model.checkpoint ? await loadModel(resolveConfigPath(loaded, config.model.checkpoint)) : undefined;
  if (checkpoint) state.checkpoint = checkpoint;
  // a checkpoint's solver applies unless the config overrides it, key by key
  state.solverConfig = { ...DEFAULT_SOLVER, ...(checkpoint?.solver ?? {}), ...(config.model.solver ?? {}) } as ExperimentState['solverConfig'];
  if (config.model.weights !== undefined) state.weights = await readWeights(loaded, config.model.weights, config.model.weightsMap);
  // no `train` key: train with the schema's defaults, unless a checkpoint or weights are given
  state.train = config.train ?? (config.model.checkpoint || config.model.weights ? false : trainSchema.parse({}));
}

/** `model.weights` and `model.weightsMap`, read before any work; errors name the config file and the key. */
async function readWeights(loaded: LoadedConfig, weights: string, map: string | undefined): Promise<NonNullable<ExperimentState['weights']>> {
  const at = async <T>(key: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (OdemorError.is(e)) throw new OdemorError('CONFIG', `${loaded.file}: ${key}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  const file = await at('model.weights', () => readSafetensors(resolveConfigPath(loaded, weights)));
  if (map === undefined) return { file };
  const mapFile = resolveConfigPath(loaded, map);
  return { file, map: await at('model.weightsMap', () => readTensorNameMap(mapFile)), mapSource: mapFile };
}

/**
 * `evaluate.use`, or without it a provisional default (the setup stage picks the final one once the dataset is
 * known: 'regression' for a regression dataset): 'classification' when installed, else 'regression'.
 */
async function resolveEvaluator(exp: Experiment, use: string | undefined, base: string): Promise<string> {
  if (use !== undefined) return resolveUse(exp, 'Evaluator', use, base);
  try {
    return await resolveUse(exp, 'Evaluator', DEFAULT_EVALUATORS.classification, base);
  } catch (e) {
    if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
    try {
      return await resolveUse(exp, 'Evaluator', DEFAULT_EVALUATORS.regression, base);
    } catch {
      throw e;
    }
  }
}

/**
 * The config a run's fingerprint is taken of: the config itself, with `evaluate.use` as 'classification' when it
 * is left out — what the config schema filled in before the default depended on the dataset — so that runs
 * started before can still be resumed.
 */
export function fingerprintedConfig(config: ExperimentConfig): ExperimentConfig {
  if (config.evaluate.use !== undefined) return config;
  const { use: _u, ...rest } = config.evaluate;
  return { ...config, evaluate: { use: DEFAULT_EVALUATORS.classification, ...rest } };
}

/** Whether the experiment trains (a trainer is resolved only then). */
function trains(state: ExperimentState): boolean {
  return state.train !== false && state.train.epochs > 0;
}

function solverSpecOf(sc: ExperimentState['solverConfig'], use: string): ExperimentState['solverSpec'] {
  return {
    use,
    dt: sc.dt,
    t0: sc.t0,
    t1: sc.t1,
    ...(sc.rtol !== undefined ? { rtol: sc.rtol } : {}),
    ...(sc.atol !== undefined ? { atol: sc.atol } : {}),
  };
}

/**
 * Check a config as far as possible without running it: the schema (done by loading), then every
 * plugin name resolves (loading the plugins). Returns the resolved names.
 */
export async function checkExperiment(source: string | LoadedConfig): Promise<Resolved> {
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  for (const [i, p] of loaded.config.plugins.entries()) await exp.use(await importPlugin(p, loaded.baseDir, `${loaded.file}: plugins[${i}]`));
  const state = { exp, loaded } as ExperimentState;
  await prepareModelConfig(state, loaded.config, loaded);
  const resolved = await resolveAll(exp, loaded.config, loaded, state.solverConfig.use, trains(state));
  validatePluginOptions(exp, loaded.config, loaded, resolved, state.solverConfig); // validate every plugin's options before any work
  checkCompare(exp, loaded.config, loaded, resolved, state.solverConfig as unknown as Record<string, unknown>);
  const adaptive = await checkAdaptive(exp, loaded.config, loaded);
  return adaptive ? { ...resolved, adaptive } : resolved;
}

async function resolveAll(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig, solverUse: string, trains: boolean): Promise<Resolved> {
  const base = loaded.baseDir;
  const at = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (OdemorError.is(e) && e.code === 'PLUGIN') throw new OdemorError('PLUGIN', `${loaded.file}: ${key}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  const dataset = await at('dataset.use', () => resolveUse(exp, 'Dataset', config.dataset.use, base));
  const model = await at('model.use', () => resolveUse(exp, 'Model', config.model.use, base));
  const solver = await at('model.solver.use', () => resolveUse(exp, 'Solver', solverUse, base));
  const evaluator = await at('evaluate.use', () => resolveEvaluator(exp, config.evaluate.use, base));
  let runtime: string;
  if (config.evaluate.runtime) runtime = await at('evaluate.runtime', () => resolveUse(exp, 'Runtime', config.evaluate.runtime!, base));
  else {
    try {
      runtime = await resolveUse(exp, 'Runtime', 'onnx', base); // the compiled runtime when installed, else the eager one
    } catch {
      runtime = await at('evaluate.runtime', () => resolveUse(exp, 'Runtime', 'tfjs', base));
    }
  }
  const t = config.train || trainSchema.parse({});
  const trainer = trains ? await at('train.use', () => resolveTrainer(exp, t.use, t.runtime, base)) : undefined;
  const finetuners: string[] = [];
  for (const job of finetuneJobs(config)) {
    const ft = job.config;
    const key = ft.use ? (Array.isArray(config.finetune) ? `finetune[${job.index}].use` : 'finetune.use') : 'train.use';
    finetuners[job.index] = await at(key, () => resolveTrainer(exp, ft.use ?? t.use, ft.runtime ?? t.runtime, base));
  }
  const finetuner = finetuners.find((f) => f !== undefined);
  const reducers: string[] = [];
  for (const [i, r] of config.reducers.entries()) reducers.push(await at(`reducers[${i}].use`, () => resolveUse(exp, 'Reducer', r.use, base)));
  const snapshotter = config.snapshots ? await at('snapshots.use', () => resolveUse(exp, 'Snapshotter', config.snapshots!.use, base)) : undefined;
  if (!snapshotter && config.reducers.length) {
    // the default snapshotter is resolved lazily only if a reducer needs snapshots
    try {
      await resolveUse(exp, 'Snapshotter', snapshotsSchema.shape.use.parse(undefined), base);
    } catch {
      /* reported when needed */
    }
  }
  const report = config.report ? await at('report.use', () => resolveUse(exp, 'Report', config.report!.use, base)) : undefined;
  const compare = await resolveCompare(exp, config, loaded);
  const compareTrainers = await resolveCompareTrainers(exp, config, loaded);
  return {
    dataset,
    model,
    solver,
    evaluator,
    runtime,
    reducers,
    ...(snapshotter ? { snapshotter } : {}),
    ...(report ? { report } : {}),
    ...(trainer ? { trainer } : {}),
    ...(finetuner ? { finetuner, finetuners } : {}),
    ...(compare ? { compare } : {}),
    ...(compareTrainers ? { compareTrainers } : {}),
  };
}

import os from 'node:os';
import path from 'node:path';
import { Experiment, type OdemorPlugin } from '../container.js';
import { OdemorError } from '../errors.js';
import type { ExperimentResults, ResultRow, TrainSummary } from '../hooks.js';
import type {
  Dataset,
  EvaluationResult,
  Executable,
  ReducedDiagnostics,
  ReducedModel,
  Runtime,
  Snapshotter,
  SnapshotSet,
  Solver,
  TrainResult,
} from '../extension-points.js';
import type { ModelIR } from '../ir/types.js';
import { blockFeatureModel } from '../ir/validate.js';
import { loadConfig, resolveConfigPath, validateConfigObject, type LoadedConfig } from '../config/load.js';
import { validatePluginOptions } from '../config/plugin-options.js';
import { DEFAULT_SOLVER, type ExperimentConfig } from '../config/schema.js';
import { resolveUse, importPlugin } from '../plugins/resolve.js';
import { blockCost, blockSvd, denseA, toTensor32 } from '../reduce/index.js';
import { coreModelsPlugin, initTfjs, train, loadModel, saveModel, validateModel } from '../tfjs/index.js';
import { resultsMarkdown } from './results.js';
import { writeFileAtomic } from '../util/index.js';

export interface RunOptions {
  /** results folder (default: config output.dir, else results/<name> under the working directory) */
  outDir?: string;
  /** override the config's seed */
  seed?: number;
  /** plugins to register before the config's (used by tests and embedders) */
  plugins?: OdemorPlugin[];
  /** called with the experiment before anything runs, e.g. to tap hooks (the CLI's progress bars) */
  setup?: (exp: Experiment) => void | Promise<void>;
  /** write results files (default true) */
  write?: boolean;
  /** where notices go (default: standard error) */
  log?: (line: string) => void;
}

export interface RunResult {
  results: ExperimentResults;
  outDir: string;
  experiment: Experiment;
}

/** The implementation names a config's `use:` keys resolved to. */
export interface Resolved {
  dataset: string;
  model: string;
  solver: string;
  evaluator: string;
  runtime: string;
  snapshotter?: string;
  reducers: string[];
  report?: string;
}

/** Run one experiment from a config file (or an already loaded config), stage by stage. */
export async function runExperiment(source: string | LoadedConfig, options: RunOptions = {}): Promise<RunResult> {
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  for (const p of options.plugins ?? []) await exp.use(p);
  await options.setup?.(exp);

  let config: ExperimentConfig = await exp.hooks.configLoaded.promise(loaded.config);
  // a configLoaded tap may transform the config; validate again
  config = validateConfigObject(config, loaded.file).config;
  if (options.seed !== undefined) config = { ...config, seed: options.seed };
  const seed = config.seed;
  const outDir = path.resolve(options.outDir ?? (config.output.dir ? resolveConfigPath(loaded, config.output.dir) : path.join(process.cwd(), 'results', config.name)));

  // ── resolve every plugin name before doing any work ──
  for (const p of config.plugins) await exp.use(await importPlugin(p, loaded.baseDir));
  // a checkpoint's solver applies unless the config overrides it, key by key
  const checkpoint = config.model.checkpoint ? await loadModel(resolveConfigPath(loaded, config.model.checkpoint)) : undefined;
  const sc = { ...DEFAULT_SOLVER, ...(checkpoint?.solver ?? {}), ...(config.model.solver ?? {}) };
  const resolved = await resolveAll(exp, config, loaded, sc.use);
  validatePluginOptions(exp, config, loaded, resolved); // validate every plugin's options before any work

  const startedAt = new Date().toISOString();
  const backend = await initTfjs();
  const progress = (task: string, label: string, done: number, total: number, detail?: string) =>
    exp.hooks.progress.call({ task, label, done, total, ...(detail ? { detail } : {}) });

  // ── dataset, solver, runtimes ──
  const { use: _d, ...datasetOptions } = config.dataset;
  const dataset: Dataset = await exp.factory('Dataset', resolved.dataset)({ ...datasetOptions, seed });
  const { use: _s, ...solverOptions } = sc;
  const solver: Solver = exp.factory('Solver', resolved.solver)(solverOptions);
  const tfjsRuntime: Runtime = await exp.factory('Runtime', 'tfjs')({ solver, hooks: exp.hooks });
  const evalRuntime: Runtime =
    resolved.runtime === 'tfjs' ? tfjsRuntime : await exp.factory('Runtime', resolved.runtime)({ threads: config.evaluate.threads });

  // ── model: checkpoint or fresh, then training ──
  let model: ModelIR;
  const solverSpec = {
    use: resolved.solver,
    dt: sc.dt,
    t0: sc.t0,
    t1: sc.t1,
    ...(sc.rtol !== undefined ? { rtol: sc.rtol } : {}),
    ...(sc.atol !== undefined ? { atol: sc.atol } : {}),
  };
  if (checkpoint) {
    model = { ...checkpoint, solver: solverSpec };
  } else {
    const { use: _m, checkpoint: _c, solver: _so, ...modelOptions } = config.model;
    model = exp.factory('Model', resolved.model)(modelOptions, { dataset: dataset.info, seed, solver: solverSpec });
  }
  validateModel(model);
  let training: TrainSummary | undefined;
  const trainCfg = config.train === undefined ? (config.model.checkpoint ? false : undefined) : config.train;
  if (trainCfg !== false) {
    const { checkpoint: saveEachEpoch, ...t } = trainCfg ?? { epochs: 10, batch: 64, optimizer: 'adam' as const, lr: 0.01, lrDecay: 1, augment: false, checkpoint: true };
    if (t.epochs > 0) {
      const out = await train(model, dataset, {
        ...t,
        seed,
        solver,
        hooks: exp.hooks,
        phase: 'train',
        ...(saveEachEpoch && options.write !== false ? { checkpoint: path.join(outDir, 'model.odemor') } : {}),
        onProgress: (done: number, total: number, detail?: string) => progress('train', 'train', done, total, detail),
      });
      model = out.model;
      training = out.summary;
      // saved now (atomically), so a failure in a later stage does not lose a long training run
      if (options.write !== false) await saveModel(path.join(outDir, 'model.odemor'), model);
    }
  }

  // a runtime that cannot run a model (an adaptive solver in a static graph) falls back to tfjs, saying so once
  const warned = new Set<string>();
  const pickRuntime = (m: ModelIR): Runtime => {
    if (evalRuntime === tfjsRuntime) return tfjsRuntime;
    const ok = evalRuntime.supports(m);
    if (ok.ok) return evalRuntime;
    if (!warned.has(ok.reason)) {
      warned.add(ok.reason);
      (options.log ?? ((line: string) => process.stderr.write(line + '\n')))(`odemor: ${ok.reason}; falling back to the tfjs runtime`);
    }
    return tfjsRuntime;
  };

  // top-k for k ≥ the number of classes is trivially 1: drop those k, saying so
  const topk = config.evaluate.topk.filter((k) => k < dataset.info.numClasses || k === 1);
  if (topk.length < config.evaluate.topk.length) {
    (options.log ?? ((line: string) => process.stderr.write(line + '\n')))(
      `odemor: evaluate.topk: dropped k = ${config.evaluate.topk.filter((k) => !topk.includes(k)).join(', ')} (the dataset has ${dataset.info.numClasses} classes)`,
    );
  }

  // ── evaluation helper ──
  const rows: ResultRow[] = [];
  let baseline: { seconds: number; top1: number } | undefined;
  const evaluator = exp.factory('Evaluator', resolved.evaluator)({});
  const evaluateModel = async (m: ModelIR, label: string, stage: ResultRow['stage'], method: string, dim: number, diag?: ReducedDiagnostics) => {
    const rt = pickRuntime(m);
    const exec: Executable = await rt.build(m, { solver, tableau: solver.tableau, hooks: exp.hooks, threads: config.evaluate.threads });
    let ev: EvaluationResult;
    try {
      ev = await evaluator.evaluate(exec, dataset, {
        repeats: config.evaluate.repeats,
        topk,
        batch: config.evaluate.batch,
        ...(config.evaluate.limit ? { limit: config.evaluate.limit } : {}),
        ...(baseline ? { baselineSeconds: baseline.seconds } : {}),
        onProgress: (done, total) => progress(`evaluate:${label}`, `eval ${label}`, done, total),
      });
    } finally {
      await exec.dispose();
    }
    const cost = diag ?? blockCost(m.block);
    const top1 = ev.topk[1] ?? Number.NaN;
    if (!baseline) baseline = { seconds: ev.wallSeconds, top1 };
    const row: ResultRow = {
      method,
      dim,
      // interpolation methods evaluate m (+ o) activations, which may differ from k
      ...(diag?.points && diag.activations !== dim ? { points: diag.activations } : {}),
      stage,
      top1,
      top3: ev.topk[3] ?? null,
      topk: Object.fromEntries(Object.entries(ev.topk).map(([k, v]) => [`top${k}`, v])),
      wallSeconds: ev.wallSeconds,
      timings: ev.timings,
      throughput: ev.throughput,
      speedup: baseline.seconds / ev.wallSeconds,
      ...(convSeconds !== undefined ? { speedupVsConv: convSeconds / ev.wallSeconds } : {}),
      relativeTop1: top1 / baseline.top1,
      activations: cost.activations,
      params: cost.params,
      macsPerRhs: cost.macsPerRhs,
      stateDim: cost.stateDim,
      ...(diag?.errorConstant !== undefined ? { errorConstant: diag.errorConstant } : {}),
      ...(diag?.podError !== undefined ? { podError: diag.podError } : {}),
      runtime: exec.info.runtime,
      backend: exec.info.backend,
      ...(exec.info.threads ? { threads: exec.info.threads } : {}),
      samples: ev.samples,
    };
    await exp.hooks.evaluated.promise(row);
    rows.push(row);
    return row;
  };

  const n = model.block.n;
  let convSeconds: number | undefined;
  if (model.block.kind === 'ode' && model.block.A.type === 'conv') {
    // the paper times reduced models against the dense Toeplitz form of the convolution (its baseline);
    // the convolutional original is the honest one: both are evaluated, speedups are against Toeplitz
    const toeplitz: ModelIR = { ...model, block: { ...model.block, A: { type: 'dense', weight: toTensor32(denseA(model.block), [n, n]) } } };
    await evaluateModel(toeplitz, 'original (Toeplitz)', 'original', 'original', n);
    convSeconds = (await evaluateModel(model, 'original (conv)', 'original', 'original-conv', n)).wallSeconds;
    for (const r of rows) r.speedupVsConv = convSeconds / r.wallSeconds;
  } else {
    await evaluateModel(model, 'original', 'original', 'original', n);
  }

  const analysis: NonNullable<ExperimentResults['analysis']> = {};

  // ── snapshots ──
  const reducerInstances = config.reducers.map((r, i) => {
    const { use: _u, dims: _dims, points: _p, energy: _e, ...ropts } = r;
    return { cfg: r, name: resolved.reducers[i]!, reducer: exp.factory('Reducer', resolved.reducers[i]!)({ ...ropts, seed }) };
  });
  let snapshots: SnapshotSet | undefined;
  if (reducerInstances.some((r) => r.reducer.needsSnapshots)) {
    if (model.block.kind !== 'ode') throw new OdemorError('MODEL', 'snapshots need a model with a full ODE block');
    const snapCfg = config.snapshots ?? { use: 'stream', every: 2, batch: 500 };
    const { use: _u, every, limit, batch, ...sopts } = snapCfg;
    const snapshotter: Snapshotter = exp.factory('Snapshotter', resolved.snapshotter ?? 'stream')(sopts);
    snapshotter.begin(n);
    const snapRuntime = evalRuntime.snapshotBatch ? pickRuntime(model) : tfjsRuntime;
    const total = Math.min(limit ?? Infinity, dataset.info.trainSize);
    let done = 0;
    for await (const b of dataset.batches('train', batch, { limit: total })) {
      const sb = await snapRuntime.snapshotBatch!(model, b.x, b.size, {
        every,
        solver,
        ...(solver.tableau ? { tableau: solver.tableau } : {}),
        // native Gram matrices when the snapshotter only needs those (the tfjs runtime ignores the flag)
        ...(snapshotter.prefersGram ? { gram: true, raw: false } : {}),
      });
      await exp.hooks.snapshotBatch.promise(sb);
      snapshotter.consume(sb);
      done += b.size;
      progress('snapshots', 'snapshots', done, total);
    }
    snapshots = snapshotter.finish();
  }

  // ── reduce, evaluate, fine-tune ──
  for (const { cfg, name, reducer } of reducerInstances) {
    await reducer.fit({ model, ...(snapshots ? { snapshots } : {}), seed });
    const info = reducer.analysis?.() ?? {};
    if (info.weightSingularValues && !analysis.weightSingularValues) analysis.weightSingularValues = info.weightSingularValues;
    if (info.neuronScores && name === 'apoz') analysis.apozScores = info.neuronScores;
    const dims = expandDims(cfg, snapshots, n);
    await exp.hooks.beforeReduce.promise(name, dims);
    for (const d of dims) {
      let reduced: ReducedModel = reducer.reduce(d);
      reduced = await exp.hooks.reduced.promise(reduced);
      const pts = reduced.diagnostics.points;
      if (name === 'deim' && pts && pts.length > (analysis.deimPoints?.length ?? 0)) analysis.deimPoints = pts;
      const label = `${name}@${d.k}`;
      await evaluateModel(reduced.model, label, 'reduced', name, d.k, reduced.diagnostics);
      if (config.output.saveModels) await saveModel(path.join(outDir, 'models', `${name}-${d.k}.odemor`), reduced.model);
      if (config.finetune && config.finetune.epochs > 0) {
        const ft = config.finetune;
        const base = typeof trainCfg === 'object' ? trainCfg : undefined;
        const augment = base?.augment ?? false;
        // the block's outputs are fixed while only the post layers train: compute them once on the
        // evaluation runtime (onnx is ~80× faster than tfjs-wasm here) rather than through tfjs
        const featRt = augment ? tfjsRuntime : pickRuntime(reduced.model);
        const featExec =
          featRt === tfjsRuntime
            ? undefined
            : await featRt.build(blockFeatureModel(reduced.model), { solver, tableau: solver.tableau, threads: config.evaluate.threads });
        let out: TrainResult;
        try {
          out = await train(reduced.model, dataset, {
            epochs: ft.epochs,
            batch: ft.batch ?? base?.batch ?? 64,
            optimizer: ft.optimizer ?? base?.optimizer ?? 'adam',
            lr: ft.lr ?? base?.lr ?? 0.01,
            lrDecay: base?.lrDecay ?? 1,
            ...(base?.momentum !== undefined ? { momentum: base.momentum } : {}),
            ...(ft.limit ? { limit: ft.limit } : {}),
            augment,
            freeze: 'all-but-post',
            seed,
            solver,
            hooks: exp.hooks,
            phase: 'finetune',
            ...(featExec ? { blockFeatures: (x: Float32Array, b: number) => featExec.predict(x, b) } : {}),
            onProgress: (done: number, total: number, detail?: string) => progress(`finetune:${label}`, `finetune ${label}`, done, total, detail),
          });
        } finally {
          await featExec?.dispose();
        }
        await evaluateModel(out.model, `${label}+ft`, 'finetuned', name, d.k, reduced.diagnostics);
      }
    }
  }

  if (snapshots && !analysis.apozScores) analysis.apozScores = [...snapshots.final.meanAbs];
  if (!analysis.weightSingularValues && model.block.kind === 'ode' && n <= 256) analysis.weightSingularValues = blockSvd(model.block).singularValues;

  const results: ExperimentResults = {
    format: 'odemor-results',
    version: 1,
    name: config.name,
    seed,
    startedAt,
    finishedAt: new Date().toISOString(),
    config,
    environment: { node: process.version, tfjsBackend: backend, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length },
    ...(training ? { training } : {}),
    ...(snapshots
      ? {
          snapshots: {
            n: snapshots.n,
            snapshots: snapshots.snapshots,
            samples: snapshots.samples,
            stateSingularValues: snapshots.stateSingularValues,
            nonlinearSingularValues: snapshots.nonlinearSingularValues,
          },
        }
      : {}),
    ...(Object.keys(analysis).length ? { analysis } : {}),
    rows,
    outDir,
  };
  if (options.write !== false) {
    await writeFileAtomic(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    await writeFileAtomic(path.join(outDir, 'results.md'), resultsMarkdown(results));
  }
  if (resolved.report && options.write !== false) {
    const { use: _r, ...ropts } = config.report!;
    exp.factory('Report', resolved.report)(ropts).apply(exp.hooks);
  }
  await exp.hooks.report.promise(results);
  return { results, outDir, experiment: exp };
}

/**
 * Check a config as far as possible without running it: the schema (done by loading), then every
 * plugin name resolves (loading the plugins). Returns the resolved names.
 */
export async function checkExperiment(source: string | LoadedConfig): Promise<Resolved> {
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  for (const p of loaded.config.plugins) await exp.use(await importPlugin(p, loaded.baseDir));
  const checkpoint = loaded.config.model.checkpoint ? await loadModel(resolveConfigPath(loaded, loaded.config.model.checkpoint)) : undefined;
  const resolved = await resolveAll(exp, loaded.config, loaded, loaded.config.model.solver?.use ?? checkpoint?.solver.use ?? DEFAULT_SOLVER.use);
  validatePluginOptions(exp, loaded.config, loaded, resolved); // validate every plugin's options before any work
  return resolved;
}

async function resolveAll(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig, solverUse: string): Promise<Resolved> {
  const base = loaded.baseDir;
  const at = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof OdemorError && e.code === 'PLUGIN') throw new OdemorError('PLUGIN', `${loaded.file}: ${key}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  const dataset = await at('dataset.use', () => resolveUse(exp, 'Dataset', config.dataset.use, base));
  const model = await at('model.use', () => resolveUse(exp, 'Model', config.model.use, base));
  const solver = await at('model.solver.use', () => resolveUse(exp, 'Solver', solverUse, base));
  const evaluator = await at('evaluate.use', () => resolveUse(exp, 'Evaluator', config.evaluate.use, base));
  let runtime: string;
  if (config.evaluate.runtime) runtime = await at('evaluate.runtime', () => resolveUse(exp, 'Runtime', config.evaluate.runtime!, base));
  else {
    try {
      runtime = await resolveUse(exp, 'Runtime', 'onnx', base);
    } catch {
      runtime = 'tfjs';
    }
  }
  const reducers: string[] = [];
  for (const [i, r] of config.reducers.entries()) reducers.push(await at(`reducers[${i}].use`, () => resolveUse(exp, 'Reducer', r.use, base)));
  const snapshotter = config.snapshots ? await at('snapshots.use', () => resolveUse(exp, 'Snapshotter', config.snapshots!.use, base)) : undefined;
  if (!snapshotter && config.reducers.length) {
    // the default snapshotter is resolved lazily only if a reducer needs snapshots
    try {
      await resolveUse(exp, 'Snapshotter', 'stream', base);
    } catch {
      /* reported when needed */
    }
  }
  const report = config.report ? await at('report.use', () => resolveUse(exp, 'Report', config.report!.use, base)) : undefined;
  return { dataset, model, solver, evaluator, runtime, reducers, ...(snapshotter ? { snapshotter } : {}), ...(report ? { report } : {}) };
}

function expandDims(cfg: ExperimentConfig['reducers'][number], snapshots: SnapshotSet | undefined, n: number) {
  let ks: number[];
  if (cfg.dims === 'auto') {
    if (!snapshots) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dims: auto needs snapshots`);
    const energy = cfg.energy ?? 0.9999;
    const sv = snapshots.stateSingularValues;
    const total = sv.reduce((a, s) => a + s * s, 0);
    let acc = 0;
    let k = sv.length;
    for (let i = 0; i < sv.length; i++) {
      acc += sv[i]! * sv[i]!;
      if (acc >= energy * total) {
        k = i + 1;
        break;
      }
    }
    ks = [k];
  } else ks = cfg.dims;
  const points = cfg.points;
  return ks.map((k, i) => {
    if (k > n) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dimension ${k} exceeds the ODE state dimension n = ${n}`);
    const m = Array.isArray(points) ? points[i] : points;
    return m === undefined ? { k } : { k, m };
  });
}


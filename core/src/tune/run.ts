/**
 * `odemor tune`: the fastest reduced model whose accuracy drop against the original stays within a budget
 * (docs/architecture.md#tune). It runs the pipeline's own stages up to the snapshot pass (setup, model, train,
 * originals, snapshots: once), then searches each reducer's dimensions ({@link searchDims}): every candidate is
 * reduced, optionally fine-tuned and evaluated with the pipeline's paired timing against the original, and
 * persisted as it finishes (a row of the staging folder's partial results.json and its model), so `--resume`
 * continues a stopped search without measuring a candidate twice. At the end the staging folder gets tune.json,
 * tune.md, pareto.svg, chosen.odemor and chosen.onnx (compiled by `odemor export`) and replaces the results
 * folder's files like any run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Experiment, type OdemorPlugin } from '../container.js';
import { OdemorError } from '../errors.js';
import type { ReduceDims, ReducedModel } from '../extension-points.js';
import type { ResultRow, RowFailure } from '../hooks.js';
import { loadModel, saveModel } from '../ir/io.js';
import type { ModelIR } from '../ir/types.js';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { finetuneSchema, trainSchema } from '../config/schema.js';
import { coreModelsPlugin } from '../model/plugin.js';
import { writeFileAtomic } from '../util/index.js';
import { fingerprintedConfig, openRunFolder, prepare, releaseRun } from '../pipeline/run.js';
import { configFingerprint, readPartial, type RunLock } from '../pipeline/persist.js';
import { resolveTrainer } from '../pipeline/trainers.js';
import { evaluateModel, progress, publishRow, resumedRow } from '../pipeline/evaluate.js';
import type { ExperimentState, RunOptions, Stage } from '../pipeline/state.js';
import { setupStage } from '../pipeline/stages/setup.js';
import { modelStage, trainStage } from '../pipeline/stages/model.js';
import { originalsStage } from '../pipeline/stages/originals.js';
import { snapshotsStage } from '../pipeline/stages/snapshots.js';
import { reducibleSize } from '../pipeline/stages/reduce.js';
import { persistPartial, reportStage } from '../pipeline/stages/report.js';
import { finetuneJobs, finetuneModel, type FinetuneJob } from '../pipeline/stages/finetune.js';
import { TUNE_METRICS, chooseFastest, defaultGrid, metricDrop, paretoFront, searchDims, withinBudget, type DimSearch, type SearchPhase, type TuneMetric, type Verdict } from './search.js';
import { formatDrop, paretoSvg, tuneMarkdown } from './files.js';

/** Options of {@link runTune}: the budget, the metric, fine-tuning, and the run options `odemor run` has. */
export interface TuneOptions extends Pick<RunOptions, 'outDir' | 'plugins' | 'setup' | 'log' | 'resume' | 'restart' | 'onOutDir'> {
  /** the largest drop allowed (see {@link metricDrop}): a finite number ≥ 0 */
  maxDrop: number;
  /** 'top1' (classification) or 'mse' (regression); default: the dataset's */
  metric?: TuneMetric;
  /** fine-tune every candidate before it is evaluated (the config's first `finetune` stage, else {@link DEFAULT_TUNE_FINETUNE}) */
  finetune?: boolean;
  /** compile `model` (a saved model file) to the ONNX file `onnx`; default: `odemor export <model> --out <onnx> --force` */
  exportOnnx?: (model: string, onnx: string) => Promise<void>;
}

/** The fine-tuning of `--finetune` when the config has none: 3 epochs of the layers after the block, Adam at 1e-3. */
export const DEFAULT_TUNE_FINETUNE = Object.freeze({ stage: 'finetuned', epochs: 3, optimizer: 'adam', lr: 0.001 } as const);

/** One measured model of a tune (the original included). */
export interface TuneCandidate {
  method: string;
  k: number;
  /** interpolation points m when they differ from k */
  points?: number;
  stage: ResultRow['stage'];
  /**
   * how the search came to measure it: 'original' (the original itself), or 'earlier' (measured by an earlier
   * search of this tune, resumed with another budget, that this one did not revisit)
   */
  phase: SearchPhase | 'original' | 'earlier';
  /** the metric's value: top-1 accuracy, or test MSE */
  value: number;
  /** the drop against the original ({@link metricDrop}) */
  drop: number;
  /** paired speedup against the original (the row's `speedup`) */
  speedup: number;
  speedupRange?: [number, number];
  speedupVsConv?: number;
  wallSeconds: number;
  withinBudget: boolean;
  onFront: boolean;
  chosen: boolean;
}

/** tune.json. */
export interface TuneResults {
  format: 'odemor-tune';
  version: 1;
  name: string;
  status: 'partial' | 'complete';
  metric: TuneMetric;
  maxDrop: number;
  /** how the drop is defined, in words */
  definition: string;
  /** the fine-tuning applied to every candidate, or false */
  finetune: false | { stage: string; epochs: number; source: 'config' | 'default' };
  original: { method: string; value: number; wallSeconds: number };
  /** every measured model, the original first, then in the order measured */
  candidates: TuneCandidate[];
  /** the Pareto front (speedup up, drop down) over `candidates`, by speedup ascending */
  front: { method: string; k: number; stage: ResultRow['stage'] }[];
  /** the fastest candidate within the budget (the original when no reduced model is faster within it) */
  chosen?: TuneCandidate;
  /** each method's search */
  searches: ({ method: string } & DimSearch)[];
  failures?: { method: string; dim: number; stage: string; error: string }[];
  /** chosen.onnx, or why it was not written */
  onnx?: { file: string } | { file?: undefined; reason: string };
  /** what the candidates' measurements depend on besides the config (the budget is not: see {@link runTune}) */
  key: { metric: string; finetune: boolean };
  fingerprint: string;
  startedAt: string;
  finishedAt: string;
}

export interface TuneResult {
  tune: TuneResults;
  outDir: string;
  experiment: Experiment;
  /** every file the tune wrote (absolute paths) */
  written: string[];
}

const DEFINITIONS: Record<TuneMetric, string> = {
  top1: 'top-1 drop = original top-1 − model top-1, in absolute fraction (0.01 = one percentage point)',
  mse: 'MSE drop = model test MSE / original test MSE − 1, the relative increase (0.01 = 1 % more error)',
};

/**
 * Check the tune's own options.
 * @throws OdemorError 'ARGUMENT' for a `maxDrop` that is not a finite number ≥ 0 or an unknown metric
 */
export function checkTuneOptions(options: Pick<TuneOptions, 'maxDrop' | 'metric'>): void {
  const d = options.maxDrop;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) throw new OdemorError('ARGUMENT', `--max-drop must be a finite number ≥ 0, got ${String(d)}`);
  if (options.metric !== undefined && !(TUNE_METRICS as readonly string[]).includes(options.metric)) {
    throw new OdemorError('ARGUMENT', `--metric must be one of ${TUNE_METRICS.join(', ')}, got '${String(options.metric)}'`);
  }
}

/** The default results folder of a tune: the run's (`output.dir`, else results/<name>) with `-tune` appended. */
export function defaultTuneDir(loaded: LoadedConfig): string {
  const dir = loaded.config.output.dir;
  const run = dir ? resolveConfigPath(loaded, dir) : path.join(process.cwd(), 'results', loaded.config.name);
  return `${path.resolve(run)}-tune`;
}

const TUNE_STAGES: readonly Stage[] = [setupStage, modelStage, trainStage, originalsStage, snapshotsStage];

/** Run a tune from a config file (or a loaded config). */
export async function runTune(source: string | LoadedConfig, options: TuneOptions): Promise<TuneResult> {
  checkTuneOptions(options);
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  for (const p of options.plugins ?? ([] as OdemorPlugin[])) await exp.use(p);
  await options.setup?.(exp);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const runOptions: RunOptions = {
    outDir: options.outDir ?? defaultTuneDir(loaded),
    log,
    ...(options.resume ? { resume: true } : {}),
    ...(options.restart ? { restart: true } : {}),
    ...(options.onOutDir ? { onOutDir: options.onOutDir } : {}),
  };
  const state = { exp, loaded, options: runOptions, log, runtimes: new Map(), rows: [], analysis: {}, written: [], failures: [], timingWarnings: [] } as unknown as ExperimentState;
  let lock: RunLock | undefined;
  const finetune = options.finetune === true;
  try {
    await prepare(state);
    const config = state.config;
    if (config.compare) throw new OdemorError('CONFIG', `${loaded.file}: compare: odemor tune searches reduced models; a solver or trainer comparison cannot be tuned`);
    if (!config.reducers.length) throw new OdemorError('CONFIG', `${loaded.file}: reducers: odemor tune needs at least one reducer to search`);
    // evaluate.adaptive (the models under an adaptive solver, and their stiffness) does not enter the choice and
    // would cost every candidate a few seconds more: tune leaves it out (odemor run measures it)
    if (config.evaluate.adaptive) {
      delete config.evaluate.adaptive;
      delete state.resolved.adaptive;
      log('odemor tune: evaluate.adaptive is left out while tuning (it does not enter the choice; `odemor run` measures it)');
    }
    // what a candidate's measurement depends on: the config, the metric and the fine-tuning (not the budget:
    // `--resume` with another --max-drop reuses every measured candidate)
    const tuneKey = { metric: options.metric ?? 'default', finetune };
    state.fingerprint = configFingerprint({ config: fingerprintedConfig(config), tune: tuneKey });
    const job = finetune ? await tuneFinetuneJob(state) : undefined;
    checkTuneFolder(state, tuneKey);
    lock = openRunFolder(state);
    let metric: TuneMetric = 'top1';
    for (const stage of TUNE_STAGES) {
      await exp.hooks.beforeStage.promise(stage.name);
      await stage.run(state);
      await exp.hooks.afterStage.promise(stage.name);
      // the metric is checked against the dataset before any training
      if (stage === setupStage) metric = checkMetric(state, options.metric);
    }
    checkOriginal(state, metric);
    const tuner = new Tuner(state, metric, options.maxDrop, job?.job, tuneKey);
    await exp.hooks.beforeStage.promise('tune');
    const tune = await tuner.search(job?.source);
    await tuner.writeOutputs(tune, options.exportOnnx ?? exportWithCli);
    await exp.hooks.afterStage.promise('tune');
    // the config's report is not written: the tune's own files describe it
    const { report: _r, ...resolved } = state.resolved;
    state.resolved = resolved;
    await exp.hooks.beforeStage.promise(reportStage.name);
    await reportStage.run(state);
    await exp.hooks.afterStage.promise(reportStage.name);
    return { tune, outDir: state.outDir, experiment: exp, written: state.written };
  } catch (e) {
    await exp.hooks.failed.promise(e instanceof Error ? e : new Error(String(e)));
    throw e;
  } finally {
    await releaseRun(state, log);
    lock?.release();
  }
}

/** The fine-tuning job of `--finetune` (the config's first stage, else the default), with its trainer resolved. */
async function tuneFinetuneJob(state: ExperimentState): Promise<{ job: FinetuneJob; source: 'config' | 'default' }> {
  const first = finetuneJobs(state.config)[0];
  if (first) return { job: first, source: 'config' };
  const config = finetuneSchema.parse({ ...DEFAULT_TUNE_FINETUNE });
  const t = state.config.train || trainSchema.parse({});
  const finetuner = await resolveTrainer(state.exp, t.use, t.runtime, state.loaded.baseDir);
  state.resolved = { ...state.resolved, finetuner, finetuners: [finetuner] };
  return { job: { index: 0, stage: 'finetuned', config, epochs: DEFAULT_TUNE_FINETUNE.epochs, params: 'after-block' }, source: 'default' };
}

/**
 * Before the folder is opened, on `--resume`: an unfinished `odemor run` of the same config, or a tune with
 * another metric or fine-tuning, is refused saying so (openRunFolder then refuses any other config).
 */
function checkTuneFolder(state: ExperimentState, key: TuneResults['key']): void {
  if (!state.options.resume) return;
  const work = state.workDir;
  const partial = readPartial(work);
  if (!partial || partial.fingerprint === state.fingerprint) return;
  if (partial.fingerprint === configFingerprint(fingerprintedConfig(state.config))) {
    throw new OdemorError('CONFIG', `cannot resume in ${state.outDir}: it holds an unfinished odemor run of this config, not a tune; rerun with --restart to discard it, or tune into another --out`);
  }
  let prior: Partial<TuneResults> | undefined;
  try {
    prior = JSON.parse(fs.readFileSync(path.join(work, 'tune.json'), 'utf8')) as Partial<TuneResults>;
  } catch {
    prior = undefined;
  }
  const was = prior?.format === 'odemor-tune' ? prior.key : undefined;
  if (was && (was.metric !== key.metric || was.finetune !== key.finetune)) {
    const say = (k: TuneResults['key']) => `--metric ${k.metric === 'default' ? '(default)' : k.metric}${k.finetune ? ' --finetune' : ' without --finetune'}`;
    throw new OdemorError('CONFIG', `cannot resume the tune in ${state.outDir}: it was started with ${say(was)}, not ${say(key)}; rerun with those options, or with --restart to discard it`);
  }
}

/** The metric asked for must be the dataset's: 'top1' on a classification dataset, 'mse' on a regression one. */
function checkMetric(state: ExperimentState, asked: TuneMetric | undefined): TuneMetric {
  const own: TuneMetric = state.regression ? 'mse' : 'top1';
  if (asked !== undefined && asked !== own) {
    const what = state.regression ? 'a regression dataset (no top-1 accuracy)' : 'a classification dataset (no test MSE)';
    throw new OdemorError('CONFIG', `--metric ${asked}: dataset ${state.dataset.name} is ${what}; use --metric ${own}`);
  }
  return own;
}

/** The original's value of the metric, which every drop is against. */
function checkOriginal(state: ExperimentState, own: TuneMetric): void {
  const original = own === 'top1' ? state.baseline?.top1 : state.baseline?.mse;
  if (original === undefined || !Number.isFinite(original) || (own === 'mse' && !(original > 0))) {
    throw new OdemorError('DATA', `the original's ${own === 'top1' ? 'top-1 accuracy' : 'test MSE'} is ${String(original)}: no drop can be measured against it`);
  }
}

/** `odemor export <model> --out <onnx> --force`, the command itself (core's CLI, loaded on first use). */
async function exportWithCli(model: string, onnx: string): Promise<void> {
  const { main } = await import('../cli/main.js');
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  out.resume();
  err.on('data', (d) => (text += d));
  const code = await main(['export', model, '--out', onnx, '--force'], { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  if (code !== 0) throw new OdemorError('RUNTIME', text.trim().replace(/^odemor: /, '') || `odemor export exited with ${code}`);
}

interface Measured {
  candidate: TuneCandidate;
  file: string;
}

/** The search over every reducer of the state, persisting as it goes. */
class Tuner {
  private readonly measured: Measured[] = [];
  private readonly searches: ({ method: string } & DimSearch)[] = [];
  private readonly original: TuneResults['original'];
  private originalFile = '';
  private done = 0;
  private planned = 0;
  private finetuneInfo: TuneResults['finetune'] = false;

  constructor(
    private readonly state: ExperimentState,
    private readonly metric: TuneMetric,
    private readonly maxDrop: number,
    private readonly job: FinetuneJob | undefined,
    private readonly key: TuneResults['key'],
  ) {
    const b = state.baseline!;
    this.original = { method: 'original', value: metric === 'top1' ? b.top1! : b.mse!, wallSeconds: b.seconds };
  }

  private get work(): string {
    return this.state.workDir;
  }

  private valueOf(row: ResultRow): number {
    return (this.metric === 'top1' ? row.top1 : row.testMse) ?? Number.NaN;
  }

  private candidateOf(row: ResultRow, phase: TuneCandidate['phase']): TuneCandidate {
    const value = this.valueOf(row);
    const drop = metricDrop(this.metric, this.original.value, value);
    return {
      method: row.method,
      k: row.dim,
      ...(row.points !== undefined ? { points: row.points } : {}),
      stage: row.stage,
      phase,
      value,
      drop,
      speedup: row.speedup,
      ...(row.speedupRange ? { speedupRange: row.speedupRange } : {}),
      ...(row.speedupVsConv !== undefined ? { speedupVsConv: row.speedupVsConv } : {}),
      wallSeconds: row.wallSeconds,
      withinBudget: withinBudget(drop, this.maxDrop),
      onFront: false,
      chosen: false,
    };
  }

  /** Every reducer's search; the results with the front and the choice. */
  async search(finetuneSource?: 'config' | 'default'): Promise<TuneResults> {
    const state = this.state;
    if (this.job) this.finetuneInfo = { stage: this.job.stage, epochs: this.job.epochs, source: finetuneSource ?? 'config' };
    // the original: the model as given (a conv block's own row when there is one: the model chosen.odemor would hold)
    const originals = state.rows.filter((r) => r.stage === 'original');
    const origRow = originals.find((r) => r.method === 'original-conv') ?? originals[0]!;
    this.originalFile = path.join(this.work, 'candidates', 'original.odemor');
    await saveModel(this.originalFile, state.model);
    this.measured.push({ candidate: this.candidateOf(origRow, 'original'), file: this.originalFile });
    const n = reducibleSize(state.model.block);
    const grids = state.reducers.map((r) => (Array.isArray(r.config.dims) ? r.config.dims : defaultGrid(n)));
    this.planned = grids.reduce((a, g) => a + g.length + estimateBisection(g), 0);
    for (const [i, rjob] of state.reducers.entries()) {
      const grid = grids[i]!;
      const cfg = rjob.config;
      let fitted = false;
      const ensureFit = async () => {
        if (fitted) return;
        await rjob.reducer.fit({ model: state.model, ...(state.snapshots ? { snapshots: state.snapshots } : {}), seed: state.seed });
        await state.exp.hooks.beforeReduce.promise(rjob.name, grid.map((k) => this.dimsAt(cfg, k)));
        fitted = true;
      };
      const trace = await searchDims(grid, (k, phase) => this.measure(rjob, k, phase, ensureFit), { min: 1, max: n });
      this.searches.push({ method: rjob.name, ...trace });
      const steps = trace.probes.map((p) => `${p.k}${p.failed ? '!' : p.pass ? '✓' : '✗'}`).join(' ');
      state.log(`odemor: tune ${rjob.name}: ${steps}${trace.smallest !== undefined ? ` → k = ${trace.smallest}` : ' → none within the budget'}${trace.notes.length ? ` (${trace.notes.join('; ')})` : ''}`);
      await this.persist('partial');
    }
    // rows of an earlier, resumed search (another budget) that this one did not revisit are measured candidates too
    for (const row of state.resumed?.rows ?? []) {
      if (row.stage === 'original' || state.rows.includes(row)) continue;
      const file = this.fileOf(row.method, row.dim);
      if (row.stage !== this.stage || this.measured.some((m) => m.candidate.method === row.method && m.candidate.k === row.dim) || !fs.existsSync(file)) continue;
      state.rows.push(row);
      this.measured.push({ candidate: this.candidateOf(row, 'earlier'), file });
    }
    progress(state, 'tune', 'tune', this.done, this.done, 'done');
    return this.results('complete');
  }

  private get stage(): ResultRow['stage'] {
    return this.job ? this.job.stage : 'reduced';
  }

  private fileOf(method: string, k: number): string {
    return path.join(this.work, 'candidates', `${method}-${k}${this.job ? `-${this.job.stage}` : ''}.odemor`);
  }

  private dimsAt(cfg: ExperimentState['reducers'][number]['config'], k: number): ReduceDims {
    const pts = cfg.points;
    let m: number | undefined;
    if (typeof pts === 'number') m = pts;
    else if (Array.isArray(pts) && Array.isArray(cfg.dims)) {
      const i = cfg.dims.indexOf(k);
      m = i >= 0 ? pts[i] : undefined;
    }
    return m === undefined ? { k } : { k, m };
  }

  /** Measure one candidate (or take the one a resumed search measured), persist it, and say whether it passes. */
  private async measure(rjob: ExperimentState['reducers'][number], k: number, phase: SearchPhase, ensureFit: () => Promise<void>): Promise<Verdict> {
    const state = this.state;
    const name = rjob.name;
    const stage = this.stage;
    const file = this.fileOf(name, k);
    const label = `${name}@${k}`;
    let row = resumedRow(state, name, k, stage);
    if (row && fs.existsSync(file)) {
      state.rows.push(row);
    } else {
      row = undefined;
      try {
        await ensureFit();
        let reduced: ReducedModel = rjob.reducer.reduce(this.dimsAt(rjob.config, k));
        reduced = await state.exp.hooks.reduced.promise(reduced);
        if ((await state.exp.hooks.shouldEvaluate.promise(reduced)) === false) {
          this.tick(`${label} vetoed`);
          return undefined;
        }
        let model: ModelIR = reduced.model;
        let tag = label;
        if (this.job) ({ model, tag } = await finetuneModel(state, this.job, reduced, label));
        const evaluated = await evaluateModel(state, model, tag, stage, name, k, reduced.diagnostics);
        // the model before its row: a persisted row always has its model
        await saveModel(file, model);
        await publishRow(state, evaluated);
        row = evaluated;
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        state.failures.push({ method: name, dim: k, stage: stage as RowFailure['stage'], error });
        state.log(`odemor: ${label} failed: ${error}`);
        await persistPartial(state);
        this.tick(`${label} failed`);
        return undefined;
      }
    }
    const candidate = this.candidateOf(row, phase);
    this.measured.push({ candidate, file });
    await this.persist('partial');
    this.tick(`${label}: drop ${formatDrop(this.metric, candidate.drop)}, ${candidate.speedup.toFixed(2)}×`);
    return candidate.withinBudget;
  }

  private tick(detail: string): void {
    this.done++;
    if (this.planned <= this.done) this.planned = this.done + 1;
    progress(this.state, 'tune', 'tune', this.done, this.planned, detail);
  }

  /** The results so far: the front and the choice over every measured candidate. */
  results(status: TuneResults['status']): TuneResults {
    const all = this.measured.map((m) => m.candidate);
    for (const c of all) {
      c.onFront = false;
      c.chosen = false;
    }
    const front = paretoFront(all);
    for (const c of front) c.onFront = true;
    const chosen = chooseFastest(all, this.maxDrop);
    if (chosen) chosen.chosen = true;
    const state = this.state;
    return {
      format: 'odemor-tune',
      version: 1,
      name: state.config.name,
      status,
      metric: this.metric,
      maxDrop: this.maxDrop,
      definition: DEFINITIONS[this.metric],
      finetune: this.finetuneInfo,
      original: this.original,
      candidates: all,
      front: front.map((c) => ({ method: c.method, k: c.k, stage: c.stage })),
      ...(chosen ? { chosen } : {}),
      searches: this.searches,
      ...(state.failures.length ? { failures: state.failures.map((f) => ({ ...f })) } : {}),
      key: this.key,
      fingerprint: state.fingerprint,
      startedAt: state.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }

  private async persist(status: TuneResults['status']): Promise<void> {
    await writeFileAtomic(path.join(this.work, 'tune.json'), JSON.stringify(this.results(status), null, 2) + '\n');
  }

  /** tune.json, tune.md, pareto.svg, chosen.odemor and chosen.onnx in the staging folder; the candidates' models go. */
  async writeOutputs(tune: TuneResults, exportOnnx: (model: string, onnx: string) => Promise<void>): Promise<void> {
    const work = this.work;
    const chosen = tune.chosen ? this.measured.find((m) => m.candidate === tune.chosen) : undefined;
    const chosenFile = path.join(work, 'chosen.odemor');
    if (chosen) {
      await saveModel(chosenFile, await loadModel(chosen.file));
      const onnxFile = path.join(work, 'chosen.onnx');
      try {
        await exportOnnx(chosenFile, onnxFile);
        tune.onnx = { file: 'chosen.onnx' };
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        fs.rmSync(onnxFile, { force: true });
        tune.onnx = { reason };
        this.state.log(`odemor: chosen.onnx not written: ${reason}`);
      }
    }
    const svg = await paretoSvg(tune);
    if (svg.svg) await writeFileAtomic(path.join(work, 'pareto.svg'), svg.svg);
    else this.state.log(`odemor: pareto.svg not written: ${svg.reason}`);
    await writeFileAtomic(path.join(work, 'tune.md'), tuneMarkdown(tune));
    await writeFileAtomic(path.join(work, 'tune.json'), JSON.stringify(tune, null, 2) + '\n');
    fs.rmSync(path.join(work, 'candidates'), { recursive: true, force: true });
  }
}

/** A rough count of the bisection and check steps of one grid (for the progress bar's total). */
function estimateBisection(grid: readonly number[]): number {
  const ks = [...grid].sort((a, b) => a - b);
  let gap = 1;
  for (let i = 1; i < ks.length; i++) gap = Math.max(gap, ks[i]! - ks[i - 1]!);
  return Math.ceil(Math.log2(gap)) + 1;
}

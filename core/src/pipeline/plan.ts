/**
 * `odemor validate` plans the run: the same preparation as `run` (config, every plugin name and option, the
 * checkpoint, the results folder), then the dataset, the solver, the model and every reducer instance, so
 * that what `run` would reject hours in is rejected now — reducer dimensions against n and against the
 * number of snapshot columns, the step count, dataset sizes — and a plan of the work is printed.
 */
import { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { coreModelsPlugin } from '../model/plugin.js';
import { prepare } from './run.js';
import { modelStage } from './stages/model.js';
import { setupStage } from './stages/setup.js';
import { reducibleSize } from './stages/reduce.js';
import { finetuneJobs, jobApplies } from './stages/finetune.js';
import { prepareCompare, solverNfePerSample, stepsPerSample } from './stages/compare.js';
import { DEFAULT_TRAIN_LOSS_SAMPLES, prepareTrainerCompare } from './stages/compare-trainers.js';
import type { ExperimentState, Resolved } from './state.js';
import type { CompareSolver } from '../hooks.js';
import { solverCell } from './results.js';
import { runtimeFor } from './evaluate.js';

/** What a run of a config will do. */
export interface RunPlan {
  resolved: Resolved;
  outDir: string;
  /** the ODE block's state dimension */
  n: number;
  /** solver steps per sample (fixed-step solvers; adaptive: the first-step estimate) */
  stepsPerSample: number;
  train?: { epochs: number; samples: number };
  snapshots?: { samples: number; columns: number };
  reducers: { name: string; dims: number[] | 'auto' }[];
  /** models evaluated: the original(s), every reduced model, every fine-tuned one */
  evaluations: number;
  finetunes: number;
  /** right-hand-side evaluations of the block (training counts forward only), a rough measure of the work */
  rhsEvaluations: number;
  /**
   * a solver comparison: each entry with its solver, the epochs it trains (0: none), its steps per sample (an
   * adaptive solver: the first-step estimate), the trainer every entry trains with and the runtime every entry is
   * evaluated on (chosen as `run` chooses them)
   */
  compare?: { label: string; solver: string; spec: CompareSolver; epochs: number; stepsPerSample: number; adaptive: boolean }[];
  compareTrainer?: string;
  compareRuntime?: string;
  /**
   * a trainer comparison: each entry with its trainer (and the runtime it trains on), its training solver and the
   * epochs it trains; every entry is evaluated on `compareRuntime` with `model.solver`
   */
  compareTrainers?: { label: string; trainer: string; runtime: string; spec: CompareSolver; epochs: number }[];
}

/** Plan a run of `source` without running it; throws what `run` would throw before any work. */
export async function planExperiment(source: string | LoadedConfig): Promise<RunPlan> {
  const loaded = typeof source === 'string' ? loadConfig(source) : source;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  const state = { exp, loaded, options: { write: false }, log: () => {}, runtimes: new Map(), rows: [], analysis: {}, written: [], failures: [] } as unknown as ExperimentState;
  try {
    await prepare(state);
    await setupStage.run(state);
    await modelStage.run(state);
    const { config, dataset, model, solver } = state;
    const n = model.block.n;
    const steps = stepsPerSample(model); // the model's span (an mlp-node takes the dataset's), segment by segment for a readout
    const stages = (solver.tableau?.b.length ?? 1) * steps;
    const plan: RunPlan = { resolved: state.resolved, outDir: state.outDir, n, stepsPerSample: steps, reducers: [], evaluations: 0, finetunes: 0, rhsEvaluations: 0 };
    if (config.compare) return planCompare(state, plan);
    const t = state.train;
    if (t !== false && t.epochs > 0) {
      plan.train = { epochs: t.epochs, samples: Math.min(t.limit ?? Infinity, dataset.info.trainSize) };
      plan.rhsEvaluations += plan.train.epochs * plan.train.samples * stages;
    }
    const testSamples = Math.min(config.evaluate.limit ?? Infinity, dataset.info.testSize);
    const evalCost = testSamples * stages * (config.evaluate.repeats + 1);
    if (state.reducers.some((r) => r.reducer.needsSnapshots)) {
      const s = config.snapshots ?? { every: 2, limit: undefined };
      const samples = Math.min(s.limit ?? Infinity, dataset.info.trainSize);
      const columns = samples * Math.floor(steps / s.every);
      if (columns === 0) {
        throw new OdemorError('CONFIG', `snapshots: ${steps} solver steps with every = ${s.every} sample no state: no snapshots to build a basis from (lower snapshots.every or dt)`);
      }
      plan.snapshots = { samples, columns };
      plan.rhsEvaluations += samples * stages;
      for (const job of state.reducers) {
        if (job.config.dims === 'auto' || !job.reducer.needsSnapshots) continue;
        const over = job.config.dims.find((k) => k > Math.min(reducibleSize(model.block), columns));
        if (over !== undefined) {
          throw new OdemorError('CONFIG', over > reducibleSize(model.block)
            ? `reducer '${job.config.use}': dimension ${over} exceeds the model's reducible dimension ${reducibleSize(model.block)}`
            : `reducer '${job.config.use}': dimension ${over} exceeds the ${columns} snapshot columns (the POD basis has at most that many columns); take more snapshots or a smaller k`);
        }
      }
    }
    const jobs = finetuneJobs(config);
    const originals = model.block.kind === 'ode' && model.block.A.type === 'conv' ? 2 : 1;
    plan.evaluations = originals;
    for (const job of state.reducers) {
      const dims = job.config.dims;
      plan.reducers.push({ name: job.name, dims });
      const ks: (number | undefined)[] = dims === 'auto' ? [undefined] : dims;
      const tuned = ks.reduce<number>((a, k) => a + jobs.filter((j) => (k === undefined ? !j.config.dims : jobApplies(j, job.config.use, k))).length, 0);
      plan.evaluations += ks.length + tuned;
      plan.finetunes += tuned;
    }
    plan.rhsEvaluations += plan.evaluations * evalCost;
    return plan;
  } finally {
    for (const rt of state.runtimes.values()) await rt.dispose?.();
  }
}

/** The plan of a solver comparison: each entry's training and evaluation (the runtimes and trainer chosen as `run` does). */
async function planCompare(state: ExperimentState, plan: RunPlan): Promise<RunPlan> {
  if (state.config.compare!.trainers) return planTrainerCompare(state, plan);
  const jobs = await prepareCompare(state);
  const { config, dataset } = state;
  const testSamples = Math.min(config.evaluate.limit ?? Infinity, dataset.info.testSize);
  plan.compare = jobs.map((j) => ({
    label: j.label,
    solver: j.name,
    spec: { ...j.spec },
    epochs: j.train === false ? 0 : j.train.epochs,
    stepsPerSample: stepsPerSample(j.model),
    adaptive: j.solver.adaptive,
  }));
  const trainer = jobs.find((j) => j.trainer)?.trainer;
  if (trainer) plan.compareTrainer = trainer.name;
  plan.compareRuntime = jobs[0]!.runtime.name;
  plan.evaluations = jobs.length;
  for (const j of jobs) {
    // per sample: the solver's count for a fixed step, else the steps at the initial dt with the tableau's stages
    const perSample = solverNfePerSample(j.solver, j.model) ?? stepsPerSample(j.model) * (j.solver.tableau?.b.length ?? j.solver.derivatives ?? 1);
    const samples = j.train === false ? 0 : j.train.epochs * Math.min(j.train.limit ?? Infinity, dataset.info.trainSize);
    plan.rhsEvaluations += perSample * (samples + testSamples * (config.evaluate.repeats + 1));
  }
  return plan;
}

/** The runtime a trainer trains on, from its name ('backprop-onnx': onnx; 'spectral': tfjs; 'adjoint': onnx). */
function trainerRuntime(name: string, runtime?: string): string {
  if (runtime !== undefined) return runtime;
  const m = /-(onnx|tfjs)$/.exec(name);
  if (m) return m[1]!;
  return name === 'spectral' ? 'tfjs' : name === 'adjoint' ? 'onnx' : 'its own';
}

/** The plan of a trainer comparison: each entry's trainer, runtime, training solver and epochs. */
async function planTrainerCompare(state: ExperimentState, plan: RunPlan): Promise<RunPlan> {
  const jobs = await prepareTrainerCompare(state);
  const { config, dataset } = state;
  const rt = await runtimeFor(state, state.model);
  plan.compareTrainers = jobs.map((j) => ({
    label: j.label,
    trainer: j.trainerName,
    runtime: trainerRuntime(j.trainerName, j.config.runtime),
    spec: { ...j.spec },
    epochs: j.train === false ? 0 : j.train.epochs,
  }));
  plan.compareRuntime = rt.name;
  plan.evaluations = jobs.length;
  const testSamples = Math.min(config.evaluate.limit ?? Infinity, dataset.info.testSize);
  const evalPerSample = solverNfePerSample(state.solver, state.model) ?? stepsPerSample(state.model) * (state.solver.tableau?.b.length ?? 1);
  for (const j of jobs) {
    const perSample = solverNfePerSample(j.solver, j.model) ?? stepsPerSample(j.model) * (j.solver.tableau?.b.length ?? j.solver.derivatives ?? 1);
    const epochs = j.train === false ? 0 : j.train.epochs;
    const samples = j.train === false ? 0 : epochs * Math.min(j.train.limit ?? Infinity, dataset.info.trainSize);
    const curve = epochs * Math.min(config.compare!.trainLossSamples ?? DEFAULT_TRAIN_LOSS_SAMPLES, dataset.info.trainSize);
    plan.rhsEvaluations += perSample * samples + evalPerSample * (curve + testSamples * (config.evaluate.repeats + 1));
  }
  return plan;
}

/** The plan in a few lines, as `odemor validate` prints it. */
export function formatPlan(p: RunPlan): string {
  if (p.compareTrainers) {
    const lines = [`  model: n = ${p.n}, one initial model; each trainer trains a copy of it`];
    lines.push(`  compare: ${p.compareTrainers.length} trainers, each on its own runtime; every model evaluated on ${p.compareRuntime} with ${p.resolved.solver}:`);
    for (const e of p.compareTrainers) {
      lines.push(`    ${e.label}: trainer ${e.trainer} (${e.runtime}), trains with ${solverCell(e.spec)}, ${e.epochs ? `${e.epochs} epoch${e.epochs === 1 ? '' : 's'}` : 'not trained'}`);
    }
    lines.push(`  evaluate: ${p.evaluations} models; about ${p.rhsEvaluations.toExponential(1)} block evaluations`);
    lines.push(`  results: ${p.outDir}`);
    return lines.join('\n');
  }
  if (p.compare) {
    const lines = [`  model: n = ${p.n}, one initial model; each solver trains a copy of it`];
    lines.push(`  compare: ${p.compare.length} solvers, trained with ${p.compareTrainer ?? 'no trainer (no entry trains)'}, evaluated on ${p.compareRuntime}:`);
    for (const e of p.compare) {
      lines.push(`    ${e.label}: ${solverCell(e.spec)}, ${e.epochs ? `${e.epochs} epoch${e.epochs === 1 ? '' : 's'}` : 'not trained'}, ${e.adaptive ? `adaptive (${e.stepsPerSample} steps per sample at the initial dt)` : `${e.stepsPerSample} steps per sample`}`);
    }
    lines.push(`  evaluate: ${p.evaluations} models; about ${p.rhsEvaluations.toExponential(1)} block evaluations`);
    lines.push(`  results: ${p.outDir}`);
    return lines.join('\n');
  }
  const lines = [`  model: n = ${p.n}, ${p.stepsPerSample} solver steps per sample (${p.resolved.solver})`];
  if (p.train) lines.push(`  train: ${p.train.epochs} epochs × ${p.train.samples} samples (${p.resolved.trainer})`);
  if (p.snapshots) lines.push(`  snapshots: ${p.snapshots.samples} samples → ${p.snapshots.columns} columns`);
  for (const r of p.reducers) lines.push(`  reduce: ${r.name} at k = ${r.dims === 'auto' ? 'auto' : r.dims.join(', ')}`);
  lines.push(`  evaluate: ${p.evaluations} models on ${p.resolved.runtime}${p.finetunes ? ` (${p.finetunes} fine-tuned)` : ''}; about ${p.rhsEvaluations.toExponential(1)} block evaluations`);
  lines.push(`  results: ${p.outDir}`);
  return lines.join('\n');
}

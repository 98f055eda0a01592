/**
 * What several stages share: runtimes by name (created once, disposed at the end), the runtime that can
 * run a model (falling back to the eager tfjs runtime, saying so once), and evaluating one model into a
 * results row. A row is returned, not published: the caller fires `evaluated` once the row is final.
 */
import { OdemorError } from '../errors.js';
import type { EvaluationResult, Evaluator, Executable, ReducedDiagnostics, Runtime, SolveStats, Solver } from '../extension-points.js';
import type { ResultRow, TimingSummary } from '../hooks.js';
import type { ModelIR } from '../ir/types.js';
import { resolveUse } from '../plugins/resolve.js';
import { blockCost } from '../reduce/index.js';
import { median } from '../util/index.js';
import type { ExperimentState } from './state.js';
import { persistPartial } from './stages/report.js';
import { adaptiveFields } from './adaptive.js';

/** The runtime named `name`, created on first use with the experiment's solver and hooks. */
export async function runtimeNamed(state: ExperimentState, name: string): Promise<Runtime> {
  let rt = state.runtimes.get(name);
  if (!rt) {
    const bound = await resolveUse(state.exp, 'Runtime', name, state.loaded.baseDir);
    rt = await state.exp.factory('Runtime', bound)({ solver: state.solver, hooks: state.exp.hooks, threads: state.config.evaluate.threads });
    state.runtimes.set(name, rt);
  }
  return rt;
}

const warned = new WeakMap<ExperimentState, Set<string>>();
/** one evaluator per experiment */
const evaluators = new WeakMap<ExperimentState, Evaluator>();

/**
 * The evaluation runtime when it can run `m`, else the eager 'tfjs' runtime (on onnx: a step-program solver
 * without a Butcher tableau, say), with one notice per reason. `need` asks for a capability (snapshots) the runtime must have.
 */
export async function runtimeFor(state: ExperimentState, m: ModelIR, need?: 'snapshots'): Promise<Runtime> {
  const rt = state.runtime;
  const ok = rt.supports(m, need ?? 'run');
  if (ok.ok && (!need || (rt.capabilities[need] && rt.snapshotBatch))) return rt;
  if (rt.name === 'tfjs') {
    if (!ok.ok) throw new OdemorError('RUNTIME', `the tfjs runtime cannot run this model: ${ok.reason}`);
    throw new OdemorError('RUNTIME', `runtime '${rt.name}' cannot take ${need}`);
  }
  fallbackNotice(state, ok.ok ? `runtime '${rt.name}' does not take ${need}` : ok.reason);
  return runtimeNamed(state, 'tfjs');
}

/** Say once per reason (for evaluation and training alike) that the eager tfjs runtime takes over. */
export function fallbackNotice(state: ExperimentState, reason: string): void {
  let seen = warned.get(state);
  if (!seen) warned.set(state, (seen = new Set()));
  if (!seen.has(reason)) {
    seen.add(reason);
    state.log(`odemor: ${reason}; falling back to the tfjs runtime`);
  }
}

/**
 * Build `m` on `rt` (default: the runtime that can run it) with `solver` (default: the experiment's). The caller
 * disposes the executable.
 */
export async function buildFor(state: ExperimentState, m: ModelIR, rt?: Runtime, solver: Solver = state.solver): Promise<Executable> {
  const runtime = rt ?? (await runtimeFor(state, m));
  return runtime.build(m, { solver, tableau: solver.tableau, hooks: state.exp.hooks, threads: state.config.evaluate.threads });
}

/**
 * Where {@link evaluateModel} builds a model other than on the evaluation runtime with the experiment's solver
 * (a solver comparison: each entry's runtime and solver), and a callback told the executable's `lastStats` after
 * the evaluation (the solver statistics of its last `predict`).
 */
export interface EvaluateTarget {
  runtime: Runtime;
  solver: Solver;
  onStats?: (stats: SolveStats | undefined) => void;
}

/** Report progress of a long task through the experiment's `progress` hook. */
export function progress(state: ExperimentState, task: string, label: string, done: number, total: number, detail?: string): void {
  state.exp.hooks.progress.call({ task, label, done, total, ...(detail ? { detail } : {}) });
}

/**
 * Evaluate `m` and return its row. The first model evaluated is the baseline of every `speedup`;
 * `speedupVsConv` is filled in when the conv original's time is known. On a regression dataset the row carries
 * the evaluator's errors (`testMse`, `rmse`, `relativeError`, `mseRatio` against the baseline's MSE,
 * `nfePerSample`, `errorByTime`, `trajectories`) instead of top-k and `relativeTop1`; the first evaluation's
 * observed trajectories become the results' `regression`.
 *
 * Paired timing (`evaluate.timing: paired`, the default): the baseline's executable stays open as
 * `state.reference` (disposed at the end of the run) and every later model is timed pass by pass beside it;
 * the row's `speedup` is the median of the paired ratios, `speedupRange` their [min, max] and
 * `baselineSeconds` the median of the baseline's passes beside this model. A baseline time that drifts by
 * more than {@link DRIFT_THRESHOLD} from the baseline row's own is logged once and recorded. Single timing:
 * `speedup` = the baseline's median time / this model's.
 *
 * `target` (a solver comparison): build `m` on that runtime with that solver instead of the evaluation runtime
 * (or its tfjs fallback) with the experiment's solver, and tell `target.onStats` the executable's `lastStats`.
 */
export async function evaluateModel(
  state: ExperimentState,
  m: ModelIR,
  label: string,
  stage: ResultRow['stage'],
  method: string,
  dim: number,
  diag?: ReducedDiagnostics,
  target?: EvaluateTarget,
): Promise<ResultRow> {
  const { config } = state;
  const paired = config.evaluate.timing !== 'single';
  const isBaseline = !state.baseline;
  const reference = paired && !isBaseline ? state.reference : undefined;
  const exec = target ? await buildFor(state, m, target.runtime, target.solver) : await buildFor(state, m);
  let evaluator = evaluators.get(state);
  if (!evaluator) evaluators.set(state, (evaluator = state.exp.factory('Evaluator', state.resolved.evaluator)({})));
  let ev: EvaluationResult;
  let keep = false;
  try {
    ev = await evaluator.evaluate(exec, state.dataset, {
      repeats: config.evaluate.repeats,
      topk: state.topk,
      batch: config.evaluate.batch,
      ...(config.evaluate.limit ? { limit: config.evaluate.limit } : {}),
      ...(config.evaluate.timingLimit ? { timingLimit: config.evaluate.timingLimit } : {}),
      ...(state.baseline ? { baselineSeconds: state.baseline.seconds } : {}),
      ...(reference ? { reference } : {}),
      onProgress: (done, total) => progress(state, `evaluate:${label}`, `eval ${label}`, done, total),
    });
    target?.onStats?.(exec.lastStats);
    // paired timing: the baseline's executable is the reference of every later model
    keep = paired && isBaseline;
  } finally {
    if (!keep) await exec.dispose();
  }
  if (keep) state.reference = exec;
  // evaluate.adaptive: the model under the adaptive solver, and its block's stiffness (not in a comparison)
  const adaptive = stage === 'compared' ? {} : await adaptiveFields(state, m, label, method, stage);
  const cost = diag ?? blockCost(m.block);
  const top1 = ev.topk[1] ?? Number.NaN;
  if (!state.baseline) state.baseline = { seconds: ev.wallSeconds, ...(state.regression ? (ev.mse !== undefined ? { mse: ev.mse } : {}) : { top1 }) };
  const baseline = state.baseline;
  if (state.regression && !state.observed && ev.trajectories?.samples.length) {
    const t = ev.trajectories;
    state.observed = { times: t.times, states: t.truth[0]?.[0]?.length ?? 0, samples: t.samples, truth: t.truth };
  }
  let timing: Pick<ResultRow, 'speedup' | 'speedupRange' | 'baselineSeconds'>;
  if (paired && isBaseline) timing = { speedup: 1, speedupRange: [1, 1], baselineSeconds: ev.wallSeconds };
  else if (reference && ev.referenceTimings?.length === ev.timings.length && ev.timings.length > 0) {
    timing = pairedSpeedup(ev.timings, ev.referenceTimings);
    // a solver comparison's baseline is its first entry
    const warning = driftWarning(baseline.seconds, timing.baselineSeconds!, config.compare ? FIRST_ENTRY : undefined);
    if (warning && !state.timingWarnings.length) {
      state.timingWarnings.push(warning);
      state.log(`odemor: warning: ${warning}`);
    }
  } else {
    if (reference) {
      notice(state, `odemor: evaluator '${evaluator.name}' returned no referenceTimings for the paired timing; speedups use the baseline's single timing`);
    }
    timing = { speedup: baseline.seconds / ev.wallSeconds };
  }
  return {
    method,
    dim,
    // interpolation methods evaluate m (+ o) activations, which may differ from k
    ...(diag?.points && diag.activations !== dim ? { points: diag.activations } : {}),
    stage,
    ...(state.regression ? regressionFields(ev, baseline) : { top1, top3: ev.topk[3] ?? null, topk: Object.fromEntries(Object.entries(ev.topk).map(([k, v]) => [`top${k}`, v])) }),
    wallSeconds: ev.wallSeconds,
    timings: ev.timings,
    throughput: ev.throughput,
    ...timing,
    ...(state.convSeconds !== undefined ? { speedupVsConv: state.convSeconds / ev.wallSeconds } : {}),
    ...(state.regression ? {} : { relativeTop1: top1 / baseline.top1! }),
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
    ...(ev.timedSamples !== undefined ? { timedSamples: ev.timedSamples } : {}),
    ...adaptive,
  };
}

/**
 * A regression row's metrics: `testMse`, `rmse`, `relativeError`, `mseRatio` against the baseline's MSE (absent
 * when that is 0 or unknown), `nfePerSample`, `errorByTime` and the predicted `trajectories` (the observed ones go
 * to the results' `regression` once), each when the evaluator returned it.
 */
function regressionFields(ev: EvaluationResult, baseline: NonNullable<ExperimentState['baseline']>): Partial<ResultRow> {
  const mse = ev.mse;
  return {
    ...(mse !== undefined ? { testMse: mse } : {}),
    ...(ev.rmse !== undefined ? { rmse: ev.rmse } : {}),
    ...(ev.relativeError !== undefined ? { relativeError: ev.relativeError } : {}),
    ...(mse !== undefined && baseline.mse !== undefined && baseline.mse > 0 ? { mseRatio: mse / baseline.mse } : {}),
    ...(ev.nfePerSample !== undefined ? { nfePerSample: ev.nfePerSample } : {}),
    ...(ev.errorByTime ? { errorByTime: { times: [...ev.errorByTime.times], rmse: [...ev.errorByTime.rmse] } } : {}),
    ...(ev.trajectories?.samples.length ? { trajectories: { samples: [...ev.trajectories.samples], predicted: ev.trajectories.predicted } } : {}),
  };
}

/** Say `line` once per experiment. */
function notice(state: ExperimentState, line: string): void {
  let seen = warned.get(state);
  if (!seen) warned.set(state, (seen = new Set()));
  if (!seen.has(line)) {
    seen.add(line);
    state.log(line);
  }
}

/**
 * Speedup from paired passes: `speedup` is the median over pairs of reference time / model time,
 * `speedupRange` the [min, max] of those ratios, `baselineSeconds` the median of the reference's passes.
 */
export function pairedSpeedup(timings: readonly number[], referenceTimings: readonly number[]): Required<Pick<ResultRow, 'speedup' | 'speedupRange' | 'baselineSeconds'>> {
  if (!timings.length || timings.length !== referenceTimings.length) {
    throw new OdemorError('ARGUMENT', `paired timings need as many reference passes as model passes (at least one), got ${referenceTimings.length} and ${timings.length}`);
  }
  const ratios = referenceTimings.map((r, i) => r / timings[i]!);
  return { speedup: median(ratios), speedupRange: [Math.min(...ratios), Math.max(...ratios)], baselineSeconds: median(referenceTimings) };
}

/** A baseline time beside a model that deviates from the baseline row's own by more than this (relative) is a drift. */
export const DRIFT_THRESHOLD = 0.1;

/** Relative deviation |reference − baseline| / baseline. */
export function timingDrift(baselineSeconds: number, referenceSeconds: number): number {
  return Math.abs(referenceSeconds - baselineSeconds) / baselineSeconds;
}

const secs = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** The drift warning when `referenceSeconds` deviates from `baselineSeconds` by more than {@link DRIFT_THRESHOLD}, else undefined. */
export function driftWarning(baselineSeconds: number, referenceSeconds: number, subject = "the original's time"): string | undefined {
  const drift = timingDrift(baselineSeconds, referenceSeconds);
  if (!(drift > DRIFT_THRESHOLD)) return undefined;
  return (
    `${subject} drifted by ${(drift * 100).toFixed(1)} % within this run (${secs(baselineSeconds)} s → ${secs(referenceSeconds)} s): ` +
    'absolute times are not comparable; paired speedups compensate'
  );
}

/** The subject of a solver comparison's drift warning: its baseline is the first entry. */
export const FIRST_ENTRY = "the first entry's time";

/** Whether `warning` is a {@link driftWarning} (of any subject). */
const isDriftWarning = (warning: string): boolean => / drifted by [\d.]+ % within this run /.test(warning);

/**
 * results.json's `timing`: the mode, the baseline row's median time, the [min, max] of the rows'
 * `baselineSeconds` and their largest relative deviation from the baseline's (single timing: [b, b], 0). The
 * drift warning is that of the rows kept (a resumed run's rows redone replace those that drifted): `warnings`'
 * drift warnings (said while the run went) give way to one for the largest drift of `rows`, if it is above the
 * threshold; `subject` names the baseline in it (default the original).
 */
export function timingSummary(mode: TimingSummary['mode'], baselineSeconds: number, rows: readonly ResultRow[], warnings: readonly string[], subject?: string): TimingSummary {
  const refs = rows.map((r) => r.baselineSeconds).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!refs.length) refs.push(baselineSeconds);
  const drifts = refs.map((v) => timingDrift(baselineSeconds, v));
  const drift = Math.max(...drifts);
  const worst = driftWarning(baselineSeconds, refs[drifts.indexOf(drift)]!, subject);
  return {
    mode,
    baselineSeconds,
    referenceRange: [Math.min(...refs), Math.max(...refs)],
    drift,
    warnings: [...warnings.filter((w) => !isDriftWarning(w)), ...(worst ? [worst] : [])],
  };
}

/** Publish a final row: fire `evaluated`, keep it, and persist the partial results (nothing finished is lost). */
export async function publishRow(state: ExperimentState, row: ResultRow): Promise<void> {
  await state.exp.hooks.evaluated.promise(row);
  state.rows.push(row);
  await persistPartial(state);
}

/** The row of a resumed run for (method, dim, stage), if it finished before. */
export function resumedRow(state: ExperimentState, method: string, dim: number, stage: ResultRow['stage']): ResultRow | undefined {
  return state.resumed?.rows.find((r) => r.method === method && r.dim === dim && r.stage === stage);
}

/**
 * What several stages share: runtimes by name (created once, disposed at the end), the runtime that can
 * run a model (falling back to the eager tfjs runtime, saying so once), and evaluating one model into a
 * results row. A row is returned, not published: the caller fires `evaluated` once the row is final.
 */
import { OdemorError } from '../errors.js';
import type { EvaluationResult, Evaluator, Executable, ReducedDiagnostics, Runtime } from '../extension-points.js';
import type { ResultRow } from '../hooks.js';
import type { ModelIR } from '../ir/types.js';
import { resolveUse } from '../plugins/resolve.js';
import { blockCost } from '../reduce/index.js';
import type { ExperimentState } from './state.js';
import { persistPartial } from './stages/report.js';

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
 * The evaluation runtime when it can run `m`, else the eager 'tfjs' runtime (an adaptive solver in a static
 * graph, say), with one notice per reason. `need` asks for a capability (snapshots) the runtime must have.
 */
export async function runtimeFor(state: ExperimentState, m: ModelIR, need?: 'snapshots'): Promise<Runtime> {
  const rt = state.runtime;
  const ok = rt.supports(m);
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

/** Build `m` on `rt` (default: the runtime that can run it). The caller disposes the executable. */
export async function buildFor(state: ExperimentState, m: ModelIR, rt?: Runtime): Promise<Executable> {
  const runtime = rt ?? (await runtimeFor(state, m));
  return runtime.build(m, { solver: state.solver, tableau: state.solver.tableau, hooks: state.exp.hooks, threads: state.config.evaluate.threads });
}

/** Report progress of a long task through the experiment's `progress` hook. */
export function progress(state: ExperimentState, task: string, label: string, done: number, total: number, detail?: string): void {
  state.exp.hooks.progress.call({ task, label, done, total, ...(detail ? { detail } : {}) });
}

/**
 * Evaluate `m` and return its row. The first model evaluated is the baseline of every `speedup`;
 * `speedupVsConv` is filled in when the conv original's time is known.
 */
export async function evaluateModel(
  state: ExperimentState,
  m: ModelIR,
  label: string,
  stage: ResultRow['stage'],
  method: string,
  dim: number,
  diag?: ReducedDiagnostics,
): Promise<ResultRow> {
  const { config } = state;
  const exec = await buildFor(state, m);
  let evaluator = evaluators.get(state);
  if (!evaluator) evaluators.set(state, (evaluator = state.exp.factory('Evaluator', state.resolved.evaluator)({})));
  let ev: EvaluationResult;
  try {
    ev = await evaluator.evaluate(exec, state.dataset, {
      repeats: config.evaluate.repeats,
      topk: state.topk,
      batch: config.evaluate.batch,
      ...(config.evaluate.limit ? { limit: config.evaluate.limit } : {}),
      ...(state.baseline ? { baselineSeconds: state.baseline.seconds } : {}),
      onProgress: (done, total) => progress(state, `evaluate:${label}`, `eval ${label}`, done, total),
    });
  } finally {
    await exec.dispose();
  }
  const cost = diag ?? blockCost(m.block);
  const top1 = ev.topk[1] ?? Number.NaN;
  if (!state.baseline) state.baseline = { seconds: ev.wallSeconds, top1 };
  const baseline = state.baseline;
  return {
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
    ...(state.convSeconds !== undefined ? { speedupVsConv: state.convSeconds / ev.wallSeconds } : {}),
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

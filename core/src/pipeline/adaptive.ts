/**
 * `evaluate.adaptive` (docs/architecture.md#adaptive): every original, reduced and fine-tuned model of a sweep is
 * also integrated by an adaptive solver at each tolerance, on the first test samples, on the evaluation runtime with
 * that solver (the way a solver comparison evaluates an entry: the model's solver spec and the Solver replaced, built
 * with `buildFor`, the executable's `lastStats` read after each `predict`; the tfjs runtime when the evaluation runtime
 * cannot run it), and compared with the original under the same solver; and the stiffness of its block is sampled
 * along test trajectories (core/src/stiffness, docs/algorithms.md#stiffness). The results go to the row's `adaptive`
 * and `stiffness`.
 */
import { createHash } from 'node:crypto';
import type { Experiment } from '../container.js';
import { ConfigError, formatKey, locateProblem, type LoadedConfig } from '../config/load.js';
import type { AdaptiveConfig, ExperimentConfig } from '../config/schema.js';
import { OdemorError } from '../errors.js';
import type { Evaluator, Executable, Runtime, SolveStats, Solver } from '../extension-points.js';
import type { AdaptiveResult, ResultRow } from '../hooks.js';
import type { ModelIR } from '../ir/types.js';
import { resolveUse } from '../plugins/resolve.js';
import { stiffnessIndicators, type StiffnessSample, type StiffnessSummary } from '../stiffness/index.js';
import { buildFor, fallbackNotice, progress } from './evaluate.js';
import { readTestSplit } from './passes.js';
import type { ExperimentState } from './state.js';

/** The key of the adaptive solver in messages. */
const KEY = ['evaluate', 'adaptive', 'use'];

/**
 * Resolve `evaluate.adaptive.use` and check it is an adaptive solver that takes the tolerances (a PLUGIN error for an
 * unknown name, a ConfigError naming `evaluate.adaptive.use` or `evaluate.adaptive.rtol` otherwise). Returns the
 * Solver's name, or undefined without `evaluate.adaptive`.
 */
export async function checkAdaptive(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig): Promise<string | undefined> {
  const a = config.evaluate.adaptive;
  if (!a) return undefined;
  let name: string;
  try {
    name = await resolveUse(exp, 'Solver', a.use, loaded.baseDir);
  } catch (e) {
    if (OdemorError.is(e) && e.code === 'PLUGIN') throw new OdemorError('PLUGIN', `${loaded.file}: ${formatKey(KEY)}: ${e.message}`, { cause: e });
    throw e;
  }
  const problem = (keys: (string | number)[], message: string) => new ConfigError(loaded.file, [locateProblem({ key: formatKey(keys), message }, keys, loaded.source)]);
  for (const [i, rtol] of a.rtol.entries()) {
    let solver: Solver;
    try {
      solver = exp.factory('Solver', name)(solverOptions(a, rtol)) as Solver;
    } catch (e) {
      throw problem(['evaluate', 'adaptive', 'rtol', ...(a.rtol.length > 1 ? [i] : [])], `solver '${name}' refuses rtol ${rtol}: ${(e as Error).message}`);
    }
    if (!solver.adaptive) {
      throw problem(KEY, `solver '${name}' is not adaptive: evaluate.adaptive integrates every model with an adaptive solver at each rtol (e.g. use: dopri5)`);
    }
  }
  return name;
}

/** The options of the adaptive solver at one tolerance. */
function solverOptions(a: AdaptiveConfig, rtol: number): Record<string, unknown> {
  return { rtol, ...(a.atol !== undefined ? { atol: a.atol } : {}), ...(a.maxSteps !== undefined ? { maxSteps: a.maxSteps } : {}) };
}

/** Per experiment: the original's entries (the baseline of every ratio), the evaluator, the stiffness samples. */
interface AdaptiveState {
  baseline?: AdaptiveResult[];
  evaluator?: Evaluator;
  samples?: StiffnessSample[];
  solvers: Map<number, Solver>;
  /** stiffness by block fingerprint: a fine-tuning stage that trains only the layers after the block keeps its block */
  stiffness: Map<string, StiffnessSummary>;
}
const states = new WeakMap<ExperimentState, AdaptiveState>();
function adaptiveState(state: ExperimentState): AdaptiveState {
  let s = states.get(state);
  if (!s) states.set(state, (s = { solvers: new Map(), stiffness: new Map() }));
  return s;
}

/** The adaptive solver at `rtol`, made once. */
function solverAt(state: ExperimentState, rtol: number): Solver {
  const s = adaptiveState(state);
  let solver = s.solvers.get(rtol);
  if (!solver) {
    solver = state.exp.factory('Solver', state.resolved.adaptive!)(solverOptions(state.config.evaluate.adaptive!, rtol)) as Solver;
    s.solvers.set(rtol, solver);
  }
  return solver;
}

/**
 * The runtime that integrates `model` with `solver`: the evaluation runtime created for that solver when it runs
 * adaptive solvers and this model, else tfjs (with one notice). Created once per runtime and tolerance, disposed with
 * the experiment's runtimes.
 */
async function adaptiveRuntime(state: ExperimentState, model: ModelIR, solver: Solver, rtol: number): Promise<Runtime> {
  const make = async (name: string): Promise<Runtime> => {
    const key = `${name}:adaptive:${rtol}`;
    let rt = state.runtimes.get(key);
    if (!rt) {
      const resolved = await resolveUse(state.exp, 'Runtime', name, state.loaded.baseDir);
      rt = await state.exp.factory('Runtime', resolved)({ solver, hooks: state.exp.hooks, threads: state.config.evaluate.threads });
      state.runtimes.set(key, rt);
    }
    return rt;
  };
  const rt = await make(state.resolved.runtime);
  const ok = rt.capabilities.adaptive ? rt.supports(model) : { ok: false as const, reason: `runtime '${rt.name}' does not integrate adaptive solvers` };
  if (ok.ok) return rt;
  if (rt.name === 'tfjs') throw new OdemorError('RUNTIME', `the tfjs runtime cannot integrate this model with solver '${solver.name}': ${ok.reason}`);
  fallbackNotice(state, `evaluate.adaptive: ${ok.reason}`);
  return make('tfjs');
}

/** An executable that sums the solver statistics of every `predict` (NFE, accepted and rejected steps, weighted by the batch size). */
class CountingExecutable implements Executable {
  nfe = 0;
  accepted = 0;
  rejected = 0;
  samples = 0;
  counted = true;
  constructor(private readonly inner: Executable) {}
  get info() {
    return this.inner.info;
  }
  get lastStats(): SolveStats | undefined {
    return this.inner.lastStats;
  }
  async predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array> {
    const out = await this.inner.predict(x, batch, inputs);
    const s = this.inner.lastStats;
    if (s && Number.isFinite(s.nfe)) {
      this.nfe += s.nfe * batch;
      this.accepted += s.accepted * batch;
      this.rejected += s.rejected * batch;
    } else this.counted = false;
    this.samples += batch;
    return out;
  }
  dispose() {
    return this.inner.dispose();
  }
}

/** Integrate `m` with the adaptive solver at `rtol` on the first `samples` test samples: one entry of a row's `adaptive`. */
async function evaluateAt(state: ExperimentState, m: ModelIR, label: string, rtol: number): Promise<AdaptiveResult> {
  const a = state.config.evaluate.adaptive!;
  const solver = solverAt(state, rtol);
  const atol = solver.atol ?? a.atol;
  const model: ModelIR = { ...m, solver: { ...m.solver, use: solver.name, rtol, ...(atol !== undefined ? { atol } : {}) } };
  const batch = a.batch ?? state.config.evaluate.batch;
  const base = { solver: solver.name, rtol, ...(atol !== undefined ? { atol } : {}) };
  const started = performance.now();
  let exec: CountingExecutable | undefined;
  try {
    const rt = await adaptiveRuntime(state, model, solver, rtol);
    exec = new CountingExecutable(await buildFor(state, model, rt, solver));
    const s = adaptiveState(state);
    s.evaluator ??= state.exp.factory('Evaluator', state.resolved.evaluator)({});
    const ev = await s.evaluator.evaluate(exec, state.dataset, {
      repeats: a.repeats,
      topk: state.regression ? [] : [1],
      batch,
      limit: a.samples,
      onProgress: (done, total) => progress(state, `adaptive:${label}:${rtol}`, `adaptive ${label} rtol ${rtol}`, done, total),
    });
    const per = (v: number) => v / exec!.samples;
    return {
      ...base,
      samples: ev.samples,
      batch,
      ...(exec.counted && exec.samples ? { nfePerSample: per(exec.nfe), acceptedPerSample: per(exec.accepted), rejectedPerSample: per(exec.rejected) } : {}),
      wallSeconds: ev.wallSeconds,
      ...(state.regression ? (ev.mse !== undefined ? { testMse: ev.mse } : {}) : { top1: ev.topk[1] ?? Number.NaN }),
      runtime: exec.info.runtime,
      backend: exec.info.backend,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    // a model the solver cannot integrate (maxSteps reached, a non-finite state) keeps its row: the entry says why
    const error = e instanceof Error ? e.message : String(e);
    state.log(`odemor: evaluate.adaptive: ${label} at rtol ${rtol} failed: ${error}`);
    return { ...base, samples: 0, batch, wallSeconds: Number.NaN, runtime: '', backend: '', error, seconds: (performance.now() - started) / 1000 };
  } finally {
    await exec?.dispose();
  }
}

/** The ratios of `e` against the original's entry `o` at the same tolerance (each only where both values are usable). */
function withRatios(e: AdaptiveResult, o: AdaptiveResult | undefined, regression: boolean): AdaptiveResult {
  if (!o || e.error || o.error) return e;
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined);
  const nfe = ratio(e.nfePerSample, o.nfePerSample);
  const rejected = ratio(e.rejectedPerSample, o.rejectedPerSample);
  const time = ratio(e.wallSeconds, o.wallSeconds);
  const acc = regression ? ratio(e.testMse, o.testMse) : ratio(e.top1, o.top1);
  return {
    ...e,
    ...(nfe !== undefined ? { nfeRatio: nfe } : {}),
    ...(rejected !== undefined ? { rejectedRatio: rejected } : {}),
    ...(time !== undefined ? { timeRatio: time } : {}),
    ...(acc !== undefined ? (regression ? { mseRatio: acc } : { relativeTop1: acc }) : {}),
  };
}

/** A fingerprint of a block: its structure and every tensor's shape and bytes (SHA-256). */
export function blockFingerprint(block: ModelIR['block']): string {
  const h = createHash('sha256');
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else if (Array.isArray(v)) {
      h.update('[');
      v.forEach(walk);
      h.update(']');
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v).sort()) {
        h.update(`${k}:`);
        walk((v as Record<string, unknown>)[k]);
      }
    } else h.update(`${JSON.stringify(v)};`);
  };
  walk(block);
  return h.digest('hex');
}

/** The first test samples as stiffness samples (their inputs, and their signals u for a state input with one). */
async function stiffnessSamples(state: ExperimentState, count: number): Promise<StiffnessSample[]> {
  const s = adaptiveState(state);
  if (s.samples && s.samples.length >= count) return s.samples.slice(0, count);
  const batches = await readTestSplit(state.dataset, count, count);
  const per = state.dataset.info.inputShape.reduce((a, b) => a * b, 1);
  const out: StiffnessSample[] = [];
  for (const b of batches) {
    const perU = b.u ? b.u.length / b.size : 0;
    for (let i = 0; i < b.size && out.length < count; i++) {
      out.push({ x: b.x.subarray(i * per, (i + 1) * per), ...(b.u ? { u: b.u.subarray(i * perU, (i + 1) * perU) } : {}) });
    }
  }
  s.samples = out;
  return out;
}

/**
 * The row fields `evaluate.adaptive` adds for model `m` (`adaptive`, `stiffness`), or none without it. The first model
 * measured (the original) is the baseline of every ratio; on `--resume` it is the resumed original row's entries.
 * `original-conv` (the convolutional form of the original, the same function as its dense Toeplitz form, the baseline)
 * is not measured again, nor a stage that `evaluate.adaptive.stages` leaves out.
 */
export async function adaptiveFields(state: ExperimentState, m: ModelIR, label: string, method: string, stage: ResultRow['stage']): Promise<Pick<ResultRow, 'adaptive' | 'stiffness'>> {
  const a = state.config.evaluate.adaptive;
  if (!a || !state.resolved.adaptive || method === 'original-conv') return {};
  if (a.stages && stage !== 'original' && !(a.stages as string[]).includes(stage)) return {};
  const s = adaptiveState(state);
  s.baseline ??= state.rows.find((r) => r.stage === 'original' && r.adaptive)?.adaptive;
  const entries: AdaptiveResult[] = [];
  for (const rtol of a.rtol) entries.push(await evaluateAt(state, m, label, rtol));
  const isBaseline = !s.baseline;
  if (isBaseline) s.baseline = entries;
  const adaptive = entries.map((e) => withRatios(e, s.baseline!.find((o) => o.rtol === e.rtol), state.regression));
  let stiffness: StiffnessSummary | undefined;
  if (a.stiffness) {
    const started = performance.now();
    try {
      // the same block along the same trajectories has the same indicators (the model's readout times and span are part of the key)
      const key = `${blockFingerprint(m.block)}|${m.solver.t0}|${m.solver.t1}|${m.solver.dt}|${JSON.stringify(m.readout ?? null)}`;
      const known = s.stiffness.get(key);
      if (known) stiffness = { ...known, seconds: (performance.now() - started) / 1000 };
      else {
        const samples = await stiffnessSamples(state, a.stiffness.trajectories);
        const options = { points: a.stiffness.points, exactMaxDim: a.stiffness.exactMaxDim, power: { iterations: a.stiffness.iterations } };
        stiffness = { ...stiffnessIndicators(m, samples, options), seconds: (performance.now() - started) / 1000 };
        s.stiffness.set(key, stiffness);
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      state.log(`odemor: evaluate.adaptive: the stiffness of ${label} could not be measured: ${error}`);
    }
  }
  return { adaptive, ...(stiffness ? { stiffness } : {}) };
}

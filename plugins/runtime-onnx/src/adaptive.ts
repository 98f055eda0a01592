/**
 * Adaptive explicit Runge–Kutta solvers on onnxruntime: the graphs of `compileAdaptive` (pre, rhs, step, post)
 * driven by core's one integration loop and step-size controller (`integrateAsync`, `AdaptiveController`), one
 * step size for the whole batch as on every runtime. See docs/algorithms.md#onnx-adaptive.
 */
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import {
  OdemorError,
  RK_DEFAULTS,
  adaptiveExponent,
  errorRatioFromSquares,
  integrateAsync,
  sequenceIndex,
  stepFactor,
  type ButcherTableau,
  type DriverResult,
  type Executable,
  type ExecutableInfo,
  type ModelIR,
  type SolveStats,
  type Solver,
  type SolverAlgebra,
  type StepContext,
  type StepOutput,
} from '@odemor/core';
import { ADAPTIVE_GRAPH_NAMES as N, compileAdaptive, inputShapeOf, inputSignalOf, segmentEnds, type AdaptiveGraphs } from './compile.js';
import { checkInput, createSession, graphOutput, runGraph, signalTensor } from './session.js';

const prod = (a: readonly number[]): number => a.reduce((p, v) => p * v, 1);

/** Solver settings of an adaptive solve: the model's `rtol` / `atol` first, then the solver's, then core's defaults (as runtime-tfjs). */
export interface AdaptiveSettings {
  name: string;
  tableau: ButcherTableau;
  rtol: number;
  atol: number;
  maxSteps: number;
}

/** {@link AdaptiveSettings} of `model` with `solver` (tfjs's `integrateBlock` + core's `solveWith` resolution). */
export function adaptiveSettings(model: ModelIR, tableau: ButcherTableau, solver?: Pick<Solver, 'name' | 'rtol' | 'atol' | 'maxSteps'>): AdaptiveSettings {
  return {
    name: solver?.name ?? model.solver.use,
    tableau,
    rtol: model.solver.rtol ?? solver?.rtol ?? RK_DEFAULTS.rtol,
    atol: model.solver.atol ?? solver?.atol ?? RK_DEFAULTS.atol,
    maxSteps: solver?.maxSteps ?? RK_DEFAULTS.maxSteps,
  };
}

/**
 * The algebra of onnxruntime tensors for core's loop: values are immutable session outputs the garbage
 * collector frees (clone and dispose are no-ops); `allFinite` scans the data. The step graph computes the stages
 * and the error, so `axpy`, `combine` and `errorRatio` are never called.
 */
const tensorAlgebra: SolverAlgebra<Tensor> = {
  scope: (fn) => fn(),
  axpy() {
    throw new OdemorError('RUNTIME', 'the onnx step graph computes the stages (unreachable)');
  },
  combine() {
    throw new OdemorError('RUNTIME', 'the onnx step graph computes the stages (unreachable)');
  },
  errorRatio() {
    throw new OdemorError('RUNTIME', 'the onnx step graph computes the error (unreachable)');
  },
  allFinite(y) {
    const d = y.data as Float32Array;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
    return true;
  },
  clone: (y) => y,
  dispose: () => {},
};

/** The loaded sessions of an adaptive solve (see {@link AdaptiveGraphs}). */
export interface AdaptiveSessions {
  pre?: InferenceSession;
  rhs: InferenceSession;
  step: InferenceSession;
  post: InferenceSession;
}

/** Create the sessions of `graphs` (all or none: a failure releases those already made). */
export async function createAdaptiveSessions(graphs: AdaptiveGraphs, threads: number): Promise<AdaptiveSessions> {
  const made: InferenceSession[] = [];
  const make = async (bytes: Uint8Array) => {
    const s = await createSession(bytes, threads);
    made.push(s);
    return s;
  };
  try {
    const pre = graphs.pre ? await make(graphs.pre) : undefined;
    return { ...(pre ? { pre } : {}), rhs: await make(graphs.rhs), step: await make(graphs.step), post: await make(graphs.post) };
  } catch (e) {
    await Promise.all(made.map((s) => s.release().catch(() => undefined)));
    throw e;
  }
}

/** Release every session of an adaptive solve. */
export async function releaseAdaptiveSessions(s: AdaptiveSessions): Promise<void> {
  await Promise.all([s.pre, s.rhs, s.step, s.post].map((x) => x?.release()));
}

/** The sessions the step loop itself runs (pre, rhs, step): {@link AdaptiveSessions} without post. */
export type AdaptiveLoopSessions = Omit<AdaptiveSessions, 'post'>;

/** Extra feeds of each graph of the loop, on every run (training: the weights the graphs take as inputs). */
export interface AdaptiveFeeds {
  pre?: Record<string, Tensor>;
  rhs?: Record<string, Tensor>;
  step?: Record<string, Tensor>;
}

/** One accepted step of a recorded solve: from `t` with size `h`, starting from the state `y` [batch, ...stateDims]. */
export interface AcceptedStep {
  t: number;
  h: number;
  y: Tensor;
}

/** Options of one {@link solveAdaptive}. */
export interface AdaptiveSolveOptions {
  /** extra feeds of the pre, rhs and step graphs on every run (graphs compiled with a weight hook) */
  feeds?: AdaptiveFeeds;
  /** keep every accepted step (its start, size and starting state) in `steps`: what training backprops through */
  record?: boolean;
  /** keep the state after every `saveEvery`-th accepted step (not with `times`) */
  saveEvery?: number;
  /** the input signal of a model with input kind 'state' and a signal, [batch, steps, channels] (required there) */
  u?: Float32Array;
  /**
   * integrate to each of these times in turn (increasing, after t0; a trajectory readout's times), landing exactly
   * on each, and return the state there in `readout`; `y` is the state at the last one
   */
  times?: readonly number[];
}

/** What {@link solveAdaptive} returns: core's result, and with `times` the state at each time. */
export interface AdaptiveSolveResult extends DriverResult<Tensor> {
  /** with `times`: the state [batch, ...stateDims] at each time */
  readout?: Tensor[];
  /** with `record`: the accepted steps in order (rejected attempts are not kept) */
  steps?: AcceptedStep[];
  /** with `record`: the number of accepted steps before each readout time (or before t1: `[steps.length]`) */
  readoutSteps?: number[];
}

/**
 * Integrate the block of `model` on a batch with the step graph: x0 from the pre graph (zeros for sequence
 * models), then core's `integrateAsync` with the rhs graph as f and the step graph as the step program. Returns
 * core's result (`y` the state at t1 as a tensor [batch, ...stateDims]; `stats` with core's NFE count).
 *
 * With `times` (a trajectory readout) the loop runs once per segment [t0, times[0]], [times[0], times[1]], …, each
 * landing exactly on its end: core's controller per segment, the first trial step of a segment the step size the
 * controller would have tried next (the larger of its proposal before the landing step was shortened and its
 * proposal after it), `maxSteps` counted over all segments, `stats` summed.
 *
 * Training (docs/algorithms.md#onnx-adaptive-training): `feeds` adds inputs to every run of the pre, rhs and step
 * graphs (the weights of graphs compiled with a weight hook); `record` keeps every accepted step's start, size and
 * starting state (`steps`) and the accepted count before each readout time (`readoutSteps`), which the backward
 * sweep walks in reverse.
 */
export async function solveAdaptive(
  model: ModelIR,
  sessions: AdaptiveLoopSessions,
  stateDims: readonly number[],
  settings: AdaptiveSettings,
  x: Float32Array,
  batch: number,
  options: AdaptiveSolveOptions = {},
): Promise<AdaptiveSolveResult> {
  const { t0, t1, dt } = model.solver;
  const { tableau } = settings;
  const s = tableau.b.length;
  const dims = [batch, ...stateDims];
  const sig = inputSignalOf(model);
  let x0: Tensor;
  // a state input's signal (checked: SHAPE errors name inputs.u); a sequence model's signal is x itself
  let u = signalTensor(model, batch, options.u !== undefined ? { u: options.u } : undefined);
  if (model.input.kind === 'sequence') {
    u = new Tensor('float32', x, [batch, model.input.steps, model.input.features]);
    x0 = new Tensor('float32', new Float32Array(batch * prod(stateDims)), dims);
  } else {
    const res = await runGraph(sessions.pre!, { ...options.feeds?.pre, [N.input]: new Tensor('float32', x, [batch, ...inputShapeOf(model)]) }, 'pre');
    x0 = graphOutput(res, N.x0, 'pre');
  }
  const count = batch * prod(stateDims);
  const rtol = new Tensor('float32', Float32Array.of(settings.rtol), []);
  const atol = new Tensor('float32', Float32Array.of(settings.atol), []);
  const index = (times: number[]) => new Tensor('int64', BigInt64Array.from(times, (t) => BigInt(sequenceIndex(t, t0, sig!.stepDuration, sig!.steps))), [times.length]);

  const f = async (t: number, y: Tensor): Promise<Tensor> => {
    const feeds: Record<string, Tensor> = { ...options.feeds?.rhs, [N.state]: y };
    if (u) (feeds[N.u] = u), (feeds[N.uIndex] = index([t]));
    return graphOutput(await runGraph(sessions.rhs, feeds, 'rhs'), N.k, 'rhs');
  };
  // the controller's proposals (for the first trial step of the next readout segment)
  const exponent = adaptiveExponent(tableau);
  const trial = { next: dt, beforeLast: dt };
  const step = async (t: number, y: Tensor, h: number, context: StepContext<Tensor>): Promise<StepOutput<Tensor>> => {
    if (context.k1 === undefined) throw new OdemorError('RUNTIME', 'the onnx step graph needs the first stage k1 (core gives it in adaptive mode)');
    const feeds: Record<string, Tensor> = { ...options.feeds?.step, [N.state]: y, [N.k1]: context.k1, [N.h]: new Tensor('float32', Float32Array.of(h), []), [N.rtol]: rtol, [N.atol]: atol };
    // the stage times as core's rkStep computes them: t + c_i h
    if (u) (feeds[N.u] = u), (feeds[N.uIndex] = index(tableau.c.map((c) => t + c * h)));
    const res = await runGraph(sessions.step, feeds, 'step');
    // stages 2 … s were evaluated (k1 was given), as rkStep counts them
    for (let i = 1; i < s; i++) context.onEval?.();
    const errSq = graphOutput(res, N.errSq, 'step').data as Float32Array;
    let sum = 0;
    for (let i = 0; i < errSq.length; i++) sum += errSq[i]!;
    const out: StepOutput<Tensor> = { y1: graphOutput(res, N.y1, 'step'), ratio: errorRatioFromSquares(sum, count) };
    if (context.fsal) out.kLast = graphOutput(res, N.kLast, 'step');
    // what the controller proposed for this attempt (before landing shortened it) and what it proposes next
    trial.beforeLast = trial.next;
    if (Number.isFinite(out.ratio!)) trial.next = h * stepFactor(out.ratio!, exponent);
    return out;
  };
  // the accepted steps (record): each starts from the state the previous one ended in
  const steps: AcceptedStep[] | undefined = options.record ? [] : undefined;
  let before = x0;
  const onStep = steps
    ? (t: number, h: number, _index: number, state: Tensor) => {
        steps.push({ t, h, y: before });
        before = state;
      }
    : undefined;
  const recorded = (res: AdaptiveSolveResult, ends: number[]): AdaptiveSolveResult => (steps ? { ...res, steps, readoutSteps: ends } : res);
  const segment = (y0: Tensor, from: number, to: number, firstStep: number, maxSteps: number) =>
    integrateAsync(tensorAlgebra, tableau, y0, {
      t0: from,
      t1: to,
      dt: firstStep,
      adaptive: true,
      rtol: settings.rtol,
      atol: settings.atol,
      maxSteps,
      ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
      ...(onStep ? { onStep } : {}),
      f,
      step,
      name: settings.name,
    });
  if (!options.times) {
    const res = await segment(x0, t0, t1, dt, settings.maxSteps);
    return recorded(res, [steps?.length ?? 0]);
  }

  if (options.saveEvery !== undefined) throw new OdemorError('ARGUMENT', 'solveAdaptive: saveEvery cannot be combined with readout times');
  const stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
  const readout: Tensor[] = [];
  const ends: number[] = [];
  let y = x0;
  let from = t0;
  let first = dt;
  for (const [i, to] of options.times.entries()) {
    if (!(to > from)) throw new OdemorError('ARGUMENT', `solveAdaptive: times[${i}] = ${to} must be after ${i ? `times[${i - 1}] = ${from}` : `t0 = ${from}`}`);
    const left = settings.maxSteps - stats.accepted - stats.rejected;
    if (left < 1) {
      throw new OdemorError(
        'NUMERIC',
        `solver '${settings.name}': maxSteps (${settings.maxSteps}) reached at t=${from} before the readout time ${to} (rtol ${settings.rtol}, atol ${settings.atol}); loosen the tolerances or raise maxSteps`,
      );
    }
    trial.next = first;
    const res = await segment(y, from, to, first, left);
    stats.nfe += res.stats.nfe;
    stats.accepted += res.stats.accepted;
    stats.rejected += res.stats.rejected;
    y = res.y;
    readout.push(y);
    ends.push(steps?.length ?? 0);
    first = Math.max(trial.beforeLast, trial.next);
    from = to;
  }
  return recorded({ y, readout, stats }, ends);
}

/**
 * The executable of an adaptive solver (see {@link OnnxRuntime.build}): pre graph once, the step loop, post
 * graph once. `lastStats` holds core's counts of the last completed `predict`.
 */
export class OnnxAdaptiveExecutable implements Executable {
  readonly info: ExecutableInfo;
  private readonly sampleShape: number[];
  private stats: SolveStats | undefined;
  private released: Promise<void> | undefined;

  /** @param graphs the compiled, serialized graphs the sessions were created from */
  constructor(
    private readonly sessions: AdaptiveSessions,
    private readonly model: ModelIR,
    private readonly settings: AdaptiveSettings,
    threads: number,
    readonly graphs: AdaptiveGraphs,
  ) {
    this.info = { runtime: 'onnx', backend: 'cpu', threads };
    this.sampleShape = inputShapeOf(model);
  }

  /** Solver statistics of the last completed predict: `{ nfe, accepted, rejected }` (undefined before the first). */
  get lastStats(): SolveStats | undefined {
    return this.stats;
  }

  /**
   * Logits [batch, outputs] for `x` [batch, ...inputShape]; one step sequence for the whole batch. A trajectory
   * model drives the controller to each readout time in turn and returns the states there, [batch, T·size];
   * `inputs.u` [batch, steps, channels] is the input signal of a state input with a signal.
   */
  async predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array> {
    if (this.released) throw new OdemorError('RUNTIME', 'predict called on a disposed onnx executable');
    checkInput(x, batch, this.sampleShape);
    const m = this.model;
    const res = await solveAdaptive(m, this.sessions, this.graphs.stateDims, this.settings, x, batch, {
      ...(inputs?.u !== undefined ? { u: inputs.u } : {}),
      ...(m.readout ? { times: segmentEnds(m) } : {}),
    });
    let logits: Float32Array;
    if (res.readout) {
      // [batch, T, size] row-major from the post graph's [batch, size] at each time
      const T = res.readout.length;
      const size = m.outputs / T;
      logits = new Float32Array(batch * m.outputs);
      for (const [i, y] of res.readout.entries()) {
        const out = graphOutput(await runGraph(this.sessions.post, { [N.state]: y }, 'post'), N.logits, 'post').data as Float32Array;
        if (out.length !== batch * size) throw new OdemorError('RUNTIME', `the post graph returned ${out.length} values at readout time ${i}; expected ${batch * size}`);
        for (let b = 0; b < batch; b++) logits.set(out.subarray(b * size, (b + 1) * size), (b * T + i) * size);
      }
    } else {
      logits = graphOutput(await runGraph(this.sessions.post, { [N.state]: res.y }, 'post'), N.logits, 'post').data as Float32Array;
    }
    this.stats = { ...res.stats };
    return logits;
  }

  /** Release the sessions; later calls return the first call's promise. */
  dispose(): Promise<void> {
    return (this.released ??= releaseAdaptiveSessions(this.sessions));
  }
}

/** Compile and load the adaptive graphs of `model`. */
export async function buildAdaptive(
  model: ModelIR,
  settings: AdaptiveSettings,
  o: { threads: number; convAsDense: boolean; opset?: number },
): Promise<OnnxAdaptiveExecutable> {
  const graphs = compileAdaptive(model, { tableau: settings.tableau, convAsDense: o.convAsDense, ...(o.opset ? { opset: o.opset } : {}) });
  const sessions = await createAdaptiveSessions(graphs, o.threads);
  return new OnnxAdaptiveExecutable(sessions, model, settings, o.threads, graphs);
}


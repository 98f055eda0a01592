/**
 * Adaptive explicit Runge–Kutta solvers on onnxruntime: the graphs of `compileAdaptive` (pre, rhs, step, post)
 * driven by core's one integration loop and step-size controller (`integrateAsync`, `AdaptiveController`), one
 * step size for the whole batch as on every runtime. See docs/algorithms.md#onnx-adaptive.
 */
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import {
  OdemorError,
  RK_DEFAULTS,
  errorRatioFromSquares,
  integrateAsync,
  sequenceIndex,
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
import { ADAPTIVE_GRAPH_NAMES as N, compileAdaptive, inputShapeOf, type AdaptiveGraphs } from './compile.js';
import { checkInput, createSession } from './session.js';

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

async function run(session: InferenceSession, feeds: Record<string, Tensor>, what: string): Promise<InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds);
  } catch (err) {
    throw new OdemorError('RUNTIME', `onnxruntime failed to run the ${what} graph: ${(err as Error).message}`, { cause: err });
  }
}

function outputOf(result: InferenceSession.OnnxValueMapType, name: string, what: string): Tensor {
  const t = result[name] as Tensor | undefined;
  if (!t) throw new OdemorError('RUNTIME', `onnxruntime returned no output '${name}' from the ${what} graph`);
  return t;
}

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

/** Options of one {@link solveAdaptive}. */
export interface AdaptiveSolveOptions {
  /** keep the state after every `saveEvery`-th accepted step */
  saveEvery?: number;
}

/**
 * Integrate the block of `model` on a batch with the step graph: x0 from the pre graph (zeros for sequence
 * models), then core's `integrateAsync` with the rhs graph as f and the step graph as the step program. Returns
 * core's result (`y` the state at t1 as a tensor [batch, ...stateDims]; `stats` with core's NFE count).
 */
export async function solveAdaptive(
  model: ModelIR,
  sessions: AdaptiveSessions,
  stateDims: readonly number[],
  settings: AdaptiveSettings,
  x: Float32Array,
  batch: number,
  options: AdaptiveSolveOptions = {},
): Promise<DriverResult<Tensor>> {
  const { t0, t1, dt } = model.solver;
  const { tableau } = settings;
  const s = tableau.b.length;
  const dims = [batch, ...stateDims];
  const seq = model.input.kind === 'sequence' ? model.input : undefined;
  let x0: Tensor;
  let u: Tensor | undefined;
  if (seq) {
    u = new Tensor('float32', x, [batch, seq.steps, seq.features]);
    x0 = new Tensor('float32', new Float32Array(batch * prod(stateDims)), dims);
  } else {
    const res = await run(sessions.pre!, { [N.input]: new Tensor('float32', x, [batch, ...inputShapeOf(model)]) }, 'pre');
    x0 = outputOf(res, N.x0, 'pre');
  }
  const count = batch * prod(stateDims);
  const rtol = new Tensor('float32', Float32Array.of(settings.rtol), []);
  const atol = new Tensor('float32', Float32Array.of(settings.atol), []);
  const index = (times: number[]) => new Tensor('int64', BigInt64Array.from(times, (t) => BigInt(sequenceIndex(t, t0, seq!.stepDuration, seq!.steps))), [times.length]);

  const f = async (t: number, y: Tensor): Promise<Tensor> => {
    const feeds: Record<string, Tensor> = { [N.state]: y };
    if (u) (feeds[N.u] = u), (feeds[N.uIndex] = index([t]));
    return outputOf(await run(sessions.rhs, feeds, 'rhs'), N.k, 'rhs');
  };
  const step = async (t: number, y: Tensor, h: number, context: StepContext<Tensor>): Promise<StepOutput<Tensor>> => {
    if (context.k1 === undefined) throw new OdemorError('RUNTIME', 'the onnx step graph needs the first stage k1 (core gives it in adaptive mode)');
    const feeds: Record<string, Tensor> = { [N.state]: y, [N.k1]: context.k1, [N.h]: new Tensor('float32', Float32Array.of(h), []), [N.rtol]: rtol, [N.atol]: atol };
    // the stage times as core's rkStep computes them: t + c_i h
    if (u) (feeds[N.u] = u), (feeds[N.uIndex] = index(tableau.c.map((c) => t + c * h)));
    const res = await run(sessions.step, feeds, 'step');
    // stages 2 … s were evaluated (k1 was given), as rkStep counts them
    for (let i = 1; i < s; i++) context.onEval?.();
    const errSq = outputOf(res, N.errSq, 'step').data as Float32Array;
    let sum = 0;
    for (let i = 0; i < errSq.length; i++) sum += errSq[i]!;
    const out: StepOutput<Tensor> = { y1: outputOf(res, N.y1, 'step'), ratio: errorRatioFromSquares(sum, count) };
    if (context.fsal) out.kLast = outputOf(res, N.kLast, 'step');
    return out;
  };
  return integrateAsync(tensorAlgebra, tableau, x0, {
    t0,
    t1,
    dt,
    adaptive: true,
    rtol: settings.rtol,
    atol: settings.atol,
    maxSteps: settings.maxSteps,
    ...(options.saveEvery !== undefined ? { saveEvery: options.saveEvery } : {}),
    f,
    step,
    name: settings.name,
  });
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

  /** Logits [batch, outputs] for `x` [batch, ...inputShape]; one step sequence for the whole batch. */
  async predict(x: Float32Array, batch: number): Promise<Float32Array> {
    if (this.released) throw new OdemorError('RUNTIME', 'predict called on a disposed onnx executable');
    checkInput(x, batch, this.sampleShape);
    const res = await solveAdaptive(this.model, this.sessions, this.graphs.stateDims, this.settings, x, batch);
    const out = outputOf(await run(this.sessions.post, { [N.state]: res.y }, 'post'), N.logits, 'post');
    this.stats = { ...res.stats };
    return out.data as Float32Array;
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


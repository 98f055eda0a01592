/**
 * The adjoint gradient program (docs/algorithms.md#adjoint): a runtime-onnx `GradientProgram` whose backward pass
 * integrates the augmented state [x, a, g] backwards in time instead of backpropagating through the forward steps,
 * so that it holds no state per step (memory O(1) in the number of steps).
 *
 * Sign convention. With a(t) = ∂L/∂x(t) and a segment [t_{j−1}, t_j] the backward solve runs in the reversed time
 * s = t_j − t, s from 0 to t_j − t_{j−1}, on the augmented state z(s) = [x(t_j − s), a(t_j − s), g(s)]. The augmented
 * rhs graph gives the forward-time rates G(t, z) = (f(x), −aᵀ∂f/∂x, −aᵀ∂f/∂θ); in s the rates are their negation,
 * dz/ds = −G(t_j − s, z) = (−f, aᵀ∂f/∂x, aᵀ∂f/∂θ), which core's driver (`integrateAsync`, forward in s) integrates
 * with the solver's tableau — fixed steps of `dt`, or the adaptive controller at the model's tolerances. g starts at
 * 0 and ends at ∫_{t0}^{t1} aᵀ∂f/∂θ dt = dL/dθ (the block's part of the gradient).
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  OdemorError,
  RK_DEFAULTS,
  integrateAsync,
  listTensors,
  rkStepAsync,
  sequenceIndex,
  type ButcherTableau,
  type DriverResult,
  type ModelIR,
  type SolveStats,
  type StepContext,
  type StepOutput,
} from '@odemor/core';
import {
  ADAPTIVE_GRAPH_NAMES as N,
  adaptiveSettings,
  checkInput,
  GradientSums,
  ProgramTensors,
  WeightFeeds,
  runLossHeads,
  graphOutput,
  runGraph,
  correctCount,
  createSession,
  defaultThreads,
  inputShapeOf,
  inputSignalOf,
  lossTargets,
  segmentEnds,
  signalTensor,
  solveAdaptive,
  stepMapTableau,
  type AdaptiveLoopSessions,
  type AdaptiveSettings,
  type GradientInputs,
  type GradientProgram,
  type GradientProgramOptions,
  type GradientResult,
  type InputSignal,
} from '@odemor/runtime-onnx';
import { likeTensor, partsAlgebra, stepGraphAlgebra, type Parts } from './algebra.js';
import { ADJOINT_GRAPH_NAMES as A, buildAdjointGraphs, type AdjointGraphs } from './graphs.js';

const prod = (a: readonly number[]): number => a.reduce((p, v) => p * v, 1);

/** Options of {@link compileAdjointProgram}: runtime-onnx's gradient program options, and the adaptive settings. */
export interface AdjointProgramOptions extends GradientProgramOptions {
  /** adaptive solvers: tolerances and maxSteps of the forward and the adjoint solve; default the model's, then the solver's */
  settings?: AdaptiveSettings;
}

/** Core's counts of the last run's solves: the forward solve and the backward (adjoint) solve, summed over segments. */
export interface AdjointStats {
  forward: SolveStats;
  backward: SolveStats;
}

/** −t, as a tensor like `like` (its type and dims). */
function negated(like: Tensor, t: Tensor): Tensor {
  const d = t.data as Float32Array;
  if (d.length !== like.size) throw new OdemorError('RUNTIME', `the augmented rhs returned ${d.length} values for a part of ${like.size}`);
  const v = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) v[i] = -d[i]!;
  return likeTensor(like, v);
}

/**
 * The element of the input signal at time t seen from below (`left`: the element of the interval that ends at t,
 * what a backward step that starts at t integrates over) or from above (`right`: core's `sequenceIndex`).
 */
function signalIndex(sig: InputSignal, t0: number, t: number, side: 'left' | 'right'): number {
  if (side === 'right') return sequenceIndex(t, t0, sig.stepDuration, sig.steps);
  const j = Math.ceil((t - t0) / sig.stepDuration - 1e-9) - 1;
  return Math.min(sig.steps - 1, Math.max(0, j));
}

interface Sessions {
  pre?: InferenceSession;
  stepMap?: InferenceSession;
  loop?: AdaptiveLoopSessions;
  post: InferenceSession;
  augmented: InferenceSession;
  preBackward?: InferenceSession;
}

/**
 * The adjoint gradient program of a model (see the module comment and {@link compileAdjointProgram}): the
 * {@link GradientProgram} contract of runtime-onnx, so Trainer 'adjoint' runs runtime-onnx's training loop on it.
 */
export class AdjointGradientProgram implements GradientProgram {
  readonly paths: readonly string[];
  private readonly tensors: ProgramTensors;
  private disposed = false;
  private stats: AdjointStats | undefined;

  constructor(
    private readonly model: ModelIR,
    readonly graphs: AdjointGraphs,
    private readonly tableau: ButcherTableau,
    /** adaptive solvers: tolerances and maxSteps; absent: fixed steps of the model's dt */
    readonly settings: AdaptiveSettings | undefined,
    private readonly sessions: Sessions,
    trainablePaths: string[],
    fedPaths: string[],
  ) {
    this.paths = trainablePaths;
    this.tensors = new ProgramTensors(model, trainablePaths, fedPaths);
  }

  /** Core's counts of the last completed run's forward and adjoint solves (undefined before the first). */
  get lastStats(): AdjointStats | undefined {
    return this.stats;
  }

  /**
   * Loss and gradients on one batch (runtime-onnx's {@link GradientProgram.run}): the forward solve keeps only the
   * states at the readout times (or at t1), the adjoint solve restarts at each readout time (from the forward
   * state there, its adjoint plus ∂L/∂x(t_j)). An adaptive solver's runs also report `stats` (the forward solve).
   */
  async run(params: ReadonlyMap<string, Float32Array>, x: Float32Array, y: Int32Array | Float32Array, batch: number, inputs?: GradientInputs): Promise<GradientResult> {
    if (this.disposed) throw new OdemorError('RUNTIME', 'the adjoint gradient program was disposed');
    const m = this.model;
    const graphs = this.graphs;
    checkInput(x, batch, inputShapeOf(m), 'gradient program input x');
    const C = m.outputs;
    const target = lossTargets(graphs.loss, y, batch, C);
    const weights = this.tensors.feeds(params);
    // a sequence model's signal is x itself; a state input's signal is inputs.u (SHAPE errors name it)
    const u = m.input.kind === 'sequence' ? new Tensor('float32', x, [batch, m.input.steps, m.input.features]) : signalTensor(m, batch, inputs);
    const dims = [batch, ...graphs.stateDims];
    const count = prod(dims);
    const ends = segmentEnds(m);
    const starts = [m.solver.t0, ...ends.slice(0, -1)];

    // forward: the states at the readout times (or t1) only
    const fwd = await this.forward(x, batch, u, inputs, weights);
    const states = fwd.states;
    if (states.length !== ends.length) throw new OdemorError('RUNTIME', `the forward solve returned ${states.length} states for ${ends.length} readout times`);

    // the post graph with the loss at each readout time: loss, logits, dL/dx(t_j), the post layers' gradients
    const sums = new GradientSums();
    const T = states.length;
    const { loss, logits, seeds } = await runLossHeads(this.sessions.post, graphs.post, weights, states, target, batch, C, graphs.loss, A.ybar, sums);

    // backward: the augmented state [x, a, g] from t_T down to t0, one solve per segment; at each readout time x
    // restarts from the forward state and a gains ∂L/∂x(t_j)
    const rates = [...graphs.augmented.grads];
    let a = new Float32Array(count);
    let g: Tensor[] = rates.map(([input]) => {
      const d = graphs.augmented.params.get(input)!.dims;
      return new Tensor('float64', new Float64Array(prod(d)), d);
    });
    const backStats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
    const augWeights = weights.feeds(graphs.augmented.params);
    for (let i = T - 1; i >= 0; i--) {
      const s = seeds[i]!;
      for (let j = 0; j < count; j++) a[j] += s[j]!;
      const z0: Parts = [states[i]!, new Tensor('float32', a, dims), ...g];
      const res = await this.adjointSegment(z0, starts[i]!, ends[i]!, augWeights, u);
      backStats.nfe += res.stats.nfe;
      backStats.accepted += res.stats.accepted;
      backStats.rejected += res.stats.rejected;
      // a fresh copy: the next readout seed is added in place
      a = Float32Array.from(res.y[1]!.data as Float32Array);
      g = res.y.slice(2);
    }
    rates.forEach(([input], j) => sums.addValues(input, graphs.augmented.params.get(input)!, g[j]!.data as Float64Array));

    // the pre graph's VJP at dL/dx0 = a(t0)
    if (graphs.preBackward && this.sessions.preBackward) {
      const out = await runGraph(
        this.sessions.preBackward,
        { ...weights.feeds(graphs.preBackward.params), [N.input]: new Tensor('float32', x, [batch, ...inputShapeOf(m)]), [A.x0bar]: new Tensor('float32', a, dims) },
        'pre backward',
      );
      sums.add(graphs.preBackward, out, 'pre backward');
    }
    const grads = sums.byPath(new Map(this.paths.map((p) => [p, this.tensors.sizes.get(p)!])));
    const correct = graphs.loss === 'softmax-cross-entropy' ? correctCount(logits, y as Int32Array, batch, C) : 0;
    this.stats = { forward: { ...fwd.stats }, backward: backStats };
    return { loss, correct, grads, ...(this.settings ? { stats: { ...fwd.stats } } : {}) };
  }

  /** The forward solve: the state [batch, ...stateDims] at each readout time (or at t1), and core's counts. */
  private async forward(x: Float32Array, batch: number, u: Tensor | undefined, inputs: GradientInputs | undefined, weights: WeightFeeds): Promise<{ states: Tensor[]; stats: SolveStats }> {
    const m = this.model;
    const graphs = this.graphs;
    const ends = segmentEnds(m);
    if (graphs.adaptive && this.sessions.loop && this.settings) {
      const hooked = graphs.adaptive.hooked ?? {};
      const res = await solveAdaptive(m, this.sessions.loop, graphs.adaptive.stateDims, this.settings, x, batch, {
        ...(inputs?.u !== undefined ? { u: inputs.u } : {}),
        ...(m.readout ? { times: ends } : {}),
        feeds: { pre: weights.feeds(hooked.pre), rhs: weights.feeds(hooked.rhs), step: weights.feeds(hooked.step) },
      });
      return { states: res.readout ?? [res.y], stats: res.stats };
    }
    const fixed = graphs.fixed!;
    const dims = [batch, ...graphs.stateDims];
    let y: Tensor;
    if (fixed.pre && this.sessions.pre) {
      const out = await runGraph(this.sessions.pre, { ...weights.feeds(fixed.pre.params), [N.input]: new Tensor('float32', x, [batch, ...inputShapeOf(m)]) }, 'pre');
      y = graphOutput(out, N.x0, 'pre');
    } else y = new Tensor('float32', new Float32Array(prod(dims)), dims);
    const sig = inputSignalOf(m);
    const c = stepMapTableau(this.tableau).c;
    const stepWeights = weights.feeds(fixed.stepMap.params);
    const session = this.sessions.stepMap!;
    const { t0, dt } = m.solver;
    const step = async (t: number, yy: Tensor, h: number, context: StepContext<Tensor>): Promise<StepOutput<Tensor>> => {
      const feeds: Record<string, Tensor> = { ...stepWeights, [N.state]: yy, [N.h]: new Tensor('float32', Float32Array.of(h), []) };
      if (u && sig) {
        feeds[N.u] = u;
        feeds[N.uIndex] = new Tensor('int64', BigInt64Array.from(c, (ci) => BigInt(sequenceIndex(t + ci * h, t0, sig.stepDuration, sig.steps))), [c.length]);
      }
      const out = await runGraph(session, feeds, 'step map');
      for (let i = 0; i < fixed.stages; i++) context.onEval?.();
      return { y1: graphOutput(out, N.y1, 'step map') };
    };
    const stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
    const states: Tensor[] = [];
    let from = t0;
    for (const to of ends) {
      const res: DriverResult<Tensor> = await integrateAsync(stepGraphAlgebra, this.tableau, y, {
        t0: from,
        t1: to,
        dt,
        adaptive: false,
        rtol: RK_DEFAULTS.rtol,
        atol: RK_DEFAULTS.atol,
        maxSteps: RK_DEFAULTS.maxSteps,
        f: () => {
          throw new OdemorError('RUNTIME', 'the fixed-step forward loop runs the step-map graph (unreachable)');
        },
        step,
        name: m.solver.use,
      });
      stats.nfe += res.stats.nfe;
      stats.accepted += res.stats.accepted;
      y = res.y;
      states.push(y);
      from = to;
    }
    return { states, stats };
  }

  /** One backward segment [from, to]: z from s = 0 (t = to) to s = to − from (t = from); see the module comment. */
  private async adjointSegment(z0: Parts, from: number, to: number, augWeights: Record<string, Tensor>, u: Tensor | undefined): Promise<DriverResult<Parts>> {
    const m = this.model;
    const graphs = this.graphs;
    const rateNames = [...graphs.augmented.grads.values()];
    const sig = u ? inputSignalOf(m) : undefined;
    const t0 = m.solver.t0;
    const session = this.sessions.augmented;
    /** dz/ds at s, the signal element taken from `side` of t = to − s */
    const rhs = async (s: number, z: Parts, side: 'left' | 'right'): Promise<Parts> => {
      const feeds: Record<string, Tensor> = { ...augWeights, [N.state]: z[0]!, [A.adjoint]: z[1]! };
      if (u && sig) {
        feeds[N.u] = u;
        feeds[N.uIndex] = new Tensor('int64', BigInt64Array.of(BigInt(signalIndex(sig, t0, to - s, side))), [1]);
      }
      const out = await runGraph(session, feeds, 'augmented rhs');
      return [negated(z[0]!, graphOutput(out, N.k, 'augmented rhs')), negated(z[1]!, graphOutput(out, A.adjointRate, 'augmented rhs')), ...rateNames.map((name, j) => negated(z[2 + j]!, graphOutput(out, name, 'augmented rhs')))];
    };
    const settings = this.settings;
    // with an input signal, a step [s, s + h] covers t in [to − s − h, to − s]: its first stage (at its upper end
    // t = to − s) reads the element below t, the others core's sequenceIndex; a first stage handed over at a signal
    // boundary (FSAL: the last stage of the step before, read from above) is evaluated again
    const step = sig
      ? (s: number, z: Parts, h: number, context: StepContext<Parts>): Promise<StepOutput<Parts>> => {
          const t = to - s;
          const keep = signalIndex(sig, t0, t, 'left') === signalIndex(sig, t0, t, 'right');
          const { k1: _k1, ...rest } = context;
          return rkStepAsync(partsAlgebra, this.tableau, (st, zz) => rhs(st, zz, st === s ? 'left' : 'right'), s, z, h, keep ? context : rest);
        }
      : undefined;
    return integrateAsync(partsAlgebra, this.tableau, z0, {
      t0: 0,
      t1: to - from,
      dt: m.solver.dt,
      adaptive: settings !== undefined,
      rtol: settings?.rtol ?? RK_DEFAULTS.rtol,
      atol: settings?.atol ?? RK_DEFAULTS.atol,
      maxSteps: settings?.maxSteps ?? RK_DEFAULTS.maxSteps,
      f: (s, z) => rhs(s, z, 'left'),
      ...(step ? { step } : {}),
      name: `${settings?.name ?? m.solver.use} (adjoint)`,
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.sessions;
    await Promise.all([s.pre, s.stepMap, s.loop?.pre, s.loop?.rhs, s.loop?.step, s.post, s.augmented, s.preBackward].map((x) => x?.release()));
  }
}

/**
 * Compile the adjoint gradient program of `model` (docs/algorithms.md#adjoint): options as runtime-onnx's
 * `compileGradientProgram` — the solver's tableau (`options.tableau`, or `options.solver.tableau`; an adaptive
 * solver's needs `bHat` and runs the controller at the model's tolerances in both directions), `trainable`, `fed`,
 * `loss`, `threads`. Step programs without a tableau (Taylor-Lagrange) and `remainderWeight` are refused. Dispose
 * the program when done. Errors: RUNTIME (no tableau, no `bHat`), ARGUMENT (bad options), MODEL (what the compiler
 * refuses).
 */
export async function compileAdjointProgram(model: ModelIR, options: AdjointProgramOptions): Promise<AdjointGradientProgram> {
  if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', 'compileAdjointProgram: options are required');
  if (options.remainderWeight !== undefined && options.remainderWeight !== 0) {
    throw new OdemorError('ARGUMENT', `the adjoint method has no remainder penalty (remainderWeight must be 0 or absent, got ${String(options.remainderWeight)}); use trainer 'backprop-onnx' with a taylor-lagrange solver`);
  }
  const solver = options.solver;
  const adaptive = solver?.adaptive === true;
  const tableau = options.tableau ?? solver?.tableau;
  if (!tableau) {
    throw new OdemorError(
      'RUNTIME',
      solver
        ? `the adjoint method integrates the augmented state with a Butcher tableau; solver '${solver.name}' has none (a step program such as Taylor-Lagrange is not supported: use trainer 'backprop-onnx')`
        : 'compileAdjointProgram needs the Butcher tableau of the solver (options.tableau or options.solver)',
    );
  }
  if (adaptive && !tableau.bHat) {
    throw new OdemorError('RUNTIME', `solver '${solver!.name}' is adaptive but its tableau has no embedded weights (bHat) for the error estimate of the adjoint solve`);
  }
  const graphs = buildAdjointGraphs(model, {
    tableau,
    adaptive,
    trainable: options.trainable,
    ...(options.fed ? { fed: options.fed } : {}),
    ...(options.loss ? { loss: options.loss } : {}),
  });
  const settings = adaptive ? (options.settings ?? adaptiveSettings(model, tableau, solver)) : undefined;
  const threads = options.threads ?? defaultThreads();
  const all = listTensors(model).map((t) => t.path);
  const paths = all.filter((p) => options.trainable(p));
  const fedPaths = options.fed ? all.filter((p) => !options.trainable(p) && options.fed!(p)) : [];
  const made: InferenceSession[] = [];
  const make = async (bytes: Uint8Array) => {
    const s = await createSession(bytes, threads);
    made.push(s);
    return s;
  };
  try {
    const sessions: Sessions = { post: await make(graphs.post.bytes), augmented: await make(graphs.augmented.bytes) };
    if (graphs.adaptive) {
      const f = graphs.adaptive;
      sessions.loop = { ...(f.pre ? { pre: await make(f.pre) } : {}), rhs: await make(f.rhs), step: await make(f.step) };
    } else {
      const f = graphs.fixed!;
      if (f.pre) sessions.pre = await make(f.pre.bytes);
      sessions.stepMap = await make(f.stepMap.bytes);
    }
    if (graphs.preBackward) sessions.preBackward = await make(graphs.preBackward.bytes);
    return new AdjointGradientProgram(model, graphs, tableau, settings, sessions, paths, fedPaths);
  } catch (e) {
    await Promise.all(made.map((s) => s.release().catch(() => undefined)));
    throw e;
  }
}

/**
 * The mean loss, the correct count and the adjoint gradient per trainable IR path of `model` on one batch (as
 * runtime-onnx's `lossAndGradients`, `trainable` defaulting to every tensor): compiles, runs once, disposes.
 */
export async function adjointLossAndGradients(
  model: ModelIR,
  x: Float32Array,
  y: Int32Array | Float32Array,
  options: Omit<AdjointProgramOptions, 'trainable'> & Partial<Pick<AdjointProgramOptions, 'trainable'>>,
  inputs?: GradientInputs,
): Promise<GradientResult & { adjointStats: AdjointStats }> {
  const loss = options.loss ?? 'softmax-cross-entropy';
  const batch = loss === 'mse' || loss === 'l1' ? y.length / model.outputs : y.length;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new OdemorError('SHAPE', `adjointLossAndGradients: y has ${y.length} values, which is no whole positive batch of ${model.outputs} outputs`);
  }
  const program = await compileAdjointProgram(model, { ...options, trainable: options.trainable ?? (() => true) });
  try {
    const r = await program.run(new Map(), x, y, batch, inputs);
    return { ...r, adjointStats: program.lastStats! };
  } finally {
    await program.dispose();
  }
}

import { env as ortEnv, type InferenceSession } from 'onnxruntime-node';
import {
  OdemorError,
  type Executable,
  type ExecutableInfo,
  type ModelIR,
  type Runtime,
  type RuntimeCapabilities,
  type SnapshotBatch,
  type SolveStats,
  type SnapshotPassOptions,
} from '@odemor/core';
import { Tensor } from 'onnxruntime-node';
import { compileAdaptive, compileAdaptiveSample, compileGram, compileModel, compileModelWithStats, ADAPTIVE_GRAPH_NAMES, GRAPH_NAMES, inputShapeOf, solverSteps } from './compile.js';
import { checkInput, createSession, defaultThreads, runSession, signalTensor } from './session.js';
import { saveOnnx } from './io.js';
import { MAX_DERIVATIVE_ORDER, adaptiveMessage, derivativesMessage, noEmbeddedMessage, programFields, resolveProgram, resolveSolver, type ResolvedSolver, type TableauSource } from './tableau.js';
import {
  adaptiveSettings,
  buildAdaptive,
  createAdaptiveSessions,
  releaseAdaptiveSessions,
  solveAdaptive,
  type AdaptiveSessions,
  OnnxAdaptiveExecutable,
} from './adaptive.js';

/** Options of {@link OnnxRuntime} (constructor defaults) and of its `build` / `snapshotBatch` (per call). */
export interface OnnxRuntimeOptions extends TableauSource {
  /** intra-op threads of the onnxruntime session; default `os.availableParallelism()` */
  threads?: number;
  /** compile a convolutional block matrix as a dense Toeplitz MatMul instead of a Conv node; default false */
  convAsDense?: boolean;
  /** ONNX opset (13–21); default 17 */
  opset?: number;
}

/** The executable returned by {@link OnnxRuntime.build}. */
export class OnnxExecutable implements Executable {
  readonly info: ExecutableInfo;
  private readonly sampleShape: number[];

  private ran = false;

  /**
   * @param onnx the compiled, serialized ModelProto the session was created from
   * @param stats what one run of the graph evaluates (the unrolled solve's statistics, `compileModelWithStats`)
   */
  constructor(
    private readonly session: InferenceSession,
    private readonly model: ModelIR,
    threads: number,
    readonly onnx: Uint8Array,
    private readonly stats?: SolveStats,
  ) {
    this.info = { runtime: 'onnx', backend: 'cpu', threads };
    this.sampleShape = inputShapeOf(model);
  }

  /**
   * The solver statistics of the last `predict`: fixed by the unrolled graph (the same for every batch: one batched
   * solve), so known from the compile; undefined before the first predict or when built without them.
   */
  get lastStats(): SolveStats | undefined {
    return this.ran && this.stats ? { ...this.stats } : undefined;
  }

  /**
   * Logits [batch, outputs] for `x` [batch, ...inputShape] (a trajectory model: the states at the readout times,
   * [batch, T·size]); `inputs.u` [batch, steps, channels] is the input signal of a state input with a signal.
   * SHAPE error when a size does not match or u is missing.
   */
  async predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array> {
    checkInput(x, batch, this.sampleShape);
    const u = signalTensor(this.model, batch, inputs);
    const out = await runSession(this.session, GRAPH_NAMES.input, x, batch, this.sampleShape, [GRAPH_NAMES.logits], u ? { [GRAPH_NAMES.u]: u } : {});
    this.ran = true;
    return out[GRAPH_NAMES.logits]!;
  }

  /** Write the compiled ONNX model to `path` (atomically). */
  save(path: string): Promise<void> {
    return saveOnnx(path, this.onnx);
  }

  private released: Promise<void> | undefined;

  /** Release the onnxruntime session; later calls return the first call's promise. */
  dispose(): Promise<void> {
    return (this.released ??= this.session.release());
  }
}

/** The sessions of an adaptive snapshot pass, cached per model and settings. */
interface AdaptiveSnapshotSessions {
  solve: AdaptiveSessions;
  sample: InferenceSession;
  stateDims: number[];
  /** the Gram graph, made on the first pass that asks for Grams */
  gram?: Promise<InferenceSession>;
  release(): Promise<void>;
}

/**
 * Runtime 'onnx': compiles the model IR into ONNX graphs and runs them with onnxruntime-node on the CPU (symbolic
 * batch). A fixed-step solver is unrolled from its Butcher tableau into one graph, a fixed-step step program
 * (Taylor-Lagrange) with its step; an adaptive one (a tableau with `bHat`, e.g. Dopri5) runs as a step graph driven
 * by core's step-size controller from JavaScript (docs/algorithms.md#onnx-adaptive).
 */
export class OnnxRuntime implements Runtime {
  readonly name = 'onnx';
  /** 'onnxruntime-node 1.22.0' (the version onnxruntime-node reports in `env.versions`) */
  readonly version = `onnxruntime-node ${ortEnv.versions.node ?? ortEnv.versions.common}`;
  readonly capabilities: RuntimeCapabilities = Object.freeze({ snapshots: true, gram: true, adaptive: true, train: true });
  private readonly defaults: OnnxRuntimeOptions;
  private readonly snapshotSessions = new WeakMap<ModelIR, Map<string, Promise<InferenceSession>>>();
  private readonly adaptiveSessions = new WeakMap<ModelIR, Map<string, Promise<AdaptiveSnapshotSessions>>>();
  private readonly open = new Set<Promise<{ release(): Promise<void> }>>();

  constructor(options: OnnxRuntimeOptions = {}) {
    this.defaults = { ...options };
  }

  /**
   * Runs fixed-step explicit Runge–Kutta solvers (unrolled), fixed-step step programs without a tableau (unrolled
   * with their `step`: Taylor-Lagrange, with the block's exact time derivatives up to order 3 and the model's
   * midpoint network as graph nodes) and adaptive solvers with a Butcher tableau that has embedded weights `bHat`
   * (the step loop), e.g. a model whose solver is dopri5. Refuses an adaptive solver object without a tableau (an
   * adaptive step program) with the message of {@link adaptiveMessage}, an adaptive solver whose tableau has no
   * `bHat`, a solver object with neither a tableau nor a step program, a solver that needs more than 3 time
   * derivatives ({@link derivativesMessage}), midpoint layers other than dense, relu and tanh, and unknown layer or
   * block kinds. Full (dense, antisymmetric, conv), reduced (with `Zin` and `bias`) and mlp blocks, tensor, sequence
   * and state inputs (with or without a signal), trajectory readouts and midpoint networks compile. With `purpose: 'snapshots'`: only full ODE blocks
   * of tensor or sequence models (the snapshot graph's scope). The runtime keeps no tableau table: `build` needs `tableau` or `solver` in the constructor's defaults or in its options.
   */
  supports(model: ModelIR, purpose: 'run' | 'snapshots' = 'run'): { ok: true } | { ok: false; reason: string } {
    if (purpose === 'snapshots' && (model.block.kind !== 'ode' || model.input.kind === 'state' || model.readout)) {
      return { ok: false, reason: `the onnx runtime's snapshot graph samples full ODE blocks of tensor or sequence models only (this model: a '${model.block.kind}' block${model.input.kind === 'state' ? ', a state input' : ''}${model.readout ? ', a trajectory readout' : ''})` };
    }
    const solver = this.defaults.solver;
    const tableau = this.defaults.tableau ?? solver?.tableau;
    if (solver?.adaptive && !tableau) return { ok: false, reason: adaptiveMessage(solver.name) };
    if (solver?.adaptive && !tableau!.bHat) return { ok: false, reason: noEmbeddedMessage(solver.name) };
    if (solver && !tableau && typeof solver.step !== 'function') {
      return { ok: false, reason: `solver '${solver.name}' has neither a Butcher tableau nor a step program, which the onnx runtime could unroll` };
    }
    if (solver?.derivatives !== undefined && solver.derivatives > MAX_DERIVATIVE_ORDER) {
      return { ok: false, reason: derivativesMessage(solver.name, solver.derivatives) };
    }
    const known = new Set(['dense', 'conv2d', 'relu', 'tanh', 'maxpool2d', 'flatten', 'scatter']);
    for (const [where, layers] of [['pre', model.pre], ['post', model.post]] as const) {
      const i = layers.findIndex((l) => !known.has(l.type));
      if (i >= 0) return { ok: false, reason: `${where} layer ${i} has unknown type '${layers[i]!.type}'` };
    }
    if (model.block.kind !== 'ode' && model.block.kind !== 'reduced' && model.block.kind !== 'mlp') {
      return { ok: false, reason: `unknown block kind '${(model.block as { kind?: unknown }).kind}'` };
    }
    const mi = model.midpoint?.layers.findIndex((l) => l.type !== 'dense' && l.type !== 'relu' && l.type !== 'tanh') ?? -1;
    if (mi >= 0) return { ok: false, reason: `midpoint layer ${mi} has type '${model.midpoint!.layers[mi]!.type}'; a midpoint network has dense, relu and tanh layers` };
    return { ok: true };
  }

  private settings(options: OnnxRuntimeOptions): Required<Pick<OnnxRuntimeOptions, 'threads' | 'convAsDense'>> & OnnxRuntimeOptions {
    const o = { ...this.defaults, ...stripUndefined(options) };
    return { ...o, threads: o.threads ?? defaultThreads(), convAsDense: o.convAsDense ?? false };
  }

  /**
   * Compile and load `model`. Options: `tableau` or `solver`, `threads`, `convAsDense`, `opset`. A fixed-step
   * solver gives an {@link OnnxExecutable} (one unrolled graph); an adaptive solver with a tableau an
   * {@link OnnxAdaptiveExecutable} (pre, rhs, step and post graphs; `lastStats` after each predict), with
   * `rtol` / `atol` from the model's solver spec, else the solver's, and the solver's `maxSteps`. A fixed-step step
   * program without a tableau (a Taylor-Lagrange `solver`) gives an {@link OnnxExecutable} of its unrolled steps.
   */
  async build(model: ModelIR, options: OnnxRuntimeOptions = {}): Promise<OnnxExecutable | OnnxAdaptiveExecutable> {
    const o = this.settings(options);
    const program = resolveProgram(o);
    if (program) {
      const { bytes, stats } = compileModelWithStats(model, { solver: program, convAsDense: o.convAsDense, ...(o.opset ? { opset: o.opset } : {}) });
      return new OnnxExecutable(await createSession(bytes, o.threads), model, o.threads, bytes, stats);
    }
    const resolved = resolveSolver(model, o);
    if (resolved.adaptive) return buildAdaptive(model, adaptiveSettings(model, resolved.tableau, o.solver), o);
    const { bytes, stats } = compileModelWithStats(model, { tableau: resolved.tableau, convAsDense: o.convAsDense, ...(o.opset ? { opset: o.opset } : {}) });
    const session = await createSession(bytes, o.threads);
    return new OnnxExecutable(session, model, o.threads, bytes, stats);
  }

  /**
   * Run the full ODE block of `model` on `x` and return the states after every `every`-th step, σ(A x + b) at
   * those states (rows ordered step-major: row s·batch + i is sample i at the s-th sampled step) and the final
   * states. With `gram: true` the graph also computes the float32 Gram matrices Σ x xᵀ of the sampled states
   * and nonlinear terms natively (`gram = { states, nonlinear }`, [n, n]); the raw rows are then left out
   * (empty arrays, `count` still the number of sampled rows) unless `raw: true`. The compiled snapshot graph
   * is cached per model and settings until {@link OnnxRuntime.dispose}.
   */
  async snapshotBatch(
    model: ModelIR,
    x: Float32Array,
    batch: number,
    options: SnapshotPassOptions & OnnxRuntimeOptions,
  ): Promise<SnapshotBatch> {
    const o = this.settings(options);
    // a fixed-step step program (Taylor-Lagrange) samples its unrolled steps as a tableau's
    const program = resolveProgram(o);
    const resolved = program ? undefined : resolveSolver(model, o);
    if (model.block.kind !== 'ode') throw new OdemorError('MODEL', `snapshot passes need a full ODE block; this model has a '${model.block.kind}' block`);
    if (model.readout) throw new OdemorError('MODEL', 'snapshot passes are not supported for a model with a trajectory readout (model.readout)');
    if (resolved?.adaptive) return this.adaptiveSnapshot(model, x, batch, options, o, resolved);
    const integrator = program ? { solver: program } : { tableau: resolved!.tableau };
    const solverKey = program ? [program.name, program.order ?? null, program.derivatives ?? null, programFields(program)] : [resolved!.tableau.a, resolved!.tableau.b, resolved!.tableau.c];
    const n = model.block.n;
    const sampleShape = inputShapeOf(model);
    checkInput(x, batch, sampleShape);
    const gram = options.gram === true;
    const raw = options.raw ?? !gram;
    const snapshot = { every: options.every, gram, raw };
    const key = JSON.stringify([options.every, gram, raw, ...solverKey, o.threads, o.convAsDense, o.opset ?? null]);
    let perModel = this.snapshotSessions.get(model);
    if (!perModel) this.snapshotSessions.set(model, (perModel = new Map()));
    let pending = perModel.get(key);
    if (!pending) {
      const bytes = compileModel(model, { ...integrator, convAsDense: o.convAsDense, snapshot, ...(o.opset ? { opset: o.opset } : {}) });
      pending = createSession(bytes, o.threads);
      perModel.set(key, pending);
      this.open.add(pending);
      pending.catch(() => {
        perModel!.delete(key);
        this.open.delete(pending!);
      });
    }
    const session = await pending;
    const names: string[] = [GRAPH_NAMES.final];
    const hasStates = session.outputNames.includes(GRAPH_NAMES.states);
    const hasGram = session.outputNames.includes(GRAPH_NAMES.stateGram);
    if (hasStates) names.push(GRAPH_NAMES.states, GRAPH_NAMES.nonlinear);
    if (hasGram) names.push(GRAPH_NAMES.stateGram, GRAPH_NAMES.nonlinearGram);
    const out = await runSession(session, GRAPH_NAMES.input, x, batch, sampleShape, names);
    const sampled = sampledSteps(model, options.every);
    const result: SnapshotBatch = {
      n,
      // [S, batch, n] row-major is already [S·batch, n] row-major
      states: out[GRAPH_NAMES.states] ?? new Float32Array(0),
      nonlinear: out[GRAPH_NAMES.nonlinear] ?? new Float32Array(0),
      count: sampled * batch,
      final: out[GRAPH_NAMES.final]!,
      samples: batch,
    };
    if (gram) {
      // no sampled step (every > steps): the Gram matrices of zero rows
      result.gram = {
        states: out[GRAPH_NAMES.stateGram] ?? new Float32Array(n * n),
        nonlinear: out[GRAPH_NAMES.nonlinearGram] ?? new Float32Array(n * n),
      };
    }
    return result;
  }

  /**
   * The snapshot pass of an adaptive solver: the step loop with `saveEvery = every` (the states after every
   * `every`-th accepted step, as runtime-tfjs samples them), a sample graph for the NHWC-flattened states and
   * σ(A x + b) at them, and with `gram` a Gram graph over the stacked rows. Sessions are cached per model and
   * settings until {@link OnnxRuntime.dispose}.
   */
  private async adaptiveSnapshot(
    model: ModelIR,
    x: Float32Array,
    batch: number,
    options: SnapshotPassOptions,
    o: ReturnType<OnnxRuntime['settings']>,
    resolved: ResolvedSolver,
  ): Promise<SnapshotBatch> {
    const every = options.every;
    if (!Number.isInteger(every) || every < 1) throw new OdemorError('ARGUMENT', `snapshot.every must be a positive integer; got ${every}`);
    const n = model.block.n;
    checkInput(x, batch, inputShapeOf(model));
    const gram = options.gram === true;
    const raw = options.raw ?? !gram;
    const t = resolved.tableau;
    const key = JSON.stringify([t.a, t.b, t.c, t.bHat, o.threads, o.convAsDense, o.opset ?? null]);
    let perModel = this.adaptiveSessions.get(model);
    if (!perModel) this.adaptiveSessions.set(model, (perModel = new Map()));
    let pending = perModel.get(key);
    if (!pending) {
      const compile = { tableau: t, convAsDense: o.convAsDense, ...(o.opset ? { opset: o.opset } : {}) };
      pending = (async (): Promise<AdaptiveSnapshotSessions> => {
        const graphs = compileAdaptive(model, compile);
        const solve = await createAdaptiveSessions(graphs, o.threads);
        let sample: InferenceSession;
        try {
          sample = await createSession(compileAdaptiveSample(model, compile), o.threads);
        } catch (e) {
          await releaseAdaptiveSessions(solve);
          throw e;
        }
        const bundle: AdaptiveSnapshotSessions = {
          solve,
          sample,
          stateDims: graphs.stateDims,
          release: async () => {
            await Promise.all([releaseAdaptiveSessions(solve), sample.release(), bundle.gram?.then((g) => g.release(), () => undefined)]);
          },
        };
        return bundle;
      })();
      perModel.set(key, pending);
      this.open.add(pending);
      pending.catch(() => {
        perModel!.delete(key);
        this.open.delete(pending!);
      });
    }
    const ss = await pending;
    const settings = adaptiveSettings(model, t, o.solver);
    const res = await solveAdaptive(model, ss.solve, ss.stateDims, settings, x, batch, { saveEvery: every });
    const sampled = res.states ?? [];
    const rows = sampled.length * batch;
    const states = new Float32Array(rows * n);
    const nonlinear = new Float32Array(rows * n);
    const sampleOf = async (y: Tensor) => {
      const r = await ss.sample.run({ [ADAPTIVE_GRAPH_NAMES.state]: y });
      return { s: (r[ADAPTIVE_GRAPH_NAMES.states] as Tensor).data as Float32Array, f: (r[ADAPTIVE_GRAPH_NAMES.nonlinear] as Tensor).data as Float32Array };
    };
    for (const [i, y] of sampled.entries()) {
      const { s, f } = await sampleOf(y);
      states.set(s, i * batch * n);
      nonlinear.set(f, i * batch * n);
    }
    const final = (await sampleOf(res.y)).s;
    const result: SnapshotBatch = {
      n,
      states: raw ? states : new Float32Array(0),
      nonlinear: raw ? nonlinear : new Float32Array(0),
      count: rows,
      final,
      samples: batch,
    };
    if (gram) {
      if (rows === 0) result.gram = { states: new Float32Array(n * n), nonlinear: new Float32Array(n * n) };
      else {
        const gs = await (ss.gram ??= createSession(compileGram(n, o.opset), o.threads));
        const r = await gs.run({ X: new Tensor('float32', states, [rows, n]), F: new Tensor('float32', nonlinear, [rows, n]) });
        result.gram = { states: (r[GRAPH_NAMES.stateGram] as Tensor).data as Float32Array, nonlinear: (r[GRAPH_NAMES.nonlinearGram] as Tensor).data as Float32Array };
      }
    }
    return result;
  }

  /** Release the cached snapshot sessions. */
  async dispose(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.release()));
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Number of sampled steps of a snapshot pass: ⌊steps / every⌋. */
function sampledSteps(model: ModelIR, every: number): number {
  const { t0, t1, dt } = model.solver;
  return Math.floor(solverSteps(t0, t1, dt) / every);
}

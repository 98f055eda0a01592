import { env as ortEnv, type InferenceSession } from 'onnxruntime-node';
import {
  OdemorError,
  type Executable,
  type ExecutableInfo,
  type ModelIR,
  type Runtime,
  type RuntimeCapabilities,
  type SnapshotBatch,
  type SnapshotPassOptions,
} from '@odemor/core';
import { compileModel, GRAPH_NAMES, inputShapeOf, solverSteps } from './compile.js';
import { checkInput, createSession, defaultThreads, runSession } from './session.js';
import { saveOnnx } from './io.js';
import { adaptiveMessage, isAdaptiveName, resolveTableau, type TableauSource } from './tableau.js';

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

  /** @param onnx the compiled, serialized ModelProto the session was created from */
  constructor(
    private readonly session: InferenceSession,
    model: ModelIR,
    threads: number,
    readonly onnx: Uint8Array,
  ) {
    this.info = { runtime: 'onnx', backend: 'cpu', threads };
    this.sampleShape = inputShapeOf(model);
  }

  /** Logits [batch, outputs] for `x` [batch, ...inputShape]; SHAPE error when the size does not match. */
  async predict(x: Float32Array, batch: number): Promise<Float32Array> {
    checkInput(x, batch, this.sampleShape);
    const out = await runSession(this.session, GRAPH_NAMES.input, x, batch, this.sampleShape, [GRAPH_NAMES.logits]);
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

/**
 * Runtime 'onnx': compiles the model IR into one ONNX graph (fixed-step solver unrolled from its Butcher
 * tableau, symbolic batch) and runs it with onnxruntime-node on the CPU.
 */
export class OnnxRuntime implements Runtime {
  readonly name = 'onnx';
  /** 'onnxruntime-node 1.22.0' (the version onnxruntime-node reports in `env.versions`) */
  readonly version = `onnxruntime-node ${ortEnv.versions.node ?? ortEnv.versions.common}`;
  readonly capabilities: RuntimeCapabilities = Object.freeze({ snapshots: true, gram: true, adaptive: false, train: true });
  private readonly defaults: OnnxRuntimeOptions;
  private readonly snapshotSessions = new WeakMap<ModelIR, Map<string, Promise<InferenceSession>>>();
  private readonly open = new Set<Promise<InferenceSession>>();

  constructor(options: OnnxRuntimeOptions = {}) {
    this.defaults = { ...options };
  }

  /**
   * Refuses adaptive solvers (by the constructor's `solver` or by the model's solver name) and unknown layer
   * or block kinds. The runtime keeps no tableau table: `build` needs `tableau` or `solver` in the constructor's
   * defaults or in its options.
   */
  supports(model: ModelIR): { ok: true } | { ok: false; reason: string } {
    const solver = this.defaults.solver;
    if (solver?.adaptive || (!solver && !this.defaults.tableau && isAdaptiveName(model.solver.use))) {
      return { ok: false, reason: adaptiveMessage(solver?.name ?? model.solver.use) };
    }
    if (solver && !solver.tableau && !this.defaults.tableau) {
      return { ok: false, reason: `solver '${solver.name}' is a step program without a Butcher tableau, which the onnx runtime cannot unroll` };
    }
    const known = new Set(['dense', 'conv2d', 'relu', 'tanh', 'maxpool2d', 'flatten', 'scatter']);
    for (const [where, layers] of [['pre', model.pre], ['post', model.post]] as const) {
      const i = layers.findIndex((l) => !known.has(l.type));
      if (i >= 0) return { ok: false, reason: `${where} layer ${i} has unknown type '${layers[i]!.type}'` };
    }
    if (model.block.kind !== 'ode' && model.block.kind !== 'reduced') {
      return { ok: false, reason: `unknown block kind '${(model.block as { kind?: unknown }).kind}'` };
    }
    return { ok: true };
  }

  private settings(options: OnnxRuntimeOptions): Required<Pick<OnnxRuntimeOptions, 'threads' | 'convAsDense'>> & OnnxRuntimeOptions {
    const o = { ...this.defaults, ...stripUndefined(options) };
    return { ...o, threads: o.threads ?? defaultThreads(), convAsDense: o.convAsDense ?? false };
  }

  /** Compile and load `model`. Options: `tableau` or `solver`, `threads`, `convAsDense`, `opset`. */
  async build(model: ModelIR, options: OnnxRuntimeOptions = {}): Promise<OnnxExecutable> {
    const o = this.settings(options);
    const tableau = resolveTableau(model, o);
    const bytes = compileModel(model, { tableau, convAsDense: o.convAsDense, ...(o.opset ? { opset: o.opset } : {}) });
    const session = await createSession(bytes, o.threads);
    return new OnnxExecutable(session, model, o.threads, bytes);
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
    const tableau = resolveTableau(model, o);
    if (model.block.kind !== 'ode') throw new OdemorError('MODEL', `snapshot passes need a full ODE block; this model has a '${model.block.kind}' block`);
    const n = model.block.n;
    const sampleShape = inputShapeOf(model);
    checkInput(x, batch, sampleShape);
    const gram = options.gram === true;
    const raw = options.raw ?? !gram;
    const snapshot = { every: options.every, gram, raw };
    const key = JSON.stringify([options.every, gram, raw, tableau.a, tableau.b, tableau.c, o.threads, o.convAsDense, o.opset ?? null]);
    let perModel = this.snapshotSessions.get(model);
    if (!perModel) this.snapshotSessions.set(model, (perModel = new Map()));
    let pending = perModel.get(key);
    if (!pending) {
      const bytes = compileModel(model, { tableau, convAsDense: o.convAsDense, snapshot, ...(o.opset ? { opset: o.opset } : {}) });
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

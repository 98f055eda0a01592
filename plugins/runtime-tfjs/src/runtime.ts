import * as tf from '@tensorflow/tfjs-core';
import type { SyncHook } from 'tapable';
import { OdemorError, isSolver } from '@odemor/core';
import type { Executable, ExecutableInfo, Runtime, RuntimeCapabilities, SnapshotBatch, SnapshotPassOptions, SolveStats, Solver, StepInfo } from '@odemor/core';
import type { ModelIR } from '@odemor/core';
import { validateModel } from '@odemor/core';
import { initTfjs, type TfjsBackendName } from './backend.js';
import { applyLayers, createParams, disposeParams, forward, inputTensor, integrateBlock, MAX_DERIVATIVE_ORDER, prepareBlock, signalTensor, type TfParams } from './forward.js';

/** Options of {@link TfjsRuntime.build}. */
export interface TfjsBuildOptions {
  /** the solver instance that integrates the block (required) */
  solver: Solver;
  /** `hooks.step` is fired once per accepted solver step */
  hooks?: { step?: SyncHook<[StepInfo]> };
}

/** Options of the tfjs runtime factory. */
export interface TfjsRuntimeOptions {
  /** preferred backend; default: tensorflow → wasm → cpu */
  backend?: TfjsBackendName;
  /** solver used by {@link TfjsRuntime.snapshotBatch} (and by `build` when its options give none) */
  solver?: Solver;
  /** default hooks of `build` (its `step` hook fires once per accepted solver step) */
  hooks?: { step?: SyncHook<[StepInfo]> };
}

function needSolver(s: unknown, where: string): Solver {
  if (!isSolver(s)) {
    throw new OdemorError('ARGUMENT', `${where}: the tfjs runtime needs a Solver instance as options.solver`);
  }
  const solver = s as Solver;
  if (solver.derivatives !== undefined && solver.derivatives > MAX_DERIVATIVE_ORDER) {
    throw new OdemorError(
      'ARGUMENT',
      `${where}: solver '${solver.name}' asks for time derivatives up to order ${solver.derivatives}; the tfjs runtime computes them up to order ${MAX_DERIVATIVE_ORDER}`,
    );
  }
  return solver;
}

/**
 * The tfjs runtime: eager execution of the model IR (any block — full, mlp, reduced —, any input — tensor,
 * sequence, state with or without a signal —, trajectory readouts, midpoint networks; any solver, adaptive and
 * Taylor methods that ask for derivatives up to order 3 included) on the backend picked by `initTfjs`.
 * Trainable; slower than a compiled runtime for inference.
 */
export class TfjsRuntime implements Runtime {
  readonly name = 'tfjs';
  /** 'tfjs-core 4.22.0' */
  readonly version = `tfjs-core ${tf.version_core}`;
  readonly capabilities: RuntimeCapabilities = Object.freeze({ snapshots: true, gram: false, adaptive: true, train: true });
  constructor(private readonly options: TfjsRuntimeOptions = {}) {}

  supports(model: ModelIR): { ok: true } | { ok: false; reason: string } {
    try {
      validateModel(model);
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }

  async build(model: ModelIR, options: Record<string, unknown> = {}): Promise<Executable> {
    const solver = needSolver(options.solver ?? this.options.solver, 'tfjs build');
    const hooks = (options as Partial<TfjsBuildOptions>).hooks ?? this.options.hooks;
    validateModel(model);
    await initTfjs(this.options.backend);
    const params = createParams(model);
    const info: ExecutableInfo = { runtime: 'tfjs', backend: tf.getBackend() };
    const step = hooks?.step;
    let disposed = false;
    let lastStats: SolveStats | undefined;
    return {
      info,
      /** the solver statistics of the last completed predict (NFE, accepted and rejected steps) */
      get lastStats() {
        return lastStats;
      },
      async predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array> {
        if (disposed) throw new OdemorError('RUNTIME', 'predict called on a disposed tfjs executable');
        let stats: SolveStats | undefined;
        const onStats = (s: SolveStats) => void (stats = { ...s });
        const logits = tf.tidy(() => {
          const u = signalTensor(model, inputs?.u, batch);
          return forward(model, params, inputTensor(model, x, batch), solver, { onStats, ...(step ? { hooks: { step } } : {}), ...(u ? { u } : {}) });
        });
        try {
          const out = (await logits.data()) as Float32Array;
          lastStats = stats;
          return out;
        } finally {
          logits.dispose();
        }
      },
      dispose() {
        if (!disposed) disposeParams(params);
        disposed = true;
      },
    };
  }

  /**
   * Run the full ODE block on a batch and sample the states after every `every`-th accepted step, the
   * nonlinear terms σ(A x + b) at those states, and the final states. An mlp block's nonlinear snapshots are
   * its hidden activations σ(M x + c + Zin u(t)) at the sampled states and times (`nonlinearDim` = m). A
   * model with a state input and a signal takes the batch's signal as `options.u`. Reduced blocks are refused.
   */
  async snapshotBatch(model: ModelIR, x: Float32Array, batch: number, options: SnapshotPassOptions & { solver?: Solver }): Promise<SnapshotBatch> {
    const solver = needSolver(options.solver ?? this.options.solver, 'tfjs snapshotBatch');
    await initTfjs(this.options.backend);
    const params = createParams(model);
    try {
      return await snapshotBatch(model, params, x, batch, solver, options.every, options.u);
    } finally {
      disposeParams(params);
    }
  }
}

/**
 * Snapshot pass over one batch with given parameters (see {@link TfjsRuntime.snapshotBatch}); `u` is the
 * batch's input signal [batch, steps, channels] of a model with input kind 'state' and a signal.
 * @throws OdemorError 'MODEL' for a reduced block.
 */
export async function snapshotBatch(
  model: ModelIR,
  params: TfParams,
  x: Float32Array,
  batch: number,
  solver: Solver,
  every: number,
  u?: Float32Array,
): Promise<SnapshotBatch> {
  const block = model.block;
  if (block.kind !== 'ode' && block.kind !== 'mlp') throw new OdemorError('MODEL', `snapshots need a full ODE block or an mlp block; this model's block is '${block.kind}'`);
  if (!(Number.isInteger(every) && every >= 1)) throw new OdemorError('ARGUMENT', `snapshot 'every' must be a positive integer, got ${every}`);
  const n = block.n;
  // the width of the nonlinear snapshots: σ(A x + b) for a full block, the m hidden activations of an mlp block
  const w = block.kind === 'mlp' ? block.m : n;
  const [states, nonlinear, final] = tf.tidy(() => {
    const xt = inputTensor(model, x, batch);
    const ut = signalTensor(model, u, batch);
    const preOut = model.input.kind === 'sequence' ? xt : applyLayers(model.pre, params, 'pre', xt);
    const program = prepareBlock(model, params, preOut, xt, ut);
    const res = integrateBlock(model, program, solver, { saveEvery: every });
    if (!res.states) throw new OdemorError('RUNTIME', `solver '${solver.name}' returned no saved states (saveEvery = ${every})`);
    const s = res.states.length ? tf.concat(res.states, 0) : tf.zeros([0, n]);
    let nl: tf.Tensor;
    if (!res.states.length) nl = tf.zeros([0, w]);
    else if (program.hidden) {
      // each saved state with the input u(t) at its own time
      const times = res.times ?? [];
      if (times.length !== res.states.length) throw new OdemorError('RUNTIME', `solver '${solver.name}' returned ${res.states.length} saved states but ${times.length} times`);
      nl = tf.concat(res.states.map((st, j) => program.hidden!(times[j]!, st)), 0);
    } else nl = program.nonlinear!(s as tf.Tensor2D);
    return [s, nl, res.y];
  });
  try {
    const [sd, nd, fd] = await Promise.all([states.data(), nonlinear.data(), final.data()]);
    return {
      n,
      ...(block.kind === 'mlp' ? { nonlinearDim: w } : {}),
      states: sd as Float32Array,
      nonlinear: nd as Float32Array,
      count: states.shape[0]!,
      final: fd as Float32Array,
      samples: batch,
    };
  } finally {
    states.dispose();
    nonlinear.dispose();
    final.dispose();
  }
}

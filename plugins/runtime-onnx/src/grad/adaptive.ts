/**
 * Gradients through an adaptive solve on onnxruntime (docs/algorithms.md#onnx-adaptive-training): the forward
 * pass is the step loop of the adaptive executable (pre, rhs and step graphs driven by core's controller) with the
 * weights fed as graph inputs and every accepted step kept; the backward pass runs the vector–Jacobian products of
 * the post graph with the loss, of the step map y_{k+1} = Φ(y_k, h_k; θ) once per accepted step in reverse, and of
 * the pre graph, each a graph compiled once by the reverse-mode lowering. The step sizes are constants.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OdemorError, listTensors, sequenceIndex, type ButcherTableau, type ModelIR, type SolveStats } from '@odemor/core';
import { adaptiveSettings, solveAdaptive, type AdaptiveLoopSessions, type AdaptiveSettings } from '../adaptive.js';
import { ADAPTIVE_GRAPH_NAMES as N, compileAdaptive, inputShapeOf, inputSignalOf, segmentEnds, stepMapTableau } from '../compile.js';
import { checkInput, createSession, defaultThreads, graphOutput, runGraph, signalTensor } from '../session.js';
import { noEmbeddedMessage, validateTableau } from '../tableau.js';
import { GradientSums } from './feeds.js';
import { correctCount, lossTargets } from './loss.js';
import { ProgramTensors, differentiatePart, gradientGraphOptions, lossHead, preBackwardGraph, runLossHeads, tensorInputHook, type WeightGraph } from './parts.js';
import type { GradientInputs, GradientProgram, GradientProgramOptions, GradientResult, LossKind } from './types.js';

/** Names of the inputs and outputs of the backward graphs of an adaptive solve (besides {@link ADAPTIVE_GRAPH_NAMES}). */
export const ADAPTIVE_GRADIENT_NAMES = {
  /** the adjoint of the step map's output, dL/dy_{k+1} [batch, ...stateDims] (step graph input) */
  y1bar: 'y1bar',
  /** the adjoint of the state the graph reads, dL/dy [batch, ...stateDims] (step map and post graph output) */
  ybar: 'ybar',
  /** the adjoint of the block's initial state, dL/dx0 (pre graph input) */
  x0bar: 'x0bar',
} as const;

const G = ADAPTIVE_GRADIENT_NAMES;

/** The serialized graphs of {@link compileAdaptiveGradientProgram}, for tests and tools. */
export interface AdaptiveGradientGraphs {
  /** the forward loop's graphs with the weights as inputs (`compileAdaptive` with a weight hook) */
  forward: ReturnType<typeof compileAdaptive>;
  /** pre VJP: `x`, `x0bar`, weights → the pre graph's weight gradients (absent: nothing trained there, or a sequence model) */
  preBackward?: WeightGraph;
  /** step-map VJP: `y`, `h`, `y1bar` (`u`, `uIndex` [s']), weights → `ybar`, weight gradients */
  stepBackward: WeightGraph;
  /** post graph with the loss and its VJP: `y`, `target`, `scale`, weights → `loss`, `logits`, `ybar`, weight gradients */
  postBackward: WeightGraph;
  /** stages of the step map ({@link stepMapTableau}), the length of its `uIndex` */
  stepStages: number;
  loss: LossKind;
}

/**
 * Build the graphs of an adaptive gradient program (see {@link compileAdaptiveGradientProgram}): the forward loop's
 * pre / rhs / step graphs with the trained and fed tensors as inputs, and three backward graphs — the pre graph's VJP
 * (seeded with dL/dx0), the step map's VJP (seeded with dL/dy_{k+1}; the step map recomputes every stage from y_k,
 * so it is a pure function of (y_k, h_k; θ)) and the post graph with the loss and its VJP. `trainable` selects the
 * tensors with a gradient; `fed` more tensors fed as inputs without one.
 */
export function buildAdaptiveGradientGraphs(
  model: ModelIR,
  options: { tableau: ButcherTableau; trainable: (path: string) => boolean; fed?: (path: string) => boolean; loss?: LossKind; opset?: number },
): AdaptiveGradientGraphs {
  const { loss, fed } = gradientGraphOptions(model, options);
  const { tableau, trainable, opset } = options;
  validateTableau(tableau);
  if (!tableau.bHat) throw new OdemorError('RUNTIME', noEmbeddedMessage(model.solver.use));
  const hook = tensorInputHook(model, trainable, fed);
  const forward = compileAdaptive(model, { tableau, ...(opset !== undefined ? { opset } : {}) }, hook);
  const entryShape = forward.entryShape ?? null;
  const stateDims = ['batch', ...forward.stateDims];
  const mapTableau = stepMapTableau(tableau);

  const preBackward = preBackwardGraph(model, tableau, opset, hook, trainable, stateDims, G.x0bar);
  const stepBackward = differentiatePart(model, tableau, opset, hook, trainable, 'stepmap', entryShape, {
    extraInputs: [{ name: G.y1bar, dims: stateDims }],
    seeds: () => new Map([[N.y1, G.y1bar]]),
    dataGrads: new Map([[N.state, G.ybar]]),
  });
  const postBackward = differentiatePart(model, tableau, opset, hook, trainable, 'post', entryShape, lossHead(model, loss, G.ybar));
  return { forward, ...(preBackward ? { preBackward } : {}), stepBackward, postBackward, stepStages: mapTableau.b.length, loss };
}


/** The accepted steps of an adaptive gradient program's last run: start, size (what the backward pass used). */
export interface AdaptiveStepRecord {
  /** start time and size of each accepted step, in order */
  steps: { t: number; h: number }[];
  /** accepted steps before each readout time (or t1) */
  readoutSteps: number[];
}

/** The gradient program of an adaptive solver: a {@link GradientProgram} whose runs also report `stats`. */
export class AdaptiveGradientProgram implements GradientProgram {
  readonly paths: readonly string[];
  private readonly tensors: ProgramTensors;
  private disposed = false;
  private record: AdaptiveStepRecord | undefined;

  constructor(
    private readonly model: ModelIR,
    readonly graphs: AdaptiveGradientGraphs,
    readonly settings: AdaptiveSettings,
    private readonly sessions: {
      loop: AdaptiveLoopSessions;
      preBackward?: InferenceSession;
      stepBackward: InferenceSession;
      postBackward: InferenceSession;
    },
    trainablePaths: string[],
    fedPaths: string[],
  ) {
    this.paths = trainablePaths;
    this.tensors = new ProgramTensors(model, trainablePaths, fedPaths);
  }

  /** The accepted steps of the last completed run (undefined before the first). */
  get lastSteps(): AdaptiveStepRecord | undefined {
    return this.record;
  }

  /**
   * Loss and gradients on one batch (see {@link GradientProgram.run}), and `stats`, core's counts of the forward
   * solve. One step sequence for the whole batch, as in inference.
   */
  async run(params: ReadonlyMap<string, Float32Array>, x: Float32Array, y: Int32Array | Float32Array, batch: number, inputs?: GradientInputs): Promise<GradientResult> {
    if (this.disposed) throw new OdemorError('RUNTIME', 'the gradient program was disposed');
    const m = this.model;
    const graphs = this.graphs;
    checkInput(x, batch, inputShapeOf(m), 'gradient program input x');
    const C = m.outputs;
    const target = lossTargets(graphs.loss, y, batch, C);
    const weights = this.tensors.feeds(params);
    const hooked = graphs.forward.hooked ?? {};
    const times = m.readout ? segmentEnds(m) : undefined;

    // forward: the step loop, every accepted step kept
    const res = await solveAdaptive(m, this.sessions.loop, graphs.forward.stateDims, this.settings, x, batch, {
      ...(inputs?.u !== undefined ? { u: inputs.u } : {}),
      ...(times ? { times } : {}),
      record: true,
      feeds: { pre: weights.feeds(hooked.pre), rhs: weights.feeds(hooked.rhs), step: weights.feeds(hooked.step) },
    });
    const steps = res.steps!;
    const ends = res.readoutSteps!;
    const states = res.readout ?? [res.y];
    this.record = { steps: steps.map(({ t, h }) => ({ t, h })), readoutSteps: [...ends] };

    // the post graph with the loss at each readout time (or at t1): loss, logits and dL/dy there
    const sums = new GradientSums();
    const T = states.length;
    const { loss, logits, seeds } = await runLossHeads(this.sessions.postBackward, graphs.postBackward, weights, states, target, batch, C, graphs.loss, G.ybar, sums);

    // reverse sweep over the accepted steps: ȳ_k = (∂Φ/∂y_k)ᵀ ȳ_{k+1}, θ̄ += (∂Φ/∂θ)ᵀ ȳ_{k+1}; the loss's gradient at a
    // readout time joins the adjoint when the sweep passes it
    const stateCount = batch * graphs.forward.stateDims.reduce((p, d) => p * d, 1);
    const dims = [batch, ...graphs.forward.stateDims];
    let adjoint = new Float32Array(stateCount);
    const join = (k: number) => {
      for (let i = 0; i < T; i++) {
        if (ends[i] !== k) continue;
        const s = seeds[i]!;
        for (let j = 0; j < stateCount; j++) adjoint[j] += s[j]!;
      }
    };
    join(steps.length);
    const stepWeights = weights.feeds(graphs.stepBackward.params);
    const sig = inputSignalOf(m);
    const u = m.input.kind === 'sequence' ? new Tensor('float32', x, [batch, m.input.steps, m.input.features]) : signalTensor(m, batch, inputs);
    const c = stepMapTableau(this.settings.tableau).c;
    for (let k = steps.length - 1; k >= 0; k--) {
      const { t, h, y: yk } = steps[k]!;
      const feeds: Record<string, Tensor> = {
        ...stepWeights,
        [N.state]: yk,
        [N.h]: new Tensor('float32', Float32Array.of(h), []),
        [G.y1bar]: new Tensor('float32', adjoint, dims),
      };
      if (u && sig) {
        feeds[N.u] = u;
        feeds[N.uIndex] = new Tensor('int64', BigInt64Array.from(c, (ci) => BigInt(sequenceIndex(t + ci * h, m.solver.t0, sig.stepDuration, sig.steps))), [c.length]);
      }
      const out = await runGraph(this.sessions.stepBackward, feeds, 'step backward');
      sums.add(graphs.stepBackward, out, 'step backward');
      // a fresh copy: readout seeds are added in place
      adjoint = Float32Array.from(graphOutput(out, G.ybar, 'step backward').data as Float32Array);
      join(k);
    }

    // the pre graph's VJP at dL/dx0
    if (graphs.preBackward && this.sessions.preBackward) {
      const out = await runGraph(
        this.sessions.preBackward,
        { ...weights.feeds(graphs.preBackward.params), [N.input]: new Tensor('float32', x, [batch, ...inputShapeOf(m)]), [G.x0bar]: new Tensor('float32', adjoint, dims) },
        'pre backward',
      );
      sums.add(graphs.preBackward, out, 'pre backward');
    }
    const grads = sums.byPath(new Map(this.paths.map((p) => [p, this.tensors.sizes.get(p)!])));
    const correct = graphs.loss === 'softmax-cross-entropy' ? correctCount(logits, y as Int32Array, batch, C) : 0;
    const stats: SolveStats = { ...res.stats };
    return { loss, correct, grads, stats };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.sessions;
    await Promise.all([s.loop.pre?.release(), s.loop.rhs.release(), s.loop.step.release(), s.preBackward?.release(), s.stepBackward.release(), s.postBackward.release()]);
  }
}

/**
 * Compile the gradient program of `model` under an adaptive solver (a tableau with `bHat`, e.g. Dopri5;
 * docs/algorithms.md#onnx-adaptive-training): per run, the forward step loop at the model's tolerances (the
 * controller's decisions as in inference; the state and step size of every accepted step kept, rejected attempts
 * dropped), the loss, and the reverse sweep over the accepted steps with the step sizes as constants — the exact
 * gradient of the discrete solution the forward pass computed. Options as {@link GradientProgramOptions}
 * (`remainderWeight` adds nothing: Runge–Kutta steps have no remainder terms); `settings` the tolerances and
 * `maxSteps` ({@link adaptiveSettings}). Dispose it when done.
 */
export async function compileAdaptiveGradientProgram(
  model: ModelIR,
  options: GradientProgramOptions & { tableau: ButcherTableau; settings?: AdaptiveSettings },
): Promise<AdaptiveGradientProgram> {
  const graphs = buildAdaptiveGradientGraphs(model, {
    tableau: options.tableau,
    trainable: options.trainable,
    ...(options.fed ? { fed: options.fed } : {}),
    ...(options.loss ? { loss: options.loss } : {}),
  });
  const settings = options.settings ?? adaptiveSettings(model, options.tableau, options.solver);
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
    const f = graphs.forward;
    // (no post session: the post backward graph computes the logits and the loss)
    const loop: AdaptiveLoopSessions = { ...(f.pre ? { pre: await make(f.pre) } : {}), rhs: await make(f.rhs), step: await make(f.step) };
    const preBackward = graphs.preBackward ? await make(graphs.preBackward.bytes) : undefined;
    const stepBackward = await make(graphs.stepBackward.bytes);
    const postBackward = await make(graphs.postBackward.bytes);
    return new AdaptiveGradientProgram(model, graphs, settings, { loop, ...(preBackward ? { preBackward } : {}), stepBackward, postBackward }, paths, fedPaths);
  } catch (e) {
    await Promise.all(made.map((s) => s.release().catch(() => undefined)));
    throw e;
  }
}

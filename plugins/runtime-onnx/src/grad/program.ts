/**
 * Compiled gradient programs (docs/algorithms.md, "Gradients of the compiled graphs"): one ONNX graph with the
 * forward pass (trainable tensors as inputs), the loss and the reverse-mode backward pass through the unrolled
 * solver, run in one onnxruntime session; parameters are fed on every run, gradients come back per IR path in
 * the IR's layout.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { listTensors, OdemorError, type ModelIR } from '@odemor/core';
import { GRAPH_NAMES, inputShapeOf } from '../compile.js';
import type { ValueSpec } from '../graph.js';
import { checkInput, createSession, defaultThreads, signalTensor } from '../session.js';
import { BATCH, backward } from './engine.js';
import { fromGraphLayout, lower, toGraphLayout, type ParamInput } from './lower.js';
import type { GradientInputs, GradientProgram, GradientProgramOptions, GradientResult, LossKind } from './types.js';
import { GRADIENT_GRAPH_NAMES } from './names.js';
import { LOSSES, argmaxRows, checkParamValues, emitLoss, lossTargets } from './loss.js';
import { compileAdaptiveGradientProgram } from './adaptive.js';
import { adaptiveMessage, noEmbeddedMessage } from '../tableau.js';

export { GRADIENT_GRAPH_NAMES } from './names.js';

/** The serialized gradient graph of {@link compileGradientProgram} and how to feed it (for tests and tools). */
export interface GradientGraph {
  bytes: Uint8Array;
  /** trainable IR path → graph input, in listTensors order */
  params: Map<string, ParamInput>;
  /** trainable IR path → the graph output holding its gradient (graph layout) */
  gradOutputs: Map<string, string>;
  loss: LossKind;
  /**
   * Values per sample of all remainder terms together (steps · state size), when the step program returns
   * remainders (the graph then has the input `remainderScale` and the output `remainderAbsMean`); 0 otherwise.
   */
  remainderValues: number;
}

/**
 * Build the gradient graph: inputs `x`, `target`, `scale` and one per trainable or fed tensor; outputs `loss`,
 * `logits` and `grad_<i>` per trainable path (zeros when the loss does not depend on it). A step program that
 * returns remainder terms R (Taylor-Lagrange) adds the input `remainderScale` (1/(batch · steps · state size)) and
 * the output `remainderAbsMean` = mean|R|; with `remainderWeight` λ > 0 the loss is task loss + λ · mean|R| and the
 * backward pass is seeded at every R with d(λ · mean|R|)/dR = λ · remainderScale · sign(R), besides the logits.
 */
export function buildGradientGraph(model: ModelIR, options: Omit<GradientProgramOptions, 'threads'>): GradientGraph {
  const loss = options.loss ?? 'softmax-cross-entropy';
  if (!LOSSES.includes(loss)) throw new OdemorError('ARGUMENT', `loss must be one of ${LOSSES.join(', ')}; got '${String(loss)}'`);
  if (typeof options.trainable !== 'function') throw new OdemorError('ARGUMENT', 'options.trainable must be a function of the IR path');
  if (options.fed !== undefined && typeof options.fed !== 'function') throw new OdemorError('ARGUMENT', 'options.fed must be a function of the IR path');
  const lambda = options.remainderWeight ?? 0;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new OdemorError('ARGUMENT', `remainderWeight must be a finite number >= 0, got ${String(options.remainderWeight)}`);
  const lowered = lower(model, {
    ...(options.tableau ? { tableau: options.tableau } : {}),
    ...(options.solver ? { solver: options.solver } : {}),
    trainable: options.trainable,
    ...(options.fed ? { fed: options.fed } : {}),
  });
  const g = lowered.graph;
  const names = GRADIENT_GRAPH_NAMES;
  const { loss: taskLoss, dlogits } = emitLoss(g, lowered.logits, loss);
  let lossName = taskLoss;
  const seeds = new Map([[lowered.logits, dlogits]]);
  const remainderValues = lowered.remainders.length * lowered.remainderSize;
  let absMean: string | undefined;
  if (remainderValues) {
    absMean = g.node('Mul', [g.node('ReduceSum', [lowered.absRemainders()], { keepdims: 0 }), names.remainderScale]);
    if (lambda > 0) {
      lossName = g.node('Add', [taskLoss, g.node('Mul', [absMean, g.scalar(lambda)])]);
      // d(λ · mean|R|)/dR = λ · remainderScale · sign(R) at every remainder term (R also feeds the next state: the
      // engine adds what flows back from the logits)
      const w = g.node('Mul', [names.remainderScale, g.scalar(lambda)]);
      for (const r of lowered.remainders) seeds.set(r, g.node('Mul', [g.node('Sign', [r]), w]));
    }
  }
  const trainable = [...lowered.params].filter(([path]) => options.trainable(path));
  const wrt = trainable.map(([, p]) => p.input);
  const inputShapes = new Map(lowered.inputShapes).set(names.target, [BATCH, model.outputs]).set(names.scale, []).set(names.remainderScale, []);
  const grads = backward(g, { inputShapes, seeds, wrt });
  g.node('Identity', [lossName], {}, names.loss);
  const gradOutputs = new Map<string, string>();
  const outputs: ValueSpec[] = [
    { name: names.loss, dims: [] },
    { name: names.logits, dims: ['batch', model.outputs] },
  ];
  if (absMean) {
    g.node('Identity', [absMean], {}, names.remainderAbsMean);
    outputs.push({ name: names.remainderAbsMean, dims: [] });
  }
  let i = 0;
  for (const [path, p] of trainable) {
    const out = `grad_${i++}`;
    const grad = grads.get(p.input) ?? g.float('zero_grad', new Float32Array(p.dims.reduce((a, b) => a * b, 1)), p.dims);
    g.node('Identity', [grad], {}, out);
    gradOutputs.set(path, out);
    outputs.push({ name: out, dims: p.dims });
  }
  const bytes = lowered.encode(outputs, [
    { name: names.target, dims: ['batch', model.outputs] },
    { name: names.scale, dims: [] },
    ...(remainderValues ? [{ name: names.remainderScale, dims: [] }] : []),
  ]);
  return { bytes, params: lowered.params, gradOutputs, loss, remainderValues };
}

class OnnxGradientProgram implements GradientProgram {
  readonly paths: readonly string[];
  private readonly defaults = new Map<string, Float32Array>();
  private readonly sizes = new Map<string, number>();
  private disposed = false;

  constructor(
    private readonly model: ModelIR,
    private readonly graph: GradientGraph,
    private readonly session: InferenceSession,
    trainablePaths: string[],
    fedPaths: string[] = [],
  ) {
    this.paths = trainablePaths;
    const tensors = new Map(listTensors(model).map((t) => [t.path, t.tensor]));
    for (const [path, p] of graph.params) {
      const t = tensors.get(path)!;
      this.sizes.set(path, t.data.length);
      this.defaults.set(path, toGraphLayout(p.layout, t.data));
    }
    // trainable and fed tensors the graph never reads (the midpoint network under a Runge–Kutta tableau) are accepted too
    for (const path of [...trainablePaths, ...fedPaths]) if (!this.sizes.has(path)) this.sizes.set(path, tensors.get(path)!.data.length);
  }

  async run(params: ReadonlyMap<string, Float32Array>, x: Float32Array, y: Int32Array | Float32Array, batch: number, inputs?: GradientInputs): Promise<GradientResult> {
    if (this.disposed) throw new OdemorError('RUNTIME', 'the gradient program was disposed');
    const m = this.model;
    const inShape = inputShapeOf(m);
    checkInput(x, batch, inShape, 'gradient program input x');
    const u = signalTensor(m, batch, inputs);
    const C = m.outputs;
    const target = lossTargets(this.graph.loss, y, batch, C);
    const feeds: Record<string, Tensor> = {
      x: new Tensor('float32', x, [batch, ...inShape]),
      target: new Tensor('float32', target, [batch, C]),
      scale: new Tensor('float32', Float32Array.of(this.graph.loss === 'mse' ? 1 / (batch * C) : 1 / batch), []),
    };
    if (this.graph.remainderValues) feeds[GRADIENT_GRAPH_NAMES.remainderScale] = new Tensor('float32', Float32Array.of(1 / (batch * this.graph.remainderValues)), []);
    if (u) feeds[GRAPH_NAMES.u] = u;
    checkParamValues(params, this.sizes, this.paths);
    for (const [path, p] of this.graph.params) {
      const v = params.get(path);
      feeds[p.input] = new Tensor('float32', v ? toGraphLayout(p.layout, v) : this.defaults.get(path)!, p.dims);
    }
    let out: InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } catch (err) {
      throw new OdemorError('RUNTIME', `onnxruntime failed to run the gradient graph: ${(err as Error).message}`, { cause: err });
    }
    const logits = out.logits!.data as Float32Array;
    const pred = argmaxRows(logits, batch, C);
    let correct = 0;
    if (this.graph.loss === 'softmax-cross-entropy') for (let i = 0; i < batch; i++) if (pred[i] === y[i]) correct++;
    const grads = new Map<string, Float32Array>();
    for (const path of this.paths) {
      const p = this.graph.params.get(path);
      // a trainable tensor the graph never reads (none today) has a zero gradient
      grads.set(path, p ? fromGraphLayout(p.layout, out[this.graph.gradOutputs.get(path)!]!.data as Float32Array) : new Float32Array(this.sizes.get(path)!));
    }
    const r = out[GRADIENT_GRAPH_NAMES.remainderAbsMean];
    return { loss: (out.loss!.data as Float32Array)[0]!, correct, grads, ...(r ? { remainderAbsMean: (r.data as Float32Array)[0]! } : {}) };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/**
 * Compile the gradient program of `model`: the solver `options.tableau` (or the step program `options.solver`)
 * unrolled, the tensors selected by `options.trainable` (and `options.fed`) fed as inputs, loss `options.loss`
 * (default softmax cross-entropy; plus λ · mean|R| with `options.remainderWeight`), one onnxruntime
 * session with `options.threads` intra-op threads (default: all cores). Dispose it when done. An adaptive
 * `options.solver` with a tableau that has `bHat` (Dopri5) gives the adaptive program instead
 * ({@link compileAdaptiveGradientProgram}: backprop through the accepted steps of the step loop, whose runs also
 * return `stats`). Errors: RUNTIME (no tableau, an adaptive solver without a tableau or without `bHat`), MODEL (a
 * model the compiler refuses), ARGUMENT (bad options).
 */
export async function compileGradientProgram(model: ModelIR, options: GradientProgramOptions): Promise<GradientProgram> {
  if (options.solver?.adaptive) {
    // an adaptive solver: backprop through the accepted steps of the step loop (its tableau needs bHat)
    const tableau = options.tableau ?? options.solver.tableau;
    if (!tableau) throw new OdemorError('RUNTIME', adaptiveMessage(options.solver.name));
    if (!tableau.bHat) throw new OdemorError('RUNTIME', noEmbeddedMessage(options.solver.name));
    return compileAdaptiveGradientProgram(model, { ...options, tableau });
  }
  const graph = buildGradientGraph(model, options);
  const all = listTensors(model).map((t) => t.path);
  const paths = all.filter((p) => options.trainable(p));
  const fed = options.fed ? all.filter((p) => !options.trainable(p) && options.fed!(p)) : [];
  const session = await createSession(graph.bytes, options.threads ?? defaultThreads());
  return new OnnxGradientProgram(model, graph, session, paths, fed);
}

/** Options of {@link lossAndGradients}: those of {@link compileGradientProgram}, `trainable` defaulting to every tensor. */
export type LossAndGradientsOptions = Omit<GradientProgramOptions, 'trainable'> & Partial<Pick<GradientProgramOptions, 'trainable'>>;

/**
 * The mean loss, the correct count and d(loss)/d(tensor) per trainable IR path (IR layout) of `model` on one
 * batch `x` [batch, ...inputShape] with labels `y` (Int32Array; mse: Float32Array targets [batch, outputs]) and
 * `inputs.u` (the input signal of a state input with a signal): compiles a gradient program, runs it once and
 * disposes it. The batch size is `y.length` (mse: `y.length / outputs`).
 */
export async function lossAndGradients(
  model: ModelIR,
  x: Float32Array,
  y: Int32Array | Float32Array,
  options: LossAndGradientsOptions,
  inputs?: GradientInputs,
): Promise<GradientResult> {
  const loss = options.loss ?? 'softmax-cross-entropy';
  const batch = loss === 'mse' || loss === 'l1' ? y.length / model.outputs : y.length;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new OdemorError('SHAPE', `lossAndGradients: y has ${y.length} values, which is no whole positive batch of ${model.outputs} outputs`);
  }
  const program = await compileGradientProgram(model, { ...options, trainable: options.trainable ?? (() => true) });
  try {
    return await program.run(new Map(), x, y, batch, inputs);
  } finally {
    await program.dispose();
  }
}

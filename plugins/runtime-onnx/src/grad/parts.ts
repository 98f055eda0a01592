/**
 * What every multi-graph gradient program builds from the step loop's graphs (the adaptive program of
 * `./adaptive.ts`, the adjoint of `@odemor/trainer-adjoint`): the weight hook that turns the trained and fed tensors
 * into graph inputs, one part of the step loop with its VJP appended, and the post graph's loss head; and, at run
 * time, the checked parameter values of a run and the post graph run at each readout state.
 */
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { OdemorError, listTensors, type ButcherTableau, type ModelIR } from '@odemor/core';
import { ADAPTIVE_GRAPH_NAMES as N, Compiler, segmentEnds, type AdaptivePart, type HookedInput, type WeightHook } from '../compile.js';
import type { ValueSpec } from '../graph.js';
import { graphOutput, runGraph } from '../session.js';
import { BATCH, backward, type Shape } from './engine.js';
import { GradientSums, WeightFeeds, type WeightGradGraph } from './feeds.js';
import { LOSSES, checkParamValues, emitLoss } from './loss.js';
import { GRADIENT_GRAPH_NAMES } from './names.js';
import type { LossKind } from './types.js';

/**
 * The weight hook of a gradient program: every trained or fed tensor becomes a graph input, `p_<i>` (its index in
 * `listTensors`) for the IR layout and `p_<i>_<layout>` for another (a graph that wants a tensor in two layouts
 * gets two inputs); the others stay constants.
 */
export function tensorInputHook(model: ModelIR, trainable: (path: string) => boolean, fed: (path: string) => boolean): WeightHook {
  const index = new Map(listTensors(model).map((t, i) => [t.path, i]));
  return (path, layout) => {
    if (!trainable(path) && !fed(path)) return undefined;
    const i = index.get(path);
    if (i === undefined) throw new OdemorError('MODEL', `the compiler asked for the tensor '${path}', which listTensors does not list`);
    return layout.kind === 'identity' ? `p_${i}` : `p_${i}_${layout.kind}`;
  };
}

/** One compiled graph with weight inputs: its bytes, the hook's inputs it reads and the gradient output of each trained one. */
export interface WeightGraph extends WeightGradGraph {
  bytes: Uint8Array;
  /** the weight hook's inputs of the graph: input → IR path, layout, dims */
  params: ReadonlyMap<string, HookedInput>;
  /** trained weight input → the output holding its gradient (graph layout) */
  grads: Map<string, string>;
}

/** What {@link differentiatePart} appends to a part of the step loop. */
export interface DifferentiateSpec {
  /** extra data inputs (seeds, targets) */
  extraInputs: ValueSpec[];
  /** forward output name → the name of d(loss)/d(it) (an input, or a node the function made) */
  seeds: (c: Compiler) => Map<string, string>;
  /** data inputs to differentiate with respect to → the output name of their gradient */
  dataGrads: Map<string, string>;
  /** output the part's own outputs too (the adjoint's augmented rhs keeps f, the post graph its logits) */
  keepOutputs?: boolean;
  /** more outputs (with their dims), made after the seeds */
  keep?: (c: Compiler) => ValueSpec[];
  /** negate the gradients (the adjoint's augmented rhs outputs −aᵀ∂f/∂y and −aᵀ∂f/∂θ) */
  negate?: boolean;
  /** the name of a weight input's gradient output; default `grad_<input>` */
  gradName?: (input: string) => string;
}

const shapeOf = (dims: readonly (number | string)[]): Shape => dims.map((d) => (typeof d === 'number' ? d : BATCH));

/**
 * Emit the graph `part` of the step loop with the hook's weight inputs, then the reverse-mode lowering appends the
 * VJP seeded by `spec.seeds` with respect to the `dataGrads` inputs and every trained weight input. A data input
 * the seeds do not depend on gets an explicit zero; a weight the seeds do not depend on has no gradient output.
 * `label` names the encoded graph (`<part>-<label>`).
 */
export function differentiatePart(
  model: ModelIR,
  tableau: ButcherTableau,
  opset: number | undefined,
  hook: WeightHook,
  trained: (path: string) => boolean,
  part: AdaptivePart,
  entryShape: number[] | null,
  spec: DifferentiateSpec,
  label = 'backward',
): WeightGraph & { entryShape: number[] | null; stateDims: number[] } {
  const c = new Compiler(model, { tableau, ...(opset !== undefined ? { opset } : {}) }, hook);
  const r = c.adaptiveGraph(part, entryShape);
  const g = c.graph;
  const params = new Map(c.hookedInputs);
  const seeds = spec.seeds(c);
  const outputs: ValueSpec[] = [...(spec.keepOutputs ? r.outputs : []), ...(spec.keep?.(c) ?? [])];
  const inputShapes = new Map<string, Shape>();
  for (const i of [...r.inputs, ...spec.extraInputs]) inputShapes.set(i.name, shapeOf(i.dims));
  for (const [name, h] of params) inputShapes.set(name, h.dims);
  const trainedInputs = [...params].filter(([, h]) => trained(h.path)).map(([name]) => name);
  const result = backward(g, { inputShapes, seeds, wrt: [...spec.dataGrads.keys(), ...trainedInputs] });
  const emit = (grad: string, out: string) => g.node(spec.negate ? 'Neg' : 'Identity', [grad], {}, out);
  for (const [input, out] of spec.dataGrads) {
    const grad = result.get(input);
    const dims = r.inputs.find((i) => i.name === input)!.dims;
    if (grad === undefined) g.node('Identity', [g.node('Mul', [input, g.scalar(0)])], {}, out);
    else emit(grad, out);
    outputs.push({ name: out, dims });
  }
  const grads = new Map<string, string>();
  for (const input of trainedInputs) {
    const grad = result.get(input);
    if (grad === undefined) continue;
    const out = spec.gradName ? spec.gradName(input) : `grad_${input}`;
    emit(grad, out);
    grads.set(input, out);
    outputs.push({ name: out, dims: params.get(input)!.dims });
  }
  const bytes = c.encodePart(`${part}-${label}`, [...r.inputs, ...spec.extraInputs, ...c.hookInputSpecs()], outputs);
  return { bytes, params, grads, entryShape: r.entryShape, stateDims: r.stateDims };
}

/**
 * The post graph's loss head for {@link differentiatePart}: inputs `target` [batch, size] and `scale`, the loss
 * seeded at the logits, outputs `loss`, the logits and dL/dy at the state read (`ybar`).
 */
export function lossHead(model: ModelIR, loss: LossKind, ybar: string): DifferentiateSpec {
  const names = GRADIENT_GRAPH_NAMES;
  const size = model.readout ? model.outputs / segmentEnds(model).length : model.outputs;
  let lossName = '';
  return {
    extraInputs: [
      { name: names.target, dims: ['batch', size] },
      { name: names.scale, dims: [] },
    ],
    seeds: (c) => {
      const { loss: l, dlogits } = emitLoss(c.graph, N.logits, loss);
      lossName = l;
      return new Map([[N.logits, dlogits]]);
    },
    dataGrads: new Map([[N.state, ybar]]),
    keepOutputs: true,
    keep: (c) => {
      c.graph.node('Identity', [lossName], {}, names.loss);
      return [{ name: names.loss, dims: [] }];
    },
  };
}

/**
 * The tensors a gradient program's runs take: the trained ones (`paths`) and the fed ones, whose sizes each run's
 * values are checked against, and every tensor's saved value (IR layout) for those a run leaves out.
 */
export class ProgramTensors {
  readonly sizes = new Map<string, number>();
  private readonly defaults = new Map<string, Float32Array>();

  constructor(model: ModelIR, readonly paths: readonly string[], fedPaths: readonly string[]) {
    for (const { path, tensor } of listTensors(model)) {
      this.defaults.set(path, tensor.data);
      if (paths.includes(path) || fedPaths.includes(path)) this.sizes.set(path, tensor.data.length);
    }
  }

  /** Check a run's values (ARGUMENT errors name the tensor) and make its weight feeds. */
  feeds(params: ReadonlyMap<string, Float32Array>): WeightFeeds {
    checkParamValues(params, this.sizes, this.paths);
    return new WeightFeeds((path) => params.get(path) ?? this.defaults.get(path)!);
  }
}

/** What {@link runLossHeads} returns: the summed loss, the logits in the model's output order, dL/dy at each state. */
export interface LossHeads {
  loss: number;
  /** [batch, outputs]: sample b's logits at readout time i at (b·T + i)·size */
  logits: Float32Array;
  /** dL/dy at each readout state (or t1), [batch, ...stateDims] */
  seeds: Float32Array[];
}

/**
 * Run the post graph with the loss head ({@link lossHead}) at each readout state (or the state at t1): the loss and
 * logits of every readout time, dL/dy there (output `ybar`), and the post layers' weight gradients added to `sums`.
 * `target` holds the model's targets [batch, outputs] ({@link lossTargets}).
 */
export async function runLossHeads(
  session: InferenceSession,
  graph: WeightGradGraph,
  weights: WeightFeeds,
  states: readonly Tensor[],
  target: Float32Array,
  batch: number,
  outputs: number,
  loss: LossKind,
  ybar: string,
  sums: GradientSums,
): Promise<LossHeads> {
  const names = GRADIENT_GRAPH_NAMES;
  const T = states.length;
  const size = outputs / T;
  const scale = new Tensor('float32', Float32Array.of(loss === 'mse' ? 1 / (batch * outputs) : 1 / batch), []);
  const postWeights = weights.feeds(graph.params);
  const logits = new Float32Array(batch * outputs);
  const seeds: Float32Array[] = [];
  let total = 0;
  for (let i = 0; i < T; i++) {
    const part = new Float32Array(batch * size);
    for (let b = 0; b < batch; b++) part.set(target.subarray((b * T + i) * size, (b * T + i + 1) * size), b * size);
    const out = await runGraph(
      session,
      { ...postWeights, [N.state]: states[i]!, [names.target]: new Tensor('float32', part, [batch, size]), [names.scale]: scale },
      'post backward',
    );
    total += (graphOutput(out, names.loss, 'post backward').data as Float32Array)[0]!;
    const li = graphOutput(out, N.logits, 'post backward').data as Float32Array;
    for (let b = 0; b < batch; b++) logits.set(li.subarray(b * size, (b + 1) * size), (b * T + i) * size);
    seeds.push(graphOutput(out, ybar, 'post backward').data as Float32Array);
    sums.add(graph, out, 'post backward');
  }
  return { loss: total, logits, seeds };
}

/**
 * Check the options every multi-graph gradient program's graphs take (ARGUMENT errors name the option) and return
 * the loss (default softmax cross-entropy) and the fed predicate (default none).
 */
export function gradientGraphOptions(
  model: ModelIR,
  options: { trainable: (path: string) => boolean; fed?: (path: string) => boolean; loss?: LossKind },
): { loss: LossKind; fed: (path: string) => boolean } {
  const loss = options.loss ?? 'softmax-cross-entropy';
  if (!LOSSES.includes(loss)) throw new OdemorError('ARGUMENT', `loss must be one of ${LOSSES.join(', ')}; got '${String(loss)}'`);
  if (typeof options.trainable !== 'function') throw new OdemorError('ARGUMENT', 'options.trainable must be a function of the IR path');
  if (options.fed !== undefined && typeof options.fed !== 'function') throw new OdemorError('ARGUMENT', 'options.fed must be a function of the IR path');
  if (model.readout && loss === 'softmax-cross-entropy') {
    throw new OdemorError('ARGUMENT', `a trajectory readout outputs the block's states; its loss is 'mse' or 'l1', not '${loss}'`);
  }
  return { loss, fed: options.fed ?? (() => false) };
}

/**
 * The pre graph's VJP seeded with dL/dx0 (input `x0bar`), or undefined where nothing there trains (or the model
 * reads a sequence: no pre graph).
 */
export function preBackwardGraph(
  model: ModelIR,
  tableau: ButcherTableau,
  opset: number | undefined,
  hook: WeightHook,
  trained: (path: string) => boolean,
  stateDims: (string | number)[],
  x0bar: string,
): WeightGraph | undefined {
  if (model.input.kind === 'sequence') return undefined;
  const pre = differentiatePart(model, tableau, opset, hook, trained, 'pre', null, {
    extraInputs: [{ name: x0bar, dims: stateDims }],
    seeds: () => new Map([[N.x0, x0bar]]),
    dataGrads: new Map(),
  });
  return pre.grads.size ? pre : undefined;
}

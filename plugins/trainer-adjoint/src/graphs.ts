/**
 * The graphs of the adjoint method (docs/algorithms.md#adjoint), each compiled once by runtime-onnx's compiler and
 * its reverse-mode lowering, with the trained (and fed) tensors as graph inputs:
 *
 * - forward: the pre graph and, for a fixed-step tableau, the step map y₁ = Φ(y, h) (all stages in one graph, one
 *   session run per step), for an adaptive one the pre / rhs / step graphs of runtime-onnx's step loop;
 * - post: the post graph with the loss and its VJP — the loss, the logits, dL/dy at a readout time (or t1) and the
 *   post layers' weight gradients;
 * - augmented right-hand side: (y, a, weights[, u, uIndex]) → (f(y), −aᵀ∂f/∂y, −aᵀ∂f/∂θ), the VJP of the block's rhs
 *   graph (no Jacobian is formed; the weight part is summed over the batch);
 * - pre backward: the VJP of the pre graph seeded with dL/dx0 (only when a tensor there trains).
 */
import { OdemorError, listTensors, type ButcherTableau, type ModelIR } from '@odemor/core';
import {
  ADAPTIVE_GRAPH_NAMES as N,
  BATCH,
  Compiler,
  GRADIENT_GRAPH_NAMES,
  LOSSES,
  backward,
  compileAdaptive,
  emitLoss,
  segmentEnds,
  stepMapTableau,
  validateTableau,
  type AdaptiveGraphs,
  type AdaptivePart,
  type HookedInput,
  type LossKind,
  type Shape,
  type ValueSpec,
  type WeightHook,
} from '@odemor/runtime-onnx';

/** Names of the adjoint graphs' own inputs and outputs (besides runtime-onnx's `ADAPTIVE_GRAPH_NAMES`). */
export const ADJOINT_GRAPH_NAMES = {
  /** the adjoint a = dL/dy [batch, ...stateDims] (augmented rhs input) */
  adjoint: 'a',
  /** −aᵀ∂f/∂y [batch, ...stateDims] (augmented rhs output) */
  adjointRate: 'aRate',
  /** prefix of −aᵀ∂f/∂θ per weight input (augmented rhs outputs, graph layout, summed over the batch) */
  weightRate: 'gRate_',
  /** dL/dx0 (pre backward input) */
  x0bar: 'x0bar',
  /** dL/dy at a readout time (post backward output) */
  ybar: 'ybar',
} as const;

const A = ADJOINT_GRAPH_NAMES;

/** One compiled graph with weight inputs: its bytes, the hook's inputs it reads and the gradient output of each trained one. */
export interface WeightGraph {
  bytes: Uint8Array;
  /** the weight hook's inputs of the graph: input → IR path, layout, dims */
  params: ReadonlyMap<string, HookedInput>;
  /** trained weight input → the output holding its gradient (or its rate, in the augmented rhs), graph layout */
  grads: Map<string, string>;
}

/** The serialized graphs of an adjoint program ({@link buildAdjointGraphs}). */
export interface AdjointGraphs {
  /** a fixed-step tableau: the pre graph (absent for sequence models) and the step map `y`, `h` (`u`, `uIndex`) → `y1` */
  fixed?: { pre?: WeightGraph; stepMap: WeightGraph; stages: number };
  /** an adaptive tableau: runtime-onnx's step-loop graphs with the weights as inputs */
  adaptive?: AdaptiveGraphs;
  /** `y`, `target`, `scale`, weights → `loss`, `logits`, `ybar`, post weight gradients */
  post: WeightGraph;
  /** `y`, `a` (`u`, `uIndex` [1]), weights → `k` = f(y), `aRate` = −aᵀ∂f/∂y, `gRate_<input>` = −aᵀ∂f/∂θ */
  augmented: WeightGraph;
  /** `x`, `x0bar`, weights → the pre graph's weight gradients (absent: nothing trains there, or a sequence model) */
  preBackward?: WeightGraph;
  /** per-sample dims of the state the graphs exchange */
  stateDims: number[];
  loss: LossKind;
}

const shapeOf = (dims: readonly (number | string)[]): Shape => dims.map((d) => (typeof d === 'number' ? d : BATCH));

interface DiffSpec {
  /** extra data inputs (seeds, targets) */
  extraInputs: ValueSpec[];
  /** forward output name → the name of d(loss)/d(it) (an input, or a node `extend` made) */
  seeds: (c: Compiler) => Map<string, string>;
  /** data inputs to differentiate with respect to → the output name of their gradient */
  dataGrads: Map<string, string>;
  /** output the part's own outputs too (the augmented rhs keeps f, the post graph its logits) */
  keepOutputs?: boolean;
  /** more outputs (with their dims), made after the seeds */
  keep?: (c: Compiler) => ValueSpec[];
  /** negate the gradients (the augmented rhs outputs −aᵀ∂f/∂y and −aᵀ∂f/∂θ) */
  negate?: boolean;
  /** the name of a weight input's gradient output; default `grad_<input>` */
  gradName?: (input: string) => string;
}

/**
 * Emit the graph `part` of the step loop with the hook's weight inputs, then the reverse-mode lowering appends the
 * VJP seeded by `spec.seeds` with respect to the `dataGrads` inputs and every trained weight input.
 */
function differentiate(
  model: ModelIR,
  tableau: ButcherTableau,
  opset: number | undefined,
  hook: WeightHook,
  trained: (path: string) => boolean,
  part: AdaptivePart,
  entryShape: number[] | null,
  spec: DiffSpec,
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
    if (grad === undefined) {
      // the seeds do not depend on this input (a zero gradient): an explicit zero of its shape
      const zero = g.node('Mul', [input, g.scalar(0)]);
      g.node('Identity', [zero], {}, out);
    } else emit(grad, out);
    outputs.push({ name: out, dims });
  }
  const grads = new Map<string, string>();
  for (const input of trainedInputs) {
    const grad = result.get(input);
    // a weight the seeds do not depend on has a zero gradient: no output
    if (grad === undefined) continue;
    const out = spec.gradName ? spec.gradName(input) : `grad_${input}`;
    emit(grad, out);
    grads.set(input, out);
    outputs.push({ name: out, dims: params.get(input)!.dims });
  }
  const bytes = c.encodePart(`${part}-adjoint`, [...r.inputs, ...spec.extraInputs, ...c.hookInputSpecs()], outputs);
  return { bytes, params, grads, entryShape: r.entryShape, stateDims: r.stateDims };
}

/** Options of {@link buildAdjointGraphs}. */
export interface AdjointGraphOptions {
  /** the solver's Butcher tableau (with `bHat` when `adaptive`) */
  tableau: ButcherTableau;
  /** the forward and the adjoint solve run core's adaptive controller (needs `tableau.bHat`) */
  adaptive: boolean;
  /** which IR paths train */
  trainable: (path: string) => boolean;
  /** more tensors fed as inputs without a gradient */
  fed?: (path: string) => boolean;
  loss?: LossKind;
  opset?: number;
}

/**
 * Build the graphs of an adjoint program (see the module comment). Errors: ARGUMENT (bad options, a loss the
 * model cannot have), RUNTIME (an adaptive tableau without `bHat`), MODEL (what runtime-onnx's compiler refuses).
 */
export function buildAdjointGraphs(model: ModelIR, options: AdjointGraphOptions): AdjointGraphs {
  const loss = options.loss ?? 'softmax-cross-entropy';
  if (!LOSSES.includes(loss)) throw new OdemorError('ARGUMENT', `loss must be one of ${LOSSES.join(', ')}; got '${String(loss)}'`);
  if (typeof options.trainable !== 'function') throw new OdemorError('ARGUMENT', 'options.trainable must be a function of the IR path');
  if (options.fed !== undefined && typeof options.fed !== 'function') throw new OdemorError('ARGUMENT', 'options.fed must be a function of the IR path');
  if (model.readout && loss === 'softmax-cross-entropy') {
    throw new OdemorError('ARGUMENT', `a trajectory readout outputs the block's states; its loss is 'mse' or 'l1', not '${loss}'`);
  }
  if (model.input.kind === 'sequence' && model.pre.length > 0) {
    throw new OdemorError('MODEL', `a model with sequence input must have no pre layers; got ${model.pre.length}`);
  }
  const { tableau, trainable, opset } = options;
  validateTableau(tableau);
  if (options.adaptive && !tableau.bHat) {
    throw new OdemorError('RUNTIME', `the adaptive adjoint solve needs a tableau with embedded weights (bHat) for its error estimate`);
  }
  const fed = options.fed ?? (() => false);
  const index = new Map(listTensors(model).map((t, i) => [t.path, i]));
  const hook: WeightHook = (path, layout) => {
    if (!trainable(path) && !fed(path)) return undefined;
    const i = index.get(path);
    if (i === undefined) throw new OdemorError('MODEL', `the compiler asked for the tensor '${path}', which listTensors does not list`);
    return layout.kind === 'identity' ? `p_${i}` : `p_${i}_${layout.kind}`;
  };
  const sequence = model.input.kind === 'sequence';

  // forward graphs (no gradients)
  let entryShape: number[] | null = null;
  let fixed: AdjointGraphs['fixed'];
  let adaptive: AdaptiveGraphs | undefined;
  if (options.adaptive) {
    adaptive = compileAdaptive(model, { tableau, ...(opset !== undefined ? { opset } : {}) }, hook);
    entryShape = adaptive.entryShape ?? null;
  } else {
    const forwardPart = (part: 'pre' | 'stepmap'): WeightGraph & { entryShape: number[] | null } => {
      const c = new Compiler(model, { tableau, ...(opset !== undefined ? { opset } : {}) }, hook);
      const r = c.adaptivePart(part, entryShape);
      return { bytes: r.bytes, params: new Map(c.hookedInputs), grads: new Map(), entryShape: r.entryShape };
    };
    const pre = sequence ? undefined : forwardPart('pre');
    if (pre) entryShape = pre.entryShape;
    fixed = { ...(pre ? { pre } : {}), stepMap: forwardPart('stepmap'), stages: stepMapTableau(tableau).b.length };
  }

  // the augmented right-hand side: the VJP of f at the adjoint a, negated
  const probe = new Compiler(model, { tableau, ...(opset !== undefined ? { opset } : {}) });
  const stateDims = ['batch', ...probe.adaptiveGraph('rhs', null).stateDims];
  const augmented = differentiate(model, tableau, opset, hook, trainable, 'rhs', entryShape, {
    extraInputs: [{ name: A.adjoint, dims: stateDims }],
    seeds: () => new Map([[N.k, A.adjoint]]),
    dataGrads: new Map([[N.state, A.adjointRate]]),
    keepOutputs: true,
    negate: true,
    gradName: (input) => `${A.weightRate}${input}`,
  });

  // the post graph with the loss and its VJP
  const names = GRADIENT_GRAPH_NAMES;
  const size = model.readout ? model.outputs / segmentEnds(model).length : model.outputs;
  let lossName = '';
  const post = differentiate(model, tableau, opset, hook, trainable, 'post', entryShape, {
    extraInputs: [
      { name: names.target, dims: ['batch', size] },
      { name: names.scale, dims: [] },
    ],
    seeds: (c) => {
      const { loss: l, dlogits } = emitLoss(c.graph, N.logits, loss);
      lossName = l;
      return new Map([[N.logits, dlogits]]);
    },
    dataGrads: new Map([[N.state, A.ybar]]),
    keepOutputs: true,
    keep: (c) => {
      c.graph.node('Identity', [lossName], {}, names.loss);
      return [{ name: names.loss, dims: [] }];
    },
  });

  // the pre graph's VJP at dL/dx0, when a tensor there trains
  let preBackward: WeightGraph | undefined;
  if (!sequence) {
    const pre = differentiate(model, tableau, opset, hook, trainable, 'pre', null, {
      extraInputs: [{ name: A.x0bar, dims: stateDims }],
      seeds: () => new Map([[N.x0, A.x0bar]]),
      dataGrads: new Map(),
    });
    if (pre.grads.size) preBackward = pre;
  }
  return {
    ...(fixed ? { fixed } : {}),
    ...(adaptive ? { adaptive } : {}),
    post,
    augmented,
    ...(preBackward ? { preBackward } : {}),
    stateDims: augmented.stateDims,
    loss,
  };
}

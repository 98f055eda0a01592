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
import { OdemorError, type ButcherTableau, type ModelIR } from '@odemor/core';
import {
  ADAPTIVE_GRAPH_NAMES as N,
  Compiler,
  compileAdaptive,
  differentiatePart,
  gradientGraphOptions,
  lossHead,
  preBackwardGraph,
  stepMapTableau,
  tensorInputHook,
  validateTableau,
  type AdaptiveGraphs,
  type LossKind,
  type WeightGraph,
} from '@odemor/runtime-onnx';

export type { WeightGraph } from '@odemor/runtime-onnx';

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
  const { loss, fed } = gradientGraphOptions(model, options);
  if (model.input.kind === 'sequence' && model.pre.length > 0) {
    throw new OdemorError('MODEL', `a model with sequence input must have no pre layers; got ${model.pre.length}`);
  }
  const { tableau, trainable, opset } = options;
  validateTableau(tableau);
  if (options.adaptive && !tableau.bHat) {
    throw new OdemorError('RUNTIME', `the adaptive adjoint solve needs a tableau with embedded weights (bHat) for its error estimate`);
  }
  const hook = tensorInputHook(model, trainable, fed);
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
  const augmented = differentiatePart(
    model,
    tableau,
    opset,
    hook,
    trainable,
    'rhs',
    entryShape,
    {
      extraInputs: [{ name: A.adjoint, dims: stateDims }],
      seeds: () => new Map([[N.k, A.adjoint]]),
      dataGrads: new Map([[N.state, A.adjointRate]]),
      keepOutputs: true,
      negate: true,
      gradName: (input) => `${A.weightRate}${input}`,
    },
    'adjoint',
  );

  // the post graph with the loss and its VJP, and the pre graph's VJP at dL/dx0 (when a tensor there trains)
  const post = differentiatePart(model, tableau, opset, hook, trainable, 'post', entryShape, lossHead(model, loss, A.ybar), 'adjoint');
  const preBackward = preBackwardGraph(model, tableau, opset, hook, trainable, stateDims, A.x0bar);
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

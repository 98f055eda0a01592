/**
 * Lowering a model IR to an ONNX forward graph whose trainable tensors are graph inputs (docs/algorithms.md,
 * "Gradients of the compiled graphs"). The compiler (`compile.ts`) emits the graph; every model tensor passes
 * its hook with its IR path and the layout the graph wants it in (dense weights transposed, conv kernels
 * OIHW, conv-block biases and input matrices channels-first, the antisymmetric `(W − Wᵀ − γI)ᵀ`). Trainable
 * tensors become inputs fed in that layout ({@link toGraphLayout}, in JS on the way in), their gradients are
 * mapped back to the IR layout by the adjoint of the layout map ({@link fromGraphLayout}); all others stay
 * initializers, as in inference and export graphs (`compileModel`, which keeps every tensor an initializer).
 */
import { OdemorError, listTensors, type ButcherTableau, type ModelIR } from '@odemor/core';
import { Compiler, graphInputs, type WeightLayout } from '../compile.js';
import type { SolverLike } from '../tableau.js';
import type { GraphBuilder, ValueSpec } from '../graph.js';
import { BATCH, type Shape } from './engine.js';

/** Options of {@link lower}. */
export interface LowerOptions {
  /** Butcher tableau of the explicit fixed-step method to unroll; or `solver` */
  tableau?: ButcherTableau;
  /** the solver: its tableau, or its fixed-step step program (Taylor-Lagrange) when it has none */
  solver?: SolverLike;
  /** which IR paths become graph inputs; default none (every tensor an initializer) */
  trainable?: (path: string) => boolean;
  /** more IR paths that become graph inputs (fed on every run; whether they get a gradient is the caller's choice) */
  fed?: (path: string) => boolean;
  /** ONNX opset, 13 to 21; default 17 */
  opset?: number;
}

/** How one trainable IR tensor enters the graph. */
export interface ParamInput {
  /** the graph input's name */
  input: string;
  /** the graph layout relative to the IR's */
  layout: WeightLayout;
  /** the graph input's dims */
  dims: number[];
  /** the IR tensor's shape */
  shape: number[];
}

/** What {@link lower} returns. */
export interface Lowered {
  /** the builder holding the forward graph (append the loss and backward nodes to it) */
  graph: GraphBuilder;
  /** IR path → graph input, for every trainable tensor the graph uses, in listTensors order */
  params: Map<string, ParamInput>;
  /** the forward output `logits` [batch, outputs] */
  logits: string;
  /** static shapes of the graph inputs (x, u for a state input with a signal, and the parameters; batch = −1) */
  inputShapes: Map<string, Shape>;
  /** the remainder terms R [batch, ...stateDims] of a step program's unrolled steps (empty for a tableau) */
  remainders: readonly string[];
  /** values per sample of one remainder term (the solver state's size) */
  remainderSize: number;
  /** |R| of every remainder term, flattened and concatenated, [batch, steps · size] (MODEL error when there are none) */
  absRemainders(): string;
  /** serialize with the data input, the parameter inputs, `extraInputs` and `outputs` */
  encode(outputs: ValueSpec[], extraInputs?: ValueSpec[]): Uint8Array;
}

/**
 * Lower `model` with the solver `tableau` (or the step program `solver`) unrolled: the forward graph (input `x` [batch, ...inputShape], and `u`
 * [batch, steps, channels] for a state input with a signal; output `logits`), the trainable tensors as graph inputs named `p_<i>` (i their index in listTensors order).
 * Errors: those of `compileModel` (RUNTIME without a tableau, MODEL for a bad model).
 */
export function lower(model: ModelIR, options: LowerOptions): Lowered {
  const trainable = options.trainable ?? (() => false);
  const fed = options.fed ?? (() => false);
  const index = new Map(listTensors(model).map((t, i) => [t.path, { i, shape: t.tensor.shape }]));
  const params = new Map<string, ParamInput>();
  const integrator = { ...(options.tableau ? { tableau: options.tableau } : {}), ...(options.solver ? { solver: options.solver } : {}) };
  const compiler = new Compiler(model, { ...integrator, ...(options.opset !== undefined ? { opset: options.opset } : {}) }, (path, layout, dims) => {
    if (!trainable(path) && !fed(path)) return undefined;
    const entry = index.get(path);
    if (!entry) throw new OdemorError('MODEL', `the compiler asked for the tensor '${path}', which listTensors does not list`);
    const hit = params.get(path);
    if (hit) return hit.input;
    const input = `p_${entry.i}`;
    params.set(path, { input, layout, dims: [...dims], shape: [...entry.shape] });
    return input;
  });
  const forwardOutputs = compiler.build();
  // the data inputs: x, and the input signal u of a state input with a signal
  const data = graphInputs(model);
  const inputShapes = new Map<string, Shape>(data.map((d) => [d.name, d.dims.map((v) => (v === 'batch' ? BATCH : (v as number)))]));
  // params in listTensors order
  const ordered = new Map([...params].sort((a, b) => index.get(a[0])!.i - index.get(b[0])!.i));
  for (const p of ordered.values()) inputShapes.set(p.input, p.dims);
  return {
    graph: compiler.graph,
    params: ordered,
    logits: forwardOutputs[0]!.name,
    inputShapes,
    remainders: compiler.remainders,
    remainderSize: compiler.remainderSize,
    absRemainders: () => compiler.absRemainders(),
    encode(outputs, extraInputs = []) {
      return compiler.encode(
        [
          ...data,
          ...[...ordered.values()].map((p) => ({ name: p.input, dims: p.dims })),
          ...extraInputs,
        ],
        outputs,
      );
    },
  };
}

/** NHWC-flattened [h, w, c] index → channels-first [c, h, w] index. */
function chwIndex(h: number, w: number, c: number): Int32Array {
  const map = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) map[(y * w + x) * c + ch] = (ch * h + y) * w + x;
  return map;
}

/**
 * The permutation of a layout as `dst[perm[i]] = src[i]` (IR index i → graph index), or undefined for the
 * affine `antisymmetric` layout.
 */
function permutation(layout: WeightLayout, size: number): Int32Array | undefined {
  switch (layout.kind) {
    case 'identity':
      return Int32Array.from({ length: size }, (_, i) => i);
    case 'transpose': {
      const { rows, cols } = layout;
      const p = new Int32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) p[r * cols + c] = c * rows + r;
      return p;
    }
    case 'oihw': {
      const { kh, kw, ci, co } = layout;
      const p = new Int32Array(kh * kw * ci * co);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) p[((y * kw + x) * ci + i) * co + o] = ((o * ci + i) * kh + y) * kw + x;
      return p;
    }
    case 'channels-first': {
      const { rows, h, w, c } = layout;
      const m = chwIndex(h, w, c);
      const n = h * w * c;
      const p = new Int32Array(rows * n);
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) p[r * n + i] = r * n + m[i]!;
      return p;
    }
    case 'transpose-channels-first': {
      // IR [n, rows] (n = h·w·c NHWC) → graph [rows, n] with each row channels-first
      const { rows, h, w, c } = layout;
      const m = chwIndex(h, w, c);
      const n = h * w * c;
      const p = new Int32Array(rows * n);
      for (let i = 0; i < n; i++) for (let r = 0; r < rows; r++) p[i * rows + r] = r * n + m[i]!;
      return p;
    }
    case 'antisymmetric':
      return undefined;
    default:
      throw new OdemorError('MODEL', `unknown weight layout '${(layout as { kind?: unknown }).kind}'`);
  }
}

const permCache = new WeakMap<WeightLayout, Int32Array>();

function cachedPermutation(layout: WeightLayout, size: number): Int32Array | undefined {
  let p = permCache.get(layout);
  if (!p) {
    p = permutation(layout, size);
    if (p) permCache.set(layout, p);
  }
  return p;
}

/** IR-layout values → the graph input's values (float32, as the compiler's initializer would hold them). */
export function toGraphLayout(layout: WeightLayout, data: Float32Array): Float32Array {
  if (layout.kind === 'antisymmetric') {
    // (W − Wᵀ − γI)ᵀ, entry (i, j) = W[j, i] − W[i, j] − γ δij, in float64 then rounded (as core's denseA)
    const { n, gamma } = layout;
    const out = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] = data[j * n + i]! - data[i * n + j]!;
      out[i * n + i] = data[i * n + i]! - data[i * n + i]! - gamma;
    }
    return out;
  }
  const p = cachedPermutation(layout, data.length)!;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[p[i]!] = data[i]!;
  return out;
}

/**
 * A gradient with respect to the graph input → the gradient with respect to the IR tensor: the adjoint of
 * the layout map (the inverse permutation; for `antisymmetric`, `Gᵀ − G`).
 */
export function fromGraphLayout(layout: WeightLayout, grad: Float32Array): Float32Array {
  if (layout.kind === 'antisymmetric') {
    const { n } = layout;
    const out = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = grad[j * n + i]! - grad[i * n + j]!;
    return out;
  }
  const p = cachedPermutation(layout, grad.length)!;
  const out = new Float32Array(grad.length);
  for (let i = 0; i < grad.length; i++) out[i] = grad[p[i]!]!;
  return out;
}

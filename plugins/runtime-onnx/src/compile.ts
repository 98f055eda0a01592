/**
 * Compile a model IR into one ONNX graph: pre layers, the ODE block with its fixed-step explicit
 * Runge–Kutta solver unrolled from the Butcher tableau (or a fixed-step step program such as Taylor-Lagrange,
 * with the block's exact time derivatives and the model's midpoint network as graph nodes), post layers.
 */
import {
  blockInputSize,
  denseA,
  inputShapeOf as coreInputShapeOf,
  fixedStepCount,
  integrate,
  isFsal,
  OdemorError,
  RK_DEFAULTS,
  rkStep,
  sequenceIndex as coreSequenceIndex,
  solverStateSize,
  type SolveStats,
  type SolverAlgebra,
  type Activation,
  type ButcherTableau,
  type Layer,
  type LinearMap,
  type MidpointNet,
  type MlpBlock,
  type ModelIR,
  type OdeBlock,
  type ReducedBlock,
  type Tensor32,
} from '@odemor/core';
import { GraphBuilder, type ValueSpec } from './graph.js';
import { MAX_DERIVATIVE_ORDER, adaptiveMessage, checkDerivatives, resolveProgram, validateTableau, type SolverLike, type StepProgram } from './tableau.js';

/** Options of {@link compileModel}. */
export interface CompileOptions {
  /**
   * Butcher tableau of the explicit fixed-step method to unroll; or give `solver`: its tableau, or its step program
   * when it has none. One of the two is required; `tableau` wins over the solver's.
   */
  tableau?: ButcherTableau;
  /**
   * The solver: a tableau solver is unrolled from its tableau; a fixed-step step program without a tableau
   * (`Solver.step`, e.g. Taylor-Lagrange) is unrolled with core's `integrate` (`step:`) over the graph algebra, with
   * the block's exact time derivatives (`StepContext.derivatives`, orders 1–3) and the model's midpoint network
   * (`StepContext.midpoint`) as graph nodes. Adaptive step programs are refused (RUNTIME).
   */
  solver?: SolverLike;
  /**
   * Add the output `remainderAbsMean` (a scalar): mean over steps, batch and state of |R| for the remainder terms
   * R the step program returns (Taylor-Lagrange). MODEL error when the solver returns none.
   */
  remainderOutput?: boolean;
  /**
   * Add the snapshot outputs (full blocks only): `final` [batch, n] always; with `gram`, `stateGram` and
   * `nonlinearGram` [n, n] (Σ over the sampled rows of x xᵀ, one Gemm over the concatenated samples); the raw
   * rows `states`, `nonlinear` [S, batch, n] unless `raw` is false (`raw` defaults to `!gram`).
   */
  snapshot?: SnapshotGraphOptions;
  /** ONNX opset, 13 to 21; default 17. */
  opset?: number;
  /** Materialise a convolutional block matrix as its dense Toeplitz matrix instead of a Conv node. */
  convAsDense?: boolean;
}

/** Snapshot outputs of a compiled graph (see {@link CompileOptions.snapshot}). */
export interface SnapshotGraphOptions {
  /** sample the state after every `every`-th step */
  every: number;
  /** add the Gram outputs `stateGram` / `nonlinearGram` [n, n]; default false */
  gram?: boolean;
  /** add the raw rows `states` / `nonlinear` [S, batch, n]; default true without `gram`, false with it */
  raw?: boolean;
}

/** Names of the graph's inputs and outputs. */
export const GRAPH_NAMES = {
  input: 'x',
  /** the input signal [batch, steps, channels] of a model with input kind 'state' and a signal */
  u: 'u',
  logits: 'logits',
  states: 'states',
  nonlinear: 'nonlinear',
  final: 'final',
  stateGram: 'stateGram',
  nonlinearGram: 'nonlinearGram',
  /** mean |R| of a step program's remainder terms ({@link CompileOptions.remainderOutput}) */
  remainderAbsMean: 'remainderAbsMean',
} as const;

/** Default ONNX opset of compiled graphs. */
export const DEFAULT_OPSET = 17;

/**
 * Names of the inputs and outputs of the adaptive step loop's graphs ({@link compileAdaptive}):
 * - pre: `x` [batch, ...inputShape] → `x0` [batch, ...stateDims];
 * - rhs: `y`, and for models with an input signal `u` [batch, steps, channels] (a sequence model's input, a state
 *   input's signal) and `uIndex` (int64 [1]) → `k` = f(t, y);
 * - step: `y`, `k1` (= f(t, y)), `h`, `rtol`, `atol` (float scalars), and with an input signal `u` and `uIndex`
 *   (int64 [s], the sequence element of each stage time) → `y1`, `kLast` (FSAL tableaux), `errSq` [batch];
 * - post: `y` → `logits` [batch, outputs]; for a trajectory model (`readout`), the block's output at one readout
 *   time, [batch, size] (D y for a reduced block), which the loop concatenates over the times;
 * - sample (full blocks, snapshot passes): `y` → `states`, `nonlinear` [batch, n] (NHWC-flattened).
 */
export const ADAPTIVE_GRAPH_NAMES = {
  input: 'x',
  x0: 'x0',
  state: 'y',
  u: 'u',
  uIndex: 'uIndex',
  k: 'k',
  k1: 'k1',
  h: 'h',
  rtol: 'rtol',
  atol: 'atol',
  y1: 'y1',
  kLast: 'kLast',
  errSq: 'errSq',
  logits: 'logits',
  states: 'states',
  nonlinear: 'nonlinear',
} as const;

/**
 * The graph of an adaptive loop that {@link Compiler.adaptivePart} emits; `stepmap` is the step map of training
 * (docs/algorithms.md#onnx-adaptive-training): `y`, `h` (and `u`, `uIndex` [s']) → `y1 = y + h Σ b_j k_j` with every
 * stage computed in the graph (k1 = f(t, y) too: no FSAL input) and no error estimate, over the stages
 * {@link stepMapTableau} keeps.
 */
export type AdaptivePart = 'pre' | 'rhs' | 'step' | 'post' | 'sample' | 'stepmap';

/**
 * The tableau of the training step map: `tableau` without its trailing stages of weight `b_j = 0` (Dopri5's
 * seventh, FSAL stage only feeds the error estimate and the next step's k1) and without `bHat`, so that the map
 * `y1 = y + h Σ_j b_j k_j` evaluates only the stages it combines.
 */
export function stepMapTableau(tableau: ButcherTableau): ButcherTableau {
  let s = tableau.b.length;
  while (s > 1 && tableau.b[s - 1] === 0) s--;
  return {
    a: tableau.a.slice(0, s).map((row) => row.slice(0, s)),
    b: tableau.b.slice(0, s),
    c: tableau.c.slice(0, s),
    order: tableau.order,
  };
}

/** The serialized graphs of an adaptive solve ({@link compileAdaptive}). */
export interface AdaptiveGraphs {
  /** pre layers and the block's entry (E for a reduced block); absent for sequence models, which start from 0 */
  pre?: Uint8Array;
  /** f(t, y): the first stage of a step (once per solve for FSAL tableaux, after every accepted step otherwise) */
  rhs: Uint8Array;
  /** one step attempt: stages 2 … s from `k1`, the new state, `kLast`, the per-sample sum of squared scaled errors */
  step: Uint8Array;
  /** the block's readout (D for a reduced block) and the post layers; a trajectory model: D y alone, [batch, size] */
  post: Uint8Array;
  /** per-sample dims of the state the graphs exchange: [n] or [k]; [c, h, w] for a Conv block */
  stateDims: number[];
  /** whether the step graph outputs `kLast` (first same as last) */
  fsal: boolean;
  /** the logical shape of the pre layers' output (what the post graph lays the block's output out as); null for sequence models */
  entryShape?: number[] | null;
  /** with a weight hook: each graph's inputs the hook named (input → IR path, layout, dims), after its own inputs */
  hooked?: Partial<Record<'pre' | 'rhs' | 'step' | 'post', ReadonlyMap<string, HookedInput>>>;
}

/** A graph input the weight hook named: the IR path it feeds, the layout the graph wants and the graph dims. */
export interface HookedInput {
  path: string;
  layout: WeightLayout;
  dims: number[];
}

/**
 * Compile `model` for an adaptive explicit Runge–Kutta solver (a tableau with `bHat`): instead of one unrolled
 * graph, the graphs of a step loop that core's controller drives from JavaScript (the onnx runtime's adaptive
 * executable; docs/algorithms.md#onnx-adaptive). The step graph takes the step size `h` and the tolerances as
 * inputs, so one compile serves every step; it computes the stages as `rkStep` does (with `h` a graph value) and
 * reduces the embedded error estimate `h Σ (b_j − bHat_j) k_j` in-graph to one sum of squared scaled errors
 * `Σ (e / (atol + rtol · max(|y|, |y1|)))²` per sample, so only `[batch]` numbers come back per attempt.
 * With `weights` (a {@link WeightHook}, the trainer's), the tensors it names are graph inputs of each graph that
 * reads them (after the graph's own inputs), so new values can be fed without recompiling.
 * Errors: RUNTIME (no `bHat`), MODEL and ARGUMENT as {@link compileModel}.
 */
export function compileAdaptive(model: ModelIR, options: Omit<CompileOptions, 'snapshot' | 'solver' | 'remainderOutput'>, weights?: WeightHook): AdaptiveGraphs {
  const tableau = options?.tableau;
  if (tableau && !tableau.bHat) {
    throw new OdemorError('RUNTIME', 'compileAdaptive needs a tableau with embedded weights (bHat) for the error estimate');
  }
  // `weights` (training): tensors the hook names become graph inputs of every graph that reads them
  const make = () => new Compiler(model, { ...options }, weights);
  const { t0, t1, dt } = model.solver;
  solverSteps(t0, t1, dt); // MODEL errors for a bad dt or span
  if (model.input.kind === 'sequence' && model.pre.length > 0) {
    throw new OdemorError('MODEL', `a model with sequence input must have no pre layers; got ${model.pre.length}`);
  }
  let entryShape: number[] | null = null;
  let pre: Uint8Array | undefined;
  const hooked: NonNullable<AdaptiveGraphs['hooked']> = {};
  const part = (name: 'pre' | 'rhs' | 'step' | 'post') => {
    const c = make();
    const r = c.adaptivePart(name, entryShape);
    if (weights) hooked[name] = new Map(c.hookedInputs);
    return r;
  };
  if (model.input.kind !== 'sequence') ({ bytes: pre, entryShape } = part('pre'));
  const rhs = part('rhs');
  const step = part('step');
  const post = part('post');
  return {
    ...(pre ? { pre } : {}),
    rhs: rhs.bytes,
    step: step.bytes,
    post: post.bytes,
    stateDims: step.stateDims,
    fsal: isFsal(tableau!),
    entryShape,
    ...(weights ? { hooked } : {}),
  };
}

/** The sample graph of an adaptive snapshot pass (full blocks): `y` → `states`, `nonlinear` [batch, n]. */
export function compileAdaptiveSample(model: ModelIR, options: Omit<CompileOptions, 'snapshot' | 'solver' | 'remainderOutput'>): Uint8Array {
  if (model.block.kind !== 'ode') throw new OdemorError('MODEL', `snapshot passes need a full ODE block; this model has a '${model.block.kind}' block`);
  return new Compiler(model, { ...options }).adaptivePart('sample', null).bytes;
}

/** A graph `X`, `F` [rows, n] → `stateGram`, `nonlinearGram` = XᵀX, FᵀF [n, n] (float32 Gemm), for adaptive snapshot passes. */
export function compileGram(n: number, opset = DEFAULT_OPSET): Uint8Array {
  const g = new GraphBuilder();
  g.node('Gemm', ['X', 'X'], { transA: 1 }, GRAPH_NAMES.stateGram);
  g.node('Gemm', ['F', 'F'], { transA: 1 }, GRAPH_NAMES.nonlinearGram);
  return g.encode({
    inputs: [{ name: 'X', dims: ['rows', n] }, { name: 'F', dims: ['rows', n] }],
    outputs: [{ name: GRAPH_NAMES.stateGram, dims: [n, n] }, { name: GRAPH_NAMES.nonlinearGram, dims: [n, n] }],
    opset,
    name: 'odemor-gram',
    doc: 'odemor: Gram matrices of sampled states and nonlinear terms',
  });
}

/** Number of solver steps for [t0, t1] with step dt: ceil((t1 − t0)/dt − 1e-9); the last step is shortened. */
export function solverSteps(t0: number, t1: number, dt: number): number {
  if (!(dt > 0) || !Number.isFinite(dt)) throw new OdemorError('MODEL', `solver.dt must be a positive number; got ${dt}`);
  if (!(t1 >= t0)) throw new OdemorError('MODEL', `solver.t1 (${t1}) must not be less than solver.t0 (${t0})`);
  return fixedStepCount(t0, t1, dt);
}

/** Start time and size of step `s` (0-based) of {@link solverSteps}, as core's driver takes it (the last step ends on t1). */
export function stepTime(t0: number, t1: number, dt: number, s: number): { t: number; h: number } {
  const t = t0 + s * dt;
  return { t, h: s === solverSteps(t0, t1, dt) - 1 ? t1 - t : dt };
}

/** Index of the sequence element fed as u(t): core's {@link coreSequenceIndex}, shared by every runtime. */
export const sequenceIndex = coreSequenceIndex;

/** Per-sample input shape of a model: `input.shape`, [steps, features] for sequences, [size] for a state input. */
export function inputShapeOf(model: ModelIR): number[] {
  return coreInputShapeOf(model);
}

/** The input signal u(t) a model's block reads (see {@link inputSignalOf}). */
export interface InputSignal {
  /** elements of the signal, fed as u(t) = u[j] for t in [t0 + j·stepDuration, t0 + (j+1)·stepDuration) (clamped) */
  steps: number;
  /** values per element (p, the columns of the block's input matrices) */
  channels: number;
  stepDuration: number;
  /** the graph input holding it: `x` (a sequence model's input is its signal) or `u` (a state input's signal) */
  source: typeof GRAPH_NAMES.input | typeof GRAPH_NAMES.u;
}

/**
 * The input signal of `model`: a sequence input's [steps, features] (read from `x`), a state input's `signal`
 * (read from the graph input `u`); undefined when the model has none.
 */
export function inputSignalOf(model: ModelIR): InputSignal | undefined {
  const inp = model.input;
  if (inp.kind === 'sequence') return { steps: inp.steps, channels: inp.features, stepDuration: inp.stepDuration, source: GRAPH_NAMES.input };
  if (inp.kind === 'state' && inp.signal) {
    const { steps, channels, stepDuration } = inp.signal;
    return { steps, channels, stepDuration, source: GRAPH_NAMES.u };
  }
  return undefined;
}

/**
 * The data inputs of the graphs {@link compileModel} (and the training lowering) emit: `x` [batch, ...inputShape],
 * then, for a state input with a signal, `u` [batch, steps, channels].
 */
export function graphInputs(model: ModelIR): ValueSpec[] {
  const inputs: ValueSpec[] = [{ name: GRAPH_NAMES.input, dims: ['batch', ...inputShapeOf(model)] }];
  const sig = inputSignalOf(model);
  if (sig?.source === GRAPH_NAMES.u) inputs.push({ name: GRAPH_NAMES.u, dims: ['batch', sig.steps, sig.channels] });
  return inputs;
}

/**
 * The ends of the integration segments: a trajectory model integrates [t0, times[0]], [times[0], times[1]], …
 * (each with steps of `dt`, the last one of each segment shortened) and outputs the state at each end; a model
 * without a readout has the one segment [t0, t1].
 */
export function segmentEnds(model: ModelIR): number[] {
  return model.readout ? [...model.readout.times] : [model.solver.t1];
}

/** Fixed solver steps over all segments of {@link segmentEnds} (what the unrolled graph holds). */
export function unrolledSteps(model: ModelIR): number {
  const { t0, dt } = model.solver;
  let from = t0;
  let steps = 0;
  for (const end of segmentEnds(model)) {
    steps += solverSteps(from, end, dt);
    from = end;
  }
  return steps;
}

/** IR paths and message label of the tensors a reduced block's pieces read (an mlp block names M and N without `.weight`). */
interface ReducedPaths {
  M: string;
  N: string;
  label: string;
}
const REDUCED_PATHS: ReducedPaths = { M: 'block.M.weight', N: 'block.N.weight', label: 'reduced block' };
const MLP_PATHS: ReducedPaths = { M: 'block.M', N: 'block.N', label: 'mlp block' };

/**
 * An mlp block x' = N σ(M x + c + Zin u) + bias as the unified reduced form with E = D = identity (the same
 * tensors, so `block.M`, `block.c`, `block.N`, `block.bias`, `block.Zin` keep their IR paths with {@link MLP_PATHS}).
 */
function mlpAsReduced(block: MlpBlock): ReducedBlock {
  const { n, m } = block;
  return {
    kind: 'reduced',
    method: 'mlp',
    n,
    k: n,
    m,
    E: { type: 'identity', size: n },
    M: { type: 'dense', weight: block.M },
    c: block.c,
    N: { type: 'dense', weight: block.N },
    ...(block.Zin ? { Zin: block.Zin } : {}),
    bias: block.bias,
    D: { type: 'identity', size: n },
    activation: block.activation,
  };
}

/**
 * Compile `model` into a serialized ONNX ModelProto with one input `x` [batch, ...inputShape] (symbolic batch;
 * for a state input with a signal also `u` [batch, steps, channels], see {@link graphInputs}) and one output
 * `logits` [batch, outputs]. Blocks: full ODE blocks, the unified reduced form (with `Zin` inside σ and a constant
 * `bias`), mlp blocks (as the reduced form with E = D = identity). A trajectory model (`readout`) integrates
 * segment by segment up to each readout time ({@link segmentEnds}) and outputs the block's states there,
 * concatenated, [batch, T·size]. With `snapshot`, also `states`/`nonlinear` [S, batch, n] (the
 * state after every `every`-th step and σ(A x + b) there; omitted when S = 0), with `snapshot.gram` the Gram
 * matrices `stateGram`/`nonlinearGram` [n, n] of those rows (also omitted when S = 0), and `final` [batch, n].
 * Adaptive methods cannot be expressed: resolve the tableau with `resolveTableau` first, which refuses them.
 * With `options.solver` a fixed-step step program (no tableau: Taylor-Lagrange) is unrolled instead, see
 * {@link CompileOptions.solver}; `remainderOutput` adds `remainderAbsMean`.
 * Errors: RUNTIME (no tableau nor step program, an adaptive step program, more than 3 time derivatives), MODEL
 * (unknown layer, shape mismatch), ARGUMENT (bad options).
 */
export function compileModel(model: ModelIR, options: CompileOptions): Uint8Array {
  return new Compiler(model, options).compile();
}

/**
 * {@link compileModel}, with the solver statistics of the unrolled solve: the right-hand-side evaluations (a
 * derivative order of a Taylor step counts as one) and steps one run of the graph makes per batch, summed over the
 * readout segments — what an executable reports as `lastStats`.
 */
export function compileModelWithStats(model: ModelIR, options: CompileOptions): { bytes: Uint8Array; stats: SolveStats } {
  const c = new Compiler(model, options);
  const bytes = c.compile();
  return { bytes, stats: { ...c.stats } };
}

/**
 * How a model tensor is laid out in the graph, relative to its IR layout (internal: the training lowering in
 * `grad/lower.ts` feeds trainable tensors as graph inputs in this layout and maps gradients back).
 * - `identity`: as in the IR;
 * - `transpose`: IR [rows, cols] → graph [cols, rows];
 * - `oihw`: a conv kernel IR [kh, kw, in, out] → graph [out, in, kh, kw];
 * - `channels-first`: `rows` NHWC-flattened [h·w·c] vectors (IR [rows·h·w·c]) → each as [c, h, w];
 * - `transpose-channels-first`: IR [h·w·c, rows] → transposed to [rows, h·w·c], each row channels-first;
 * - `antisymmetric`: IR W [n, n] → (W − Wᵀ − γI)ᵀ [n, n].
 */
export type WeightLayout =
  | { kind: 'identity' }
  | { kind: 'transpose'; rows: number; cols: number }
  | { kind: 'oihw'; kh: number; kw: number; ci: number; co: number }
  | { kind: 'channels-first'; rows: number; h: number; w: number; c: number }
  | { kind: 'transpose-channels-first'; rows: number; h: number; w: number; c: number }
  | { kind: 'antisymmetric'; n: number; gamma: number };

/**
 * Where the compiler asks for a model tensor (internal): return a graph-input name to feed the tensor at
 * `path` in `layout` with graph dims `dims`, or undefined to bake the model's values into an initializer.
 */
export type WeightHook = (path: string, layout: WeightLayout, dims: number[]) => string | undefined;

/** How a value is laid out: `flat` [B, prod(shape)], `native` [B, ...shape], `nchw` [B, c, h, w] for shape [h, w, c]. */
type Layout = 'flat' | 'native' | 'nchw';

interface Val {
  name: string;
  /** logical per-sample shape (images NHWC) */
  shape: number[];
  layout: Layout;
}

const prod = (a: number[]): number => a.reduce((p, v) => p * v, 1);

/**
 * The pieces of an ODE block the graphs are assembled from: the unrolled graph uses them all in one graph, the
 * adaptive step loop spreads them over its pre / rhs / step / post graphs. Each piece makes its weights in the
 * current graph when called.
 */
interface BlockParts {
  /** per-sample dims of the state as the graphs hold it: [n] or [k], [c, h, w] for a Conv block */
  stateDims: number[];
  /** the initial state from the block's entry (the pre layers' output); null: zeros (sequence models) */
  x0(entry: Val | null): string;
  /** the right-hand side f(t, x) (t only picks the sequence input, see `inputAt`); full blocks also give σ(A x + b) */
  rhs(): { f: (t: number, x: string) => string; sigma?: (x: string) => string };
  /** full blocks: σ(A x + b) alone (no input matrix) */
  nonlinear?: () => (x: string) => string;
  /** full blocks: the state NHWC-flattened [B, n] */
  flat?: (x: string) => string;
  /** a conv block: an NHWC-flattened [B, n] value back in the state layout [B, c, h, w]; absent: the same layout */
  unflat?: (x: string) => string;
  /** the block's output from the state at t1; `entryShape`: the logical shape of the pre layers' output */
  out(xEnd: string, entryShape: number[] | null): Val;
  /** the block as f = N σ(a) + outer terms, for its exact time derivatives (see {@link GraphField}) */
  field(): GraphField;
}

/**
 * A block's right-hand side in the unified form f(t, z) = N σ(a) + Zr u(t) + bias with a = M z + c + Zin u(t) (a
 * full block: N = I, M = A, Zr = Z; an mlp block as it is; a reduced block with its optional pieces), as node
 * builders in the block's state layout, for {@link Compiler.derivativesOf}.
 */
interface GraphField {
  /** the cache key of (t, z): z, and the input element when the field reads the input signal */
  key(t: number, z: string): string;
  /** a = M z + c (+ Zin u(t)) */
  pre(t: number, z: string): string;
  /** M v, the linear part alone (no c, no input) */
  lin(v: string): string;
  /** N s; absent: N = I */
  out?: (s: string) => string;
  /** x⁽¹⁾ = N σ(a) plus the terms outside σ (Zr u(t) or Z u(t), bias) */
  outer(t: number, nSigma: string): string;
  activation: Activation;
}

/** The placeholder tableau core's `solveWith` hands the driver for a step program (one stage, never used by the step). */
const programTableau = (order: number | undefined): ButcherTableau => ({ a: [[0]], b: [1], c: [0], order: order ?? 1 });

/** Transpose a row-major [rows, cols] matrix. */
function transpose(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** TF-style padding of one spatial dimension. */
function padding(size: number, k: number, stride: number, mode: 'same' | 'valid'): { out: number; before: number; after: number } {
  if (mode === 'valid') return { out: Math.floor((size - k) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/** [kh, kw, in, out] (tfjs) → [out, in, kh, kw] (ONNX). */
function kernelOIHW(kernel: Tensor32): { data: Float64Array; dims: number[] } {
  const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
  const out = new Float64Array(kh * kw * ci * co);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = kernel.data[((y * kw + x) * ci + i) * co + o]!;
  return { data: out, dims: [co, ci, kh, kw] };
}

/** Permute an NHWC-flattened vector [h, w, c] to NCHW order [c, h, w]. */
function toChannelsFirst(v: ArrayLike<number>, h: number, w: number, c: number): Float64Array {
  const out = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = v[(y * w + x) * c + ch]!;
  return out;
}

function expectShape(t: Tensor32 | undefined, shape: number[], what: string): Tensor32 {
  if (!t) throw new OdemorError('MODEL', `${what} is missing`);
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) && t.data.length === prod(shape);
  if (!ok) throw new OdemorError('MODEL', `${what} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`);
  return t;
}

/**
 * The compiler (internal to the package: `compileModel` and the training lowering in `grad/lower.ts` use it).
 * `weights`, when given, may turn model tensors into graph inputs; without it every tensor is an initializer.
 */
export class Compiler {
  private readonly g = new GraphBuilder();
  private readonly tableau: ButcherTableau;
  /** the fixed-step step program unrolled instead of the tableau's Runge–Kutta step (Taylor-Lagrange) */
  private readonly program: StepProgram | undefined;
  /** what the block hands every step of a step program: its exact derivatives and the midpoint Γ (see `prepareStep`) */
  private stepExtras: { derivatives: (t: number, y: string, order: number) => string[]; midpoint?: (t: number, y: string) => string } | undefined;
  /** the remainder terms R [B, ...stateDims] the step program returned, one per unrolled step */
  private readonly remainderValues: string[] = [];
  private readonly opset: number;
  private readonly every: number | undefined;
  private readonly gram: boolean = false;
  private readonly raw: boolean = true;
  private snapshot: { states: string[]; nonlinear: string[]; final: string; n: number } | undefined;
  /** the statistics of every solve unrolled into the graph (summed over readout segments) */
  readonly stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
  /** the graph value of each model tensor made so far, by IR path and layout (see `weight`) */
  private readonly made = new Map<string, string>();
  /** u [B, p] gathered per input key (see `inputTerm`) */
  private readonly gathered = new Map<number, string>();
  /** the graph inputs the weight hook named, in the order they were made: input → IR path, layout, graph dims */
  private readonly hooked = new Map<string, HookedInput>();

  constructor(
    private readonly model: ModelIR,
    private readonly options: CompileOptions,
    private readonly weights?: WeightHook,
  ) {
    this.program = resolveProgram({ ...(options?.tableau ? { tableau: options.tableau } : {}), ...(options?.solver ? { solver: options.solver } : {}) });
    if (this.program) this.tableau = programTableau(this.program.order);
    else {
      const tableau = options?.tableau ?? options?.solver?.tableau;
      if (!tableau) {
        throw new OdemorError(
          'RUNTIME',
          options?.solver
            ? `compileModel needs the Butcher tableau of a fixed-step solver or a step program: solver '${options.solver.name}' has neither`
            : 'compileModel needs the Butcher tableau of a fixed-step solver (options.tableau) or a fixed-step step program (options.solver)',
        );
      }
      validateTableau(tableau);
      checkDerivatives(options.solver);
      this.tableau = tableau;
    }
    this.opset = options.opset ?? DEFAULT_OPSET;
    if (!Number.isInteger(this.opset) || this.opset < 13 || this.opset > 21) {
      throw new OdemorError('ARGUMENT', `opset must be an integer from 13 to 21; got ${options.opset}`);
    }
    if (options.snapshot) {
      const e = options.snapshot.every;
      if (!Number.isInteger(e) || e < 1) throw new OdemorError('ARGUMENT', `snapshot.every must be a positive integer; got ${e}`);
      if (model.block.kind !== 'ode') {
        throw new OdemorError('MODEL', `snapshot outputs need a full ODE block; this model has a '${model.block.kind}' block`);
      }
      if (model.readout) throw new OdemorError('MODEL', 'snapshot outputs are not supported for a model with a trajectory readout (model.readout)');
      this.every = e;
      this.gram = options.snapshot.gram ?? false;
      this.raw = options.snapshot.raw ?? !this.gram;
    }
  }

  /** The graph builder (the training lowering appends the loss and the backward nodes to it). */
  get graph(): GraphBuilder {
    return this.g;
  }

  /** The graph inputs the weight hook named so far (input → IR path, layout, graph dims), in the order made. */
  get hookedInputs(): ReadonlyMap<string, HookedInput> {
    return this.hooked;
  }

  /**
   * The remainder terms R [B, ...stateDims] of the unrolled steps of a step program (one per step, in step order;
   * empty for a tableau, or a program that returns none), after {@link Compiler.build}.
   */
  get remainders(): readonly string[] {
    return this.remainderValues;
  }

  /** Per-sample values of one remainder term (the solver state's size; after {@link Compiler.build}). */
  get remainderSize(): number {
    return solverStateSize(this.model.block);
  }

  /** The remainder terms flattened per sample and concatenated, [B, steps · size], then |·| (after build). */
  absRemainders(): string {
    const R = this.remainderValues;
    if (!R.length) {
      const name = this.program?.name ?? this.options.solver?.name ?? this.model.solver.use;
      throw new OdemorError('MODEL', `remainderAbsMean was asked for, but solver '${name}' returns no remainder terms (a Taylor-Lagrange solver with remainder: true does)`);
    }
    const size = this.remainderSize;
    const flat = this.stateIsImage() ? R.map((r) => this.reshape(r, [size])) : R;
    return this.g.node('Abs', [flat.length === 1 ? flat[0]! : this.g.node('Concat', flat, { axis: 1 })]);
  }

  /** Whether the block state is held as an image [B, c, h, w] (a conv block without convAsDense). */
  private stateIsImage(): boolean {
    const b = this.model.block;
    return b.kind === 'ode' && b.A.type === 'conv' && !this.options.convAsDense;
  }

  compile(): Uint8Array {
    const outputs = this.build();
    return this.encode(graphInputs(this.model), outputs);
  }

  /** Serialize the graph with these inputs and outputs (the model's name and a doc string on the proto). */
  encode(inputs: ValueSpec[], outputs: ValueSpec[]): Uint8Array {
    const m = this.model;
    return this.g.encode({
      inputs,
      outputs,
      opset: this.opset,
      name: m.name ?? 'odemor-model',
      doc: `odemor model${m.name ? ` '${m.name}'` : ''}: ${m.block.kind} block, ${unrolledSteps(m)} unrolled ${this.program ? `'${this.program.name}'` : `${this.tableau.b.length}-stage`} steps${m.readout ? `, states at ${m.readout.times.length} readout times` : ''}`,
    });
  }

  /** Emit the forward graph (input `x`, output `logits` and the snapshot outputs); returns the output specs. */
  build(): ValueSpec[] {
    const m = this.model;
    const inShape = inputShapeOf(m);
    let v: Val = { name: GRAPH_NAMES.input, shape: inShape, layout: inShape.length === 1 ? 'flat' : 'native' };
    let entry: Val | null = v;
    if (m.input.kind === 'sequence') {
      if (m.pre.length > 0) throw new OdemorError('MODEL', `a model with sequence input must have no pre layers; got ${m.pre.length}`);
      entry = null;
    } else {
      if (m.input.kind === 'state' && m.pre.length > 0) {
        throw new OdemorError('MODEL', `a model with input kind 'state' must have no pre layers (a sample is the block's initial state); got ${m.pre.length}`);
      }
      m.pre.forEach((layer, i) => (v = this.layer(v, layer, `pre layer ${i}`, `pre.${i}`)));
      entry = v;
    }
    const block = m.block;
    if (block.kind === 'ode') v = this.fullBlock(block, entry);
    else if (block.kind === 'reduced') v = this.reducedBlock(block, entry, REDUCED_PATHS);
    else if (block.kind === 'mlp') v = this.reducedBlock(mlpAsReduced(block), entry, MLP_PATHS);
    else throw new OdemorError('MODEL', `unknown block kind '${(block as { kind?: unknown }).kind}'`);
    if (m.readout && m.post.length) throw new OdemorError('MODEL', `a trajectory readout outputs the block's states: post must be empty, got ${m.post.length} layers`);
    m.post.forEach((layer, i) => (v = this.layer(v, layer, `post layer ${i}`, `post.${i}`)));
    const logits = this.toFlat(v);
    if (logits.shape[0] !== m.outputs) {
      throw new OdemorError('MODEL', `the model produces ${logits.shape[0]} values per sample but declares outputs = ${m.outputs}`);
    }
    this.g.node('Identity', [logits.name], {}, GRAPH_NAMES.logits);
    const outputs: ValueSpec[] = [{ name: GRAPH_NAMES.logits, dims: ['batch', m.outputs] }];
    if (this.options.remainderOutput) {
      // the mean over steps, batch and state of |R| (ReduceMean without axes: over everything)
      this.g.node('ReduceMean', [this.absRemainders()], { keepdims: 0 }, GRAPH_NAMES.remainderAbsMean);
      outputs.push({ name: GRAPH_NAMES.remainderAbsMean, dims: [] });
    }
    if (this.snapshot) {
      const { states, nonlinear, final, n } = this.snapshot;
      const S = states.length;
      if (S > 0) {
        // [S·batch, n]: the sampled [batch, n] rows stacked step-major (row s·batch + i)
        const stack = (rows: string[]): string => (rows.length === 1 ? rows[0]! : this.g.node('Concat', rows, { axis: 0 }));
        const X = this.gram || this.raw ? stack(states) : '';
        const F = this.gram || this.raw ? stack(nonlinear) : '';
        if (this.raw) {
          this.g.node('Reshape', [X, this.g.int64([S, -1, n])], {}, GRAPH_NAMES.states);
          this.g.node('Reshape', [F, this.g.int64([S, -1, n])], {}, GRAPH_NAMES.nonlinear);
          outputs.push({ name: GRAPH_NAMES.states, dims: [S, 'batch', n] }, { name: GRAPH_NAMES.nonlinear, dims: [S, 'batch', n] });
        }
        if (this.gram) {
          // Xᵀ X in one GEMM (transA; no materialised transpose)
          this.g.node('Gemm', [X, X], { transA: 1 }, GRAPH_NAMES.stateGram);
          this.g.node('Gemm', [F, F], { transA: 1 }, GRAPH_NAMES.nonlinearGram);
          outputs.push({ name: GRAPH_NAMES.stateGram, dims: [n, n] }, { name: GRAPH_NAMES.nonlinearGram, dims: [n, n] });
        }
      }
      this.g.node('Identity', [final], {}, GRAPH_NAMES.final);
      outputs.push({ name: GRAPH_NAMES.final, dims: ['batch', n] });
    }
    return outputs;
  }

  /**
   * The model tensor at `path` as a graph value: the hook's graph input when it gives one, else a float
   * initializer `prefix` holding `data()` (the tensor already in `layout`) with dims `dims`.
   */
  private weight(path: string, layout: WeightLayout, prefix: string, data: () => ArrayLike<number>, dims: number[]): string {
    // one graph value per tensor, however often a piece asks for it (D at every readout time)
    const key = `${path}|${layout.kind}`;
    let hit = this.made.get(key);
    if (!hit) {
      const input = this.weights?.(path, layout, dims);
      if (input !== undefined && !this.hooked.has(input)) this.hooked.set(input, { path, layout, dims: [...dims] });
      this.made.set(key, (hit = input ?? this.g.float(prefix, data(), dims)));
    }
    return hit;
  }

  // ───────────── layouts ─────────────

  private reshape(name: string, dims: number[]): string {
    return this.g.node('Reshape', [name, this.g.int64([-1, ...dims])]);
  }

  private toFlat(v: Val): Val {
    if (v.layout === 'flat') return v.shape.length === 1 ? v : { ...v, shape: [prod(v.shape)] };
    const nat = this.toNative(v);
    if (nat.shape.length === 1) return { ...nat, layout: 'flat' };
    return { name: this.reshape(nat.name, [prod(nat.shape)]), shape: [prod(nat.shape)], layout: 'flat' };
  }

  private toNative(v: Val): Val {
    if (v.layout === 'native' || v.shape.length === 1) return { ...v, layout: v.shape.length === 1 ? 'flat' : 'native' };
    if (v.layout === 'nchw') return { name: this.g.node('Transpose', [v.name], { perm: [0, 2, 3, 1] }), shape: v.shape, layout: 'native' };
    return { name: this.reshape(v.name, v.shape), shape: v.shape, layout: 'native' };
  }

  private toNCHW(v: Val, where: string): Val {
    if (v.shape.length !== 3) throw new OdemorError('MODEL', `${where} needs an image [h, w, c] input; got shape [${v.shape.join(', ')}]`);
    if (v.layout === 'nchw') return v;
    const nat = this.toNative(v);
    return { name: this.g.node('Transpose', [nat.name], { perm: [0, 3, 1, 2] }), shape: v.shape, layout: 'nchw' };
  }

  // ───────────── layers ─────────────

  private act(name: string, a: Activation): string {
    switch (a) {
      case 'tanh':
        return this.g.node('Tanh', [name]);
      case 'relu':
        return this.g.node('Relu', [name]);
      case 'softplus':
        return this.g.node('Softplus', [name]);
      case 'identity':
        return name;
      default:
        throw new OdemorError('MODEL', `unknown activation '${String(a)}'; expected tanh, relu, softplus or identity`);
    }
  }

  /** x W_tᵀ for a weight stored [out, in]: MatMul with the transposed initializer. */
  private matmulT(x: string, w: Tensor32, prefix: string, path: string): string {
    const [rows, cols] = w.shape as [number, number];
    return this.g.node('MatMul', [x, this.weight(path, { kind: 'transpose', rows, cols }, prefix, () => transpose(w.data, rows, cols), [cols, rows])]);
  }

  /** Scatter the columns of [B, k] into [B, size] zeros: Pad one zero column, then Gather on axis 1. */
  private scatterCols(x: string, indices: number[], size: number, where: string): string {
    const k = indices.length;
    const map = new Array<number>(size).fill(k);
    indices.forEach((idx, i) => {
      if (!Number.isInteger(idx) || idx < 0 || idx >= size) throw new OdemorError('MODEL', `${where}: scatter index ${idx} is outside [0, ${size})`);
      if (map[idx] !== k) throw new OdemorError('MODEL', `${where}: scatter index ${idx} appears twice`);
      map[idx] = i;
    });
    const padded = this.g.node('Pad', [x, this.g.int64([0, 0, 0, 1])], { mode: 'constant' });
    return this.g.node('Gather', [padded, this.g.int64(map)], { axis: 1 });
  }

  private layer(v: Val, layer: Layer, where: string, path: string): Val {
    switch (layer.type) {
      case 'dense': {
        const x = this.toFlat(v);
        const [out, inp] = layer.weight.shape as [number, number];
        if (layer.weight.shape.length !== 2 || inp !== x.shape[0]) {
          throw new OdemorError('MODEL', `${where} (dense) has weight [${layer.weight.shape.join(', ')}] but its input has ${x.shape[0]} values`);
        }
        let y = this.matmulT(x.name, layer.weight, 'dense_w', `${path}.weight`);
        if (layer.bias) {
          const b = expectShape(layer.bias, [out], `${where} bias`);
          y = this.g.node('Add', [y, this.weight(`${path}.bias`, { kind: 'identity' }, 'dense_b', () => b.data, [out])]);
        }
        return { name: y, shape: [out], layout: 'flat' };
      }
      case 'conv2d': {
        const x = this.toNCHW(v, `${where} (conv2d)`);
        const [h, w, c] = x.shape as [number, number, number];
        const [kh, kw, ci, co] = layer.kernel.shape as [number, number, number, number];
        if (layer.kernel.shape.length !== 4 || ci !== c) {
          throw new OdemorError('MODEL', `${where} (conv2d) has kernel [${layer.kernel.shape.join(', ')}] but its input has ${c} channels`);
        }
        const py = padding(h, kh, layer.stride, layer.padding);
        const px = padding(w, kw, layer.stride, layer.padding);
        if (py.out < 1 || px.out < 1) throw new OdemorError('MODEL', `${where} (conv2d) kernel ${kh}×${kw} does not fit the ${h}×${w} input`);
        const k = kernelOIHW(layer.kernel);
        const inputs = [x.name, this.weight(`${path}.kernel`, { kind: 'oihw', kh, kw, ci, co }, 'conv_w', () => k.data, k.dims)];
        if (layer.bias) {
          const b = expectShape(layer.bias, [co], `${where} bias`);
          inputs.push(this.weight(`${path}.bias`, { kind: 'identity' }, 'conv_b', () => b.data, [co]));
        }
        const y = this.g.node('Conv', inputs, {
          kernel_shape: [kh, kw],
          strides: [layer.stride, layer.stride],
          pads: [py.before, px.before, py.after, px.after],
        });
        return { name: y, shape: [py.out, px.out, co], layout: 'nchw' };
      }
      case 'relu':
        return { ...v, name: this.g.node('Relu', [v.name]) };
      case 'tanh':
        return { ...v, name: this.g.node('Tanh', [v.name]) };
      case 'maxpool2d': {
        const x = this.toNCHW(v, `${where} (maxpool2d)`);
        const [h, w, c] = x.shape as [number, number, number];
        const py = padding(h, layer.size, layer.stride, layer.padding);
        const px = padding(w, layer.size, layer.stride, layer.padding);
        if (py.out < 1 || px.out < 1) throw new OdemorError('MODEL', `${where} (maxpool2d) window ${layer.size} does not fit the ${h}×${w} input`);
        const y = this.g.node('MaxPool', [x.name], {
          kernel_shape: [layer.size, layer.size],
          strides: [layer.stride, layer.stride],
          pads: [py.before, px.before, py.after, px.after],
        });
        return { name: y, shape: [py.out, px.out, c], layout: 'nchw' };
      }
      case 'flatten':
        return this.toFlat(v);
      case 'scatter': {
        const x = this.toFlat(v);
        if (x.shape[0] !== layer.indices.length) {
          throw new OdemorError('MODEL', `${where} (scatter) has ${layer.indices.length} indices but its input has ${x.shape[0]} values`);
        }
        return { name: this.scatterCols(x.name, layer.indices, layer.size, where), shape: [layer.size], layout: 'flat' };
      }
      default:
        throw new OdemorError('MODEL', `${where} has unknown type '${(layer as { type?: unknown }).type}'`);
    }
  }

  // ───────────── blocks ─────────────

  /** Zeros [B, ...dims] with the batch size of the graph input. */
  private zeros(dims: number[]): string {
    const batch = this.g.node('Slice', [this.g.node('Shape', [GRAPH_NAMES.input]), this.g.int64([0]), this.g.int64([1])]);
    const shape = this.g.node('Concat', [batch, this.g.int64(dims)], { axis: 0 });
    return this.g.node('ConstantOfShape', [shape], { value: { tensor: { dataType: 1, dims: [1], floatData: [0] } } });
  }

  /** Block input as [B, n] (flat) or, for `nchw`, [B, c, h, w]. */
  private blockEntry(entry: Val, n: number, nchw?: { h: number; w: number; c: number }): Val {
    if (prod(entry.shape) !== n) {
      throw new OdemorError('MODEL', `the ODE block has state size ${n} but the layers before it produce [${entry.shape.join(', ')}] = ${prod(entry.shape)} values`);
    }
    if (!nchw) return this.toFlat(entry);
    const logical = [nchw.h, nchw.w, nchw.c];
    const same = entry.shape.length === 3 && entry.shape.every((d, i) => d === logical[i]);
    // a flat [B, n] value relabelled with the block's logical shape is reshaped to [B, h, w, c] by toNCHW
    return this.toNCHW(same ? entry : { ...this.toFlat(entry), shape: logical }, 'the convolutional ODE block');
  }

  /**
   * Where the input u for time t comes from: a cache key and the node builder of u [B, p]. The unrolled graph
   * gathers element `sequenceIndex(t)` of the signal's graph input (`x` for a sequence model, `u` for a state input
   * with a signal; key: the element); the adaptive step graphs replace this with a gather at a stage index fed by
   * the caller (see {@link Compiler.adaptivePart}).
   */
  private inputAt = (t: number): { key: number; u: () => string } => {
    const sig = inputSignalOf(this.model);
    if (!sig) throw new OdemorError('MODEL', 'the block reads an input signal but the model has none (unreachable after the checks)');
    const j = sequenceIndex(t, this.model.solver.t0, sig.stepDuration, sig.steps);
    return { key: j, u: () => this.g.node('Gather', [sig.source, this.g.int64([j], [])], { axis: 1 }) };
  };

  /** The model's input signal, or a MODEL error naming `what` (a block input matrix) when it has none. */
  private signalFor(what: string): InputSignal {
    const sig = inputSignalOf(this.model);
    if (!sig) {
      throw new OdemorError('MODEL', `${what} is given but the model has no input signal (neither a sequence input nor a state input with a signal)`);
    }
    return sig;
  }

  /** Input u for the stage at time t, multiplied into a state or hidden space ([B, ·] or [B, c, h, w]), cached by key. */
  private inputTerm(cache: Map<number, string>, t: number, ZT: string, reshapeTo?: number[]): string {
    const { key, u } = this.inputAt(t);
    let hit = cache.get(key);
    if (!hit) {
      let ut = this.gathered.get(key);
      if (!ut) this.gathered.set(key, (ut = u()));
      hit = this.g.node('MatMul', [ut, ZT]);
      if (reshapeTo) hit = this.reshape(hit, reshapeTo);
      cache.set(key, hit);
    }
    return hit;
  }

  /**
   * The solver algebra of graph values: `axpy` and `combine` emit Add/Mul nodes (a weight of 1 needs no Mul),
   * values are immutable names (clone and dispose are no-ops), and nothing is known to be finite before the
   * graph runs. Adaptive control needs the values and is refused.
   */
  private algebra(): SolverAlgebra<string> {
    const g = this.g;
    const term = (k: string, w: number) => (w === 1 ? k : g.node('Mul', [k, g.scalar(w)]));
    return {
      scope: (fn) => fn(),
      axpy(y, w, k) {
        let acc = y;
        for (let j = 0; j < w.length; j++) if (w[j] !== 0) acc = g.node('Add', [acc, term(k[j]!, w[j]!)]);
        return acc;
      },
      combine(w, k) {
        let acc: string | undefined;
        for (let j = 0; j < w.length; j++) if (w[j] !== 0) acc = acc === undefined ? term(k[j]!, w[j]!) : g.node('Add', [acc, term(k[j]!, w[j]!)]);
        return acc ?? g.node('Mul', [k[0]!, g.scalar(0)]);
      },
      errorRatio() {
        throw new OdemorError('RUNTIME', adaptiveMessage('an adaptive solver'));
      },
      allFinite: () => undefined,
      clone: (y) => y,
      dispose: () => {},
      mul: (a, b) => g.node('Mul', [a, b]),
    };
  }

  /**
   * Unroll the solver with core's driver (the same step count, last-step shortening and stage times as every
   * runtime) over the graph algebra. `f(t, x)` builds the right-hand side; `sample(x)` is called on the state
   * after every `every`-th step when snapshots are asked.
   */
  private unroll(x0: string, f: (t: number, x: string) => string, sample?: (x: string) => void): string {
    const { t0, t1 } = this.model.solver;
    return this.unrollSpan(x0, f, t0, t1, sample);
  }

  /**
   * The states at every readout time: the solver unrolled over [t0, times[0]], [times[0], times[1]], … in turn,
   * each segment with steps of `dt` and its last step shortened to land on its end (core's driver per segment).
   */
  private unrollReadout(x0: string, f: (t: number, x: string) => string): string[] {
    const { t0, t1, dt } = this.model.solver;
    solverSteps(t0, t1, dt);
    const states: string[] = [];
    let from = t0;
    let x = x0;
    for (const end of segmentEnds(this.model)) {
      x = this.unrollSpan(x, f, from, end);
      states.push(x);
      from = end;
    }
    return states;
  }

  /** The solver unrolled over [t0, t1] from x0 (see {@link Compiler.unroll}). */
  private unrollSpan(x0: string, f: (t: number, x: string) => string, t0: number, t1: number, sample?: (x: string) => void): string {
    const { dt } = this.model.solver;
    solverSteps(t0, t1, dt); // MODEL errors for a bad dt or span, naming the model's solver keys
    const every = sample ? this.every : undefined;
    const program = this.program;
    const extras = this.stepExtras;
    const res = integrate(this.algebra(), this.tableau, x0, {
      t0,
      t1,
      dt,
      adaptive: false,
      rtol: RK_DEFAULTS.rtol,
      atol: RK_DEFAULTS.atol,
      maxSteps: program?.maxSteps ?? RK_DEFAULTS.maxSteps,
      f,
      ...(every ? { onStep: (_t: number, _h: number, index: number, x: string) => void ((index + 1) % every === 0 && sample!(x)) } : {}),
      // a step program (Taylor-Lagrange) replaces the tableau's step; it gets the block's derivatives and Γ
      ...(program ? { step: program.step.bind(program) } : {}),
      ...(extras ? { derivatives: extras.derivatives, ...(extras.midpoint ? { midpoint: extras.midpoint } : {}) } : {}),
      onRemainder: (r: string) => void this.remainderValues.push(r),
      name: program?.name ?? this.model.solver.use,
    });
    this.stats.nfe += res.stats.nfe;
    this.stats.accepted += res.stats.accepted;
    this.stats.rejected += res.stats.rejected;
    return res.y;
  }

  /**
   * What a step program gets besides f (only when the solver is one, or declares `derivatives`): the block's exact
   * time derivatives ({@link Compiler.derivativesOf}, built on the first request) and the model's midpoint
   * network Γ ({@link Compiler.midpointOf}), both memoised per graph value.
   */
  private prepareStep(parts: BlockParts): void {
    if (!this.program && !this.options.solver?.derivatives) return;
    let derive: ((t: number, y: string, order: number) => string[]) | undefined;
    const derivatives = (t: number, y: string, order: number): string[] => (derive ??= this.derivativesOf(parts.field()))(t, y, order);
    const mp = this.model.midpoint;
    this.stepExtras = { derivatives, ...(mp ? { midpoint: this.midpointOf(mp, parts) } : {}) };
  }

  /**
   * σ'(a) and σ''(a) as graph values from the pre-activation `a` and s = σ(a); undefined stands for the constant 1
   * (σ') or 0 (σ''), as runtime-tfjs's `activationDerivatives`: tanh σ' = 1 − s², σ'' = −2 s (1 − s²); relu
   * σ' = [a > 0] = sign(s) (no gradient flows through it: relu'' = 0 a.e.), σ'' = 0; softplus σ' = sigmoid(a),
   * σ'' = sigmoid(a)(1 − sigmoid(a)); identity σ' = 1, σ'' = 0.
   */
  private activationDerivatives(activation: Activation, a: string, s: string): { d1?: string; d2?: string } {
    const g = this.g;
    switch (activation) {
      case 'tanh': {
        const d1 = g.node('Sub', [g.scalar(1), g.node('Mul', [s, s])]);
        return { d1, d2: g.node('Mul', [g.node('Mul', [s, d1]), g.scalar(-2)]) };
      }
      case 'relu':
        return { d1: g.node('Sign', [s]) };
      case 'softplus': {
        const sg = g.node('Sigmoid', [a]);
        return { d1: sg, d2: g.node('Mul', [sg, g.node('Sub', [g.scalar(1), sg])]) };
      }
      case 'identity':
        return {};
      default:
        throw new OdemorError('MODEL', `unknown activation '${String(activation)}'; expected tanh, relu, softplus or identity`);
    }
  }

  /**
   * The exact time derivatives of the solution through (t, z) of a block f = N σ(a) + Zr u + bias, a = M z + c + Zin u
   * (u piecewise constant: ∂u/∂t = 0 inside a step), in closed form as graph nodes:
   *
   *   x⁽¹⁾ = f,   x⁽²⁾ = N(σ'(a) ⊙ M x⁽¹⁾),   x⁽³⁾ = N(σ''(a) ⊙ (M x⁽¹⁾)² + σ'(a) ⊙ M x⁽²⁾)
   *
   * `(t, z, order) → [x⁽¹⁾, …, x⁽ᵒʳᵈᵉʳ⁾]`, order 1 to {@link MAX_DERIVATIVE_ORDER}; memoised per (z, input element),
   * a higher order extends the cached lower ones. Standard ops only, so the training lowering differentiates them.
   */
  private derivativesOf(F: GraphField): (t: number, z: string, order: number) => string[] {
    const g = this.g;
    const N = (v: string): string => (F.out ? F.out(v) : v);
    interface Entry {
      a: string;
      s: string;
      xs: string[];
      d1?: string;
      d2?: string;
      v1?: string;
    }
    const cache = new Map<string, Entry>();
    return (t, z, order) => {
      if (!(Number.isInteger(order) && order >= 1 && order <= MAX_DERIVATIVE_ORDER)) {
        throw new OdemorError('ARGUMENT', `derivatives: order must be an integer from 1 to ${MAX_DERIVATIVE_ORDER} (the onnx compiler's closed forms), got ${String(order)}`);
      }
      const key = F.key(t, z);
      let e = cache.get(key);
      if (!e) {
        const a = F.pre(t, z);
        const s = this.act(a, F.activation);
        e = { a, s, xs: [F.outer(t, N(s))] };
        cache.set(key, e);
      }
      if (order >= 2 && e.xs.length < 2) {
        const { d1, d2 } = this.activationDerivatives(F.activation, e.a, e.s);
        if (d1) e.d1 = d1;
        if (d2) e.d2 = d2;
        const v1 = (e.v1 = F.lin(e.xs[0]!));
        e.xs.push(N(d1 ? g.node('Mul', [d1, v1]) : v1));
      }
      if (order >= 3 && e.xs.length < 3) {
        const v1 = e.v1!;
        const v2 = F.lin(e.xs[1]!);
        let w = e.d1 ? g.node('Mul', [e.d1, v2]) : v2;
        if (e.d2) w = g.node('Add', [w, g.node('Mul', [e.d2, g.node('Mul', [v1, v1])])]);
        e.xs.push(N(w));
      }
      return e.xs.slice(0, order);
    };
  }

  /**
   * The model's midpoint network Γ(y) as a node builder (memoised per value): its layers (`midpoint.layers.i`, dense,
   * relu, tanh) on the solver state [B, s]; a conv block's state is NHWC-flattened for the layers and laid out
   * back as [B, c, h, w] (the IR's midpoint maps the flattened state, as runtime-tfjs applies it). No layers: Γ(y) = y
   * (as runtime-tfjs).
   */
  private midpointOf(mp: MidpointNet, parts: BlockParts): (t: number, y: string) => string {
    const size = prod(parts.stateDims);
    const cache = new Map<string, string>();
    return (_t, y) => {
      let hit = cache.get(y);
      if (hit) return hit;
      if (!mp.layers.length) hit = y;
      else {
        let v: Val = { name: parts.flat ? parts.flat(y) : y, shape: [size], layout: 'flat' };
        mp.layers.forEach((layer, i) => {
          if (layer.type !== 'dense' && layer.type !== 'relu' && layer.type !== 'tanh') {
            throw new OdemorError('MODEL', `midpoint layer ${i}: a midpoint network has dense, relu and tanh layers, got '${layer.type}'`);
          }
          v = this.layer(v, layer, `midpoint layer ${i}`, `midpoint.layers.${i}`);
        });
        const out = this.toFlat(v);
        if (out.shape[0] !== size) throw new OdemorError('MODEL', `the midpoint layers map the state of ${size} values to ${out.shape[0]}; they must give the state size`);
        hit = parts.unflat ? parts.unflat(out.name) : out.name;
      }
      cache.set(y, hit);
      return hit;
    };
  }

  /**
   * The graph algebra of the adaptive step graphs: the step size is the graph input `h`, so `axpy(y, w, k)` emits
   * `y + h · Σ w_j k_j` (rkStep runs with h = 1; zero weights skipped, a weight of 1 without Mul).
   */
  private stepAlgebra(): SolverAlgebra<string> {
    const g = this.g;
    const h = ADAPTIVE_GRAPH_NAMES.h;
    const sum = (w: readonly number[], k: readonly string[]): string | undefined => {
      let acc: string | undefined;
      for (let j = 0; j < w.length; j++) {
        if (w[j] === 0) continue;
        const term = w[j] === 1 ? k[j]! : g.node('Mul', [k[j]!, g.scalar(w[j]!)]);
        acc = acc === undefined ? term : g.node('Add', [acc, term]);
      }
      return acc;
    };
    return {
      scope: (fn) => fn(),
      axpy: (y, w, k) => {
        const acc = sum(w, k);
        return acc === undefined ? y : g.node('Add', [y, g.node('Mul', [acc, h])]);
      },
      combine: (w, k) => {
        const acc = sum(w, k);
        return acc === undefined ? g.node('Mul', [k[0]!, g.scalar(0)]) : g.node('Mul', [acc, h]);
      },
      errorRatio() {
        throw new OdemorError('RUNTIME', 'the step graph reduces the error in-graph (unreachable)');
      },
      allFinite: () => undefined,
      clone: (y) => y,
      dispose: () => {},
    };
  }

  /**
   * Emit and serialize one graph of the adaptive step loop (internal: {@link compileAdaptive} assembles them;
   * names in {@link ADAPTIVE_GRAPH_NAMES}). `entryShape` is the logical shape of the pre layers' output (the pre
   * graph returns it; the post graph needs it to lay out the block's output for its layers).
   */
  adaptivePart(part: AdaptivePart, entryShape: number[] | null): { bytes: Uint8Array; entryShape: number[] | null; stateDims: number[] } {
    const r = this.adaptiveGraph(part, entryShape);
    return { bytes: this.encodePart(part, [...r.inputs, ...this.hookInputSpecs()], r.outputs), entryShape: r.entryShape, stateDims: r.stateDims };
  }

  /** The weight hook's graph inputs as value specs (after {@link Compiler.adaptiveGraph}). */
  hookInputSpecs(): ValueSpec[] {
    return [...this.hooked].map(([name, h]) => ({ name, dims: h.dims }));
  }

  /** Serialize one graph of the adaptive loop (or of its training) with these inputs and outputs. */
  encodePart(part: string, inputs: ValueSpec[], outputs: ValueSpec[]): Uint8Array {
    const m = this.model;
    return this.g.encode({
      inputs,
      outputs,
      opset: this.opset,
      name: `${m.name ?? 'odemor-model'}-${part}`,
      doc: `odemor model${m.name ? ` '${m.name}'` : ''}: the '${part}' graph of an adaptive ${this.tableau.b.length}-stage solve (${m.block.kind} block)`,
    });
  }

  /**
   * Emit one graph of the adaptive step loop into this compiler's builder without serializing it: its data inputs
   * and outputs (the weight hook's inputs are in {@link Compiler.hookedInputs}); the training program appends its
   * backward nodes before encoding ({@link Compiler.encodePart}).
   */
  adaptiveGraph(part: AdaptivePart, entryShape: number[] | null): { inputs: ValueSpec[]; outputs: ValueSpec[]; entryShape: number[] | null; stateDims: number[] } {
    if (this.program) throw new OdemorError('RUNTIME', adaptiveMessage(this.program.name));
    const m = this.model;
    const N = ADAPTIVE_GRAPH_NAMES;
    const block = m.block;
    let parts: BlockParts;
    if (block.kind === 'ode') parts = this.fullParts(block);
    else if (block.kind === 'reduced') parts = this.reducedParts(block, REDUCED_PATHS);
    else if (block.kind === 'mlp') parts = this.reducedParts(mlpAsReduced(block), MLP_PATHS);
    else throw new OdemorError('MODEL', `unknown block kind '${(block as { kind?: unknown }).kind}'`);
    const dims = ['batch', ...parts.stateDims];
    const sig = inputSignalOf(m);
    const inputs: ValueSpec[] = [];
    const outputs: ValueSpec[] = [];
    const output = (value: string, name: string, d: (number | string)[]) => {
      this.g.node('Identity', [value], {}, name);
      outputs.push({ name, dims: d });
    };
    const g = this.g;
    /** u [B, p] at the stage whose index is entry `i` of the uIndex input */
    const stageInput = (i: number) => () => g.node('Gather', [N.u, g.node('Gather', [N.uIndex, g.int64([i], [])], { axis: 0 })], { axis: 1 });
    const sequenceInputs = (stages: number) => {
      if (sig) inputs.push({ name: N.u, dims: ['batch', sig.steps, sig.channels] }, { name: N.uIndex, dims: [stages], type: 'int64' });
    };
    switch (part) {
      case 'pre': {
        const inShape = inputShapeOf(m);
        let v: Val = { name: N.input, shape: inShape, layout: inShape.length === 1 ? 'flat' : 'native' };
        m.pre.forEach((layer, i) => (v = this.layer(v, layer, `pre layer ${i}`, `pre.${i}`)));
        inputs.push({ name: N.input, dims: ['batch', ...inShape] });
        output(parts.x0(v), N.x0, dims);
        entryShape = v.shape;
        break;
      }
      case 'rhs': {
        inputs.push({ name: N.state, dims });
        sequenceInputs(1);
        this.inputAt = () => ({ key: 0, u: stageInput(0) });
        output(parts.rhs().f(0, N.state), N.k, dims);
        break;
      }
      case 'step': {
        const tableau = this.tableau;
        const bHat = tableau.bHat!;
        const fsal = isFsal(tableau);
        inputs.push({ name: N.state, dims }, { name: N.k1, dims }, { name: N.h, dims: [] }, { name: N.rtol, dims: [] }, { name: N.atol, dims: [] });
        sequenceInputs(tableau.b.length);
        // rkStep runs with t = 0, h = 1, so a stage's time is its c_i: the stage index whose uIndex entry to gather
        this.inputAt = (t) => {
          const i = tableau.c.indexOf(t);
          return { key: i, u: stageInput(i) };
        };
        const { f } = parts.rhs();
        const alg = this.stepAlgebra();
        const ks: string[] = [N.k1];
        const out = rkStep(alg, tableau, (t, x) => {
          const k = f(t, x);
          ks.push(k);
          return k;
        }, 0, N.state, 1, { k1: N.k1, fsal });
        // embedded error e = h Σ (b_j − bHat_j) k_j, scaled by atol + rtol·max(|y|, |y1|), squared and summed per sample
        const e = alg.combine(tableau.b.map((v, j) => v - bHat[j]!), ks);
        const scale = g.node('Add', [N.atol, g.node('Mul', [N.rtol, g.node('Max', [g.node('Abs', [N.state]), g.node('Abs', [out.y1])])])]);
        const q = g.node('Div', [e, scale]);
        let sq = g.node('Mul', [q, q]);
        if (parts.stateDims.length > 1) sq = this.reshape(sq, [prod(parts.stateDims)]);
        const errSq = g.node('ReduceSum', [sq, g.int64([1])], { keepdims: 0 });
        output(out.y1, N.y1, dims);
        if (fsal) output(out.kLast!, N.kLast, dims);
        output(errSq, N.errSq, ['batch']);
        break;
      }
      case 'stepmap': {
        // training: y1 = Φ(y, h) = y + h Σ b_j k_j, all stages in the graph (k1 too: a pure function of y), no error
        const tableau = stepMapTableau(this.tableau);
        inputs.push({ name: N.state, dims }, { name: N.h, dims: [] });
        sequenceInputs(tableau.b.length);
        this.inputAt = (t) => {
          const i = tableau.c.indexOf(t);
          return { key: i, u: stageInput(i) };
        };
        const { f } = parts.rhs();
        const out = rkStep(this.stepAlgebra(), tableau, f, 0, N.state, 1, { fsal: false });
        output(out.y1, N.y1, dims);
        break;
      }
      case 'post': {
        inputs.push({ name: N.state, dims });
        if (m.readout) {
          // the block's output at one readout time; the loop concatenates them
          const v = this.toFlat(parts.out(N.state, null));
          output(v.name, N.logits, ['batch', v.shape[0]!]);
          break;
        }
        let v = parts.out(N.state, entryShape);
        m.post.forEach((layer, i) => (v = this.layer(v, layer, `post layer ${i}`, `post.${i}`)));
        const logits = this.toFlat(v);
        if (logits.shape[0] !== m.outputs) {
          throw new OdemorError('MODEL', `the model produces ${logits.shape[0]} values per sample but declares outputs = ${m.outputs}`);
        }
        output(logits.name, N.logits, ['batch', m.outputs]);
        break;
      }
      case 'sample': {
        if (!parts.nonlinear || !parts.flat) throw new OdemorError('MODEL', `snapshot passes need a full ODE block; this model has a '${block.kind}' block`);
        inputs.push({ name: N.state, dims });
        const sigma = parts.nonlinear();
        output(parts.flat(N.state), N.states, ['batch', block.n]);
        output(parts.flat(sigma(N.state)), N.nonlinear, ['batch', block.n]);
        break;
      }
    }
    return { inputs, outputs, entryShape, stateDims: parts.stateDims };
  }

  private fullBlock(block: OdeBlock, entry: Val | null): Val {
    const parts = this.fullParts(block);
    // (weights first, then the entry: the order of the graph inputs the training lowering makes)
    const { f, sigma } = parts.rhs();
    const x0 = parts.x0(entry);
    this.prepareStep(parts);
    if (this.model.readout) return this.readout(parts, x0, f);
    const states: string[] = [];
    const nonlinear: string[] = [];
    const flatState = parts.flat!;
    const xEnd = this.unroll(x0, f, this.every ? (x) => (states.push(flatState(x)), nonlinear.push(flatState(sigma!(x)))) : undefined);
    if (this.every) this.snapshot = { states, nonlinear, final: flatState(xEnd), n: block.n };
    return parts.out(xEnd, entry ? entry.shape : null);
  }

  /** The pieces of a full ODE block (see {@link BlockParts}). */
  private fullParts(block: OdeBlock): BlockParts {
    const n = block.n;
    const A = block.A;
    const conv = A.type === 'conv' && !this.options.convAsDense ? A : undefined;
    const img = A.type === 'conv' ? { h: A.height, w: A.width, c: A.channels } : undefined;
    if (img && img.h * img.w * img.c !== n) throw new OdemorError('MODEL', `conv block ${img.h}×${img.w}×${img.c} does not match n = ${n}`);
    const stateDims = conv ? [img!.c, img!.h, img!.w] : [n];

    /** A x (a node builder) and b, made on the first call */
    let affineMade: { linear: (x: string) => string; bias: string } | undefined;
    const affine = (): { linear: (x: string) => string; bias: string } => {
      if (affineMade) return affineMade;
      // A x as a node builder
      let linear: (x: string) => string;
      if (conv) {
        const [kh, kw] = conv.kernel.shape as [number, number];
        expectShape(conv.kernel, [kh, kw, conv.channels, conv.channels], 'block conv kernel');
        const k = kernelOIHW(conv.kernel);
        const C = conv.channels;
        const W = this.weight('block.A.kernel', { kind: 'oihw', kh, kw, ci: C, co: C }, 'block_k', () => k.data, k.dims);
        const pads = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), kh - 1 - Math.floor((kh - 1) / 2), kw - 1 - Math.floor((kw - 1) / 2)];
        linear = (x) => this.g.node('Conv', [x, W], { kernel_shape: [kh, kw], strides: [1, 1], pads });
      } else {
        let AW: string;
        if (A.type === 'dense') {
          const AT = transpose(expectShape(A.weight, [n, n], 'block matrix A').data, n, n);
          AW = this.weight('block.A.weight', { kind: 'transpose', rows: n, cols: n }, 'block_AT', () => AT, [n, n]);
        } else if (A.type === 'antisymmetric' || A.type === 'conv') {
          if (A.type === 'antisymmetric') expectShape(A.weight, [n, n], 'antisymmetric block weight');
          else expectShape(A.kernel, [A.kernel.shape[0]!, A.kernel.shape[1]!, A.channels, A.channels], 'block conv kernel');
          // W − Wᵀ − γI, or the dense Toeplitz matrix of the convolution (core's denseA), stored [in, out] for x Aᵀ
          const AT = transpose(denseA(block), n, n);
          // (convAsDense bakes the Toeplitz matrix: its kernel cannot be a graph input)
          AW = A.type === 'antisymmetric'
            ? this.weight('block.A.weight', { kind: 'antisymmetric', n, gamma: A.gamma }, 'block_AT', () => AT, [n, n])
            : this.g.float('block_AT', AT, [n, n]);
        } else {
          throw new OdemorError('MODEL', `unknown block matrix type '${(A as { type?: unknown }).type}'`);
        }
        linear = (x) => this.g.node('MatMul', [x, AW]);
      }
      const bData = expectShape(block.b, [n], 'block bias b').data;
      const bias = this.weight(
        'block.b',
        conv ? { kind: 'channels-first', rows: 1, ...img! } : { kind: 'identity' },
        'block_b',
        () => (conv ? toChannelsFirst(bData, img!.h, img!.w, img!.c) : bData),
        stateDims,
      );
      return (affineMade = { linear, bias });
    };

    /** σ(A x + b) as a node builder, memoised per value; the weights A and b are made on the first call */
    const nonlinear = (): ((x: string) => string) => {
      const { linear, bias } = affine();
      const sigmaCache = new Map<string, string>();
      return (x: string): string => {
        let hit = sigmaCache.get(x);
        if (!hit) sigmaCache.set(x, (hit = this.act(this.g.node('Add', [linear(x), bias]), block.activation)));
        return hit;
      };
    };

    /** Zᵀ [p, n] (channels-first rows for a conv block), made on the first call; undefined without Z */
    let inputMade: { ZW?: string } | undefined;
    const inputMatrix = (): string | undefined => {
      if (inputMade) return inputMade.ZW;
      if (!block.Z) {
        inputMade = {};
        return undefined;
      }
      const p = this.signalFor('the ODE block input matrix Z').channels;
      const Z = expectShape(block.Z, [n, p], 'block input matrix Z');
      let ZT = transpose(Z.data, n, p); // [p, n]
      if (conv) {
        const perm = new Float64Array(p * n);
        for (let r = 0; r < p; r++) perm.set(toChannelsFirst(ZT.subarray(r * n, (r + 1) * n), img!.h, img!.w, img!.c), r * n);
        ZT = perm;
      }
      const ZW = this.weight(
        'block.Z',
        conv ? { kind: 'transpose-channels-first', rows: p, ...img! } : { kind: 'transpose', rows: n, cols: p },
        'block_ZT',
        () => ZT,
        [p, n],
      );
      return (inputMade = { ZW }).ZW;
    };
    /** Z u(t) per input element (shared by f and the derivatives) */
    const inputCache = new Map<number, string>();

    const rhs = () => {
      const sigma = nonlinear();
      let f = (_t: number, x: string): string => sigma(x);
      const ZW = inputMatrix();
      if (ZW) f = (t, x) => this.g.node('Add', [sigma(x), this.inputTerm(inputCache, t, ZW, conv ? stateDims : undefined)]);
      return { f, sigma };
    };

    /** f = σ(A x + b) + Z u(t): M = A, N = I, the input outside σ */
    const field = (): GraphField => {
      const { linear, bias } = affine();
      const ZW = inputMatrix();
      return {
        key: (t, x) => (ZW ? `${x}@${this.inputAt(t).key}` : x),
        pre: (_t, x) => this.g.node('Add', [linear(x), bias]),
        lin: linear,
        outer: (t, s) => (ZW ? this.g.node('Add', [s, this.inputTerm(inputCache, t, ZW, conv ? stateDims : undefined)]) : s),
        activation: block.activation,
      };
    };

    return {
      stateDims,
      x0: (entry) => (entry ? this.blockEntry(entry, n, conv ? img : undefined).name : this.zeros(stateDims)),
      rhs,
      nonlinear,
      field,
      // state as NHWC-flattened [B, n]
      flat: (x) => (conv ? this.reshape(this.g.node('Transpose', [x], { perm: [0, 2, 3, 1] }), [n]) : x),
      ...(conv ? { unflat: (x: string) => this.g.node('Transpose', [this.reshape(x, [img!.h, img!.w, img!.c])], { perm: [0, 3, 1, 2] }) } : {}),
      out: (xEnd, entryShape) => {
        if (conv) return { name: xEnd, shape: [img!.h, img!.w, img!.c], layout: 'nchw' };
        return { name: xEnd, shape: entryShape && prod(entryShape) === n ? [...entryShape] : [n], layout: 'flat' };
      },
    };
  }

  private linearMap(x: string, map: LinearMap, rows: number, cols: number, what: string, path: string): string {
    switch (map.type) {
      case 'identity':
        if (map.size !== cols || rows !== cols) throw new OdemorError('MODEL', `${what} is the identity of size ${map.size} but maps ${cols} → ${rows}`);
        return x;
      case 'dense':
        return this.matmulT(x, expectShape(map.weight, [rows, cols], what), 'map', path);
      case 'select':
        if (map.from !== cols || map.indices.length !== rows) {
          throw new OdemorError('MODEL', `${what} selects ${map.indices.length} of ${map.from} but maps ${cols} → ${rows}`);
        }
        for (const i of map.indices) if (!Number.isInteger(i) || i < 0 || i >= cols) throw new OdemorError('MODEL', `${what}: select index ${i} is outside [0, ${cols})`);
        return this.g.node('Gather', [x, this.g.int64(map.indices)], { axis: 1 });
      case 'scatter':
        if (map.to !== rows || map.indices.length !== cols) {
          throw new OdemorError('MODEL', `${what} scatters ${map.indices.length} into ${map.to} but maps ${cols} → ${rows}`);
        }
        return this.scatterCols(x, map.indices, map.to, what);
      default:
        throw new OdemorError('MODEL', `${what} has unknown type '${(map as { type?: unknown }).type}'`);
    }
  }

  private reducedBlock(block: ReducedBlock, entry: Val | null, paths: ReducedPaths): Val {
    const parts = this.reducedParts(block, paths);
    // (E first, then the rhs weights, then D: the order of the graph inputs the training lowering makes)
    const z0 = parts.x0(entry);
    const { f } = parts.rhs();
    this.prepareStep(parts);
    if (this.model.readout) return this.readout(parts, z0, f);
    const zEnd = this.unroll(z0, f);
    return parts.out(zEnd, entry ? entry.shape : null);
  }

  /**
   * A trajectory readout: the block's output (D z for a reduced block) at every readout time, flattened and
   * concatenated, [B, T·size] (row-major [T, size] per sample).
   */
  private readout(parts: BlockParts, x0: string, f: (t: number, x: string) => string): Val {
    const outs = this.unrollReadout(x0, f).map((x) => this.toFlat(parts.out(x, null)));
    const size = outs[0]!.shape[0]!;
    const name = outs.length === 1 ? outs[0]!.name : this.g.node('Concat', outs.map((o) => o.name), { axis: 1 });
    return { name, shape: [outs.length * size], layout: 'flat' };
  }

  /** The pieces of a reduced block, or of an mlp block as one (see {@link BlockParts}, {@link mlpAsReduced}). */
  private reducedParts(block: ReducedBlock, paths: ReducedPaths = REDUCED_PATHS): BlockParts {
    const { k, m } = block;
    const label = paths.label;
    // E's input size: n, or k when APoZ folded E into the layer before (E = identity of size k)
    const eIn = blockInputSize(block);
    const x0 = (entry: Val | null) =>
      entry ? this.linearMap(this.blockEntry(entry, eIn).name, block.E, k, eIn, `${label} E`, 'block.E.weight') : this.zeros([k]);

    /** The block's weights as graph values (node builders for M z), made on the first call. */
    interface ReducedWeights {
      inner: (z: string) => string;
      c: string;
      NT?: string;
      ZinT?: string;
      ZrW?: string;
      bias?: string;
    }
    let made: ReducedWeights | undefined;
    const weights = (): ReducedWeights => {
      if (made) return made;
      let inner: (z: string) => string;
      if (block.M.type === 'dense') {
        const W = expectShape(block.M.weight, [m, k], `${label} M`);
        const MT = this.weight(paths.M, { kind: 'transpose', rows: m, cols: k }, 'M_T', () => transpose(W.data, m, k), [k, m]);
        inner = (z) => this.g.node('MatMul', [z, MT]);
      } else if (block.M.type === 'factored') {
        const r = block.M.left.shape[1]!;
        const left = expectShape(block.M.left, [m, r], `${label} M.left`);
        const L = this.weight('block.M.left', { kind: 'transpose', rows: m, cols: r }, 'M_leftT', () => transpose(left.data, m, r), [r, m]);
        const right = expectShape(block.M.right, [r, k], `${label} M.right`);
        const R = this.weight('block.M.right', { kind: 'transpose', rows: r, cols: k }, 'M_rightT', () => transpose(right.data, r, k), [k, r]);
        inner = (z) => this.g.node('MatMul', [this.g.node('MatMul', [z, R]), L]);
      } else {
        throw new OdemorError('MODEL', `${label} M has unknown type '${(block.M as { type?: unknown }).type}'`);
      }
      const cData = expectShape(block.c, [m], `${label} c`).data;
      const c = this.weight('block.c', { kind: 'identity' }, 'c', () => cData, [m]);
      let NT: string | undefined;
      if (block.N.type === 'dense') {
        const N = expectShape(block.N.weight, [k, m], `${label} N`);
        NT = this.weight(paths.N, { kind: 'transpose', rows: k, cols: m }, 'N_T', () => transpose(N.data, k, m), [m, k]);
      }
      else if (block.N.size !== m || m !== k) throw new OdemorError('MODEL', `${label} N is the identity of size ${block.N.size} but m = ${m}, k = ${k}`);
      // Zin u(t) inside σ: the nonlinear term then depends on t through the input element
      let ZinT: string | undefined;
      if (block.Zin) {
        const p = this.signalFor(`the ${label}'s input matrix Zin`).channels;
        const Zin = expectShape(block.Zin, [m, p], `${label} Zin`);
        ZinT = this.weight('block.Zin', { kind: 'transpose', rows: m, cols: p }, 'Zin_T', () => transpose(Zin.data, m, p), [p, m]);
      }
      let ZrW: string | undefined;
      if (block.Zr) {
        const p = this.signalFor(`the ${label}'s input matrix Zr`).channels;
        const Zr = expectShape(block.Zr, [k, p], `${label} Zr`);
        ZrW = this.weight('block.Zr', { kind: 'transpose', rows: k, cols: p }, 'Zr_T', () => transpose(Zr.data, k, p), [p, k]);
      }
      let bias: string | undefined;
      if (block.bias) {
        const bData = expectShape(block.bias, [k], `${label} bias`).data;
        bias = this.weight('block.bias', { kind: 'identity' }, 'bias', () => bData, [k]);
      }
      return (made = { inner, c, ...(NT ? { NT } : {}), ...(ZinT ? { ZinT } : {}), ...(ZrW ? { ZrW } : {}), ...(bias ? { bias } : {}) });
    };
    // Zin u(t) and Zr u(t) per input element (shared by f and the derivatives)
    const zinCache = new Map<number, string>();
    const zrCache = new Map<number, string>();
    /** a = M z + c (+ Zin u(t)) */
    const preActivation = (w: ReducedWeights, t: number, z: string): string => {
      let pre = this.g.node('Add', [w.inner(z), w.c]);
      if (w.ZinT) pre = this.g.node('Add', [pre, this.inputTerm(zinCache, t, w.ZinT)]);
      return pre;
    };
    /** N σ(a) + (Zr u(t)) + (bias) from N σ(a) */
    const outerTerms = (w: ReducedWeights, t: number, nSigma: string): string => {
      let f = nSigma;
      if (w.ZrW) f = this.g.node('Add', [f, this.inputTerm(zrCache, t, w.ZrW)]);
      if (w.bias) f = this.g.node('Add', [f, w.bias]);
      return f;
    };

    const rhs = () => {
      const w = weights();
      const rhsCache = new Map<string, string>();
      const sigmaN = (t: number, z: string): string => {
        const key = w.ZinT ? `${z}@${this.inputAt(t).key}` : z;
        let hit = rhsCache.get(key);
        if (!hit) {
          hit = this.act(preActivation(w, t, z), block.activation);
          if (w.NT) hit = this.g.node('MatMul', [hit, w.NT]);
          rhsCache.set(key, hit);
        }
        return hit;
      };
      const f = (t: number, z: string): string => outerTerms(w, t, sigmaN(t, z));
      return { f };
    };

    const field = (): GraphField => {
      const w = weights();
      const NT = w.NT;
      return {
        key: (t, z) => (w.ZinT || w.ZrW ? `${z}@${this.inputAt(t).key}` : z),
        pre: (t, z) => preActivation(w, t, z),
        lin: w.inner,
        ...(NT ? { out: (s: string) => this.g.node('MatMul', [s, NT]) } : {}),
        outer: (t, nSigma) => outerTerms(w, t, nSigma),
        activation: block.activation,
      };
    };

    return {
      stateDims: [k],
      x0,
      rhs,
      field,
      out: (zEnd, entryShape) => {
        // D = identity hands z itself on (size k), e.g. to a following 'scatter' layer
        const n = block.n;
        const outSize = block.D.type === 'identity' ? k : n;
        const xEnd = this.linearMap(zEnd, block.D, outSize, k, `${label} D`, 'block.D.weight');
        return { name: xEnd, shape: entryShape && outSize === n && prod(entryShape) === n ? [...entryShape] : [outSize], layout: 'flat' };
      },
    };
  }
}

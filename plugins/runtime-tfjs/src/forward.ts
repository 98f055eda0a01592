import * as tf from '@tensorflow/tfjs-core';
import { OdemorError } from '@odemor/core';
import { sequenceIndex, type SolveStats, type Solver, type StepInfo } from '@odemor/core';
import { solveTensor, type RhsFn, type SolveOptions, type SolveResult } from './solve.js';
import type { Activation, Layer, LinearMap, ModelIR, OdeBlock } from '@odemor/core';
import { blockInputSize, blockOutputShape, blockOutputSize, inputShapeOf } from '@odemor/core';
import { listTensors } from '@odemor/core';
import type { SyncHook } from 'tapable';

/**
 * The tensors of a model keyed by their path (`pre.0.weight`, `block.A.kernel`, `block.M.left`, …, see
 * `listTensors`). Plain tensors for inference, `tf.Variable`s for the trainable ones when training.
 */
export type TfParams = Map<string, tf.Tensor>;

/** Options of {@link forward}, {@link blockFeatures}, {@link integrateBlock} and {@link integrateTrajectory}. */
export interface ForwardOptions {
  /** fired once per accepted solver step (its `index` counts on across the segments of a trajectory readout) */
  hooks?: { step: SyncHook<[StepInfo]> };
  /** keep the state after every `saveEvery`-th accepted step (see `SolveOptions.saveEvery`; {@link integrateBlock} only) */
  saveEvery?: number;
  /** receives the solver statistics of the block's solve (summed over the segments of a trajectory readout) */
  onStats?: (stats: SolveStats) => void;
  /**
   * the input signal u [B, steps, channels] of a model with input kind 'state' and a `signal` (what
   * `Executable.predict` gets as `inputs.u`; see {@link signalTensor}); required by such a model, refused by others
   */
  u?: tf.Tensor;
  /**
   * receives (and owns: dispose it, or let the enclosing `tf.tidy` do it) the remainder term [B, s] of every
   * accepted step that returns one (a Taylor-Lagrange solver), with the step's start t and size h
   */
  onRemainder?: (remainder: tf.Tensor2D, t: number, h: number) => void;
}

/** Create tensors (`tf.tensor`) for every tensor of the model. Dispose them with {@link disposeParams}. */
export function createParams(model: ModelIR, variable?: (path: string) => boolean): TfParams {
  const out: TfParams = new Map();
  for (const { path, tensor } of listTensors(model)) {
    const t = tf.tensor(tensor.data, tensor.shape, 'float32');
    if (variable?.(path)) {
      out.set(path, tf.variable(t, true, undefined, 'float32'));
      t.dispose();
    } else out.set(path, t);
  }
  return out;
}

/** Dispose every tensor of a parameter map. */
export function disposeParams(params: TfParams): void {
  for (const t of params.values()) t.dispose();
  params.clear();
}

function param(params: TfParams, path: string): tf.Tensor {
  const t = params.get(path);
  if (!t) throw new OdemorError('RUNTIME', `parameter ${path} is missing from the parameter map`);
  return t;
}

/** Apply an elementwise activation. */
export function tfActivation(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'identity':
      return x;
    default:
      throw new OdemorError('MODEL', `unknown activation '${String(a)}'`);
  }
}

/** x [B, k] → y [B, size] with y[:, indices[i]] = x[:, i] and zeros elsewhere (differentiable). */
function scatterColumns(x: tf.Tensor2D, indices: readonly number[], size: number): tf.Tensor2D {
  const k = indices.length;
  const src = new Int32Array(size).fill(k);
  indices.forEach((dst, i) => (src[dst] = i));
  const padded = tf.concat([x, tf.zeros([x.shape[0], 1])], 1);
  return tf.gather(padded, tf.tensor1d(src, 'int32'), 1) as tf.Tensor2D;
}

function selectColumns(x: tf.Tensor2D, indices: readonly number[]): tf.Tensor2D {
  return tf.gather(x, tf.tensor1d(Int32Array.from(indices), 'int32'), 1) as tf.Tensor2D;
}

/** Apply `layers` (named `prefix.i`: the pre or post layers, or the midpoint network's) to a batched tensor [B, ...]. */
export function applyLayers(layers: readonly Layer[], params: TfParams, prefix: 'pre' | 'post' | 'midpoint.layers', x: tf.Tensor): tf.Tensor {
  let h = x;
  layers.forEach((layer, i) => {
    const p = `${prefix}.${i}`;
    switch (layer.type) {
      case 'dense': {
        const flat = h.rank === 2 ? (h as tf.Tensor2D) : tf.reshape(h, [h.shape[0]!, -1]);
        let y = tf.matMul(flat as tf.Tensor2D, param(params, `${p}.weight`) as tf.Tensor2D, false, true);
        if (layer.bias) y = tf.add(y, param(params, `${p}.bias`));
        h = y;
        break;
      }
      case 'conv2d': {
        let y: tf.Tensor = tf.conv2d(h as tf.Tensor4D, param(params, `${p}.kernel`) as tf.Tensor4D, layer.stride, layer.padding);
        if (layer.bias) y = tf.add(y, param(params, `${p}.bias`));
        h = y;
        break;
      }
      case 'relu':
        h = tf.relu(h);
        break;
      case 'tanh':
        h = tf.tanh(h);
        break;
      case 'maxpool2d':
        h = tf.maxPool(h as tf.Tensor4D, layer.size, layer.stride, layer.padding);
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0]!, -1]);
        break;
      case 'scatter':
        h = scatterColumns(tf.reshape(h, [h.shape[0]!, -1]) as tf.Tensor2D, layer.indices, layer.size);
        break;
      default:
        throw new OdemorError('MODEL', `${p}: unknown layer type '${(layer as { type: string }).type}'`);
    }
  });
  return h;
}

/** Timing of a model's input signal u(t): a sequence model's sequence, or the `signal` of a state model. */
interface SignalTiming {
  steps: number;
  channels: number;
  stepDuration: number;
}

function signalTiming(model: ModelIR): SignalTiming | undefined {
  const inp = model.input;
  if (inp.kind === 'sequence') return { steps: inp.steps, channels: inp.features, stepDuration: inp.stepDuration };
  if (inp.kind === 'state' && inp.signal) return { ...inp.signal };
  return undefined;
}

/**
 * The tf tensor [batch, steps, channels] of the input signal `inputs.u` of a model with input kind 'state'
 * and a `signal` (what `Executable.predict` gets as its third argument); undefined for a model without one.
 * @throws OdemorError 'ARGUMENT' when the model reads a signal and `u` is missing, or `u` is given to a model
 *   that has none; 'SHAPE' when `u` does not hold batch × steps × channels values
 */
export function signalTensor(model: ModelIR, u: Float32Array | undefined, batch: number): tf.Tensor3D | undefined {
  const inp = model.input;
  const sig = inp.kind === 'state' ? inp.signal : undefined;
  if (!sig) {
    if (u !== undefined && u !== null) throw noSignal(model, `${(u as { length?: number }).length ?? '?'} values`);
    return undefined;
  }
  const need = batch * sig.steps * sig.channels;
  if (u === undefined || u === null) throw missingSignal(sig, batch);
  if (!(u instanceof Float32Array)) throw new OdemorError('ARGUMENT', `inputs.u must be a Float32Array [batch ${batch}, steps ${sig.steps}, channels ${sig.channels}], got ${describeValue(u)}`);
  if (u.length !== need) {
    throw new OdemorError('SHAPE', `inputs.u has ${u.length} values, expected batch ${batch} × [steps ${sig.steps}, channels ${sig.channels}] = ${need}`);
  }
  return tf.tensor3d(u, [batch, sig.steps, sig.channels], 'float32');
}

function missingSignal(sig: SignalTiming, batch: number | string): OdemorError {
  return new OdemorError(
    'ARGUMENT',
    `the model reads an input signal u(t): inputs.u is missing (give u [batch ${batch}, steps ${sig.steps}, channels ${sig.channels}], each step held for ${sig.stepDuration} time units: predict(x, batch, { u }), or a dataset batch's u)`,
  );
}

function noSignal(model: ModelIR, what: string): OdemorError {
  const inp = model.input;
  const why = inp.kind === 'sequence' ? "input kind 'sequence': the sequence is x itself" : inp.kind === 'state' ? "input kind 'state' without a signal" : "input kind 'tensor'";
  return new OdemorError('ARGUMENT', `inputs.u was given (${what}) but the model has no input signal (${why})`);
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}

/** The signal [B, steps, channels] the block reads: the sequence itself, a state model's `u` (checked), or none. */
function batchSignal(model: ModelIR, input: tf.Tensor, u: tf.Tensor | undefined): tf.Tensor | undefined {
  const timing = signalTiming(model);
  if (model.input.kind === 'sequence') {
    if (u) throw noSignal(model, `shape [${u.shape.join(', ')}]`);
    return input;
  }
  if (!timing) {
    if (u) throw noSignal(model, `shape [${u.shape.join(', ')}]`);
    return undefined;
  }
  const B = input.shape[0]!;
  if (!u) throw missingSignal(timing, B);
  const want = [B, timing.steps, timing.channels];
  if (u.shape.length !== 3 || u.shape.some((d, i) => d !== want[i])) {
    throw new OdemorError('SHAPE', `inputs.u has shape [${u.shape.join(', ')}], expected [batch ${B}, steps ${timing.steps}, channels ${timing.channels}]`);
  }
  return u;
}

/** Z u_j for every step j of a signal [B, steps, p]: returns `steps` tensors [B, rows]. */
function signalTerms(signal: tf.Tensor, timing: SignalTiming, Z: tf.Tensor): tf.Tensor2D[] {
  const B = signal.shape[0]!;
  const rows = Z.shape[0]!;
  const uz = tf.reshape(tf.matMul(tf.reshape(signal, [B * timing.steps, timing.channels]) as tf.Tensor2D, Z as tf.Tensor2D, false, true), [B, timing.steps, rows]);
  return tf.unstack(uz, 1) as tf.Tensor2D[];
}

/** The matrix A x of a full block applied to a batch of states [B, n]; build once per forward. */
function fullBlockMatVec(block: OdeBlock, params: TfParams): (x: tf.Tensor2D) => tf.Tensor2D {
  const A = block.A;
  switch (A.type) {
    case 'dense': {
      const W = param(params, 'block.A.weight') as tf.Tensor2D;
      return (x) => tf.matMul(x, W, false, true);
    }
    case 'antisymmetric': {
      const W = param(params, 'block.A.weight') as tf.Tensor2D;
      const eff = tf.sub(tf.sub(W, tf.transpose(W)), tf.mul(tf.eye(block.n), A.gamma)) as tf.Tensor2D;
      return (x) => tf.matMul(x, eff, false, true);
    }
    case 'conv': {
      const K = param(params, 'block.A.kernel') as tf.Tensor4D;
      const { height, width, channels } = A;
      return (x) => tf.reshape(tf.conv2d(tf.reshape(x, [x.shape[0], height, width, channels]) as tf.Tensor4D, K, 1, 'same'), [x.shape[0], block.n]) as tf.Tensor2D;
    }
    default:
      throw new OdemorError('MODEL', `block.A: unknown matrix type '${(A as { type: string }).type}'`);
  }
}

function applyMap(map: LinearMap, params: TfParams, path: string, x: tf.Tensor2D): tf.Tensor2D {
  switch (map.type) {
    case 'identity':
      return x;
    case 'dense':
      return tf.matMul(x, param(params, `${path}.weight`) as tf.Tensor2D, false, true);
    case 'select':
      return selectColumns(x, map.indices);
    case 'scatter':
      return scatterColumns(x, map.indices, map.to);
    default:
      throw new OdemorError('MODEL', `${path}: unknown map type '${(map as { type: string }).type}'`);
  }
}

/**
 * Every block in the unified form f(t, z) = N σ(M z + c + Zin u(t)) + Zr u(t) + bias — a full block with
 * M = A, c = b, N = I, Zr = Z; an mlp block as it is; a reduced block with its optional Zin and bias — with
 * u(t) = u[j] piecewise constant (j = `index(t)`, core's `sequenceIndex`).
 */
interface VectorField {
  /** the linear part M z [B, m] (no c) */
  Mz: (z: tf.Tensor2D) => tf.Tensor2D;
  c: tf.Tensor;
  /** s [B, m] → N s [B, dim]; absent: N = I */
  N?: (s: tf.Tensor2D) => tf.Tensor2D;
  /** Zin u_j [B, m] for each signal step j */
  inner?: tf.Tensor2D[];
  /** Zr u_j [B, dim] for each signal step j */
  outer?: tf.Tensor2D[];
  bias?: tf.Tensor;
  activation: Activation;
  index: (t: number) => number;
}

/** The highest time derivative of the solution {@link blockDerivatives} computes (closed forms up to x⁽³⁾). */
export const MAX_DERIVATIVE_ORDER = 3;

/**
 * σ'(a) and σ''(a) of an activation, elementwise, given the pre-activation `a` and `s` = σ(a); `undefined`
 * stands for the constant 1 (σ') or 0 (σ''): tanh σ' = 1 − s², σ'' = −2 s (1 − s²); relu σ' = [a > 0],
 * σ'' = 0; softplus σ' = sigmoid(a), σ'' = sigmoid(a)(1 − sigmoid(a)); identity σ' = 1, σ'' = 0.
 */
export function activationDerivatives(activation: Activation, a: tf.Tensor, s: tf.Tensor): { d1?: tf.Tensor; d2?: tf.Tensor } {
  switch (activation) {
    case 'tanh': {
      const d1 = tf.sub(1, tf.square(s));
      return { d1, d2: tf.mul(tf.mul(s, d1), -2) };
    }
    case 'relu':
      return { d1: tf.step(a, 0) };
    case 'softplus': {
      const g = tf.sigmoid(a);
      return { d1: g, d2: tf.mul(g, tf.sub(1, g)) };
    }
    case 'identity':
      return {};
    default:
      throw new OdemorError('MODEL', `unknown activation '${String(activation)}'`);
  }
}

function fieldParts(F: VectorField, t: number, z: tf.Tensor2D): { a: tf.Tensor2D; j: number } {
  const j = F.index(t);
  let a = tf.add(F.Mz(z), F.c) as tf.Tensor2D;
  if (F.inner) a = tf.add(a, F.inner[j]!);
  return { a, j };
}

function fieldOut(F: VectorField, s: tf.Tensor2D): tf.Tensor2D {
  return F.N ? F.N(s) : s;
}

function fieldRhs(F: VectorField): RhsFn {
  return (t, z) => {
    const { a, j } = fieldParts(F, t, z);
    let f = fieldOut(F, tfActivation(a, F.activation) as tf.Tensor2D);
    if (F.outer) f = tf.add(f, F.outer[j]!);
    if (F.bias) f = tf.add(f, F.bias);
    return f;
  };
}

/**
 * x⁽¹⁾ = f;  x⁽²⁾ = N(σ'(a) ⊙ M x⁽¹⁾);  x⁽³⁾ = N(σ''(a) ⊙ (M x⁽¹⁾)² + σ'(a) ⊙ M x⁽²⁾), a = M z + c + Zin u (u is
 * constant inside a step, so it adds no term). Only tfjs ops: differentiable.
 */
function fieldDerivatives(F: VectorField): (t: number, z: tf.Tensor2D, order: number) => tf.Tensor2D[] {
  return (t, z, order) => {
    if (!(Number.isInteger(order) && order >= 1 && order <= MAX_DERIVATIVE_ORDER)) {
      throw new OdemorError('ARGUMENT', `blockDerivatives: order must be an integer from 1 to ${MAX_DERIVATIVE_ORDER} (the tfjs runtime's closed forms), got ${String(order)}`);
    }
    const { a, j } = fieldParts(F, t, z);
    const s = tfActivation(a, F.activation) as tf.Tensor2D;
    let x1 = fieldOut(F, s);
    if (F.outer) x1 = tf.add(x1, F.outer[j]!);
    if (F.bias) x1 = tf.add(x1, F.bias);
    const out: tf.Tensor2D[] = [x1];
    if (order === 1) return out;
    const { d1, d2 } = activationDerivatives(F.activation, a, s);
    const v1 = F.Mz(x1);
    const x2 = fieldOut(F, (d1 ? tf.mul(d1, v1) : v1) as tf.Tensor2D);
    out.push(x2);
    if (order === 2) return out;
    const v2 = F.Mz(x2);
    let w = (d1 ? tf.mul(d1, v2) : v2) as tf.Tensor2D;
    if (d2) w = tf.add(w, tf.mul(d2, tf.square(v1)));
    out.push(fieldOut(F, w));
    return out;
  };
}

/** The vector field of the model's block for a batch whose signal (if the block reads one) is `signal`. */
function blockField(model: ModelIR, params: TfParams, signal: tf.Tensor | undefined): VectorField {
  const block = model.block;
  const timing = signalTiming(model);
  const index = timing ? (t: number) => sequenceIndex(t, model.solver.t0, timing.stepDuration, timing.steps) : () => 0;
  const terms = (Z: unknown, path: string): tf.Tensor2D[] | undefined => {
    if (!Z) return undefined;
    if (!timing) throw new OdemorError('MODEL', `${path} is given but the model has no input signal`);
    if (!signal) throw missingSignal(timing, 'B');
    return signalTerms(signal, timing, param(params, path));
  };
  switch (block.kind) {
    case 'ode':
      return { Mz: fullBlockMatVec(block, params), c: param(params, 'block.b'), outer: terms(block.Z, 'block.Z'), activation: block.activation, index };
    case 'mlp': {
      const M = param(params, 'block.M') as tf.Tensor2D;
      const N = param(params, 'block.N') as tf.Tensor2D;
      return {
        Mz: (z) => tf.matMul(z, M, false, true),
        c: param(params, 'block.c'),
        N: (s) => tf.matMul(s, N, false, true),
        inner: terms(block.Zin, 'block.Zin'),
        bias: param(params, 'block.bias'),
        activation: block.activation,
        index,
      };
    }
    case 'reduced': {
      let Mz: (z: tf.Tensor2D) => tf.Tensor2D;
      if (block.M.type === 'dense') {
        const M = param(params, 'block.M.weight') as tf.Tensor2D;
        Mz = (z) => tf.matMul(z, M, false, true);
      } else {
        const L = param(params, 'block.M.left') as tf.Tensor2D;
        const R = param(params, 'block.M.right') as tf.Tensor2D;
        Mz = (z) => tf.matMul(tf.matMul(z, R, false, true), L, false, true);
      }
      const Nw = block.N.type === 'dense' ? (param(params, 'block.N.weight') as tf.Tensor2D) : undefined;
      return {
        Mz,
        c: param(params, 'block.c'),
        ...(Nw ? { N: (s: tf.Tensor2D) => tf.matMul(s, Nw, false, true) } : {}),
        inner: terms(block.Zin, 'block.Zin'),
        outer: terms(block.Zr, 'block.Zr'),
        ...(block.bias ? { bias: param(params, 'block.bias') } : {}),
        activation: block.activation,
        index,
      };
    }
    default:
      throw new OdemorError('MODEL', `block: unknown kind '${(block as { kind: string }).kind}'`);
  }
}

/**
 * Exact time derivatives of the solution of the model's ODE block, for a solver's `context.derivatives`
 * (Taylor methods) and the Taylor-Lagrange remainder. Every block is f = N σ(a) + Zr u + bias with
 * a = M z + c + Zin u (a full block: N = I, M = A, Zr = Z; an mlp block: its M, c, N, bias, Zin; a reduced
 * block: its M, N, Zr and optional Zin, bias), and with u(t) piecewise constant (∂u/∂t = 0 inside a step):
 *
 *   x⁽¹⁾ = f,   x⁽²⁾ = N(σ'(a) ⊙ M x⁽¹⁾),   x⁽³⁾ = N(σ''(a) ⊙ (M x⁽¹⁾)² + σ'(a) ⊙ M x⁽²⁾)
 *
 * in closed form ({@link activationDerivatives}; never finite differences), with tfjs ops only, so they are
 * differentiable with respect to `params`.
 *
 * Returns `(t, z, order) => [x⁽¹⁾, …, x⁽ᵒʳᵈᵉʳ⁾]` for a batch of solver states z [B, s] (s = n for a full or mlp
 * block, k for a reduced one), order 1 to {@link MAX_DERIVATIVE_ORDER}. Call it inside `tf.tidy`.
 *
 * @param signal the block's input signal [B, steps, channels] with the batch of z, when it reads one (a
 *   sequence model's input x, a state model's `inputs.u`)
 * @throws OdemorError 'ARGUMENT' for an order outside 1–3, or a missing `signal` for a block that reads one
 */
export function blockDerivatives(model: ModelIR, params: TfParams, signal?: tf.Tensor): (t: number, z: tf.Tensor2D, order: number) => tf.Tensor2D[] {
  return fieldDerivatives(blockField(model, params, signal));
}

/** The model's midpoint network Γ(z) [B, s] → [B, s] (a fresh tensor), or undefined when it has none. */
function midpointOf(model: ModelIR, params: TfParams): ((t: number, z: tf.Tensor2D) => tf.Tensor2D) | undefined {
  const mp = model.midpoint;
  if (!mp) return undefined;
  if (!mp.layers.length) return (_t, z) => tf.clone(z);
  return (_t, z) => applyLayers(mp.layers, params, 'midpoint.layers', z) as tf.Tensor2D;
}

/** The ODE block of a model, ready to integrate. */
export interface BlockProgram {
  /** initial state [B, dim] (dim = n for a full or mlp block, k for a reduced one) */
  x0: tf.Tensor2D;
  rhs: RhsFn;
  /** a solver state → block output [B, out] (D z for a reduced block) */
  readout(y: tf.Tensor2D): tf.Tensor2D;
  /** σ(A x + b) for a full block; undefined for the others */
  nonlinear?: (x: tf.Tensor2D) => tf.Tensor2D;
  /** the hidden activations σ(M x + c + Zin u(t)) [B, m] of an mlp block at time t (its snapshots); undefined for the others */
  hidden?: (t: number, x: tf.Tensor2D) => tf.Tensor2D;
  /** exact time derivatives of the solution through (t, z), orders 1–3 ({@link blockDerivatives}) */
  derivatives: (t: number, z: tf.Tensor2D, order: number) => tf.Tensor2D[];
  /** the model's midpoint network Γ(z) (absent when the model has none) */
  midpoint?: (t: number, z: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * Prepare the block of `model` for a batch: `preOut` is the output of the pre layers [B, ...] (a state model:
 * the initial states; ignored for sequence models), `input` the raw input batch (the sequence [B, steps, p]
 * for sequence models), `u` the input signal [B, steps, channels] of a state model with a `signal`.
 * @throws OdemorError 'ARGUMENT' naming `inputs.u` when a state model's signal is missing or given to a model without one
 */
export function prepareBlock(model: ModelIR, params: TfParams, preOut: tf.Tensor, input: tf.Tensor, u?: tf.Tensor): BlockProgram {
  const block = model.block;
  const B = input.shape[0]!;
  const seq = model.input.kind === 'sequence';
  const signal = batchSignal(model, input, u);
  const F = blockField(model, params, signal);
  const rhs = fieldRhs(F);
  const derivatives = fieldDerivatives(F);
  const midpoint = midpointOf(model, params);
  const extra = midpoint ? { midpoint } : {};
  if (block.kind === 'reduced') {
    const x0 = seq ? (tf.zeros([B, block.k]) as tf.Tensor2D) : applyMap(block.E, params, 'block.E', tf.reshape(preOut, [B, blockInputSize(block)]) as tf.Tensor2D);
    return { x0, rhs, derivatives, readout: (y) => applyMap(block.D, params, 'block.D', y), ...extra };
  }
  const x0 = seq ? (tf.zeros([B, block.n]) as tf.Tensor2D) : (tf.reshape(preOut, [B, block.n]) as tf.Tensor2D);
  if (block.kind === 'ode') {
    const nonlinear = (x: tf.Tensor2D) => tfActivation(tf.add(F.Mz(x), F.c), block.activation) as tf.Tensor2D;
    return { x0, rhs, derivatives, readout: (y) => y, nonlinear, ...extra };
  }
  const hidden = (t: number, x: tf.Tensor2D) => tfActivation(fieldParts(F, t, x).a, F.activation) as tf.Tensor2D;
  return { x0, rhs, derivatives, readout: (y) => y, hidden, ...extra };
}

/** The solve options of one segment [t0, t1] of the model's span; the step hook's index is offset by `offset`. */
function segmentOptions(model: ModelIR, program: BlockProgram, opts: ForwardOptions, t0: number, t1: number, offset: number): SolveOptions {
  const s = model.solver;
  const so: SolveOptions = { t0, t1, dt: s.dt, derivatives: program.derivatives };
  if (s.rtol !== undefined) so.rtol = s.rtol;
  if (s.atol !== undefined) so.atol = s.atol;
  if (program.midpoint) so.midpoint = program.midpoint;
  if (opts.onRemainder) so.onRemainder = opts.onRemainder;
  const hook = opts.hooks?.step;
  if (hook) so.hooks = offset ? { step: { call: (info: StepInfo<tf.Tensor2D>) => hook.call({ ...info, index: info.index + offset }) } } : { step: hook };
  return so;
}

/**
 * Integrate a prepared block over the model's span [solver.t0, solver.t1] with its solver settings, passing
 * the block's exact derivatives and the model's midpoint network to the solver (a step program may use them).
 */
export function integrateBlock(model: ModelIR, program: BlockProgram, solver: Solver, opts: ForwardOptions = {}): SolveResult {
  const so = segmentOptions(model, program, opts, model.solver.t0, model.solver.t1, 0);
  if (opts.saveEvery) so.saveEvery = opts.saveEvery;
  return solveTensor(solver, program.rhs, program.x0, so);
}

/** The solver states at the readout times of a trajectory model ({@link integrateTrajectory}). */
export interface TrajectoryResult {
  /** the solver state [B, dim] at each time (not mapped by D) */
  states: tf.Tensor2D[];
  times: number[];
  /** summed over the segments */
  stats: SolveStats;
}

/**
 * Integrate a prepared block segment by segment, from `solver.t0` to each readout time in turn (the model's
 * `readout.times`; without a readout, the single time `solver.t1`), each segment with the model's solver:
 * fixed steps of `dt` with the last step of each segment shortened to land on its time; an adaptive solver
 * starts each segment with a trial step of `dt` and its controller lands on the segment's end. Derivatives,
 * midpoint and remainders are passed as by {@link integrateBlock}; the step hook's `index` counts on across
 * segments.
 */
export function integrateTrajectory(model: ModelIR, program: BlockProgram, solver: Solver, opts: ForwardOptions = {}): TrajectoryResult {
  const times = model.readout ? [...model.readout.times] : [model.solver.t1];
  const stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
  const states: tf.Tensor2D[] = [];
  let y = program.x0;
  let t = model.solver.t0;
  for (const tk of times) {
    const res = solveTensor(solver, program.rhs, y, segmentOptions(model, program, opts, t, tk, stats.accepted));
    stats.nfe += res.stats.nfe;
    stats.accepted += res.stats.accepted;
    stats.rejected += res.stats.rejected;
    states.push(res.y);
    y = res.y;
    t = tk;
  }
  return { states, times, stats };
}

/** The output of the pre layers for a batch (a sequence model: the input itself). */
function preOutput(model: ModelIR, params: TfParams, x: tf.Tensor): tf.Tensor {
  return model.input.kind === 'sequence' ? x : applyLayers(model.pre, params, 'pre', x);
}

/**
 * The model's forward pass on a batch `x` [B, ...inputShape] (sequence models: [B, steps, features]; state
 * models: the initial states [B, size], with the signal in `opts.u` when the model has one): pre layers → ODE
 * block (full, mlp or reduced, integrated by `solver`) → post layers; returns the logits [B, outputs]. A
 * trajectory model (`readout`) returns the block's outputs (D z for a reduced block) at each readout time,
 * [B, T · size] row-major ({@link integrateTrajectory}). Differentiable with respect to `params` (pass
 * tf.Variables to train); call it inside `tf.tidy` or an optimizer's `minimize`.
 */
export function forward(model: ModelIR, params: TfParams, x: tf.Tensor, solver: Solver, opts: ForwardOptions = {}): tf.Tensor2D {
  if (!model.readout) return forwardPost(model, params, blockFeatures(model, params, x, solver, opts));
  const B = x.shape[0]!;
  const program = prepareBlock(model, params, preOutput(model, params, x), x, opts.u);
  const res = integrateTrajectory(model, program, solver, opts);
  opts.onStats?.(res.stats);
  const outs = res.states.map((s) => program.readout(s));
  const size = blockOutputSize(model.block);
  return tf.reshape(tf.stack(outs, 1), [B, outs.length * size]) as tf.Tensor2D;
}

/**
 * The block's output for a batch (pre layers, then the solve, then D): the input of the post layers, [B, ...shape].
 * For a trajectory model: the output at the last readout time (= solver.t1), integrated segment by segment as by
 * {@link forward}.
 */
export function blockFeatures(model: ModelIR, params: TfParams, x: tf.Tensor, solver: Solver, opts: ForwardOptions = {}): tf.Tensor {
  const program = prepareBlock(model, params, preOutput(model, params, x), x, opts.u);
  let y: tf.Tensor2D;
  if (model.readout) {
    const res = integrateTrajectory(model, program, solver, opts);
    opts.onStats?.(res.stats);
    y = res.states[res.states.length - 1]!;
  } else {
    const res = integrateBlock(model, program, solver, opts);
    opts.onStats?.(res.stats);
    y = res.y;
  }
  const out = program.readout(y);
  return tf.reshape(out, [x.shape[0]!, ...blockOutputShape(model)]);
}

/** The post layers on block features: logits [B, outputs]. */
export function forwardPost(model: ModelIR, params: TfParams, h: tf.Tensor): tf.Tensor2D {
  const logits = applyLayers(model.post, params, 'post', h);
  return tf.reshape(logits, [h.shape[0]!, model.outputs]) as tf.Tensor2D;
}

/** The tf tensor of a raw input batch, shaped from the model's input spec. */
export function inputTensor(model: ModelIR, x: Float32Array, batch: number): tf.Tensor {
  const shape = inputShapeOf(model);
  const per = shape.reduce((a, b) => a * b, 1);
  if (x.length !== per * batch) {
    throw new OdemorError('SHAPE', `input batch has ${x.length} values, expected ${batch} × [${shape.join(', ')}] = ${per * batch}`);
  }
  return tf.tensor(x, [batch, ...shape], 'float32');
}

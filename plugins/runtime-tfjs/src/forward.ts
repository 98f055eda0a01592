import * as tf from '@tensorflow/tfjs-core';
import { OdemorError } from '@odemor/core';
import { sequenceIndex, type SolveStats, type Solver, type StepInfo } from '@odemor/core';
import { solveTensor, type RhsFn, type SolveOptions, type SolveResult } from './solve.js';
import type { Activation, Layer, LinearMap, ModelIR, OdeBlock, ReducedBlock } from '@odemor/core';
import { blockInputSize, blockOutputShape, inputShapeOf } from '@odemor/core';
import { listTensors } from '@odemor/core';
import type { SyncHook } from 'tapable';

/**
 * The tensors of a model keyed by their path (`pre.0.weight`, `block.A.kernel`, `block.M.left`, …, see
 * `listTensors`). Plain tensors for inference, `tf.Variable`s for the trainable ones when training.
 */
export type TfParams = Map<string, tf.Tensor>;

/** Options of {@link forward} and {@link runBlock}. */
export interface ForwardOptions {
  /** fired once per accepted solver step */
  hooks?: { step: SyncHook<[StepInfo]> };
  /** keep the state after every `saveEvery`-th accepted step (see `SolveOptions.saveEvery`) */
  saveEvery?: number;
  /** receives the solver statistics of the block's solve */
  onStats?: (stats: SolveStats) => void;
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

/** Apply `layers` (named `prefix.i`) to a batched tensor [B, ...]. */
export function applyLayers(layers: readonly Layer[], params: TfParams, prefix: 'pre' | 'post', x: tf.Tensor): tf.Tensor {
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

/** Z u_j for every step j of a sequence batch [B, steps, p]: returns `steps` tensors [B, rows]. */
function sequenceTerms(model: ModelIR, seq: tf.Tensor, Z: tf.Tensor): tf.Tensor2D[] {
  if (model.input.kind !== 'sequence') throw new OdemorError('MODEL', 'an input matrix needs a sequence input');
  const { steps, features } = model.input;
  const B = seq.shape[0]!;
  const rows = Z.shape[0]!;
  const uz = tf.reshape(tf.matMul(tf.reshape(seq, [B * steps, features]) as tf.Tensor2D, Z as tf.Tensor2D, false, true), [B, steps, rows]);
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

/** The ODE block of a model, ready to integrate. */
export interface BlockProgram {
  /** initial state [B, dim] (dim = n for a full block, k for a reduced one) */
  x0: tf.Tensor2D;
  rhs: RhsFn;
  /** final state → block output [B, out] (D z for a reduced block) */
  readout(y: tf.Tensor2D): tf.Tensor2D;
  /** σ(A x + b) for a full block; undefined for a reduced one */
  nonlinear?: (x: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * Prepare the block of `model` for a batch: `preOut` is the output of the pre layers [B, ...] (ignored
 * for sequence models), `input` the raw input batch (the sequence [B, steps, p] for sequence models).
 */
export function prepareBlock(model: ModelIR, params: TfParams, preOut: tf.Tensor, input: tf.Tensor): BlockProgram {
  const block = model.block;
  const B = input.shape[0]!;
  const seq = model.input.kind === 'sequence' ? model.input : undefined;
  const indexAt = seq ? (t: number) => sequenceIndex(t, model.solver.t0, seq.stepDuration, seq.steps) : () => 0;
  if (block.kind === 'ode') {
    const Ax = fullBlockMatVec(block, params);
    const b = param(params, 'block.b');
    const terms = seq && block.Z ? sequenceTerms(model, input, param(params, 'block.Z')) : undefined;
    const nonlinear = (x: tf.Tensor2D) => tfActivation(tf.add(Ax(x), b), block.activation) as tf.Tensor2D;
    const x0 = seq ? (tf.zeros([B, block.n]) as tf.Tensor2D) : (tf.reshape(preOut, [B, block.n]) as tf.Tensor2D);
    return {
      x0,
      rhs: (t, x) => (terms ? (tf.add(nonlinear(x), terms[indexAt(t)]!) as tf.Tensor2D) : nonlinear(x)),
      readout: (y) => y,
      nonlinear,
    };
  }
  if (block.kind !== 'reduced') throw new OdemorError('MODEL', `block: unknown kind '${(block as { kind: string }).kind}'`);
  return prepareReduced(model, block, params, preOut, input, indexAt);
}

function prepareReduced(
  model: ModelIR,
  block: ReducedBlock,
  params: TfParams,
  preOut: tf.Tensor,
  input: tf.Tensor,
  indexAt: (t: number) => number,
): BlockProgram {
  const B = input.shape[0]!;
  const seq = model.input.kind === 'sequence';
  const x0 = seq ? (tf.zeros([B, block.k]) as tf.Tensor2D) : applyMap(block.E, params, 'block.E', tf.reshape(preOut, [B, blockInputSize(block)]) as tf.Tensor2D);
  let Mz: (z: tf.Tensor2D) => tf.Tensor2D;
  if (block.M.type === 'dense') {
    const M = param(params, 'block.M.weight') as tf.Tensor2D;
    Mz = (z) => tf.matMul(z, M, false, true);
  } else {
    const L = param(params, 'block.M.left') as tf.Tensor2D;
    const R = param(params, 'block.M.right') as tf.Tensor2D;
    Mz = (z) => tf.matMul(tf.matMul(z, R, false, true), L, false, true);
  }
  const c = param(params, 'block.c');
  const N = block.N.type === 'dense' ? (param(params, 'block.N.weight') as tf.Tensor2D) : undefined;
  const terms = seq && block.Zr ? sequenceTerms(model, input, param(params, 'block.Zr')) : undefined;
  const rhs: RhsFn = (t, z) => {
    const s = tfActivation(tf.add(Mz(z), c), block.activation) as tf.Tensor2D;
    const f: tf.Tensor2D = N ? tf.matMul(s, N, false, true) : s;
    return terms ? (tf.add(f, terms[indexAt(t)]!) as tf.Tensor2D) : f;
  };
  return { x0, rhs, readout: (y) => applyMap(block.D, params, 'block.D', y) };
}

/** Integrate a prepared block with the model's solver settings. */
export function integrateBlock(model: ModelIR, program: BlockProgram, solver: Solver, opts: ForwardOptions = {}): SolveResult {
  const s = model.solver;
  const so: SolveOptions = { t0: s.t0, t1: s.t1, dt: s.dt };
  if (s.rtol !== undefined) so.rtol = s.rtol;
  if (s.atol !== undefined) so.atol = s.atol;
  if (opts.hooks) so.hooks = opts.hooks;
  if (opts.saveEvery) so.saveEvery = opts.saveEvery;
  return solveTensor(solver, program.rhs, program.x0, so);
}

/**
 * The model's forward pass on a batch `x` [B, ...inputShape] (sequence models: [B, steps, features]):
 * pre layers → ODE block (full or reduced, integrated by `solver`) → post layers. Returns the logits
 * [B, outputs]. Differentiable with respect to `params` (pass tf.Variables to train); call it inside
 * `tf.tidy` or an optimizer's `minimize`.
 */
export function forward(model: ModelIR, params: TfParams, x: tf.Tensor, solver: Solver, opts: ForwardOptions = {}): tf.Tensor2D {
  return forwardPost(model, params, blockFeatures(model, params, x, solver, opts));
}

/** The block's output for a batch (pre layers, then the solve, then D): the input of the post layers, [B, ...shape]. */
export function blockFeatures(model: ModelIR, params: TfParams, x: tf.Tensor, solver: Solver, opts: ForwardOptions = {}): tf.Tensor {
  const preOut = model.input.kind === 'sequence' ? x : applyLayers(model.pre, params, 'pre', x);
  const program = prepareBlock(model, params, preOut, x);
  const res = integrateBlock(model, program, solver, opts);
  opts.onStats?.(res.stats);
  const out = program.readout(res.y);
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

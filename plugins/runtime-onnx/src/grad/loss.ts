/**
 * The losses of the gradient programs (docs/algorithms.md#losses) and what the fixed-step and the adaptive
 * programs share: the loss nodes, the targets of a batch, the parameter checks, the correct count.
 */
import { OdemorError } from '@odemor/core';
import type { GraphBuilder } from '../graph.js';
import type { LossKind } from './types.js';
import { GRADIENT_GRAPH_NAMES } from './names.js';

export const LOSSES: readonly LossKind[] = ['softmax-cross-entropy', 'mse', 'l1'];

/**
 * Append the loss to the lowered graph: returns the loss value (a scalar) and d(loss)/d(logits).
 * Cross-entropy: `loss = −scale · Σ onehot ⊙ logsoftmax(logits)` (stable LogSoftmax), `dlogits = scale ·
 * (softmax − onehot)` with scale = 1/B. MSE: `loss = scale · Σ (logits − t)²`, `dlogits = 2 scale (logits − t)`,
 * scale = 1/(B · outputs) (the mean over every element, as tf.losses.meanSquaredError). ℓ1: `loss = scale · Σ |logits − t|`,
 * `dlogits = scale · sign(logits − t)`, scale = 1/B (the mean over the batch of each sample's ℓ1 norm).
 */
export function emitLoss(g: GraphBuilder, logits: string, kind: LossKind): { loss: string; dlogits: string } {
  const { target, scale } = GRADIENT_GRAPH_NAMES;
  if (kind === 'softmax-cross-entropy') {
    const logp = g.node('LogSoftmax', [logits], { axis: -1 });
    const sum = g.node('ReduceSum', [g.node('Mul', [target, logp])], { keepdims: 0 });
    const loss = g.node('Neg', [g.node('Mul', [sum, scale])]);
    const dlogits = g.node('Mul', [g.node('Sub', [g.node('Exp', [logp]), target]), scale]);
    return { loss, dlogits };
  }
  const d = g.node('Sub', [logits, target]);
  if (kind === 'l1') {
    const loss = g.node('Mul', [g.node('ReduceSum', [g.node('Abs', [d])], { keepdims: 0 }), scale]);
    return { loss, dlogits: g.node('Mul', [g.node('Sign', [d]), scale]) };
  }
  const loss = g.node('Mul', [g.node('ReduceSum', [g.node('Mul', [d, d])], { keepdims: 0 }), scale]);
  const dlogits = g.node('Mul', [d, g.node('Mul', [scale, g.scalar(2)])]);
  return { loss, dlogits };
}

/** Index of the largest value of each row (first on ties), as tfjs argMax. */
export function argmaxRows(logits: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c]! > logits[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}


/**
 * The `target` input of a gradient graph for labels or targets `y`: one-hot labels [batch, C] (cross-entropy; `y`
 * an Int32Array of `batch` labels in [0, C)), else the regression targets themselves (`y` a Float32Array of
 * batch × C values). SHAPE errors for wrong types or lengths, ARGUMENT for a label outside [0, C).
 */
export function lossTargets(loss: LossKind, y: Int32Array | Float32Array, batch: number, C: number): Float32Array {
  const target = new Float32Array(batch * C);
  if (loss === 'softmax-cross-entropy') {
    if (!(y instanceof Int32Array) || y.length !== batch) {
      throw new OdemorError('SHAPE', `gradient program labels y must be an Int32Array of ${batch} labels; got ${y instanceof Int32Array ? y.length : y?.constructor?.name} values`);
    }
    for (let i = 0; i < batch; i++) {
      const label = y[i]!;
      if (!(label >= 0 && label < C)) throw new OdemorError('ARGUMENT', `gradient program label y[${i}] = ${label} is outside [0, ${C})`);
      target[i * C + label] = 1;
    }
  } else {
    if (!(y instanceof Float32Array) || y.length !== batch * C) {
      throw new OdemorError('SHAPE', `gradient program targets y (${loss}) must be a Float32Array of batch ${batch} × ${C} outputs = ${batch * C} values; got ${y?.length}`);
    }
    target.set(y);
  }
  return target;
}

/** Check the parameter values of a run: every path a known tensor (`sizes`), every value array of its size. */
export function checkParamValues(params: ReadonlyMap<string, Float32Array>, sizes: ReadonlyMap<string, number>, paths: readonly string[]): void {
  for (const [path, values] of params) {
    const size = sizes.get(path);
    if (size === undefined) {
      throw new OdemorError('ARGUMENT', `gradient program params: '${path}' is not a trainable tensor of the model (trainable: ${paths.join(', ') || 'none'})`);
    }
    if (!(values instanceof Float32Array) || values.length !== size) {
      throw new OdemorError('SHAPE', `gradient program params: '${path}' has ${values?.length} values; the tensor has ${size}`);
    }
  }
}

/** The correct top-1 predictions of `logits` [rows, cols] against labels `y` (first maximum). */
export function correctCount(logits: Float32Array, y: Int32Array, rows: number, cols: number): number {
  const pred = argmaxRows(logits, rows, cols);
  let correct = 0;
  for (let i = 0; i < rows; i++) if (pred[i] === y[i]) correct++;
  return correct;
}

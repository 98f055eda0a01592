import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients, initTfjs, setTfjsBackend } from '../src/backend.js';
import { createRng } from '@odemor/core';

/** dL/dK for L = Σ conv2d(x, K) ⊙ w on the active backend */
function filterGrad(x: Float32Array, xs: number[], k: Float32Array, ks: number[], stride: number, pad: 'same' | 'valid') {
  return tf.tidy(() => {
    const X = tf.tensor4d(x, xs as [number, number, number, number]);
    const K = tf.tensor4d(k, ks as [number, number, number, number]);
    const f = (kk: tf.Tensor) => {
      const y = tf.conv2d(X, kk as tf.Tensor4D, stride, pad);
      const w = tf.tensor(createRng(99).normalArray(y.size), y.shape);
      return tf.sum(tf.mul(y, w));
    };
    return tf.grad(f)(K).dataSync();
  });
}

describe('tfjs backends', () => {
  it('prefers wasm over cpu and registers a wasm Conv2DBackpropFilter matching cpu', async () => {
    expect(await initTfjs()).toBe('wasm'); // tfjs-node is not installed here
    expect(await initTfjs('cpu')).toBe('wasm'); // idempotent
    await ensureGradients();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const rng = createRng(1);
    const cases: [number[], number[], number, 'same' | 'valid'][] = [
      [[2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'],
      [[3, 9, 9, 1], [3, 3, 1, 2], 1, 'valid'],
      [[2, 10, 8, 2], [3, 3, 2, 2], 3, 'same'],
      [[1, 6, 6, 2], [2, 2, 2, 3], 2, 'valid'],
    ];
    const data = cases.map(([xs, ks]) => [rng.normalArray(xs.reduce((a, b) => a * b)), rng.normalArray(ks.reduce((a, b) => a * b))] as const);
    const onWasm = cases.map(([xs, ks, s, p], i) => filterGrad(data[i]![0], xs, data[i]![1], ks, s, p));
    await setTfjsBackend('cpu');
    const onCpu = cases.map(([xs, ks, s, p], i) => filterGrad(data[i]![0], xs, data[i]![1], ks, s, p));
    await setTfjsBackend('wasm');
    onCpu.forEach((ref, i) => {
      expect(onWasm[i]!.length).toBe(ref.length);
      ref.forEach((v, j) => expect(Math.abs(onWasm[i]![j]! - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    });
  });
});

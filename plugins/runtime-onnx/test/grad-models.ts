/** Models for the gradient tests beyond the conformance kit's. */
import { mulberry32, type ModelIR } from '@odemor/core';
import { uniformTensor } from '@odemor/conformance';

/**
 * The layout of `conv-node` (checkpoints/conv-mnist.odemor) in small: 10×10×1 → conv 3×3 valid (1→2) → relu →
 * maxpool 3/3 valid (8×8 → 2×2: rows 6, 7 in no window) → conv block [2, 2, 2] → maxpool 3/3 same (2×2 → 1×1,
 * padded) → flatten → relu → dense 2→3.
 */
export function convMnistLike(seed = 21): ModelIR {
  const r = mulberry32(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'conv-mnist-like',
    input: { kind: 'tensor', shape: [10, 10, 1] },
    pre: [
      { type: 'conv2d', kernel: uniformTensor(r, [3, 3, 1, 2], 0.6), bias: uniformTensor(r, [2], 0.1), stride: 1, padding: 'valid' },
      { type: 'relu' },
      { type: 'maxpool2d', size: 3, stride: 3, padding: 'valid' },
    ],
    block: { kind: 'ode', n: 8, A: { type: 'conv', kernel: uniformTensor(r, [3, 3, 2, 2], 0.4), height: 2, width: 2, channels: 2 }, b: uniformTensor(r, [8], 0.2), activation: 'tanh' },
    post: [
      { type: 'maxpool2d', size: 3, stride: 3, padding: 'same' },
      { type: 'flatten' },
      { type: 'relu' },
      { type: 'dense', weight: uniformTensor(r, [3, 2], 0.8), bias: uniformTensor(r, [3], 0.1) },
    ],
    solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 },
    outputs: 3,
  };
}

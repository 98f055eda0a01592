/**
 * The layers before a block in float64, for the block's initial state of a test sample: dense, elementwise,
 * flatten and scatter (core's reference runner, `applyLayer`), and the image layers conv2d and maxpool2d
 * (NHWC, kernel [kh, kw, in, out], TensorFlow's 'same' padding: the extra row or column at the bottom / right,
 * as the runtimes compile them).
 */
import { OdemorError, check } from '../errors.js';
import type { Layer, ModelIR } from '../ir/types.js';
import { layerOutputShape } from '../ir/validate.js';
import { applyLayer } from '../reduce/simulate.js';

/** Output size and the padding before it along one axis (TensorFlow's rule). */
function pad(size: number, k: number, stride: number, mode: 'same' | 'valid'): { out: number; before: number } {
  if (mode === 'valid') return { out: Math.floor((size - k) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  return { out, before: Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2) };
}

/** One layer on one sample of shape `shape` (NHWC for images) in float64; returns the output and its shape. */
export function applyLayer64(layer: Layer, x: ArrayLike<number>, shape: readonly number[], where: string): { y: Float64Array; shape: number[] } {
  const outShape = layerOutputShape(layer, shape, where);
  if (layer.type === 'conv2d') {
    const [H, W, ci] = shape as [number, number, number];
    const [kh, kw, , co] = layer.kernel.shape as [number, number, number, number];
    const py = pad(H, kh, layer.stride, layer.padding);
    const px = pad(W, kw, layer.stride, layer.padding);
    const K = layer.kernel.data;
    const y = new Float64Array(py.out * px.out * co);
    for (let oh = 0; oh < py.out; oh++) for (let ow = 0; ow < px.out; ow++) {
      const o = (oh * px.out + ow) * co;
      if (layer.bias) for (let c = 0; c < co; c++) y[o + c] = layer.bias.data[c]!;
      for (let dh = 0; dh < kh; dh++) {
        const h = oh * layer.stride + dh - py.before;
        if (h < 0 || h >= H) continue;
        for (let dw = 0; dw < kw; dw++) {
          const w = ow * layer.stride + dw - px.before;
          if (w < 0 || w >= W) continue;
          for (let c = 0; c < ci; c++) {
            const v = x[(h * W + w) * ci + c]!;
            if (v === 0) continue;
            const kr = ((dh * kw + dw) * ci + c) * co;
            for (let d = 0; d < co; d++) y[o + d] = y[o + d]! + v * K[kr + d]!;
          }
        }
      }
    }
    return { y, shape: outShape };
  }
  if (layer.type === 'maxpool2d') {
    const [H, W, C] = shape as [number, number, number];
    const py = pad(H, layer.size, layer.stride, layer.padding);
    const px = pad(W, layer.size, layer.stride, layer.padding);
    const y = new Float64Array(py.out * px.out * C).fill(-Infinity);
    for (let oh = 0; oh < py.out; oh++) for (let ow = 0; ow < px.out; ow++) {
      const o = (oh * px.out + ow) * C;
      for (let dh = 0; dh < layer.size; dh++) {
        const h = oh * layer.stride + dh - py.before;
        if (h < 0 || h >= H) continue;
        for (let dw = 0; dw < layer.size; dw++) {
          const w = ow * layer.stride + dw - px.before;
          if (w < 0 || w >= W) continue;
          for (let c = 0; c < C; c++) y[o + c] = Math.max(y[o + c]!, x[(h * W + w) * C + c]!);
        }
      }
    }
    return { y, shape: outShape };
  }
  return { y: applyLayer(layer, x), shape: outShape };
}

/** The block's input of one sample: `pre` applied to a tensor input; the state itself for a state input; zeros (x(0) = 0) for a sequence. */
export function blockInput64(model: ModelIR, x: ArrayLike<number>): Float64Array {
  const input = model.input;
  if (input.kind === 'sequence') return new Float64Array(model.block.n);
  if (input.kind === 'state') {
    check(x.length === input.size, `a sample of ${x.length} values for a state input of size ${input.size}`, 'SHAPE');
    return Float64Array.from(x);
  }
  if (input.kind !== 'tensor') throw new OdemorError('MODEL', `unknown input kind '${(input as { kind?: unknown }).kind}'`);
  let shape = [...input.shape];
  check(x.length === shape.reduce((a, b) => a * b, 1), `a sample of ${x.length} values for an input of shape [${shape.join(', ')}]`, 'SHAPE');
  let v: Float64Array = Float64Array.from(x);
  model.pre.forEach((l, i) => {
    const r = applyLayer64(l, v, shape, `pre[${i}]`);
    v = r.y;
    shape = r.shape;
  });
  return v;
}

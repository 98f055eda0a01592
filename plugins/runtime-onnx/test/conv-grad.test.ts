/**
 * The conv / max-pool gradient emitters against tfjs autodiff (cpu backend): every formulation, on small
 * random inputs, same/valid padding, strides 1 and 2, and max-pool windows with ties.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { Tensor } from 'onnxruntime-node';
import { mulberry32 } from '@odemor/core';
import { GraphBuilder } from '../src/graph.js';
import { createSession } from '../src/session.js';
import {
  FORMULATIONS,
  emitConvBiasGrad,
  emitConvFilterGrad,
  emitConvInputGrad,
  emitMaxPoolGrad,
  type ConvAttrs,
  type ConvShapes,
} from '../src/grad/conv.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Shape3 = [number, number, number];

function rand(seed: number, n: number, levels?: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = levels ? Math.floor(r() * levels) : 2 * r() - 1;
  return out;
}

/** NCHW [B, C, H, W] ↔ NHWC [B, H, W, C]. */
function toNHWC(a: Float32Array, B: number, C: number, H: number, W: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((b * H + h) * W + w) * C + c] = a[((b * C + c) * H + h) * W + w]!;
  return o;
}
function toNCHW(a: Float32Array, B: number, C: number, H: number, W: number): Float32Array {
  const o = new Float32Array(a.length);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((b * C + c) * H + h) * W + w] = a[((b * H + h) * W + w) * C + c]!;
  return o;
}
/** OIHW [O, I, kh, kw] ↔ HWIO [kh, kw, I, O]. */
function oihwToHwio(k: Float32Array, O: number, I: number, kh: number, kw: number): Float32Array {
  const o = new Float32Array(k.length);
  for (let a = 0; a < O; a++) for (let i = 0; i < I; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) o[((y * kw + x) * I + i) * O + a] = k[((a * I + i) * kh + y) * kw + x]!;
  return o;
}

function relErr(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / Math.max(den, 1e-30);
}

/** Build a graph over `feeds` (dim 0 symbolic except for `w`), run it, return every output (rank 1 for db/bias, else 4). */
async function runGraph(
  build: (g: GraphBuilder) => Record<string, string>,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
): Promise<Record<string, Float32Array>> {
  const g = new GraphBuilder();
  const outs = build(g);
  const outputs = Object.entries(outs).map(([name, value]) => ({ name, value }));
  for (const o of outputs) g.node('Identity', [o.value], {}, o.name);
  const bytes = g.encode({
    name: 'conv-grad-test',
    opset: 17,
    inputs: Object.entries(feeds).map(([name, f]) => ({ name, dims: f.dims.map((d, i) => (i === 0 && name !== 'w' ? 'B' : d)) })),
    outputs: outputs.map((o) => ({ name: o.name, dims: /^(db|bias)/.test(o.name) ? ['o0'] : ['o0', 'o1', 'o2', 'o3'] })),
  });
  const session = await createSession(bytes, 1);
  try {
    const res = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new Tensor('float32', f.data, f.dims)])));
    return Object.fromEntries(outputs.map((o) => [o.name, (res[o.name] as Tensor).data as Float32Array]));
  } finally {
    await session.release();
  }
}

const outDim = (n: number, k: number, p0: number, p1: number, s: number) => Math.floor((n + p0 + p1 - k) / s) + 1;

interface ConvCase {
  name: string;
  B: number;
  x: Shape3;
  co: number;
  attrs: ConvAttrs;
}

const convCases: ConvCase[] = [
  { name: 'block-like: 3×3 same, stride 1', B: 3, x: [4, 6, 6], co: 4, attrs: { kernel: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] } },
  { name: 'pre-like: 1 → 5 channels, 3×3 valid', B: 2, x: [1, 9, 9], co: 5, attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [1, 1] } },
  { name: '2×3 kernel, uneven pads', B: 2, x: [3, 5, 7], co: 2, attrs: { kernel: [2, 3], pads: [0, 1, 1, 1], strides: [1, 1] } },
  { name: 'stride 2, same pads [0, 0, 1, 1]', B: 2, x: [3, 8, 8], co: 4, attrs: { kernel: [3, 3], pads: [0, 0, 1, 1], strides: [2, 2] } },
  { name: 'stride 2, valid, last row unused', B: 2, x: [2, 8, 8], co: 3, attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [2, 2] } },
];

/** tfjs reference of a conv case: dL/dX (NCHW), dL/dW (OIHW flattened as HWIO → OIHW), dL/db for L = Σ dY ⊙ Y. */
function tfjsConv(c: ConvCase, x: Float32Array, w: Float32Array, dy: Float32Array, shapes: ConvShapes) {
  const [ci, H, W] = c.x;
  const [co, Hy, Wy] = shapes.y;
  const [kh, kw] = c.attrs.kernel;
  const [pt, pl, pb, pr] = c.attrs.pads;
  return tf.tidy(() => {
    const xt = tf.tensor4d(toNHWC(x, c.B, ci, H, W), [c.B, H, W, ci]);
    const wt = tf.tensor4d(oihwToHwio(w, co, ci, kh, kw), [kh, kw, ci, co]);
    const bt = tf.zeros([co]);
    const dyt = tf.tensor4d(toNHWC(dy, c.B, co, Hy, Wy), [c.B, Hy, Wy, co]);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
    const f = (a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, c.attrs.strides, pad), b), dyt));
    const [gx, gw, gb] = tf.grads(f)([xt, wt, bt]);
    const gwHwio = gw!.dataSync() as Float32Array;
    // HWIO → OIHW
    const gwOihw = new Float32Array(gwHwio.length);
    for (let a = 0; a < co; a++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) gwOihw[((a * ci + i) * kh + y) * kw + z] = gwHwio[((y * kw + z) * ci + i) * co + a]!;
    return { dx: toNCHW(gx!.dataSync() as Float32Array, c.B, ci, H, W), dw: gwOihw, db: Float32Array.from(gb!.dataSync()) };
  });
}

describe('conv gradients vs tfjs autodiff', () => {
  for (const c of convCases) {
    const [ci, H, W] = c.x;
    const [kh, kw] = c.attrs.kernel;
    const [pt, pl, pb, pr] = c.attrs.pads;
    const [sh, sw] = c.attrs.strides;
    const shapes: ConvShapes = { x: c.x, y: [c.co, outDim(H, kh, pt, pb, sh), outDim(W, kw, pl, pr, sw)] };
    const [, Hy, Wy] = shapes.y;
    const x = rand(1, c.B * ci * H * W);
    const w = rand(2, c.co * ci * kh * kw);
    const dy = rand(3, c.B * c.co * Hy * Wy);
    const feeds = { x: { data: x, dims: [c.B, ...c.x] }, w: { data: w, dims: [c.co, ci, kh, kw] }, dy: { data: dy, dims: [c.B, ...shapes.y] } };

    it(`${c.name}: every formulation of dX, dW and db`, async () => {
      const ref = tfjsConv(c, x, w, dy, shapes);
      const out = await runGraph((g) => {
        const o: Record<string, string> = { db: emitConvBiasGrad(g, 'dy') };
        for (const f of FORMULATIONS.input) o[`dx_${f}`] = emitConvInputGrad(g, 'dy', 'w', c.attrs, shapes, { formulation: f });
        for (const f of FORMULATIONS.filter) o[`dw_${f}`] = emitConvFilterGrad(g, 'x', 'dy', c.attrs, shapes, { formulation: f });
        o.dw_default = emitConvFilterGrad(g, 'x', 'dy', c.attrs, shapes);
        o.dx_default = emitConvInputGrad(g, 'dy', 'w', c.attrs, shapes);
        return o;
      }, feeds);
      expect(relErr(out.db!, ref.db)).toBeLessThanOrEqual(1e-4);
      for (const f of [...FORMULATIONS.input, 'default']) expect(relErr(out[`dx_${f}`]!, ref.dx), `dx ${f}`).toBeLessThanOrEqual(1e-4);
      for (const f of [...FORMULATIONS.filter, 'default']) expect(relErr(out[`dw_${f}`]!, ref.dw), `dW ${f}`).toBeLessThanOrEqual(1e-4);
    });
  }

  it('a list of evaluations sums their filter and bias gradients', async () => {
    const c = convCases[0]!;
    const shapes: ConvShapes = { x: c.x, y: [c.co, 6, 6] };
    const n = c.B * 4 * 36;
    const [x1, x2, d1, d2] = [rand(5, n), rand(6, n), rand(7, n), rand(8, n)];
    const dims = [c.B, 4, 6, 6];
    const out = await runGraph(
      (g) => ({
        both: emitConvFilterGrad(g, ['x1', 'x2'], ['d1', 'd2'], c.attrs, shapes),
        one: emitConvFilterGrad(g, 'x1', 'd1', c.attrs, shapes),
        two: emitConvFilterGrad(g, 'x2', 'd2', c.attrs, shapes),
        bias: emitConvBiasGrad(g, ['d1', 'd2']),
      }),
      { x1: { data: x1, dims }, x2: { data: x2, dims }, d1: { data: d1, dims }, d2: { data: d2, dims } },
    );
    const sum = out.one!.map((v, i) => v + out.two![i]!);
    expect(relErr(out.both!, sum)).toBeLessThanOrEqual(1e-5);
    expect(out.bias!.length).toBe(4);
  });

  it('names bad attributes and shapes', () => {
    const g = new GraphBuilder();
    const attrs: ConvAttrs = { kernel: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] };
    expect(() => emitConvInputGrad(g, 'dy', 'w', attrs, { x: [4, 6, 6], y: [4, 5, 6] })).toThrow(/shapes\.y is \[4, 5, 6\]/);
    expect(() => emitConvFilterGrad(g, 'x', 'dy', { ...attrs, strides: [0, 1] }, { x: [4, 6, 6], y: [4, 6, 6] })).toThrow(/strides/);
    expect(() => emitConvFilterGrad(g, ['a', 'b'], ['c'], attrs, { x: [4, 6, 6], y: [4, 6, 6] })).toThrow(/2 inputs x but 1/);
    expect(() => emitMaxPoolGrad(g, 'x', 'y', 'dy', { kernel: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] }, { x: [4, 6, 6], y: [3, 3, 3] })).toThrow(/keeps the channels/);
  });
});

interface PoolCase {
  name: string;
  B: number;
  x: Shape3;
  attrs: ConvAttrs;
  /** integer-valued inputs with this many levels (ties), else uniform */
  levels?: number;
  /** the case has no ties, so the every-maximum rule ('equal') must agree too */
  tieFree?: boolean;
}

const poolCases: PoolCase[] = [
  { name: 'pre-like: 3×3 stride 3 valid, rows past the last window', B: 2, x: [3, 8, 8], attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [3, 3] }, tieFree: true },
  { name: 'post-like: 3×3 stride 3 same, pads [0, 0, 1, 1]', B: 2, x: [3, 8, 8], attrs: { kernel: [3, 3], pads: [0, 0, 1, 1], strides: [3, 3] }, tieFree: true },
  { name: '2×2 stride 2, 1×3 window', B: 2, x: [2, 6, 6], attrs: { kernel: [2, 3], pads: [0, 0, 0, 0], strides: [2, 3] }, tieFree: true },
  { name: 'overlapping 3×3 stride 2, pads 1', B: 2, x: [2, 7, 7], attrs: { kernel: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, tieFree: true },
  { name: 'ties: 3×3 stride 3 on values {0, 1, 2}', B: 2, x: [3, 9, 9], attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [3, 3] }, levels: 3 },
  { name: 'ties: overlapping 2×2 stride 1 on {0, 1}', B: 1, x: [2, 5, 5], attrs: { kernel: [2, 2], pads: [0, 0, 0, 0], strides: [1, 1] }, levels: 2 },
];

describe('max-pool gradient vs tfjs autodiff', () => {
  for (const c of poolCases) {
    const [C, H, W] = c.x;
    const [kh, kw] = c.attrs.kernel;
    const [pt, pl, pb, pr] = c.attrs.pads;
    const [sh, sw] = c.attrs.strides;
    const shapes: ConvShapes = { x: c.x, y: [C, outDim(H, kh, pt, pb, sh), outDim(W, kw, pl, pr, sw)] };
    const [, Hy, Wy] = shapes.y;
    const x = rand(11, c.B * C * H * W, c.levels);
    const dy = rand(12, c.B * C * Hy * Wy);

    it(`${c.name}: first maximum of each window (as tfjs)`, async () => {
      const ref = tf.tidy(() => {
        const xt = tf.tensor4d(toNHWC(x, c.B, C, H, W), [c.B, H, W, C]);
        const dyt = tf.tensor4d(toNHWC(dy, c.B, C, Hy, Wy), [c.B, Hy, Wy, C]);
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
        const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.attrs.kernel, c.attrs.strides, pad), dyt)))(xt);
        return toNCHW(gx.dataSync() as Float32Array, c.B, C, H, W);
      });
      const formulations = FORMULATIONS.maxPool.filter((f) => f !== 'equal' || c.tieFree);
      const out = await runGraph(
        (g) => {
          const y = g.node('MaxPool', ['x'], { kernel_shape: c.attrs.kernel, strides: c.attrs.strides, pads: c.attrs.pads });
          const o: Record<string, string> = { y, dx_default: emitMaxPoolGrad(g, 'x', y, 'dy', c.attrs, shapes) };
          for (const f of formulations) o[`dx_${f}`] = emitMaxPoolGrad(g, 'x', y, 'dy', c.attrs, shapes, { formulation: f });
          return o;
        },
        { x: { data: x, dims: [c.B, ...c.x] }, dy: { data: dy, dims: [c.B, ...shapes.y] } },
      );
      expect(out.y!.length).toBe(c.B * C * Hy * Wy);
      for (const f of [...formulations, 'default']) expect(relErr(out[`dx_${f}`]!, ref), `dx ${f}`).toBeLessThanOrEqual(1e-4);
      if (c.levels) {
        // the case really has ties: the every-maximum rule would give more gradient entries than windows
        let maxima = 0;
        for (let b = 0; b < c.B * C; b++) {
          for (let i = 0; i < Hy; i++) {
            for (let j = 0; j < Wy; j++) {
              let m = -Infinity;
              let count = 0;
              for (let a = 0; a < kh; a++) for (let z = 0; z < kw; z++) m = Math.max(m, x[(b * H + i * sh + a) * W + j * sw + z]!);
              for (let a = 0; a < kh; a++) for (let z = 0; z < kw; z++) count += x[(b * H + i * sh + a) * W + j * sw + z] === m ? 1 : 0;
              maxima += count;
            }
          }
        }
        expect(maxima).toBeGreaterThan(c.B * C * Hy * Wy);
      }
    });
  }

  it("'equal' gives every maximal element of a window the window's gradient", async () => {
    const attrs: ConvAttrs = { kernel: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] };
    const x = Float32Array.from([1, 1, 0, 3, 0, 1, 3, 2]); // [1, 1, 2, 4]: windows {1, 1, 0, 1} and {0, 3, 3, 2}
    const out = await runGraph(
      (g) => ({ dx: emitMaxPoolGrad(g, 'x', g.node('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] }), 'dy', attrs, { x: [1, 2, 4], y: [1, 1, 2] }, { formulation: 'equal' }) }),
      { x: { data: x, dims: [1, 1, 2, 4] }, dy: { data: Float32Array.from([5, 7]), dims: [1, 1, 1, 2] } },
    );
    expect([...out.dx!]).toEqual([5, 5, 0, 7, 0, 5, 7, 0]);
  });
});

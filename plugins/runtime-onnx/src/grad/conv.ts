/**
 * Gradients of the compiler's convolution and max-pool nodes as standard ONNX ops, for the reverse-mode
 * engine (docs/algorithms.md, "Gradients of the compiled graphs").
 *
 * Conventions of every emitter here:
 * - values are graph value names; activations are NCHW `[B, C, H, W]` with a dynamic batch `B` and static
 *   `C, H, W` (given in `shapes`, without the batch); kernels are OIHW `[Cout, Cin, kh, kw]`, the layout
 *   `compile.ts` emits for `Conv`;
 * - `attrs` are the forward node's attributes (`kernel_shape`, `pads` as `[top, left, bottom, right]`,
 *   `strides`); dilation and groups are 1, as the compiler emits them;
 * - an emitter only appends nodes and initializers to the builder and returns the name of its result.
 *
 * Several formulations of each gradient are kept (selectable through `formulation`) because their speed on
 * onnxruntime's CPU kernels differs by large factors; `bench/conv-grad.ts` measures them, and the defaults
 * are the fastest correct ones measured there (see bench/results/conv-grad.md).
 */
import { OdemorError } from '@odemor/core';
import type { GraphBuilder } from '../graph.js';

/** Attributes of a forward `Conv` (or `MaxPool`) node; dilations and groups are 1. */
export interface ConvAttrs {
  /** `kernel_shape`: [kh, kw] (for MaxPool: the window) */
  kernel: [number, number];
  /** `pads`: [top, left, bottom, right] */
  pads: [number, number, number, number];
  /** `strides`: [sh, sw] */
  strides: [number, number];
}

/** Static shapes of a forward node's input and output, without the batch: `[C, H, W]` each. */
export interface ConvShapes {
  x: [number, number, number];
  y: [number, number, number];
}

/** Attributes of a forward `MaxPool` node (same fields as {@link ConvAttrs}; `kernel` is the window). */
export type PoolAttrs = ConvAttrs;
/** Shapes of a forward `MaxPool` node's input and output (`x[0] === y[0]`, the channels). */
export type PoolShapes = ConvShapes;

/** Formulations of dL/dX (see {@link emitConvInputGrad}). */
export type ConvInputGradFormulation = 'conv' | 'conv-transpose';
/** Formulations of dL/dW (see {@link emitConvFilterGrad}). */
export type ConvFilterGradFormulation =
  | 'conv-swap'
  | 'shift-gemm'
  | 'shift-matmul'
  | 'im2col-gemm'
  | 'flat-shift-gemm'
  | 'flat-shift-matmul'
  | 'unfold-matmul'
  | 'slices-matmul'
  | 'depthwise-matmul'
  | 'flat-slices-matmul'
  | 'flat-im2col-gemm';
/** Formulations of the max-pool gradient (see {@link emitMaxPoolGrad}). */
export type MaxPoolGradFormulation = 'argmax' | 'space-to-depth' | 'first-mask' | 'equal' | 'slices';

/** Every formulation of each emitter (for the benchmark and the tests). */
export const FORMULATIONS = {
  input: ['conv', 'conv-transpose'] as const satisfies readonly ConvInputGradFormulation[],
  filter: ['conv-swap', 'shift-gemm', 'shift-matmul', 'im2col-gemm', 'flat-shift-gemm', 'flat-shift-matmul', 'unfold-matmul', 'slices-matmul', 'depthwise-matmul', 'flat-slices-matmul', 'flat-im2col-gemm'] as const satisfies readonly ConvFilterGradFormulation[],
  maxPool: ['argmax', 'space-to-depth', 'first-mask', 'equal', 'slices'] as const satisfies readonly MaxPoolGradFormulation[],
};

/**
 * The defaults: the fastest correct formulations of bench/conv-grad.ts. The filter gradient's `'auto'` is
 * `'shift-matmul'`, or `'slices-matmul'` for inputs with fewer than 4 channels (the pre layer's single
 * channel makes NHWC rows of one float, where the NCHW planes slice faster).
 */
export const DEFAULT_FORMULATIONS = {
  input: 'conv' as ConvInputGradFormulation,
  filter: 'auto' as ConvFilterGradFormulation | 'auto',
  maxPool: 'space-to-depth' as MaxPoolGradFormulation,
};

/** Slice `ends` meaning "to the end" (Slice clamps it to the dimension). */
const END = 2147483647;

// ───────────── checks ─────────────

function checkConv(attrs: ConvAttrs, shapes: ConvShapes, what: string, pool = false): void {
  const ints = (v: readonly number[], min: number) => v.every((d) => Number.isInteger(d) && d >= min);
  if (!ints(attrs.kernel, 1) || attrs.kernel.length !== 2) throw new OdemorError('MODEL', `${what}: kernel must be two positive integers; got [${attrs.kernel.join(', ')}]`);
  if (!ints(attrs.strides, 1) || attrs.strides.length !== 2) throw new OdemorError('MODEL', `${what}: strides must be two positive integers; got [${attrs.strides.join(', ')}]`);
  if (!ints(attrs.pads, 0) || attrs.pads.length !== 4) throw new OdemorError('MODEL', `${what}: pads must be four non-negative integers [top, left, bottom, right]; got [${attrs.pads.join(', ')}]`);
  if (!ints(shapes.x, 1) || shapes.x.length !== 3) throw new OdemorError('MODEL', `${what}: shapes.x must be [C, H, W] of positive integers; got [${shapes.x.join(', ')}]`);
  if (!ints(shapes.y, 1) || shapes.y.length !== 3) throw new OdemorError('MODEL', `${what}: shapes.y must be [C, H, W] of positive integers; got [${shapes.y.join(', ')}]`);
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const [sh, sw] = attrs.strides;
  const oh = Math.floor((shapes.x[1] + pt + pb - kh) / sh) + 1;
  const ow = Math.floor((shapes.x[2] + pl + pr - kw) / sw) + 1;
  if (oh !== shapes.y[1] || ow !== shapes.y[2]) {
    throw new OdemorError('MODEL', `${what}: input [${shapes.x.join(', ')}] with kernel ${kh}×${kw}, pads [${attrs.pads.join(', ')}], strides [${attrs.strides.join(', ')}] gives ${oh}×${ow}, but shapes.y is [${shapes.y.join(', ')}]`);
  }
  if (pool && shapes.x[0] !== shapes.y[0]) throw new OdemorError('MODEL', `${what}: a max-pool keeps the channels, but shapes.x has ${shapes.x[0]} and shapes.y ${shapes.y[0]}`);
  if (pool && (pt >= kh || pb >= kh || pl >= kw || pr >= kw)) throw new OdemorError('MODEL', `${what}: pads [${attrs.pads.join(', ')}] must be smaller than the window ${kh}×${kw}`);
}

const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

/** Concatenate values along the batch axis (one value passes through). */
function batchConcat(g: GraphBuilder, values: readonly string[], what: string): string {
  if (values.length === 0) throw new OdemorError('ARGUMENT', `${what}: no values given`);
  return values.length === 1 ? values[0]! : g.node('Concat', [...values], { axis: 0 });
}

// ───────────── small node helpers ─────────────

function slice(g: GraphBuilder, x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
  const inputs = [x, g.int64(starts), g.int64(ends), g.int64(axes)];
  if (steps) inputs.push(g.int64(steps));
  return g.node('Slice', inputs);
}

function pad(g: GraphBuilder, x: string, pads: number[], value?: number): string {
  if (pads.every((p) => p === 0)) return x;
  const inputs = [x, g.int64(pads)];
  if (value !== undefined && value !== 0) inputs.push(g.scalar(value));
  return g.node('Pad', inputs, { mode: 'constant' });
}

const reshape = (g: GraphBuilder, x: string, dims: number[]): string => g.node('Reshape', [x, g.int64(dims)]);
const transpose = (g: GraphBuilder, x: string, perm: number[]): string => g.node('Transpose', [x], { perm });
const unsqueeze = (g: GraphBuilder, x: string, axes: number[]): string => g.node('Unsqueeze', [x, g.int64(axes)]);
const reduceSum = (g: GraphBuilder, x: string, axes: number[], keepdims = 0): string => g.node('ReduceSum', [x, g.int64(axes)], { keepdims });

/** Stack 2-D tap results [a, b] (tap-major, row-major taps) into [kh·kw, a, b]. */
function stackTaps(g: GraphBuilder, taps: string[]): string {
  return taps.length === 1 ? unsqueeze(g, taps[0]!, [0]) : g.node('Concat', taps.map((t) => unsqueeze(g, t, [0])), { axis: 0 });
}

/** [kh, kw, Cin, Cout] (tap-major) as flat [kh·kw·Cin, Cout] or [kh·kw, Cin, Cout] → OIHW [Cout, Cin, kh, kw]. */
function tapsToOIHW(g: GraphBuilder, t: string, kh: number, kw: number, ci: number, co: number): string {
  return transpose(g, reshape(g, t, [kh, kw, ci, co]), [3, 2, 0, 1]);
}

/** Per-builder cache of derived weights (the flipped kernel is emitted once per weight, not per evaluation). */
const derived = new WeakMap<GraphBuilder, Map<string, string>>();
function cached(g: GraphBuilder, key: string, make: () => string): string {
  let m = derived.get(g);
  if (!m) derived.set(g, (m = new Map()));
  let hit = m.get(key);
  if (!hit) m.set(key, (hit = make()));
  return hit;
}

// ───────────── dL/dX ─────────────

/**
 * dL/dX of `Y = Conv(X, W)` given `dy` = dL/dY.
 *
 * @param g the graph builder
 * @param dy dL/dY, `[B, ...shapes.y]`
 * @param weight the forward kernel W, OIHW `[Cout, Cin, kh, kw]` (a graph input or initializer)
 * @param attrs the forward Conv's attributes
 * @param shapes `x: [Cin, H, W]`, `y: [Cout, Hy, Wy]` of the forward Conv
 * @param options.formulation `'conv'` (default): with stride 1 and pads ≤ kernel − 1, a plain `Conv` of dY
 *   with the spatially flipped, channel-transposed kernel `W'[i, o, a, b] = W[o, i, kh−1−a, kw−1−b]` and pads
 *   `kernel − 1 − pads` (as fast as the forward Conv); otherwise it falls back to `'conv-transpose'`,
 *   `ConvTranspose(dY, W)` with the forward pads, strides and an `output_padding` that restores H × W (the
 *   rows and columns no window reached get zero gradient). ConvTranspose is correct for every stride but
 *   about 6× slower on onnxruntime's CPU kernels.
 * @returns dL/dX, `[B, ...shapes.x]`
 */
export function emitConvInputGrad(
  g: GraphBuilder,
  dy: string,
  weight: string,
  attrs: ConvAttrs,
  shapes: ConvShapes,
  options: { formulation?: ConvInputGradFormulation } = {},
): string {
  checkConv(attrs, shapes, 'conv input gradient');
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const [sh, sw] = attrs.strides;
  const [, H, W] = shapes.x;
  const [, Hy, Wy] = shapes.y;
  const formulation = options.formulation ?? DEFAULT_FORMULATIONS.input;
  const convOk = sh === 1 && sw === 1 && pt < kh && pb < kh && pl < kw && pr < kw;
  if (formulation === 'conv' && convOk) {
    const flipped = cached(g, `flip:${weight}`, () =>
      slice(g, transpose(g, weight, [1, 0, 2, 3]), [-1, -1], [-END, -END], [2, 3], [-1, -1]),
    );
    return g.node('Conv', [dy, flipped], { kernel_shape: [kh, kw], strides: [1, 1], pads: [kh - 1 - pt, kw - 1 - pl, kh - 1 - pb, kw - 1 - pr] });
  }
  const outPad = [H - ((Hy - 1) * sh + kh - pt - pb), W - ((Wy - 1) * sw + kw - pl - pr)];
  return g.node('ConvTranspose', [dy, weight], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [pt, pl, pb, pr],
    ...(outPad.some((p) => p !== 0) ? { output_padding: outPad } : {}),
  });
}

// ───────────── dL/dW ─────────────

/**
 * dL/dW of `Y = Conv(X, W)`, summed over the batch (and over every pair when lists are given).
 *
 * @param g the graph builder
 * @param x the forward input(s) X, `[B, ...shapes.x]`; a list is concatenated along the batch with `dy`'s
 *   list, so that one kernel sums the filter gradient of several evaluations of the same Conv (the ODE
 *   block's weight is shared by all solver stages)
 * @param dy dL/dY for each `x`, `[B, ...shapes.y]`
 * @param attrs the forward Conv's attributes
 * @param shapes `x: [Cin, H, W]`, `y: [Cout, Hy, Wy]` of the forward Conv
 * @param options.formulation how (see bench/results/conv-grad.md for their timings); default `'auto'`
 *   (see {@link DEFAULT_FORMULATIONS}):
 *   - `'shift-matmul'`: per kernel tap, a strided `Slice` of the padded NHWC X, contracted with NHWC dY by a
 *     `MatMul` batched over 8 row chunks (so that it runs on every thread), one `ReduceSum` at the end;
 *   - `'slices-matmul'`: the tap slices of the padded NCHW X concatenated tap-major into the patches
 *     `[B, kh·kw·Cin, Hy·Wy]`, one batched `MatMul` per image with dYᵀ, the sum over the batch;
 *   - `'depthwise-matmul'`: as `'unfold-matmul'` with the patches from a one-channel Conv of `[B·Cin, 1, H, W]`;
 *   - `'flat-slices-matmul'` (stride 1): as `'slices-matmul'` with flat shifts of the padded NCHW planes;
 *   - `'flat-im2col-gemm'` (stride 1): flat shifts of the CNHW X concatenated into `[kh·kw·Cin, B·Hp·Wp]`
 *     and one fat `Gemm` with the CNHW dY on the padded grid;
 *   - `'unfold-matmul'`: the patches as a grouped `Conv` of X with fixed one-hot kernels
 *     (`[B, Cin·kh·kw, Hy, Wy]`, im2col done in cache per image by onnxruntime's Conv), then one batched
 *     `MatMul` per image with dYᵀ and a `ReduceSum` over the batch;
 *   - `'conv-swap'`: a `Conv` of X with dY as the kernel over batch-and-channel-swapped tensors;
 *   - `'shift-gemm'`: per kernel tap, a `Slice` of the padded NHWC X and a `Gemm` (transA) with NHWC dY;
 *   - `'im2col-gemm'`: the NHWC patches (Slices + Concat) and one `Gemm`;
 *   - `'flat-shift-gemm'` (stride 1): X padded NHWC and flattened to `[rows, Cin]`, dY placed on the same
 *     padded grid; each tap is a contiguous row `Slice` (a flat shift) and a `Gemm` (transA);
 *   - `'flat-shift-matmul'` (stride 1): the same flat shifts, contracted per image by a batched `MatMul`
 *     with the padded NCHW dY (no transpose of dY), then summed over the batch.
 *   Stride-1 formulations fall back to their strided counterparts (`'shift-gemm'`, `'slices-matmul'`,
 *   `'im2col-gemm'`) for other strides.
 * @returns dL/dW, OIHW `[Cout, Cin, kh, kw]`
 */
export function emitConvFilterGrad(
  g: GraphBuilder,
  x: string | readonly string[],
  dy: string | readonly string[],
  attrs: ConvAttrs,
  shapes: ConvShapes,
  options: { formulation?: ConvFilterGradFormulation | 'auto' } = {},
): string {
  checkConv(attrs, shapes, 'conv filter gradient');
  const xs = list(x);
  const dys = list(dy);
  if (xs.length !== dys.length) throw new OdemorError('ARGUMENT', `conv filter gradient: ${xs.length} inputs x but ${dys.length} gradients dy`);
  const X = batchConcat(g, xs, 'conv filter gradient');
  const D = batchConcat(g, dys, 'conv filter gradient');
  const chosen = options.formulation ?? DEFAULT_FORMULATIONS.filter;
  let formulation: ConvFilterGradFormulation = chosen === 'auto' ? (shapes.x[0] < 4 ? 'slices-matmul' : 'shift-matmul') : chosen;
  const unit = attrs.strides[0] === 1 && attrs.strides[1] === 1;
  if (!unit && (formulation === 'flat-shift-gemm' || formulation === 'flat-shift-matmul')) formulation = 'shift-gemm';
  if (!unit && formulation === 'flat-slices-matmul') formulation = 'slices-matmul';
  if (!unit && formulation === 'flat-im2col-gemm') formulation = 'im2col-gemm';
  switch (formulation) {
    case 'conv-swap':
      return filterConvSwap(g, X, D, attrs, shapes);
    case 'shift-gemm':
    case 'im2col-gemm':
      return filterShift(g, X, D, attrs, shapes, formulation === 'im2col-gemm');
    case 'shift-matmul':
      return filterShiftChunked(g, X, D, attrs, shapes);
    case 'flat-shift-gemm':
      return filterFlatShift(g, X, D, attrs, shapes);
    case 'flat-shift-matmul':
      return filterFlatShiftBatched(g, X, D, attrs, shapes);
    case 'unfold-matmul':
    case 'depthwise-matmul':
      return filterUnfold(g, X, D, attrs, shapes, formulation === 'depthwise-matmul');
    case 'slices-matmul':
      return filterSlicesMatmul(g, X, D, attrs, shapes);
    case 'flat-slices-matmul':
      return filterFlatSlicesMatmul(g, X, D, attrs, shapes);
    case 'flat-im2col-gemm':
      return filterFlatIm2col(g, X, D, attrs, shapes);
    default:
      throw new OdemorError('ARGUMENT', `conv filter gradient: unknown formulation '${formulation as string}'`);
  }
}

/** Conv over swapped tensors: Xᵀ [Cin, B, H, W] as the batch of images, dYᵀ [Cout, B, Hy, Wy] as the kernel. */
function filterConvSwap(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [, Hy, Wy] = shapes.y;
  const [sh, sw] = attrs.strides;
  const c = g.node('Conv', [transpose(g, X, [1, 0, 2, 3]), transpose(g, D, [1, 0, 2, 3])], {
    kernel_shape: [Hy, Wy],
    pads: attrs.pads,
    dilations: [sh, sw],
  }); // [Cin, Cout, ≥kh, ≥kw]: rows past the kernel (strided, uneven cover) are dropped
  const [, H, W] = shapes.x;
  const [pt, pl, pb, pr] = attrs.pads;
  const full = [H + pt + pb - sh * (Hy - 1), W + pl + pr - sw * (Wy - 1)];
  const k = full[0] !== kh || full[1] !== kw ? slice(g, c, [0, 0], [kh, kw], [2, 3]) : c;
  return transpose(g, k, [1, 0, 2, 3]);
}

/** Padded NHWC X [B, Hp, Wp, Cin] and NHWC dY flattened to [B·Hy·Wy, Cout]. */
function nhwc(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, co: number): { Xp: string; Df: string } {
  const [pt, pl, pb, pr] = attrs.pads;
  const Xp = pad(g, transpose(g, X, [0, 2, 3, 1]), [0, pt, pl, 0, 0, pb, pr, 0]);
  const Df = reshape(g, transpose(g, D, [0, 2, 3, 1]), [-1, co]);
  return { Xp, Df };
}

/** Per tap (a, b): X[:, a : a + sh·Hy : sh, b : … : sw, :] (NHWC), the rows that meet dY under that tap. */
function tapSlice(g: GraphBuilder, Xp: string, a: number, b: number, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [sh, sw] = attrs.strides;
  const [, Hy, Wy] = shapes.y;
  return slice(g, Xp, [a, b], [a + sh * (Hy - 1) + 1, b + sw * (Wy - 1) + 1], [1, 2], [sh, sw]);
}

function filterShift(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes, im2col: boolean): string {
  const [kh, kw] = attrs.kernel;
  const ci = shapes.x[0];
  const co = shapes.y[0];
  const { Xp, Df } = nhwc(g, X, D, attrs, co);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) taps.push(tapSlice(g, Xp, a, b, attrs, shapes));
  if (im2col) {
    const cols = reshape(g, taps.length === 1 ? taps[0]! : g.node('Concat', taps, { axis: 3 }), [-1, kh * kw * ci]);
    return tapsToOIHW(g, g.node('Gemm', [cols, Df], { transA: 1 }), kh, kw, ci, co);
  }
  const prods = taps.map((t) => g.node('Gemm', [reshape(g, t, [-1, ci]), Df], { transA: 1 })); // [Cin, Cout] each
  return tapsToOIHW(g, stackTaps(g, prods), kh, kw, ci, co);
}

/** The number of row chunks of the batched tap products: the largest of 8, 4, 2, 1 that divides Hy·Wy. */
function chunksOf(pixels: number): number {
  for (const s of [8, 4, 2]) if (pixels % s === 0) return s;
  return 1;
}

/**
 * As `'shift-gemm'`, but each tap's product is a batched MatMul over S row chunks (S | Hy·Wy, so S divides
 * B·Hy·Wy for every batch): `[S, Cout, K/S] × [S, K/S, Cin]`, which onnxruntime spreads over its threads
 * (a single Gemm with a 16 × 16 output runs on one); the chunks and taps are summed by one ReduceSum.
 */
function filterShiftChunked(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const ci = shapes.x[0];
  const [co, Hy, Wy] = shapes.y;
  const S = chunksOf(Hy * Wy);
  const { Xp, Df } = nhwc(g, X, D, attrs, co);
  const Dt = transpose(g, reshape(g, Df, [S, -1, co]), [0, 2, 1]); // [S, Cout, K/S]
  const prods: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) prods.push(unsqueeze(g, g.node('MatMul', [Dt, reshape(g, tapSlice(g, Xp, a, b, attrs, shapes), [S, -1, ci])]), [0]));
  }
  const all = prods.length === 1 ? prods[0]! : g.node('Concat', prods, { axis: 0 }); // [taps, S, Cout, Cin]
  return transpose(g, reshape(g, reduceSum(g, all, [1]), [kh, kw, co, ci]), [2, 3, 0, 1]);
}

/**
 * Stride 1: on the padded grid Hp × Wp (Hp = Hy + kh − 1), tap (a, b) pairs dY at flat position r with X at
 * r + a·Wp + b. dY is zero-padded (bottom, right) onto the same grid, so rows past an image's valid outputs
 * contribute nothing and each tap is one contiguous row range of the flattened NHWC X.
 */
function filterFlatShift(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const ci = shapes.x[0];
  const co = shapes.y[0];
  const Wp = shapes.x[2] + pl + pr;
  const offMax = (kh - 1) * Wp + (kw - 1);
  const Xf = reshape(g, pad(g, transpose(g, X, [0, 2, 3, 1]), [0, pt, pl, 0, 0, pb, pr, 0]), [-1, ci]);
  const Dg = reshape(g, pad(g, transpose(g, D, [0, 2, 3, 1]), [0, 0, 0, 0, 0, kh - 1, kw - 1, 0]), [-1, co]);
  const Ds = offMax > 0 ? slice(g, Dg, [0], [-offMax], [0]) : Dg;
  const prods: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const off = a * Wp + b;
      const Xs = offMax > 0 ? slice(g, Xf, [off], [off === offMax ? END : off - offMax], [0]) : Xf;
      prods.push(g.node('Gemm', [Xs, Ds], { transA: 1 }));
    }
  }
  return tapsToOIHW(g, stackTaps(g, prods), kh, kw, ci, co);
}

/**
 * Stride 1, per image: dY padded onto the Hp × Wp grid is `[B, Cout, Hp·Wp]` as it is (NCHW), X is padded,
 * NHWC-flattened and extended by `offMax` zero rows, so the tap-(a, b) slice reshapes to `[B, Hp·Wp, Cin]`;
 * a batched MatMul per tap gives `[B, Cout, Cin]`, summed over the batch at the end.
 */
function filterFlatShiftBatched(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const ci = shapes.x[0];
  const co = shapes.y[0];
  const Hp = shapes.x[1] + pt + pb;
  const Wp = shapes.x[2] + pl + pr;
  const offMax = (kh - 1) * Wp + (kw - 1);
  const Xf = reshape(g, pad(g, transpose(g, X, [0, 2, 3, 1]), [0, pt, pl, 0, 0, pb, pr, 0]), [-1, ci]);
  const Xe = pad(g, Xf, [0, 0, offMax, 0]);
  const Dg = reshape(g, pad(g, D, [0, 0, 0, 0, 0, 0, kh - 1, kw - 1]), [-1, co, Hp * Wp]);
  const prods: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const off = a * Wp + b;
      const Xs = reshape(g, slice(g, Xe, [off], [off === offMax ? END : off - offMax], [0]), [-1, Hp * Wp, ci]);
      prods.push(unsqueeze(g, g.node('MatMul', [Dg, Xs]), [0])); // [1, B, Cout, Cin]
    }
  }
  const all = prods.length === 1 ? prods[0]! : g.node('Concat', prods, { axis: 0 }); // [taps, B, Cout, Cin]
  const sum = reduceSum(g, all, [1]); // [taps, Cout, Cin]
  return transpose(g, reshape(g, sum, [kh, kw, co, ci]), [2, 3, 0, 1]);
}

/** One-hot kernels [Cin·kh·kw, 1, kh, kw] (group Cin): output channel c·kh·kw + t copies tap t of channel c. */
function unfoldKernel(g: GraphBuilder, ci: number, kh: number, kw: number): string {
  return cached(g, `unfold:${ci}:${kh}:${kw}`, () => {
    const taps = kh * kw;
    const data = new Float32Array(ci * taps * taps);
    for (let c = 0; c < ci; c++) for (let t = 0; t < taps; t++) data[(c * taps + t) * taps + t] = 1;
    return g.float('unfold_k', data, [ci * taps, 1, kh, kw]);
  });
}

/**
 * The patches col(X) `[B, Cin·kh·kw, Hy·Wy]` from a grouped Conv with one-hot kernels, then
 * `MatMul(col, dYᵀ)` per image `[B, Cin·kh·kw, Cout]` and the sum over the batch.
 */
function filterUnfold(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes, depthwise: boolean): string {
  const [kh, kw] = attrs.kernel;
  const [ci, H, W] = shapes.x;
  const [co, Hy, Wy] = shapes.y;
  const convAttrs = { kernel_shape: [kh, kw], pads: attrs.pads, strides: attrs.strides };
  const cols = depthwise
    ? g.node('Conv', [reshape(g, X, [-1, 1, H, W]), unfoldKernel(g, 1, kh, kw)], convAttrs) // [B·Cin, kh·kw, Hy, Wy]
    : g.node('Conv', [X, unfoldKernel(g, ci, kh, kw)], { ...convAttrs, group: ci });
  const colsF = reshape(g, cols, [-1, ci * kh * kw, Hy * Wy]);
  const Dt = transpose(g, reshape(g, D, [0, co, Hy * Wy]), [0, 2, 1]); // [B, Hy·Wy, Cout]
  const sum = reduceSum(g, g.node('MatMul', [colsF, Dt]), [0]); // [Cin·kh·kw, Cout], row c·kh·kw + t
  return transpose(g, reshape(g, sum, [ci, kh, kw, co]), [3, 0, 1, 2]);
}

/**
 * The patches in tap-major order `[B, kh·kw·Cin, Hy·Wy]` from one strided Slice per tap of the padded NCHW X
 * (each tap a contiguous block of Cin·Hy·Wy per image) and a Concat, then the batched MatMul with dYᵀ and
 * the sum over the batch.
 */
function filterSlicesMatmul(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.strides;
  const [pt, pl, pb, pr] = attrs.pads;
  const ci = shapes.x[0];
  const [co, Hy, Wy] = shapes.y;
  const Xp = pad(g, X, [0, 0, pt, pl, 0, 0, pb, pr]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) taps.push(slice(g, Xp, [a, b], [a + sh * (Hy - 1) + 1, b + sw * (Wy - 1) + 1], [2, 3], [sh, sw]));
  }
  const cols = reshape(g, taps.length === 1 ? taps[0]! : g.node('Concat', taps, { axis: 1 }), [0, kh * kw * ci, Hy * Wy]);
  const Dt = transpose(g, reshape(g, D, [0, co, Hy * Wy]), [0, 2, 1]);
  const sum = reduceSum(g, g.node('MatMul', [cols, Dt]), [0]); // [kh·kw·Cin, Cout]
  return tapsToOIHW(g, sum, kh, kw, ci, co);
}

/**
 * Stride 1, flat shifts: the padded NCHW X flattened to `[B, Cin, Hp·Wp + offMax]`, each tap a contiguous
 * range of the last axis, concatenated tap-major; dY zero-padded (bottom, right) onto the Hp × Wp grid.
 */
function filterFlatSlicesMatmul(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const ci = shapes.x[0];
  const co = shapes.y[0];
  const Hp = shapes.x[1] + pt + pb;
  const Wp = shapes.x[2] + pl + pr;
  const P = Hp * Wp;
  const offMax = (kh - 1) * Wp + (kw - 1);
  const Xf = pad(g, reshape(g, pad(g, X, [0, 0, pt, pl, 0, 0, pb, pr]), [0, ci, P]), [0, 0, 0, 0, 0, offMax]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) taps.push(slice(g, Xf, [a * Wp + b], [a * Wp + b + P], [2]));
  const cols = taps.length === 1 ? taps[0]! : g.node('Concat', taps, { axis: 1 }); // [B, kh·kw·Cin, P]
  const Dt = transpose(g, reshape(g, pad(g, D, [0, 0, 0, 0, 0, 0, kh - 1, kw - 1]), [0, co, P]), [0, 2, 1]);
  const sum = reduceSum(g, g.node('MatMul', [cols, Dt]), [0]);
  return tapsToOIHW(g, sum, kh, kw, ci, co);
}

/**
 * Stride 1, channels-first flat layout: X padded, as `[Cin, B·Hp·Wp + offMax]` (CNHW), each tap one
 * contiguous range per channel, the taps concatenated into `[kh·kw·Cin, B·Hp·Wp]` (whole blocks), and one
 * Gemm (transB) with dY zero-padded onto the grid as `[Cout, B·Hp·Wp]`: one fat GEMM whose rows
 * onnxruntime splits across threads.
 */
function filterFlatIm2col(g: GraphBuilder, X: string, D: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel;
  const [pt, pl, pb, pr] = attrs.pads;
  const ci = shapes.x[0];
  const co = shapes.y[0];
  const Wp = shapes.x[2] + pl + pr;
  const offMax = (kh - 1) * Wp + (kw - 1);
  const Xc = pad(g, reshape(g, transpose(g, pad(g, X, [0, 0, pt, pl, 0, 0, pb, pr]), [1, 0, 2, 3]), [ci, -1]), [0, 0, 0, offMax]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const off = a * Wp + b;
      taps.push(slice(g, Xc, [off], [off === offMax ? END : off - offMax], [1]));
    }
  }
  const cols = taps.length === 1 ? taps[0]! : g.node('Concat', taps, { axis: 0 }); // [kh·kw·Cin, N]
  const Dc = reshape(g, transpose(g, pad(g, D, [0, 0, 0, 0, 0, 0, kh - 1, kw - 1]), [1, 0, 2, 3]), [co, -1]);
  return tapsToOIHW(g, g.node('Gemm', [cols, Dc], { transB: 1 }), kh, kw, ci, co);
}

// ───────────── dL/db ─────────────

/**
 * dL/db of a Conv's bias input (`compile.ts` passes a conv2d layer's bias as the Conv's third input):
 * the sum of dY over the batch and the spatial axes.
 *
 * @param g the graph builder
 * @param dy dL/dY `[B, Cout, Hy, Wy]`, or a list of them (summed)
 * @returns dL/db `[Cout]`
 */
export function emitConvBiasGrad(g: GraphBuilder, dy: string | readonly string[]): string {
  return reduceSum(g, batchConcat(g, list(dy), 'conv bias gradient'), [0, 2, 3]);
}

// ───────────── max-pool ─────────────

/**
 * dL/dX of `Y = MaxPool(X)` given `dy` = dL/dY, without MaxPool's `Indices` output and without
 * `ScatterElements` (both take slow generic paths on onnxruntime's CPU).
 *
 * Tie rule (as tfjs-core's MaxPoolGrad on the cpu and wasm backends): each window's gradient goes to the
 * FIRST maximal element of the window in row-major order (the first `pixel > max` in a scan over rows,
 * then columns); padding never wins. Overlapping windows (stride < window) add their contributions.
 * Formulation `'equal'` instead gives the gradient to EVERY maximal element of a window (cheaper, but it
 * differs from tfjs where a window has ties, e.g. the zeros after a ReLU).
 *
 * @param g the graph builder
 * @param x the forward input `[B, C, H, W]`
 * @param y the forward output `[B, C, Hy, Wy]` (read by `'equal'` and `'first-mask'`; the others find the
 *   argmax themselves)
 * @param dy dL/dY `[B, C, Hy, Wy]`
 * @param attrs the forward MaxPool's attributes (`kernel` is the window)
 * @param shapes `x: [C, H, W]`, `y: [C, Hy, Wy]`
 * @param options.formulation (timings in bench/results/conv-grad.md)
 *   - `'space-to-depth'` (default; square non-overlapping windows, stride = window): X cropped to the
 *     windows, `SpaceToDepth` puts each window on the channel axis, `ArgMax` (first index), a one-hot mask
 *     times dY, `DepthToSpace` back;
 *   - `'argmax'` (non-overlapping windows): X cropped to the windows, its windows
 *     moved to a trailing axis (Reshape + Transpose), `ArgMax` (first index), a one-hot `Where` with dY, and
 *     back;
 *   - `'first-mask'` (non-overlapping): every maximum (`X == upsampled Y`) weighted by its rank in the window,
 *     a MaxPool of the weights picks the first, compared back (upsampling by `Resize` nearest);
 *   - `'equal'` (non-overlapping): mask `X == upsampled Y` times upsampled dY (every maximal element);
 *   - `'slices'` (any stride): one strided Slice per window position, `ArgMax` over them, and the masked dY
 *     put back by a `ConvTranspose` with one-hot kernels (adds overlapping windows).
 *   Non-overlapping formulations fall back to `'slices'` when the stride differs from the window, and
 *   `'space-to-depth'` also for non-square windows.
 * @returns dL/dX `[B, C, H, W]`
 */
export function emitMaxPoolGrad(
  g: GraphBuilder,
  x: string,
  y: string,
  dy: string,
  attrs: PoolAttrs,
  shapes: PoolShapes,
  options: { formulation?: MaxPoolGradFormulation } = {},
): string {
  checkConv(attrs, shapes, 'max-pool gradient', true);
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.strides;
  let formulation = options.formulation ?? DEFAULT_FORMULATIONS.maxPool;
  if (formulation !== 'slices' && (sh !== kh || sw !== kw)) formulation = 'slices';
  if (formulation === 'space-to-depth' && kh !== kw) formulation = 'slices';
  switch (formulation) {
    case 'argmax':
    case 'space-to-depth':
    case 'first-mask':
    case 'equal':
      return poolWindows(g, x, y, dy, attrs, shapes, formulation);
    case 'slices':
      return poolSlices(g, x, dy, attrs, shapes);
    default:
      throw new OdemorError('ARGUMENT', `max-pool gradient: unknown formulation '${formulation as string}'`);
  }
}

/** X padded with −∞ and cropped to the rows/columns some window reads: [B, C, Hc, Wc]. */
function poolInput(g: GraphBuilder, x: string, attrs: PoolAttrs, shapes: PoolShapes): { xc: string; Hc: number; Wc: number } {
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.strides;
  const [pt, pl, pb, pr] = attrs.pads;
  const [, H, W] = shapes.x;
  const [, Hy, Wy] = shapes.y;
  const Hc = (Hy - 1) * sh + kh;
  const Wc = (Wy - 1) * sw + kw;
  // Hc ≤ H + pt + pb: the pads that no window reaches are dropped by negative padding (a crop)
  const xc = padCrop(g, x, [pt, pl, Hc - H - pt, Wc - W - pl], -Infinity);
  return { xc, Hc, Wc };
}

/** Pad (positive) or crop (negative) the spatial axes of [B, C, H, W] by [top, left, bottom, right]. */
function padCrop(g: GraphBuilder, v: string, p: number[], value: number): string {
  const [t, l, b, r] = p as [number, number, number, number];
  let out = v;
  if (t < 0 || l < 0 || b < 0 || r < 0) {
    out = slice(g, out, [Math.max(0, -t), Math.max(0, -l)], [b < 0 ? b : END, r < 0 ? r : END], [2, 3]);
  }
  return pad(g, out, [0, 0, Math.max(0, t), Math.max(0, l), 0, 0, Math.max(0, b), Math.max(0, r)], value);
}

/** Gradient on the cropped [B, C, Hc, Wc] grid back to [B, C, H, W]: the inverse of {@link poolInput}. */
function poolOutput(g: GraphBuilder, v: string, attrs: PoolAttrs, shapes: PoolShapes, Hc: number, Wc: number): string {
  const [pt, pl] = attrs.pads;
  const [, H, W] = shapes.x;
  return padCrop(g, v, [-pt, -pl, H + pt - Hc, W + pl - Wc], 0);
}

const toFloat = (g: GraphBuilder, v: string): string => g.node('Cast', [v], { to: 1 });

function poolWindows(g: GraphBuilder, x: string, y: string, dy: string, attrs: PoolAttrs, shapes: PoolShapes, how: 'argmax' | 'space-to-depth' | 'first-mask' | 'equal'): string {
  const [kh, kw] = attrs.kernel;
  const [C, , ] = shapes.x;
  const [, Hy, Wy] = shapes.y;
  const { xc, Hc, Wc } = poolInput(g, x, attrs, shapes);
  let grad: string;
  if (how === 'first-mask') {
    // every maximum, weighted so that the first (row-major) in its window weighs most; a MaxPool of the
    // weights finds that first one, and only it equals its window's maximum weight
    const up = (v: string) => g.node('Resize', [v, '', g.float('scales', [1, 1, kh, kw], [4])], { mode: 'nearest' });
    const rank = new Float32Array(Hc * Wc);
    for (let i = 0; i < Hc; i++) for (let j = 0; j < Wc; j++) rank[i * Wc + j] = kh * kw - ((i % kh) * kw + (j % kw));
    const weighted = g.node('Mul', [toFloat(g, g.node('Equal', [xc, up(y)])), g.float('pool_rank', rank, [Hc, Wc])]);
    const first = g.node('MaxPool', [weighted], { kernel_shape: [kh, kw], strides: [kh, kw] });
    grad = g.node('Mul', [toFloat(g, g.node('Equal', [weighted, up(first)])), up(dy)]);
  } else if (how === 'equal') {
    const up = (v: string) => reshape(g, g.node('Expand', [reshape(g, v, [0, C, Hy, 1, Wy, 1]), g.int64([1, 1, 1, kh, 1, kw])]), [0, C, Hc, Wc]);
    grad = g.node('Mul', [toFloat(g, g.node('Equal', [xc, up(y)])), up(dy)]);
  } else if (how === 'space-to-depth') {
    // [B, k·k·C, Hy, Wy], depth index (a·k + b)·C + c
    const u = reshape(g, g.node('SpaceToDepth', [xc], { blocksize: kh }), [0, kh * kw, C, Hy, Wy]);
    const first = g.node('ArgMax', [u], { axis: 1, keepdims: 1 }); // [B, 1, C, Hy, Wy]
    const hot = g.node('Equal', [first, g.int64(iota(kh * kw), [1, kh * kw, 1, 1, 1])]);
    const m = g.node('Mul', [toFloat(g, hot), unsqueeze(g, dy, [1])]); // [B, k·k, C, Hy, Wy]
    grad = g.node('DepthToSpace', [reshape(g, m, [0, kh * kw * C, Hy, Wy])], { blocksize: kh, mode: 'DCR' });
  } else {
    const u = transpose(g, reshape(g, xc, [0, C, Hy, kh, Wy, kw]), [0, 1, 2, 4, 3, 5]); // [B, C, Hy, Wy, kh, kw]
    const first = g.node('ArgMax', [reshape(g, u, [0, C, Hy, Wy, kh * kw])], { axis: 4, keepdims: 1 });
    const hot = g.node('Equal', [first, g.int64(iota(kh * kw), [kh * kw])]);
    const m = g.node('Mul', [toFloat(g, hot), unsqueeze(g, dy, [4])]); // [B, C, Hy, Wy, kh·kw]
    grad = reshape(g, transpose(g, reshape(g, m, [0, C, Hy, Wy, kh, kw]), [0, 1, 2, 4, 3, 5]), [0, C, Hc, Wc]);
  }
  return poolOutput(g, grad, attrs, shapes, Hc, Wc);
}

function poolSlices(g: GraphBuilder, x: string, dy: string, attrs: PoolAttrs, shapes: PoolShapes): string {
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.strides;
  const [C, , ] = shapes.x;
  const [, Hy, Wy] = shapes.y;
  const { xc, Hc, Wc } = poolInput(g, x, attrs, shapes);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      taps.push(unsqueeze(g, slice(g, xc, [a, b], [a + (Hy - 1) * sh + 1, b + (Wy - 1) * sw + 1], [2, 3], [sh, sw]), [2]));
    }
  }
  const u = taps.length === 1 ? taps[0]! : g.node('Concat', taps, { axis: 2 }); // [B, C, k, Hy, Wy]
  const first = g.node('ArgMax', [u], { axis: 2, keepdims: 1 });
  const hot = g.node('Equal', [first, g.int64(iota(kh * kw), [kh * kw, 1, 1])]);
  const m = g.node('Mul', [toFloat(g, hot), unsqueeze(g, dy, [2])]); // [B, C, k, Hy, Wy]
  // put each window position back: ConvTranspose with one-hot kernels [k, 1, kh, kw] on [B·C, k, Hy, Wy]
  const taps2 = kh * kw;
  const oneHot = cached(g, `onehot:${kh}:${kw}`, () => {
    const data = new Float32Array(taps2 * taps2);
    for (let t = 0; t < taps2; t++) data[t * taps2 + t] = 1;
    return g.float('pool_onehot', data, [taps2, 1, kh, kw]);
  });
  const placed = g.node('ConvTranspose', [reshape(g, m, [-1, taps2, Hy, Wy]), oneHot], { kernel_shape: [kh, kw], strides: [sh, sw] });
  return poolOutput(g, reshape(g, placed, [-1, C, Hc, Wc]), attrs, shapes, Hc, Wc);
}

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

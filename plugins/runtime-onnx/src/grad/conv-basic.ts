/**
 * Straightforward, correct gradient emitters for `Conv` and `MaxPool` (docs/algorithms.md, "Gradients of the
 * compiled graphs"). The gradient rules (`rules.ts`) do not use them: they call the faster formulations of
 * `grad/conv.ts` (and take only the {@link ConvAttrs} type from here). The package root exports these three.
 *
 * The signature, shared by both files:
 * - `g` the graph builder to emit into; value arguments are graph value names;
 * - `attrs` the forward node's ONNX attributes as the compiler writes them: `kernel_shape` [kh, kw],
 *   `strides` [sh, sw], `pads` [top, left, bottom, right] (2-D only, no dilations, group 1);
 * - `shapes` the static NCHW shapes of the forward values, the batch written as {@link BATCH} (−1):
 *   `x` [N, C, H, W], `w` [O, C, kh, kw] (OIHW), `y` [N, O, Ho, Wo] (for MaxPool: `x`, `y` only);
 * - each returns the name of the gradient value: dX [N, C, H, W], dW [O, C, kh, kw].
 *
 * MaxPool ties: every element equal to its window's maximum receives that window's full gradient (so a tie
 * of t elements passes t·dy on; tfjs passes dy to one of them). Ties have measure zero on real data except
 * among zeros after a ReLU, where the ReLU's gradient is zero anyway.
 */
import type { GraphBuilder } from '../graph.js';
import { BATCH, type Shape } from './engine.js';

/** Attributes of a 2-D `Conv` (stride, 'same'/'valid' pads; no dilations, group 1). */
export interface ConvAttrs {
  kernel_shape: readonly number[];
  strides: readonly number[];
  /** [top, left, bottom, right] */
  pads: readonly number[];
}

/** Static NCHW shapes of a `Conv`: x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo]; N = BATCH (−1). */
export interface ConvShapes {
  x: Shape;
  w: Shape;
  y: Shape;
}

/** Attributes of a 2-D `MaxPool`. */
export type PoolAttrs = ConvAttrs;

/** Static NCHW shapes of a `MaxPool`: x [N, C, H, W], y [N, C, Ho, Wo]; N = BATCH (−1). */
export interface PoolShapes {
  x: Shape;
  y: Shape;
}

const SWAP01 = [1, 0, 2, 3];
/** The most negative float32: MaxPool's padding never wins a window. */
const LOWEST = -3.4028234663852886e38;

/**
 * dX of `Y = Conv(X, W)`. Stride 1: a plain `Conv` of dY with the kernel rotated by 180° and its channel axes
 * swapped, pads `k − 1 − p` (as fast as the forward convolution). Larger strides: `ConvTranspose(dY, W)` with
 * the forward pads and `output_padding` restoring H, W.
 */
export function emitConvInputGrad(g: GraphBuilder, dy: string, weight: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel_shape as [number, number];
  const [sh, sw] = attrs.strides as [number, number];
  const [pt, pl, pb, pr] = attrs.pads as [number, number, number, number];
  const [, , H, W] = shapes.x as [number, number, number, number];
  const [, , Ho, Wo] = shapes.y as [number, number, number, number];
  const flipPads = [kh - 1 - pt, kw - 1 - pl, kh - 1 - pb, kw - 1 - pr];
  if (sh === 1 && sw === 1 && flipPads.every((p) => p >= 0)) {
    const swapped = g.node('Transpose', [weight], { perm: SWAP01 });
    const rotated = g.node('Slice', [swapped, g.int64([-1, -1]), g.int64([-(kh + 1), -(kw + 1)]), g.int64([2, 3]), g.int64([-1, -1])]);
    return g.node('Conv', [dy, rotated], { kernel_shape: [kh, kw], strides: [1, 1], pads: flipPads });
  }
  const opH = H + pt + pb - kh - sh * (Ho - 1);
  const opW = W + pl + pr - kw - sw * (Wo - 1);
  return g.node('ConvTranspose', [dy, weight], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [pt, pl, pb, pr],
    output_padding: [opH, opW],
  });
}

/**
 * dW of `Y = Conv(X, W)`: a `Conv` of X and dY with their batch and channel axes swapped (dY becomes the
 * kernel, dilated by the stride), cropped to [kh, kw] and swapped back to OIHW.
 */
export function emitConvFilterGrad(g: GraphBuilder, x: string, dy: string, attrs: ConvAttrs, shapes: ConvShapes): string {
  const [kh, kw] = attrs.kernel_shape as [number, number];
  const [sh, sw] = attrs.strides as [number, number];
  const [pt, pl, pb, pr] = attrs.pads as [number, number, number, number];
  const [, , H, W] = shapes.x as [number, number, number, number];
  const [, , Ho, Wo] = shapes.y as [number, number, number, number];
  const xt = g.node('Transpose', [x], { perm: SWAP01 });
  const dyt = g.node('Transpose', [dy], { perm: SWAP01 });
  let r = g.node('Conv', [xt, dyt], { strides: [1, 1], dilations: [sh, sw], pads: [pt, pl, pb, pr] });
  const outH = H + pt + pb - (Ho - 1) * sh;
  const outW = W + pl + pr - (Wo - 1) * sw;
  if (outH !== kh || outW !== kw) r = g.node('Slice', [r, g.int64([0, 0]), g.int64([kh, kw]), g.int64([2, 3])]);
  return g.node('Transpose', [r], { perm: SWAP01 });
}

/** `t` [N, C, h, w] with zeros interleaved: [N, C, h·s, w·t] holding t at rows i·s, columns j·t. */
function dilate(g: GraphBuilder, v: string, c: number, h: number, w: number, s: number, t: number): string {
  if (s === 1 && t === 1) return v;
  const r = g.node('Reshape', [v, g.int64([-1, c, h, 1, w, 1])]);
  const p = g.node('Pad', [r, g.int64([0, 0, 0, 0, 0, 0, 0, 0, 0, s - 1, 0, t - 1])], { mode: 'constant' });
  return g.node('Reshape', [p, g.int64([-1, c, h * s, w * t])]);
}

/** `v` [N, C, h, w] (the padded frame's rows [0, h)) brought to the frame of X: rows [pt, pt + H), zeros beyond. */
function crop(g: GraphBuilder, v: string, h: number, w: number, pt: number, pl: number, H: number, W: number): string {
  const endH = Math.min(h, pt + H);
  const endW = Math.min(w, pl + W);
  let out = v;
  if (pt > 0 || pl > 0 || endH < h || endW < w) out = g.node('Slice', [out, g.int64([pt, pl]), g.int64([endH, endW]), g.int64([2, 3])]);
  const padH = pt + H - endH;
  const padW = pl + W - endW;
  if (padH > 0 || padW > 0) out = g.node('Pad', [out, g.int64([0, 0, 0, 0, 0, 0, padH, padW])], { mode: 'constant' });
  return out;
}

/**
 * dX of `Y = MaxPool(X)`. Non-overlapping windows (size = stride): `up(dY) ⊙ [X = up(Y)]`, `up` the nearest
 * upsampling (Reshape + Expand) brought to X's frame. Overlapping windows: for every window offset (a, b), the
 * strided slice of the padded X compared with Y selects where dY goes; the k² terms are placed back (zeros
 * interleaved for strides > 1, then padded to the offset) and summed. Ties: see the file's comment.
 */
export function emitMaxPoolGrad(g: GraphBuilder, x: string, y: string, dy: string, attrs: PoolAttrs, shapes: PoolShapes): string {
  const [kh, kw] = attrs.kernel_shape as [number, number];
  const [sh, sw] = attrs.strides as [number, number];
  const [pt, pl, pb, pr] = attrs.pads as [number, number, number, number];
  const [, C, H, W] = shapes.x as [number, number, number, number];
  const [, , Ho, Wo] = shapes.y as [number, number, number, number];
  if (C === BATCH) throw new Error('unreachable: channels are static');
  const zero = g.scalar(0);
  if (kh === sh && kw === sw) {
    const up = (v: string): string => {
      const r = g.node('Reshape', [v, g.int64([-1, C, Ho, 1, Wo, 1])]);
      const e = g.node('Expand', [r, g.int64([1, 1, 1, sh, 1, sw])]);
      return crop(g, g.node('Reshape', [e, g.int64([-1, C, Ho * sh, Wo * sw])]), Ho * sh, Wo * sw, pt, pl, H, W);
    };
    return g.node('Where', [g.node('Equal', [x, up(y)]), up(dy), zero]);
  }
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const xp = pt || pl || pb || pr ? g.node('Pad', [x, g.int64([0, 0, pt, pl, 0, 0, pb, pr]), g.scalar(LOWEST)], { mode: 'constant' }) : x;
  const terms: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const xab = g.node('Slice', [xp, g.int64([a, b]), g.int64([a + (Ho - 1) * sh + 1, b + (Wo - 1) * sw + 1]), g.int64([2, 3]), g.int64([sh, sw])]);
      const gab = g.node('Where', [g.node('Equal', [xab, y]), dy, zero]);
      const d = dilate(g, gab, C, Ho, Wo, sh, sw);
      // rows a + i·s of the padded frame; the dilated block spans Ho·s rows (its last s − 1 are zeros)
      const below = Hp - a - Ho * sh;
      const right = Wp - b - Wo * sw;
      let placed = g.node('Pad', [d, g.int64([0, 0, a, b, 0, 0, Math.max(below, 0), Math.max(right, 0)])], { mode: 'constant' });
      if (below < 0 || right < 0) placed = g.node('Slice', [placed, g.int64([0, 0]), g.int64([Hp, Wp]), g.int64([2, 3])]);
      terms.push(placed);
    }
  }
  const sum = terms.length === 1 ? terms[0]! : g.node('Sum', terms);
  return crop(g, sum, Hp, Wp, pt, pl, H, W);
}

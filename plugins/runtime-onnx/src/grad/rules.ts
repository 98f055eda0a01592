/**
 * One vector–Jacobian rule per ONNX op the compiler emits (docs/algorithms.md, "Gradients of the compiled
 * graphs"), batch-first, `dy` the gradient of the node's output. Every rule emits standard ONNX ops only; no
 * MaxPool `Indices` output and no `ScatterElements` with `reduction = add` (slow generic paths on CPU).
 */
import { OdemorError } from '@odemor/core';
import type { GraphBuilder, TapeNode } from '../graph.js';
// The Conv / MaxPool gradients use the measured formulations of './conv.js', adapted below to this file's attributes
// and shapes; './conv-basic.js' keeps the straightforward emitters (and the attribute type used here).
import type { ConvAttrs } from './conv-basic.js';
import * as fast from './conv.js';

/** The fast emitters of conv.ts (measured in bench/results/conv-grad.md) take [C, H, W] shapes and tuple attributes. */
const chw = (s: readonly number[]): [number, number, number] => [s[1]!, s[2]!, s[3]!];
const fastAttrs = (a: ConvAttrs): fast.ConvAttrs => ({
  kernel: [a.kernel_shape[0]!, a.kernel_shape[1]!],
  pads: [a.pads[0]!, a.pads[1]!, a.pads[2]!, a.pads[3]!],
  strides: [a.strides[0]!, a.strides[1]!],
});
const emitConvInputGrad = (g: GraphBuilder, dy: string, w: string, a: ConvAttrs, s: { x: readonly number[]; y: readonly number[] }) =>
  fast.emitConvInputGrad(g, dy, w, fastAttrs(a), { x: chw(s.x), y: chw(s.y) });
const emitConvFilterGrad = (g: GraphBuilder, x: string, dy: string, a: ConvAttrs, s: { x: readonly number[]; y: readonly number[] }) =>
  fast.emitConvFilterGrad(g, x, dy, fastAttrs(a), { x: chw(s.x), y: chw(s.y) });
const emitMaxPoolGrad = (g: GraphBuilder, x: string, y: string, dy: string, a: ConvAttrs, s: { x: readonly number[]; y: readonly number[] }) =>
  fast.emitMaxPoolGrad(g, x, y, dy, fastAttrs(a), { x: chw(s.x), y: chw(s.y) });
import { BATCH, type GradContext, type Shape, type VjpRule } from './engine.js';

/** A Reshape target for a static shape: the batch dimension (at most one) becomes −1. */
function shapeSpec(g: GraphBuilder, shape: Shape): string {
  if (shape.filter((d) => d === BATCH).length > 1) throw new OdemorError('MODEL', `gradient: shape [${shape.join(', ')}] has two batch dimensions`);
  return g.int64([...shape]);
}

/**
 * Sum `dy` (shape `from`) over the axes that numpy broadcasting expanded to reach `from` from `to`, then
 * reshape it to `to`: the gradient of a broadcast operand.
 */
export function reduceTo(g: GraphBuilder, dy: string, from: Shape, to: Shape): string {
  const lead = from.length - to.length;
  const padded = [...new Array<number>(lead).fill(1), ...to];
  const axes: number[] = [];
  padded.forEach((d, i) => {
    if (d === 1 && from[i] !== 1) axes.push(i);
    else if (d !== from[i]) throw new OdemorError('MODEL', `gradient: cannot reduce [${from.join(', ')}] to [${to.join(', ')}]`);
  });
  if (axes.length === 0 && lead === 0) return dy;
  const summed = axes.length ? g.node('ReduceSum', [dy, g.int64(axes)], { keepdims: 1 }) : dy;
  return lead === 0 ? summed : g.node('Reshape', [summed, shapeSpec(g, to)]);
}

const ints = (node: TapeNode, name: string): number[] | undefined => node.attrs[name] as number[] | undefined;
const int = (node: TapeNode, name: string, dflt: number): number => (node.attrs[name] as number | undefined) ?? dflt;

/** Gradients of a binary elementwise node, reduced to each input's shape. */
function binary(ctx: GradContext, node: TapeNode, need: readonly boolean[], da: () => string, db: () => string): (string | undefined)[] {
  const out = ctx.shape(node.output);
  return [
    need[0] ? reduceTo(ctx.g, da(), out, ctx.shape(node.inputs[0]!)) : undefined,
    need[1] ? reduceTo(ctx.g, db(), out, ctx.shape(node.inputs[1]!)) : undefined,
  ];
}

/** dX of `Gather(X, idx, axis)`: the inverse gather of a zero-padded dY (distinct indices), or a 0/1 matrix product. */
function gatherGrad(ctx: GradContext, node: TapeNode, dy: string): string {
  const g = ctx.g;
  const xShape = ctx.shape(node.inputs[0]!);
  const axis = int(node, 'axis', 0);
  const idxShape = ctx.shape(node.inputs[1]!);
  const n = xShape[axis]!;
  const idx = ctx.ints(node.inputs[1]!).map((i) => (i < 0 ? i + n : i));
  let d = dy;
  if (idxShape.length === 0) d = g.node('Unsqueeze', [dy, g.int64([axis])]);
  else if (idxShape.length !== 1) throw new OdemorError('MODEL', `gradient: Gather '${node.output}' with rank-${idxShape.length} indices`);
  const k = idx.length;
  const distinct = new Set(idx).size === k;
  if (distinct) {
    const inv = new Array<number>(n).fill(k);
    idx.forEach((j, i) => (inv[j] = i));
    const rank = xShape.length;
    const pads = new Array<number>(2 * rank).fill(0);
    pads[rank + axis] = 1;
    const padded = g.node('Pad', [d, g.int64(pads)], { mode: 'constant' });
    return g.node('Gather', [padded, g.int64(inv)], { axis });
  }
  // repeated indices (e.g. the zero column a scatter gathers many times): dX = dY · S, S[i, idx[i]] = 1
  if (xShape.length !== 2 || axis !== 1) throw new OdemorError('MODEL', `gradient: Gather '${node.output}' repeats indices on axis ${axis} of a rank-${xShape.length} value`);
  const S = new Float32Array(k * n);
  idx.forEach((j, i) => (S[i * n + j] = 1));
  return g.node('MatMul', [d, g.float('gather_S', S, [k, n])]);
}

/** The Conv / MaxPool attributes of a forward node, with the defaults ONNX gives them. */
function convAttrs(ctx: GradContext, node: TapeNode): ConvAttrs {
  const x = ctx.shape(node.inputs[0]!);
  const kernel = ints(node, 'kernel_shape') ?? ctx.shape(node.inputs[1]!).slice(2);
  if (x.length !== 4 || kernel.length !== 2) throw new OdemorError('MODEL', `gradient: ${node.op} '${node.output}' is not 2-D`);
  const dil = ints(node, 'dilations');
  if ((dil && dil.some((d) => d !== 1)) || int(node, 'group', 1) !== 1) {
    throw new OdemorError('MODEL', `gradient: ${node.op} '${node.output}' has dilations or groups`);
  }
  return { kernel_shape: kernel, strides: ints(node, 'strides') ?? [1, 1], pads: ints(node, 'pads') ?? [0, 0, 0, 0] };
}

/** The rules, by ONNX op type. */
export const RULES: Readonly<Record<string, VjpRule>> = {
  Identity: (_ctx, _node, dy) => [dy],
  Add: (ctx, node, dy, need) => binary(ctx, node, need, () => dy, () => dy),
  Sub: (ctx, node, dy, need) => binary(ctx, node, need, () => dy, () => ctx.g.node('Neg', [dy])),
  Mul: (ctx, node, dy, need) =>
    binary(ctx, node, need, () => ctx.g.node('Mul', [dy, node.inputs[1]!]), () => ctx.g.node('Mul', [dy, node.inputs[0]!])),
  Sum: (ctx, node, dy, need) => {
    const out = ctx.shape(node.output);
    return node.inputs.map((x, i) => (need[i] ? reduceTo(ctx.g, dy, out, ctx.shape(x)) : undefined));
  },
  Neg: (ctx, _node, dy) => [ctx.g.node('Neg', [dy])],
  // d|x| = sign(x) (0 at x = 0, as tfjs)
  Abs: (ctx, node, dy) => [ctx.g.node('Mul', [dy, ctx.g.node('Sign', [node.inputs[0]!])])],
  Tanh: (ctx, node, dy) => {
    const g = ctx.g;
    const y = node.output;
    return [g.node('Mul', [dy, g.node('Sub', [g.scalar(1), g.node('Mul', [y, y])])])];
  },
  // [s > 0] = sign(relu(s)) (0 at s = 0, as tfjs)
  Relu: (ctx, node, dy) => [ctx.g.node('Mul', [dy, ctx.g.node('Sign', [node.output])])],
  Softplus: (ctx, node, dy) => [ctx.g.node('Mul', [dy, ctx.g.node('Sigmoid', [node.inputs[0]!])])],
  Sigmoid: (ctx, node, dy) => {
    const g = ctx.g;
    const y = node.output;
    return [g.node('Mul', [dy, g.node('Mul', [y, g.node('Sub', [g.scalar(1), y])])])];
  },
  MatMul: (ctx, node, dy, need) => {
    const g = ctx.g;
    const [a, b] = node.inputs as [string, string];
    const aShape = ctx.shape(a);
    const bShape = ctx.shape(b);
    if (aShape.length === 2) {
      return [need[0] ? g.node('Gemm', [dy, b], { transB: 1 }) : undefined, need[1] ? g.node('Gemm', [a, dy], { transA: 1 }) : undefined];
    }
    // batched rows [..., m, k] · [k, n]: dA = dY Bᵀ, dB = Σ rows Aᵀ dY over the flattened leading axes
    const k = bShape[0]!;
    const n = bShape[1]!;
    return [
      need[0] ? g.node('MatMul', [dy, g.node('Transpose', [b], { perm: [1, 0] })]) : undefined,
      need[1]
        ? g.node('Gemm', [g.node('Reshape', [a, g.int64([-1, k])]), g.node('Reshape', [dy, g.int64([-1, n])])], { transA: 1 })
        : undefined,
    ];
  },
  Gemm: (ctx, node, dy, need) => {
    const g = ctx.g;
    const [a, b, c] = node.inputs as [string, string, string | undefined];
    const alpha = (node.attrs.alpha as number | undefined) ?? 1;
    const beta = (node.attrs.beta as number | undefined) ?? 1;
    const tA = int(node, 'transA', 0);
    const tB = int(node, 'transB', 0);
    // (alpha as a Mul: the builder writes integer-valued numbers as INT attributes)
    const scaled = (v: string): string => (alpha === 1 ? v : g.node('Mul', [v, g.scalar(alpha)]));
    const da = !need[0] ? undefined : scaled(tA ? g.node('Gemm', [b, dy], { transA: tB, transB: 1 }) : g.node('Gemm', [dy, b], { transB: tB ? 0 : 1 }));
    const db = !need[1] ? undefined : scaled(tB ? g.node('Gemm', [dy, a], { transA: 1, transB: tA }) : g.node('Gemm', [a, dy], { transA: tA ? 0 : 1 }));
    let dc: string | undefined;
    if (c && need[2]) {
      dc = reduceTo(g, beta === 1 ? dy : g.node('Mul', [dy, g.scalar(beta)]), ctx.shape(node.output), ctx.shape(c));
    }
    return [da, db, dc];
  },
  Reshape: (ctx, node, dy) => [ctx.g.node('Reshape', [dy, shapeSpec(ctx.g, ctx.shape(node.inputs[0]!))])],
  Transpose: (ctx, node, dy) => {
    const rank = ctx.shape(node.inputs[0]!).length;
    const perm = ints(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    return [ctx.g.node('Transpose', [dy], { perm: inv })];
  },
  Gather: (ctx, node, dy, need) => [need[0] ? gatherGrad(ctx, node, dy) : undefined],
  Pad: (ctx, node, dy) => {
    const mode = (node.attrs.mode as string | undefined) ?? 'constant';
    const x = ctx.shape(node.inputs[0]!);
    const pads = ctx.ints(node.inputs[1]!);
    if (mode !== 'constant' || pads.some((p) => p < 0) || node.inputs.length > 3) {
      throw new OdemorError('MODEL', `gradient: Pad '${node.output}' (mode ${mode}, pads [${pads.join(', ')}]) is not supported`);
    }
    const axes: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    x.forEach((d, i) => {
      const before = pads[i]!;
      const after = pads[i + x.length]!;
      if (before === 0 && after === 0) return;
      axes.push(i);
      starts.push(before);
      ends.push(before + d);
    });
    if (axes.length === 0) return [dy];
    const g = ctx.g;
    return [g.node('Slice', [dy, g.int64(starts), g.int64(ends), g.int64(axes)])];
  },
  Slice: (ctx, node, dy) => {
    const x = ctx.shape(node.inputs[0]!);
    const y = ctx.shape(node.output);
    const starts = ctx.ints(node.inputs[1]!);
    const axes = node.inputs[3] ? ctx.ints(node.inputs[3]) : starts.map((_, i) => i);
    const steps = node.inputs[4] ? ctx.ints(node.inputs[4]) : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) throw new OdemorError('MODEL', `gradient: Slice '${node.output}' with steps ≠ 1`);
    const pads = new Array<number>(2 * x.length).fill(0);
    axes.forEach((axRaw, i) => {
      const ax = axRaw < 0 ? axRaw + x.length : axRaw;
      const dim = x[ax]!;
      const lo = Math.min(Math.max(starts[i]! < 0 ? starts[i]! + dim : starts[i]!, 0), dim);
      pads[ax] = lo;
      pads[ax + x.length] = dim - lo - y[ax]!;
    });
    return [ctx.g.node('Pad', [dy, ctx.g.int64(pads)], { mode: 'constant' })];
  },
  Concat: (ctx, node, dy, need) => {
    const g = ctx.g;
    const rank = ctx.shape(node.output).length;
    const axisRaw = int(node, 'axis', 0);
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    let offset = 0;
    return node.inputs.map((x, i) => {
      const len = ctx.shape(x)[axis]!;
      if (len === BATCH) throw new OdemorError('MODEL', `gradient: Concat '${node.output}' along the batch axis`);
      const lo = offset;
      offset += len;
      return need[i] ? g.node('Slice', [dy, g.int64([lo]), g.int64([lo + len]), g.int64([axis])]) : undefined;
    });
  },
  Conv: (ctx, node, dy, need) => {
    const g = ctx.g;
    const [x, w, b] = node.inputs as [string, string, string | undefined];
    const attrs = convAttrs(ctx, node);
    const shapes = { x: ctx.shape(x), w: ctx.shape(w), y: ctx.shape(node.output) };
    return [
      need[0] ? emitConvInputGrad(g, dy, w, attrs, shapes) : undefined,
      need[1] ? emitConvFilterGrad(g, x, dy, attrs, shapes) : undefined,
      b && need[2] ? g.node('ReduceSum', [dy, g.int64([0, 2, 3])], { keepdims: 0 }) : undefined,
    ];
  },
  MaxPool: (ctx, node, dy) => {
    const x = node.inputs[0]!;
    const attrs = convAttrs(ctx, node);
    if (ints(node, 'kernel_shape') === undefined) throw new OdemorError('MODEL', `gradient: MaxPool '${node.output}' has no kernel_shape`);
    return [emitMaxPoolGrad(ctx.g, x, node.output, dy, attrs, { x: ctx.shape(x), y: ctx.shape(node.output) })];
  },
};

/**
 * Reverse-mode differentiation over the graph builder's tape (docs/algorithms.md, "Gradients of the compiled
 * graphs"): the forward nodes the compiler appended are reversed, and for every node on a path from a
 * parameter to the loss one vector–Jacobian rule of `rules.ts` emits the backward nodes — standard ONNX ops
 * only, into the same graph. Shapes are inferred statically from the tape (the batch is the symbolic dim
 * {@link BATCH}); the rules need them to reduce gradients over broadcast axes and to invert reshapes.
 */
import { OdemorError } from '@odemor/core';
import type { GraphBuilder, TapeNode } from '../graph.js';
import { RULES } from './rules.js';

/** The symbolic batch dimension in a {@link Shape}. */
export const BATCH = -1;

/** A static shape; {@link BATCH} (−1) stands for the batch size, which the graph leaves symbolic. */
export type Shape = readonly number[];

/** What a vector–Jacobian rule sees: the builder, static shapes and constant int64 values of the forward graph. */
export interface GradContext {
  readonly g: GraphBuilder;
  /** static shape of a forward value (MODEL error when unknown) */
  shape(name: string): Shape;
  /** the int64 values of a constant (initializer or value computed from shapes); MODEL error when unknown */
  ints(name: string): number[];
}

/**
 * A vector–Jacobian rule: given the node, the gradient `dy` of its output and which inputs need a gradient,
 * return the gradient of each input (undefined where not needed or not differentiable).
 */
export type VjpRule = (ctx: GradContext, node: TapeNode, dy: string, need: readonly boolean[]) => (string | undefined)[];

/** Ops with no gradient (integer, shape or comparison results): the engine never differentiates through them. */
const NON_DIFFERENTIABLE = new Set(['Shape', 'ConstantOfShape', 'Equal', 'Greater', 'Less', 'Sign', 'Cast', 'ArgMax']);

const attrInts = (node: TapeNode, name: string): number[] | undefined => node.attrs[name] as number[] | undefined;
const attrInt = (node: TapeNode, name: string, dflt: number): number => (node.attrs[name] as number | undefined) ?? dflt;

function broadcast(a: Shape, b: Shape, node: TapeNode): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[i - (r - a.length)] ?? 1;
    const y = b[i - (r - b.length)] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new OdemorError('MODEL', `gradient: ${node.op} node '${node.output}' broadcasts [${a.join(', ')}] with [${b.join(', ')}]`);
  }
  return out;
}

/** Clamp a Slice bound as ONNX does (positive step). */
function sliceBound(v: number, dim: number): number {
  const x = v < 0 ? v + dim : v;
  return Math.min(Math.max(x, 0), dim);
}

/**
 * Static shapes of every value of the tape, from the shapes of the graph inputs (initializers are known to
 * the builder). Also tracks int64 values computed from shapes (Shape → Slice → Concat → ConstantOfShape, as
 * the compiler builds its zero states).
 */
export class ShapeTable {
  private readonly shapes = new Map<string, Shape>();
  private readonly values = new Map<string, number[]>();

  constructor(
    private readonly g: GraphBuilder,
    inputs: ReadonlyMap<string, Shape>,
  ) {
    for (const [k, v] of inputs) this.shapes.set(k, v);
    for (const node of g.tape) this.infer(node);
  }

  shape(name: string): Shape {
    const s = this.shapes.get(name) ?? this.g.constant(name)?.dims;
    if (!s) throw new OdemorError('MODEL', `gradient: no static shape is known for the graph value '${name}'`);
    return s;
  }

  has(name: string): boolean {
    return this.shapes.has(name) || this.g.constant(name) !== undefined;
  }

  ints(name: string): number[] {
    const v = this.values.get(name) ?? this.g.constant(name)?.ints;
    if (!v) throw new OdemorError('MODEL', `gradient: the graph value '${name}' is no int64 constant`);
    return v;
  }

  private infer(node: TapeNode): void {
    const s = (i: number): Shape => this.shape(node.inputs[i]!);
    const set = (shape: number[]): void => void this.shapes.set(node.output, shape);
    switch (node.op) {
      case 'Identity':
      case 'Tanh':
      case 'Relu':
      case 'Softplus':
      case 'Sigmoid':
      case 'Neg':
      case 'Exp':
      case 'Abs':
      case 'Sign':
      case 'Cast':
        set([...s(0)]);
        if (this.values.has(node.inputs[0]!) && node.op === 'Identity') this.values.set(node.output, this.values.get(node.inputs[0]!)!);
        return;
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'Equal':
      case 'Greater':
      case 'Less':
        set(broadcast(s(0), s(1), node));
        return;
      case 'Sum': {
        let out: number[] = [...s(0)];
        for (let i = 1; i < node.inputs.length; i++) out = broadcast(out, s(i), node);
        set(out);
        return;
      }
      case 'MatMul': {
        const a = s(0);
        const b = s(1);
        if (a.length < 2 || b.length !== 2 || a[a.length - 1] !== b[0]) {
          throw new OdemorError('MODEL', `gradient: MatMul '${node.output}' of [${a.join(', ')}] and [${b.join(', ')}] is not supported`);
        }
        set([...a.slice(0, -1), b[1]!]);
        return;
      }
      case 'Gemm': {
        const a = s(0);
        const b = s(1);
        set([attrInt(node, 'transA', 0) ? a[1]! : a[0]!, attrInt(node, 'transB', 0) ? b[0]! : b[1]!]);
        return;
      }
      case 'Reshape': {
        const x = s(0);
        const spec = this.ints(node.inputs[1]!).map((d, i) => (d === 0 ? x[i]! : d));
        const free = spec.indexOf(-1);
        if (free >= 0) {
          const known = spec.reduce((p, d, i) => (i === free ? p : p * d), 1);
          if (x[0] === BATCH) {
            const rest = x.slice(1).reduce((p, d) => p * d, 1);
            if (rest !== known || x.slice(1).includes(BATCH)) {
              throw new OdemorError('MODEL', `gradient: Reshape '${node.output}' of [${x.join(', ')}] to [${spec.join(', ')}] moves the batch dimension`);
            }
            spec[free] = BATCH;
          } else {
            spec[free] = x.reduce((p, d) => p * d, 1) / known;
          }
        }
        set(spec);
        return;
      }
      case 'Transpose': {
        const x = s(0);
        const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
        set(perm.map((p) => x[p]!));
        return;
      }
      case 'Gather': {
        const x = s(0);
        const axis = attrInt(node, 'axis', 0);
        const idx = this.shape(node.inputs[1]!);
        set([...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]);
        const v = this.values.get(node.inputs[0]!);
        if (v && x.length === 1) this.values.set(node.output, this.ints(node.inputs[1]!).map((i) => v[i < 0 ? i + v.length : i]!));
        return;
      }
      case 'Pad': {
        const x = s(0);
        const pads = this.ints(node.inputs[1]!);
        if (x.some((d, i) => d === BATCH && (pads[i] || pads[i + x.length]))) {
          throw new OdemorError('MODEL', `gradient: Pad '${node.output}' pads the batch dimension`);
        }
        set(x.map((d, i) => (d === BATCH ? BATCH : d + pads[i]! + pads[i + x.length]!)));
        return;
      }
      case 'Slice': {
        const x = s(0);
        const starts = this.ints(node.inputs[1]!);
        const ends = this.ints(node.inputs[2]!);
        const axes = node.inputs[3] ? this.ints(node.inputs[3]) : starts.map((_, i) => i);
        const steps = node.inputs[4] ? this.ints(node.inputs[4]) : starts.map(() => 1);
        const out = [...x];
        const v = this.values.get(node.inputs[0]!);
        let vals = v ? [...v] : undefined;
        axes.forEach((axRaw, i) => {
          const ax = axRaw < 0 ? axRaw + x.length : axRaw;
          const dim = x[ax]!;
          if (dim === BATCH) throw new OdemorError('MODEL', `gradient: Slice '${node.output}' slices the batch dimension`);
          const step = steps[i]!;
          let lo: number;
          let hi: number;
          if (step > 0) {
            lo = sliceBound(starts[i]!, dim);
            hi = sliceBound(ends[i]!, dim);
            out[ax] = Math.max(0, Math.ceil((hi - lo) / step));
          } else {
            lo = Math.min(Math.max(starts[i]! < 0 ? starts[i]! + dim : starts[i]!, -1), dim - 1);
            hi = Math.min(Math.max(ends[i]! < 0 ? ends[i]! + dim : ends[i]!, -1), dim - 1);
            out[ax] = Math.max(0, Math.ceil((lo - hi) / -step));
          }
          if (vals && x.length === 1) {
            const picked: number[] = [];
            for (let j = 0; j < out[ax]!; j++) picked.push(vals[lo + j * step]!);
            vals = picked;
          }
        });
        set(out);
        if (vals) this.values.set(node.output, vals);
        return;
      }
      case 'Concat': {
        const axisRaw = attrInt(node, 'axis', 0);
        const shapes = node.inputs.map((_, i) => s(i));
        const axis = axisRaw < 0 ? axisRaw + shapes[0]!.length : axisRaw;
        const out = [...shapes[0]!];
        out[axis] = shapes.reduce((p, sh) => (p === BATCH || sh[axis] === BATCH ? BATCH : p + sh[axis]!), 0);
        set(out);
        if (shapes[0]!.length === 1 && node.inputs.every((n) => this.values.has(n) || this.g.constant(n)?.ints)) {
          this.values.set(node.output, node.inputs.flatMap((n) => this.ints(n)));
        }
        return;
      }
      case 'Shape': {
        const x = s(0);
        set([x.length]);
        this.values.set(node.output, [...x]);
        return;
      }
      case 'ConstantOfShape':
        set(this.ints(node.inputs[0]!));
        return;
      case 'Conv':
      case 'MaxPool': {
        const x = s(0);
        const spatial = x.length - 2;
        const kernel = attrInts(node, 'kernel_shape') ?? (node.op === 'Conv' ? s(1).slice(2) : undefined);
        if (!kernel) throw new OdemorError('MODEL', `gradient: ${node.op} '${node.output}' has no kernel_shape`);
        const strides = attrInts(node, 'strides') ?? kernel.map(() => 1);
        const pads = attrInts(node, 'pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
        const dil = attrInts(node, 'dilations') ?? kernel.map(() => 1);
        const out: number[] = [x[0]!, node.op === 'Conv' ? s(1)[0]! : x[1]!];
        for (let i = 0; i < spatial; i++) {
          const eff = (kernel[i]! - 1) * dil[i]! + 1;
          out.push(Math.floor((x[i + 2]! + pads[i]! + pads[i + spatial]! - eff) / strides[i]!) + 1);
        }
        set(out);
        return;
      }
      case 'ReduceSum': {
        const x = s(0);
        const axes = node.inputs[1] ? this.ints(node.inputs[1]).map((a) => (a < 0 ? a + x.length : a)) : x.map((_, i) => i);
        const keep = attrInt(node, 'keepdims', 1);
        set(keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)));
        return;
      }
      case 'LogSoftmax':
      case 'Softmax':
        set([...s(0)]);
        return;
      default:
        // unknown ops get no shape; the engine refuses to differentiate through them
        return;
    }
  }
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** shapes of the graph inputs (the data input and the parameter inputs) */
  inputShapes: ReadonlyMap<string, Shape>;
  /** gradient seeds: forward value → the name of d(loss)/d(value), same shape */
  seeds: ReadonlyMap<string, string>;
  /** the values to differentiate with respect to (graph inputs) */
  wrt: readonly string[];
}

/**
 * Append the backward graph to `g` (whose tape holds the forward nodes): returns, for each name of `wrt`, the
 * name of d(loss)/d(it), or undefined when the loss does not depend on it. Only nodes on a path from `wrt` to
 * a seed are differentiated; contributions to one value from several consumers are summed with one `Sum`.
 * Errors: MODEL when a node on such a path has no rule or no static shape.
 */
export function backward(g: GraphBuilder, options: BackwardOptions): Map<string, string | undefined> {
  const tape = g.tape.slice();
  const table = new ShapeTable(g, options.inputShapes);
  // active: depends on a wrt value
  const active = new Set(options.wrt);
  for (const node of tape) if (!NON_DIFFERENTIABLE.has(node.op) && node.inputs.some((n) => active.has(n))) active.add(node.output);

  const parts = new Map<string, string[]>();
  const add = (name: string, grad: string): void => {
    const list = parts.get(name);
    if (list) list.push(grad);
    else parts.set(name, [grad]);
  };
  const total = (name: string): string | undefined => {
    const list = parts.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const sum = g.node('Sum', list);
    parts.set(name, [sum]);
    return sum;
  };
  for (const [name, grad] of options.seeds) if (active.has(name)) add(name, grad);

  const ctx: GradContext = { g, shape: (n) => table.shape(n), ints: (n) => table.ints(n) };
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!active.has(node.output)) continue;
    const dy = total(node.output);
    if (dy === undefined) continue;
    const rule = RULES[node.op];
    if (!rule) throw new OdemorError('MODEL', `gradient: no vector–Jacobian rule for the ONNX op ${node.op} (node '${node.output}')`);
    const need = node.inputs.map((n) => active.has(n));
    const grads = rule(ctx, node, dy, need);
    node.inputs.forEach((n, j) => {
      const gj = grads[j];
      if (need[j] && gj !== undefined) add(n, gj);
    });
  }
  const out = new Map<string, string | undefined>();
  for (const w of options.wrt) out.set(w, total(w));
  return out;
}

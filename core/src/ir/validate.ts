import { z } from 'zod';
import { OdemorError } from '../errors.js';
import { listTensors } from '../model/params.js';
import type { Block, Layer, LinearMap, ModelIR, ReducedBlock, Tensor32 } from './types.js';

/*
 * The structure of the IR (docs/architecture.md, "Model IR"): which keys each layer, block and map has and
 * their types, before any shape is compared. Layers, blocks, maps, tensors and the input are strict (an
 * unknown key, e.g. a damaged `"cias"` for `"bias"`, is an error, not a silently dropped field), and so is
 * the model itself (free-form data belongs in `meta`); only the solver spec is loose (solver keys such as
 * `maxSteps` pass through).
 */
const num = z.number();
const int = z.number().int();
const tensorSchema = z.strictObject({ shape: z.array(int.nonnegative()), data: z.instanceof(Float32Array) });
const padding = z.enum(['same', 'valid']);
const activation = z.enum(['tanh', 'relu', 'softplus', 'identity']);
const indices = z.array(int);
const layerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('dense'), weight: tensorSchema, bias: tensorSchema.optional(), trainable: z.boolean().optional() }),
  z.strictObject({
    type: z.literal('conv2d'),
    kernel: tensorSchema,
    bias: tensorSchema.optional(),
    stride: num,
    padding,
    trainable: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('relu') }),
  z.strictObject({ type: z.literal('tanh') }),
  z.strictObject({ type: z.literal('maxpool2d'), size: num, stride: num, padding }),
  z.strictObject({ type: z.literal('flatten') }),
  z.strictObject({ type: z.literal('scatter'), indices, size: int }),
]);
const blockMatrixSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('dense'), weight: tensorSchema }),
  z.strictObject({ type: z.literal('conv'), kernel: tensorSchema, height: int, width: int, channels: int }),
  z.strictObject({ type: z.literal('antisymmetric'), weight: tensorSchema, gamma: num }),
]);
const identitySchema = z.strictObject({ type: z.literal('identity'), size: int });
const linearMapSchema = z.discriminatedUnion('type', [
  identitySchema,
  z.strictObject({ type: z.literal('dense'), weight: tensorSchema }),
  z.strictObject({ type: z.literal('select'), indices, from: int }),
  z.strictObject({ type: z.literal('scatter'), indices, to: int }),
]);
const blockSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('ode'), n: num, A: blockMatrixSchema, b: tensorSchema, Z: tensorSchema.optional(), activation }),
  z.strictObject({
    kind: z.literal('reduced'),
    method: z.string(),
    n: num,
    k: num,
    m: num,
    E: linearMapSchema,
    M: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('dense'), weight: tensorSchema }),
      z.strictObject({ type: z.literal('factored'), left: tensorSchema, right: tensorSchema }),
    ]),
    c: tensorSchema,
    N: z.discriminatedUnion('type', [identitySchema, z.strictObject({ type: z.literal('dense'), weight: tensorSchema })]),
    Zr: tensorSchema.optional(),
    Zin: tensorSchema.optional(),
    bias: tensorSchema.optional(),
    D: linearMapSchema,
    activation,
  }),
  z.strictObject({
    kind: z.literal('mlp'),
    n: num,
    m: num,
    M: tensorSchema,
    c: tensorSchema,
    N: tensorSchema,
    bias: tensorSchema,
    Zin: tensorSchema.optional(),
    activation,
  }),
]);
const modelSchema = z.strictObject({
  format: z.literal('odemor-model'),
  version: z.literal(1),
  name: z.string().optional(),
  input: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('tensor'), shape: z.array(num) }),
    z.strictObject({ kind: z.literal('sequence'), steps: num, features: num, stepDuration: num }),
    z.strictObject({
      kind: z.literal('state'),
      size: num,
      signal: z.strictObject({ steps: num, channels: num, stepDuration: num }).optional(),
    }),
  ]),
  pre: z.array(layerSchema),
  block: blockSchema,
  post: z.array(layerSchema),
  solver: z.looseObject({ use: z.string(), dt: num, t0: num, t1: num, rtol: num.optional(), atol: num.optional() }),
  outputs: int,
  readout: z.strictObject({ kind: z.literal('trajectory'), times: z.array(num) }).optional(),
  midpoint: z.strictObject({ layers: z.array(layerSchema) }).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** One line per zod issue: the dotted field path (`pre.0.weight.shape`), then what is wrong. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'model';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return `${where}: unknown value ${JSON.stringify(valueAt(root, issue.path)) ?? 'undefined'} (expected ${options.map((o) => `'${String(o)}'`).join(', ')})`;
      return `${where}: ${issue.message}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}

/**
 * Check the structure of an untrusted value (a decoded file, a plugin's output) against the model IR: every
 * key and type of the input, layers, block, maps, tensors and solver, before any shape is compared.
 * {@link validateModel} runs it first; after it, the value really is a {@link ModelIR} (no raw TypeError
 * can follow).
 *
 * @throws OdemorError 'MODEL' naming the field path (e.g. `pre.0.weight.data: Invalid input: expected
 *   Float32Array, received undefined`, `post.1: unknown key 'cias'`), up to three issues.
 */
export function checkModelStructure(model: unknown): asserts model is ModelIR {
  const r = modelSchema.safeParse(model);
  if (r.success) return;
  const issues = r.error.issues;
  const lines = issues.slice(0, 3).map((i) => describeIssue(i, model));
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  throw new OdemorError('MODEL', `malformed model: ${lines.join('; ')}${more}`);
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function shapeErr(msg: string): never {
  throw new OdemorError('SHAPE', msg);
}

function expectShape(t: Tensor32 | undefined, expected: number[], what: string): void {
  if (!t) shapeErr(`${what} is missing (expected shape ${fmt(expected)})`);
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    shapeErr(`${what} has shape ${fmt(t.shape)}, expected ${fmt(expected)}`);
  }
}

function convOut(size: number, k: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/**
 * The per-sample output shape of one layer given its per-sample input shape. Throws a SHAPE error naming
 * `where` (e.g. `pre[0]`) and the shapes when the layer does not fit its input.
 */
export function layerOutputShape(layer: Layer, input: readonly number[], where: string): number[] {
  // the tensor path of the layer (`post[1]` → `post.1`), as listTensors and the error messages name tensors
  const at = where.replace(/\[(\d+)\]/g, '.$1');
  switch (layer.type) {
    case 'dense': {
      const w = layer.weight.shape;
      if (w.length !== 2) shapeErr(`${where} (dense): weight ${at}.weight has shape ${fmt(w)}, expected [out, in]`);
      if (input.length !== 1 || input[0] !== w[1]) {
        shapeErr(`${where} (dense): weight ${at}.weight ${fmt(w)} expects input [${w[1]}] but the input is ${fmt(input)}`);
      }
      if (layer.bias) expectShape(layer.bias, [w[0]!], `${where} (dense) bias ${at}.bias`);
      return [w[0]!];
    }
    case 'conv2d': {
      const k = layer.kernel.shape;
      if (k.length !== 4) shapeErr(`${where} (conv2d): kernel ${at}.kernel has shape ${fmt(k)}, expected [kh, kw, in, out]`);
      if (input.length !== 3 || input[2] !== k[2]) {
        shapeErr(`${where} (conv2d): kernel ${at}.kernel ${fmt(k)} expects input [h, w, ${k[2]}] but the input is ${fmt(input)}`);
      }
      if (!(Number.isInteger(layer.stride) && layer.stride >= 1)) shapeErr(`${where} (conv2d): stride ${layer.stride} must be a positive integer`);
      if (layer.bias) expectShape(layer.bias, [k[3]!], `${where} (conv2d) bias ${at}.bias`);
      const h = convOut(input[0]!, k[0]!, layer.stride, layer.padding);
      const w = convOut(input[1]!, k[1]!, layer.stride, layer.padding);
      if (h < 1 || w < 1) shapeErr(`${where} (conv2d): kernel ${fmt(k)} does not fit input ${fmt(input)}`);
      return [h, w, k[3]!];
    }
    case 'relu':
    case 'tanh':
      return [...input];
    case 'maxpool2d': {
      if (input.length !== 3) shapeErr(`${where} (maxpool2d): expects input [h, w, c] but the input is ${fmt(input)}`);
      if (!(layer.size >= 1 && layer.stride >= 1)) shapeErr(`${where} (maxpool2d): size ${layer.size} and stride ${layer.stride} must be positive`);
      const h = convOut(input[0]!, layer.size, layer.stride, layer.padding);
      const w = convOut(input[1]!, layer.size, layer.stride, layer.padding);
      if (h < 1 || w < 1) shapeErr(`${where} (maxpool2d): pool ${layer.size} does not fit input ${fmt(input)}`);
      return [h, w, input[2]!];
    }
    case 'flatten':
      return [prod(input)];
    case 'scatter': {
      if (input.length !== 1 || input[0] !== layer.indices.length) {
        shapeErr(`${where} (scatter): ${layer.indices.length} indices expect input [${layer.indices.length}] but the input is ${fmt(input)}`);
      }
      checkIndices(layer.indices, layer.size, `${where} (scatter)`);
      return [layer.size];
    }
    default:
      throw new OdemorError('MODEL', `${where}: unknown layer type '${(layer as { type: string }).type}'`);
  }
}

function checkIndices(indices: readonly number[], size: number, what: string): void {
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= size) shapeErr(`${what}: index ${i} is out of range [0, ${size})`);
    if (seen.has(i)) shapeErr(`${what}: index ${i} appears twice`);
    seen.add(i);
  }
}

/** Per-sample shape entering the ODE block (the output of `pre`); `[n]` for sequence models. */
export function preOutputShape(model: ModelIR): number[] {
  if (model.input.kind === 'sequence') {
    if (model.pre.length) throw new OdemorError('MODEL', 'a sequence model must have no pre layers (the block starts from x(0) = 0)');
    return [model.block.n];
  }
  if (model.input.kind === 'state') {
    if (model.pre.length) throw new OdemorError('MODEL', "a model with input kind 'state' must have no pre layers (a sample is the block's initial state)");
    return [model.input.size];
  }
  let shape = [...model.input.shape];
  model.pre.forEach((l, i) => (shape = layerOutputShape(l, shape, `pre[${i}]`)));
  return shape;
}

/** Input size of a reduced block: what E reads (n, or k when E is the identity after folding). */
export function blockInputSize(block: ReducedBlock): number {
  switch (block.E.type) {
    case 'identity':
      return block.E.size;
    case 'dense':
      return block.E.weight.shape[1]!;
    case 'select':
      return block.E.from;
    default:
      return block.n;
  }
}

/** Output size of the block (length of x(t_end), or of D z(t_end) for a reduced block). */
export function blockOutputSize(block: Block): number {
  if (block.kind === 'ode' || block.kind === 'mlp') return block.n;
  return linearMapOut(block.D);
}

function linearMapOut(m: LinearMap): number {
  switch (m.type) {
    case 'identity':
      return m.size;
    case 'dense':
      return m.weight.shape[0]!;
    case 'select':
      return m.indices.length;
    case 'scatter':
      return m.to;
  }
}

/**
 * Per-sample shape leaving the ODE block, as seen by the first `post` layer: the `[h, w, c]` feature map
 * for a convolutional block (or when the flat state has as many entries as `pre`'s output, that shape),
 * otherwise the flat vector.
 */
export function blockOutputShape(model: ModelIR): number[] {
  const size = blockOutputSize(model.block);
  const b = model.block;
  if (b.kind === 'ode' && b.A.type === 'conv') return [b.A.height, b.A.width, b.A.channels];
  if (model.input.kind === 'tensor') {
    const pre = preOutputShape(model);
    if (prod(pre) === size) return pre;
  }
  return [size];
}

/** Per-sample shape of a model's input `x`: `input.shape`, [steps, features] for a sequence, [size] for a state. */
export function inputShapeOf(model: ModelIR): number[] {
  const inp = model.input;
  return inp.kind === 'sequence' ? [inp.steps, inp.features] : inp.kind === 'state' ? [inp.size] : [...inp.shape];
}

/**
 * Input size of the block's right-hand side u(t) (p), or undefined when the model has no input signal: the
 * features of a sequence model, the channels of a state model's signal.
 */
export function inputSignalSize(model: ModelIR): number | undefined {
  const inp = model.input;
  if (inp.kind === 'sequence') return inp.features;
  if (inp.kind === 'state') return inp.signal?.channels;
  return undefined;
}

/**
 * The dimension of the state the solver integrates: n for a full or mlp block, k for a reduced one (what the
 * Taylor-Lagrange midpoint network maps).
 */
export function solverStateSize(block: Block): number {
  return block.kind === 'reduced' ? block.k : block.n;
}

/**
 * The model cut after its ODE block: the same `pre` layers and block, then only a `flatten`, so that its
 * "logits" are the block's outputs, `prod(blockOutputShape(model))` values per sample in the order the
 * first `post` layer sees them. Lets any runtime compute block features (e.g. to cache them for
 * fine-tuning the post layers).
 */
export function blockFeatureModel(model: ModelIR): ModelIR {
  return { ...model, post: [{ type: 'flatten' }], outputs: prod(blockOutputShape(model)) };
}

function checkBlock(model: ModelIR): void {
  const b = model.block;
  if (!(Number.isInteger(b.n) && b.n >= 1)) shapeErr(`block: n = ${b.n} must be a positive integer`);
  const n = b.n;
  const pre = preOutputShape(model);
  // a reduced block reads E's input: n, or k when E was folded into the layer before (APoZ)
  const entry = b.kind === 'reduced' ? blockInputSize(b) : n;
  if (model.input.kind === 'tensor' && prod(pre) !== entry) {
    shapeErr(`block: pre layers produce ${fmt(pre)} (${prod(pre)} values) but the block ${b.kind === 'reduced' ? `reads ${entry}` : `has n = ${n}`}`);
  }
  if (model.input.kind === 'state' && model.input.size !== entry) {
    shapeErr(`block: input.size = ${model.input.size} (the initial state) but the block ${b.kind === 'reduced' ? `reads ${entry}` : `has n = ${n}`}`);
  }
  const p = inputSignalSize(model);
  if (b.kind === 'mlp') {
    const m = b.m;
    if (!(Number.isInteger(m) && m >= 1)) shapeErr(`block: m = ${m} (hidden units) must be a positive integer`);
    expectShape(b.M, [m, n], 'block.M');
    expectShape(b.c, [m], 'block.c');
    expectShape(b.N, [n, m], 'block.N');
    expectShape(b.bias, [n], 'block.bias');
    checkInput(b.Zin, m, p, 'block.Zin');
    return;
  }
  if (b.kind === 'ode') {
    switch (b.A.type) {
      case 'dense':
        expectShape(b.A.weight, [n, n], 'block.A.weight');
        break;
      case 'antisymmetric':
        expectShape(b.A.weight, [n, n], 'block.A.weight');
        if (!Number.isFinite(b.A.gamma)) throw new OdemorError('NUMERIC', `block.A.gamma = ${b.A.gamma} is not finite`);
        break;
      case 'conv': {
        const { height, width, channels, kernel } = b.A;
        if (height * width * channels !== n) shapeErr(`block.A (conv): [${height}, ${width}, ${channels}] has ${height * width * channels} values but n = ${n}`);
        if (kernel.shape.length !== 4 || kernel.shape[2] !== channels || kernel.shape[3] !== channels) {
          shapeErr(`block.A.kernel has shape ${fmt(kernel.shape)}, expected [kh, kw, ${channels}, ${channels}]`);
        }
        if (pre.length === 3 && (pre[0] !== height || pre[1] !== width || pre[2] !== channels)) {
          shapeErr(`block.A (conv): pre layers produce ${fmt(pre)} but the block acts on [${height}, ${width}, ${channels}]`);
        }
        break;
      }
      default:
        throw new OdemorError('MODEL', `block.A: unknown matrix type '${(b.A as { type: string }).type}'`);
    }
    expectShape(b.b, [n], 'block.b');
    checkInput(b.Z, n, p, 'block.Z');
    return;
  }
  if (b.kind !== 'reduced') throw new OdemorError('MODEL', `block: unknown kind '${(b as { kind: string }).kind}'`);
  const { k, m } = b;
  if (!(Number.isInteger(k) && k >= 1)) shapeErr(`block: k = ${k} must be a positive integer`);
  if (!(Number.isInteger(m) && m >= 1)) shapeErr(`block: m = ${m} must be a positive integer`);
  // E: x (n) → z (k)
  switch (b.E.type) {
    case 'identity':
      if (b.E.size !== k) shapeErr(`block.E (identity, size ${b.E.size}) needs k = ${b.E.size}; got k = ${k}`);
      break;
    case 'dense':
      if (b.E.weight.shape.length !== 2 || b.E.weight.shape[0] !== k) shapeErr(`block.E.weight has shape ${fmt(b.E.weight.shape)}, expected [${k}, in]`);
      break;
    case 'select':
      if (b.E.indices.length !== k || b.E.from !== n) shapeErr(`block.E (select): ${b.E.indices.length} indices from ${b.E.from}, expected ${k} from ${n}`);
      checkIndices(b.E.indices, n, 'block.E (select)');
      break;
    default:
      shapeErr(`block.E: type '${b.E.type}' cannot map x to z`);
  }
  if (b.M.type === 'dense') expectShape(b.M.weight, [m, k], 'block.M.weight');
  else if (b.M.type === 'factored') {
    const r = b.M.left.shape[1] ?? -1;
    expectShape(b.M.left, [m, r], 'block.M.left');
    expectShape(b.M.right, [r, k], 'block.M.right');
  } else throw new OdemorError('MODEL', `block.M: unknown type '${(b.M as { type: string }).type}'`);
  expectShape(b.c, [m], 'block.c');
  if (b.N.type === 'identity') {
    if (b.N.size !== k || m !== k) shapeErr(`block.N (identity, size ${b.N.size}) needs m = k = ${b.N.size}; got k = ${k}, m = ${m}`);
  } else expectShape(b.N.weight, [k, m], 'block.N.weight');
  checkInput(b.Zr, k, p, 'block.Zr');
  checkInput(b.Zin, m, p, 'block.Zin');
  if (b.bias) expectShape(b.bias, [k], 'block.bias');
  switch (b.D.type) {
    case 'identity':
      if (b.D.size !== k) shapeErr(`block.D (identity, size ${b.D.size}) needs k = ${b.D.size}; got k = ${k}`);
      break;
    case 'dense':
      if (b.D.weight.shape.length !== 2 || b.D.weight.shape[1] !== k) shapeErr(`block.D.weight has shape ${fmt(b.D.weight.shape)}, expected [out, ${k}]`);
      break;
    case 'scatter':
      if (b.D.indices.length !== k) shapeErr(`block.D (scatter): ${b.D.indices.length} indices, expected k = ${k}`);
      checkIndices(b.D.indices, b.D.to, 'block.D (scatter)');
      break;
    default:
      shapeErr(`block.D: type '${b.D.type}' cannot map z to x`);
  }
}

function checkInput(Z: Tensor32 | undefined, rows: number, p: number | undefined, what: string): void {
  if (p === undefined) {
    if (Z) shapeErr(`${what} is given (shape ${fmt(Z.shape)}) but the model has no input signal (neither a sequence nor a state input with a signal)`);
    return;
  }
  if (Z) expectShape(Z, [rows, p], what);
}

/**
 * Check a model for internal consistency before it is run: tensor sizes match their shapes, layer shapes
 * chain from the input through `pre`, the block and `post` to `[outputs]`, block matrices have the right
 * shapes (A n×n, b n, Z n×p; reduced E k×n, M m×k, c m, N k×m, Zr k×p, D ·×k), every weight is finite and
 * the solver span is sane.
 *
 * Safe on untrusted values: {@link checkModelStructure} runs first, so a malformed value (a damaged file, a
 * plugin's output) is an OdemorError naming the field, never a raw TypeError.
 *
 * @throws OdemorError 'SHAPE' naming the layer or tensor and the shapes, 'NUMERIC' naming the tensor path
 *   (e.g. `block.A.weight`) holding a NaN/infinity, 'MODEL' for a malformed model (naming the field).
 */
export function validateModel(value: unknown): asserts value is ModelIR {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new OdemorError('MODEL', 'model must be an object');
  const top = value as Partial<Record<keyof ModelIR, unknown>>;
  if (top.format !== 'odemor-model') throw new OdemorError('MODEL', `model.format is '${String(top.format)}', expected 'odemor-model'`);
  if (top.version !== 1) throw new OdemorError('MODEL', `model.version ${String(top.version)} is not supported (expected 1)`);
  if (!Array.isArray(top.pre) || !Array.isArray(top.post) || !top.block) throw new OdemorError('MODEL', 'model needs pre[], block and post[]');
  checkModelStructure(value);
  const model = value;
  const inp = model.input;
  if (inp?.kind === 'tensor') {
    if (!inp.shape.length || inp.shape.some((d) => !(Number.isInteger(d) && d >= 1))) shapeErr(`input.shape ${fmt(inp.shape)} must be positive integers`);
  } else if (inp?.kind === 'sequence') {
    if (!(Number.isInteger(inp.steps) && inp.steps >= 1 && Number.isInteger(inp.features) && inp.features >= 1)) {
      shapeErr(`input: sequence steps ${inp.steps} and features ${inp.features} must be positive integers`);
    }
    if (!(inp.stepDuration > 0 && Number.isFinite(inp.stepDuration))) throw new OdemorError('MODEL', `input.stepDuration ${inp.stepDuration} must be > 0`);
  } else if (inp?.kind === 'state') {
    if (!(Number.isInteger(inp.size) && inp.size >= 1)) shapeErr(`input.size ${inp.size} must be a positive integer`);
    const sg = inp.signal;
    if (sg) {
      if (!(Number.isInteger(sg.steps) && sg.steps >= 1 && Number.isInteger(sg.channels) && sg.channels >= 1)) {
        shapeErr(`input.signal: steps ${sg.steps} and channels ${sg.channels} must be positive integers`);
      }
      if (!(sg.stepDuration > 0 && Number.isFinite(sg.stepDuration))) throw new OdemorError('MODEL', `input.signal.stepDuration ${sg.stepDuration} must be > 0`);
    }
  } else throw new OdemorError('MODEL', `input.kind must be 'tensor', 'sequence' or 'state'`);

  for (const { path, tensor } of listTensors(model)) {
    if (tensor.data.length !== prod(tensor.shape)) {
      shapeErr(`${path} has shape ${fmt(tensor.shape)} (${prod(tensor.shape)} values) but holds ${tensor.data.length} values`);
    }
  }
  checkBlock(model);
  const s = model.solver;
  if (model.readout) {
    const r = model.readout;
    if (r.kind !== 'trajectory') throw new OdemorError('MODEL', `readout.kind '${String(r.kind)}' is unknown (expected 'trajectory')`);
    if (model.post.length) throw new OdemorError('MODEL', `a trajectory readout outputs the block's states: post must be empty, got ${model.post.length} layers`);
    if (!r.times.length) throw new OdemorError('MODEL', 'readout.times must not be empty');
    r.times.forEach((t, i) => {
      if (!Number.isFinite(t) || t <= (i ? r.times[i - 1]! : s.t0)) {
        throw new OdemorError('MODEL', `readout.times[${i}] = ${t} must be finite and after ${i ? `readout.times[${i - 1}] = ${r.times[i - 1]}` : `solver.t0 = ${s.t0}`}`);
      }
    });
    const last = r.times[r.times.length - 1]!;
    if (Math.abs(last - s.t1) > 1e-9 * Math.max(1, Math.abs(s.t1))) throw new OdemorError('MODEL', `readout.times ends at ${last} but solver.t1 = ${s.t1}; they must agree`);
    const size = blockOutputSize(model.block);
    if (model.outputs !== r.times.length * size) {
      shapeErr(`a trajectory readout of ${r.times.length} times × ${size} states gives ${r.times.length * size} outputs, but the model has outputs = ${model.outputs}`);
    }
  } else {
    let shape = blockOutputShape(model);
    model.post.forEach((l, i) => (shape = layerOutputShape(l, shape, `post[${i}]`)));
    if (shape.length !== 1 || shape[0] !== model.outputs) {
      shapeErr(`post layers produce ${fmt(shape)} but the model has outputs = ${model.outputs}`);
    }
  }
  if (model.midpoint) {
    const size = solverStateSize(model.block);
    let shape = [size];
    model.midpoint.layers.forEach((l, i) => {
      if (l.type !== 'dense' && l.type !== 'relu' && l.type !== 'tanh') throw new OdemorError('MODEL', `midpoint.layers[${i}]: a midpoint network has dense, relu and tanh layers, got '${l.type}'`);
      shape = layerOutputShape(l, shape, `midpoint.layers[${i}]`);
    });
    if (shape.length !== 1 || shape[0] !== size) shapeErr(`midpoint layers map [${size}] to ${fmt(shape)}; they must give the state size [${size}]`);
  }
  for (const { path, tensor } of listTensors(model)) {
    const d = tensor.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        throw new OdemorError('NUMERIC', `${path} contains ${Number.isNaN(d[i]!) ? 'NaN' : 'an infinite value'} at flat index ${i}`);
      }
    }
  }
  if (!s || typeof s.use !== 'string' || !s.use) throw new OdemorError('MODEL', 'solver.use must name a solver');
  if (!(s.dt > 0 && Number.isFinite(s.dt))) throw new OdemorError('MODEL', `solver.dt = ${s.dt} must be > 0`);
  if (!(Number.isFinite(s.t0) && Number.isFinite(s.t1) && s.t1 >= s.t0)) throw new OdemorError('MODEL', `solver span t0 = ${s.t0}, t1 = ${s.t1}: need t1 >= t0`);
}

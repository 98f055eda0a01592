/**
 * Import PyTorch weights into a built-in model (docs/import.md): each built-in model has a naming convention —
 * the `state_dict()` names of a reference `nn.Module` (scripts/torch-reference.py builds them) — and each named
 * tensor is converted from PyTorch's layout into the IR's:
 *
 * - conv kernels: PyTorch OIHW `[out, in, kh, kw]` → the IR's HWIO `[kh, kw, in, out]`;
 * - Linear weights: PyTorch `[out, in]` = the IR's `[out, in]` (unchanged);
 * - feature maps: PyTorch NCHW, the IR NHWC. A per-element bias `[C, h, w]` is permuted to the IR's `[h, w, C]`
 *   state order, and a Linear that reads a flattened feature map (conv-node's `fc`, an encoder of image inputs)
 *   has its columns permuted from PyTorch's `(c, h, w)` flattening order to the IR's `(h, w, c)`.
 *
 * The model is built by the built-in factory from its options (shape options the weights give — channels, hidden
 * sizes — are read from them when not set), then every tensor is replaced by the imported one. Missing, extra
 * and mis-shaped tensors are OdemorErrors naming the tensor and the expected shape.
 */
import { OdemorError } from '../errors.js';
import type { DatasetInfo } from '../extension-points.js';
import type { ModelIR } from '../ir/types.js';
import { validateModel } from '../ir/validate.js';
import { builtinModels } from '../model/builtin.js';
import type { ModelFactoryContext } from '../model/factory.js';
import { listTensors, withTensors } from '../model/params.js';
import type { SafetensorsFile } from './safetensors.js';

/** The built-in models weights can be imported into. */
export type ImportableModel = 'conv-node' | 'dense-node' | 'ode-rnn' | 'mlp-node';
/** {@link ImportableModel} as a list. */
export const IMPORTABLE_MODELS: readonly ImportableModel[] = ['conv-node', 'dense-node', 'ode-rnn', 'mlp-node'];

/**
 * A map of tensor names: file name → convention name, or `null` to ignore that tensor of the file (e.g. a
 * buffer the model does not use). Names the map does not mention must be convention names.
 */
export type TensorNameMap = ReadonlyMap<string, string | null>;

/** One convention tensor: where it goes in the IR and how it is converted. */
interface Slot {
  /** the convention name */
  name: string;
  /** the IR tensor it fills */
  path: string;
  /** the PyTorch shape expected */
  shape: number[];
  /** what the dimensions are, for messages: `[C, cin, 3, 3]` */
  dims: string;
  /** absent in the file → zeros (a bias of a layer built with `bias=False`) */
  optional?: boolean;
  /** PyTorch values → IR values (the IR tensor's row-major order) */
  convert: (v: Float64Array) => Float64Array;
}

const same = (v: Float64Array) => v;

/** OIHW `[co, ci, kh, kw]` → HWIO `[kh, kw, ci, co]`. */
function oihwToHwio(co: number, ci: number, kh: number, kw: number): (v: Float64Array) => Float64Array {
  return (v) => {
    const out = new Float64Array(v.length);
    for (let o = 0; o < co; o++)
      for (let c = 0; c < ci; c++)
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + c) * co + o] = v[((o * ci + c) * kh + y) * kw + x]!;
    return out;
  };
}

/** `[rows, C·h·w]` with columns in `(c, h, w)` order → the same with columns in `(h, w, c)` order (rows = 1: a CHW map → HWC). */
function chwColumnsToHwc(rows: number, C: number, h: number, w: number): (v: Float64Array) => Float64Array {
  const cols = C * h * w;
  return (v) => {
    const out = new Float64Array(v.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < C; c++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[r * cols + (i * w + j) * C + c] = v[r * cols + (c * h + i) * w + j]!;
    return out;
  };
}

/** `[C·h·w, cols]` with rows in `(c, h, w)` order → rows in `(h, w, c)` order. */
function chwRowsToHwc(C: number, h: number, w: number, cols: number): (v: Float64Array) => Float64Array {
  return (v) => {
    const out = new Float64Array(v.length);
    for (let c = 0; c < C; c++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) out.set(v.subarray(((c * h + i) * w + j) * cols, ((c * h + i) * w + j + 1) * cols), ((i * w + j) * C + c) * cols);
    return out;
  };
}

/** A per-channel bias `[C]` broadcast over the `[h, w, C]` state. */
function broadcastChannels(C: number, h: number, w: number): (v: Float64Array) => Float64Array {
  return (v) => Float64Array.from({ length: h * w * C }, (_, k) => v[k % C]!);
}

const shapeOf = (model: ModelIR, path: string): number[] => {
  const t = listTensors(model).find((x) => x.path === path);
  if (!t) throw new OdemorError('MODEL', `internal: the built model has no tensor ${path}`);
  return t.tensor.shape;
};

/** A Linear `[out, in]` onto the dense layer at `path`, columns permuted when it reads a flattened `[H, W, c]` image. */
function linearSlots(model: ModelIR, prefix: string, path: string, what: string, image?: number[]): Slot[] {
  const [out, inp] = shapeOf(model, `${path}.weight`) as [number, number];
  const perm = image && image.length === 3 && image[2]! > 1 ? chwColumnsToHwc(out, image[2]!, image[0]!, image[1]!) : same;
  return [
    { name: `${prefix}.weight`, path: `${path}.weight`, shape: [out, inp], dims: `[${what}]`, convert: perm },
    { name: `${prefix}.bias`, path: `${path}.bias`, shape: [out], dims: `[${what.split(',')[0]}]`, optional: true, convert: same },
  ];
}

/** The convention tensors of a built model (docs/import.md): the slots, in the reference module's order. */
function slotsOf(as: ImportableModel, model: ModelIR): Slot[] {
  const block = model.block;
  const image = model.input.kind === 'tensor' ? model.input.shape : undefined;
  const denseAt = (layers: ModelIR['pre'], part: 'pre' | 'post') => {
    const i = layers.findIndex((l) => l.type === 'dense');
    return i < 0 ? undefined : `${part}.${i}`;
  };
  const fc = () => {
    const at = denseAt(model.post, 'post');
    return at ? linearSlots(model, 'fc', at, `classes, ${shapeOf(model, `${at}.weight`)[1]}`) : [];
  };
  const encoder = () => {
    const at = denseAt(model.pre, 'pre');
    return at ? linearSlots(model, 'encoder', at, `n, ${shapeOf(model, `${at}.weight`)[1]}`, image) : [];
  };
  switch (as) {
    case 'conv-node': {
      if (block.kind !== 'ode' || block.A.type !== 'conv') throw new OdemorError('MODEL', 'internal: conv-node without a conv block');
      const { height: h, width: w, channels: C } = block.A;
      const [kh, kw, cin] = shapeOf(model, 'pre.0.kernel') as [number, number, number, number];
      const ph = Math.ceil(h / 3);
      const pw = Math.ceil(w / 3);
      const classes = model.outputs;
      return [
        { name: 'downsample.0.weight', path: 'pre.0.kernel', shape: [C, cin, kh, kw], dims: '[C, cin, 3, 3]', convert: oihwToHwio(C, cin, kh, kw) },
        { name: 'downsample.0.bias', path: 'pre.0.bias', shape: [C], dims: '[C]', optional: true, convert: same },
        { name: 'odefunc.conv.weight', path: 'block.A.kernel', shape: [C, C, 3, 3], dims: '[C, C, 3, 3]', convert: oihwToHwio(C, C, 3, 3) },
        { name: 'odefunc.conv.bias', path: 'block.b', shape: [C], dims: '[C]', optional: true, convert: broadcastChannels(C, h, w) },
        { name: 'odefunc.bias', path: 'block.b', shape: [C, h, w], dims: '[C, h, w]', optional: true, convert: chwColumnsToHwc(1, C, h, w) },
        { name: 'fc.weight', path: 'post.3.weight', shape: [classes, C * ph * pw], dims: `[classes, C·⌈h/3⌉·⌈w/3⌉ = ${C}·${ph}·${pw}]`, convert: chwColumnsToHwc(classes, C, ph, pw) },
        { name: 'fc.bias', path: 'post.3.bias', shape: [classes], dims: '[classes]', optional: true, convert: same },
      ];
    }
    case 'dense-node':
    case 'ode-rnn': {
      if (block.kind !== 'ode') throw new OdemorError('MODEL', `internal: ${as} without an ode block`);
      const n = block.n;
      const A: Slot =
        block.A.type === 'antisymmetric'
          ? { name: 'odefunc.W', path: 'block.A.weight', shape: [n, n], dims: '[n, n] (A = W − Wᵀ − γI)', convert: same }
          : { name: 'odefunc.linear.weight', path: 'block.A.weight', shape: [n, n], dims: '[n, n]', convert: same };
      const b: Slot = { name: block.A.type === 'antisymmetric' ? 'odefunc.b' : 'odefunc.linear.bias', path: 'block.b', shape: [n], dims: '[n]', optional: true, convert: same };
      const Z: Slot[] = block.Z ? [{ name: 'odefunc.Z.weight', path: 'block.Z', shape: [...block.Z.shape], dims: '[n, features]', convert: same }] : [];
      return [...encoder(), A, b, ...Z, ...fc()];
    }
    case 'mlp-node': {
      if (block.kind !== 'mlp') throw new OdemorError('MODEL', 'internal: mlp-node without an mlp block');
      const { n, m } = block;
      // no encoder on an [H, W, c] image (c > 1): the state is the image flattened, (c, h, w) in PyTorch, (h, w, c) here
      const direct = image && image.length === 3 && image[2]! > 1 && !model.pre.some((l) => l.type === 'dense') ? (image as [number, number, number]) : undefined;
      const cols = (rows: number) => (direct ? chwColumnsToHwc(rows, direct[2], direct[0], direct[1]) : same);
      const rowsP = (c: number) => (direct ? chwRowsToHwc(direct[2], direct[0], direct[1], c) : same);
      const fcSlots = fc().map((sl) => (direct && sl.name === 'fc.weight' ? { ...sl, convert: cols(sl.shape[0]!) } : sl));
      const Zin: Slot[] = block.Zin ? [{ name: 'odefunc.input.weight', path: 'block.Zin', shape: [...block.Zin.shape], dims: '[m, channels]', convert: same }] : [];
      return [
        ...encoder(),
        { name: 'odefunc.fc1.weight', path: 'block.M', shape: [m, n], dims: '[m, n]', convert: cols(m) },
        { name: 'odefunc.fc1.bias', path: 'block.c', shape: [m], dims: '[m]', optional: true, convert: same },
        { name: 'odefunc.fc2.weight', path: 'block.N', shape: [n, m], dims: '[n, m]', convert: rowsP(m) },
        { name: 'odefunc.fc2.bias', path: 'block.bias', shape: [n], dims: '[n]', optional: true, convert: rowsP(1) },
        ...Zin,
        ...fcSlots,
      ];
    }
  }
}

/** Every name the convention of `as` may use (all variants), for messages. */
export const CONVENTION_NAMES: Readonly<Record<ImportableModel, readonly string[]>> = Object.freeze({
  'conv-node': ['downsample.0.weight', 'downsample.0.bias', 'odefunc.conv.weight', 'odefunc.conv.bias', 'odefunc.bias', 'fc.weight', 'fc.bias'],
  'dense-node': ['encoder.weight', 'encoder.bias', 'odefunc.linear.weight', 'odefunc.linear.bias', 'odefunc.W', 'odefunc.b', 'fc.weight', 'fc.bias'],
  'ode-rnn': ['odefunc.W', 'odefunc.b', 'odefunc.Z.weight', 'fc.weight', 'fc.bias'],
  'mlp-node': ['encoder.weight', 'encoder.bias', 'odefunc.fc1.weight', 'odefunc.fc1.bias', 'odefunc.fc2.weight', 'odefunc.fc2.bias', 'odefunc.input.weight', 'fc.weight', 'fc.bias'],
});

/** The file's tensors under their convention names (after the map): convention name → file name. */
function conventionNames(file: SafetensorsFile, as: ImportableModel, map: TensorNameMap | undefined, mapSource: string): Map<string, string> {
  const known = CONVENTION_NAMES[as];
  const out = new Map<string, string>();
  const by = new Map<string, string>();
  for (const [from, to] of map ?? []) {
    if (!file.entries.has(from)) throw new OdemorError('ARGUMENT', `${mapSource}: '${from}' names no tensor of ${file.source} (its tensors: ${[...file.entries.keys()].join(', ')})`);
    if (to === null) continue;
    if (!known.includes(to)) throw new OdemorError('ARGUMENT', `${mapSource}: '${from}' maps to '${to}', which is not a name of the ${as} convention (${known.join(', ')}; docs/import.md#${as})`);
    const twice = by.get(to);
    if (twice !== undefined) throw new OdemorError('ARGUMENT', `${mapSource}: '${twice}' and '${from}' both map to '${to}'`);
    by.set(to, from);
  }
  for (const name of file.entries.keys()) {
    if (map?.has(name)) {
      const to = map.get(name);
      if (to) out.set(to, name);
      continue;
    }
    const taken = by.get(name);
    if (taken !== undefined) throw new OdemorError('ARGUMENT', `${mapSource}: '${taken}' maps to '${name}', but ${file.source} has a tensor '${name}' of its own (map that one too, or to null to ignore it)`);
    out.set(name, name);
  }
  return out;
}

/** `'fc.weight'`, or `'fc.weight' (file tensor 'head.weight')` when the map renamed it. */
const label = (conv: string, fileName: string | undefined) => (fileName === undefined || fileName === conv ? `'${conv}'` : `'${conv}' (tensor '${fileName}' of the file)`);

/** The shape of convention tensor `name` in the file, or undefined. */
function shapeIn(file: SafetensorsFile, names: Map<string, string>, name: string): number[] | undefined {
  const f = names.get(name);
  return f === undefined ? undefined : file.entries.get(f)?.shape;
}

/**
 * The model options the weights determine, filled in where `options` leaves them out: conv-node's `channels`;
 * dense-node's `hidden` and `antisymmetric` (the file has `odefunc.W`); ode-rnn's `hidden`; mlp-node's `hidden`
 * and, with an `encoder`, `state`.
 */
function inferOptions(as: ImportableModel, file: SafetensorsFile, names: Map<string, string>, options: Record<string, unknown>): Record<string, unknown> {
  const o = { ...options };
  const dim = (name: string, rank: number, axis: number) => {
    const s = shapeIn(file, names, name);
    return s && s.length === rank && s[axis]! > 0 ? s[axis] : undefined;
  };
  const fill = (key: string, v: unknown) => {
    if (o[key] === undefined && v !== undefined) o[key] = v;
  };
  switch (as) {
    case 'conv-node':
      fill('channels', dim('odefunc.conv.weight', 4, 0) ?? dim('downsample.0.weight', 4, 0));
      break;
    case 'dense-node':
      if (o.antisymmetric === undefined && names.has('odefunc.W') && !names.has('odefunc.linear.weight')) o.antisymmetric = true;
      fill('hidden', dim('odefunc.linear.weight', 2, 0) ?? dim('odefunc.W', 2, 0) ?? dim('encoder.weight', 2, 0));
      break;
    case 'ode-rnn':
      fill('hidden', dim('odefunc.W', 2, 0) ?? dim('odefunc.Z.weight', 2, 0));
      break;
    case 'mlp-node':
      fill('hidden', dim('odefunc.fc1.weight', 2, 0));
      if (names.has('encoder.weight')) fill('state', dim('encoder.weight', 2, 0));
      break;
  }
  return o;
}

/** Where the weights alone leave the model's input open (the CLI's --input, --times, --signal). */
export interface ImportShape {
  /** one sample's input shape: conv-node `[H, W, c]` (or `[H, W]`: c from the weights), ode-rnn `[steps, features]`; dense-node and mlp-node default `[d]` from the weights */
  input?: number[];
  /** mlp-node as a trajectory model: the observation times (increasing, after t0) */
  times?: number[];
  /** mlp-node trajectory: the start time (default 0) */
  t0?: number;
  /** mlp-node trajectory with an input signal u */
  signal?: { steps: number; channels: number; stepDuration: number };
}

/**
 * The dataset description a built-in model is built for, from the weights and `shape`: the input shape (what
 * the weights give unless `shape.input` sets it), the number of classes (rows of `fc.weight`), and for an
 * mlp-node without `fc.weight` a trajectory model with `shape.times` (required then).
 * @throws OdemorError 'ARGUMENT' naming what to give when the weights cannot determine it
 */
export function importDatasetInfo(file: SafetensorsFile, as: ImportableModel, shape: ImportShape = {}, map?: TensorNameMap, mapSource = 'the tensor map'): DatasetInfo {
  checkImportable(as);
  const names = conventionNames(file, as, map, mapSource);
  const s = (name: string) => shapeIn(file, names, name);
  const need = (what: string): never => {
    throw new OdemorError('ARGUMENT', `${file.source}: the weights of a ${as} do not give ${what}`);
  };
  const fcRows = s('fc.weight')?.[0];
  const base = { trainSize: 0, testSize: 0 };
  let input = shape.input;
  if (input !== undefined && (input.length === 0 || !input.every((d) => Number.isInteger(d) && d > 0))) {
    throw new OdemorError('ARGUMENT', `input shape [${input.join(', ')}] must be one or more positive integers`);
  }
  const notTrajectory = () => {
    if (shape.times || shape.signal) throw new OdemorError('ARGUMENT', `times and signal are for an mlp-node trajectory model, not a ${as}`);
  };
  switch (as) {
    case 'conv-node': {
      notTrajectory();
      if (!input) return need('the image size: give the input shape [H, W, c] (--input H,W,c)');
      const cin = s('downsample.0.weight')?.[1];
      if (input.length === 2 && cin !== undefined) input = [...input, cin];
      return { ...base, kind: 'image', inputShape: input, numClasses: fcRows ?? need("the number of classes: the file has no 'fc.weight'") };
    }
    case 'dense-node': {
      notTrajectory();
      input ??= s('encoder.weight')?.length === 2 ? [s('encoder.weight')![1]!] : need("the input size: the file has no 'encoder.weight' [n, d]; give --input");
      return { ...base, kind: input.length > 1 ? 'image' : 'vector', inputShape: input, numClasses: fcRows ?? need("the number of classes: the file has no 'fc.weight'") };
    }
    case 'ode-rnn': {
      notTrajectory();
      if (!input) return need('the sequence length: give the input shape [steps, features] (--input steps,features)');
      return { ...base, kind: 'sequence', inputShape: input, numClasses: fcRows ?? need("the number of classes: the file has no 'fc.weight'") };
    }
    case 'mlp-node': {
      const fc1 = s('odefunc.fc1.weight');
      const n = fc1?.length === 2 ? fc1[1] : undefined;
      if (shape.times === undefined && fcRows === undefined) {
        return need("the model's outputs: the file has no 'fc.weight' (a classifier); for a trajectory model give the observation times (--times)");
      }
      if (shape.times !== undefined) {
        if (fcRows !== undefined) throw new OdemorError('ARGUMENT', `${file.source}: 'fc.weight' is a classifier's readout, but observation times make a trajectory model (which has none)`);
        const times = shape.times;
        const t0 = shape.t0 ?? 0;
        if (!times.length || times.some((t, i) => !Number.isFinite(t) || t <= (i ? times[i - 1]! : t0))) {
          throw new OdemorError('ARGUMENT', `times [${times.join(', ')}] must be increasing and after t0 = ${t0}`);
        }
        const size = input ? input.reduce((a, b) => a * b, 1) : (n ?? need("the state size: the file has no 'odefunc.fc1.weight' [m, n]"));
        const sig = shape.signal;
        return {
          ...base,
          kind: 'trajectory',
          inputShape: [size],
          numClasses: 0,
          task: 'regression',
          targetShape: [times.length, size],
          times: [...times],
          t0,
          ...(sig ? { signal: { steps: sig.steps, channels: sig.channels, dt: sig.stepDuration } } : {}),
        };
      }
      input ??= s('encoder.weight')?.length === 2 ? [s('encoder.weight')![1]!] : n !== undefined ? [n] : need("the input size: give --input");
      return { ...base, kind: input.length > 1 ? 'image' : 'vector', inputShape: input, numClasses: fcRows! };
    }
  }
}

function checkImportable(as: string): asserts as is ImportableModel {
  if (!(IMPORTABLE_MODELS as readonly string[]).includes(as)) {
    throw new OdemorError('ARGUMENT', `weights can be imported into the built-in models ${IMPORTABLE_MODELS.join(', ')}, not '${as}'`);
  }
}

/** What {@link importTorchModel} returns. */
export interface ImportedModel {
  model: ModelIR;
  /** convention names of the optional tensors (biases) the file does not have: set to zero */
  zeroed: string[];
  /** the model options used (the given ones and those read from the weights) */
  options: Record<string, unknown>;
}

/** Options of {@link importTorchModel}. */
export interface TorchImportOptions {
  /** the model options (the `model:` keys besides use, checkpoint, weights, solver); shape options the weights give are filled in */
  options?: Record<string, unknown>;
  /** file name → convention name (or null: ignore) */
  map?: TensorNameMap;
  /** names the map in messages */
  mapSource?: string;
}

/**
 * Build the built-in model `as` for `context` (dataset description, solver) and fill every tensor from the
 * PyTorch weights in `file` (naming convention and layout conversion: docs/import.md). The result is validated.
 * @throws OdemorError naming the file and the tensor: 'ARGUMENT' for a tensor that is missing, extra (not part
 *   of the convention, nor ignored by the map) or a map entry that does not fit; 'SHAPE' for a tensor of the
 *   wrong shape (with the expected shape); 'IO' for a tensor that cannot be read (dtype, NaN); 'CONFIG' when
 *   the model cannot be built from the options.
 */
export function importTorchModel(file: SafetensorsFile, as: string, context: ModelFactoryContext, opts: TorchImportOptions = {}): ImportedModel {
  checkImportable(as);
  const names = conventionNames(file, as, opts.map, opts.mapSource ?? 'the tensor map');
  const options = inferOptions(as, file, names, opts.options ?? {});
  let built: ModelIR;
  try {
    built = builtinModels[as](options, context);
  } catch (e) {
    if (OdemorError.is(e)) throw new OdemorError(e.code, `${file.source}: cannot build a ${as} for these weights: ${e.message}`, { cause: e });
    throw e;
  }
  const slots = slotsOf(as, built);
  const wanted = new Set(slots.map((s) => s.name));
  const extra = [...names.keys()].filter((n) => !wanted.has(n));
  if (extra.length) {
    const what = extra.map((n) => label(n, names.get(n))).join(', ');
    throw new OdemorError(
      'ARGUMENT',
      `${file.source}: ${extra.length === 1 ? 'tensor' : 'tensors'} ${what} ${extra.length === 1 ? 'is' : 'are'} not part of this ${as} ` +
        `(its tensors: ${slots.map((s) => s.name).join(', ')}; docs/import.md#${as}); rename with --map (model.weightsMap), or map to null to ignore` +
        (as === 'mlp-node' && extra.includes('odefunc.input.weight') ? "; 'odefunc.input.weight' is the input matrix of a trajectory model's signal u: give signal: { steps, channels, stepDuration }" : ''),
    );
  }
  const missing = slots.filter((s) => !s.optional && !names.has(s.name));
  if (missing.length) {
    throw new OdemorError(
      'ARGUMENT',
      `${file.source}: missing ${missing.map((s) => `'${s.name}' [${s.shape.join(', ')}] (${s.dims})`).join(', ')} of the ${as} convention (docs/import.md#${as}); ` +
        `the file has ${[...file.entries.keys()].join(', ') || 'no tensors'}`,
    );
  }
  const filled = new Map<string, Float64Array>();
  const zeroed: string[] = [];
  for (const s of slots) {
    const f = names.get(s.name);
    if (f === undefined) {
      zeroed.push(s.name);
      continue;
    }
    const got = file.entries.get(f)!.shape;
    if (got.length !== s.shape.length || got.some((d, i) => d !== s.shape[i])) {
      throw new OdemorError('SHAPE', `${file.source}: tensor ${label(s.name, f)} has shape [${got.join(', ')}], expected [${s.shape.join(', ')}] = ${s.dims} for this ${as}`);
    }
    const v = s.convert(file.values(f));
    const prev = filled.get(s.path);
    if (prev) for (let i = 0; i < v.length; i++) prev[i]! += v[i]!;
    else filled.set(s.path, Float64Array.from(v));
  }
  // an IR tensor no tensor of the file reached (an optional bias left out) is zero
  const replace = new Map<string, Float32Array>();
  for (const { path, tensor } of listTensors(built)) {
    const v = filled.get(path);
    replace.set(path, v ? Float32Array.from(v) : new Float32Array(tensor.data.length));
  }
  const model = withTensors(built, replace);
  const imported = { from: file.source.split(/[\\/]/).pop(), format: 'safetensors', convention: as, ...(file.metadata ? { metadata: file.metadata } : {}) };
  model.meta = { ...(model.meta ?? {}), imported };
  validateModel(model);
  return { model, zeroed: [...new Set(zeroed.filter((z) => !filled.has(slots.find((s) => s.name === z)!.path)))], options };
}

/** The tensors of the convention for a model, as `{ name, shape }` (for docs and tests). */
export function conventionOf(as: string, model: ModelIR): { name: string; path: string; shape: number[]; optional: boolean }[] {
  checkImportable(as);
  return slotsOf(as, model).map((s) => ({ name: s.name, path: s.path, shape: [...s.shape], optional: s.optional === true }));
}

import { OdemorError } from '../errors.js';
import type { ParamSelection } from '../extension-points.js';
import type { ModelIR, Tensor32 } from '../ir/types.js';

/** A tensor of a model together with its dotted path, e.g. `block.A.weight` or `pre.0.bias`. */
export interface NamedTensor {
  path: string;
  tensor: Tensor32;
}

/** True when `v` looks like a {@link Tensor32} (`shape` array and Float32Array `data`). */
export function isTensor32(v: unknown): v is Tensor32 {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as Tensor32).shape) &&
    (v as Tensor32).data instanceof Float32Array
  );
}

/**
 * Every tensor of the model's layers and block (`pre`, `block`, `post`, then the Taylor-Lagrange midpoint
 * network's `midpoint.layers`), in a stable order, with its dotted path (`pre.0.weight`, `block.A.kernel`,
 * `block.M.left`, `post.1.bias`, `midpoint.layers.0.weight`, …).
 */
export function listTensors(model: ModelIR): NamedTensor[] {
  const out: NamedTensor[] = [];
  const walk = (v: unknown, path: string): void => {
    if (isTensor32(v)) {
      out.push({ path, tensor: v });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}.${i}`));
      return;
    }
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
      for (const [k, item] of Object.entries(v)) walk(item, `${path}.${k}`);
    }
  };
  walk(model.pre, 'pre');
  walk(model.block, 'block');
  walk(model.post, 'post');
  if (model.midpoint) walk(model.midpoint.layers, 'midpoint.layers');
  return out;
}

/**
 * A deep copy of the model in which the tensor at each path of `replace` has the given data (same shape);
 * every other tensor is copied. The input model is not modified.
 */
export function withTensors(model: ModelIR, replace: ReadonlyMap<string, Float32Array> = new Map()): ModelIR {
  const copy = (v: unknown, path: string): unknown => {
    if (isTensor32(v)) {
      const data = replace.get(path);
      return { shape: [...v.shape], data: data ? new Float32Array(data) : new Float32Array(v.data) };
    }
    if (Array.isArray(v)) return v.map((item, i) => copy(item, `${path}.${i}`));
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) o[k] = copy(item, `${path}.${k}`);
      return o;
    }
    return v;
  };
  return {
    ...model,
    input: structuredClone(model.input),
    pre: copy(model.pre, 'pre') as ModelIR['pre'],
    block: copy(model.block, 'block') as ModelIR['block'],
    post: copy(model.post, 'post') as ModelIR['post'],
    solver: { ...model.solver },
    ...(model.readout ? { readout: structuredClone(model.readout) } : {}),
    ...(model.midpoint ? { midpoint: { layers: copy(model.midpoint.layers, 'midpoint.layers') as ModelIR['post'] } } : {}),
    ...(model.meta ? { meta: structuredClone(model.meta) } : {}),
  };
}

/** A deep copy of the model (all tensors copied). */
export function cloneModel(model: ModelIR): ModelIR {
  return withTensors(model);
}

/**
 * The predicate "this IR path trains" for a {@link ParamSelection}: `all`, `block`, `after-block` (post
 * layers), `before-block` (pre layers), or a list of paths / prefixes ending in `.`. Layers marked
 * `trainable: false` never train. A list entry that matches no tensor of the model is an ARGUMENT error
 * naming it (a typo would otherwise train nothing silently).
 */
export function paramSelector(model: ModelIR, selection: ParamSelection): (path: string) => boolean {
  const frozenLayer = (path: string): boolean => {
    const [part, idx] = path.split('.');
    if (part !== 'pre' && part !== 'post') return false;
    const layer = (part === 'pre' ? model.pre : model.post)[Number(idx)] as { trainable?: boolean } | undefined;
    return layer?.trainable === false;
  };
  let pick: (path: string) => boolean;
  if (Array.isArray(selection)) {
    const paths = listTensors(model).map((t) => t.path);
    const matches = (entry: string, path: string) => (entry.endsWith('.') ? path.startsWith(entry) : path === entry);
    for (const entry of selection) {
      if (!paths.some((p) => matches(entry, p))) {
        throw new OdemorError('ARGUMENT', `params: '${entry}' names no tensor of the model (its tensors: ${paths.join(', ')})`);
      }
    }
    pick = (path) => selection.some((e) => matches(e, path));
  } else {
    const part = { all: undefined, block: 'block', 'after-block': 'post', 'before-block': 'pre' }[selection];
    if (!(selection in { all: 1, block: 1, 'after-block': 1, 'before-block': 1 })) {
      throw new OdemorError('ARGUMENT', `params: unknown selection '${String(selection)}' (all, block, after-block, before-block or a list of IR paths)`);
    }
    pick = part === undefined ? () => true : (path) => path.split('.')[0] === part;
  }
  return (path) => !frozenLayer(path) && pick(path);
}

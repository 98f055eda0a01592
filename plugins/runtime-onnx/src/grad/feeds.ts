/**
 * What every multi-graph gradient program needs around its onnxruntime sessions (the adaptive program of
 * `./adaptive.ts`, the adjoint of `@odemor/trainer-adjoint`): the weight inputs of a run, made once per graph input,
 * and the weight gradients summed in float64 over graphs and steps, mapped back to IR paths once.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OdemorError } from '@odemor/core';
import type { HookedInput, WeightLayout } from '../compile.js';
import { fromGraphLayout, toGraphLayout } from './lower.js';

/** A compiled graph's weight inputs (`params`: graph input → IR path and layout) and its gradient outputs (`grads`: graph input → output name). */
export interface WeightGradGraph {
  params: ReadonlyMap<string, HookedInput>;
  grads: ReadonlyMap<string, string>;
}

/** A run's values of every weight input of a graph (graph layout), made once per input. */
export class WeightFeeds {
  private readonly made = new Map<string, Tensor>();

  /** `values(path)`: the tensor's IR-layout data for this run */
  constructor(private readonly values: (path: string) => Float32Array) {}

  feeds(params: ReadonlyMap<string, HookedInput> | undefined): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, h] of params ?? []) {
      let t = this.made.get(name);
      if (!t) this.made.set(name, (t = new Tensor('float32', toGraphLayout(h.layout, this.values(h.path)), h.dims)));
      out[name] = t;
    }
    return out;
  }
}

/** Float64 sums of the weight gradients per graph input (graph layout), mapped to IR paths at the end. */
export class GradientSums {
  private readonly sums = new Map<string, { path: string; layout: WeightLayout; sum: Float64Array }>();

  /** add `data` (graph layout) to the sum of graph input `input` */
  addValues(input: string, h: HookedInput, data: ArrayLike<number>): void {
    let entry = this.sums.get(input);
    if (!entry) this.sums.set(input, (entry = { path: h.path, layout: h.layout, sum: new Float64Array(data.length) }));
    const s = entry.sum;
    for (let i = 0; i < data.length; i++) s[i] += data[i]!;
  }

  /** add every gradient output of `graph` in `out` (a RUNTIME error naming `what` when one is missing) */
  add(graph: WeightGradGraph, out: InferenceSession.OnnxValueMapType, what: string): void {
    for (const [input, name] of graph.grads) {
      const t = out[name] as Tensor | undefined;
      if (!t) throw new OdemorError('RUNTIME', `onnxruntime returned no output '${name}' from the ${what} graph`);
      this.addValues(input, graph.params.get(input)!, t.data as Float32Array);
    }
  }

  /** d(loss)/d(tensor) per IR path of `sizes` (IR layout; float64 sums over the graphs and layouts, rounded once). */
  byPath(sizes: ReadonlyMap<string, number>): Map<string, Float32Array> {
    const total = new Map<string, Float64Array>([...sizes].map(([p, n]) => [p, new Float64Array(n)]));
    for (const { path, layout, sum } of this.sums.values()) {
      const acc = total.get(path);
      if (!acc) continue;
      const ir = fromGraphLayout(layout, Float32Array.from(sum));
      for (let i = 0; i < ir.length; i++) acc[i] += ir[i]!;
    }
    return new Map([...total].map(([p, v]) => [p, Float32Array.from(v)]));
  }
}

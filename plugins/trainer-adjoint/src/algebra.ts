/**
 * Core's solver algebra over onnxruntime tensors, for the loops this package drives with `integrateAsync`: the
 * state is a list of tensors (the augmented state [x, a, g₁, …, g_m] of the adjoint solve; one tensor for the
 * forward step-map loop), combined elementwise in JavaScript (float64 sums, stored in each part's own type:
 * float32 for the parts the graphs read, float64 for the weight-gradient integrals). Values are immutable and left
 * to the garbage collector (`clone` and `dispose` are no-ops, `scope` just runs).
 */
import { Tensor } from 'onnxruntime-node';
import { OdemorError, type SolverAlgebra } from '@odemor/core';

/** A state of {@link partsAlgebra}: tensors of fixed dims and types (float32 or float64). */
export type Parts = readonly Tensor[];

type Data = Float32Array | Float64Array;

const dataOf = (t: Tensor): Data => {
  const d = t.data;
  if (d instanceof Float32Array || d instanceof Float64Array) return d;
  throw new OdemorError('RUNTIME', `the adjoint algebra holds float32 and float64 tensors; got a '${t.type}' tensor`);
};

/** A tensor like `like` (type, dims) with the values `v`. */
export function likeTensor(like: Tensor, v: ArrayLike<number>): Tensor {
  return like.type === 'float64' ? new Tensor('float64', Float64Array.from(v), like.dims) : new Tensor('float32', Float32Array.from(v), like.dims);
}

/** `base + Σ w_j k_j` per part (`base` absent: 0), float64 sums. */
function combineParts(base: Parts | undefined, w: readonly number[], k: readonly Parts[], template: Parts): Tensor[] {
  return template.map((like, p) => {
    const n = like.size;
    const acc = new Float64Array(n);
    if (base) {
      const b = dataOf(base[p]!);
      for (let i = 0; i < n; i++) acc[i] = b[i]!;
    }
    for (let j = 0; j < w.length; j++) {
      const wj = w[j]!;
      if (wj === 0) continue;
      const kj = dataOf(k[j]![p]!);
      for (let i = 0; i < n; i++) acc[i] += wj * kj[i]!;
    }
    return likeTensor(like, acc);
  });
}

/**
 * The algebra of lists of tensors: `axpy` and `combine` elementwise per part, `errorRatio` the RMS over every entry
 * of every part of `e / (atol + rtol · max(|y0|, |y1|))` (core's `scaledError`, as every algebra computes it), so the
 * adaptive controller weighs the state, the adjoint and the gradient integrals alike.
 */
export const partsAlgebra: SolverAlgebra<Parts> = {
  scope: (fn) => fn(),
  axpy: (y, w, k) => combineParts(y, w, k, y),
  combine: (w, k) => combineParts(undefined, w, k, k[0]!),
  errorRatio(err, y0, y1, rtol, atol) {
    let sum = 0;
    let count = 0;
    for (let p = 0; p < err.length; p++) {
      const e = dataOf(err[p]!);
      const a = dataOf(y0[p]!);
      const b = dataOf(y1[p]!);
      for (let i = 0; i < e.length; i++) {
        const q = e[i]! / (atol + rtol * Math.max(Math.abs(a[i]!), Math.abs(b[i]!)));
        sum += q * q;
      }
      count += e.length;
    }
    return Math.sqrt(sum / Math.max(1, count));
  },
  allFinite(y) {
    for (const t of y) {
      const d = dataOf(t);
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
    }
    return true;
  },
  clone: (y) => y,
  dispose: () => {},
};

/**
 * The algebra of one tensor for a loop whose steps a graph computes (the forward step map): only `allFinite`,
 * `clone` and `dispose` are called.
 */
export const stepGraphAlgebra: SolverAlgebra<Tensor> = {
  scope: (fn) => fn(),
  axpy() {
    throw new OdemorError('RUNTIME', 'the step-map graph computes the stages (unreachable)');
  },
  combine() {
    throw new OdemorError('RUNTIME', 'the step-map graph computes the stages (unreachable)');
  },
  errorRatio() {
    throw new OdemorError('RUNTIME', 'a fixed-step loop has no error estimate (unreachable)');
  },
  allFinite: (y) => partsAlgebra.allFinite([y]),
  clone: (y) => y,
  dispose: () => {},
};

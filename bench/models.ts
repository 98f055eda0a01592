/** Benchmark models: a dense ODE block fed directly by the input, and POD-DEIM-style reductions of it. */
import { Matrix, buildInterpolatedBlock, type ModelIR, type OdeBlock, type ReducedBlock } from '@odemor/core';
import { normalish, rng, uniform } from './lib.js';

export const N = 1024;
export const OUTPUTS = 10;
/** RK4, dt = 0.1 on [0, 1]: 10 steps × 4 stages */
export const SOLVER = { use: 'rk4', dt: 0.1, t0: 0, t1: 1 };
export const STEPS = 10;
export const STAGES = 4;

/** input [n] → (no pre layers: x(0) = input) → x' = tanh(A x + b), A ~ N(0, 1/n) → dense n→10. */
export function fullModel(n = N, seed = 7): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: `bench-dense-${n}`,
    input: { kind: 'tensor', shape: [n] },
    pre: [],
    block: {
      kind: 'ode',
      n,
      A: { type: 'dense', weight: { shape: [n, n], data: normalish(r, n * n, 1 / Math.sqrt(n)) } },
      b: { shape: [n], data: uniform(r, n, 0.1) },
      activation: 'tanh',
    },
    post: [
      {
        type: 'dense',
        weight: { shape: [OUTPUTS, n], data: uniform(r, OUTPUTS * n, 1 / Math.sqrt(n)) },
        bias: { shape: [OUTPUTS], data: new Float32Array(OUTPUTS) },
      },
    ],
    solver: { ...SOLVER },
    outputs: OUTPUTS,
  };
}

/** Random n×k matrix with orthonormal columns (modified Gram–Schmidt, float64). */
export function orthonormal(n: number, k: number, seed: number): Matrix {
  const r = rng(seed);
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => 2 * r() - 1);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i] -= d * q[i]!;
      }
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i]! * v[i]!;
    s = Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] /= s;
    cols.push(v);
  }
  const data = new Float64Array(n * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) data[i * k + j] = cols[j]![i]!;
  return Matrix.from1DArray(n, k, data);
}

/** `m` distinct rows of 0..n−1 (a seeded shuffle); any distinct rows are fine for timing. */
export function points(n: number, m: number, seed: number): number[] {
  const r = rng(seed);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, m).sort((a, b) => a - b);
}

/** POD-DEIM reduced model with random orthonormal V (n×k), U (n×m) and m random points (k = m here). */
export function reducedModel(full: ModelIR & { block: OdeBlock }, k: number, m = k): ModelIR & { block: ReducedBlock } {
  const n = full.block.n;
  const block = buildInterpolatedBlock({
    block: full.block,
    V: orthonormal(n, k, 100 + k),
    U: orthonormal(n, m, 200 + m),
    points: points(n, m, 300 + m),
    method: 'deim',
  });
  return { ...full, name: `${full.name}-deim-${k}`, block };
}

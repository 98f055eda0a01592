/** Small hand-built models for the tests (seeded, deterministic). */
import type { Activation, ModelIR, OdeBlock, ReducedBlock, SolverSpec, Tensor32 } from '@odemor/core';

/** mulberry32 from core: a small seeded uniform generator in [0, 1). */
import { mulberry32 as rng } from '@odemor/core';
export { rng };

/** Uniform in [−scale, scale]. */
export function tensor(r: () => number, shape: number[], scale = 1): Tensor32 {
  const size = shape.reduce((p, v) => p * v, 1);
  return { shape, data: Float32Array.from({ length: size }, () => (2 * r() - 1) * scale) };
}

export function randomInput(seed: number, size: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: size }, () => 2 * r() - 1);
}

const solver = (use = 'rk4', dt = 0.1, t1 = 1): SolverSpec => ({ use, dt, t0: 0, t1 });

/** dense 4→8, block n = 8 (dense A, tanh), dense 8→3. */
export function denseNode(seed = 1, activation: Activation = 'tanh'): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'dense-node',
    input: { kind: 'tensor', shape: [4] },
    pre: [{ type: 'dense', weight: tensor(r, [8, 4], 0.8), bias: tensor(r, [8], 0.2) }],
    block: { kind: 'ode', n: 8, A: { type: 'dense', weight: tensor(r, [8, 8], 0.6) }, b: tensor(r, [8], 0.3), activation },
    post: [{ type: 'dense', weight: tensor(r, [3, 8], 0.8), bias: tensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** conv2d 1→2 (3×3 valid) on 6×6 → relu → maxpool 2/1 → conv block [3, 3, 2] → flatten → dense 18→3. */
export function convNode(seed = 2): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'conv-node',
    input: { kind: 'tensor', shape: [6, 6, 1] },
    pre: [
      { type: 'conv2d', kernel: tensor(r, [3, 3, 1, 2], 0.5), bias: tensor(r, [2], 0.1), stride: 1, padding: 'valid' },
      { type: 'relu' },
      { type: 'maxpool2d', size: 2, stride: 1, padding: 'valid' },
    ],
    block: {
      kind: 'ode',
      n: 18,
      A: { type: 'conv', kernel: tensor(r, [3, 3, 2, 2], 0.3), height: 3, width: 3, channels: 2 },
      b: tensor(r, [18], 0.2),
      activation: 'tanh',
    },
    post: [{ type: 'flatten' }, { type: 'dense', weight: tensor(r, [3, 18], 0.5), bias: tensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** 'same' paddings with stride 2: conv2d 3×3/2 same on 5×5 → tanh → maxpool 2/2 same → conv block [2, 2, 2] (softplus). */
export function convSame(seed = 3): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    input: { kind: 'tensor', shape: [5, 5, 1] },
    pre: [
      { type: 'conv2d', kernel: tensor(r, [3, 3, 1, 2], 0.5), stride: 2, padding: 'same' },
      { type: 'tanh' },
      { type: 'maxpool2d', size: 2, stride: 2, padding: 'same' },
    ],
    block: {
      kind: 'ode',
      n: 8,
      A: { type: 'conv', kernel: tensor(r, [3, 3, 2, 2], 0.3), height: 2, width: 2, channels: 2 },
      b: tensor(r, [8], 0.2),
      activation: 'softplus',
    },
    post: [{ type: 'flatten' }, { type: 'dense', weight: tensor(r, [3, 8], 0.5) }],
    solver: solver('euler', 0.3),
    outputs: 3,
  };
}

/** Sequence input [5, 3] fed as u(t), antisymmetric block n = 6 with Z, dense 6→3. */
export function antisymmetricSeq(seed = 4): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'ode-rnn',
    input: { kind: 'sequence', steps: 5, features: 3, stepDuration: 0.2 },
    pre: [],
    block: {
      kind: 'ode',
      n: 6,
      A: { type: 'antisymmetric', weight: tensor(r, [6, 6], 0.7), gamma: 0.1 },
      b: tensor(r, [6], 0.2),
      Z: tensor(r, [6, 3], 1),
      activation: 'tanh',
    },
    post: [{ type: 'dense', weight: tensor(r, [3, 6], 0.8), bias: tensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** n×k with orthonormal columns (Gram–Schmidt of a random matrix), row-major. */
export function orthonormal(r: () => number, n: number, k: number): Float32Array {
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => 2 * r() - 1);
    for (const q of cols) {
      const d = q.reduce((s, qi, i) => s + qi * v[i]!, 0);
      for (let i = 0; i < n; i++) v[i]! -= d * q[i]!;
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = cols[j]![i]!;
  return out;
}

function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

function withBlock(base: ModelIR, block: ReducedBlock, post = base.post): ModelIR & { block: ReducedBlock } {
  return { ...base, block, post };
}

/** POD–DEIM-like: E = Vᵀ, D = V (V with orthonormal columns), dense M [m, k] and N [k, m]. */
export function deimReduced(seed = 5): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = denseNode(seed);
  const n = 8;
  const k = 3;
  const m = 4;
  const V = orthonormal(r, n, k);
  return withBlock(base, {
    kind: 'reduced',
    method: 'deim',
    n,
    k,
    m,
    E: { type: 'dense', weight: { shape: [k, n], data: transposed(V, n, k) } },
    M: { type: 'dense', weight: tensor(r, [m, k], 0.8) },
    c: tensor(r, [m], 0.3),
    N: { type: 'dense', weight: tensor(r, [k, m], 0.8) },
    D: { type: 'dense', weight: { shape: [n, k], data: V } },
    activation: 'tanh',
  });
}

/** SVD-like: identity E, N and D; M factored as left [8, 3] · right [3, 8]. */
export function svdReduced(seed = 6): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = denseNode(seed);
  return withBlock(base, {
    kind: 'reduced',
    method: 'svd',
    n: 8,
    k: 8,
    m: 8,
    E: { type: 'identity', size: 8 },
    M: { type: 'factored', left: tensor(r, [8, 3], 0.6), right: tensor(r, [3, 8], 0.6) },
    c: tensor(r, [8], 0.3),
    N: { type: 'identity', size: 8 },
    D: { type: 'identity', size: 8 },
    activation: 'tanh',
  });
}

const KEPT = [0, 2, 3, 6];

/** APoZ-like: E selects 4 of 8 neurons, D scatters them back into zeros. */
export function apozReduced(seed = 7): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = denseNode(seed, 'relu');
  return withBlock(base, {
    kind: 'reduced',
    method: 'apoz',
    n: 8,
    k: 4,
    m: 4,
    E: { type: 'select', indices: KEPT, from: 8 },
    M: { type: 'dense', weight: tensor(r, [4, 4], 0.6) },
    c: tensor(r, [4], 0.3),
    N: { type: 'identity', size: 4 },
    D: { type: 'scatter', indices: KEPT, to: 8 },
    activation: 'relu',
  });
}

/** APoZ-like with D = identity and the scatter done by a post 'scatter' layer. */
export function apozScatterLayer(seed = 8): ModelIR & { block: ReducedBlock } {
  const m = apozReduced(seed);
  return withBlock(m, { ...m.block, D: { type: 'identity', size: 4 } }, [{ type: 'scatter', indices: KEPT, size: 8 }, ...m.post]);
}

/** Reduced block with sequence input: z0 = 0, Zr [k, p]. */
export function seqReduced(seed = 9): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = antisymmetricSeq(seed);
  const n = 6;
  const k = 3;
  const m = 5;
  const V = orthonormal(r, n, k);
  return withBlock(base, {
    kind: 'reduced',
    method: 'deim',
    n,
    k,
    m,
    E: { type: 'dense', weight: { shape: [k, n], data: transposed(V, n, k) } },
    M: { type: 'dense', weight: tensor(r, [m, k], 0.8) },
    c: tensor(r, [m], 0.3),
    N: { type: 'dense', weight: tensor(r, [k, m], 0.8) },
    Zr: tensor(r, [k, 3], 1),
    D: { type: 'dense', weight: { shape: [n, k], data: V } },
    activation: 'softplus',
  });
}

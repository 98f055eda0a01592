/**
 * Small hand-built models for runtime tests (seeded, deterministic): every full block kind (dense,
 * convolutional with 'valid' and 'same' layers, antisymmetric; with and without a sequence input u(t)) and every
 * shape of the unified reduced form (interpolated E, M, c, N, Zr, D — hand-made and built by the core's
 * `buildInterpolatedBlock`, oversampled; SVD-factored M; APoZ select / scatter; Zin inside σ and a bias), mlp blocks
 * (x' = N σ(M x + c + Zin u) + bias), state inputs with and without an input signal and trajectory readouts. Weights are float32, the
 * solver spec is RK4 with dt = 0.1 on [0, 1] unless a builder says otherwise. {@link runtimeModelCases} lists
 * them with short names; {@link runtimeConformance} runs all of them.
 */
import { buildInterpolatedBlock, inputShapeOf, mulberry32, toMatrix, type Activation, type Layer, type MlpBlock, type ModelIR, type OdeBlock, type ReducedBlock, type SolverSpec, type Tensor32 } from '@odemor/core';

const rng = mulberry32;

/** A float32 tensor of `shape` with entries uniform in [−scale, scale] drawn from `r`. */
export function uniformTensor(r: () => number, shape: number[], scale = 1): Tensor32 {
  const size = shape.reduce((p, v) => p * v, 1);
  return { shape, data: Float32Array.from({ length: size }, () => (2 * r() - 1) * scale) };
}

/** `size` float32 values uniform in [−1, 1) from the seeded generator `seed` (core's mulberry32). */
export function uniformInput(seed: number, size: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: size }, () => 2 * r() - 1);
}

const solver = (use = 'rk4', dt = 0.1, t1 = 1): SolverSpec => ({ use, dt, t0: 0, t1 });

/** dense 4→8, block n = 8 (dense A, tanh), dense 8→3. */
function denseNode(seed = 1, activation: Activation = 'tanh'): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'dense-node',
    input: { kind: 'tensor', shape: [4] },
    pre: [{ type: 'dense', weight: uniformTensor(r, [8, 4], 0.8), bias: uniformTensor(r, [8], 0.2) }],
    block: { kind: 'ode', n: 8, A: { type: 'dense', weight: uniformTensor(r, [8, 8], 0.6) }, b: uniformTensor(r, [8], 0.3), activation },
    post: [{ type: 'dense', weight: uniformTensor(r, [3, 8], 0.8), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** conv2d 1→2 (3×3 valid) on 6×6 → relu → maxpool 2/1 → conv block [3, 3, 2] → flatten → dense 18→3. */
function convNode(seed = 2): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'conv-node',
    input: { kind: 'tensor', shape: [6, 6, 1] },
    pre: [
      { type: 'conv2d', kernel: uniformTensor(r, [3, 3, 1, 2], 0.5), bias: uniformTensor(r, [2], 0.1), stride: 1, padding: 'valid' },
      { type: 'relu' },
      { type: 'maxpool2d', size: 2, stride: 1, padding: 'valid' },
    ],
    block: {
      kind: 'ode',
      n: 18,
      A: { type: 'conv', kernel: uniformTensor(r, [3, 3, 2, 2], 0.3), height: 3, width: 3, channels: 2 },
      b: uniformTensor(r, [18], 0.2),
      activation: 'tanh',
    },
    post: [{ type: 'flatten' }, { type: 'dense', weight: uniformTensor(r, [3, 18], 0.5), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** 'same' paddings with stride 2: conv2d 3×3/2 same on 5×5 → tanh → maxpool 2/2 same → conv block [2, 2, 2] (softplus). */
function convSame(seed = 3): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    input: { kind: 'tensor', shape: [5, 5, 1] },
    pre: [
      { type: 'conv2d', kernel: uniformTensor(r, [3, 3, 1, 2], 0.5), stride: 2, padding: 'same' },
      { type: 'tanh' },
      { type: 'maxpool2d', size: 2, stride: 2, padding: 'same' },
    ],
    block: {
      kind: 'ode',
      n: 8,
      A: { type: 'conv', kernel: uniformTensor(r, [3, 3, 2, 2], 0.3), height: 2, width: 2, channels: 2 },
      b: uniformTensor(r, [8], 0.2),
      activation: 'softplus',
    },
    post: [{ type: 'flatten' }, { type: 'dense', weight: uniformTensor(r, [3, 8], 0.5) }],
    solver: solver('euler', 0.3),
    outputs: 3,
  };
}

/** Sequence input [5, 3] fed as u(t), antisymmetric block n = 6 with Z, dense 6→3. */
function antisymmetricSeq(seed = 4): ModelIR & { block: OdeBlock } {
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
      A: { type: 'antisymmetric', weight: uniformTensor(r, [6, 6], 0.7), gamma: 0.1 },
      b: uniformTensor(r, [6], 0.2),
      Z: uniformTensor(r, [6, 3], 1),
      activation: 'tanh',
    },
    post: [{ type: 'dense', weight: uniformTensor(r, [3, 6], 0.8), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** Dense pre 4→6, antisymmetric block n = 6 without input (A = W − Wᵀ − γI, γ = 0.2), dense 6→3. */
function antisymmetricNode(seed = 10): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'antisymmetric-node',
    input: { kind: 'tensor', shape: [4] },
    pre: [{ type: 'dense', weight: uniformTensor(r, [6, 4], 0.8), bias: uniformTensor(r, [6], 0.2) }],
    block: { kind: 'ode', n: 6, A: { type: 'antisymmetric', weight: uniformTensor(r, [6, 6], 0.8), gamma: 0.2 }, b: uniformTensor(r, [6], 0.3), activation: 'tanh' },
    post: [{ type: 'dense', weight: uniformTensor(r, [3, 6], 0.8), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** Sequence input [4, 2] (stepDuration 0.25) fed as u(t), dense block n = 5 (relu) with Z [5, 2], dense 5→3. */
function denseSeq(seed = 11): ModelIR & { block: OdeBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'dense-seq',
    input: { kind: 'sequence', steps: 4, features: 2, stepDuration: 0.25 },
    pre: [],
    block: { kind: 'ode', n: 5, A: { type: 'dense', weight: uniformTensor(r, [5, 5], 0.7) }, b: uniformTensor(r, [5], 0.3), Z: uniformTensor(r, [5, 2], 1), activation: 'relu' },
    post: [{ type: 'dense', weight: uniformTensor(r, [3, 5], 0.8), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/** n×k with orthonormal columns (Gram–Schmidt of a uniform random matrix), row-major float32. */
function orthonormal(r: () => number, n: number, k: number): Float32Array {
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
function deimReduced(seed = 5): ModelIR & { block: ReducedBlock } {
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
    M: { type: 'dense', weight: uniformTensor(r, [m, k], 0.8) },
    c: uniformTensor(r, [m], 0.3),
    N: { type: 'dense', weight: uniformTensor(r, [k, m], 0.8) },
    D: { type: 'dense', weight: { shape: [n, k], data: V } },
    activation: 'tanh',
  });
}

/** SVD-like: identity E, N and D; M factored as left [8, 3] · right [3, 8]. */
function svdReduced(seed = 6): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = denseNode(seed);
  return withBlock(base, {
    kind: 'reduced',
    method: 'svd',
    n: 8,
    k: 8,
    m: 8,
    E: { type: 'identity', size: 8 },
    M: { type: 'factored', left: uniformTensor(r, [8, 3], 0.6), right: uniformTensor(r, [3, 8], 0.6) },
    c: uniformTensor(r, [8], 0.3),
    N: { type: 'identity', size: 8 },
    D: { type: 'identity', size: 8 },
    activation: 'tanh',
  });
}

const KEPT = [0, 2, 3, 6];

/** APoZ-like: E selects 4 of 8 neurons, D scatters them back into zeros. */
function apozReduced(seed = 7): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const base = denseNode(seed, 'relu');
  return withBlock(base, {
    kind: 'reduced',
    method: 'apoz',
    n: 8,
    k: 4,
    m: 4,
    E: { type: 'select', indices: KEPT, from: 8 },
    M: { type: 'dense', weight: uniformTensor(r, [4, 4], 0.6) },
    c: uniformTensor(r, [4], 0.3),
    N: { type: 'identity', size: 4 },
    D: { type: 'scatter', indices: KEPT, to: 8 },
    activation: 'relu',
  });
}

/** APoZ-like with D = identity and the scatter done by a post 'scatter' layer. */
function apozScatterLayer(seed = 8): ModelIR & { block: ReducedBlock } {
  const m = apozReduced(seed);
  return withBlock(m, { ...m.block, D: { type: 'identity', size: 4 } }, [{ type: 'scatter', indices: KEPT, size: 8 }, ...m.post]);
}

/** Reduced block with sequence input: z0 = 0, Zr [k, p]. */
function seqReduced(seed = 9): ModelIR & { block: ReducedBlock } {
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
    M: { type: 'dense', weight: uniformTensor(r, [m, k], 0.8) },
    c: uniformTensor(r, [m], 0.3),
    N: { type: 'dense', weight: uniformTensor(r, [k, m], 0.8) },
    Zr: uniformTensor(r, [k, 3], 1),
    D: { type: 'dense', weight: { shape: [n, k], data: V } },
    activation: 'softplus',
  });
}

/** Orthonormal V (n×k) and U (n×m) as ml-matrix matrices for {@link buildInterpolatedBlock}. */
function bases(r: () => number, n: number, k: number, m: number) {
  return { V: toMatrix(orthonormal(r, n, k), n, k), U: toMatrix(orthonormal(r, n, m), n, m) };
}

/** The dense model reduced by the core's `buildInterpolatedBlock` (POD-DEIM form, k = 3, m = 4 points). */
function interpolatedDense(seed = 12): ModelIR & { block: ReducedBlock } {
  const base = denseNode(seed);
  const { V, U } = bases(rng(seed), 8, 3, 4);
  return withBlock(base, buildInterpolatedBlock({ block: base.block, V, U, points: [1, 3, 4, 6], method: 'deim' }));
}

/** The conv model (n = 18) reduced by `buildInterpolatedBlock` with 6 points for a 4-column basis (ODEIM, k = 5). */
function oversampledConv(seed = 13): ModelIR & { block: ReducedBlock } {
  const base = convNode(seed);
  const { V, U } = bases(rng(seed), 18, 5, 4);
  return withBlock(base, buildInterpolatedBlock({ block: base.block, V, U, points: [0, 3, 7, 10, 14, 17], method: 'odeim' }));
}

/** The antisymmetric sequence model reduced by `buildInterpolatedBlock`: Zr = VᵀZ carries u(t) (k = 3, m = 4). */
function interpolatedSeq(seed = 14): ModelIR & { block: ReducedBlock } {
  const base = antisymmetricSeq(seed);
  const { V, U } = bases(rng(seed), 6, 3, 4);
  return withBlock(base, buildInterpolatedBlock({ block: base.block, V, U, points: [0, 2, 3, 5], method: 'qdeim' }));
}

/** mlp block fields x' = N σ(M x + c + Zin u) + bias with uniform weights (Zin only for `p > 0`). */
function mlpBlock(r: () => number, n: number, m: number, p: number, activation: Activation = 'tanh'): MlpBlock {
  return {
    kind: 'mlp',
    n,
    m,
    M: uniformTensor(r, [m, n], 0.9),
    c: uniformTensor(r, [m], 0.3),
    N: uniformTensor(r, [n, m], 0.8),
    bias: uniformTensor(r, [n], 0.3),
    ...(p > 0 ? { Zin: uniformTensor(r, [m, p], 1) } : {}),
    activation,
  };
}

/**
 * An mlp-node on a trajectory dataset without inputs (Van der Pol-like): state input [2], mlp block n = 2, m = 8,
 * the states at the readout times 0.25, 0.5, 1 (segments that do not divide by dt = 0.1: shortened last steps).
 */
function mlpTrajectory(seed = 15): ModelIR & { block: MlpBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'mlp-node',
    input: { kind: 'state', size: 2 },
    pre: [],
    block: mlpBlock(r, 2, 8, 0),
    post: [],
    solver: solver(),
    readout: { kind: 'trajectory', times: [0.25, 0.5, 1] },
    outputs: 3 * 2,
  };
}

/**
 * An mlp-node with an input signal (vehicle-like): state input [3] with a signal of 8 steps × 2 channels
 * (stepDuration 0.125), Zin [6, 2] inside σ, mlp block n = 3, m = 6 (softplus), states at 0.3, 0.6 and 1.
 */
function mlpSignal(seed = 16): ModelIR & { block: MlpBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'mlp-node-inputs',
    input: { kind: 'state', size: 3, signal: { steps: 8, channels: 2, stepDuration: 0.125 } },
    pre: [],
    block: mlpBlock(r, 3, 6, 2, 'softplus'),
    post: [],
    solver: solver(),
    readout: { kind: 'trajectory', times: [0.3, 0.6, 1] },
    outputs: 3 * 3,
  };
}

/** mlp block in a classification model (tensor input [4], dense 4→5, mlp block n = 5, m = 7, dense 5→3). */
function mlpClassifier(seed = 17): ModelIR & { block: MlpBlock } {
  const r = rng(seed);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'mlp-node-classifier',
    input: { kind: 'tensor', shape: [4] },
    pre: [{ type: 'dense', weight: uniformTensor(r, [5, 4], 0.8), bias: uniformTensor(r, [5], 0.2) }],
    block: mlpBlock(r, 5, 7, 0),
    post: [{ type: 'dense', weight: uniformTensor(r, [3, 5], 0.8), bias: uniformTensor(r, [3], 0.1) }],
    solver: solver(),
    outputs: 3,
  };
}

/**
 * A reduced mlp block on a trajectory model with an input signal: state input [4] (signal 5 × 2, stepDuration
 * 0.2), dense E [2, 4] and D [4, 2], M [3, 2], c, N [2, 3], Zin [3, 2] inside σ, Zr [2, 2], bias [2]; the states
 * D z at 0.5 and 1.
 */
function reducedMlpSignal(seed = 18): ModelIR & { block: ReducedBlock } {
  const r = rng(seed);
  const n = 4;
  const k = 2;
  const m = 3;
  const V = orthonormal(r, n, k);
  return {
    format: 'odemor-model',
    version: 1,
    name: 'mlp-node-reduced',
    input: { kind: 'state', size: n, signal: { steps: 5, channels: 2, stepDuration: 0.2 } },
    pre: [],
    block: {
      kind: 'reduced',
      method: 'deim',
      n,
      k,
      m,
      E: { type: 'dense', weight: { shape: [k, n], data: transposed(V, n, k) } },
      M: { type: 'dense', weight: uniformTensor(r, [m, k], 0.9) },
      c: uniformTensor(r, [m], 0.3),
      N: { type: 'dense', weight: uniformTensor(r, [k, m], 0.8) },
      Zr: uniformTensor(r, [k, 2], 0.5),
      Zin: uniformTensor(r, [m, 2], 1),
      bias: uniformTensor(r, [k], 0.3),
      D: { type: 'dense', weight: { shape: [n, k], data: V } },
      activation: 'tanh',
    },
    post: [],
    solver: solver(),
    readout: { kind: 'trajectory', times: [0.5, 1] },
    outputs: 2 * n,
  };
}

/** The sequence model reduced with `Zin` inside σ and a `bias` besides Zr (k = 3, m = 5; dense post 6→3). */
function seqReducedZin(seed = 19): ModelIR & { block: ReducedBlock } {
  const base = seqReduced(seed);
  const r = rng(seed + 100);
  return withBlock(base, { ...base.block, Zin: uniformTensor(r, [base.block.m, 3], 1), bias: uniformTensor(r, [base.block.k], 0.3) });
}

/**
 * The model builders (each takes an optional seed). Full blocks: `denseNode` (dense 4→8, dense A, tanh or the given
 * activation, dense 8→3), `convNode` (valid conv2d, relu, maxpool, conv block [3, 3, 2], flatten, dense),
 * `convSame` ('same' padding, stride 2, softplus, euler dt = 0.3), `antisymmetricNode` (no input), `antisymmetricSeq`
 * (sequence [5, 3] as u(t) through Z), `denseSeq` (sequence [4, 2], relu). Reduced blocks: `deimReduced` (dense E,
 * M, N, D), `interpolatedDense`, `oversampledConv`, `interpolatedSeq` (built by the core's `buildInterpolatedBlock`),
 * `seqReduced` (hand-made, with Zr), `svdReduced` (identity E, N, D; factored M), `apozReduced` (select / scatter),
 * `apozScatterLayer` (D = identity and a post `scatter` layer), `seqReducedZin` (Zin inside σ and a bias). mlp
 * blocks: `mlpClassifier` (tensor input, dense pre and post), `mlpTrajectory` (state input, trajectory readout),
 * `mlpSignal` (state input with a signal u through Zin, readout); `reducedMlpSignal` (a reduced block with Zin, Zr
 * and bias on a state input with a signal, readout). Signal models need `inputs.u` ({@link signalInput}).
 */
export const runtimeModels = Object.freeze({
  denseNode,
  convNode,
  convSame,
  antisymmetricNode,
  antisymmetricSeq,
  denseSeq,
  deimReduced,
  interpolatedDense,
  oversampledConv,
  interpolatedSeq,
  seqReduced,
  svdReduced,
  apozReduced,
  apozScatterLayer,
  seqReducedZin,
  mlpClassifier,
  mlpTrajectory,
  mlpSignal,
  reducedMlpSignal,
});

/** One model of {@link runtimeModelCases}: a short name for failure messages and a builder. */
export interface RuntimeModelCase {
  name: string;
  model: () => ModelIR;
}

/** Every model of {@link runtimeModels} under a short name (full blocks first), as the runtime suite runs them. */
export function runtimeModelCases(): RuntimeModelCase[] {
  const m = runtimeModels;
  return [
    { name: 'dense', model: () => m.denseNode() },
    { name: 'dense-relu', model: () => m.denseNode(12, 'relu') },
    { name: 'conv', model: () => m.convNode() },
    { name: 'conv-same', model: () => m.convSame() },
    { name: 'antisym', model: () => m.antisymmetricNode() },
    { name: 'antisym-seq', model: () => m.antisymmetricSeq() },
    { name: 'dense-seq', model: () => m.denseSeq() },
    { name: 'deim', model: () => m.deimReduced() },
    { name: 'deim-built', model: () => m.interpolatedDense() },
    { name: 'odeim-conv', model: () => m.oversampledConv() },
    { name: 'deim-seq', model: () => m.seqReduced() },
    { name: 'qdeim-seq-built', model: () => m.interpolatedSeq() },
    { name: 'svd', model: () => m.svdReduced() },
    { name: 'apoz', model: () => m.apozReduced() },
    { name: 'apoz-scatter-layer', model: () => m.apozScatterLayer() },
    { name: 'deim-seq-zin-bias', model: () => m.seqReducedZin() },
    { name: 'mlp', model: () => m.mlpClassifier() },
    { name: 'mlp-trajectory', model: () => m.mlpTrajectory() },
    { name: 'mlp-signal-trajectory', model: () => m.mlpSignal() },
    { name: 'reduced-mlp-signal-trajectory', model: () => m.reducedMlpSignal() },
  ];
}

/**
 * The input signal `u` [batch, steps, channels] of a model with input kind 'state' and a signal (uniform in
 * [−1, 1) from `seed`), as `Executable.predict(x, batch, { u })` and `referenceForward(…, { u })` take it;
 * undefined for every other model.
 */
export function signalInput(model: ModelIR, batch: number, seed: number): Float32Array | undefined {
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  return sig ? uniformInput(seed, batch * sig.steps * sig.channels) : undefined;
}

/** Values per sample of the model's input `x`: the product of `input.shape`, steps × features for a sequence, the size of a state. */
export function inputSize(model: ModelIR): number {
  return inputShapeOf(model).reduce((p, v) => p * v, 1);
}

/** A copy of `model` whose post layers are followed by a layer of an unknown `type` (for `supports()` checks). */
export function withUnknownLayer(model: ModelIR, type = 'softmax'): ModelIR {
  return { ...model, post: [...model.post, { type } as unknown as Layer] };
}

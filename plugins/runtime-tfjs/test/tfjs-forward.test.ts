import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplicitRungeKuttaSolver, rkSolveFloat64, type Solver } from '@odemor/core';
import type { Layer, ModelIR, OdeBlock, ReducedBlock, Tensor32 } from '@odemor/core';
import { validateModel } from '@odemor/core';
import { convNode, denseNode, odeRnn } from '@odemor/core';
import { listTensors, withTensors } from '@odemor/core';
import { initTfjs } from '../src/backend.js';
import { materializeDenseA } from '../src/materialize.js';
import { TfjsRuntime } from '../src/runtime.js';
import { createRng } from '@odemor/core';

// ───── a classical RK4 solver (the real ones live in plugins): a Solver is its tableau ─────
const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4-test',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);

// ───── plain-JS float64 reference ─────
type Arr = { shape: number[]; data: Float64Array };
const f64 = (t: Tensor32): Arr => ({ shape: t.shape, data: Float64Array.from(t.data) });
const act = (a: string, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : a === 'softplus' ? Math.log1p(Math.exp(v)) : v);

function matVec(W: Arr, x: Float64Array): Float64Array {
  const [r, c] = W.shape as [number, number];
  const y = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += W.data[i * c + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}
function samePad(size: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return [out, Math.floor(total / 2)];
}
function conv(x: Arr, K: Arr, stride: number, padding: 'same' | 'valid'): Arr {
  const [H, W, C] = x.shape as [number, number, number];
  const [kh, kw, , CO] = K.shape as [number, number, number, number];
  const [OH, pt] = padding === 'same' ? samePad(H, kh, stride) : [Math.floor((H - kh) / stride) + 1, 0];
  const [OW, pl] = padding === 'same' ? samePad(W, kw, stride) : [Math.floor((W - kw) / stride) + 1, 0];
  const out = new Float64Array(OH * OW * CO);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let co = 0; co < CO; co++) {
        let s = 0;
        for (let dy = 0; dy < kh; dy++)
          for (let dx = 0; dx < kw; dx++) {
            const iy = oy * stride + dy - pt;
            const ix = ox * stride + dx - pl;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            for (let ci = 0; ci < C; ci++) s += x.data[(iy * W + ix) * C + ci]! * K.data[((dy * kw + dx) * C + ci) * CO + co]!;
          }
        out[(oy * OW + ox) * CO + co] = s;
      }
  return { shape: [OH, OW, CO], data: out };
}
function maxpool(x: Arr, size: number, stride: number, padding: 'same' | 'valid'): Arr {
  const [H, W, C] = x.shape as [number, number, number];
  const [OH, pt] = padding === 'same' ? samePad(H, size, stride) : [Math.floor((H - size) / stride) + 1, 0];
  const [OW, pl] = padding === 'same' ? samePad(W, size, stride) : [Math.floor((W - size) / stride) + 1, 0];
  const out = new Float64Array(OH * OW * C).fill(-Infinity);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let c = 0; c < C; c++)
        for (let dy = 0; dy < size; dy++)
          for (let dx = 0; dx < size; dx++) {
            const iy = oy * stride + dy - pt;
            const ix = ox * stride + dx - pl;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const o = (oy * OW + ox) * C + c;
            out[o] = Math.max(out[o]!, x.data[(iy * W + ix) * C + c]!);
          }
  return { shape: [OH, OW, C], data: out };
}
function layers(ls: Layer[], x: Arr): Arr {
  for (const l of ls) {
    if (l.type === 'dense') {
      const y = matVec(f64(l.weight), x.data);
      if (l.bias) l.bias.data.forEach((b, i) => (y[i]! += b));
      x = { shape: [y.length], data: y };
    } else if (l.type === 'conv2d') {
      x = conv(x, f64(l.kernel), l.stride, l.padding);
      const C = x.shape[2]!;
      if (l.bias) for (let i = 0; i < x.data.length; i++) x.data[i]! += l.bias.data[i % C]!;
    } else if (l.type === 'relu' || l.type === 'tanh') x = { shape: x.shape, data: x.data.map((v) => act(l.type, v)) };
    else if (l.type === 'maxpool2d') x = maxpool(x, l.size, l.stride, l.padding);
    else if (l.type === 'flatten') x = { shape: [x.data.length], data: x.data };
    else throw new Error(`reference: ${l.type}`);
  }
  return x;
}
/** A x for the full block, computed independently of materializeDenseA */
function refAx(block: OdeBlock, x: Float64Array): Float64Array {
  const A = block.A;
  if (A.type === 'dense') return matVec(f64(A.weight), x);
  if (A.type === 'antisymmetric') {
    const n = block.n;
    const W = A.weight.data;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = -A.gamma * x[i]!;
      for (let j = 0; j < n; j++) s += (W[i * n + j]! - W[j * n + i]!) * x[j]!;
      y[i] = s;
    }
    return y;
  }
  return conv({ shape: [A.height, A.width, A.channels], data: x }, f64(A.kernel), 1, 'same').data;
}
/** RK4 in float64 through core's one driver (the same stepping as the runtime under test; the rhs is independent) */
function rk4Ref(f: (t: number, x: Float64Array) => Float64Array, x0: Float64Array, t0: number, t1: number, dt: number) {
  return rkSolveFloat64(rk4.tableau!, f, x0, { t0, t1, dt }).y;
}
/** float64 forward of a model with a full block, one sample */
function refForward(model: ModelIR, sample: Float64Array): Float64Array {
  const block = model.block as OdeBlock;
  const s = model.solver;
  let x0: Arr;
  let u: ((t: number) => Float64Array) | undefined;
  if (model.input.kind === 'sequence') {
    const { steps, features, stepDuration } = model.input;
    x0 = { shape: [block.n], data: new Float64Array(block.n) };
    u = (t) => {
      const j = Math.min(steps - 1, Math.max(0, Math.floor((t - s.t0) / stepDuration + 1e-9)));
      return sample.slice(j * features, (j + 1) * features);
    };
  } else x0 = layers(model.pre, { shape: model.input.shape, data: sample });
  const Z = block.Z ? f64(block.Z) : undefined;
  const f = (t: number, x: Float64Array) => {
    const y = refAx(block, x).map((v, i) => act(block.activation, v + block.b.data[i]!));
    if (Z && u) matVec(Z, u(t)).forEach((v, i) => (y[i]! += v));
    return y;
  };
  const xT = rk4Ref(f, x0.data, s.t0, s.t1, s.dt);
  const shape = block.A.type === 'conv' ? [block.A.height, block.A.width, block.A.channels] : x0.shape;
  return layers(model.post, { shape, data: xT }).data;
}

/** give every tensor (biases included) random values so that nothing is trivially zero */
function randomize(model: ModelIR, seed: number, scale = 0.5): ModelIR {
  const rng = createRng(seed);
  const repl = new Map<string, Float32Array>();
  for (const { path, tensor } of listTensors(model)) {
    if (/bias$|block\.b$/.test(path)) repl.set(path, rng.normalArray(tensor.data.length, scale));
  }
  return withTensors(model, repl);
}

async function predict(model: ModelIR, x: Float32Array, batch: number, solver = rk4) {
  const exec = await new TfjsRuntime().build(model, { solver });
  try {
    expect(exec.info.runtime).toBe('tfjs');
    expect(exec.info.backend).toBe('cpu');
    return await exec.predict(x, batch);
  } finally {
    await exec.dispose();
  }
}

function expectMatchesReference(model: ModelIR, x: Float32Array, batch: number, logits: Float32Array) {
  const per = x.length / batch;
  let maxAbs = 0;
  for (let b = 0; b < batch; b++) {
    const ref = refForward(model, Float64Array.from(x.subarray(b * per, (b + 1) * per)));
    ref.forEach((v, i) => {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      expect(Math.abs(logits[b * model.outputs + i]! - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)));
    });
  }
  expect(maxAbs).toBeGreaterThan(1e-2); // the comparison is not vacuous
}

const solverSpec = { use: 'rk4', dt: 0.25, t0: 0, t1: 1 };

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

describe('tfjs forward vs a float64 reference', () => {
  it('dense-node (dense A, softplus, pre tanh)', async () => {
    const model = randomize(
      denseNode({ hidden: 6, activation: 'softplus', preActivation: 'tanh', scale: 1.5 }, { dataset: { inputShape: [3], kind: 'vector', numClasses: 4, trainSize: 1, testSize: 1 }, seed: 3, solver: solverSpec }),
      1,
    );
    const x = createRng(9).normalArray(5 * 3);
    expectMatchesReference(model, x, 5, await predict(model, x, 5));
  });

  it('conv-node (conv pre, maxpool valid/same, conv A)', async () => {
    const model = randomize(
      convNode({ channels: 3, scale: 2 }, { dataset: { inputShape: [14, 14, 1], kind: 'image', numClasses: 3, trainSize: 1, testSize: 1 }, seed: 4, solver: solverSpec }),
      2,
    );
    expect(model.block.n).toBe(4 * 4 * 3);
    const x = createRng(10).normalArray(3 * 14 * 14);
    expectMatchesReference(model, x, 3, await predict(model, x, 3));
  });

  it('ode-rnn (antisymmetric A with sequence input u(t))', async () => {
    const model = randomize(
      odeRnn({ hidden: 5, gamma: 0.3, scale: 1.5 }, { dataset: { inputShape: [4, 2], kind: 'sequence', numClasses: 3, trainSize: 1, testSize: 1 }, seed: 5, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } }),
      3,
    );
    expect(model.input).toMatchObject({ kind: 'sequence', steps: 4, features: 2, stepDuration: 0.25 });
    const x = createRng(11).normalArray(4 * 4 * 2, 2);
    const logits = await predict(model, x, 4);
    expectMatchesReference(model, x, 4, logits);
    // the input matters: changing only the last sequence element changes the output
    const x2 = x.slice();
    x2[3 * 2] = x2[3 * 2]! + 3;
    const logits2 = await predict(model, x2, 4);
    expect(Math.abs(logits2[0]! - logits[0]!)).toBeGreaterThan(1e-4);
  });
});

describe('materializeDenseA', () => {
  it('conv: equals applying tf.conv2d (non-square map, 3×3 and 5×3 kernels)', () => {
    for (const [kh, kw] of [
      [3, 3],
      [5, 3],
    ] as const) {
      const [H, W, C] = [4, 3, 2];
      const n = H * W * C;
      const rng = createRng(kh * 10 + kw);
      const kernel = { shape: [kh, kw, C, C], data: rng.normalArray(kh * kw * C * C) };
      const block: OdeBlock = { kind: 'ode', n, A: { type: 'conv', kernel, height: H, width: W, channels: C }, b: { shape: [n], data: new Float32Array(n) }, activation: 'tanh' };
      const A = materializeDenseA(block);
      const X = rng.normalArray(5 * n);
      const viaConv = tf.tidy(() => tf.reshape(tf.conv2d(tf.tensor4d(X, [5, H, W, C]), tf.tensor4d(kernel.data, kernel.shape as [number, number, number, number]), 1, 'same'), [5, n]).dataSync());
      const viaA = tf.tidy(() => tf.matMul(tf.tensor2d(X, [5, n]), tf.tensor2d(A, [n, n]), false, true).dataSync());
      for (let i = 0; i < viaA.length; i++) expect(viaA[i]).toBeCloseTo(viaConv[i]!, 4);
    }
  });

  it('antisymmetric: W − Wᵀ − γI; dense: a copy', () => {
    const n = 4;
    const W = createRng(1).normalArray(n * n);
    const A = materializeDenseA({ kind: 'ode', n, A: { type: 'antisymmetric', weight: { shape: [n, n], data: W }, gamma: 0.2 }, b: { shape: [n], data: new Float32Array(n) }, activation: 'tanh' });
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(A[i * n + j]).toBeCloseTo(W[i * n + j]! - W[j * n + i]! - (i === j ? 0.2 : 0), 6);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) expect(A[i * n + j]! + A[j * n + i]!).toBeCloseTo(0, 6);
  });
});

/** random orthogonal n×n (Gram–Schmidt), row-major */
function orthogonal(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const Q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = Array.from({ length: n }, () => rng.normal());
    for (let p = 0; p < j; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i]! * Q[i * n + p]!;
      for (let i = 0; i < n; i++) v[i]! -= d * Q[i * n + p]!;
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) Q[i * n + j] = v[i]! / norm;
  }
  return Q;
}
const tens = (shape: number[], data: ArrayLike<number>): Tensor32 => ({ shape, data: Float32Array.from(data) });
const transpose = (a: ArrayLike<number>, r: number, c: number) => Float64Array.from({ length: r * c }, (_, idx) => a[(idx % r) * c + Math.floor(idx / r)]!);
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number) {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) for (let p = 0; p < k; p++) out[i * c + j]! += a[i * k + p]! * b[p * c + j]!;
  return out;
}

describe('reduced block', () => {
  it('E = Vᵀ, D = V, M = A V (dense and factored), N = Vᵀ, k = n reproduces the full model', async () => {
    const full = randomize(denseNode({ hidden: 6, scale: 1.5 }, { dataset: { inputShape: [3], kind: 'vector', numClasses: 3, trainSize: 1, testSize: 1 }, seed: 7, solver: solverSpec }), 8);
    const fb = full.block as OdeBlock;
    const n = fb.n;
    const V = orthogonal(n, 12);
    const A = materializeDenseA(fb);
    const Vt = transpose(V, n, n);
    const base = { kind: 'reduced' as const, method: 'test', n, k: n, m: n, c: tens([n], fb.b.data), activation: fb.activation, E: { type: 'dense' as const, weight: tens([n, n], Vt) }, D: { type: 'dense' as const, weight: tens([n, n], V) }, N: { type: 'dense' as const, weight: tens([n, n], Vt) } };
    const variants: ReducedBlock[] = [
      { ...base, M: { type: 'dense', weight: tens([n, n], matmul(A, V, n, n, n)) } },
      { ...base, M: { type: 'factored', left: tens([n, n], A), right: tens([n, n], V) } },
      // identity E/D/N with M = A
      { ...base, E: { type: 'identity', size: n }, D: { type: 'identity', size: n }, N: { type: 'identity', size: n }, M: { type: 'dense', weight: tens([n, n], A) } },
    ];
    // APoZ-like select/scatter with every neuron kept in a permuted order
    const perm = [3, 0, 5, 1, 4, 2];
    const PA = Float64Array.from({ length: n * n }, (_, idx) => A[perm[Math.floor(idx / n)]! * n + perm[idx % n]!]!);
    variants.push({ ...base, E: { type: 'select', indices: perm, from: n }, D: { type: 'scatter', indices: perm, to: n }, N: { type: 'identity', size: n }, M: { type: 'dense', weight: tens([n, n], PA) }, c: tens([n], perm.map((i) => fb.b.data[i]!)) });
    const x = createRng(13).normalArray(4 * 3);
    const ref = await predict(full, x, 4);
    for (const block of variants) {
      const reduced: ModelIR = { ...full, block };
      validateModel(reduced);
      const out = await predict(reduced, x, 4);
      out.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4));
    }
  });

  it('with sequence input: Zr = VᵀZ reproduces the ode-rnn', async () => {
    const full = randomize(odeRnn({ hidden: 4, gamma: 0.1 }, { dataset: { inputShape: [3, 2], kind: 'sequence', numClasses: 2, trainSize: 1, testSize: 1 }, seed: 6, solver: solverSpec }), 4);
    const fb = full.block as OdeBlock;
    const n = fb.n;
    const V = orthogonal(n, 3);
    const Vt = transpose(V, n, n);
    const block: ReducedBlock = {
      kind: 'reduced', method: 'test', n, k: n, m: n, activation: fb.activation, c: tens([n], fb.b.data),
      E: { type: 'dense', weight: tens([n, n], Vt) }, D: { type: 'dense', weight: tens([n, n], V) }, N: { type: 'dense', weight: tens([n, n], Vt) },
      M: { type: 'dense', weight: tens([n, n], matmul(materializeDenseA(fb), V, n, n, n)) },
      Zr: tens([n, 2], matmul(Vt, fb.Z!.data, n, n, 2)),
    };
    const x = createRng(2).normalArray(3 * 3 * 2);
    const ref = await predict(full, x, 3);
    const out = await predict({ ...full, block }, x, 3);
    out.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4));
  });
});

describe('snapshotBatch', () => {
  it('samples states every k-th step with σ(Ax+b) at them, and the final states', async () => {
    const model = randomize(denseNode({ hidden: 4 }, { dataset: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 1, testSize: 1 }, seed: 1, solver: { use: 'rk4', dt: 0.125, t0: 0, t1: 1 } }), 5);
    const x = createRng(3).normalArray(3 * 2);
    const snap = await new TfjsRuntime({ solver: rk4 }).snapshotBatch(model, x, 3, { every: 2 });
    expect(snap).toMatchObject({ n: 4, count: 4 * 3, samples: 3 });
    const block = model.block as OdeBlock;
    for (let r = 0; r < snap.count; r++) {
      const s = Float64Array.from(snap.states.subarray(r * 4, r * 4 + 4));
      const nl = refAx(block, s).map((v, i) => Math.tanh(v + block.b.data[i]!));
      nl.forEach((v, i) => expect(snap.nonlinear[r * 4 + i]).toBeCloseTo(v, 5));
    }
    // the last sampled state block equals the final states
    expect(Array.from(snap.states.subarray(9 * 4))).toEqual(Array.from(snap.final));
    // final state against the float64 reference
    const pre = (model.pre[0] as { weight: Tensor32; bias: Tensor32 });
    for (let b = 0; b < 3; b++) {
      const x0 = matVec(f64(pre.weight), Float64Array.from(x.subarray(b * 2, b * 2 + 2))).map((v, i) => v + pre.bias.data[i]!);
      const xT = rk4Ref((_t, s) => refAx(block, s).map((v, i) => Math.tanh(v + block.b.data[i]!)), x0, 0, 1, 0.125);
      xT.forEach((v, i) => expect(Math.abs(snap.final[b * 4 + i]! - v)).toBeLessThan(1e-4));
    }
    await expect(new TfjsRuntime({ solver: rk4 }).snapshotBatch({ ...model, block: { kind: 'reduced', method: 'x', n: 4, k: 4, m: 4, E: { type: 'identity', size: 4 }, D: { type: 'identity', size: 4 }, N: { type: 'identity', size: 4 }, M: { type: 'dense', weight: tens([4, 4], new Float32Array(16)) }, c: tens([4], [0, 0, 0, 0]), activation: 'tanh' } }, x, 3, { every: 1 })).rejects.toMatchObject({ code: 'MODEL' });
  });

  it('fires the step hook and refuses a missing solver', async () => {
    const { SyncHook } = await import('tapable');
    const step = new SyncHook<[{ index: number }]>(['info']);
    const seen: number[] = [];
    step.tap('t', (i) => void seen.push(i.index));
    const model = denseNode({ hidden: 3 }, { dataset: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 1, testSize: 1 }, seed: 1, solver: solverSpec });
    const exec = await new TfjsRuntime().build(model, { solver: rk4, hooks: { step } });
    await exec.predict(new Float32Array(4), 2);
    await exec.dispose();
    expect(seen).toEqual([0, 1, 2, 3]);
    await expect(new TfjsRuntime().build(model, {})).rejects.toMatchObject({ code: 'ARGUMENT' });
  });
});

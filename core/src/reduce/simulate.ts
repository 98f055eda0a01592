/**
 * Plain float64 reference integrators (classical RK4) of full and reduced ODE blocks and of whole
 * models made of dense / elementwise layers. Slow and simple on purpose: they are the independent
 * reference the conformance kit and the tests compare reducers against.
 */
import { OdemorError, check } from '../errors.js';
import type { Activation, Block, Layer, LinearMap, ModelIR } from '../ir/types.js';
import { denseA } from './dense.js';

/** Options of {@link simulateBlock}. */
export interface SimulateOptions {
  t0: number;
  t1: number;
  /**
   * step size: `ceil((t1 − t0)/dt − 1e-9)` steps of `dt`, the last one shortened to land exactly on `t1`
   * (as the rk4 solver plugin does)
   */
  dt: number;
  /** the input u(t) of sample `sample` (length p), for blocks with Z; undefined means u = 0 */
  input?: (t: number, sample: number) => ArrayLike<number> | undefined;
}

/** Elementwise activation σ in float64. */
export function scalarActivation(activation: Activation, v: number): number {
  switch (activation) {
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return v > 0 ? v : 0;
    case 'softplus':
      return v > 30 ? v : Math.log1p(Math.exp(v));
    case 'identity':
      return v;
    default:
      throw new OdemorError('MODEL', `unknown activation '${activation as string}'`);
  }
}

/** Apply a linear map (E or D) to a vector. */
export function applyLinearMap(map: LinearMap, x: ArrayLike<number>): Float64Array {
  switch (map.type) {
    case 'identity':
      check(x.length === map.size, `identity map of size ${map.size} applied to a vector of length ${x.length}`, 'SHAPE');
      return Float64Array.from(x);
    case 'dense': {
      const [r, c] = map.weight.shape as [number, number];
      check(x.length === c, `dense map [${r}, ${c}] applied to a vector of length ${x.length}`, 'SHAPE');
      const w = map.weight.data;
      const out = new Float64Array(r);
      for (let i = 0; i < r; i++) {
        let acc = 0;
        for (let j = 0; j < c; j++) acc += w[i * c + j]! * x[j]!;
        out[i] = acc;
      }
      return out;
    }
    case 'select':
      check(x.length === map.from, `select map from ${map.from} applied to a vector of length ${x.length}`, 'SHAPE');
      return Float64Array.from(map.indices, (i) => x[i]!);
    case 'scatter': {
      check(x.length === map.indices.length, `scatter map of ${map.indices.length} values applied to a vector of length ${x.length}`, 'SHAPE');
      const out = new Float64Array(map.to);
      map.indices.forEach((i, j) => (out[i] = x[j]!));
      return out;
    }
    default:
      throw new OdemorError('MODEL', `unknown linear map type '${(map as { type: string }).type}'`);
  }
}

/** y = W x for row-major W (r×c) given as float32 or float64 data. */
export function matvec(w: ArrayLike<number>, r: number, c: number, x: ArrayLike<number>, out: Float64Array): void {
  for (let i = 0; i < r; i++) {
    let acc = 0;
    const o = i * c;
    for (let j = 0; j < c; j++) acc += w[o + j]! * x[j]!;
    out[i] = acc;
  }
}

/**
 * Integrate a full, mlp or reduced ODE block with the classical RK4 method in float64, one sample at a
 * time. For a reduced block the initial states are mapped by `E` first and the final states by `D`
 * at the end, so the result is comparable to the full block's. Returns `x(t1)` per sample.
 */
export function simulateBlock(block: Block, x0: readonly ArrayLike<number>[], opts: SimulateOptions): Float64Array[] {
  const { t0, t1, dt } = opts;
  check(Number.isFinite(t0) && Number.isFinite(t1) && t1 >= t0, `simulateBlock: need t0 ≤ t1, got t0 = ${t0}, t1 = ${t1}`);
  check(dt > 0, `simulateBlock: dt must be positive, got ${dt}`);
  const steps = t1 === t0 ? 0 : Math.max(1, Math.ceil((t1 - t0) / dt - 1e-9));

  // z' = N σ(M z + c + Zin u) + Zr u + bias in all cases (full block: M = A, N = I, Zr = Z; mlp block: E = D = I)
  let dim: number; // state dimension
  let rows: number; // rows of M (activations)
  let mz: (z: Float64Array, out: Float64Array) => void;
  let N: ArrayLike<number> | undefined;
  let c: ArrayLike<number>;
  let Z: ArrayLike<number> | undefined;
  let Zin: ArrayLike<number> | undefined;
  let bias: ArrayLike<number> | undefined;
  let p = 0;
  let E: LinearMap | undefined;
  let D: LinearMap | undefined;
  if (block.kind === 'ode') {
    dim = rows = block.n;
    const A = denseA(block);
    mz = (z, out) => matvec(A, dim, dim, z, out);
    c = block.b.data;
    if (block.Z) {
      Z = block.Z.data;
      p = block.Z.shape[1] ?? 1;
    }
  } else if (block.kind === 'mlp') {
    dim = block.n;
    rows = block.m;
    const W = block.M.data;
    mz = (z, out) => matvec(W, rows, dim, z, out);
    N = block.N.data;
    c = block.c.data;
    bias = block.bias.data;
    if (block.Zin) {
      Zin = block.Zin.data;
      p = block.Zin.shape[1] ?? 1;
    }
  } else {
    dim = block.k;
    rows = block.m;
    const M = block.M;
    if (M.type === 'dense') {
      mz = (z, out) => matvec(M.weight.data, rows, dim, z, out);
    } else {
      const r = M.left.shape[1]!;
      const tmp = new Float64Array(r);
      mz = (z, out) => {
        matvec(M.right.data, r, dim, z, tmp);
        matvec(M.left.data, rows, r, tmp, out);
      };
    }
    if (block.N.type === 'dense') N = block.N.weight.data;
    else check(block.N.size === rows && rows === dim, `identity N of size ${block.N.size} needs k = m = ${block.N.size}`, 'SHAPE');
    c = block.c.data;
    if (block.Zr) {
      Z = block.Zr.data;
      p = block.Zr.shape[1] ?? 1;
    }
    if (block.Zin) {
      Zin = block.Zin.data;
      p = block.Zin.shape[1] ?? 1;
    }
    if (block.bias) bias = block.bias.data;
    E = block.E;
    D = block.D;
  }
  const act = block.activation;
  const pre = new Float64Array(rows);
  const addInput = (W: ArrayLike<number>, u: ArrayLike<number>, out: Float64Array): void => {
    for (let i = 0; i < out.length; i++) {
      let acc = 0;
      for (let j = 0; j < p; j++) acc += W[i * p + j]! * u[j]!;
      out[i] = out[i]! + acc;
    }
  };
  const rhs = (t: number, z: Float64Array, sample: number, out: Float64Array): void => {
    const u = Z || Zin ? opts.input?.(t, sample) : undefined;
    if (u) check(u.length === p, `input u(t) has length ${u.length}, the block's input matrix has ${p} columns`, 'SHAPE');
    mz(z, pre);
    for (let i = 0; i < rows; i++) pre[i] = pre[i]! + c[i]!;
    if (Zin && u) addInput(Zin, u, pre);
    for (let i = 0; i < rows; i++) pre[i] = scalarActivation(act, pre[i]!);
    if (N) matvec(N, dim, rows, pre, out);
    else out.set(pre);
    if (Z && u) addInput(Z, u, out);
    if (bias) for (let i = 0; i < dim; i++) out[i] = out[i]! + bias[i]!;
  };

  const k1 = new Float64Array(dim);
  const k2 = new Float64Array(dim);
  const k3 = new Float64Array(dim);
  const k4 = new Float64Array(dim);
  const tmp = new Float64Array(dim);
  return x0.map((x, sample) => {
    let z: Float64Array;
    if (E) z = applyLinearMap(E, x);
    else {
      check(x.length === dim, `initial state of sample ${sample} has length ${x.length}, the block has n = ${dim}`, 'SHAPE');
      z = Float64Array.from(x);
    }
    check(z.length === dim, `E maps the initial state to length ${z.length}, the reduced block has k = ${dim}`, 'SHAPE');
    for (let s = 0; s < steps; s++) {
      const t = t0 + s * dt;
      const h = s === steps - 1 ? t1 - t : dt;
      rhs(t, z, sample, k1);
      for (let i = 0; i < dim; i++) tmp[i] = z[i]! + (h / 2) * k1[i]!;
      rhs(t + h / 2, tmp, sample, k2);
      for (let i = 0; i < dim; i++) tmp[i] = z[i]! + (h / 2) * k2[i]!;
      rhs(t + h / 2, tmp, sample, k3);
      for (let i = 0; i < dim; i++) tmp[i] = z[i]! + h * k3[i]!;
      rhs(t + h, tmp, sample, k4);
      for (let i = 0; i < dim; i++) z[i] = z[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
    }
    return D ? applyLinearMap(D, z) : z;
  });
}

/** Apply one layer of a model to one flat sample (dense and elementwise layers only). */
export function applyLayer(layer: Layer, x: ArrayLike<number>): Float64Array {
  switch (layer.type) {
    case 'dense': {
      const [out, inp] = layer.weight.shape as [number, number];
      check(x.length === inp, `dense layer [${out}, ${inp}] applied to a vector of length ${x.length}`, 'SHAPE');
      const y = new Float64Array(out);
      matvec(layer.weight.data, out, inp, x, y);
      if (layer.bias) for (let i = 0; i < out; i++) y[i] = y[i]! + layer.bias.data[i]!;
      return y;
    }
    case 'relu':
      return Float64Array.from(x, (v) => (v > 0 ? v : 0));
    case 'tanh':
      return Float64Array.from(x, Math.tanh);
    case 'flatten':
      return Float64Array.from(x);
    case 'scatter':
      return applyLinearMap({ type: 'scatter', indices: layer.indices, to: layer.size }, x);
    default:
      throw new OdemorError('ARGUMENT', `the plain-JS reference runner does not support '${layer.type}' layers`);
  }
}

/**
 * Run a whole model (pre layers → ODE block by {@link simulateBlock} over the model's solver interval
 * → post layers) on flat samples in float64. Supports dense, relu, tanh, flatten and scatter layers.
 * `input` feeds u(t) to blocks with an input matrix.
 */
export function simulateModel(
  model: ModelIR,
  inputs: readonly ArrayLike<number>[],
  opts: { dt?: number; input?: SimulateOptions['input'] } = {},
): Float64Array[] {
  const x0 = inputs.map((x) => model.pre.reduce<Float64Array>((v, l) => applyLayer(l, v), Float64Array.from(x)));
  const simOpts: SimulateOptions = { t0: model.solver.t0, t1: model.solver.t1, dt: opts.dt ?? model.solver.dt };
  if (opts.input) simOpts.input = opts.input;
  const xt = simulateBlock(model.block, x0, simOpts);
  return xt.map((x) => model.post.reduce<Float64Array>((v, l) => applyLayer(l, v), x));
}

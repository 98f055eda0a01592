/**
 * The right-hand side of every block kind and its Jacobian in float64 (docs/algorithms.md#stiffness). Every block is
 * the unified form `f(z, u) = N σ(M z + c + Zin u) + Zr u + bias` — a full ODE block with `M = A`, `N = I`,
 * `Zr = Z`; an mlp block with `E = D = I`; a reduced block as the reducer built it — so its Jacobian is
 *
 *   J(z, u) = N diag(σ'(M z + c + Zin u)) M
 *
 * (`k × k` for a reduced block, `n × n` otherwise). {@link linearizeBlock} gives J at one point as an operator
 * (`apply(v) = J v`, a Jacobian-vector product that never forms J: for a convolutional block `M v` is the
 * convolution itself) and, on request, as a dense matrix.
 */
import { OdemorError, check } from '../errors.js';
import type { Activation, Block, Tensor32 } from '../ir/types.js';
import { denseA, matmul } from '../reduce/dense.js';
import { matvec, scalarActivation } from '../reduce/simulate.js';

/** σ'(v) of an activation, in float64 (relu: 1 for v > 0, else 0; softplus: the logistic function). */
export function activationDerivative(activation: Activation, v: number): number {
  switch (activation) {
    case 'tanh': {
      const t = Math.tanh(v);
      return 1 - t * t;
    }
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'softplus':
      return 1 / (1 + Math.exp(-v));
    case 'identity':
      return 1;
    default:
      throw new OdemorError('MODEL', `unknown activation '${activation as string}'`);
  }
}

/** The pieces of a block's unified form, in float64 (see the module comment). */
export interface BlockForm {
  /** state dimension (n, or k for a reduced block) */
  dim: number;
  /** rows of M: the activations per right-hand side */
  rows: number;
  /** out = M z (length `rows`) */
  mz(z: ArrayLike<number>, out: Float64Array): void;
  /** out = N h (length `dim`); undefined: N = I (rows = dim) */
  nh?: (h: ArrayLike<number>, out: Float64Array) => void;
  c: ArrayLike<number>;
  /** input matrix inside σ, [rows, p] */
  Zin?: ArrayLike<number>;
  /** input matrix outside σ, [dim, p] */
  Zr?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  /** input channels p (0 without an input) */
  p: number;
  activation: Activation;
  /** M as a dense row-major `rows × dim` matrix (a convolutional A: its Toeplitz form) */
  denseM(): Float64Array;
  /** N as a dense row-major `dim × rows` matrix; undefined: N = I */
  denseN?: () => Float64Array;
}

const copy64 = (t: Tensor32) => Float64Array.from(t.data);

/**
 * The stride-1, 'same'-padded 2-D cross-correlation of a convolutional block matrix applied to `x` ([h, w, c]
 * flattened), without forming the Toeplitz matrix: the same operator as `denseA` (reduce/dense.ts), so the
 * padding is TensorFlow's (⌊(kh−1)/2⌋ rows on top, ⌊(kw−1)/2⌋ columns on the left).
 */
export function convApply(kernel: Tensor32, H: number, W: number, C: number, x: ArrayLike<number>, out: Float64Array): void {
  const [kh, kw] = kernel.shape as [number, number, number, number];
  const K = kernel.data;
  const pt = Math.floor((kh - 1) / 2);
  const pl = Math.floor((kw - 1) / 2);
  out.fill(0);
  for (let h0 = 0; h0 < H; h0++) {
    for (let w0 = 0; w0 < W; w0++) {
      const o = (h0 * W + w0) * C;
      for (let dh = 0; dh < kh; dh++) {
        const h = h0 + dh - pt;
        if (h < 0 || h >= H) continue;
        for (let dw = 0; dw < kw; dw++) {
          const w = w0 + dw - pl;
          if (w < 0 || w >= W) continue;
          const base = (h * W + w) * C;
          const kbase = (dh * kw + dw) * C * C;
          for (let ci = 0; ci < C; ci++) {
            const xv = x[base + ci]!;
            if (xv === 0) continue;
            const kr = kbase + ci * C;
            for (let co = 0; co < C; co++) out[o + co] = out[o + co]! + xv * K[kr + co]!;
          }
        }
      }
    }
  }
}

/** The unified form of `block` in float64 (weights copied once). */
export function blockForm(block: Block): BlockForm {
  if (block.kind === 'ode') {
    const n = block.n;
    const A = block.A;
    let mz: BlockForm['mz'];
    let dense: Float64Array | undefined;
    const denseM = () => (dense ??= denseA(block));
    if (A.type === 'dense') {
      const w = copy64(A.weight);
      mz = (z, out) => matvec(w, n, n, z, out);
    } else if (A.type === 'antisymmetric') {
      const w = denseM();
      mz = (z, out) => matvec(w, n, n, z, out);
    } else if (A.type === 'conv') {
      check(A.height * A.width * A.channels === n, `conv A: height·width·channels = ${A.height * A.width * A.channels} differs from the block's n = ${n}`, 'SHAPE');
      mz = (z, out) => convApply(A.kernel, A.height, A.width, A.channels, z, out);
    } else throw new OdemorError('MODEL', `unknown block matrix type '${(A as { type: string }).type}'`);
    return {
      dim: n,
      rows: n,
      mz,
      c: copy64(block.b),
      ...(block.Z ? { Zr: copy64(block.Z), p: block.Z.shape[1] ?? 1 } : { p: 0 }),
      activation: block.activation,
      denseM,
    };
  }
  if (block.kind === 'mlp') {
    const { n, m } = block;
    const M = copy64(block.M);
    const N = copy64(block.N);
    return {
      dim: n,
      rows: m,
      mz: (z, out) => matvec(M, m, n, z, out),
      nh: (h, out) => matvec(N, n, m, h, out),
      c: copy64(block.c),
      ...(block.Zin ? { Zin: copy64(block.Zin), p: block.Zin.shape[1] ?? 1 } : { p: 0 }),
      bias: copy64(block.bias),
      activation: block.activation,
      denseM: () => M,
      denseN: () => N,
    };
  }
  if (block.kind === 'reduced') {
    const { k, m } = block;
    let mz: BlockForm['mz'];
    let denseM: () => Float64Array;
    if (block.M.type === 'dense') {
      const w = copy64(block.M.weight);
      mz = (z, out) => matvec(w, m, k, z, out);
      denseM = () => w;
    } else {
      const r = block.M.left.shape[1]!;
      const L = copy64(block.M.left);
      const R = copy64(block.M.right);
      const tmp = new Float64Array(r);
      mz = (z, out) => {
        matvec(R, r, k, z, tmp);
        matvec(L, m, r, tmp, out);
      };
      denseM = () => {
        const out = new Float64Array(m * k);
        for (let i = 0; i < m; i++) for (let l = 0; l < r; l++) {
          const a = L[i * r + l]!;
          for (let j = 0; j < k; j++) out[i * k + j] = out[i * k + j]! + a * R[l * k + j]!;
        }
        return out;
      };
    }
    let nh: BlockForm['nh'];
    let denseN: BlockForm['denseN'];
    if (block.N.type === 'dense') {
      const N = copy64(block.N.weight);
      nh = (h, out) => matvec(N, k, m, h, out);
      denseN = () => N;
    } else check(block.N.size === m && m === k, `identity N of size ${block.N.size} needs k = m = ${block.N.size}`, 'SHAPE');
    const p = block.Zr?.shape[1] ?? block.Zin?.shape[1] ?? 0;
    return {
      dim: k,
      rows: m,
      mz,
      ...(nh ? { nh, denseN: denseN! } : {}),
      c: copy64(block.c),
      ...(block.Zin ? { Zin: copy64(block.Zin) } : {}),
      ...(block.Zr ? { Zr: copy64(block.Zr) } : {}),
      ...(block.bias ? { bias: copy64(block.bias) } : {}),
      p,
      activation: block.activation,
      denseM,
    };
  }
  throw new OdemorError('MODEL', `unknown block kind '${(block as { kind?: unknown }).kind}'`);
}

/** `out += W u` for row-major W [out.length, p]. */
function addInput(W: ArrayLike<number>, p: number, u: ArrayLike<number>, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (let j = 0; j < p; j++) acc += W[i * p + j]! * u[j]!;
    out[i] = out[i]! + acc;
  }
}

function checkU(form: BlockForm, u: ArrayLike<number> | undefined): void {
  if (u) check(u.length === form.p, `input u(t) has length ${u.length}, the block's input matrix has ${form.p} columns`, 'SHAPE');
}

/** The pre-activations `M z + c + Zin u` of `form` at (z, u). */
function preActivation(form: BlockForm, z: ArrayLike<number>, u: ArrayLike<number> | undefined): Float64Array {
  check(z.length === form.dim, `state of length ${z.length}, the block's state dimension is ${form.dim}`, 'SHAPE');
  checkU(form, u);
  const pre = new Float64Array(form.rows);
  form.mz(z, pre);
  for (let i = 0; i < form.rows; i++) pre[i] = pre[i]! + form.c[i]!;
  if (form.Zin && u) addInput(form.Zin, form.p, u, pre);
  return pre;
}

/** `f(z, u)` of the block's unified form in float64 (u: the input at that time, absent for a block without one). */
export function blockRhs(form: BlockForm, z: ArrayLike<number>, u?: ArrayLike<number>): Float64Array {
  const pre = preActivation(form, z, u);
  for (let i = 0; i < pre.length; i++) pre[i] = scalarActivation(form.activation, pre[i]!);
  const out = new Float64Array(form.dim);
  if (form.nh) form.nh(pre, out);
  else out.set(pre);
  if (form.Zr && u) addInput(form.Zr, form.p, u, out);
  if (form.bias) for (let i = 0; i < form.dim; i++) out[i] = out[i]! + form.bias[i]!;
  return out;
}

/** The Jacobian of a block at one point (see {@link linearizeBlock}). */
export interface Linearization {
  /** state dimension: J is dim × dim */
  dim: number;
  /** J v, a Jacobian-vector product (J is never formed) */
  apply(v: ArrayLike<number>): Float64Array;
  /** J as a dense row-major dim × dim matrix: `N diag(σ') M` from the block's dense M and N */
  dense(): Float64Array;
}

/** J(z, u) = N diag(σ'(M z + c + Zin u)) M of `form` at (z, u), as an operator (docs/algorithms.md#stiffness). */
export function linearizeBlock(form: BlockForm, z: ArrayLike<number>, u?: ArrayLike<number>): Linearization {
  const pre = preActivation(form, z, u);
  const s = Float64Array.from(pre, (v) => activationDerivative(form.activation, v));
  const { dim, rows } = form;
  const h = new Float64Array(rows);
  return {
    dim,
    apply(v) {
      check(v.length === dim, `Jacobian-vector product with a vector of length ${v.length}, the state dimension is ${dim}`, 'SHAPE');
      form.mz(v, h);
      for (let i = 0; i < rows; i++) h[i] = h[i]! * s[i]!;
      const out = new Float64Array(dim);
      if (form.nh) form.nh(h, out);
      else out.set(h);
      return out;
    },
    dense() {
      const M = form.denseM();
      // S M, then N (S M)
      const SM = new Float64Array(rows * dim);
      for (let i = 0; i < rows; i++) {
        const si = s[i]!;
        if (si === 0) continue;
        for (let j = 0; j < dim; j++) SM[i * dim + j] = si * M[i * dim + j]!;
      }
      if (!form.denseN) return SM;
      return matmul(form.denseN(), SM, dim, rows, dim);
    },
  };
}

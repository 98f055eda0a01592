/**
 * Plain-JS float64 helpers for the reducers: materialising the ODE block's matrix A (dense,
 * convolutional Toeplitz, antisymmetric) and small row-major matrix utilities.
 *
 * Everything here is float64 and independent of any runtime (no tfjs).
 */
import { Matrix } from 'ml-matrix';
import { OdemorError, check } from '../errors.js';
import type { BlockMatrix, OdeBlock, Tensor32 } from '../ir/types.js';

/**
 * Rows `rows` of the block matrix A, as a row-major `rows.length × n` float64 array.
 *
 * - dense: `A = weight` (`[n, n]`, y = A x);
 * - conv: the Toeplitz matrix of a stride-1, 'same'-padded 2-D cross-correlation (tfjs `conv2d`) with
 *   kernel `[kh, kw, C, C]`, acting on the state flattened in `[h, w, c]` order. 'same' pads
 *   `⌊(kh−1)/2⌋` rows on top and `⌊(kw−1)/2⌋` columns on the left (the rest at the bottom / right), as
 *   TensorFlow does, so `y[h,w,co] = Σ x[h+dh−pt, w+dw−pl, ci] · K[dh,dw,ci,co]` with zeros outside;
 * - antisymmetric: `A = W − Wᵀ − γ I`.
 *
 * Only the requested rows are built, so `PᵀA` for a few interpolation points costs O(|rows|·n)
 * memory even for a large convolutional block.
 */
export function denseARows(block: OdeBlock, rows: readonly number[]): Float64Array {
  const n = block.n;
  for (const r of rows) check(Number.isInteger(r) && r >= 0 && r < n, `row index ${r} is outside 0..${n - 1} of the ODE block`, 'SHAPE');
  const out = new Float64Array(rows.length * n);
  const A: BlockMatrix = block.A;
  switch (A.type) {
    case 'dense': {
      checkShape(A.weight, [n, n], 'dense A');
      const w = A.weight.data;
      rows.forEach((r, i) => {
        for (let j = 0; j < n; j++) out[i * n + j] = w[r * n + j]!;
      });
      return out;
    }
    case 'antisymmetric': {
      checkShape(A.weight, [n, n], 'antisymmetric W');
      const w = A.weight.data;
      rows.forEach((r, i) => {
        for (let j = 0; j < n; j++) out[i * n + j] = w[r * n + j]! - w[j * n + r]!;
        out[i * n + r] = out[i * n + r]! - A.gamma;
      });
      return out;
    }
    case 'conv': {
      const { height: H, width: W, channels: C } = A;
      check(H * W * C === n, `conv A: height·width·channels = ${H}·${W}·${C} = ${H * W * C} differs from the block's n = ${n}`, 'SHAPE');
      check(A.kernel.shape.length === 4 && A.kernel.shape[2] === C && A.kernel.shape[3] === C,
        `conv A: kernel shape [${A.kernel.shape.join(', ')}] must be [kh, kw, ${C}, ${C}]`, 'SHAPE');
      const [kh, kw] = A.kernel.shape as [number, number, number, number];
      const K = A.kernel.data;
      const pt = Math.floor((kh - 1) / 2);
      const pl = Math.floor((kw - 1) / 2);
      rows.forEach((r, i) => {
        const co = r % C;
        const w0 = Math.floor(r / C) % W;
        const h0 = Math.floor(r / (C * W));
        for (let dh = 0; dh < kh; dh++) {
          const h = h0 + dh - pt;
          if (h < 0 || h >= H) continue;
          for (let dw = 0; dw < kw; dw++) {
            const w = w0 + dw - pl;
            if (w < 0 || w >= W) continue;
            const base = (h * W + w) * C;
            const kbase = (dh * kw + dw) * C * C;
            for (let ci = 0; ci < C; ci++) out[i * n + base + ci] = out[i * n + base + ci]! + K[kbase + ci * C + co]!;
          }
        }
      });
      return out;
    }
    default:
      throw new OdemorError('MODEL', `unknown block matrix type '${(A as { type: string }).type}'`);
  }
}

/** The block matrix A as a dense row-major `n × n` float64 array (see {@link denseARows}). */
export function denseA(block: OdeBlock): Float64Array {
  return denseARows(block, range(block.n));
}

/** `[0, 1, …, n−1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Throw a SHAPE error unless `t.shape` equals `shape` and the data length matches. */
export function checkShape(t: Tensor32, shape: number[], what: string): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  check(ok, `${what} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, 'SHAPE');
  const size = shape.reduce((a, b) => a * b, 1);
  check(t.data.length === size, `${what} holds ${t.data.length} values, expected ${size}`, 'SHAPE');
}

/** A float32 tensor from float64 data. */
export function toTensor32(data: ArrayLike<number>, shape: number[]): Tensor32 {
  return { shape: [...shape], data: Float32Array.from(data as ArrayLike<number>) };
}

/** A row-major float64 copy of an ml-matrix `Matrix`. */
export function matrixData(M: Matrix): Float64Array {
  const out = new Float64Array(M.rows * M.columns);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.columns; j++) out[i * M.columns + j] = M.get(i, j);
  return out;
}

/** An ml-matrix `Matrix` from row-major data. */
export function toMl(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const M = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) M.set(i, j, data[i * cols + j]!);
  return M;
}

/** Row-major `C = A B` with `A: r×s`, `B: s×c`. */
export function matmul(A: ArrayLike<number>, B: ArrayLike<number>, r: number, s: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let l = 0; l < s; l++) {
      const a = A[i * s + l]!;
      if (a === 0) continue;
      for (let j = 0; j < c; j++) C[i * c + j] = C[i * c + j]! + a * B[l * c + j]!;
    }
  }
  return C;
}

/** Row-major transpose of an `r × c` matrix. */
export function transpose(A: ArrayLike<number>, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

/** The first `k` columns of an ml-matrix `Matrix` as row-major float64 (`rows × k`). */
export function leadingColumns(M: Matrix, k: number): Float64Array {
  check(k <= M.columns, `asked for ${k} columns of a matrix with ${M.columns}`, 'SHAPE');
  const out = new Float64Array(M.rows * k);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = M.get(i, j);
  return out;
}

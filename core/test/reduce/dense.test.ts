import { describe, expect, it } from 'vitest';
import { denseA, denseARows, type OdeBlock } from '../../src/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** Direct 'same' stride-1 cross-correlation (TensorFlow padding), x and y in [h, w, c] order. */
function convLoop(x: Float64Array, K: Float32Array, H: number, W: number, C: number, kh: number, kw: number): Float64Array {
  const y = new Float64Array(H * W * C);
  const padTop = Math.floor((kh - 1) / 2); // TF: pad_total // 2 before
  const padLeft = Math.floor((kw - 1) / 2);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let co = 0; co < C; co++) {
        let acc = 0;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const hh = h + i - padTop;
            const ww = w + j - padLeft;
            if (hh < 0 || hh >= H || ww < 0 || ww >= W) continue;
            for (let ci = 0; ci < C; ci++) acc += x[(hh * W + ww) * C + ci]! * K[((i * kw + j) * C + ci) * C + co]!;
          }
        y[(h * W + w) * C + co] = acc;
      }
  return y;
}

function convBlock(H: number, W: number, C: number, kh: number, kw: number, r: () => number): OdeBlock {
  const n = H * W * C;
  return {
    kind: 'ode',
    n,
    A: { type: 'conv', kernel: { shape: [kh, kw, C, C], data: Float32Array.from({ length: kh * kw * C * C }, r) }, height: H, width: W, channels: C },
    b: { shape: [n], data: new Float32Array(n) },
    activation: 'tanh',
  };
}

describe('denseA', () => {
  it.each([
    [5, 4, 3, 3, 3],
    [4, 6, 2, 2, 2], // even kernel: asymmetric 'same' padding
    [3, 3, 1, 1, 3],
    [6, 5, 2, 5, 4],
  ])('conv %i×%i×%i with a %i×%i kernel equals a direct convolution loop', (H, W, C, kh, kw) => {
    const r = rng(H * 100 + W * 10 + kh);
    const block = convBlock(H, W, C, kh, kw, r);
    const A = denseA(block);
    const n = block.n;
    const K = (block.A as { kernel: { data: Float32Array } }).kernel.data;
    for (let trial = 0; trial < 3; trial++) {
      const x = Float64Array.from({ length: n }, r);
      const y = convLoop(x, K, H, W, C, kh, kw);
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += A[i * n + j]! * x[j]!;
        expect(acc).toBeCloseTo(y[i]!, 10);
      }
    }
    // the Toeplitz matrix is A applied to the identity: column j = conv(e_j)
    const j = Math.floor(n / 2);
    const e = new Float64Array(n);
    e[j] = 1;
    const col = convLoop(e, K, H, W, C, kh, kw);
    for (let i = 0; i < n; i++) expect(A[i * n + j]).toBeCloseTo(col[i]!, 12);
  });

  it('builds only the requested rows', () => {
    const r = rng(9);
    const block = convBlock(4, 4, 2, 3, 3, r);
    const A = denseA(block);
    const rows = [7, 0, 31, 12];
    const R = denseARows(block, rows);
    rows.forEach((row, i) => expect(Array.from(R.subarray(i * 32, (i + 1) * 32))).toEqual(Array.from(A.subarray(row * 32, (row + 1) * 32))));
    expect(() => denseARows(block, [32])).toThrow(/outside/);
  });

  it('antisymmetric: A = W − Wᵀ − γI, so A + Aᵀ = −2γI', () => {
    const r = rng(3);
    const n = 6;
    const W = Float32Array.from({ length: n * n }, r);
    const block: OdeBlock = { kind: 'ode', n, A: { type: 'antisymmetric', weight: { shape: [n, n], data: W }, gamma: 0.25 }, b: { shape: [n], data: new Float32Array(n) }, activation: 'tanh' };
    const A = denseA(block);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        expect(A[i * n + j]! + A[j * n + i]!).toBeCloseTo(i === j ? -0.5 : 0, 12);
        if (i !== j) expect(A[i * n + j]).toBeCloseTo(W[i * n + j]! - W[j * n + i]!, 12);
      }
  });

  it('dense: A is the weight, and a wrong shape is a SHAPE error', () => {
    const W = Float32Array.from([1, 2, 3, 4]);
    const block: OdeBlock = { kind: 'ode', n: 2, A: { type: 'dense', weight: { shape: [2, 2], data: W } }, b: { shape: [2], data: new Float32Array(2) }, activation: 'tanh' };
    expect(Array.from(denseA(block))).toEqual([1, 2, 3, 4]);
    expect(() => denseA({ ...block, n: 3, b: { shape: [3], data: new Float32Array(3) } })).toThrow(/shape/);
  });
});

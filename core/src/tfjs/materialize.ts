import { OdemorError } from '../errors.js';
import type { OdeBlock } from '../ir/types.js';

/**
 * The dense n×n matrix A (row-major, `[out, in]`, so (A x)_i = Σ_j A[i, j] x_j) of a full ODE block, for
 * any matrix type: dense as is; antisymmetric W − Wᵀ − γI; conv the Toeplitz matrix of the 'same',
 * stride-1 convolution acting on the state flattened in [h, w, c] order (equivalently: the convolution
 * applied to the identity).
 */
export function materializeDenseA(block: OdeBlock): Float32Array {
  const n = block.n;
  const A = block.A;
  switch (A.type) {
    case 'dense':
      return new Float32Array(A.weight.data);
    case 'antisymmetric': {
      const W = A.weight.data;
      const out = new Float32Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) out[i * n + j] = W[i * n + j]! - W[j * n + i]! - (i === j ? A.gamma : 0);
      }
      return out;
    }
    case 'conv': {
      const { height: H, width: W, channels: C } = A;
      const [kh, kw] = A.kernel.shape as [number, number, number, number];
      const K = A.kernel.data;
      // TF 'same' padding with stride 1: total kernel−1, the smaller half before
      const top = Math.floor((kh - 1) / 2);
      const left = Math.floor((kw - 1) / 2);
      const out = new Float32Array(n * n);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let co = 0; co < C; co++) {
            const row = ((y * W + x) * C + co) * n;
            for (let dy = 0; dy < kh; dy++) {
              const yi = y + dy - top;
              if (yi < 0 || yi >= H) continue;
              for (let dx = 0; dx < kw; dx++) {
                const xi = x + dx - left;
                if (xi < 0 || xi >= W) continue;
                const col = (yi * W + xi) * C;
                const kbase = ((dy * kw + dx) * C) * C + co;
                for (let ci = 0; ci < C; ci++) out[row + col + ci] = K[kbase + ci * C]!;
              }
            }
          }
        }
      }
      return out;
    }
    default:
      throw new OdemorError('MODEL', `block.A: unknown matrix type '${(A as { type: string }).type}'`);
  }
}

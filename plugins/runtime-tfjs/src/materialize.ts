import { denseA } from '@odemor/core';
import type { OdeBlock } from '@odemor/core';

/**
 * The dense n×n matrix A (row-major, `[out, in]`, so (A x)_i = Σ_j A[i, j] x_j) of a full ODE block, for
 * any matrix type, as float32: a float32 copy of the core's float64 {@link denseA} (dense as is;
 * antisymmetric W − Wᵀ − γI; conv the Toeplitz matrix of the 'same', stride-1 convolution acting on the
 * state flattened in [h, w, c] order, with the tfjs `[kh, kw, in, out]` kernel layout).
 */
export function materializeDenseA(block: OdeBlock): Float32Array {
  return Float32Array.from(denseA(block));
}

/**
 * The odemor model IR: plain data, independent of any runtime.
 *
 * Conventions
 * - A tensor is `{ shape, data: Float32Array }`, row-major.
 * - Batched activations are row-major `[batch, ...sampleShape]`; images are NHWC.
 * - The ODE state of a sample is a flat vector of length `n`. For a convolutional block the state is the
 *   NHWC feature map `[h, w, c]` flattened in that order, so the dense Toeplitz matrix of the convolution
 *   acts on that ordering.
 * - Dense weights are stored `[out, in]` (y = W x + b).
 */

export interface Tensor32 {
  shape: number[];
  data: Float32Array;
}

export type Activation = 'tanh' | 'relu' | 'softplus' | 'identity';

/** Ordinary layers before and after the ODE block. */
export type Layer =
  | { type: 'dense'; weight: Tensor32 /* [out, in] */; bias?: Tensor32 /* [out] */; trainable?: boolean }
  | {
      type: 'conv2d';
      /** [kh, kw, inChannels, outChannels] (tfjs layout) */
      kernel: Tensor32;
      bias?: Tensor32; // [outChannels]
      stride: number;
      padding: 'same' | 'valid';
      trainable?: boolean;
    }
  | { type: 'relu' }
  | { type: 'tanh' }
  | { type: 'maxpool2d'; size: number; stride: number; padding: 'same' | 'valid' }
  | { type: 'flatten' }
  /** Scatter a k-vector back into an n-vector (APoZ before a nonlinear following layer). */
  | { type: 'scatter'; indices: number[]; size: number };

/** The matrix A of the full ODE block. */
export type BlockMatrix =
  | { type: 'dense'; weight: Tensor32 /* [n, n] */ }
  | {
      type: 'conv';
      /** [kh, kw, channels, channels], stride 1, 'same' padding, acting on the [h, w, c] state. */
      kernel: Tensor32;
      height: number;
      width: number;
      channels: number;
    }
  /** A = W − Wᵀ − γ I */
  | { type: 'antisymmetric'; weight: Tensor32 /* [n, n] */; gamma: number };

/** Full ODE block x' = σ(A x + b) + Z u(t). */
export interface OdeBlock {
  kind: 'ode';
  n: number;
  A: BlockMatrix;
  b: Tensor32; // [n]
  /** Input matrix [n, p]; absent when the block has no input. */
  Z?: Tensor32;
  activation: Activation;
}

/** A linear map between state spaces, used for E (x → z) and D (z → x). */
export type LinearMap =
  | { type: 'identity'; size: number }
  /** dense matrix [rows, cols]: E is [k, n], D is [n, k] */
  | { type: 'dense'; weight: Tensor32 }
  /** E: z = x[indices] */
  | { type: 'select'; indices: number[]; from: number }
  /** D: x = zeros(to); x[indices] = z */
  | { type: 'scatter'; indices: number[]; to: number };

/** The inner matrix M of the reduced form: dense [m, k], or kept factored as left·right. */
export type ReducedMatrix =
  | { type: 'dense'; weight: Tensor32 /* [m, k] */ }
  | { type: 'factored'; left: Tensor32 /* [m, r] */; right: Tensor32 /* [r, k] */ };

/**
 * The unified reduced form every reducer returns:
 *   z(0) = E x(0),   z' = N σ(M z + c) + Zr u(t),   x(t_end) ≈ D z(t_end)
 */
export interface ReducedBlock {
  kind: 'reduced';
  /** reducer name, e.g. 'deim' */
  method: string;
  /** full state dimension */
  n: number;
  /** reduced state dimension */
  k: number;
  /** activations evaluated per right-hand side */
  m: number;
  E: LinearMap;
  M: ReducedMatrix;
  c: Tensor32; // [m]
  /** [k, m], or identity when m = k and no mixing is needed */
  N: { type: 'identity'; size: number } | { type: 'dense'; weight: Tensor32 };
  Zr?: Tensor32; // [k, p]
  D: LinearMap;
  activation: Activation;
}

export type Block = OdeBlock | ReducedBlock;

export interface SolverSpec {
  use: string;
  dt: number;
  t0: number;
  t1: number;
  rtol?: number;
  atol?: number;
}

export type InputSpec =
  /** One sample is a tensor of this shape (e.g. [28, 28, 1] or [2]). */
  | { kind: 'tensor'; shape: number[] }
  /**
   * One sample is a sequence [steps, features], fed to the block as u(t): u(t) = seq[j] for
   * t in [t0 + j·stepDuration, t0 + (j+1)·stepDuration). The block starts from x(0) = 0 and `pre` is empty.
   */
  | { kind: 'sequence'; steps: number; features: number; stepDuration: number };

export interface ModelIR {
  format: 'odemor-model';
  version: 1;
  name?: string;
  input: InputSpec;
  pre: Layer[];
  block: Block;
  post: Layer[];
  solver: SolverSpec;
  /** number of output classes (size of the last post layer) */
  outputs: number;
  meta?: Record<string, unknown>;
}

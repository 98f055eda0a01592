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
 *   z(0) = E x(0),   z' = N σ(M z + c + Zin u(t)) + Zr u(t) + bias,   x(t_end) ≈ D z(t_end)
 * (`Zin` and `bias` are absent except for reduced mlp blocks)
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
  /** input matrix inside σ, [m, p] (a reduced mlp block): z' = N σ(M z + c + Zin u) + … */
  Zin?: Tensor32;
  /** constant term of the right-hand side, [k] (a reduced mlp block's projected output bias) */
  bias?: Tensor32;
  D: LinearMap;
  activation: Activation;
}

/**
 * Two-layer vector field of an `mlp-node` (docs/architecture.md#mlp-node):
 *   x' = N σ(M x + c + Zin u(t)) + bias
 * i.e. W₁ = M [m, n], b₁ = c [m], W₂ = N [n, m], b₂ = bias [n], with m hidden units. It is the unified
 * reduced form with E = D = I, so reducers act on its hidden layer (of width m).
 */
export interface MlpBlock {
  kind: 'mlp';
  /** state dimension */
  n: number;
  /** hidden units */
  m: number;
  M: Tensor32; // [m, n]
  c: Tensor32; // [m]
  N: Tensor32; // [n, m]
  bias: Tensor32; // [n]
  /** input matrix inside σ [m, p]; absent when the block has no input */
  Zin?: Tensor32;
  activation: Activation;
}

export type Block = OdeBlock | ReducedBlock | MlpBlock;

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
  | { kind: 'sequence'; steps: number; features: number; stepDuration: number }
  /**
   * One sample is the block's initial state x(t0) of length `size` (a trajectory model; `pre` is empty). With
   * `signal`, each sample also has an input signal u [steps, channels] (passed to `Executable.predict` as
   * `inputs.u`), fed as u(t) = u[j] for t in [t0 + j·stepDuration, t0 + (j+1)·stepDuration), clamped to the
   * last entry.
   */
  | { kind: 'state'; size: number; signal?: { steps: number; channels: number; stepDuration: number } };

/**
 * What a model outputs besides logits: `trajectory` — the block's state (D z for a reduced block) at each of
 * `times` (increasing, after `solver.t0`, the last equal to `solver.t1`), `[T, size]` per sample, row-major;
 * `post` is then empty and `outputs` = T · size.
 */
export interface Readout {
  kind: 'trajectory';
  times: number[];
}

/**
 * The learned midpoint network Γ_φ of a Taylor-Lagrange solver (docs/algorithms.md#taylor-lagrange): layers
 * (dense, relu, tanh) mapping the block's state [s] to [s]; the remainder of a step is evaluated at
 * ξ = x + Γ_φ(x) ⊙ f(x).
 */
export interface MidpointNet {
  layers: Layer[];
}

export interface ModelIR {
  format: 'odemor-model';
  version: 1;
  name?: string;
  input: InputSpec;
  pre: Layer[];
  block: Block;
  post: Layer[];
  solver: SolverSpec;
  /** number of output classes (size of the last post layer); a trajectory readout: T · state size */
  outputs: number;
  /** absent: logits from the post layers */
  readout?: Readout;
  /** the Taylor-Lagrange midpoint network, when the model was trained with one */
  midpoint?: MidpointNet;
  meta?: Record<string, unknown>;
}

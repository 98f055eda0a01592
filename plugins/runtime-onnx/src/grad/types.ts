// plugins/runtime-onnx/src/grad/types.ts
import type { ButcherTableau, ModelIR, SolveStats } from '@odemor/core';
import type { SolverLike } from '../tableau.js';
/**
 * The task loss of a gradient program: softmax cross-entropy on one-hot labels, the mean squared error over every
 * output entry, or `l1` — the mean over the batch of the ℓ1 norm of each sample's output error, (1/B) Σ_b ‖y_b − t_b‖₁
 * (the Taylor-Lagrange midpoint loss).
 */
export type LossKind = 'softmax-cross-entropy' | 'mse' | 'l1';
export interface GradientProgramOptions {
  /** Butcher tableau of the fixed-step method to unroll; or `solver` (its tableau, or its step program when it has none) */
  tableau?: ButcherTableau;
  /**
   * the solver: a fixed-step step program without a tableau (Taylor-Lagrange) is unrolled with its `step`; an
   * adaptive solver with a tableau that has `bHat` (Dopri5) gives the adaptive program (backprop through the accepted
   * steps of the step loop, docs/algorithms.md#onnx-adaptive-training) with the model's `rtol` / `atol`, else the
   * solver's, and the solver's `maxSteps`
   */
  solver?: SolverLike;
  /** which IR paths train (core's paramSelector(model, selection)): graph inputs with a gradient output */
  trainable: (path: string) => boolean;
  /**
   * tensors fed as graph inputs on every run without a gradient (values that change between runs but do not train
   * in this program, e.g. the midpoint network in the task loss); default none: frozen tensors are initializers
   */
  fed?: (path: string) => boolean;
  loss?: LossKind;          // default softmax-cross-entropy
  /**
   * λ of the remainder penalty: the loss is task loss + λ · mean|R| over the remainder terms R of every unrolled step
   * (mean over steps, batch and state) when the solver's steps return them (Taylor-Lagrange); default 0
   */
  remainderWeight?: number;
  threads?: number;
}
export interface GradientResult {
  /** mean loss over the batch */
  loss: number;
  /** correct top-1 predictions in the batch (classification), else 0 */
  correct: number;
  /** d(mean loss)/d(tensor) for every trainable IR path, in the IR's own layout (same length as the IR tensor) */
  grads: Map<string, Float32Array>;
  /** mean over steps, batch and state of |R| of the step program's remainder terms, when it returns them */
  remainderAbsMean?: number;
  /** an adaptive solver: core's counts of the batch's forward solve (`nfe`, `accepted`, `rejected`) */
  stats?: SolveStats;
}
/** Inputs of a gradient program run besides `x` and the targets. */
export interface GradientInputs {
  /** the input signal [batch, steps, channels] of a model with input kind 'state' and a signal */
  u?: Float32Array;
}
export interface GradientProgram {
  /** the trainable IR paths, in listTensors(model) order */
  readonly paths: readonly string[];
  /**
   * Loss and gradients at parameter values `params` (IR path → IR-layout values; paths not given keep the
   * model's values) on a batch: x [batch, ...inputShape], y int32 labels [batch] (mse: y is Float32Array
   * targets [batch, outputs]; a trajectory model's outputs are its states at the readout times, [batch, T·size]).
   * `inputs.u` is the input signal [batch, steps, channels] of a model with input kind 'state' and a signal.
   */
  run(params: ReadonlyMap<string, Float32Array>, x: Float32Array, y: Int32Array | Float32Array, batch: number, inputs?: GradientInputs): Promise<GradientResult>;
  dispose(): Promise<void>;
}
export type CompileGradientProgram = (model: ModelIR, options: GradientProgramOptions) => Promise<GradientProgram>;

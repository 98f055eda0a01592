// plugins/runtime-onnx/src/grad/types.ts
import type { ButcherTableau, ModelIR } from '@odemor/core';
export type LossKind = 'softmax-cross-entropy' | 'mse';
export interface GradientProgramOptions {
  tableau: ButcherTableau;
  /** which IR paths train (core's paramSelector(model, selection)) */
  trainable: (path: string) => boolean;
  loss?: LossKind;          // default softmax-cross-entropy
  threads?: number;
}
export interface GradientResult {
  /** mean loss over the batch */
  loss: number;
  /** correct top-1 predictions in the batch (classification), else 0 */
  correct: number;
  /** d(mean loss)/d(tensor) for every trainable IR path, in the IR's own layout (same length as the IR tensor) */
  grads: Map<string, Float32Array>;
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

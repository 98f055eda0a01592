/**
 * The midpoint network Γ_φ a Taylor-Lagrange trainer adds to a model that has none
 * (docs/algorithms.md#taylor-lagrange): dense s→hidden, relu, dense hidden→s, weights uniform in ±init, zero
 * biases. One rule for every runtime, so the same config starts from the same network on each.
 */
import type { Layer, ModelIR, Tensor32 } from '../ir/types.js';
import { solverStateSize } from '../ir/validate.js';
import { createRng } from '../util/rng.js';

/** Options of {@link withMidpointNetwork}. */
export interface MidpointNetworkOptions {
  /** hidden units (TayLaNets' stiff example: 16) */
  hidden: number;
  /** weights uniform in [−init, init] (near zero: Γ ≈ 0 starts as the Taylor step with the remainder at x) */
  init: number;
  /** the training seed; the network draws from a stream of its own (`seed ^ 0x7a1d3b5`), not the model's */
  seed: number;
}

/** `model` itself when it has a midpoint network, else a copy with a fresh one for its solver state size. */
export function withMidpointNetwork(model: ModelIR, options: MidpointNetworkOptions): ModelIR {
  if (model.midpoint) return model;
  const s = solverStateSize(model.block);
  const { hidden, init } = options;
  const rng = createRng((options.seed ^ 0x7a1d3b5) >>> 0);
  const uniform = (shape: number[]): Tensor32 => {
    const data = new Float32Array(shape[0]! * shape[1]!);
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * init;
    return { shape, data };
  };
  const layers: Layer[] = [
    { type: 'dense', weight: uniform([hidden, s]), bias: { shape: [hidden], data: new Float32Array(hidden) } },
    { type: 'relu' },
    { type: 'dense', weight: uniform([s, hidden]), bias: { shape: [s], data: new Float32Array(s) } },
  ];
  return { ...model, midpoint: { layers } };
}

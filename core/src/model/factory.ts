import type { DatasetInfo } from '../extension-points.js';
import type { ModelIR, SolverSpec } from '../ir/types.js';

export interface ModelFactoryContext {
  dataset: DatasetInfo;
  seed: number;
  solver: SolverSpec;
}

/**
 * Builds a freshly initialised model (seeded) from the `model:` section of a config.
 * Built in: 'dense-node', 'conv-node', 'ode-rnn'.
 */
export type ModelFactory = (options: Record<string, unknown>, context: ModelFactoryContext) => ModelIR;

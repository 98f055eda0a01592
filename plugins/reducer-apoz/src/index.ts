/**
 * @odemor/reducer-apoz — APoZ neuron pruning of the ODE block.
 */
import { z, type OdemorPlugin } from '@odemor/core';
import { ApozReducer, type ApozReducerOptions } from './apoz-reducer.js';

export { ApozReducer, rankHiddenUnits, topKNeurons, type ApozReducerOptions, type ApozScore } from './apoz-reducer.js';

/**
 * The option schema of the 'apoz' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes.
 */
export const apozOptionsSchema = z.strictObject({
  /** `magnitude` (default): mean |x_c(t_end)|; `zero-fraction`: 1 − APoZ */
  score: z.enum(['magnitude', 'zero-fraction']).optional(),
  /** fold E / D into a directly adjacent dense layer (default true) */
  adjustNeighbours: z.boolean().optional(),
  /** the experiment's seed (APoZ is deterministic and ignores it) */
  seed: z.number().int().min(0).optional(),
});

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-apoz',
  register(ctx) {
    ctx.provide('Reducer', 'apoz', (options) => new ApozReducer((options ?? {}) as ApozReducerOptions), {
      description: 'APoZ neuron pruning of the ODE block',
      options: apozOptionsSchema,
    });
  },
};

export default plugin;

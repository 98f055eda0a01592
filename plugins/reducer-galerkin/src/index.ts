/**
 * @odemor/reducer-galerkin — POD-Galerkin projection without hyper-reduction: the baseline that separates the
 * projection error from the interpolation error.
 */
import { z, type OdemorPlugin } from '@odemor/core';
import { GalerkinReducer } from './galerkin-reducer.js';

export { GalerkinReducer, type GalerkinReducerOptions } from './galerkin-reducer.js';

/**
 * The option schema of the 'galerkin' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`). POD-Galerkin has no options of its own; only the `seed` the pipeline passes is allowed.
 */
export const galerkinOptionsSchema = z.strictObject({
  /** the experiment's seed (POD-Galerkin is deterministic and ignores it) */
  seed: z.number().int().min(0).optional(),
});

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-galerkin',
  register(ctx) {
    ctx.provide('Reducer', 'galerkin', (options) => new GalerkinReducer(options ?? {}), {
      description: 'POD-Galerkin projection without hyper-reduction (all activations): the projection-error baseline',
      options: galerkinOptionsSchema,
    });
  },
};

export default plugin;

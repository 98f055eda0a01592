/**
 * @odemor/reducer-svd — SVD weight truncation of the ODE block matrix.
 */
import { z, type OdemorPlugin } from '@odemor/core';
import { SvdReducer } from './svd-reducer.js';

export { SvdReducer, type SvdReducerOptions } from './svd-reducer.js';

/**
 * The option schema of the 'svd' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`). SVD truncation has no options of its own; only the `seed` the pipeline passes is allowed.
 */
export const svdOptionsSchema = z.strictObject({
  /** the experiment's seed (SVD truncation is deterministic and ignores it) */
  seed: z.number().int().min(0).optional(),
});

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-svd',
  register(ctx) {
    ctx.provide('Reducer', 'svd', (options) => new SvdReducer(options ?? {}), {
      description: 'SVD weight truncation of the ODE block matrix (no snapshots)',
      options: svdOptionsSchema,
    });
  },
};

export default plugin;

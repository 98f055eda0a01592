/**
 * @odemor/reducer-odeim — POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block.
 */
import { InterpolationReducer, interpolationReducerOptionsSchema, type InterpolationReducerOptions, type OdemorPlugin, type ReducerCapabilities } from '@odemor/core';
import { selectOdeimPoints } from './select.js';

export { selectOdeimPoints } from './select.js';

/** Options of the 'odeim' reducer. */
export type OdeimReducerOptions = InterpolationReducerOptions;

/**
 * The option schema of the 'odeim' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes.
 */
export const odeimOptionsSchema = interpolationReducerOptionsSchema({ oversample: true });

/**
 * POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectOdeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁺, Zr = V_kᵀZ, D = V_k).
 * On an mlp block it reduces the hidden layer instead: k hidden POD modes, E = D = I
 * (`InterpolationReducer`, docs/algorithms.md#mlp-reduction).
 */
export class OdeimReducer extends InterpolationReducer {
  /** m = dims.m (a config's `points`), below or above k; m + o points in all */
  override readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };

  constructor(options: OdeimReducerOptions = {}) {
    super('odeim', (U, count) => selectOdeimPoints(U, count), options, { oversample: 1 });
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-odeim',
  register(ctx) {
    ctx.provide('Reducer', 'odeim', (options) => new OdeimReducer((options ?? {}) as OdeimReducerOptions), {
      description: 'POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block',
      options: odeimOptionsSchema,
    });
  },
};

export default plugin;

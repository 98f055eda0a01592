/**
 * @odemor/reducer-qdeim — POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block.
 */
import { InterpolationReducer, interpolationReducerOptionsSchema, type InterpolationReducerOptions, type OdemorPlugin, type ReducerCapabilities } from '@odemor/core';
import { selectQdeimPoints } from './select.js';

export { selectQdeimPoints } from './select.js';

/** Options of the 'qdeim' reducer. */
export type QdeimReducerOptions = InterpolationReducerOptions;

/**
 * The option schema of the 'qdeim' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes. Strict: `oversample` (ODEIM's option) is an unknown key.
 */
export const qdeimOptionsSchema = interpolationReducerOptionsSchema({ oversample: false });

/**
 * POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectQdeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁻¹, Zr = V_kᵀZ, D = V_k).
 * On an mlp block it reduces the hidden layer instead: k hidden POD modes, E = D = I
 * (`InterpolationReducer`, docs/algorithms.md#mlp-reduction).
 */
export class QdeimReducer extends InterpolationReducer {
  /** m = dims.m (a config's `points`), below or above k */
  override readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };

  constructor(options: QdeimReducerOptions = {}) {
    super('qdeim', (U) => selectQdeimPoints(U), options);
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-qdeim',
  register(ctx) {
    ctx.provide('Reducer', 'qdeim', (options) => new QdeimReducer((options ?? {}) as QdeimReducerOptions), {
      description: 'POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block',
      options: qdeimOptionsSchema,
    });
  },
};

export default plugin;

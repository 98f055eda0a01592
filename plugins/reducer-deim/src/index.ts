/**
 * @odemor/reducer-deim — POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block.
 */
import { InterpolationReducer, interpolationReducerOptionsSchema, type InterpolationReducerOptions, type OdemorPlugin, type ReducerAnalysis, type ReducerCapabilities } from '@odemor/core';
import { selectDeimPoints } from './select.js';

export { selectDeimPoints } from './select.js';

/** Options of the 'deim' reducer. */
export type DeimReducerOptions = InterpolationReducerOptions;

/**
 * The option schema of the 'deim' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes. Strict: `oversample` (ODEIM's option) is an unknown key.
 */
export const deimOptionsSchema = interpolationReducerOptionsSchema({ oversample: false });

/**
 * POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectDeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁻¹, Zr = V_kᵀZ, D = V_k).
 * On an mlp block it reduces the hidden layer instead: k hidden POD modes, E = D = I
 * (`InterpolationReducer`, docs/algorithms.md#mlp-reduction).
 */
export class DeimReducer extends InterpolationReducer {
  /** m = dims.m (a config's `points`), below or above k */
  override readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };

  constructor(options: DeimReducerOptions = {}) {
    super('deim', (U) => selectDeimPoints(U), options);
  }

  /** DEIM's points (of its largest reduction) are the ones marked on the report's neuron-score plot, as in the paper's Fig. 4. */
  analysis(): ReducerAnalysis {
    return { markPoints: true };
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-deim',
  register(ctx) {
    ctx.provide('Reducer', 'deim', (options) => new DeimReducer((options ?? {}) as DeimReducerOptions), {
      description: 'POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block',
      options: deimOptionsSchema,
    });
  },
};

export default plugin;

/**
 * @odemor/reducer-sopt — POD + S-OPT point selection (Shin & Xiu 2016; Lauzon, Cheung, Chung, Choi et al. 2022)
 * reduced ODE block.
 */
import { InterpolationReducer, interpolationReducerOptionsSchema, selectSoptPoints, type InterpolationReducerOptions, type OdemorPlugin, type ReducerCapabilities } from '@odemor/core';

export { selectSoptPoints } from '@odemor/core';

/** Options of the 'sopt' reducer. */
export type SoptReducerOptions = InterpolationReducerOptions;

/**
 * The option schema of the 'sopt' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes. The same keys as ODEIM's.
 */
export const soptOptionsSchema = interpolationReducerOptionsSchema({ oversample: true });

/**
 * POD + S-OPT reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects
 * `m + o` points on `U[:, :m]` with {@link selectSoptPoints} (the greedy maximiser of
 * `S(Z) = √det(ZᵀZ) / Π_i ‖z_i‖`, cached by m) and returns the unified reduced form of ODEIM
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁺, Zr = V_kᵀZ, D = V_k; docs/algorithms.md#sopt).
 * On an mlp block it reduces the hidden layer instead: k hidden POD modes, q ≥ k points, E = D = I
 * (`InterpolationReducer`, docs/algorithms.md#mlp-reduction).
 */
export class SoptReducer extends InterpolationReducer {
  /** m = dims.m (a config's `points`), below or above k; m + o points in all */
  override readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };

  constructor(options: SoptReducerOptions = {}) {
    super('sopt', (U, count) => selectSoptPoints(U, count), options, { oversample: 1 });
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-sopt',
  register(ctx) {
    ctx.provide('Reducer', 'sopt', (options) => new SoptReducer((options ?? {}) as SoptReducerOptions), {
      description: 'POD + S-OPT point selection (Shin & Xiu 2016; Lauzon et al. 2022) reduced ODE block',
      options: soptOptionsSchema,
    });
  },
};

export default plugin;

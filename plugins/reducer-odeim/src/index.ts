/**
 * @odemor/reducer-odeim — POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block.
 */
import { InterpolationReducer, z, type InterpolationReducerOptions, type OdemorPlugin, type ReducerCapabilities } from '@odemor/core';
import { selectOdeimPoints } from './select.js';

export { selectOdeimPoints } from './select.js';

/** Options of the 'odeim' reducer. */
export type OdeimReducerOptions = InterpolationReducerOptions;

/**
 * The option schema of the 'odeim' reducer: its config entry less the core keys (`use`, `dims`, `points`,
 * `energy`), plus the `seed` the pipeline passes.
 */
export const odeimOptionsSchema = z
  .strictObject({
    /** fixed number of nonlinear basis columns m, when the config gives no `points` */
    m: z.number().int().min(1).optional(),
    /** m = max(1, round(pointsRatio · k)) */
    pointsRatio: z.number().positive().optional(),
    /** extra points o beyond m (default 1), capped at n − m */
    oversample: z.number().int().min(0).optional(),
    /** the experiment's seed (ODEIM is deterministic and ignores it) */
    seed: z.number().int().min(0).optional(),
  })
  .refine((o) => o.m === undefined || o.pointsRatio === undefined, { message: 'give either option m or option pointsRatio, not both', path: ['pointsRatio'] });

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

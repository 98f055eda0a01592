/**
 * @odemor/reducer-deim — POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block.
 */
import { InterpolationReducer, type InterpolationReducerOptions, type OdemorPlugin } from '@odemor/core';
import { selectDeimPoints } from './select.js';

export { selectDeimPoints } from './select.js';

/** Options of the 'deim' reducer. */
export type DeimReducerOptions = InterpolationReducerOptions;

/**
 * POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectDeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁻¹, Zr = V_kᵀZ, D = V_k).
 */
export class DeimReducer extends InterpolationReducer {
  constructor(options: DeimReducerOptions = {}) {
    super('deim', (U) => selectDeimPoints(U), options);
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-deim',
  register(ctx) {
    ctx.provide('Reducer', 'deim', (options) => new DeimReducer((options ?? {}) as DeimReducerOptions), 'POD + DEIM (Chaturantabut & Sorensen 2010) reduced ODE block');
  },
};

export default plugin;

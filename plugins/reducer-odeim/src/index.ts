/**
 * @odemor/reducer-odeim — POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block.
 */
import { InterpolationReducer, type InterpolationReducerOptions, type OdemorPlugin } from '@odemor/core';
import { selectOdeimPoints } from './select.js';

export { selectOdeimPoints } from './select.js';

/** Options of the 'odeim' reducer. */
export type OdeimReducerOptions = InterpolationReducerOptions;

/**
 * POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectOdeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁺, Zr = V_kᵀZ, D = V_k).
 */
export class OdeimReducer extends InterpolationReducer {
  constructor(options: OdeimReducerOptions = {}) {
    super('odeim', (U, count) => selectOdeimPoints(U, count), options, { oversample: 1 });
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-odeim',
  register(ctx) {
    ctx.provide('Reducer', 'odeim', (options) => new OdeimReducer((options ?? {}) as OdeimReducerOptions), 'POD + oversampled DEIM (Peherstorfer, Drmač & Gugercin 2020) reduced ODE block');
  },
};

export default plugin;

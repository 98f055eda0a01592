/**
 * @odemor/reducer-qdeim — POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block.
 */
import { InterpolationReducer, type InterpolationReducerOptions, type OdemorPlugin } from '@odemor/core';
import { selectQdeimPoints } from './select.js';

export { selectQdeimPoints } from './select.js';

/** Options of the 'qdeim' reducer. */
export type QdeimReducerOptions = InterpolationReducerOptions;

/**
 * POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block: `fit` takes the POD bases of the snapshot set, `reduce({ k, m })` selects the points on
 * `U[:, :m]` with {@link selectQdeimPoints} (cached by m) and returns the unified reduced form
 * (E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁻¹, Zr = V_kᵀZ, D = V_k).
 */
export class QdeimReducer extends InterpolationReducer {
  constructor(options: QdeimReducerOptions = {}) {
    super('qdeim', (U) => selectQdeimPoints(U), options);
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-qdeim',
  register(ctx) {
    ctx.provide('Reducer', 'qdeim', (options) => new QdeimReducer((options ?? {}) as QdeimReducerOptions), 'POD + Q-DEIM (Drmač & Gugercin 2016) reduced ODE block');
  },
};

export default plugin;

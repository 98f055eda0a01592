/**
 * @odemor/reducer-svd — SVD weight truncation of the ODE block matrix.
 */
import type { OdemorPlugin } from '@odemor/core';
import { SvdReducer } from './svd-reducer.js';

export { SvdReducer, type SvdReducerOptions } from './svd-reducer.js';

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-svd',
  register(ctx) {
    ctx.provide('Reducer', 'svd', (options) => new SvdReducer(options ?? {}), 'SVD weight truncation of the ODE block matrix (no snapshots)');
  },
};

export default plugin;

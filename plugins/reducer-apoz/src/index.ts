/**
 * @odemor/reducer-apoz — APoZ neuron pruning of the ODE block.
 */
import type { OdemorPlugin } from '@odemor/core';
import { ApozReducer, type ApozReducerOptions } from './apoz-reducer.js';

export { ApozReducer, topKNeurons, type ApozReducerOptions, type ApozScore } from './apoz-reducer.js';

const plugin: OdemorPlugin = {
  name: '@odemor/reducer-apoz',
  register(ctx) {
    ctx.provide('Reducer', 'apoz', (options) => new ApozReducer((options ?? {}) as ApozReducerOptions), 'APoZ neuron pruning of the ODE block');
  },
};

export default plugin;

import type { OdemorPlugin } from '../container.js';
import { convNode, denseNode, odeRnn } from './builtin.js';

/**
 * The core plugin '@odemor/core': the built-in models ('dense-node', 'conv-node', 'ode-rnn'). The 'tfjs'
 * runtime and the 'backprop' trainer are `@odemor/runtime-tfjs`.
 */
export const coreModelsPlugin: OdemorPlugin = {
  name: '@odemor/core',
  register(ctx) {
    ctx.provide('Model', 'dense-node', denseNode, 'dense Neural ODE for vector inputs');
    ctx.provide('Model', 'conv-node', convNode, "the paper's convolutional Neural ODE for images");
    ctx.provide('Model', 'ode-rnn', odeRnn, 'antisymmetric ODE-RNN for sequence inputs');
  },
};

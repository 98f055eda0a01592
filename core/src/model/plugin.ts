import type { OdemorPlugin } from '../container.js';
import { convNode, convNodeOptions, denseNode, denseNodeOptions, mlpNode, mlpNodeOptions, odeRnn, odeRnnOptions } from './builtin.js';

/**
 * The core plugin '@odemor/core': the built-in models ('dense-node', 'conv-node', 'ode-rnn'). The 'tfjs'
 * runtime and the 'backprop' trainer are `@odemor/runtime-tfjs`.
 */
export const coreModelsPlugin: OdemorPlugin = {
  name: '@odemor/core',
  register(ctx) {
    ctx.provide('Model', 'dense-node', denseNode, { description: 'dense Neural ODE for vector inputs', options: denseNodeOptions });
    ctx.provide('Model', 'conv-node', convNode, { description: "the paper's convolutional Neural ODE for images", options: convNodeOptions });
    ctx.provide('Model', 'ode-rnn', odeRnn, { description: 'antisymmetric ODE-RNN for sequence inputs', options: odeRnnOptions });
    ctx.provide('Model', 'mlp-node', mlpNode, { description: "two-layer vector field x' = W₂ σ(W₁ x + b₁ + Z u) + b₂ (system identification, MLP dynamics)", options: mlpNodeOptions });
  },
};

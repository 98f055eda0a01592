import type { OdemorPlugin } from '../container.js';
import type { RuntimeFactory } from '../extension-points.js';
import { TfjsRuntime, type TfjsRuntimeOptions } from '../tfjs/runtime.js';
import { convNode, convNodeOptions, denseNode, denseNodeOptions, odeRnn, odeRnnOptions } from './builtin.js';

/**
 * The core plugin '@odemor/core': the built-in models ('dense-node', 'conv-node', 'ode-rnn') and the
 * 'tfjs' runtime.
 */
export const coreModelsPlugin: OdemorPlugin = {
  name: '@odemor/core',
  register(ctx) {
    ctx.provide('Model', 'dense-node', denseNode, { description: 'dense Neural ODE for vector inputs', options: denseNodeOptions });
    ctx.provide('Model', 'conv-node', convNode, { description: "the paper's convolutional Neural ODE for images", options: convNodeOptions });
    ctx.provide('Model', 'ode-rnn', odeRnn, { description: 'antisymmetric ODE-RNN for sequence inputs', options: odeRnnOptions });
    const tfjs: RuntimeFactory = (options) => new TfjsRuntime((options ?? {}) as TfjsRuntimeOptions);
    ctx.provide('Runtime', 'tfjs', tfjs, 'tfjs (tensorflow | wasm | cpu backend): training and eager inference');
  },
};

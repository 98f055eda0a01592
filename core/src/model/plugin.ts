import type { OdemorPlugin } from '../container.js';
import type { RuntimeFactory } from '../extension-points.js';
import { TfjsRuntime, type TfjsRuntimeOptions } from '../tfjs/runtime.js';
import { convNode, denseNode, odeRnn } from './builtin.js';

/**
 * The core plugin '@odemor/core': the built-in models ('dense-node', 'conv-node', 'ode-rnn') and the
 * 'tfjs' runtime.
 */
export const coreModelsPlugin: OdemorPlugin = {
  name: '@odemor/core',
  register(ctx) {
    ctx.provide('Model', 'dense-node', denseNode, 'dense Neural ODE for vector inputs');
    ctx.provide('Model', 'conv-node', convNode, "the paper's convolutional Neural ODE for images");
    ctx.provide('Model', 'ode-rnn', odeRnn, 'antisymmetric ODE-RNN for sequence inputs');
    const tfjs: RuntimeFactory = (options) => new TfjsRuntime((options ?? {}) as TfjsRuntimeOptions);
    ctx.provide('Runtime', 'tfjs', tfjs, 'tfjs (tensorflow | wasm | cpu backend): training and eager inference');
  },
};

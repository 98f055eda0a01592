/**
 * The tfjs runtime of odemor (backend choice, forward pass, training) and, re-exported from here so that
 * `@odemor/core` exposes them, the IR io/validation, the built-in models and the small utilities.
 */
export * from './backend.js';
export * from './wasm-kernels.js';
export * from './forward.js';
export * from './materialize.js';
export * from './runtime.js';
export * from './train.js';
export * from '../ir/io.js';
export * from '../ir/validate.js';
export * from '../model/params.js';
export * from '../model/builtin.js';
export * from '../model/plugin.js';
export * from '../util/index.js';

/** zod, re-exported so plugins build their option schemas with the same copy core validates with */
export { z } from 'zod';
export * from './errors.js';
export * from './ir/types.js';
export * from './extension-points.js';
export * from './tokens.js';
export * from './hooks.js';
export * from './container.js';
export * from './model/factory.js';
export * from './solvers/index.js';
export * from './linalg/index.js';
export * from './interpolation/index.js';
export * from './reduce/index.js';
export * from './tfjs/index.js';
export * from './config/index.js';
export * from './plugins/index.js';
export * from './pipeline/index.js';
export * from './cli/index.js';

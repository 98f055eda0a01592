export * from './errors.js';
export * from './ir/types.js';
export * from './extension-points.js';
export * from './tokens.js';
export * from './hooks.js';
export * from './container.js';
export * from './model/factory.js';

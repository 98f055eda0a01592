export * from './factory.js';
export * from './params.js';
export * from './builtin.js';
export * from './plugin.js';
export * from './midpoint.js';

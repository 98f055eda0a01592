export * from './schema.js';
export * from './load.js';
export * from './plugin-options.js';

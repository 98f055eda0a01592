export * from './types.js';
export * from './io.js';
export * from './validate.js';

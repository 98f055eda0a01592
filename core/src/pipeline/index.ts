export * from './run.js';
export * from './results.js';

export * from './solver.js';
export * from './reducer.js';
export * from './fixtures.js';
export * from './check.js';

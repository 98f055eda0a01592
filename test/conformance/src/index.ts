export * from './solver.js';
export * from './reducer.js';

export * from './solver.js';
export * from './reducer.js';
export { mlpReducerFixture, mlpReducedError, MLP_M, MLP_N, type MlpReducerFixture } from './reducer-mlp.js';
export * from './fixtures.js';
export * from './runtime.js';
export * from './reference.js';
export * from './runtime-models.js';
export * from './snapshotter.js';
export * from './check.js';

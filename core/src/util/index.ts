export * from './rng.js';
export * from './atomic.js';
export * from './progress.js';
export * from './batches.js';
export * from './stats.js';

export * from './rng.js';
export * from './atomic.js';

export * from './main.js';
export * from './progress.js';

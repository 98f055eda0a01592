// The reducer conformance kit on third-party code: a plain-JS plugin outside the workspace packages.
// Random points cannot be expected to find the few rows that carry structured low-rank or sparse
// dynamics, so those two capabilities are switched off.
import { expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import { reducerConformance } from '../src/index.js';
// @ts-expect-error — a plain JavaScript fixture without type declarations
import plugin, { RandomPointsReducer } from '../../e2e/fixtures/random-points-reducer.js';

reducerConformance(it, () => new RandomPointsReducer(), { supports: { lowRankConvergence: false, sparseConvergence: false } });

it('the third-party plugin registers its reducer through an experiment', async () => {
  const exp = new Experiment();
  await exp.use(plugin);
  expect(exp.names('Reducer')).toEqual(['random-points']);
  expect(exp.factory('Reducer', 'random-points')({ pointsRatio: 2 }).name).toBe('random-points');
});

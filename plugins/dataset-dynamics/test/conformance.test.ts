import { it } from 'vitest';
import { datasetConformance } from '@odemor/conformance';
import { createDynamicsDataset } from '../src/index.js';

datasetConformance(it, () => createDynamicsDataset({ seed: 1, system: 'van-der-pol', trajectories: 16, test: 9, horizon: 1, samples: 5 }), {
  title: 'dataset conformance: dynamics van-der-pol',
});
datasetConformance(it, () => createDynamicsDataset({ seed: 2, system: 'vehicle', trajectories: 12, test: 8, horizon: 1, samples: 4, inputDt: 0.1 }), {
  title: 'dataset conformance: dynamics vehicle (input signal)',
});
datasetConformance(it, () => createDynamicsDataset({ seed: 3, system: 'stiff-linear', method: 'exact', trajectories: 20, test: 11, t0: 0.5, samples: 6, noise: 0.01 }), {
  title: 'dataset conformance: dynamics stiff-linear (exact)',
});

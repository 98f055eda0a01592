import { it } from 'vitest';
import { datasetConformance } from '@odemor/conformance';
import { createSyntheticDataset } from '../src/index.js';

datasetConformance(it, () => createSyntheticDataset({ seed: 1, kind: 'spirals', train: 40, test: 17 }), {
  supports: { augment: true },
  title: 'dataset conformance: synthetic spirals',
});
datasetConformance(it, () => createSyntheticDataset({ seed: 2, kind: 'sequence', train: 23, test: 9, steps: 8, features: 2 }), {
  title: 'dataset conformance: synthetic sequence',
});

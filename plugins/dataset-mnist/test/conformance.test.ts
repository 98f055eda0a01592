import { it } from 'vitest';
import { datasetConformance } from '@odemor/conformance';
import { MnistDataset } from '../src/index.js';

// a small subset of the real files (the first images of each split), downsampled 4× to keep the suite fast
datasetConformance(it, () => new MnistDataset({ seed: 1, train: 30, test: 12, downsample: 4, augment: { rotate: 10, translate: 0.1 } }), {
  supports: { augment: true },
  title: 'dataset conformance: mnist (image view)',
});
datasetConformance(it, () => new MnistDataset({ seed: 2, train: 15, test: 8, view: 'sequence', downsample: 4 }), {
  title: 'dataset conformance: mnist (sequence view)',
});

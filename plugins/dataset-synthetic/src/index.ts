/**
 * @odemor/dataset-synthetic: seeded synthetic classification data (circles, spirals, blobs and a
 * time-series task) for odemor.
 *
 * Provides the Dataset names `synthetic` (option `kind`, default `'spirals'`) and the aliases
 * `circles`, `spirals` and `sequence`, which fix the kind.
 */
import type { DatasetFactory, OdemorPlugin } from '@odemor/core';
import { createSyntheticDataset } from './dataset.js';
import { syntheticOptionsSchema, type SyntheticKind } from './options.js';

export { SyntheticDataset, createSyntheticDataset } from './dataset.js';
export { resolveOptions, syntheticOptionsSchema, KINDS, DEFAULT_NOISE, DEFAULT_CLASSES, type SyntheticKind, type SyntheticOptions } from './options.js';
export {
  generatePlanar,
  generateSequence,
  generateSplit,
  orthonormalEmbedding,
  embed,
  SPIRAL_TURNS,
  SEQUENCE_FREQ_JITTER,
  type SplitData,
} from './generators.js';
export { Rng, deriveSeed, permutation } from './rng.js';

/** The aliases this plugin provides besides `synthetic`, each fixing `kind`. */
export const ALIASES: readonly SyntheticKind[] = ['circles', 'spirals', 'sequence'];

/** Factory of the `synthetic` Dataset; with `kind` set, the factory of that alias. */
export function syntheticFactory(kind?: SyntheticKind): DatasetFactory {
  return (options) => createSyntheticDataset(options, kind);
}

/** The plugin: register it with `experiment.use(plugin)` or list it under `plugins:` in a config. */
const plugin: OdemorPlugin = {
  name: '@odemor/dataset-synthetic',
  register(ctx) {
    ctx.provide('Dataset', 'synthetic', syntheticFactory(), {
      description: "seeded synthetic classification data; option kind: 'circles' | 'spirals' | 'blobs' | 'sequence' (default 'spirals')",
      options: syntheticOptionsSchema(),
    });
    ctx.provide('Dataset', 'circles', syntheticFactory('circles'), {
      description: 'concentric noisy rings, one per class (synthetic, kind circles)',
      options: syntheticOptionsSchema('circles'),
    });
    ctx.provide('Dataset', 'spirals', syntheticFactory('spirals'), {
      description: 'interleaved noisy spiral arms, one per class (synthetic, kind spirals)',
      options: syntheticOptionsSchema('spirals'),
    });
    ctx.provide('Dataset', 'sequence', syntheticFactory('sequence'), {
      description: 'noisy sinusoids classified by frequency, [steps, features] (synthetic, kind sequence)',
      options: syntheticOptionsSchema('sequence'),
    });
  },
};

export default plugin;

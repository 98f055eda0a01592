import { it } from 'vitest';
import { snapshotterConformance } from '@odemor/conformance';
import { StreamSnapshotter } from '../src/index.js';

snapshotterConformance(it, (options) => new StreamSnapshotter(options), {
  variants: { gram: { mode: 'gram' }, exact: { mode: 'exact' } },
  energyOptions: (energy) => ({ energy }),
});

import type { Batch } from '../extension-points.js';
import { createRng } from './rng.js';

/** Block outputs of training samples computed once (`features`, flattened per sample) with their labels. */
export interface CachedFeatures {
  features: Float32Array;
  labels: Int32Array;
  count: number;
}

/**
 * Mini-batches of cached features in a seeded random order (a permutation by `createRng(seed)`), the order every
 * trainer uses when only the post layers train on cached block outputs, so trainers agree batch for batch.
 */
export function* cachedBatches(cache: CachedFeatures, batch: number, seed: number): Generator<Batch> {
  const per = cache.features.length / Math.max(1, cache.count);
  const order = createRng(seed).shuffle(Array.from({ length: cache.count }, (_, i) => i));
  for (let start = 0; start < cache.count; start += batch) {
    const size = Math.min(batch, cache.count - start);
    const x = new Float32Array(size * per);
    const y = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const r = order[start + i]!;
      x.set(cache.features.subarray(r * per, (r + 1) * per), i * per);
      y[i] = cache.labels[r]!;
    }
    yield { x, y, size };
  }
}

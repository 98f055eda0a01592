import { OdemorError } from '@odemor/core';
import type { Batch, BatchOptions, Dataset, DatasetInfo, Split } from '@odemor/core';
import { generateSplit, orthonormalEmbedding, type SplitData } from './generators.js';
import { resolveOptions, type SyntheticKind, type SyntheticOptions } from './options.js';
import { deriveSeed, permutation, Rng } from './rng.js';

/**
 * A seeded synthetic classification dataset. Each split is generated on first use from its own stream
 * (`seed` + split name), so train and test are independent, and the same seed gives byte-identical data.
 */
export class SyntheticDataset implements Dataset {
  readonly name: string;
  readonly info: DatasetInfo;
  /** the validated options, defaults filled in */
  readonly options: Readonly<SyntheticOptions>;
  private readonly cache = new Map<Split, SplitData>();
  private embedding: Float64Array | undefined;

  constructor(options: SyntheticOptions) {
    this.options = Object.freeze({ ...options });
    this.name = `synthetic-${options.kind}`;
    const seq = options.kind === 'sequence';
    this.info = Object.freeze({
      inputShape: seq ? [options.steps, options.features] : [options.dim],
      kind: seq ? 'sequence' : 'vector',
      numClasses: options.numClasses,
      trainSize: options.train,
      testSize: options.test,
    });
  }

  /** Number of floats per sample (the product of `info.inputShape`). */
  get sampleSize(): number {
    return this.info.inputShape.reduce((a, b) => a * b, 1);
  }

  /**
   * All samples of a split, in storage order (generated on first call, then cached). The arrays are the
   * dataset's own: do not modify them.
   */
  split(split: Split): SplitData {
    if (split !== 'train' && split !== 'test') {
      throw new OdemorError('ARGUMENT', `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
    }
    let data = this.cache.get(split);
    if (!data) {
      const o = this.options;
      if (o.kind !== 'sequence' && !this.embedding) this.embedding = orthonormalEmbedding(o.dim, new Rng(deriveSeed(o.seed, 'embed')));
      const count = split === 'train' ? o.train : o.test;
      data = generateSplit(o, count, new Rng(deriveSeed(o.seed, `data:${split}`)), this.embedding);
      this.cache.set(split, data);
    }
    return data;
  }

  /**
   * Iterate over a split in batches of `batchSize` (the last one may be smaller). Every batch holds fresh
   * arrays the caller may keep or modify.
   *
   * - `limit`: use only the first `limit` samples of the split (applied before shuffling).
   * - `shuffle` (default false, for both splits): visit the samples in a seeded random order; the same
   *   `seed` (default: the dataset's seed) gives the same order. Pass e.g. `seed + epoch` for a new order
   *   per epoch.
   * - `augment` (default false): add Gaussian jitter of standard deviation `jitter` to every coordinate of
   *   the training split, seeded by `seed` (vector kinds only; a no-op for sequences and for the test split).
   *
   * @throws OdemorError `ARGUMENT` for a bad split, batch size, limit or seed
   */
  async *batches(split: Split, batchSize: number, options: BatchOptions = {}): AsyncGenerator<Batch> {
    const data = this.split(split);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new OdemorError('ARGUMENT', `batch size must be a positive integer, got ${String(batchSize)}`);
    }
    const { shuffle = false, augment = false, limit } = options;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new OdemorError('ARGUMENT', `limit must be a positive integer, got ${String(limit)}`);
    }
    const seed = options.seed ?? this.options.seed;
    if (!Number.isSafeInteger(seed)) throw new OdemorError('ARGUMENT', `batch seed must be an integer, got ${String(seed)}`);

    const n = Math.min(data.count, limit ?? data.count);
    const s = this.sampleSize;
    const order = shuffle ? permutation(n, new Rng(deriveSeed(seed, `shuffle:${split}`))) : undefined;
    const jitter = augment && split === 'train' && this.info.kind === 'vector' && this.options.jitter > 0 ? this.options.jitter : 0;
    const jrng = jitter > 0 ? new Rng(deriveSeed(seed, `augment:${split}`)) : undefined;

    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      let x: Float32Array;
      let y: Int32Array;
      if (order) {
        x = new Float32Array(size * s);
        y = new Int32Array(size);
        for (let b = 0; b < size; b++) {
          const idx = order[start + b]!;
          x.set(data.x.subarray(idx * s, (idx + 1) * s), b * s);
          y[b] = data.y[idx]!;
        }
      } else {
        x = data.x.slice(start * s, (start + size) * s);
        y = data.y.slice(start, start + size);
      }
      if (jrng) for (let i = 0; i < x.length; i++) x[i] = x[i]! + jitter * jrng.normal();
      yield { x, y, size };
    }
  }
}

/**
 * Create a synthetic dataset from raw options (the `dataset:` section of a config plus `seed`).
 *
 * @param fixedKind set by the aliases `circles`, `spirals`, `sequence`
 * @throws OdemorError `CONFIG` for bad options, naming the key and value
 */
export function createSyntheticDataset(options: Record<string, unknown>, fixedKind?: SyntheticKind): SyntheticDataset {
  return new SyntheticDataset(resolveOptions(options, fixedKind));
}

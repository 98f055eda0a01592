/** `dataset.dir` resolves from the config's folder (the `baseDir` core passes), like every path of a config. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MnistDataset, encodeIdx, mnistOptionsSchema } from '../src/index.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-mnist-dir-'));
  made.push(d);
  return d;
};

/** A config folder with a `data/` subfolder holding `n` fake images per split. */
function configFolder(n = 4): string {
  const dir = tmp();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const imgs = new Uint8Array(n * 784).map((_, i) => (i * 31) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  for (const prefix of ['train', 't10k']) {
    fs.writeFileSync(path.join(data, `${prefix}-images-idx3-ubyte`), encodeIdx([n, 28, 28], imgs));
    fs.writeFileSync(path.join(data, `${prefix}-labels-idx1-ubyte`), encodeIdx([n], labels));
  }
  return dir;
}

describe('dataset.dir', () => {
  it('a relative dir resolves against baseDir, not the working directory', async () => {
    const base = configFolder();
    expect(fs.existsSync(path.join(process.cwd(), 'data', 'train-images-idx3-ubyte'))).toBe(false);
    const ds = new MnistDataset({ dir: 'data', baseDir: base, train: 4, test: 4, seed: 1 });
    let count = 0;
    for await (const b of ds.batches('train', 4)) count += b.size;
    expect(count).toBe(4);
    expect(mnistOptionsSchema.safeParse({ dir: 'data', baseDir: base, seed: 1 }).success).toBe(true);
  });

  it('a folder that is not there is an error at once (schema and constructor), naming where it was resolved from', () => {
    const base = tmp();
    const want = `${path.join(base, 'nope')} is not a folder (resolved from the config's folder ${base}); it must hold the four MNIST IDX files`;
    expect(() => new MnistDataset({ dir: 'nope', baseDir: base, seed: 1 })).toThrow(`dataset.dir: ${want}`);
    const r = mnistOptionsSchema.safeParse({ dir: 'nope', baseDir: base, seed: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['dir'], message: want });
  });

  it('without baseDir (used from code) a relative dir resolves from the working directory', () => {
    expect(() => new MnistDataset({ dir: 'surely-not-here-odemor', seed: 1 })).toThrow(`(resolved from the working directory ${process.cwd()})`);
  });

  it('an absolute dir is used as is', () => {
    const base = configFolder();
    expect(() => new MnistDataset({ dir: path.join(base, 'data'), baseDir: '/elsewhere', seed: 1 })).not.toThrow();
  });
});

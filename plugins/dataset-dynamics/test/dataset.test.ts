import { describe, expect, it } from 'vitest';
import { Experiment, type Batch, type BatchOptions, type Dataset, type Split } from '@odemor/core';
import { expectOdemorError } from '@odemor/conformance';
import plugin, { createDynamicsDataset, dynamicsOptionsSchema, integrateTrajectory, stiffLinearExact, DynamicsDataset } from '../src/index.js';

async function collect(ds: Dataset, split: Split, batch: number, options?: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(split, batch, options)) out.push(b);
  return out;
}

function concat(batches: Batch[], key: 'x' | 'targets' | 'u'): Float32Array {
  const parts = batches.map((b) => b[key]!);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const small = { trajectories: 12, test: 5, samples: 10 };

describe('the dynamics dataset', () => {
  it('describes itself as a trajectory regression dataset', () => {
    const ds = createDynamicsDataset({ seed: 1, system: 'pendulum', ...small, horizon: 2 });
    expect(ds.name).toBe('dynamics-pendulum');
    expect(ds.info).toMatchObject({ kind: 'trajectory', task: 'regression', inputShape: [2], numClasses: 0, targetShape: [10, 2], t0: 0, trainSize: 12, testSize: 5 });
    expect(ds.info.times).toHaveLength(10);
    expect(ds.info.times![0]).toBeCloseTo(0.2, 14);
    expect(ds.info.times![9]).toBe(2);
    expect(ds.info.signal).toBeUndefined();
    const v = createDynamicsDataset({ seed: 1, system: 'vehicle', ...small, horizon: 1, inputDt: 0.1 });
    expect(v.info).toMatchObject({ inputShape: [6], targetShape: [10, 6], signal: { steps: 10, channels: 2, dt: 0.1 } });
  });

  it('uses the defaults: van der Pol, 1000 / 200 trajectories, per-system window', () => {
    const ds = createDynamicsDataset({ seed: 3 });
    expect(ds.options.system).toBe('van-der-pol');
    expect(ds.info).toMatchObject({ trainSize: 1000, testSize: 200, targetShape: [100, 2] });
    expect(ds.info.times![99]).toBe(10);
    expect(ds.options.params).toEqual({ mu: 1 });
    expect(ds.options.rtol).toBe(1e-10);
  });

  it('yields batches of the documented shapes; the targets are the integrated trajectories', async () => {
    const ds = createDynamicsDataset({ seed: 2, system: 'lotka-volterra', ...small, horizon: 3 });
    const batches = await collect(ds, 'train', 5);
    expect(batches.map((b) => b.size)).toEqual([5, 5, 2]);
    for (const b of batches) {
      expect(b.x).toHaveLength(b.size * 2);
      expect(b.y).toBeInstanceOf(Int32Array);
      expect(b.y).toHaveLength(0);
      expect(b.targets).toHaveLength(b.size * 10 * 2);
      expect(b.u).toBeUndefined();
    }
    const b = batches[1]!;
    for (let i = 0; i < b.size; i++) {
      const ref = integrateTrajectory('lotka-volterra', b.x.subarray(2 * i, 2 * i + 2), ds.info.times!);
      for (let k = 0; k < ref.length; k++) expect(b.targets![i * 20 + k]).toBe(Math.fround(ref[k]!));
    }
    // every initial state lies in its range
    const x = concat(batches, 'x');
    for (let i = 0; i < 12; i++) {
      expect(x[2 * i]).toBeGreaterThanOrEqual(1);
      expect(x[2 * i]).toBeLessThanOrEqual(5);
      expect(x[2 * i + 1]).toBeGreaterThanOrEqual(0.5);
      expect(x[2 * i + 1]).toBeLessThanOrEqual(3);
    }
  });

  it('is deterministic per seed; another seed gives other data; train and test are disjoint', async () => {
    const opts = { system: 'van-der-pol', ...small, horizon: 2, noise: 0.01 };
    const a = createDynamicsDataset({ seed: 5, ...opts });
    const b = createDynamicsDataset({ seed: 5, ...opts });
    const c = createDynamicsDataset({ seed: 6, ...opts });
    for (const split of ['train', 'test'] as const) {
      const [ba, bb, bc] = await Promise.all([a, b, c].map((d) => collect(d, split, 4)));
      for (const key of ['x', 'targets'] as const) {
        expect(bytes(concat(ba!, key)).equals(bytes(concat(bb!, key)))).toBe(true);
        expect(bytes(concat(ba!, key)).equals(bytes(concat(bc!, key)))).toBe(false);
      }
    }
    const train = a.split('train').x;
    const test = a.split('test').x;
    const rows = new Set<string>();
    for (let i = 0; i < 12; i++) rows.add(`${train[2 * i]},${train[2 * i + 1]}`);
    for (let i = 0; i < 5; i++) expect(rows.has(`${test[2 * i]},${test[2 * i + 1]}`)).toBe(false);
    // the first trajectories do not depend on the count
    const more = createDynamicsDataset({ seed: 5, ...opts, trajectories: 20 });
    expect(bytes(more.split('train').x.subarray(0, 24)).equals(bytes(train))).toBe(true);
    // large seeds that differ only in the high bits give different data
    const big1 = createDynamicsDataset({ seed: 2 ** 40 + 1, ...opts }).split('test').x;
    const big2 = createDynamicsDataset({ seed: 2 ** 41 + 1, ...opts }).split('test').x;
    expect(bytes(big1).equals(bytes(big2))).toBe(false);
  });

  it('adds observation noise to the training targets only (unless noiseTest)', () => {
    const base = { seed: 9, system: 'pendulum', trajectories: 40, test: 40, samples: 25, horizon: 2 };
    const clean = createDynamicsDataset(base);
    const noisy = createDynamicsDataset({ ...base, noise: 0.05 });
    const both = createDynamicsDataset({ ...base, noise: 0.05, noiseTest: 0.02 });
    // the clean states do not depend on the noise level
    expect(bytes(noisy.split('train').x).equals(bytes(clean.split('train').x))).toBe(true);
    expect(noisy.split('train').clean).toEqual(clean.split('train').clean);
    const std = (ds: DynamicsDataset, split: Split) => {
      const s = ds.split(split);
      let sum = 0;
      for (let k = 0; k < s.targets.length; k++) sum += (s.targets[k]! - s.clean[k]!) ** 2;
      return Math.sqrt(sum / s.targets.length);
    };
    expect(std(clean, 'train')).toBeLessThan(1e-6);
    expect(std(noisy, 'train')).toBeGreaterThan(0.045);
    expect(std(noisy, 'train')).toBeLessThan(0.055);
    expect(std(noisy, 'test')).toBeLessThan(1e-6);
    expect(std(both, 'test')).toBeGreaterThan(0.017);
    expect(std(both, 'test')).toBeLessThan(0.023);
  });

  it('limit takes the first trajectories; shuffle permutes them, seeded', async () => {
    const ds = createDynamicsDataset({ seed: 4, system: 'van-der-pol', ...small, horizon: 1 });
    const plain = concat(await collect(ds, 'train', 100), 'x');
    const limited = await collect(ds, 'train', 3, { limit: 7 });
    expect(limited.map((b) => b.size)).toEqual([3, 3, 1]);
    expect(bytes(concat(limited, 'x')).equals(bytes(plain.subarray(0, 14)))).toBe(true);
    const s1 = await collect(ds, 'train', 5, { shuffle: true, seed: 1 });
    const s1b = await collect(ds, 'train', 5, { shuffle: true, seed: 1 });
    const s2 = await collect(ds, 'train', 5, { shuffle: true, seed: 2 });
    const x1 = concat(s1, 'x');
    expect(bytes(x1).equals(bytes(concat(s1b, 'x')))).toBe(true);
    expect(bytes(x1).equals(bytes(concat(s2, 'x')))).toBe(false);
    expect(bytes(x1).equals(bytes(plain))).toBe(false);
    // the same rows, with their own targets
    const rows = (x: Float32Array) => Array.from({ length: x.length / 2 }, (_, i) => `${x[2 * i]},${x[2 * i + 1]}`).sort();
    expect(rows(x1)).toEqual(rows(plain));
    const t1 = concat(s1, 'targets');
    const tPlain = concat(await collect(ds, 'train', 100), 'targets');
    for (let i = 0; i < 12; i++) {
      const j = Array.from({ length: 12 }, (_, k) => k).find((k) => plain[2 * k] === x1[2 * i] && plain[2 * k + 1] === x1[2 * i + 1])!;
      expect(bytes(t1.subarray(i * 20, (i + 1) * 20)).equals(bytes(tPlain.subarray(j * 20, (j + 1) * 20)))).toBe(true);
    }
    // a limit before shuffling: a permutation of the first 6
    const ls = concat(await collect(ds, 'train', 4, { shuffle: true, limit: 6 }), 'x');
    expect(rows(ls)).toEqual(rows(plain.subarray(0, 12)));
    // batches are fresh arrays
    const [first] = await collect(ds, 'train', 2);
    first!.x[0] = 1234;
    expect(ds.split('train').x[0]).not.toBe(1234);
  });

  it('rejects bad batch arguments', async () => {
    const ds = createDynamicsDataset({ seed: 1, ...small });
    await expect(collect(ds, 'train', 0)).rejects.toThrow(/batch size must be a positive integer, got 0/);
    await expect(collect(ds, 'train', 2, { limit: -1 })).rejects.toThrow(/limit must be a positive integer, got -1/);
    await expect(collect(ds, 'val' as Split, 2)).rejects.toThrow(/split must be 'train' or 'test', got "val"/);
    await expect(collect(ds, 'train', 2, { seed: 0.5 })).rejects.toThrow(/batch seed must be an integer/);
  });

  it('takes explicit observation times and a start time', () => {
    const ds = createDynamicsDataset({ seed: 1, system: 'van-der-pol', trajectories: 3, test: 2, t0: 1, times: [1.5, 2, 4] });
    expect(ds.info).toMatchObject({ t0: 1, times: [1.5, 2, 4], targetShape: [3, 2] });
    const s = ds.split('train');
    const ref = integrateTrajectory('van-der-pol', s.x.subarray(0, 2), [1.5, 2, 4], undefined, { t0: 1 });
    expect(s.clean.subarray(0, 6)).toEqual(ref);
  });

  it('stiff-linear: the Dopri5 data equals the closed form (method: exact) to 1e-9', () => {
    const opts = { system: 'stiff-linear', trajectories: 6, test: 2, samples: 20, horizon: 2 };
    const solved = createDynamicsDataset({ seed: 8, ...opts });
    const exact = createDynamicsDataset({ seed: 8, ...opts, method: 'exact' });
    const a = solved.split('train');
    const b = exact.split('train');
    expect(bytes(a.x).equals(bytes(b.x))).toBe(true);
    for (let k = 0; k < a.clean.length; k++) expect(Math.abs(a.clean[k]! - b.clean[k]!)).toBeLessThan(1e-9);
    const x0 = b.x.subarray(0, 2);
    expect(Array.from(b.clean.subarray(38, 40))).toEqual(Array.from(stiffLinearExact(x0, 2)));
    expect(solved.generationStats('train')!.nfe).toBeGreaterThan(1000);
    expect(exact.generationStats('train')!.nfe).toBe(0);
  });

  it('vehicle: the inputs in the batch are the ones the data was generated with', async () => {
    for (const inputs of ['smooth', 'piecewise'] as const) {
      const ds = createDynamicsDataset({ seed: 3, system: 'vehicle', trajectories: 4, test: 2, horizon: 2, samples: 8, inputs, inputDt: 0.1 });
      const [b] = await collect(ds, 'train', 4);
      const { steps, channels, dt } = ds.info.signal!;
      expect(b!.u).toHaveLength(4 * steps * channels);
      for (let i = 0; i < 4; i++) {
        const values = b!.u!.subarray(i * steps * channels, (i + 1) * steps * channels);
        const ref = integrateTrajectory(ds.system, b!.x.subarray(6 * i, 6 * i + 6), ds.info.times!, { values, steps, channels, dt });
        for (let k = 0; k < ref.length; k++) expect(b!.targets![i * 48 + k]).toBe(Math.fround(ref[k]!));
        // within the amplitudes, and not constant
        for (let s = 0; s < steps; s++) {
          expect(Math.abs(values[2 * s]!)).toBeLessThanOrEqual(0.05 + 1e-6);
          expect(Math.abs(values[2 * s + 1]!)).toBeLessThanOrEqual(1000 + 1e-3);
        }
        expect(new Set(values.filter((_, k) => k % 2 === 0)).size).toBeGreaterThan(1);
      }
      if (inputs === 'piecewise') {
        // held levels: consecutive samples repeat (holds of 0.5 – 2 s = 5 – 20 samples)
        const v = b!.u!.subarray(0, steps * channels);
        let repeats = 0;
        for (let s = 1; s < steps; s++) if (v[2 * s] === v[2 * s - 2]) repeats++;
        expect(repeats).toBeGreaterThanOrEqual(steps - 5);
      }
    }
  });

  it('vehicle: zero inputs without lateral motion give straight lines; the speed stays positive with the defaults', async () => {
    const ds = createDynamicsDataset({
      seed: 1,
      system: 'vehicle',
      trajectories: 3,
      test: 1,
      horizon: 2,
      samples: 4,
      inputs: 'zero',
      initial: [
        [0, 0],
        [0, 0],
        [-1, 1],
        [5, 15],
        [0, 0],
        [0, 0],
      ],
    });
    const [b] = await collect(ds, 'train', 3);
    expect(Array.from(b!.u!).every((v) => v === 0)).toBe(true);
    for (let i = 0; i < 3; i++) {
      const psi = b!.x[6 * i + 2]!;
      const vx = b!.x[6 * i + 3]!;
      for (let k = 0; k < 4; k++) {
        const t = ds.info.times![k]!;
        const s = b!.targets!.subarray(i * 24 + 6 * k, i * 24 + 6 * k + 6);
        expect(s[0]).toBeCloseTo(vx * Math.cos(psi) * t, 4);
        expect(s[1]).toBeCloseTo(vx * Math.sin(psi) * t, 4);
        expect(s[3]).toBeCloseTo(vx, 5);
      }
    }
    const def = createDynamicsDataset({ seed: 2, system: 'vehicle', trajectories: 10, test: 1 }).split('train');
    for (let k = 3; k < def.clean.length; k += 6) expect(def.clean[k]).toBeGreaterThan(1);
  });

  it('is provided by the plugin with its option schema', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Dataset', 'dynamics')?.options).toBeDefined();
    const ds = await exp.factory('Dataset', 'dynamics')({ seed: 1, system: 'pendulum', ...small });
    expect(ds.info.kind).toBe('trajectory');
    expect(dynamicsOptionsSchema().safeParse({ seed: 1, sytem: 'pendulum' }).error!.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['sytem'] }]);
    expectOdemorError(expect, () => createDynamicsDataset({ seed: 1, sytem: 'pendulum' }), 'CONFIG', 'dataset.sytem', "did you mean 'system'");
  });
});

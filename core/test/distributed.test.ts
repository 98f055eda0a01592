import { describe, expect, it } from 'vitest';
import { OdemorError, decodeSnapshotPartial, encodeSnapshotPartial, shardRanges } from '../src/index.js';

describe('distributed sweeps: shard ranges and snapshot partials', () => {
  it('splits batches into contiguous ranges covering each batch once, at most one shard per batch', () => {
    for (const [count, shards] of [[10, 4], [3, 4], [1, 1], [7, 7], [100, 3]] as const) {
      const r = shardRanges(count, shards);
      expect(r.length).toBe(Math.min(count, shards));
      expect(r[0]!.from).toBe(0);
      expect(r.at(-1)!.to).toBe(count);
      for (let i = 1; i < r.length; i++) expect(r[i]!.from).toBe(r[i - 1]!.to);
      for (const x of r) expect(x.to - x.from).toBeGreaterThanOrEqual(Math.floor(count / r.length));
    }
  });

  it('round-trips a partial through bytes: float64 and float32 arrays bit for bit, meta as JSON', () => {
    const p = {
      snapshotter: 'stream',
      meta: { mode: 'gram', n: 3, w: null, batches: 2, snapshots: 7, samples: 5, hiddenComplete: true },
      arrays: { g: Float64Array.from([Math.PI, -1e-300, 1 / 3, 2 ** 60, 0, -0]), rows: Float32Array.from([1.5, -2.25, 3]), empty: new Float64Array(0) },
    };
    const bytes = encodeSnapshotPartial(p);
    // an unaligned copy decodes too
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const q = decodeSnapshotPartial(shifted);
    expect(q.snapshotter).toBe('stream');
    expect(q.meta).toEqual(p.meta);
    expect(q.arrays.g).toBeInstanceOf(Float64Array);
    expect([...q.arrays.g!]).toEqual([...p.arrays.g]);
    expect(q.arrays.rows).toBeInstanceOf(Float32Array);
    expect([...q.arrays.rows!]).toEqual([...p.arrays.rows]);
    expect(q.arrays.empty!.length).toBe(0);
  });

  it('refuses truncated bytes with a DATA error naming the shard', () => {
    const bytes = encodeSnapshotPartial({ snapshotter: 'stream', meta: {}, arrays: { g: new Float64Array(4) } });
    for (const cut of [bytes.subarray(0, 4), bytes.subarray(0, bytes.length - 8)]) {
      try {
        decodeSnapshotPartial(cut, 'snapshot shard 2/3');
        throw new Error('did not throw');
      } catch (e) {
        expect(OdemorError.is(e) && e.code).toBe('DATA');
        expect((e as Error).message).toMatch(/^snapshot shard 2\/3: malformed snapshot partial/);
      }
    }
  });
});

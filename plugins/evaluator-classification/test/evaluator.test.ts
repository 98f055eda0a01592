import { describe, expect, it } from 'vitest';
import { Experiment, OdemorError, type Batch, type BatchOptions, type Dataset, type EvaluateOptions, type Executable, type Split } from '@odemor/core';
import plugin, { ClassificationEvaluator, median } from '../src/index.js';

/**
 * A fake dataset: sample i has input [label, i] and label i mod classes. Counts the `batches` calls and
 * honours `limit`.
 */
class FakeDataset implements Dataset {
  readonly name = 'fake';
  readonly info;
  calls: { split: Split; batch: number; options?: BatchOptions }[] = [];
  constructor(readonly n: number, readonly classes: number) {
    this.info = { inputShape: [2], kind: 'vector' as const, numClasses: classes, trainSize: n, testSize: n };
  }
  async *batches(split: Split, batch: number, options?: BatchOptions): AsyncGenerator<Batch> {
    this.calls.push({ split, batch, ...(options ? { options } : {}) });
    const n = Math.min(this.n, options?.limit ?? this.n);
    for (let s = 0; s < n; s += batch) {
      const size = Math.min(batch, n - s);
      const x = new Float32Array(size * 2);
      const y = new Int32Array(size);
      for (let b = 0; b < size; b++) {
        y[b] = (s + b) % this.classes;
        x[2 * b] = y[b]!;
        x[2 * b + 1] = s + b;
      }
      yield { x, y, size };
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One-hot logits of the label (read from x) for 80% of the samples; every 5th sample (index ≡ 4 mod 5)
 * gets the one-hot of the next class instead.
 */
function fakeExecutable(classes: number, opts: { delayMs?: number; mutate?: (logits: Float32Array, call: number) => Float32Array } = {}): Executable & { calls: number; sizes: number[] } {
  const exe = {
    info: { runtime: 'fake', backend: 'js' },
    calls: 0,
    sizes: [] as number[],
    async predict(x: Float32Array, batch: number): Promise<Float32Array> {
      const call = exe.calls++;
      exe.sizes.push(batch);
      if (opts.delayMs) await sleep(opts.delayMs);
      const out = new Float32Array(batch * classes);
      for (let b = 0; b < batch; b++) {
        const label = x[2 * b]!;
        const index = x[2 * b + 1]!;
        const cls = index % 5 === 4 ? (label + 1) % classes : label;
        out[b * classes + cls] = 1;
      }
      return opts.mutate ? opts.mutate(out, call) : out;
    },
    dispose() {},
  };
  return exe;
}

const base: EvaluateOptions = { repeats: 3, topk: [1, 2], batch: 32 };

async function errorOf(p: Promise<unknown>): Promise<OdemorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return e as OdemorError;
  }
  throw new Error('expected a rejection');
}

describe('ClassificationEvaluator', () => {
  it('top-1 0.8 for a model right on 80% of samples; ties in top-2 count for the label', async () => {
    const ds = new FakeDataset(100, 3);
    const exe = fakeExecutable(3);
    const progress: [number, number][] = [];
    const r = await new ClassificationEvaluator({ ties: 'optimistic' }).evaluate(exe, ds, { ...base, onProgress: (d, t) => progress.push([d, t]) });
    expect(r.topk[1]).toBeCloseTo(0.8, 12);
    // wrong samples: label logit 0 ties with the third class, only one class is strictly larger → in top-2
    expect(r.topk[2]).toBe(1);
    expect(r.samples).toBe(100);
    // materialised once; warm-up + 3 timed passes of 4 batches (32, 32, 32, 4)
    expect(ds.calls).toHaveLength(1);
    expect(ds.calls[0]!.split).toBe('test');
    expect(exe.calls).toBe(4 * 4);
    expect(exe.sizes.slice(0, 4)).toEqual([32, 32, 32, 4]);
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(r.timings).toHaveLength(3);
    expect(r.wallSeconds).toBe(median(r.timings));
    expect(r.throughput).toBeCloseTo(100 / r.wallSeconds, 6);
    expect(r.speedup).toBeUndefined();
  });

  it('pessimistic ties count the tie against the label', async () => {
    const r = await new ClassificationEvaluator({ ties: 'pessimistic' }).evaluate(fakeExecutable(3), new FakeDataset(100, 3), base);
    expect(r.topk).toEqual({ 1: 0.8, 2: 0.8 });
  });

  it('respects limit', async () => {
    const ds = new FakeDataset(100, 4);
    const exe = fakeExecutable(4);
    const r = await new ClassificationEvaluator().evaluate(exe, ds, { ...base, repeats: 1, limit: 10 });
    expect(r.samples).toBe(10);
    expect(ds.calls[0]!.options).toEqual({ limit: 10 });
    // samples 0..9: indices 4 and 9 are wrong
    expect(r.topk[1]).toBeCloseTo(0.8, 12);
    expect(exe.sizes).toEqual([10, 10]);
  });

  it('stops at limit even when the dataset ignores it', async () => {
    const ds = new FakeDataset(50, 2);
    const ignoring: Dataset = { name: 'ignoring', info: ds.info, batches: (s, b) => ds.batches(s, b) };
    const exe = fakeExecutable(2);
    const r = await new ClassificationEvaluator().evaluate(exe, ignoring, { repeats: 1, topk: [1], batch: 8, limit: 13 });
    expect(r.samples).toBe(13);
    expect(exe.sizes.slice(0, 2)).toEqual([8, 5]);
  });

  it('timingLimit: the timed passes cover only the first samples (the last batch cut); the accuracy all of them', async () => {
    const ds = new FakeDataset(100, 4);
    const exe = fakeExecutable(4);
    const r = await new ClassificationEvaluator().evaluate(exe, ds, { ...base, repeats: 2, timingLimit: 40 });
    expect(r.topk[1]).toBeCloseTo(0.8, 10);
    expect(r.samples).toBe(100);
    expect(r.timedSamples).toBe(40);
    // warm-up: 32 + 32 + 32 + 4; each timed pass: 32 + 8
    expect(exe.sizes).toEqual([32, 32, 32, 4, 32, 8, 32, 8]);
    expect(r.throughput).toBeCloseTo(40 / r.wallSeconds, 6);
    const all = await new ClassificationEvaluator().evaluate(fakeExecutable(4), ds, { ...base, timingLimit: 500 });
    expect(all.timedSamples).toBeUndefined();
    await expect(new ClassificationEvaluator().evaluate(fakeExecutable(4), ds, { ...base, timingLimit: 0 })).rejects.toThrow(/evaluate.timingLimit must be a positive integer, got 0/);
  });

  it('speedup = baselineSeconds / wallSeconds; a slow executable is slower', async () => {
    const ds = new FakeDataset(20, 3);
    const opts = { repeats: 3, topk: [1], batch: 10 };
    const slow = await new ClassificationEvaluator().evaluate(fakeExecutable(3, { delayMs: 15 }), ds, opts);
    // 2 batches × 15 ms per pass
    expect(slow.wallSeconds).toBeGreaterThanOrEqual(0.028);
    expect(slow.wallSeconds).toBeLessThan(2);
    const fast = await new ClassificationEvaluator().evaluate(fakeExecutable(3), ds, { ...opts, baselineSeconds: slow.wallSeconds });
    expect(fast.speedup).toBeCloseTo(slow.wallSeconds / fast.wallSeconds, 9);
    expect(fast.speedup!).toBeGreaterThan(2);
    const self = await new ClassificationEvaluator().evaluate(fakeExecutable(3, { delayMs: 15 }), ds, { ...opts, baselineSeconds: 0.06 });
    expect(self.speedup).toBeCloseTo(0.06 / self.wallSeconds, 9);
    expect(self.speedup!).toBeGreaterThan(0.01);
    expect(self.speedup!).toBeLessThan(2.2);
  });

  describe('paired timing with a reference', () => {
    /** An executable that writes its name into `log` on every predict call (one-hot logits of class 0). */
    const recorder = (name: string, log: string[], classes: number, delayMs?: (call: number) => number, length?: number): Executable => {
      let call = 0;
      return {
        info: { runtime: 'fake', backend: name },
        async predict(_x: Float32Array, batch: number): Promise<Float32Array> {
          log.push(name);
          const d = delayMs?.(call++) ?? 0;
          if (d) await sleep(d);
          const out = new Float32Array(length ?? batch * classes);
          for (let b = 0; b < batch && b * classes < out.length; b++) out[b * classes] = 1;
          return out;
        },
        dispose() {},
      };
    };
    /** The log as one letter per pass (each pass calls predict on `perPass` batches in a row). */
    const passes = (log: string[], perPass: number): string => {
      const out: string[] = [];
      for (let i = 0; i < log.length; i += perPass) {
        const pass = log.slice(i, i + perPass);
        expect(new Set(pass).size).toBe(1); // a pass is never interleaved with the other executable
        out.push(pass[0]!);
      }
      return out.join('');
    };

    it('warms both up, then alternates: reference first on even passes, the model first on odd ones', async () => {
      const log: string[] = [];
      const ds = new FakeDataset(20, 3); // 2 batches of 10
      const progress: [number, number][] = [];
      const r = await new ClassificationEvaluator().evaluate(recorder('M', log, 3), ds, {
        repeats: 4,
        topk: [1],
        batch: 10,
        reference: recorder('R', log, 3),
        onProgress: (d, t) => progress.push([d, t]),
      });
      // warm-ups M, R; then pairs RM, MR, RM, MR
      expect(passes(log, 2)).toBe('MR' + 'RM' + 'MR' + 'RM' + 'MR');
      expect(r.timings).toHaveLength(4);
      expect(r.referenceTimings).toHaveLength(4);
      expect(r.speedup).toBe(median(r.referenceTimings!.map((t, i) => t / r.timings[i]!)));
      // every pass counts, the warm-ups included
      expect(progress).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 10]));
      // the accuracy comes from the model's warm-up pass only (labels i mod 3; the fake always says class 0)
      expect(r.topk[1]).toBeCloseTo(7 / 20, 12);
    });

    it('referenceTimings are index-aligned with timings (a slow reference pass shows at its index)', async () => {
      const log: string[] = [];
      // one batch per pass; the reference's calls: warm-up (0), then timed passes 0, 1, 2 (calls 1, 2, 3)
      const reference = recorder('R', log, 2, (call) => (call === 2 ? 40 : 0));
      const r = await new ClassificationEvaluator().evaluate(recorder('M', log, 2), new FakeDataset(4, 2), { repeats: 3, topk: [1], batch: 4, reference });
      expect(passes(log, 1)).toBe('MR' + 'RM' + 'MR' + 'RM');
      expect(r.referenceTimings).toHaveLength(3);
      expect(r.referenceTimings![1]!).toBeGreaterThanOrEqual(0.035);
      expect(r.referenceTimings![1]!).toBeGreaterThan(Math.max(r.referenceTimings![0]!, r.referenceTimings![2]!));
    });

    it('with one repeat: one pair, reference first; the reference wins over baselineSeconds', async () => {
      const log: string[] = [];
      const r = await new ClassificationEvaluator().evaluate(recorder('M', log, 2), new FakeDataset(4, 2), {
        repeats: 1,
        topk: [1],
        batch: 4,
        baselineSeconds: 1e6,
        reference: recorder('R', log, 2),
      });
      expect(log).toEqual(['M', 'R', 'R', 'M']);
      expect(r.referenceTimings).toHaveLength(1);
      expect(r.speedup).toBe(r.referenceTimings![0]! / r.timings[0]!);
    });

    it('without a reference nothing changes: no reference passes, no referenceTimings', async () => {
      const log: string[] = [];
      const r = await new ClassificationEvaluator().evaluate(recorder('M', log, 2), new FakeDataset(4, 2), { repeats: 2, topk: [1], batch: 4 });
      expect(log).toEqual(['M', 'M', 'M']);
      expect(r).not.toHaveProperty('referenceTimings');
      expect(r).not.toHaveProperty('speedup');
    });

    it('SHAPE error naming the reference when its logits have the wrong length; ARGUMENT for a non-executable', async () => {
      const log: string[] = [];
      const e = await errorOf(
        new ClassificationEvaluator().evaluate(recorder('M', log, 2), new FakeDataset(4, 2), { repeats: 1, topk: [1], batch: 4, reference: recorder('R', log, 2, undefined, 3) }),
      );
      expect(e.code).toBe('SHAPE');
      expect(e.message).toMatch(/^the reference returned 3 logits for a batch of 4 samples/);
      const a = await errorOf(
        new ClassificationEvaluator().evaluate(recorder('M', log, 2), new FakeDataset(4, 2), { repeats: 1, topk: [1], batch: 4, reference: {} as Executable }),
      );
      expect(a.code).toBe('ARGUMENT');
      expect(a.message).toMatch(/reference must be an Executable/);
    });
  });

  it('SHAPE error naming the sizes when the logits length is wrong', async () => {
    const exe = fakeExecutable(3, { mutate: (l) => l.subarray(0, l.length - 1) });
    const e = await errorOf(new ClassificationEvaluator().evaluate(exe, new FakeDataset(20, 3), { ...base, batch: 8 }));
    expect(e.code).toBe('SHAPE');
    expect(e.message).toMatch(/23 logits for a batch of 8 samples/);
    expect(e.message).toMatch(/8 × 3 classes = 24/);
  });

  it('SHAPE error also when a later (timed) pass returns the wrong length', async () => {
    const exe = fakeExecutable(3, { mutate: (l, call) => (call >= 3 ? new Float32Array(2) : l) });
    const e = await errorOf(new ClassificationEvaluator().evaluate(exe, new FakeDataset(20, 3), { ...base, batch: 8 }));
    expect(e.code).toBe('SHAPE');
  });

  it('NUMERIC error for NaN logits', async () => {
    const exe = fakeExecutable(3, {
      mutate: (l) => {
        l[4] = Number.NaN;
        return l;
      },
    });
    const e = await errorOf(new ClassificationEvaluator().evaluate(exe, new FakeDataset(20, 3), base));
    expect(e.code).toBe('NUMERIC');
    expect(e.message).toMatch(/NaN/);
  });

  it('validates options', async () => {
    const ds = new FakeDataset(20, 3);
    const ev = new ClassificationEvaluator();
    const cases: [Partial<EvaluateOptions>, RegExp][] = [
      [{ repeats: 0 }, /evaluate.repeats must be a positive integer, got 0/],
      [{ repeats: 1.5 }, /evaluate.repeats/],
      [{ batch: 0 }, /evaluate.batch/],
      [{ limit: -1 }, /evaluate.limit/],
      [{ topk: [0] }, /evaluate.topk .*between 1 and 3.*got 0/],
      [{ topk: [1, 4] }, /evaluate.topk .*got 4/],
    ];
    for (const [o, re] of cases) {
      const e = await errorOf(ev.evaluate(fakeExecutable(3), ds, { ...base, ...o }));
      expect(e.code).toBe('CONFIG');
      expect(e.message).toMatch(re);
    }
    expect((await errorOf(ev.evaluate(fakeExecutable(3), ds, { ...base, baselineSeconds: 0 }))).code).toBe('ARGUMENT');
    expect(() => new ClassificationEvaluator({ ties: 'random' as never })).toThrow(/ties must be one of/);
  });

  it('DATA error for an empty test split', async () => {
    const e = await errorOf(new ClassificationEvaluator().evaluate(fakeExecutable(3), new FakeDataset(0, 3), base));
    expect(e.code).toBe('DATA');
  });
});

describe('plugin', () => {
  it('provides the classification evaluator', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/evaluator-classification');
    expect(exp.names('Evaluator')).toEqual(['classification']);
    const ev = exp.factory('Evaluator', 'classification')({});
    expect(ev.name).toBe('classification');
    expect(ev).toBeInstanceOf(ClassificationEvaluator);
    expect(() => exp.factory('Evaluator', 'classification')({ repeats: 3 })).toThrow(/unknown option 'repeats'/);
    expect((exp.factory('Evaluator', 'classification')({ ties: 'index' }) as ClassificationEvaluator).ties).toBe('index');
  });
});

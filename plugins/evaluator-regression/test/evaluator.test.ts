import { describe, expect, it } from 'vitest';
import {
  Experiment,
  OdemorError,
  median,
  simulateBlock,
  type Batch,
  type BatchOptions,
  type Dataset,
  type DatasetInfo,
  type EvaluateOptions,
  type Executable,
  type MlpBlock,
  type SolveStats,
  type Split,
} from '@odemor/core';
import plugin, { RegressionEvaluator, regressionOptionsSchema } from '../src/index.js';

/**
 * x' = A x with A = [[−a, −w], [w, −a]]: x(t) = e^{−a t} R(w t) x0, exactly. Sample i starts at
 * x0 = (cos i, sin i) · (1 + i / 10).
 */
const a = 0.3;
const w = 2;
const TIMES = [0.2, 0.4, 0.6, 0.8, 1];
const x0Of = (i: number): [number, number] => [Math.cos(i) * (1 + i / 10), Math.sin(i) * (1 + i / 10)];
function exact(x: readonly number[], t: number): [number, number] {
  const e = Math.exp(-a * t);
  const c = Math.cos(w * t);
  const s = Math.sin(w * t);
  return [e * (c * x[0]! - s * x[1]!), e * (s * x[0]! + c * x[1]!)];
}

/** A trajectory dataset of the exact linear system (float32 targets [size, T, 2]); counts its `batches` calls. */
class LinearDataset implements Dataset {
  readonly name = 'linear';
  readonly info: DatasetInfo;
  calls: { split: Split; batch: number; options?: BatchOptions }[] = [];
  constructor(readonly n: number) {
    this.info = { inputShape: [2], kind: 'trajectory', numClasses: 0, task: 'regression', targetShape: [TIMES.length, 2], times: TIMES, t0: 0, trainSize: n, testSize: n };
  }
  async *batches(split: Split, batch: number, options?: BatchOptions): AsyncGenerator<Batch> {
    this.calls.push({ split, batch, ...(options ? { options } : {}) });
    const n = Math.min(this.n, options?.limit ?? this.n);
    for (let s = 0; s < n; s += batch) {
      const size = Math.min(batch, n - s);
      const x = new Float32Array(size * 2);
      const targets = new Float32Array(size * TIMES.length * 2);
      for (let b = 0; b < size; b++) {
        const x0 = x0Of(s + b);
        x.set(x0, 2 * b);
        TIMES.forEach((t, k) => targets.set(exact(Array.from(x.subarray(2 * b, 2 * b + 2)), t), (b * TIMES.length + k) * 2));
      }
      yield { x, y: new Int32Array(0), size, targets };
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The exact solution of the linear system, optionally perturbed: `offset(k)` is added to state 0 at time index k.
 * `stats(call)` gives `lastStats` after the call-th predict (none when absent).
 */
function linearExecutable(
  opts: { offset?: (k: number) => number; stats?: (call: number) => SolveStats | undefined; mutate?: (out: Float32Array, call: number) => Float32Array; delayMs?: number; name?: string; log?: string[] } = {},
): Executable & { calls: number; sizes: number[] } {
  let last: SolveStats | undefined;
  const exe = {
    info: { runtime: 'fake', backend: opts.name ?? 'js' },
    calls: 0,
    sizes: [] as number[],
    get lastStats() {
      return last;
    },
    async predict(x: Float32Array, batch: number): Promise<Float32Array> {
      const call = exe.calls++;
      exe.sizes.push(batch);
      opts.log?.push(opts.name ?? 'M');
      if (opts.delayMs) await sleep(opts.delayMs);
      const T = TIMES.length;
      const out = new Float32Array(batch * T * 2);
      for (let b = 0; b < batch; b++) {
        TIMES.forEach((t, k) => {
          const y = exact(Array.from(x.subarray(2 * b, 2 * b + 2)), t);
          y[0] += opts.offset?.(k) ?? 0;
          out.set(y, (b * T + k) * 2);
        });
      }
      last = opts.stats?.(call);
      return opts.mutate ? opts.mutate(out, call) : out;
    },
    dispose() {},
  };
  return exe;
}

const base: EvaluateOptions = { repeats: 3, topk: [], batch: 32 };

async function errorOf(p: Promise<unknown>): Promise<OdemorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return e as OdemorError;
  }
  throw new Error('expected a rejection');
}

/** Reference errors straight from the float32 arrays of a dataset and an executable. */
async function referenceErrors(ds: LinearDataset, exe: Executable) {
  let sse = 0;
  let truth = 0;
  const byTime = new Float64Array(TIMES.length);
  let n = 0;
  for await (const b of ds.batches('test', 1000)) {
    const p = await exe.predict(b.x, b.size);
    for (let i = 0; i < p.length; i++) {
      const e = p[i]! - b.targets![i]!;
      sse += e * e;
      truth += b.targets![i]! ** 2;
      byTime[Math.floor(i / 2) % TIMES.length] += e * e;
    }
    n += b.size;
  }
  return { mse: sse / (n * TIMES.length * 2), relativeError: Math.sqrt(sse / truth), rmseByTime: Array.from(byTime, (v) => Math.sqrt(v / (n * 2))) };
}

describe('RegressionEvaluator', () => {
  it('the exact solution has MSE 0, RMSE 0, relative error 0 and a zero rollout error at every observation time', async () => {
    const ds = new LinearDataset(100);
    const exe = linearExecutable();
    const progress: [number, number][] = [];
    const r = await new RegressionEvaluator().evaluate(exe, ds, { ...base, onProgress: (d, t) => progress.push([d, t]) });
    expect(r.mse).toBe(0);
    expect(r.rmse).toBe(0);
    expect(r.relativeError).toBe(0);
    expect(r.errorByTime).toEqual({ times: TIMES, rmse: [0, 0, 0, 0, 0] });
    expect(r.topk).toEqual({});
    expect(r.samples).toBe(100);
    // read once; warm-up + 3 timed passes of 4 batches (32, 32, 32, 4)
    expect(ds.calls).toHaveLength(1);
    expect(ds.calls[0]!.split).toBe('test');
    expect(exe.calls).toBe(16);
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
    expect(r).not.toHaveProperty('speedup');
    // no lastStats: no NFE
    expect(r).not.toHaveProperty('nfe');
    expect(r).not.toHaveProperty('nfePerSample');
  });

  it('a perturbed solution: the known MSE, RMSE per observation time and relative error', async () => {
    const ds = new LinearDataset(50);
    const c = 0.01;
    const offset = (k: number) => c * (k + 1);
    const r = await new RegressionEvaluator().evaluate(linearExecutable({ offset }), ds, base);
    // state 0 is off by c (k + 1) at time index k, state 1 exact: squared error c²(k+1)² per sample and time, over d = 2 states
    const T = TIMES.length;
    const mse = TIMES.reduce((acc, _t, k) => acc + (c * (k + 1)) ** 2, 0) / (T * 2);
    expect(r.mse!).toBeCloseTo(mse, 7);
    expect(r.rmse!).toBeCloseTo(Math.sqrt(mse), 6);
    expect(r.errorByTime!.times).toEqual(TIMES);
    expect(r.errorByTime!.rmse).toHaveLength(T);
    r.errorByTime!.rmse.forEach((v, k) => expect(v).toBeCloseTo((c * (k + 1)) / Math.SQRT2, 6));
    // the rollout error grows with time here
    for (let k = 1; k < T; k++) expect(r.errorByTime!.rmse[k]!).toBeGreaterThan(r.errorByTime!.rmse[k - 1]!);
    // against a straightforward computation from the same float32 arrays
    const ref = await referenceErrors(ds, linearExecutable({ offset }));
    expect(r.mse!).toBeCloseTo(ref.mse, 12);
    expect(r.relativeError!).toBeCloseTo(ref.relativeError, 10);
    r.errorByTime!.rmse.forEach((v, k) => expect(v).toBeCloseTo(ref.rmseByTime[k]!, 10));
    expect(r.relativeError!).toBeGreaterThan(0);
  });

  it('NFE from lastStats: the sum over the warm-up batches, and per sample the mean of each solve’s NFE', async () => {
    const ds = new LinearDataset(100); // batches 32, 32, 32, 4
    // batch j of a pass reports nfe 10 (j + 1); later (timed) passes report other numbers, which must not count
    const stats = (call: number): SolveStats => ({ nfe: call < 4 ? 10 * (call + 1) : 999, accepted: 1, rejected: 0 });
    const r = await new RegressionEvaluator().evaluate(linearExecutable({ stats }), ds, base);
    expect(r.nfe).toBe(10 + 20 + 30 + 40);
    expect(r.nfePerSample).toBeCloseTo((10 * 32 + 20 * 32 + 30 * 32 + 40 * 4) / 100, 12);
    // a batch without stats: no NFE at all (not a partial sum)
    const partial = await new RegressionEvaluator().evaluate(linearExecutable({ stats: (call) => (call === 2 ? undefined : stats(call)) }), ds, base);
    expect(partial).not.toHaveProperty('nfe');
    expect(partial).not.toHaveProperty('nfePerSample');
  });

  it('keeps predicted and observed trajectories of the first test samples (3 by default, all states)', async () => {
    const ds = new LinearDataset(20);
    const r = await new RegressionEvaluator().evaluate(linearExecutable({ offset: () => 0.5 }), ds, { ...base, batch: 2 });
    const tr = r.trajectories!;
    expect(tr.samples).toEqual([0, 1, 2]);
    expect(tr.times).toEqual(TIMES);
    expect(tr.truth).toHaveLength(3);
    expect(tr.predicted).toHaveLength(3);
    for (const s of [0, 1, 2]) {
      expect(tr.truth[s]).toHaveLength(TIMES.length);
      TIMES.forEach((t, k) => {
        const y = exact(Array.from(Float32Array.from(x0Of(s))), t);
        expect(tr.truth[s]![k]).toHaveLength(2);
        expect(tr.truth[s]![k]![0]!).toBeCloseTo(y[0], 5);
        expect(tr.truth[s]![k]![1]!).toBeCloseTo(y[1], 5);
        expect(tr.predicted[s]![k]![0]!).toBeCloseTo(y[0] + 0.5, 5);
      });
    }
    const none = await new RegressionEvaluator({ trajectories: 0 }).evaluate(linearExecutable(), ds, base);
    expect(none).not.toHaveProperty('trajectories');
    const few = await new RegressionEvaluator({ trajectories: 5 }).evaluate(linearExecutable(), ds, { ...base, limit: 2 });
    expect(few.trajectories!.samples).toEqual([0, 1]);
  });

  it('timingLimit: the timed passes cover the first samples only; the errors all of them', async () => {
    const ds = new LinearDataset(100);
    const exe = linearExecutable({ offset: () => 0.1 });
    const r = await new RegressionEvaluator().evaluate(exe, ds, { ...base, repeats: 2, timingLimit: 40 });
    expect(r.samples).toBe(100);
    expect(r.timedSamples).toBe(40);
    expect(exe.sizes).toEqual([32, 32, 32, 4, 32, 8, 32, 8]);
    expect(r.mse!).toBeCloseTo(0.01 / 2, 7);
    expect(r.throughput).toBeCloseTo(40 / r.wallSeconds, 6);
  });

  it('limit and baselineSeconds', async () => {
    const ds = new LinearDataset(100);
    const r = await new RegressionEvaluator().evaluate(linearExecutable(), ds, { ...base, repeats: 1, limit: 10, baselineSeconds: 5 });
    expect(r.samples).toBe(10);
    expect(ds.calls[0]!.options).toEqual({ limit: 10 });
    expect(r.speedup).toBeCloseTo(5 / r.wallSeconds, 9);
  });

  describe('paired timing with a reference', () => {
    const passes = (log: string[], perPass: number): string => {
      const out: string[] = [];
      for (let i = 0; i < log.length; i += perPass) {
        const pass = log.slice(i, i + perPass);
        expect(new Set(pass).size).toBe(1);
        out.push(pass[0]!);
      }
      return out.join('');
    };

    it('warms both up, alternates the order, and returns index-aligned referenceTimings and the median paired speedup', async () => {
      const log: string[] = [];
      const ds = new LinearDataset(20); // 2 batches of 10
      const progress: [number, number][] = [];
      const reference = linearExecutable({ name: 'R', log, delayMs: 2 });
      const r = await new RegressionEvaluator().evaluate(linearExecutable({ name: 'M', log, offset: () => 0.2 }), ds, {
        repeats: 4,
        topk: [],
        batch: 10,
        reference,
        onProgress: (d, t) => progress.push([d, t]),
      });
      expect(passes(log, 2)).toBe('MR' + 'RM' + 'MR' + 'RM' + 'MR');
      expect(r.timings).toHaveLength(4);
      expect(r.referenceTimings).toHaveLength(4);
      expect(r.speedup).toBe(median(r.referenceTimings!.map((t, i) => t / r.timings[i]!)));
      expect(progress).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 10]));
      // the errors are the model's (from its warm-up pass), not the reference's
      expect(r.mse!).toBeCloseTo(0.04 / 2, 7);
    });

    it('SHAPE error naming the reference when its output has the wrong length; ARGUMENT for a non-executable', async () => {
      const ds = new LinearDataset(4);
      const bad = linearExecutable({ mutate: (o) => o.subarray(1) });
      const e = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), ds, { ...base, repeats: 1, batch: 4, reference: bad }));
      expect(e.code).toBe('SHAPE');
      expect(e.message).toMatch(/^the reference returned 39 values for a batch of 4 samples/);
      const a2 = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), ds, { ...base, reference: {} as Executable }));
      expect(a2.code).toBe('ARGUMENT');
      expect(a2.message).toMatch(/reference must be an Executable/);
    });
  });

  describe('a model with an input signal (an mlp block with Zin, simulated by core’s float64 simulateBlock)', () => {
    // x' = N tanh(M x + c + Zin u) + bias, n = 2, m = 3, p = 1; u held per step of 0.25 on [0, 1)
    const block: MlpBlock = {
      kind: 'mlp',
      n: 2,
      m: 3,
      M: { shape: [3, 2], data: Float32Array.from([0.5, -0.3, 0.2, 0.8, -0.6, 0.1]) },
      c: { shape: [3], data: Float32Array.from([0.1, 0, -0.1]) },
      N: { shape: [2, 3], data: Float32Array.from([-0.4, 0.3, 0.2, 0.1, -0.5, 0.3]) },
      bias: { shape: [2], data: Float32Array.from([0.05, -0.02]) },
      Zin: { shape: [3, 1], data: Float32Array.from([1, -0.5, 0.3]) },
      activation: 'tanh',
    };
    const steps = 4;
    const stepDt = 0.25;
    const times = [0.25, 0.5, 0.75, 1];
    const uOf = (i: number) => Float32Array.from({ length: steps }, (_, j) => Math.sin(i + j));
    const held = (u: ArrayLike<number>) => (t: number) => [u[Math.min(steps - 1, Math.max(0, Math.floor(t / stepDt + 1e-9)))]!];
    /** the states at `times` by simulateBlock, segment by segment */
    const trajectory = (x0: ArrayLike<number>, u: ArrayLike<number> | undefined, b: MlpBlock = block): number[] => {
      const out: number[] = [];
      let x = Array.from(x0);
      let t = 0;
      for (const t1 of times) {
        x = Array.from(simulateBlock(b, [x], { t0: t, t1, dt: 0.05, ...(u ? { input: held(u) } : {}) })[0]!);
        out.push(...x);
        t = t1;
      }
      return out;
    };
    const dataset: Dataset = {
      name: 'signal',
      info: {
        inputShape: [2],
        kind: 'trajectory',
        numClasses: 0,
        task: 'regression',
        targetShape: [times.length, 2],
        times,
        t0: 0,
        signal: { steps, channels: 1, dt: stepDt },
        trainSize: 6,
        testSize: 6,
      },
      async *batches(_split, batch, options) {
        const n = Math.min(6, options?.limit ?? 6);
        for (let s = 0; s < n; s += batch) {
          const size = Math.min(batch, n - s);
          const x = new Float32Array(size * 2);
          const u = new Float32Array(size * steps);
          const targets = new Float32Array(size * times.length * 2);
          for (let i = 0; i < size; i++) {
            x.set([0.3 * (s + i), -0.2 + 0.1 * (s + i)], 2 * i);
            u.set(uOf(s + i), i * steps);
            targets.set(trajectory(x.subarray(2 * i, 2 * i + 2), u.subarray(i * steps, (i + 1) * steps)), i * times.length * 2);
          }
          yield { x, y: new Int32Array(0), size, targets, u };
        }
      },
    };
    /** predicts with simulateBlock; records the `u` it was given; `ignoreU` drops it */
    const simulated = (opts: { ignoreU?: boolean; block?: MlpBlock } = {}) => {
      const seen: (number | undefined)[] = [];
      const exe: Executable = {
        info: { runtime: 'float64', backend: 'js' },
        async predict(x, batch, inputs) {
          seen.push(inputs?.u?.length);
          const out = new Float32Array(batch * times.length * 2);
          for (let i = 0; i < batch; i++) {
            const u = opts.ignoreU ? undefined : inputs!.u!.subarray(i * steps, (i + 1) * steps);
            out.set(trajectory(x.subarray(2 * i, 2 * i + 2), u, opts.block), i * times.length * 2);
          }
          return out;
        },
        dispose() {},
      };
      return { exe, seen };
    };

    it('passes each batch’s u to predict (every pass, timed ones and their cut batches included): the same simulation has MSE 0', async () => {
      const { exe, seen } = simulated();
      const r = await new RegressionEvaluator().evaluate(exe, dataset, { repeats: 2, topk: [], batch: 4, timingLimit: 5 });
      expect(r.mse).toBe(0);
      expect(r.errorByTime!.rmse).toEqual([0, 0, 0, 0]);
      // warm-up 4 + 2; timed 4 + 1 (cut to the first 5 samples), twice
      expect(seen).toEqual([16, 8, 16, 4, 16, 4]);
    });

    it('a model that ignores the input, or has another bias, has a positive error, equal to an independent computation', async () => {
      const ignoring = await new RegressionEvaluator().evaluate(simulated({ ignoreU: true }).exe, dataset, { repeats: 1, topk: [], batch: 6 });
      expect(ignoring.mse!).toBeGreaterThan(1e-6);
      const other: MlpBlock = { ...block, bias: { shape: [2], data: Float32Array.from([0.1, -0.02]) } };
      const r = await new RegressionEvaluator().evaluate(simulated({ block: other }).exe, dataset, { repeats: 1, topk: [], batch: 6 });
      let sse = 0;
      const byTime = [0, 0, 0, 0];
      for await (const b of dataset.batches('test', 6)) {
        for (let i = 0; i < b.size; i++) {
          const p = Float32Array.from(trajectory(b.x.subarray(2 * i, 2 * i + 2), b.u!.subarray(i * steps, (i + 1) * steps), other));
          for (let j = 0; j < p.length; j++) {
            const e = p[j]! - b.targets![i * 8 + j]!;
            sse += e * e;
            byTime[Math.floor(j / 2)] += e * e;
          }
        }
      }
      expect(r.mse!).toBeCloseTo(sse / (6 * 8), 12);
      r.errorByTime!.rmse.forEach((v, k) => expect(v).toBeCloseTo(Math.sqrt(byTime[k]! / 12), 12));
      // a constant bias error in state 0 makes the error grow along the rollout
      expect(r.errorByTime!.rmse[3]!).toBeGreaterThan(r.errorByTime!.rmse[0]!);
    });

    it('DATA error for a batch without its u', async () => {
      const noU: Dataset = {
        ...dataset,
        async *batches(split, batch, options) {
          for await (const b of dataset.batches(split, batch, options)) yield { x: b.x, y: b.y, size: b.size, targets: b.targets! };
        },
      };
      const e = await errorOf(new RegressionEvaluator().evaluate(simulated().exe, noU, { repeats: 1, topk: [], batch: 6 }));
      expect(e.code).toBe('DATA');
      expect(e.message).toMatch(/dataset signal yielded a malformed test batch: size 6, no input-signal values \(expected 6 × 4 steps × 1 channels = 24\)/);
    });
  });

  describe('errors', () => {
    it('CONFIG for a classification dataset, naming it and suggesting classification', async () => {
      const cls: Dataset = {
        name: 'spirals',
        info: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 1, testSize: 1 },
        async *batches() {
          yield { x: new Float32Array(2), y: new Int32Array(1), size: 1 };
        },
      };
      const e = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), cls, base));
      expect(e.code).toBe('CONFIG');
      expect(e.message).toMatch(/dataset spirals is not a regression dataset/);
      expect(e.message).toMatch(/evaluate\.use: classification/);
    });

    it('SHAPE error naming the expected [B, T·d] when the predictions have the wrong length (warm-up or timed pass)', async () => {
      const ds = new LinearDataset(20);
      const e = await errorOf(new RegressionEvaluator().evaluate(linearExecutable({ mutate: (o) => o.subarray(2) }), ds, { ...base, batch: 8 }));
      expect(e.code).toBe('SHAPE');
      expect(e.message).toMatch(/^the executable returned 78 values for a batch of 8 samples \(samples 0–7\)/);
      expect(e.message).toMatch(/expected \[B, T·d\] = \[8, 5·2\] = 80/);
      const later = await errorOf(new RegressionEvaluator().evaluate(linearExecutable({ mutate: (o, call) => (call >= 3 ? o.subarray(1) : o) }), ds, { ...base, batch: 8 }));
      expect(later.code).toBe('SHAPE');
    });

    it('NUMERIC for a non-finite prediction, DATA for missing targets or an empty split, CONFIG for bad options', async () => {
      const ds = new LinearDataset(20);
      const nan = await errorOf(
        new RegressionEvaluator().evaluate(
          linearExecutable({
            mutate: (o) => {
              o[3] = Number.NaN;
              return o;
            },
          }),
          ds,
          base,
        ),
      );
      expect(nan.code).toBe('NUMERIC');
      expect(nan.message).toMatch(/predicted state 1 of sample 0 at time index 1 \(t = 0.4\) is NaN/);
      const inf = await errorOf(
        new RegressionEvaluator().evaluate(
          linearExecutable({
            mutate: (o) => {
              o[0] = Number.POSITIVE_INFINITY;
              return o;
            },
          }),
          ds,
          base,
        ),
      );
      expect(inf.code).toBe('NUMERIC');
      const noTargets: Dataset = {
        name: 'bare',
        info: ds.info,
        async *batches() {
          yield { x: new Float32Array(2), y: new Int32Array(0), size: 1 };
        },
      };
      const d = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), noTargets, base));
      expect(d.code).toBe('DATA');
      expect(d.message).toMatch(/dataset bare yielded a malformed test batch: size 1, no targets \(expected 1 × 10 = 10 for target shape \[5, 2\]\)/);
      expect((await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), new LinearDataset(0), base))).code).toBe('DATA');
      const noShape: Dataset = { name: 'shapeless', info: { ...ds.info, targetShape: undefined }, batches: ds.batches.bind(ds) };
      const s = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), noShape, base));
      expect(s.code).toBe('DATA');
      expect(s.message).toMatch(/shapeless.*without a valid targetShape/);
      for (const [o, re] of [
        [{ repeats: 0 }, /evaluate.repeats must be a positive integer, got 0/],
        [{ batch: 1.5 }, /evaluate.batch/],
        [{ limit: -1 }, /evaluate.limit/],
        [{ timingLimit: 0 }, /evaluate.timingLimit/],
      ] as [Partial<EvaluateOptions>, RegExp][]) {
        const e = await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), ds, { ...base, ...o }));
        expect(e.code).toBe('CONFIG');
        expect(e.message).toMatch(re);
      }
      expect((await errorOf(new RegressionEvaluator().evaluate(linearExecutable(), ds, { ...base, baselineSeconds: -1 }))).code).toBe('ARGUMENT');
      expect(() => new RegressionEvaluator({ trajectories: -1 })).toThrow(/trajectories must be an integer in \[0, 100\]/);
    });
  });
});

describe('plugin', () => {
  it('provides the regression evaluator with its option schema', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/evaluator-regression');
    expect(exp.names('Evaluator')).toEqual(['regression']);
    const ev = exp.factory('Evaluator', 'regression')({});
    expect(ev.name).toBe('regression');
    expect(ev).toBeInstanceOf(RegressionEvaluator);
    expect((exp.factory('Evaluator', 'regression')({ trajectories: 1 }) as RegressionEvaluator).trajectories).toBe(1);
    expect(() => exp.factory('Evaluator', 'regression')({ repeats: 3 })).toThrow(/unknown option 'repeats' of the regression evaluator/);
    expect(exp.provision('Evaluator', 'regression')?.options).toBe(regressionOptionsSchema);
    expect(regressionOptionsSchema.safeParse({ trajectories: 3 }).success).toBe(true);
    expect(regressionOptionsSchema.safeParse({ trajectories: 101 }).success).toBe(false);
    expect(regressionOptionsSchema.safeParse({ ties: 'index' }).success).toBe(false);
  });
});

/**
 * Conformance suite for odemor `Evaluator` implementations, in the style of keyv's `@keyv/test-suite`: a
 * package's own test file is two lines,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { evaluatorConformance } from '@odemor/conformance';
 * import { RegressionEvaluator } from '../src/index.js';
 * evaluatorConformance(it, () => new RegressionEvaluator(), { supports: { task: 'regression' } });
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's, and failures name the case and
 * the field (`regression evaluator 'regression', trajectory dataset, offset executable: errorByTime.rmse[2]:
 * expected 0.375 ± 3.75e-7, got 0.5`). Everything is built in the kit, no runtime is needed: fake executables (pure
 * functions of the batch, which record every `predict` and `dispose`) and two or three tiny datasets with exact
 * answers.
 *
 * - Classification (`supports.task: 'classification'`): a dataset of 29 test samples in 4 classes of unequal
 *   frequency (the label is written into the input), and a train split of other labels, so an evaluator that
 *   reads the wrong split is caught. A perfect executable (one-hot logits at the label) gives top-1 = 1; a
 *   constant one (the same distinct logits for every sample) gives, for each k, the frequency of its k best
 *   classes; seeded pseudo-random logits give top-k non-decreasing in k, and top-numClasses = 1.
 * - Regression (`supports.task: 'regression'`): a trajectory dataset (2 states at 4 observation times after
 *   t0 = 0, with an input signal of 3 steps) of 13 test samples, and a plain regression dataset (targets [3], no
 *   times). An exact executable (it recomputes the targets from x and u, and fails when `u` is not passed) gives
 *   mse 0; an executable off by δ_k = (k + 1)/8 at observation time k gives the mse, rmse and relative error the
 *   kit computes in float64 from exactly the values it returned, and `errorByTime.rmse[k] = δ_k` at the dataset's
 *   `times`. An executable that reports `lastStats` gives `nfe` (the sum over the batches of the metrics' pass)
 *   and `nfePerSample`. `topk` is `{}`.
 * - Both: `repeats` timed passes (`timings.length`), `wallSeconds` their median, `throughput = timedSamples /
 *   wallSeconds` (`samples` when `timedSamples` is absent), `samples` the test samples evaluated; `limit` (the
 *   executable sees no sample after the first `limit`, and the metrics are theirs) and `timingLimit` (`timedSamples`,
 *   the metrics still over all samples); paired timing with `reference` (`referenceTimings` index-aligned with
 *   `timings`, `speedup` the median of the ratios, the metrics the executable's) and `baselineSeconds` (`speedup =
 *   baselineSeconds / wallSeconds`); `onProgress(done, total)` counting passes one by one up to `total`; an
 *   executable returning the wrong number of values, or a NaN, is an `OdemorError`; a dataset of the other task is
 *   refused with an `OdemorError`; neither the executable nor the reference is ever disposed.
 *
 * Timing values are never compared with wall-clock expectations (the fakes take microseconds), only with each
 * other as the result's own definitions require.
 */
import { describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import {
  median,
  OdemorError,
  type Batch,
  type BatchOptions,
  type Dataset,
  type DatasetInfo,
  type EvaluateOptions,
  type EvaluationResult,
  type Evaluator,
  type Executable,
  type SolveStats,
  type Split,
} from '@odemor/core';
import { checker, show, type Checker } from './check.js';
import type { ConformanceIt } from './solver.js';

/** What the evaluator under test does. */
export interface EvaluatorCapabilities {
  /** which half of the suite runs: the evaluator's task (required) */
  task: 'classification' | 'regression';
  /** paired timing with `reference` (default true) */
  reference?: boolean;
  /** `speedup` from `baselineSeconds` (default true) */
  baseline?: boolean;
  /** honours `limit` (default true) */
  limit?: boolean;
  /** honours `timingLimit` (default true) */
  timingLimit?: boolean;
  /** calls `onProgress` (default true) */
  progress?: boolean;
  /** refuses a dataset of the other task with an `OdemorError` (default true) */
  refusesOtherTask?: boolean;
  /** regression: reports `nfe` and `nfePerSample` from the executable's `lastStats` (default true) */
  nfe?: boolean;
  /** regression: accepts a plain regression dataset (targets without observation times; default true) */
  plainRegression?: boolean;
}

/** Options of {@link evaluatorConformance}. */
export interface EvaluatorConformanceOptions {
  supports: EvaluatorCapabilities;
  /** title of the `describe` block; default `<task> evaluator '<name>' conformance` */
  title?: string;
  /** wrap the tests in a `describe` block (default true); false registers them with `it` directly */
  group?: boolean;
  /** per-test timeout in milliseconds (default: the runner's) */
  timeout?: number;
}

// ───────────────────────────── fake executables ─────────────────────────────

/** One recorded `predict` call. */
export interface PredictCall {
  x: Float32Array;
  batch: number;
  u?: Float32Array;
}

/**
 * An `Executable` that computes its output with `fn` and records every `predict` (a copy of the inputs) and
 * every `dispose`. Each call spins for `spinMicros` (default 20 µs) so a pass never takes zero time.
 */
export class FakeExecutable implements Executable {
  readonly info = { runtime: 'conformance-fake', backend: 'js' };
  readonly calls: PredictCall[] = [];
  disposed = 0;
  lastStats?: SolveStats;

  /**
   * @param compute the output of a batch (a pure function: the kit also calls it for expected values)
   */
  constructor(
    readonly compute: (x: Float32Array, batch: number, u: Float32Array | undefined) => Float32Array,
    private readonly options: { spinMicros?: number; nfe?: (batch: number) => number } = {},
  ) {}

  async predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array> {
    this.calls.push({ x: x.slice(), batch, ...(inputs?.u ? { u: inputs.u.slice() } : {}) });
    const until = process.hrtime.bigint() + BigInt(Math.round((this.options.spinMicros ?? 20) * 1000));
    while (process.hrtime.bigint() < until) {
      /* spin */
    }
    await Promise.resolve();
    const out = this.compute(x, batch, inputs?.u);
    if (this.options.nfe) this.lastStats = { nfe: this.options.nfe(batch), accepted: 1, rejected: 0 };
    return out;
  }

  /** samples predicted over all calls */
  get predicted(): number {
    return this.calls.reduce((a, c) => a + c.batch, 0);
  }

  dispose(): void {
    this.disposed++;
  }
}

// ───────────────────────────── in-kit datasets ─────────────────────────────

/** A dataset over fixed arrays per split (copies in every batch; honours `limit`). */
class ArrayDataset implements Dataset {
  constructor(
    readonly name: string,
    readonly info: DatasetInfo,
    private readonly data: Record<Split, { x: Float32Array; y: Int32Array; targets?: Float32Array; u?: Float32Array }>,
  ) {}

  async *batches(split: Split, batchSize: number, options: BatchOptions = {}): AsyncGenerator<Batch> {
    if (split !== 'train' && split !== 'test') throw new OdemorError('ARGUMENT', `split must be 'train' or 'test', got ${show(split)}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new OdemorError('ARGUMENT', `batch size must be a positive integer, got ${show(batchSize)}`);
    const d = this.data[split];
    const total = split === 'train' ? this.info.trainSize : this.info.testSize;
    const n = Math.min(total, options.limit ?? total);
    const px = prod(this.info.inputShape);
    const pt = this.info.targetShape ? prod(this.info.targetShape) : 0;
    const pu = this.info.signal ? this.info.signal.steps * this.info.signal.channels : 0;
    for (let s = 0; s < n; s += batchSize) {
      const size = Math.min(batchSize, n - s);
      yield {
        x: d.x.slice(s * px, (s + size) * px),
        y: d.y.length ? d.y.slice(s, s + size) : new Int32Array(0),
        size,
        ...(d.targets ? { targets: d.targets.slice(s * pt, (s + size) * pt) } : {}),
        ...(d.u ? { u: d.u.slice(s * pu, (s + size) * pu) } : {}),
      };
    }
  }
}

const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const f = Math.fround;

/** Classification fixture: 4 classes, label i ↦ LABELS[i % 10]; x = [label, i, (7 i) mod 5]. */
const CLASSES = 4;
const LABEL_CYCLE = [0, 1, 1, 2, 2, 2, 3, 3, 3, 3];
const CLS_TEST = 29;
const CLS_TRAIN = 5;
/** the constant executable's logits: class order 1 > 2 > 3 > 0 */
const CONSTANT_LOGITS = [0.1, 0.4, 0.3, 0.2];
const CONSTANT_ORDER = [1, 2, 3, 0];

function classificationDataset(): ArrayDataset {
  const split = (n: number, label: (i: number) => number) => {
    const y = Int32Array.from({ length: n }, (_, i) => label(i));
    const x = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) x.set([y[i]!, i, (7 * i) % 5], 3 * i);
    return { x, y };
  };
  return new ArrayDataset(
    'conformance-classes',
    { inputShape: [3], kind: 'vector', numClasses: CLASSES, trainSize: CLS_TRAIN, testSize: CLS_TEST },
    // the train split is all class 0: an evaluator that reads it gets other accuracies
    { test: split(CLS_TEST, (i) => LABEL_CYCLE[i % 10]!), train: split(CLS_TRAIN, () => 0) },
  );
}

/** Regression fixture (trajectory): d = 2 states at TIMES after t0 = 0, u of 3 steps × 1 channel. */
const TIMES = [0.25, 0.5, 1, 2];
const D = 2;
const SIGNAL = { steps: 3, channels: 1, dt: 0.5 };
const REG_TEST = 13;
const REG_TRAIN = 4;
/** the offset executable's error at observation time k */
const delta = (k: number) => (k + 1) / 8;

/** The exact trajectory of sample with initial state x and signal u, [T, d] (float32 values). */
function trajectory(x: ArrayLike<number>, u: ArrayLike<number>): Float32Array {
  const out = new Float32Array(TIMES.length * D);
  TIMES.forEach((t, k) => {
    for (let j = 0; j < D; j++) out[k * D + j] = f(x[j]! * Math.exp(-t) + u[0]! * t * (j + 1) + u[2]! * t * t);
  });
  return out;
}

function trajectoryDataset(): ArrayDataset {
  const split = (n: number, shift: number) => {
    const x = new Float32Array(n * D);
    const u = new Float32Array(n * SIGNAL.steps);
    const targets = new Float32Array(n * TIMES.length * D);
    for (let i = 0; i < n; i++) {
      x.set([f(Math.sin(i + 1 + shift)), f(Math.cos(2 * i + shift))], i * D);
      u.set([f(0.1 * i), f(-0.2), f(0.3 * (i % 3) - 0.25)], i * SIGNAL.steps);
      targets.set(trajectory(x.subarray(i * D, (i + 1) * D), u.subarray(i * SIGNAL.steps, (i + 1) * SIGNAL.steps)), i * TIMES.length * D);
    }
    return { x, y: new Int32Array(0), targets, u };
  };
  return new ArrayDataset(
    'conformance-trajectories',
    {
      inputShape: [D],
      kind: 'trajectory',
      numClasses: 0,
      task: 'regression',
      targetShape: [TIMES.length, D],
      times: [...TIMES],
      t0: 0,
      signal: { ...SIGNAL },
      trainSize: REG_TRAIN,
      testSize: REG_TEST,
    },
    { test: split(REG_TEST, 0), train: split(REG_TRAIN, 100) },
  );
}

/** Plain regression fixture: x ∈ R², targets [x0 + x1, x0 − x1, x0 · x1]. */
const PLAIN_TEST = 10;
const plainTarget = (x: ArrayLike<number>) => [f(x[0]! + x[1]!), f(x[0]! - x[1]!), f(x[0]! * x[1]!)];

function plainDataset(): ArrayDataset {
  const split = (n: number, shift: number) => {
    const x = new Float32Array(n * 2);
    const targets = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      x.set([f(0.5 * i - 2 + shift), f(Math.cos(i + shift))], 2 * i);
      targets.set(plainTarget(x.subarray(2 * i, 2 * i + 2)), 3 * i);
    }
    return { x, y: new Int32Array(0), targets };
  };
  return new ArrayDataset(
    'conformance-plain-regression',
    { inputShape: [2], kind: 'vector', numClasses: 0, task: 'regression', targetShape: [3], trainSize: 3, testSize: PLAIN_TEST },
    { test: split(PLAIN_TEST, 0), train: split(3, 7) },
  );
}

/** The test split of a fixture, as one list of batches of 1 (for expected values). */
async function testSamples(ds: Dataset): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches('test', 1)) out.push(b);
  return out;
}

// ───────────────────────────── executables of the fixtures ─────────────────────────────

const perfectClassifier = () =>
  new FakeExecutable((x, batch) => {
    const out = new Float32Array(batch * CLASSES);
    for (let i = 0; i < batch; i++) out[i * CLASSES + Math.round(x[3 * i]!)] = 1;
    return out;
  });
const constantClassifier = (spinMicros?: number) =>
  new FakeExecutable((_x, batch) => {
    const out = new Float32Array(batch * CLASSES);
    for (let i = 0; i < batch; i++) out.set(CONSTANT_LOGITS, i * CLASSES);
    return out;
  }, spinMicros === undefined ? {} : { spinMicros });
/** logits from a hash of the sample's index: distinct values, no ties */
const noisyClassifier = () =>
  new FakeExecutable((x, batch) => {
    const out = new Float32Array(batch * CLASSES);
    for (let i = 0; i < batch; i++) {
      const idx = x[3 * i + 1]!;
      for (let c = 0; c < CLASSES; c++) out[i * CLASSES + c] = (((idx + 3) * 2654435761 * (c + 1)) % 1000) / 1000 + c * 1e-4;
    }
    return out;
  });

const exactTrajectories = (options: { spinMicros?: number; nfe?: (batch: number) => number } = {}) =>
  new FakeExecutable((x, batch, u) => {
    if (!u) throw new Error('the evaluator did not pass the batch input signal u (inputs.u) to predict');
    const per = TIMES.length * D;
    const out = new Float32Array(batch * per);
    for (let i = 0; i < batch; i++) out.set(trajectory(x.subarray(i * D, (i + 1) * D), u.subarray(i * SIGNAL.steps, (i + 1) * SIGNAL.steps)), i * per);
    return out;
  }, options);
const offsetTrajectories = () =>
  new FakeExecutable((x, batch, u) => {
    if (!u) throw new Error('the evaluator did not pass the batch input signal u (inputs.u) to predict');
    const per = TIMES.length * D;
    const out = new Float32Array(batch * per);
    for (let i = 0; i < batch; i++) {
      const t = trajectory(x.subarray(i * D, (i + 1) * D), u.subarray(i * SIGNAL.steps, (i + 1) * SIGNAL.steps));
      for (let k = 0; k < TIMES.length; k++) for (let j = 0; j < D; j++) out[i * per + k * D + j] = t[k * D + j]! + delta(k);
    }
    return out;
  });
const plainRegressor = (offset: number) =>
  new FakeExecutable((x, batch) => {
    const out = new Float32Array(batch * 3);
    for (let i = 0; i < batch; i++) out.set(plainTarget(x.subarray(2 * i, 2 * i + 2)).map((v) => v + offset * (x[2 * i + 1]! > 0 ? 1 : -1)), 3 * i);
    return out;
  });

/** An executable that returns `base`'s output with one value fewer, or with a NaN in its second call. */
const broken = (base: () => FakeExecutable, how: 'short' | 'nan') => {
  const inner = base();
  let call = 0;
  return new FakeExecutable((x, batch, u) => {
    const out = inner.compute(x, batch, u).slice();
    call++;
    if (how === 'short') return out.subarray(0, out.length - 1);
    if (call === 2) out[out.length - 1] = Number.NaN;
    return out;
  });
};

// ───────────────────────────── expected regression metrics ─────────────────────────────

/** The metrics of predictions `pred` against targets `truth`, both [n, T, d], in float64. */
function expectedMetrics(pred: Float32Array, truth: Float32Array, n: number, T: number, d: number) {
  let se = 0;
  let tt = 0;
  const byTime = new Float64Array(T);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < T; k++) {
      for (let j = 0; j < d; j++) {
        const at = (i * T + k) * d + j;
        const e = pred[at]! - truth[at]!;
        se += e * e;
        byTime[k] = byTime[k]! + e * e;
        tt += truth[at]! * truth[at]!;
      }
    }
  }
  const mse = se / (n * T * d);
  return { mse, rmse: Math.sqrt(mse), relativeError: Math.sqrt(se) / Math.sqrt(tt), rmseByTime: Array.from(byTime, (s) => Math.sqrt(s / (n * d))) };
}

const concat = (parts: readonly Float32Array[]) => {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

// ───────────────────────────── the suite ─────────────────────────────

const BATCH = 4;
const errorText = (e: unknown) => (e === undefined ? 'nothing thrown' : e instanceof Error ? `${e.name}: ${e.message}` : show(e));
const relTol = (v: number, rel = 1e-9) => Math.max(1e-12, Math.abs(v) * rel);

/**
 * Register the evaluator conformance tests with `it` (vitest's `it`). `factory()` must return a fresh evaluator;
 * `options.supports.task` selects the classification or the regression half.
 */
export function evaluatorConformance(it: ConformanceIt, factory: () => Evaluator, options: EvaluatorConformanceOptions): void {
  const task = options.supports?.task;
  if (task !== 'classification' && task !== 'regression') {
    throw new Error(`evaluatorConformance: supports.task must be 'classification' or 'regression', got ${show(task)}`);
  }
  const sup = { reference: true, baseline: true, limit: true, timingLimit: true, progress: true, refusesOtherTask: true, nfe: true, plainRegression: true, ...options.supports };
  const probe = factory();
  const title = options.title ?? `${task} evaluator '${probe.name}' conformance`;
  const regression = task === 'regression';
  const test = (name: string, fn: (expect: ExpectStatic) => Promise<void>) => it(name, async ({ expect }) => fn(expect), options.timeout);

  /** the task's main dataset, its size and a good and a worse executable */
  const main = () => (regression ? trajectoryDataset() : classificationDataset());
  const mainSize = regression ? REG_TEST : CLS_TEST;
  const good = (o: { spinMicros?: number } = {}) => (regression ? exactTrajectories(o) : perfectClassifier());
  const worse = (spinMicros?: number) => (regression ? offsetTrajectories() : constantClassifier(spinMicros));
  const baseOptions = (o: Partial<EvaluateOptions> = {}): EvaluateOptions => ({ repeats: 3, topk: regression ? [] : [1, 2], batch: BATCH, ...o });
  const caseName = (dataset: string, exe: string, o: Partial<EvaluateOptions>) => {
    const shown = Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'reference' && k !== 'onProgress'));
    return `${task} evaluator '${probe.name}', ${dataset}, ${exe}, ${show(shown)}${o.reference ? ' with a reference' : ''}`;
  };
  const evaluate = async (exe: Executable, ds: Dataset, o: EvaluateOptions) => factory().evaluate(exe, ds, o);
  const notDisposed = (c: Checker, ...exes: FakeExecutable[]) => exes.forEach((e, i) => c.is(`${i === 0 ? 'executable' : 'reference'}: dispose() calls (the evaluator must not dispose it)`, e.disposed, 0));
  /** the result's metrics for a good executable: top-1 = 1, or mse 0 */
  const goodMetrics = (c: Checker, r: EvaluationResult) => {
    if (regression) c.near('mse (an exact executable)', r.mse ?? Number.NaN, 0, 1e-12);
    else c.near('topk[1] (a perfect executable)', r.topk[1] ?? Number.NaN, 1, 1e-12);
  };
  /** the common timing fields */
  const checkTiming = (c: Checker, r: EvaluationResult, repeats: number, samples: number, timed: number) => {
    c.is('samples', r.samples, samples);
    c.is('timings.length (one per timed pass)', r.timings?.length, repeats);
    c.ok('timings', r.timings.every((t) => Number.isFinite(t) && t > 0), `expected positive finite seconds, got ${show(r.timings)}`);
    c.near('wallSeconds (the median of timings)', r.wallSeconds, median(r.timings), relTol(r.wallSeconds, 1e-12));
    c.is('timedSamples ?? samples', r.timedSamples ?? r.samples, timed);
    if (timed === samples) c.ok('timedSamples', r.timedSamples === undefined || r.timedSamples === samples, `expected none or ${samples}, got ${show(r.timedSamples)}`);
    c.near('throughput (timedSamples / wallSeconds)', r.throughput, timed / r.wallSeconds, relTol(r.throughput));
  };
  /** the executable saw only the first `count` samples of the test split (by x, in order of first appearance), each at least once */
  const sawFirst = async (c: Checker, exe: FakeExecutable, ds: Dataset, count: number) => {
    const px = prod(ds.info.inputShape);
    const all = await testSamples(ds);
    const key = (a: Float32Array, i: number) => Array.from(a.subarray(i * px, (i + 1) * px)).join(',');
    const allowed = new Map(all.slice(0, count).map((b, i) => [key(b.x, 0), i] as const));
    const seen = new Set<number>();
    for (const call of exe.calls) {
      c.atMost('predict batch size (at most options.batch)', call.batch, BATCH);
      for (let i = 0; i < call.batch; i++) {
        const at = allowed.get(key(call.x, i));
        if (at === undefined) c.ok('predict inputs', false, `got a sample that is not one of the first ${count} test samples: x = [${key(call.x, i)}]`);
        seen.add(at!);
      }
    }
    c.is('distinct test samples predicted', seen.size, count);
  };

  const register = () => {
    test('declares a name', async (expect) => {
      const e = factory();
      checker(expect, `${task} evaluator`).ok('name', typeof e.name === 'string' && e.name.length > 0, `expected a non-empty string, got ${show(e.name)}`);
    });

    // ───────────── metrics ─────────────

    if (!regression) {
      test('a perfect executable gives top-k = 1, a constant one the frequencies of its best classes', async (expect) => {
        const ds = classificationDataset();
        const labels = Array.from({ length: CLS_TEST }, (_, i) => LABEL_CYCLE[i % 10]!);
        const o = baseOptions({ topk: [1, 2, 3, 4] });
        const perfect = perfectClassifier();
        const r = await evaluate(perfect, ds, o);
        const c = checker(expect, caseName(ds.name, 'perfect executable', o));
        for (const k of [1, 2, 3, 4]) c.near(`topk[${k}]`, r.topk[k] ?? Number.NaN, 1, 1e-12);
        c.equal('topk keys', Object.keys(r.topk).map(Number).sort(), [1, 2, 3, 4]);
        checkTiming(c, r, o.repeats, CLS_TEST, CLS_TEST);
        notDisposed(c, perfect);
        const constant = constantClassifier();
        const rc = await evaluate(constant, ds, o);
        const cc = checker(expect, caseName(ds.name, `constant executable (logits ${show(CONSTANT_LOGITS)})`, o));
        for (const k of [1, 2, 3, 4]) {
          const best = new Set(CONSTANT_ORDER.slice(0, k));
          const want = labels.filter((y) => best.has(y)).length / CLS_TEST;
          cc.near(`topk[${k}] (the frequency of classes ${[...best].join(', ')} in the test split)`, rc.topk[k] ?? Number.NaN, want, 1e-12);
        }
        notDisposed(cc, constant);
      });

      test('top-k is non-decreasing in k and reaches 1 at k = numClasses', async (expect) => {
        const ds = classificationDataset();
        const o = baseOptions({ topk: [4, 2, 1, 3] });
        const exe = noisyClassifier();
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'pseudo-random logits', o));
        for (const k of [1, 2, 3, 4]) c.ok(`topk[${k}]`, typeof r.topk[k] === 'number' && r.topk[k]! >= 0 && r.topk[k]! <= 1, `expected a fraction in [0, 1], got ${show(r.topk[k])}`);
        for (const k of [2, 3, 4]) c.atLeast(`topk[${k}] (≥ topk[${k - 1}])`, r.topk[k]!, r.topk[k - 1]!);
        c.near('topk[4] (all classes)', r.topk[4]!, 1, 1e-12);
        c.ok('topk[1]', r.topk[1]! < 1, `the fixture's pseudo-random logits are not all right; got ${show(r.topk[1])}`);
      });
    } else {
      test('an exact executable gives mse 0; one off by δ_k at time k the known mse, rmse, relative error and errorByTime', async (expect) => {
        const ds = trajectoryDataset();
        const o = baseOptions();
        const exact = exactTrajectories();
        const r = await evaluate(exact, ds, o);
        const c = checker(expect, caseName(ds.name, 'exact executable', o));
        c.near('mse', r.mse ?? Number.NaN, 0, 1e-12);
        c.near('rmse', r.rmse ?? Number.NaN, 0, 1e-6);
        c.near('relativeError', r.relativeError ?? Number.NaN, 0, 1e-6);
        c.equal('topk (a regression evaluator)', r.topk, {});
        c.equal('errorByTime.times (the dataset times)', r.errorByTime?.times, TIMES);
        c.is('errorByTime.rmse.length', r.errorByTime?.rmse.length, TIMES.length);
        checkTiming(c, r, o.repeats, REG_TEST, REG_TEST);
        notDisposed(c, exact);

        const offset = offsetTrajectories();
        const ro = await evaluate(offset, ds, o);
        const co = checker(expect, caseName(ds.name, 'offset executable (δ_k = (k + 1)/8 at time k)', o));
        const truth = concat((await testSamples(ds)).map((b) => b.targets!));
        // the offset executable's outputs, sample by sample (a pure function of x and u)
        const pred = concat((await testSamples(ds)).map((b) => offset.compute(b.x, 1, b.u)));
        const want = expectedMetrics(pred, truth, REG_TEST, TIMES.length, D);
        co.near('mse', ro.mse ?? Number.NaN, want.mse, relTol(want.mse));
        co.near('rmse', ro.rmse ?? Number.NaN, want.rmse, relTol(want.rmse));
        co.near('relativeError', ro.relativeError ?? Number.NaN, want.relativeError, relTol(want.relativeError));
        co.equal('errorByTime.times', ro.errorByTime?.times, TIMES);
        want.rmseByTime.forEach((v, k) => {
          co.near(`errorByTime.rmse[${k}] (at t = ${TIMES[k]})`, ro.errorByTime?.rmse[k] ?? Number.NaN, v, relTol(v));
          co.near(`errorByTime.rmse[${k}] (δ_${k})`, ro.errorByTime!.rmse[k]!, delta(k), 1e-5);
        });
        if (ro.trajectories) {
          const tr = ro.trajectories;
          const ct = co.at('trajectories');
          ct.equal('times', tr.times, TIMES);
          ct.ok('samples', tr.samples.every((s, i) => Number.isInteger(s) && s >= 0 && s < REG_TEST && (i === 0 || s > tr.samples[i - 1]!)), `expected increasing test-sample indices, got ${show(tr.samples)}`);
          tr.samples.forEach((s, i) => {
            for (let k = 0; k < TIMES.length; k++) {
              for (let j = 0; j < D; j++) {
                const v = truth[(s * TIMES.length + k) * D + j]!;
                ct.near(`truth[${i}][${k}][${j}] (sample ${s})`, tr.truth[i]?.[k]?.[j] ?? Number.NaN, v, 1e-6 * Math.max(1, Math.abs(v)));
                ct.near(`predicted[${i}][${k}][${j}] (sample ${s})`, tr.predicted[i]?.[k]?.[j] ?? Number.NaN, v + delta(k), 1e-6 * Math.max(1, Math.abs(v) + 1));
              }
            }
          });
        }
        notDisposed(co, offset);
      });

      if (sup.plainRegression) {
        test('a plain regression dataset (targets [3], no times): mse 0 when exact, the known mse when off by ±0.25', async (expect) => {
          const ds = plainDataset();
          const o = baseOptions();
          const exact = plainRegressor(0);
          const r = await evaluate(exact, ds, o);
          const c = checker(expect, caseName(ds.name, 'exact executable', o));
          c.near('mse', r.mse ?? Number.NaN, 0, 1e-12);
          checkTiming(c, r, o.repeats, PLAIN_TEST, PLAIN_TEST);
          const off = plainRegressor(0.25);
          const ro = await evaluate(off, ds, o);
          const truth = concat((await testSamples(ds)).map((b) => b.targets!));
          const pred = concat((await testSamples(ds)).map((b) => off.compute(b.x, 1, undefined)));
          const want = expectedMetrics(pred, truth, PLAIN_TEST, 1, 3);
          const co = checker(expect, caseName(ds.name, 'executable off by ±0.25', o));
          co.near('mse', ro.mse ?? Number.NaN, want.mse, relTol(want.mse));
          co.near('rmse', ro.rmse ?? Number.NaN, want.rmse, relTol(want.rmse));
          co.near('relativeError', ro.relativeError ?? Number.NaN, want.relativeError, relTol(want.relativeError));
          notDisposed(co, exact, off);
        });
      }

      if (sup.nfe) {
        test("nfe and nfePerSample come from the executable's lastStats", async (expect) => {
          const ds = trajectoryDataset();
          const o = baseOptions({ repeats: 1 });
          const nfeOf = (batch: number) => 10 + 3 * batch;
          const exe = exactTrajectories({ nfe: nfeOf });
          const r = await evaluate(exe, ds, o);
          const sizes = Array.from({ length: Math.ceil(REG_TEST / BATCH) }, (_, b) => Math.min(BATCH, REG_TEST - b * BATCH));
          const c = checker(expect, caseName(ds.name, `executable with lastStats.nfe = 10 + 3·batch`, o));
          c.is('nfe (the sum over the batches of the metrics pass)', r.nfe, sizes.reduce((a, s) => a + nfeOf(s), 0));
          c.near('nfePerSample (Σ nfe · size / samples)', r.nfePerSample ?? Number.NaN, sizes.reduce((a, s) => a + nfeOf(s) * s, 0) / REG_TEST, 1e-9);
          const plain = await evaluate(exactTrajectories(), ds, o);
          checker(expect, caseName(ds.name, 'executable without lastStats', o)).ok('nfe', plain.nfe === undefined && plain.nfePerSample === undefined, `expected none, got nfe ${show(plain.nfe)}, nfePerSample ${show(plain.nfePerSample)}`);
        });
      }
    }

    // ───────────── timing and options ─────────────

    test('repeats: one timing per timed pass, wallSeconds their median, throughput samples / wallSeconds', async (expect) => {
      for (const repeats of [1, 4, 5]) {
        const ds = main();
        const o = baseOptions({ repeats });
        const exe = good();
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'good executable', o));
        checkTiming(c, r, repeats, mainSize, mainSize);
        goodMetrics(c, r);
        c.atLeast('samples predicted (at least repeats timed passes)', exe.predicted, repeats * mainSize);
        await sawFirst(c, exe, ds, mainSize);
        notDisposed(c, exe);
      }
    });

    if (sup.limit) {
      test('limit: only the first limit test samples are predicted and scored', async (expect) => {
        const ds = main();
        const limit = 6;
        const o = baseOptions({ limit });
        const exe = worse();
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'worse executable', o));
        checkTiming(c, r, o.repeats, limit, limit);
        await sawFirst(c, exe, ds, limit);
        if (regression) {
          c.near('errorByTime.rmse[0] (δ_0)', r.errorByTime?.rmse[0] ?? Number.NaN, delta(0), 1e-5);
        } else {
          const labels = Array.from({ length: limit }, (_, i) => LABEL_CYCLE[i % 10]!);
          c.near('topk[1] (the frequency of class 1 among the first samples)', r.topk[1] ?? Number.NaN, labels.filter((y) => y === 1).length / limit, 1e-12);
        }
        notDisposed(c, exe);
      });
    }

    if (sup.timingLimit) {
      test('timingLimit: the timed passes cover the first timingLimit samples, the metrics all of them', async (expect) => {
        const ds = main();
        const timingLimit = 5;
        const o = baseOptions({ timingLimit, repeats: 2 });
        const exe = good();
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'good executable', o));
        checkTiming(c, r, 2, mainSize, timingLimit);
        c.is('timedSamples', r.timedSamples, timingLimit);
        goodMetrics(c, r);
        await sawFirst(c, exe, ds, mainSize);
        c.atMost('samples predicted (one pass over all, the timed ones over timingLimit; warm-ups)', exe.predicted, 2 * mainSize + 2 * timingLimit);
        const big = baseOptions({ timingLimit: mainSize + 10, repeats: 1 });
        const rb = await evaluate(good(), ds, big);
        checkTiming(checker(expect, caseName(ds.name, 'good executable', big)), rb, 1, mainSize, mainSize);
        notDisposed(c, exe);
      });
    }

    if (sup.reference) {
      test('reference: paired timings of the same length, speedup the median of their ratios, metrics of the executable', async (expect) => {
        const ds = main();
        const reference = worse(200);
        const exe = good();
        const o = baseOptions({ repeats: 4, reference });
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'good executable', o));
        checkTiming(c, r, 4, mainSize, mainSize);
        goodMetrics(c, r);
        c.is('referenceTimings.length (= timings.length)', r.referenceTimings?.length, 4);
        c.ok('referenceTimings', r.referenceTimings!.every((t) => Number.isFinite(t) && t > 0), `expected positive finite seconds, got ${show(r.referenceTimings)}`);
        const want = median(r.referenceTimings!.map((t, i) => t / r.timings[i]!));
        c.near('speedup (the median of referenceTimings[i] / timings[i])', r.speedup ?? Number.NaN, want, relTol(want, 1e-12));
        c.atLeast('reference: samples predicted (at least repeats timed passes)', reference.predicted, 4 * mainSize);
        notDisposed(c, exe, reference);
      });
    }

    if (sup.baseline) {
      test('baselineSeconds: speedup = baselineSeconds / wallSeconds', async (expect) => {
        const ds = main();
        const o = baseOptions({ baselineSeconds: 0.5 });
        const exe = good();
        const r = await evaluate(exe, ds, o);
        const c = checker(expect, caseName(ds.name, 'good executable', o));
        c.near('speedup', r.speedup ?? Number.NaN, 0.5 / r.wallSeconds, relTol(0.5 / r.wallSeconds));
        c.ok('referenceTimings', r.referenceTimings === undefined, `expected none without a reference, got ${show(r.referenceTimings)}`);
        const none = await evaluate(good(), ds, baseOptions());
        checker(expect, caseName(ds.name, 'good executable', baseOptions())).ok('speedup', none.speedup === undefined, `expected none without a baseline or reference, got ${show(none.speedup)}`);
      });
    }

    if (sup.progress) {
      test('onProgress counts the passes one by one up to its total', async (expect) => {
        for (const withReference of sup.reference ? [false, true] : [false]) {
          const ds = main();
          const calls: [number, number][] = [];
          const exe = good();
          const reference = worse();
          const o = baseOptions({ repeats: 3, onProgress: (done, total) => calls.push([done, total]), ...(withReference ? { reference } : {}) });
          await evaluate(exe, ds, o);
          const c = checker(expect, caseName(ds.name, 'good executable', o));
          c.above('onProgress calls', calls.length, 0);
          const total = calls[0]![1];
          c.ok('onProgress total', calls.every(([, t]) => t === total), `expected the same total in every call, got ${show(calls)}`);
          c.ok('onProgress done', calls.every(([d], i) => d === i + 1), `expected 1, 2, … in order, got ${show(calls.map(([d]) => d))}`);
          c.is('onProgress: the last done (= total)', calls[calls.length - 1]![0], total);
          c.atLeast('onProgress total (every timed pass counts)', total, withReference ? 2 * 3 : 3);
          notDisposed(c, exe, reference);
        }
      });
    }

    // ───────────── errors ─────────────

    test('an executable returning the wrong number of values or a NaN is an OdemorError, and is not disposed', async (expect) => {
      for (const how of ['short', 'nan'] as const) {
        const ds = main();
        const exe = broken(() => good(), how);
        const o = baseOptions();
        let err: unknown;
        try {
          await evaluate(exe, ds, o);
        } catch (e) {
          err = e;
        }
        const c = checker(expect, caseName(ds.name, how === 'short' ? 'executable returning one value too few' : 'executable returning a NaN in its second batch', o));
        c.ok('error', OdemorError.is(err), `expected an OdemorError, got ${errorText(err)}`);
        notDisposed(c, exe);
      }
    });

    if (sup.refusesOtherTask) {
      test(`refuses a ${regression ? 'classification' : 'regression'} dataset with an OdemorError`, async (expect) => {
        const ds = regression ? classificationDataset() : trajectoryDataset();
        const exe = regression ? perfectClassifier() : exactTrajectories();
        const o = baseOptions({ topk: regression ? [] : [1] });
        let err: unknown;
        try {
          await evaluate(exe, ds, o);
        } catch (e) {
          err = e;
        }
        const c = checker(expect, caseName(ds.name, 'an executable of that task', o));
        c.ok('error', OdemorError.is(err), `expected an OdemorError, got ${errorText(err)}`);
        notDisposed(c, exe);
      });
    }
  };

  if (options.group === false) register();
  else describe(title, register);
}

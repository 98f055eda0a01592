/**
 * Conformance suite for odemor `Dataset` implementations, in the style of keyv's `@keyv/test-suite`: a
 * package's own test file is short,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { datasetConformance } from '@odemor/conformance';
 * import { createSyntheticDataset } from '../src/index.js';
 * datasetConformance(it, () => createSyntheticDataset({ seed: 1, kind: 'spirals', train: 40, test: 17 }), { supports: { augment: true } });
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's, and failures name the split,
 * the batch options and the field (`dataset 'dynamics-vehicle', test, batch size 7: batch 1: u.length: expected
 * 140, got 0`). The factory takes no arguments and must build the same small dataset on every call (a few dozen
 * samples per split keeps the suite fast): one instance serves most tests, a second one checks determinism.
 *
 * Checks, for both splits: the batches cover exactly `trainSize` / `testSize` samples (every batch but the last
 * of the asked size, the last one no larger); `x` is a Float32Array of `size × prod(inputShape)` finite values; a
 * classification dataset's `y` an Int32Array of `size` labels in [0, numClasses); a regression dataset's
 * (`task: 'regression'`) `y` is empty, `targets` holds `size × prod(targetShape)` finite values, a trajectory
 * dataset's `times` increase after `t0` and number `targetShape[0]`, and `u` holds `size × signal.steps ×
 * signal.channels` finite values when `signal` is declared (and is absent otherwise). Determinism: two instances
 * of the factory, or two passes over one, give byte-identical batches; `shuffle` with one seed gives one order,
 * another seed another, and a shuffled epoch holds the same multiset of samples; `limit` keeps the first `limit`
 * samples (applied before shuffling); `augment` changes training batches (when the dataset declares an
 * augmentation) and never test batches, and leaves the plain batches as they were; a batch size that is not a
 * positive integer and an unknown split throw an `OdemorError` (when iterating starts, or before).
 *
 * Each batch is copied as it arrives, so a dataset that reuses its buffers from batch to batch passes too.
 */
import { describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { OdemorError, type Batch, type BatchOptions, type Dataset, type DatasetInfo, type Split } from '@odemor/core';
import { checker, show, type Checker } from './check.js';
import type { ConformanceIt } from './solver.js';

/** What the dataset under test does; flags default as documented. */
export interface DatasetCapabilities {
  /** honours `shuffle` and `seed` (default true) */
  shuffle?: boolean;
  /** honours `limit` (default true) */
  limit?: boolean;
  /**
   * has a training augmentation that `augment: true` applies (default false): training batches then differ from
   * the plain ones, the same seed giving the same augmented batches. Test batches are checked unchanged by
   * `augment` whatever this flag says.
   */
  augment?: boolean;
  /** the same factory gives byte-identical batches (default true) */
  determinism?: boolean;
  /** rejects a bad batch size and an unknown split with an `OdemorError` (default true) */
  validation?: boolean;
}

/** Options of {@link datasetConformance}. */
export interface DatasetConformanceOptions {
  supports?: DatasetCapabilities;
  /** the batch size of most passes (default 7; passes of one batch of the whole split run too) */
  batchSize?: number;
  /** title of the `describe` block; default `dataset conformance` */
  title?: string;
  /** wrap the tests in a `describe` block (default true); false registers them with `it` directly */
  group?: boolean;
  /** per-test timeout in milliseconds (default: the runner's) */
  timeout?: number;
}

/** A factory of the dataset under test: the same small dataset on every call. */
export type DatasetConformanceFactory = () => Dataset | Promise<Dataset>;

const SPLITS: readonly Split[] = ['train', 'test'];
const KINDS: readonly DatasetInfo['kind'][] = ['vector', 'image', 'sequence', 'trajectory'];
const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const shapeOk = (s: unknown): s is number[] => Array.isArray(s) && s.length >= 1 && s.every(positiveInt);

/** Values per sample of each batch array, from the info. */
interface Layout {
  x: number;
  targets: number;
  u: number;
  regression: boolean;
  classes: number;
}

function layoutOf(info: DatasetInfo): Layout {
  const regression = info.task === 'regression';
  return {
    x: prod(info.inputShape),
    targets: regression && info.targetShape ? prod(info.targetShape) : 0,
    u: info.signal ? info.signal.steps * info.signal.channels : 0,
    regression,
    classes: info.numClasses,
  };
}

/** A copy of a batch as it arrived (the arrays' own types kept), so reused buffers cannot change what was seen. */
function copyBatch(b: Batch): Batch {
  const copy = <T>(a: T): T => (a && typeof (a as { slice?: unknown }).slice === 'function' ? ((a as unknown as { slice(): T }).slice()) : a);
  return { ...b, x: copy(b.x), y: copy(b.y), ...(b.targets !== undefined ? { targets: copy(b.targets) } : {}), ...(b.u !== undefined ? { u: copy(b.u) } : {}) };
}

async function collect(ds: Dataset, split: Split, size: number, options?: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(split, size, options)) out.push(copyBatch(b));
  return out;
}

/** The error of starting to iterate `ds.batches(...)` (thrown by the call or by the first `next()`), or undefined. */
async function iterationError(start: () => AsyncIterable<Batch>): Promise<unknown> {
  try {
    const it = start()[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
  } catch (e) {
    return e;
  }
  return undefined;
}

const bytesOf = (a: ArrayBufferView | undefined, from: number, to: number, per: number): string => {
  if (!a || per === 0) return '';
  const bpe = (a as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return Buffer.from(a.buffer, a.byteOffset + from * per * bpe, (to - from) * per * bpe).toString('base64');
};

/** One string per sample (its x, label, targets and u bytes), in the order the batches gave them. */
function sampleKeys(batches: readonly Batch[], L: Layout): string[] {
  const keys: string[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.size; i++) {
      const label = L.regression ? '' : String(b.y[i]);
      keys.push(`${bytesOf(b.x, i, i + 1, L.x)}|${label}|${bytesOf(b.targets, i, i + 1, L.targets)}|${bytesOf(b.u, i, i + 1, L.u)}`);
    }
  }
  return keys;
}

const sorted = (a: readonly string[]) => [...a].sort();
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const describeOptions = (size: number, o?: BatchOptions) => `batch size ${size}${o && Object.keys(o).length ? `, ${show(o)}` : ''}`;

function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** Every check of one batch: types, lengths, finiteness, labels, targets and signal. */
function checkBatch(c: Checker, b: Batch, info: DatasetInfo, L: Layout, asked: number, last: boolean): void {
  c.ok('size', positiveInt(b.size), `expected a positive integer, got ${show(b.size)}`);
  if (last) c.atMost('size (the last batch)', b.size, asked);
  else c.is('size (every batch but the last has the asked size)', b.size, asked);
  c.ok('x', b.x instanceof Float32Array, `expected a Float32Array, got ${b.x?.constructor?.name ?? show(b.x)}`);
  c.is(`x.length (size ${b.size} × prod(inputShape [${info.inputShape.join(', ')}]) ${L.x})`, b.x.length, b.size * L.x);
  const bad = firstNonFinite(b.x);
  c.ok('x', bad < 0, `expected finite values only, got ${show(b.x[bad])} at ${bad}`);
  c.ok('y', b.y instanceof Int32Array, `expected an Int32Array, got ${b.y?.constructor?.name ?? show(b.y)}`);
  if (L.regression) {
    c.is('y.length (a regression dataset has no labels)', b.y.length, 0);
    c.ok('targets', b.targets instanceof Float32Array, `expected a Float32Array, got ${b.targets === undefined ? 'none' : (b.targets.constructor?.name ?? show(b.targets))}`);
    c.is(`targets.length (size ${b.size} × prod(targetShape [${(info.targetShape ?? []).join(', ')}]) ${L.targets})`, b.targets!.length, b.size * L.targets);
    const t = firstNonFinite(b.targets!);
    c.ok('targets', t < 0, `expected finite values only, got ${show(b.targets![t])} at ${t}`);
  } else {
    c.is('y.length (one label per sample)', b.y.length, b.size);
    for (let i = 0; i < b.y.length; i++) {
      const y = b.y[i]!;
      if (!(Number.isInteger(y) && y >= 0 && y < L.classes)) c.ok(`y[${i}]`, false, `expected a label in [0, ${L.classes}), got ${show(y)}`);
    }
  }
  if (info.signal) {
    const s = info.signal;
    c.ok('u', b.u instanceof Float32Array, `expected a Float32Array (the dataset declares signal ${show(s)}), got ${b.u === undefined ? 'none' : (b.u.constructor?.name ?? show(b.u))}`);
    c.is(`u.length (size ${b.size} × signal.steps ${s.steps} × signal.channels ${s.channels})`, b.u!.length, b.size * L.u);
    const u = firstNonFinite(b.u!);
    c.ok('u', u < 0, `expected finite values only, got ${show(b.u![u])} at ${u}`);
  } else {
    c.ok('u', b.u === undefined, `expected none (the dataset declares no signal), got ${b.u?.length} values`);
  }
}

/** All batch checks of a pass, and that it covers `expected` samples. */
function checkPass(c: Checker, batches: readonly Batch[], info: DatasetInfo, L: Layout, asked: number, expected: number): void {
  batches.forEach((b, i) => checkBatch(c.at(`batch ${i}`), b, info, L, asked, i === batches.length - 1));
  c.is(`samples (the sum of the batch sizes, ${batches.length} batches)`, batches.reduce((a, b) => a + b.size, 0), expected);
  c.is('number of batches', batches.length, Math.ceil(expected / asked));
}

/** Whether two passes are byte-identical, naming the first difference. */
function samePass(a: readonly Batch[], b: readonly Batch[], L: Layout): { same: boolean; detail: string } {
  const ka = sampleKeys(a, L);
  const kb = sampleKeys(b, L);
  if (a.length !== b.length) return { same: false, detail: `${a.length} batches against ${b.length}` };
  for (let i = 0; i < a.length; i++) if (a[i]!.size !== b[i]!.size) return { same: false, detail: `batch ${i} has ${a[i]!.size} samples against ${b[i]!.size}` };
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) if (ka[i] !== kb[i]) return { same: false, detail: `sample ${i} differs` };
  return { same: true, detail: 'identical' };
}

/**
 * Register the dataset conformance tests with `it` (vitest's `it`). `factory()` must build the same small
 * dataset on every call; see the module comment for what is checked and {@link DatasetCapabilities} for what
 * can be switched off.
 */
export function datasetConformance(it: ConformanceIt, factory: DatasetConformanceFactory, options: DatasetConformanceOptions = {}): void {
  const sup: Required<DatasetCapabilities> = { shuffle: true, limit: true, augment: false, determinism: true, validation: true, ...options.supports };
  const B = options.batchSize ?? 7;
  if (!positiveInt(B)) throw new Error(`datasetConformance: batchSize must be a positive integer, got ${show(B)}`);
  let shared: Promise<Dataset> | undefined;
  const dataset = () => (shared ??= Promise.resolve(factory()));
  const test = (name: string, fn: (expect: ExpectStatic, ds: Dataset) => Promise<void>) =>
    it(name, async ({ expect }) => fn(expect, await dataset()), options.timeout);
  const countOf = (info: DatasetInfo, split: Split) => (split === 'train' ? info.trainSize : info.testSize);
  const ctx = (ds: Dataset, split: Split, size: number, o?: BatchOptions) => `dataset '${ds.name}', ${split}, ${describeOptions(size, o)}`;

  const register = () => {
    test('declares a name and a consistent info', async (expect, ds) => {
      const c = checker(expect, `dataset '${String(ds.name)}': info`);
      checker(expect, 'dataset').ok('name', typeof ds.name === 'string' && ds.name.length > 0, `expected a non-empty string, got ${show(ds.name)}`);
      const info = ds.info;
      c.ok('inputShape', shapeOk(info.inputShape), `expected positive integers, got ${show(info.inputShape)}`);
      c.ok('kind', KINDS.includes(info.kind), `expected one of ${KINDS.join(', ')}, got ${show(info.kind)}`);
      c.ok('task', info.task === undefined || info.task === 'classification' || info.task === 'regression', `expected 'classification', 'regression' or none, got ${show(info.task)}`);
      c.ok('trainSize', positiveInt(info.trainSize), `expected a positive integer, got ${show(info.trainSize)}`);
      c.ok('testSize', positiveInt(info.testSize), `expected a positive integer, got ${show(info.testSize)}`);
      if (info.task === 'regression') {
        c.is('numClasses (a regression dataset)', info.numClasses, 0);
        c.ok('targetShape', shapeOk(info.targetShape), `expected positive integers, got ${show(info.targetShape)}`);
      } else {
        c.ok('numClasses', positiveInt(info.numClasses), `expected a positive integer, got ${show(info.numClasses)}`);
        c.ok('kind', info.kind !== 'trajectory', "a trajectory dataset must declare task: 'regression'");
        c.ok('signal', info.signal === undefined, `a classification dataset declares no input signal, got ${show(info.signal)}`);
      }
      if (info.kind === 'trajectory') {
        const { times, t0 } = info;
        c.ok('t0', typeof t0 === 'number' && Number.isFinite(t0), `expected a finite number, got ${show(t0)}`);
        c.ok('times', Array.isArray(times) && times.length >= 1 && times.every(Number.isFinite), `expected finite observation times, got ${show(times)}`);
        c.above('times[0] (after t0)', times![0]!, t0!);
        for (let i = 1; i < times!.length; i++) if (!(times![i]! > times![i - 1]!)) c.ok('times', false, `expected increasing times, got ${show(times![i - 1])} then ${show(times![i])} at ${i}`);
        c.is('targetShape[0] (one row per observation time)', info.targetShape![0], times!.length);
      }
      if (info.signal !== undefined) {
        const s = info.signal;
        c.ok('signal.steps', positiveInt(s.steps), `expected a positive integer, got ${show(s.steps)}`);
        c.ok('signal.channels', positiveInt(s.channels), `expected a positive integer, got ${show(s.channels)}`);
        c.ok('signal.dt', typeof s.dt === 'number' && Number.isFinite(s.dt) && s.dt > 0, `expected a positive finite number, got ${show(s.dt)}`);
      }
    });

    for (const split of SPLITS) {
      test(`${split}: batches cover the split exactly, with well-formed x, labels or targets and signal`, async (expect, ds) => {
        const info = ds.info;
        const L = layoutOf(info);
        const n = countOf(info, split);
        // the usual size, one batch of exactly the split, one batch larger than the split
        for (const size of [B, n, n + 3]) {
          const batches = await collect(ds, split, size);
          checkPass(checker(expect, ctx(ds, split, size)), batches, info, L, size, n);
        }
      });
    }

    if (sup.determinism) {
      test('is deterministic: another instance and another pass give byte-identical batches', async (expect, ds) => {
        const other = await factory();
        const L = layoutOf(ds.info);
        checker(expect, `dataset '${ds.name}', a second instance`).equal('info', other.info, ds.info);
        for (const split of SPLITS) {
          const first = await collect(ds, split, B);
          for (const [who, again] of [
            ['a second instance', await collect(other, split, B)],
            ['a second pass', await collect(ds, split, B)],
          ] as const) {
            const r = samePass(first, again, L);
            checker(expect, ctx(ds, split, B)).ok(`${who}`, r.same, `expected byte-identical batches, got: ${r.detail}`);
          }
        }
      });
    }

    if (sup.shuffle) {
      for (const split of SPLITS) {
        test(`${split}: shuffle is seeded and permutes the samples`, async (expect, ds) => {
          const L = layoutOf(ds.info);
          const n = countOf(ds.info, split);
          const plain = sampleKeys(await collect(ds, split, B), L);
          const run = async (seed: number) => {
            const o: BatchOptions = { shuffle: true, seed };
            const batches = await collect(ds, split, B, o);
            checkPass(checker(expect, ctx(ds, split, B, o)), batches, ds.info, L, B, n);
            return sampleKeys(batches, L);
          };
          const a = await run(1);
          const again = await run(1);
          const c = checker(expect, `dataset '${ds.name}', ${split}, shuffle`);
          c.ok('seed 1 twice', sameList(a, again), 'expected the same order');
          c.ok('seed 1 (the samples of an epoch)', sameList(sorted(a), sorted(plain)), 'expected the same multiset of samples as without shuffle');
          // with 6 or more distinct samples, two seeds (or the plain order) agree by chance with probability ≤ 1/720
          const distinct = new Set(plain).size;
          if (distinct >= 6) {
            const others = [await run(2), await run(3)];
            c.ok('seeds 2 and 3', others.some((o) => !sameList(o, a)), 'expected another order than seed 1 from at least one of them');
            c.ok('seed 1', !sameList(a, plain), 'expected an order other than the unshuffled one');
          }
        });
      }
    }

    if (sup.limit) {
      for (const split of SPLITS) {
        test(`${split}: limit keeps the first samples`, async (expect, ds) => {
          const L = layoutOf(ds.info);
          const n = countOf(ds.info, split);
          const plain = sampleKeys(await collect(ds, split, B), L);
          const limit = Math.max(1, Math.min(n - 1, B + 2));
          for (const [o, want] of [
            [{ limit }, limit],
            [{ limit: n + 10 }, n],
          ] as const) {
            const batches = await collect(ds, split, B, o);
            const c = checker(expect, ctx(ds, split, B, o));
            checkPass(c, batches, ds.info, L, B, want);
            c.ok('samples', sameList(sampleKeys(batches, L), plain.slice(0, want)), `expected the first ${want} samples of the split, in order`);
          }
          if (sup.shuffle) {
            const o: BatchOptions = { limit, shuffle: true, seed: 4 };
            const batches = await collect(ds, split, B, o);
            const c = checker(expect, ctx(ds, split, B, o));
            checkPass(c, batches, ds.info, L, B, limit);
            c.ok('samples', sameList(sorted(sampleKeys(batches, L)), sorted(plain.slice(0, limit))), `expected the first ${limit} samples of the split (limit applies before shuffling)`);
          }
        });
      }
    }

    test(`augment ${sup.augment ? 'changes training batches (seeded) and ' : ''}never changes test batches`, async (expect, ds) => {
      const L = layoutOf(ds.info);
      const o: BatchOptions = { augment: true, seed: 5 };
      const plainTest = await collect(ds, 'test', B);
      const augTest = await collect(ds, 'test', B, o);
      checkPass(checker(expect, ctx(ds, 'test', B, o)), augTest, ds.info, L, B, ds.info.testSize);
      const t = samePass(plainTest, augTest, L);
      checker(expect, ctx(ds, 'test', B, o)).ok('batches', t.same, `expected the plain test batches (augmentation is for training), got: ${t.detail}`);
      if (!sup.augment) return;
      const plain = await collect(ds, 'train', B);
      const a1 = await collect(ds, 'train', B, o);
      const a2 = await collect(ds, 'train', B, o);
      const c = checker(expect, ctx(ds, 'train', B, o));
      checkPass(c, a1, ds.info, L, B, ds.info.trainSize);
      c.ok('batches', !samePass(plain, a1, L).same, 'expected batches other than the plain ones (the dataset declares an augmentation)');
      const r = samePass(a1, a2, L);
      c.ok('the same seed twice', r.same, `expected byte-identical augmented batches, got: ${r.detail}`);
      const after = samePass(plain, await collect(ds, 'train', B), L);
      checker(expect, ctx(ds, 'train', B)).ok('after augmented passes', after.same, `expected the plain batches as before, got: ${after.detail}`);
    });

    if (sup.validation) {
      test('rejects a bad batch size and an unknown split with an OdemorError', async (expect, ds) => {
        const c = checker(expect, `dataset '${ds.name}'`);
        const expectError = (label: string, err: unknown) => {
          const got = err === undefined ? 'nothing thrown' : err instanceof Error ? `${err.name}: ${err.message}` : show(err);
          c.ok(label, OdemorError.is(err), `expected an OdemorError, got ${got}`);
        };
        for (const split of SPLITS) {
          for (const size of [0, -3, 2.5, Number.NaN]) expectError(`batches('${split}', ${size})`, await iterationError(() => ds.batches(split, size)));
        }
        for (const split of ['validation', 'TRAIN', ''] as unknown as Split[]) expectError(`batches(${show(split)}, ${B})`, await iterationError(() => ds.batches(split, B)));
      });
    }
  };

  if (options.group === false) register();
  else describe(options.title ?? 'dataset conformance', register);
}

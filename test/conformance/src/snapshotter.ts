/**
 * Conformance suite for odemor `Snapshotter` implementations, in the style of keyv's `@keyv/test-suite`: a
 * package's own test file is short,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { snapshotterConformance } from '@odemor/conformance';
 * import { StreamSnapshotter } from '../src/index.js';
 * snapshotterConformance(it, (o) => new StreamSnapshotter(o), { variants: { gram: { mode: 'gram' }, exact: { mode: 'exact' } } });
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's. The factory takes the
 * snapshotter's options (a `SnapshotterFactory`); each entry of `variants` is one option set, checked on its own
 * and against the others. Whether a variant works from Gram matrices is read from the instance (`prefersGram`),
 * never from the test file.
 *
 * Fixture (deterministic): n = 12; 400 snapshot columns of states and of nonlinear terms with planted singular
 * values `σ_i = 2^{−i/2}` (`X = A diag(σ) Bᵀ`, A and B orthonormal), cut into float32 batches of 1, 37, 300, 0
 * and 62 rows (the 0-row batch carries final states only); 15 final states in all, 30 % of them exact zeros and
 * the rest at least 0.05 in magnitude, so any zero threshold below 0.05 counts the same zeros. The reference is
 * `podExact` (a direct SVD) of the float64 matrix of the float32 rows. Batches are fed three ways: raw rows;
 * raw rows with native Grams (`SnapshotBatch.gram`, float32 Σ x xᵀ per batch, as a runtime computes them); native
 * Grams only (empty rows, as the pipeline asks when `prefersGram` is true).
 *
 * **Memory** (variants that prefer Gram matrices): the state a snapshotter retains must not grow with the number of
 * snapshots. The suite measures the retained state twice, after 10 and after 100 batches of 40 rows, and requires
 * the second to exceed the first by at most 1 KiB (the 90 extra batches hold 337 KiB of rows). Two measures are used, both
 * deterministic: the snapshotter's own `retainedBytes` when it exposes a number under that name, and always the
 * bytes of every `ArrayBuffer` reachable from the instance through its own properties (objects, arrays, `Map`s,
 * `Set`s, typed arrays, ml-matrix matrices; each buffer counted once). Heap measurements
 * (`process.memoryUsage().heapUsed`) are not used: without `--expose-gc` they depend on when V8 collects, so a
 * bounded-growth check on them is either flaky or too loose to mean anything. The reachability walk cannot see
 * `#private` fields or closures; a snapshotter that keeps its data there should expose `retainedBytes`.
 */
import { describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { Matrix, OdemorError, podExact, rankByEnergy, thinSvd, type SnapshotBatch, type SnapshotSet, type Snapshotter } from '@odemor/core';
import { columnsDiffUpToSign, gaussianStream, randomMatrix } from './fixtures.js';
import type { ConformanceIt } from './solver.js';

/** The part of vitest's `it` the suite uses: a name and a test function that receives `{ expect }`. */
export type SnapshotterConformanceIt = ConformanceIt;

/** Options of {@link snapshotterConformance}. */
export interface SnapshotterConformanceOptions {
  /**
   * Named option sets for the factory (e.g. `{ gram: { mode: 'gram' }, exact: { mode: 'exact' } }`); every
   * variant runs every check, and all variants must agree with each other. Default `{ default: {} }`.
   */
  variants?: Record<string, Record<string, unknown>>;
  /**
   * The factory options that truncate both bases to a captured energy `energy ∈ (0, 1]` (merged over each
   * variant), e.g. `(energy) => ({ energy })`. Without it the energy-rank test is skipped.
   */
  energyOptions?: (energy: number) => Record<string, unknown>;
  /** title of the `describe` block; default `snapshotter '<name>' conformance` */
  title?: string;
}

// ───────────────────────────── fixture ─────────────────────────────

const N = 12;
const SIZES = [1, 37, 300, 0, 62];
const SAMPLES = [1, 3, 5, 2, 4];
const COLUMNS = SIZES.reduce((a, b) => a + b, 0);
const TOTAL_SAMPLES = SAMPLES.reduce((a, b) => a + b, 0);
/** leading basis columns compared (well-separated singular values) with raw rows / with float32 Grams */
const COLS_RAW = 8;
const COLS_GRAM = 6;
const TOL_RAW = 1e-6;
const TOL_GRAM = 1e-4;

type Feed = 'raw' | 'gram+raw' | 'gram';

interface Fixture {
  batches: Record<Feed, SnapshotBatch[]>;
  reference: { states: { basis: Matrix; singularValues: number[] }; nonlinear: { basis: Matrix; singularValues: number[] } };
  final: { meanAbs: Float64Array; zeroFraction: Float64Array };
}

/** n×s snapshots with singular values 2^{−i/2}: A diag(σ) Bᵀ with orthonormal A (n×n), B (s×n). */
function planted(n: number, s: number, seed: number): Matrix {
  const next = gaussianStream(seed);
  const A = thinSvd(randomMatrix(n, n, next)).U;
  const B = thinSvd(randomMatrix(s, n, next)).U;
  return A.mmul(Matrix.diag(Array.from({ length: n }, (_, i) => 2 ** (-i / 2)))).mmul(B.transpose());
}

/** float32 Σ x xᵀ of `count` rows (accumulated in float64, rounded once, as a native Gram would be). */
function gram32(rows: Float32Array, count: number, n: number): Float32Array {
  const g = new Float64Array(n * n);
  for (let r = 0; r < count; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = g[i * n + j]! + rows[r * n + i]! * rows[r * n + j]!;
  return Float32Array.from(g);
}

function buildFixture(): Fixture {
  const X = planted(N, COLUMNS, 101);
  const Y = planted(N, COLUMNS, 202);
  const next = gaussianStream(303);
  const rand = gaussianStream(404);
  const raw: SnapshotBatch[] = [];
  const finals: number[] = [];
  let j = 0;
  SIZES.forEach((count, b) => {
    const states = new Float32Array(count * N);
    const nonlinear = new Float32Array(count * N);
    for (let r = 0; r < count; r++, j++) {
      for (let i = 0; i < N; i++) {
        states[r * N + i] = X.get(i, j);
        nonlinear[r * N + i] = Y.get(i, j);
      }
    }
    const samples = SAMPLES[b]!;
    const final = Float32Array.from({ length: samples * N }, () => {
      const v = next();
      // ~30 % exact zeros (|N(0,1)| < 0.385), the rest ≥ 0.05 in magnitude
      return Math.abs(v) < 0.385 ? 0 : Math.sign(rand()) * (0.05 + Math.abs(v));
    });
    finals.push(...final);
    raw.push({ n: N, states, nonlinear, count, final, samples });
  });
  const withGram = raw.map((b) => ({ ...b, gram: { states: gram32(b.states, b.count, N), nonlinear: gram32(b.nonlinear, b.count, N) } }));
  const gramOnly = withGram.map((b) => ({ ...b, states: new Float32Array(0), nonlinear: new Float32Array(0) }));
  const f64 = (which: 'states' | 'nonlinear') => {
    const M = new Matrix(N, COLUMNS);
    let col = 0;
    for (const b of raw) for (let r = 0; r < b.count; r++, col++) for (let i = 0; i < N; i++) M.set(i, col, b[which][r * N + i]!);
    return M;
  };
  const meanAbs = new Float64Array(N);
  const zeroFraction = new Float64Array(N);
  for (let s = 0; s < TOTAL_SAMPLES; s++) {
    for (let i = 0; i < N; i++) {
      const v = finals[s * N + i]!;
      meanAbs[i] = meanAbs[i]! + Math.abs(v);
      if (v === 0) zeroFraction[i] = zeroFraction[i]! + 1;
    }
  }
  for (let i = 0; i < N; i++) {
    meanAbs[i] = meanAbs[i]! / TOTAL_SAMPLES;
    zeroFraction[i] = zeroFraction[i]! / TOTAL_SAMPLES;
  }
  return {
    batches: { raw, 'gram+raw': withGram, gram: gramOnly },
    reference: { states: podExact(f64('states')), nonlinear: podExact(f64('nonlinear')) },
    final: { meanAbs, zeroFraction },
  };
}

let cached: Fixture | undefined;
const fixture = (): Fixture => (cached ??= buildFixture());

/** One full pass: begin(N), consume every batch, finish. */
function run(s: Snapshotter, batches: SnapshotBatch[]): SnapshotSet {
  s.begin(N);
  for (const b of batches) s.consume(b);
  return s.finish();
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectOdemor(expect: ExpectStatic, err: unknown, label: string, codes?: readonly string[], mentions: readonly (string | RegExp)[] = []): void {
  if (!(err instanceof OdemorError)) expect.fail(`${label}: expected an OdemorError, got ${err === undefined ? 'no error' : String(err)}`);
  if (codes && !codes.includes(err.code)) expect.fail(`${label}: expected code ${codes.join(' or ')}, got ${err.code} (${err.message})`);
  for (const m of mentions) {
    const ok = typeof m === 'string' ? err.message.includes(m) : m.test(err.message);
    if (!ok) expect.fail(`${label}: the message should mention ${String(m)}: ${err.message}`);
  }
}

/** Singular values (the first `count`) within `tol · σ_max` and the leading `cols` basis columns up to sign within `tol`. */
function expectPod(
  expect: ExpectStatic,
  got: { basis: Matrix; singularValues: number[] },
  want: { basis: Matrix; singularValues: number[] },
  label: string,
  tol: number,
  cols: number,
): void {
  const sv = got.singularValues;
  const ref = want.singularValues;
  const count = Math.min(N, COLUMNS);
  expect(sv.length, `${label}: number of singular values`).toBeGreaterThanOrEqual(Math.min(count, got.basis.columns));
  const smax = ref[0]!;
  for (let i = 0; i < Math.min(sv.length, count); i++) {
    if (!(Math.abs(sv[i]! - ref[i]!) <= tol * smax)) expect.fail(`${label}: singular value ${i}: expected ${ref[i]}, got ${sv[i]} (tolerance ${tol}·σ_max)`);
    if (i > 0 && !(sv[i]! <= sv[i - 1]! * (1 + 1e-12))) expect.fail(`${label}: singular values not sorted at ${i}: ${sv[i - 1]}, ${sv[i]}`);
  }
  const B = got.basis;
  expect(B.rows, `${label}: basis rows`).toBe(N);
  expect(B.columns, `${label}: basis columns`).toBeGreaterThanOrEqual(1);
  expect(B.columns, `${label}: basis columns`).toBeLessThanOrEqual(N);
  const gram = B.transpose().mmul(B);
  for (let i = 0; i < B.columns; i++) {
    for (let j = 0; j < B.columns; j++) {
      const d = Math.abs(gram.get(i, j) - (i === j ? 1 : 0));
      if (!(d <= 1e-8)) expect.fail(`${label}: basis columns not orthonormal: (BᵀB)[${i}][${j}] = ${gram.get(i, j)}`);
    }
  }
  const c = Math.min(cols, B.columns);
  for (let j = 0; j < c; j++) {
    const d = columnsDiffUpToSign(B.subMatrix(0, N - 1, j, j), want.basis.subMatrix(0, N - 1, j, j), 1);
    if (!(d <= tol)) expect.fail(`${label}: basis column ${j} differs from the reference by ${d.toExponential(2)} (up to sign; tolerance ${tol})`);
  }
}

/** Both bases, the counts and the final statistics of `got` against `want` (a reference or another variant's set). */
function expectSet(expect: ExpectStatic, got: SnapshotSet, want: Fixture['reference'], label: string, tol: number, cols: number): void {
  expect(got.n, `${label}: n`).toBe(N);
  expect(got.snapshots, `${label}: snapshots`).toBe(COLUMNS);
  expect(got.samples, `${label}: samples`).toBe(TOTAL_SAMPLES);
  expectPod(expect, { basis: got.stateBasis, singularValues: got.stateSingularValues }, want.states, `${label}, states`, tol, cols);
  expectPod(expect, { basis: got.nonlinearBasis, singularValues: got.nonlinearSingularValues }, want.nonlinear, `${label}, nonlinear`, tol, cols);
}

const asReference = (s: SnapshotSet): Fixture['reference'] => ({
  states: { basis: s.stateBasis, singularValues: s.stateSingularValues },
  nonlinear: { basis: s.nonlinearBasis, singularValues: s.nonlinearSingularValues },
});

/**
 * Bytes of every ArrayBuffer reachable from `root` through own properties (objects, arrays, Maps, Sets, typed arrays),
 * each buffer counted once. Functions and prototypes are not followed.
 */
export function reachableBufferBytes(root: unknown): number {
  const seen = new Set<object>();
  const buffers = new Set<ArrayBufferLike>();
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) continue;
    if (typeof v === 'function' || seen.has(v)) continue;
    seen.add(v);
    if (seen.size > 200_000) throw new OdemorError('RUNTIME', 'reachableBufferBytes: more than 200000 objects reachable; not a snapshotter state');
    if (ArrayBuffer.isView(v)) {
      buffers.add(v.buffer);
      continue;
    }
    if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) {
      buffers.add(v);
      continue;
    }
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d && 'value' in d) stack.push(d.value);
    }
  }
  let bytes = 0;
  for (const b of buffers) bytes += b.byteLength;
  return bytes;
}

/** `retainedBytes` when the snapshotter exposes it as a number, else undefined. */
function ownRetained(s: Snapshotter): number | undefined {
  const v = (s as { retainedBytes?: unknown }).retainedBytes;
  return typeof v === 'number' ? v : undefined;
}

/** Memory-test batches: `count` rows of planted data (40 rows, 2 samples), with or without raw rows. */
function memoryBatch(index: number, feed: 'raw' | 'gram'): SnapshotBatch {
  const count = 40;
  const next = gaussianStream(1000 + index);
  const states = Float32Array.from({ length: count * N }, next);
  const nonlinear = states.map(Math.tanh);
  const final = states.slice(0, 2 * N);
  const b: SnapshotBatch = { n: N, states, nonlinear, count, final, samples: 2 };
  if (feed === 'raw') return b;
  return { ...b, states: new Float32Array(0), nonlinear: new Float32Array(0), gram: { states: gram32(states, count, N), nonlinear: gram32(nonlinear, count, N) } };
}

// ───────────────────────────── the suite ─────────────────────────────

/**
 * Register the snapshotter conformance tests. `it` is the runner's `it`; `factory(options)` returns a fresh
 * snapshotter configured by `options` (one of `options.variants`, possibly merged with `energyOptions`).
 */
export function snapshotterConformance(
  it: SnapshotterConformanceIt,
  factory: (options?: Record<string, unknown>) => Snapshotter,
  options: SnapshotterConformanceOptions = {},
): void {
  const variants = Object.entries(options.variants ?? { default: {} });
  const probes = new Map(variants.map(([name, o]) => [name, factory({ ...o })] as const));
  const title = options.title ?? `snapshotter '${probes.values().next().value?.name ?? '?'}' conformance`;
  const prefers = (name: string) => probes.get(name)!.prefersGram === true;
  const make = (o: Record<string, unknown>) => () => factory({ ...o });

  describe(title, () => {
    for (const [vname, vopts] of variants) {
      const fresh = make(vopts);
      const tag = `[${vname}]`;
      const gramMode = prefers(vname);

      it(`${tag} declares a name and whether it prefers Gram matrices`, ({ expect }) => {
        const s = fresh();
        expect(typeof s.name).toBe('string');
        expect(s.name.length).toBeGreaterThan(0);
        expect(s.prefersGram === undefined || typeof s.prefersGram === 'boolean', 'prefersGram is a boolean or absent').toBe(true);
        for (const m of ['begin', 'consume', 'finish'] as const) expect(typeof s[m], m).toBe('function');
      });

      it(`${tag} raw rows: singular values and bases (up to sign) match a direct SVD of the snapshot matrix`, ({ expect }) => {
        const f = fixture();
        expectSet(expect, run(fresh(), f.batches.raw), f.reference, `${tag} raw rows`, TOL_RAW, COLS_RAW);
      });

      it(`${tag} final statistics: meanAbs and zeroFraction equal a direct computation`, ({ expect }) => {
        const f = fixture();
        for (const feed of ['raw', gramMode ? 'gram' : 'gram+raw'] as const) {
          const set = run(fresh(), f.batches[feed]);
          expect(set.final.meanAbs.length, `${feed}: meanAbs length`).toBe(N);
          expect(set.final.zeroFraction.length, `${feed}: zeroFraction length`).toBe(N);
          for (let i = 0; i < N; i++) {
            const m = set.final.meanAbs[i]!;
            const want = f.final.meanAbs[i]!;
            if (!(Math.abs(m - want) <= 1e-9 * (1 + want))) expect.fail(`${tag} ${feed}: final.meanAbs[${i}]: expected ${want}, got ${m}`);
            expect(set.final.zeroFraction[i], `${tag} ${feed}: final.zeroFraction[${i}]`).toBeCloseTo(f.final.zeroFraction[i]!, 12);
          }
        }
      });

      it(
        gramMode
          ? `${tag} prefersGram: batches with native Grams only (no rows) give the same set as raw rows`
          : `${tag} batches that also carry native Grams give the same set; Gram-only batches work or are refused with an OdemorError`,
        ({ expect }) => {
          const f = fixture();
          const withRows = run(fresh(), f.batches['gram+raw']);
          expectSet(expect, withRows, f.reference, `${tag} rows + native Grams`, TOL_GRAM, COLS_GRAM);
          if (gramMode) {
            const lean = run(fresh(), f.batches.gram);
            expectSet(expect, lean, f.reference, `${tag} native Grams only`, TOL_GRAM, COLS_GRAM);
          } else {
            let set: SnapshotSet | undefined;
            const err = errorOf(() => (set = run(fresh(), f.batches.gram)));
            if (err !== undefined) expectOdemor(expect, err, `${tag} Gram-only batches`);
            else expectSet(expect, set!, f.reference, `${tag} native Grams only`, TOL_GRAM, COLS_GRAM);
          }
        },
      );

      if (options.energyOptions) {
        const energyOptions = options.energyOptions;
        it(`${tag} energy truncation: each basis keeps rankByEnergy(σ, energy) columns (energy 0.9, 0.99)`, ({ expect }) => {
          const f = fixture();
          for (const energy of [0.9, 0.99]) {
            const set = run(factory({ ...vopts, ...energyOptions(energy) }), f.batches.raw);
            for (const [what, B, sv, ref] of [
              ['states', set.stateBasis, set.stateSingularValues, f.reference.states.singularValues],
              ['nonlinear', set.nonlinearBasis, set.nonlinearSingularValues, f.reference.nonlinear.singularValues],
            ] as const) {
              const label = `${tag} energy ${energy}, ${what}`;
              expect(B.columns, `${label}: columns vs rankByEnergy of the reported singular values`).toBe(rankByEnergy(sv, energy));
              expect(B.columns, `${label}: columns vs rankByEnergy of the reference singular values`).toBe(rankByEnergy(ref, energy));
            }
          }
        });
      }

      if (gramMode) {
        it(`${tag} memory: the retained state does not grow from 10 to 100 batches (raw rows and native Grams)`, ({ expect }) => {
          for (const feed of ['raw', 'gram'] as const) {
            const s = fresh();
            s.begin(N);
            const sizes: { own?: number; walk: number }[] = [];
            for (let b = 0; b < 100; b++) {
              s.consume(memoryBatch(b, feed));
              if (b === 9 || b === 99) sizes.push({ own: ownRetained(s), walk: reachableBufferBytes(s) });
            }
            const [ten, hundred] = sizes as [{ own?: number; walk: number }, { own?: number; walk: number }];
            const fed = 90 * 40 * N * 4 * 2;
            expect(hundred.walk - ten.walk, `${tag} ${feed}: reachable buffer bytes grew from ${ten.walk} to ${hundred.walk} over 90 more batches (${fed} bytes of rows)`).toBeLessThanOrEqual(1024);
            if (ten.own !== undefined && hundred.own !== undefined) {
              expect(hundred.own - ten.own, `${tag} ${feed}: retainedBytes grew from ${ten.own} to ${hundred.own}`).toBeLessThanOrEqual(1024);
            }
            expect(s.finish().snapshots).toBe(100 * 40);
          }
        });
      }

      it(`${tag} begin / consume / finish order: errors out of order, begin() starts a new pass`, ({ expect }) => {
        const f = fixture();
        expectOdemor(expect, errorOf(() => fresh().consume(f.batches.raw[1]!)), `${tag} consume() before begin()`);
        expectOdemor(expect, errorOf(() => fresh().finish()), `${tag} finish() before begin()`);
        const empty = fresh();
        empty.begin(N);
        expectOdemor(expect, errorOf(() => empty.finish()), `${tag} finish() with no snapshots`);
        for (const n of [0, -2, 2.5]) expectOdemor(expect, errorOf(() => fresh().begin(n)), `${tag} begin(${n})`, undefined, [String(n)]);
        // a second pass on the same instance forgets the first
        const s = fresh();
        run(s, memoryBatchList());
        expectSet(expect, run(s, f.batches.raw), f.reference, `${tag} second pass on one instance`, TOL_RAW, COLS_RAW);
      });

      it(`${tag} rejects bad batches with clear errors and keeps nothing of them`, ({ expect }) => {
        const f = fixture();
        const good = f.batches.raw[1]!;
        const s = fresh();
        s.begin(N);
        s.consume(f.batches.raw[0]!);
        const bad = (label: string, b: SnapshotBatch, codes: readonly string[], mentions: readonly (string | RegExp)[]) =>
          expectOdemor(expect, errorOf(() => s.consume(b)), `${tag} ${label}`, codes, mentions);
        bad('a batch with n = 13', { ...good, n: N + 1 }, ['SHAPE', 'ARGUMENT'], [String(N + 1), String(N)]);
        const short = good.states.subarray(0, good.states.length - 1);
        bad(`states of ${short.length} values for count ${good.count}`, { ...good, states: short }, ['SHAPE', 'ARGUMENT'], [String(short.length)]);
        const finalShort = good.final.subarray(0, good.final.length - 2);
        bad(`final of ${finalShort.length} values for ${good.samples} samples`, { ...good, final: finalShort }, ['SHAPE', 'ARGUMENT'], [String(finalShort.length)]);
        const nan = good.nonlinear.slice();
        nan[5] = NaN;
        bad('nonlinear holding NaN', { ...good, nonlinear: nan }, ['NUMERIC'], [/NaN/]);
        const inf = good.states.slice();
        inf[7] = Infinity;
        bad('states holding Infinity', { ...good, states: inf }, ['NUMERIC'], []);
        if (gramMode) {
          const g = f.batches.gram[1]!;
          bad('gram.states of n² − 1 values', { ...g, gram: { ...g.gram!, states: g.gram!.states.subarray(1) } }, ['SHAPE', 'ARGUMENT'], [String(N * N - 1)]);
        }
        for (const b of f.batches.raw.slice(1)) s.consume(b);
        expectSet(expect, s.finish(), f.reference, `${tag} after rejected batches`, TOL_RAW, COLS_RAW);
      });
    }

    if (variants.length > 1) {
      it('all variants agree: singular values and bases up to column signs (raw rows; native Grams where preferred)', ({ expect }) => {
        const f = fixture();
        const sets = variants.map(([name, o]) => ({ name, raw: run(factory({ ...o }), f.batches.raw), fed: run(factory({ ...o }), f.batches[prefers(name) ? 'gram' : 'raw']) }));
        const [first, ...rest] = sets;
        for (const other of rest) {
          expectSet(expect, other.raw, asReference(first!.raw), `${other.name} vs ${first!.name}, raw rows`, TOL_RAW, COLS_RAW);
        }
        for (const a of sets) {
          for (const b of sets) {
            if (a === b) continue;
            expectSet(expect, a.fed, asReference(b.fed), `${a.name} (${prefers(a.name) ? 'native Grams' : 'raw rows'}) vs ${b.name}`, TOL_GRAM, COLS_GRAM);
          }
        }
      });
    }
  });
}

/** A few small batches of other data, to dirty an instance before a second pass. */
function memoryBatchList(): SnapshotBatch[] {
  return [0, 1, 2].map((i) => memoryBatch(500 + i, 'raw'));
}

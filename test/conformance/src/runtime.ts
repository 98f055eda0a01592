/**
 * Conformance suite for odemor `Runtime` implementations, in the style of keyv's `@keyv/test-suite`: a package's
 * own test file is two lines,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { runtimeConformance } from '@odemor/conformance';
 * import { OnnxRuntime } from '../src/index.js';
 * runtimeConformance(it, () => new OnnxRuntime({ threads: 1 }));
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's. What it checks depends on what
 * the runtime declares in `Runtime.capabilities` — read from one instance the factory makes when the suite is
 * registered, never from the test file (docs/architecture.md, "Extension points"):
 *
 * - always: the logits of every model of {@link runtimeModelCases} (dense, conv, antisymmetric full blocks with and
 *   without a sequence input u(t); interpolated, oversampled, SVD-factored and APoZ select / scatter reduced blocks,
 *   Zin and bias; mlp blocks; state inputs with an input signal `inputs.u`; trajectory readouts)
 *   with the Euler and RK4 tableaux agree with the float64 reference {@link referenceForward}; one executable runs
 *   batches of 1, 3 and 17 (dynamic batch); row i of a batch equals the single-sample result; repeated predicts and
 *   a second build are identical; `supports()` refuses an unknown layer type with a reason naming it; a wrong input
 *   length is a SHAPE / ARGUMENT `OdemorError` naming the length; `dispose()` of executables and of the runtime;
 * - `snapshots`: `snapshotBatch` states / nonlinear terms / final states match the reference at every `every`-th step;
 * - `gram`: native batch Grams equal Σ x xᵀ of the raw rows; without it, asking for Grams still gives the raw rows;
 * - `adaptive`: models with an adaptive solver (Dormand–Prince) match a fine-step reference; without it,
 *   `supports()` refuses them and `build` rejects them.
 *
 * Runtimes get the solver the way the pipeline gives it (`build(model, { solver, tableau })`): a `Solver` instance
 * (the core's `ExplicitRungeKuttaSolver` over {@link REFERENCE_TABLEAUX}) and its tableau. Float32 runtimes are
 * compared with the float64 reference at `|got − expected| ≤ tol · (1 + |expected|)`, `tol = 1e-4` by default.
 */
import { describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import {
  ExplicitRungeKuttaSolver,
  OdemorError,
  type ButcherTableau,
  type Executable,
  type ModelIR,
  type Runtime,
  type RuntimeCapabilities,
  type SnapshotBatch,
  type Solver,
} from '@odemor/core';
import { REFERENCE_TABLEAUX, referenceForward } from './reference.js';
import { inputSize, runtimeModelCases, runtimeModels, signalInput, uniformInput, withUnknownLayer, type RuntimeModelCase } from './runtime-models.js';
import type { ConformanceIt } from './solver.js';

/**
 * The part of vitest's `it` the suite uses: a name and a test function that receives `{ expect }`; `fails`
 * (or else `skip`) registers the checks listed in {@link RuntimeConformanceOptions.knownFailures}.
 */
export type RuntimeConformanceIt = ConformanceIt & { fails?: ConformanceIt; skip?: ConformanceIt };

/** Options of {@link runtimeConformance}. */
export interface RuntimeConformanceOptions {
  /** title of the `describe` block; default `runtime '<name>' conformance` */
  title?: string;
  /** relative tolerance against the float64 reference, `|got − expected| ≤ tol · (1 + |expected|)`; default 1e-4 */
  tolerance?: number;
  /**
   * Checks known to fail, by test name (as the suite titles them) → the reason. They are registered with
   * `it.fails` (with `it.skip` when the runner has no `fails`), so the suite stays green while they fail and turns
   * red when they are fixed; the reason is appended to the title.
   */
  knownFailures?: Record<string, string>;
}

type FixedName = 'euler' | 'rk4';
const FIXED: readonly FixedName[] = ['euler', 'rk4'];
/** batch of the parity tests */
const BATCH = 3;

/** The solver instance and tableau the pipeline would pass to `build` / `snapshotBatch`. */
function solverOptions(name: FixedName | 'dopri5', rtol?: number, atol?: number): { solver: Solver; tableau: ButcherTableau } {
  const tableau = REFERENCE_TABLEAUX[name];
  const adaptive = name === 'dopri5';
  const solver = new ExplicitRungeKuttaSolver(name, tableau, adaptive, adaptive ? { rtol, atol } : {});
  return { solver, tableau };
}

/** `model` with its solver spec renamed to `use` (same dt and interval). */
function withSolver(model: ModelIR, use: string): ModelIR {
  return { ...model, solver: { ...model.solver, use } };
}

function inputFor(model: ModelIR, batch: number, seed: number): Float32Array {
  return uniformInput(seed, batch * inputSize(model));
}

/** Concatenate float64 chunks. */
function concat(chunks: Float64Array[]): Float64Array {
  const out = new Float64Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), (o += c.length));
  return out;
}

/** Σ_rows x xᵀ of `count` row-major rows of length n, in float64. */
function gramOf(rows: ArrayLike<number>, count: number, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let r = 0; r < count; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      const xi = rows[o + i]!;
      for (let j = 0; j < n; j++) g[i * n + j] = g[i * n + j]! + xi * rows[o + j]!;
    }
  }
  return g;
}

/**
 * Fail with `label[row][col]: expected …, got …` at the worst entry where `|got − want| > tol · (scale ?? 1 + |want|)`
 * (NaN always fails); `cols` is the row length for the index.
 */
function expectClose(expect: ExpectStatic, got: ArrayLike<number>, want: ArrayLike<number>, cols: number, label: string, tol: number, scale?: number): void {
  if (got.length !== want.length) expect.fail(`${label}: expected ${want.length} values, got ${got.length}`);
  let worst = -1;
  let ratio = 1;
  for (let i = 0; i < want.length; i++) {
    const allowed = tol * (scale ?? 1 + Math.abs(want[i]!));
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= allowed) && (worst < 0 || !(d / allowed <= ratio))) {
      worst = i;
      ratio = d / allowed;
    }
  }
  if (worst >= 0) {
    const r = Math.floor(worst / cols);
    const c = worst % cols;
    expect.fail(
      `${label}[${r}][${c}]: expected ${want[worst]}, got ${got[worst]} ` +
        `(|Δ| = ${Math.abs(got[worst]! - want[worst]!).toExponential(2)} > ${tol}·${scale === undefined ? '(1 + |expected|)' : scale.toExponential(2)})`,
    );
  }
}

/** `value`, or a failure with `message` when it is undefined. */
function present<T>(expect: ExpectStatic, value: T | undefined, message: string): T {
  if (value === undefined) expect.fail(message);
  return value as T;
}

/** The error `fn` throws or rejects with, or undefined. */
async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Assert an `OdemorError` with one of `codes` whose message contains every string of `mentions`. */
function expectOdemor(expect: ExpectStatic, err: unknown, label: string, codes: readonly string[] | undefined, mentions: readonly string[] = []): void {
  if (!(err instanceof OdemorError)) expect.fail(`${label}: expected an OdemorError, got ${err === undefined ? 'no error' : String(err)}`);
  if (codes && !codes.includes(err.code)) expect.fail(`${label}: expected code ${codes.join(' or ')}, got ${err.code} (${err.message})`);
  for (const m of mentions) if (!err.message.includes(m)) expect.fail(`${label}: the message should mention ${m}: ${err.message}`);
}

// ───────────────────────────── the suite ─────────────────────────────

/**
 * Register the runtime conformance tests. `it` is the runner's `it`; `factory` returns a fresh runtime (the suite
 * disposes each one it makes); the capabilities are read from one instance made now.
 */
export function runtimeConformance(it: RuntimeConformanceIt, factory: () => Runtime, options: RuntimeConformanceOptions = {}): void {
  const probe = factory();
  const caps: RuntimeCapabilities = { ...probe.capabilities };
  const title = options.title ?? `runtime '${probe.name}' conformance`;
  void probe.dispose?.();
  const tol = options.tolerance ?? 1e-4;
  const known = options.knownFailures ?? {};
  const used = new Set<string>();

  /** register one check, with a fresh runtime that is disposed afterwards */
  const check = (name: string, fn: (expect: ExpectStatic, rt: Runtime) => Promise<void> | void) => {
    const body = async ({ expect }: { expect: ExpectStatic }) => {
      const rt = factory();
      try {
        await fn(expect, rt);
      } finally {
        await rt.dispose?.();
      }
    };
    const reason = known[name];
    if (reason === undefined) return it(name, body);
    used.add(name);
    const mark = it.fails ?? it.skip;
    if (mark) mark(`${name} [known failure: ${reason}]`, body);
  };

  /** build, run `fn` with the executable, dispose it */
  const withExecutable = async <T>(rt: Runtime, model: ModelIR, solver: FixedName | 'dopri5', fn: (exe: Executable) => Promise<T>): Promise<T> => {
    const exe = await rt.build(model, { ...solverOptions(solver, model.solver.rtol, model.solver.atol) });
    try {
      return await fn(exe);
    } finally {
      await exe.dispose();
    }
  };

  /** predict `batch` samples (with an input signal u for state inputs that have one) and compare with the reference */
  const parity = async (expect: ExpectStatic, exe: Executable, model: ModelIR, label: string, batch: number, seed: number, tableau: ButcherTableau) => {
    const x = inputFor(model, batch, seed);
    const u = signalInput(model, batch, seed + 1000);
    const logits = await exe.predict(x, batch, u ? { u } : undefined);
    const ref = referenceForward(model, x, batch, tableau, 0, u ? { u } : {});
    expectClose(expect, logits, ref.logits, model.outputs, `${label}, batch ${batch}, logits`, tol);
    return { x, logits, ref };
  };

  const cases = runtimeModelCases();
  const byName = new Map(cases.map((c) => [c.name, c] as const));
  const pick = (...names: string[]): RuntimeModelCase[] => names.map((n) => byName.get(n)!);
  const fullCases = cases.filter((c) => c.model().block.kind === 'ode');
  const reducedCases = cases.filter((c) => c.model().block.kind === 'reduced');

  describe(title, () => {
    check('declares a name and its capabilities; snapshotBatch exists exactly when it declares snapshots', (expect, rt) => {
      expect(typeof rt.name).toBe('string');
      expect(rt.name.length).toBeGreaterThan(0);
      for (const key of ['snapshots', 'gram', 'adaptive', 'train'] as const) {
        expect(typeof rt.capabilities[key], `capabilities.${key}`).toBe('boolean');
      }
      expect(typeof rt.supports).toBe('function');
      expect(typeof rt.build).toBe('function');
      expect(typeof rt.snapshotBatch === 'function', 'snapshotBatch is a function').toBe(rt.capabilities.snapshots);
      if (rt.capabilities.gram) expect(rt.capabilities.snapshots, 'gram needs snapshots').toBe(true);
    });

    // ───────────── parity with the float64 reference ─────────────

    for (const c of cases) {
      for (const s of FIXED) {
        check(`${c.name}+${s}: logits match the float64 reference (batch ${BATCH})`, async (expect, rt) => {
          const model = withSolver(c.model(), s);
          const ok = rt.supports(model);
          if (!ok.ok) expect.fail(`${c.name}+${s}: supports() refused the model: ${ok.reason}`);
          await withExecutable(rt, model, s, async (exe) => {
            expect(exe.info.runtime, 'executable info.runtime').toBe(rt.name);
            expect(typeof exe.info.backend, 'executable info.backend').toBe('string');
            const { ref } = await parity(expect, exe, model, `${c.name}+${s}`, BATCH, 11, REFERENCE_TABLEAUX[s]);
            // the case exercises the runtime: the reference logits differ across samples
            let spread = 0;
            for (let j = 0; j < model.outputs; j++) spread = Math.max(spread, Math.abs(ref.logits[j]! - ref.logits[model.outputs + j]!));
            expect(spread, `${c.name}+${s}: reference logits of samples 0 and 1 differ`).toBeGreaterThan(1e-3);
          });
        });
      }
    }

    check('dynamic batch: one executable runs batches of 1, 3 and 17 (rk4)', async (expect, rt) => {
      for (const c of pick('dense', 'conv', 'antisym-seq', 'deim-built', 'svd', 'apoz', 'mlp-signal-trajectory')) {
        const model = c.model();
        await withExecutable(rt, model, 'rk4', async (exe) => {
          for (const [i, b] of [1, 3, 17].entries()) await parity(expect, exe, model, `${c.name}+rk4`, b, 20 + i, REFERENCE_TABLEAUX.rk4);
        });
      }
    });

    check('batch independence: row i of a batch of 5 equals the single-sample result (≤ 1e-5 relative)', async (expect, rt) => {
      for (const c of pick('dense', 'conv', 'dense-seq', 'odeim-conv', 'apoz-scatter-layer')) {
        const model = c.model();
        const per = inputSize(model);
        await withExecutable(rt, model, 'rk4', async (exe) => {
          const x = inputFor(model, 5, 31);
          const all = await exe.predict(x, 5);
          for (let i = 0; i < 5; i++) {
            const one = await exe.predict(x.slice(i * per, (i + 1) * per), 1);
            const row = all.subarray(i * model.outputs, (i + 1) * model.outputs);
            expectClose(expect, row, one, model.outputs, `${c.name}+rk4, row ${i} of batch 5 vs batch 1, logits`, 1e-5);
          }
        });
      }
    });

    check('determinism: repeated predicts and a second build give identical logits', async (expect, rt) => {
      for (const c of pick('dense', 'conv-same', 'antisym-seq', 'deim-seq', 'apoz')) {
        const model = c.model();
        const x = inputFor(model, 4, 41);
        const first = await withExecutable(rt, model, 'rk4', async (exe) => {
          const a = await exe.predict(x, 4);
          const b = await exe.predict(x, 4);
          expect(Array.from(b), `${c.name}+rk4: second predict on the same executable`).toEqual(Array.from(a));
          return a;
        });
        const again = await withExecutable(rt, model, 'rk4', (exe) => exe.predict(x, 4));
        expect(Array.from(again), `${c.name}+rk4: predict on a second build`).toEqual(Array.from(first));
      }
    });

    // ───────────── refusals and errors ─────────────

    check("supports() accepts every case model and refuses an unknown layer type, naming it; build rejects it", async (expect, rt) => {
      for (const c of cases) {
        const ok = rt.supports(c.model());
        expect(ok.ok, `${c.name}: supports() — ${ok.ok ? '' : ok.reason}`).toBe(true);
      }
      const bad = withUnknownLayer(runtimeModels.denseNode(), 'softmax');
      const res = rt.supports(bad);
      expect(res.ok, 'supports() of a model with a softmax post layer').toBe(false);
      if (!res.ok) {
        expect(typeof res.reason).toBe('string');
        expect(res.reason, 'the reason names the layer type').toContain('softmax');
      }
      const err = await errorOf(() => rt.build(bad, { ...solverOptions('rk4') }));
      expectOdemor(expect, err, 'build() of a model with an unknown layer type', undefined, ['softmax']);
    });

    check('predict rejects a wrong input length with a SHAPE or ARGUMENT error naming the length', async (expect, rt) => {
      for (const c of pick('dense', 'conv', 'antisym-seq', 'deim')) {
        const model = c.model();
        const per = inputSize(model);
        await withExecutable(rt, model, 'rk4', async (exe) => {
          for (const len of [3 * per - 1, 4 * per]) {
            const err = await errorOf(() => exe.predict(new Float32Array(len), 3));
            expectOdemor(expect, err, `${c.name}: predict(${len} values, batch 3)`, ['SHAPE', 'ARGUMENT'], [String(len)]);
          }
        });
      }
    });

    check('dispose() of an executable: later predicts reject, a second dispose is harmless', async (expect, rt) => {
      const model = runtimeModels.denseNode();
      const exe = await rt.build(model, { ...solverOptions('rk4') });
      const x = inputFor(model, 2, 51);
      await exe.predict(x, 2);
      await exe.dispose();
      const second = await errorOf(() => exe.dispose());
      expect(second, 'a second dispose() throws').toBeUndefined();
      const after = await errorOf(() => exe.predict(x, 2));
      expect(after, 'predict after dispose() rejects').toBeInstanceOf(Error);
    });

    check('dispose() of the runtime (when it has one) after builds and snapshot passes; a second call is harmless', async (expect) => {
      const rt = factory();
      if (!rt.dispose) return;
      const model = runtimeModels.denseNode();
      const exe = await rt.build(model, { ...solverOptions('rk4') });
      await exe.predict(inputFor(model, 2, 52), 2);
      await exe.dispose();
      if (rt.capabilities.snapshots) await rt.snapshotBatch!(model, inputFor(model, 2, 53), 2, { every: 2, ...solverOptions('rk4') });
      expect(await errorOf(() => rt.dispose!()), 'dispose()').toBeUndefined();
      expect(await errorOf(() => rt.dispose!()), 'a second dispose()').toBeUndefined();
    });

    // ───────────── snapshot passes ─────────────

    if (caps.snapshots) {
      const snapshot = (rt: Runtime, model: ModelIR, x: Float32Array, batch: number, every: number, solver: FixedName, extra: Record<string, unknown> = {}): Promise<SnapshotBatch> =>
        rt.snapshotBatch!(model, x, batch, { every, ...solverOptions(solver), ...extra });

      for (const c of fullCases) {
        for (const s of FIXED) {
          check(`${c.name}+${s}: snapshot pass matches the reference (every 1, 3, and every > steps)`, async (expect, rt) => {
            const model = withSolver(c.model(), s);
            const n = model.block.n;
            const x = inputFor(model, BATCH, 61);
            const steps = Math.ceil((model.solver.t1 - model.solver.t0) / model.solver.dt - 1e-9);
            for (const every of [1, 3, steps + 5]) {
              const label = `${c.name}+${s}, every ${every}, batch ${BATCH}`;
              const snap = await snapshot(rt, model, x, BATCH, every, s);
              const ref = referenceForward(model, x, BATCH, REFERENCE_TABLEAUX[s], every);
              const sampled = Math.floor(steps / every);
              expect(snap.n, `${label}: n`).toBe(n);
              expect(snap.count, `${label}: count`).toBe(sampled * BATCH);
              expect(snap.samples, `${label}: samples`).toBe(BATCH);
              expectClose(expect, snap.states, concat(ref.states), n, `${label}, states`, tol);
              expectClose(expect, snap.nonlinear, concat(ref.nonlinear), n, `${label}, nonlinear`, tol);
              expectClose(expect, snap.final, ref.final, n, `${label}, final`, tol);
            }
          });
        }
      }

      check('snapshotBatch refuses a reduced block and a wrong input length with OdemorErrors', async (expect, rt) => {
        for (const c of reducedCases) {
          const model = c.model();
          const err = await errorOf(() => snapshot(rt, model, inputFor(model, 2, 71), 2, 1, 'rk4'));
          expectOdemor(expect, err, `${c.name}: snapshotBatch of a reduced block`, undefined);
        }
        const model = runtimeModels.convNode();
        const len = 2 * inputSize(model) - 1;
        const err = await errorOf(() => snapshot(rt, model, new Float32Array(len), 2, 1, 'rk4'));
        expectOdemor(expect, err, `conv: snapshotBatch(${len} values, batch 2)`, ['SHAPE', 'ARGUMENT'], [String(len)]);
      });

      // ───────────── native Grams ─────────────

      if (caps.gram) {
        check('native Grams: gram.states / gram.nonlinear equal Σ x xᵀ of the raw rows (with and without raw rows)', async (expect, rt) => {
          for (const c of pick('dense', 'conv', 'antisym-seq')) {
            const model = c.model();
            if (model.block.kind !== 'ode') continue;
            const n = model.block.n;
            const x = inputFor(model, 5, 81);
            const ref = referenceForward(model, x, 5, REFERENCE_TABLEAUX.rk4, 3);
            const refStates = concat(ref.states);
            const refNonlinear = concat(ref.nonlinear);
            const count = refStates.length / n;
            const both = await snapshot(rt, model, x, 5, 3, 'rk4', { gram: true, raw: true });
            const label = `${c.name}+rk4, every 3, batch 5`;
            const bothGram = present(expect, both.gram, `${label}: snapshotBatch({ gram: true, raw: true }) returned no gram`);
            expect(both.count, `${label}: count`).toBe(count);
            expectClose(expect, both.states, refStates, n, `${label}, raw states`, tol);
            for (const [key, rows, refRows] of [['states', both.states, refStates], ['nonlinear', both.nonlinear, refNonlinear]] as const) {
              const g = bothGram[key];
              expect(g.length, `${label}: gram.${key} length`).toBe(n * n);
              const own = gramOf(rows, count, n);
              const scale = Math.max(...own.map(Math.abs));
              expectClose(expect, g, own, n, `${label}, gram.${key} vs Σ x xᵀ of the raw rows`, tol, scale);
              expectClose(expect, g, gramOf(refRows, count, n), n, `${label}, gram.${key} vs the reference`, tol, scale);
            }
            const lean = await snapshot(rt, model, x, 5, 3, 'rk4', { gram: true });
            const leanGram = present(expect, lean.gram, `${label}: snapshotBatch({ gram: true }) returned no gram`);
            expect(lean.count, `${label}: count without raw rows`).toBe(count);
            expect(lean.samples).toBe(5);
            const scale = Math.max(...gramOf(refStates, count, n).map(Math.abs));
            expectClose(expect, leanGram.states, gramOf(refStates, count, n), n, `${label}, gram.states without raw rows`, tol, scale);
            expectClose(expect, lean.final, ref.final, n, `${label}, final without raw rows`, tol);
            const none = await snapshot(rt, model, x, 5, 50, 'rk4', { gram: true });
            expect(none.count, `${label}: every > steps`).toBe(0);
            expect(Array.from(none.gram?.states ?? []), `${label}: every > steps gives a zero [n, n] gram`).toEqual(new Array(n * n).fill(0));
          }
        });
      } else {
        check('without native Grams, asking for Grams (gram: true, raw: false) still returns the raw rows', async (expect, rt) => {
          const model = runtimeModels.denseNode();
          const x = inputFor(model, 4, 82);
          const snap = await snapshot(rt, model, x, 4, 3, 'rk4', { gram: true, raw: false });
          const ref = referenceForward(model, x, 4, REFERENCE_TABLEAUX.rk4, 3);
          expectClose(expect, snap.states, concat(ref.states), 8, 'dense+rk4, every 3, gram: true, states', tol);
          expectClose(expect, snap.nonlinear, concat(ref.nonlinear), 8, 'dense+rk4, every 3, gram: true, nonlinear', tol);
        });
      }
    }

    // ───────────── adaptive solvers ─────────────

    const adaptiveModel = (m: ModelIR): ModelIR => ({ ...m, solver: { ...m.solver, use: 'dopri5', rtol: 1e-6, atol: 1e-8 } });
    if (caps.adaptive) {
      check('adaptive solver (dopri5, rtol 1e-6): logits match a fine-step float64 reference', async (expect, rt) => {
        for (const c of pick('dense', 'conv', 'antisym', 'deim-built')) {
          const model = adaptiveModel(c.model());
          const ok = rt.supports(model);
          if (!ok.ok) expect.fail(`${c.name}+dopri5: supports() refused the model: ${ok.reason}`);
          await withExecutable(rt, model, 'dopri5', async (exe) => {
            const x = inputFor(model, BATCH, 91);
            const logits = await exe.predict(x, BATCH);
            // RK4 with 200 steps: error ≪ the tolerance
            const ref = referenceForward({ ...model, solver: { ...model.solver, dt: 0.005 } }, x, BATCH, REFERENCE_TABLEAUX.rk4);
            expectClose(expect, logits, ref.logits, model.outputs, `${c.name}+dopri5, batch ${BATCH}, logits`, tol);
          });
        }
      });
    } else {
      check('refuses adaptive solvers: supports() says why, build() rejects with an OdemorError', async (expect, rt) => {
        const model = adaptiveModel(runtimeModels.denseNode());
        const res = rt.supports(model);
        expect(res.ok, 'supports() of a dopri5 model').toBe(false);
        if (!res.ok) expect(res.reason.length, 'the reason').toBeGreaterThan(0);
        const err = await errorOf(() => rt.build(model, { ...solverOptions('dopri5', 1e-6, 1e-8) }));
        expectOdemor(expect, err, 'build() with an adaptive solver', undefined);
      });
    }

    const unused = Object.keys(known).filter((k) => !used.has(k));
    if (unused.length) {
      it('knownFailures names only checks of this suite', ({ expect }) => {
        expect(unused, 'knownFailures keys that match no check').toEqual([]);
      });
    }
  });
}

/**
 * Conformance suite for odemor `Solver` implementations, in the style of keyv's `@keyv/test-suite`:
 * a package's own test file is two lines,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { solverConformance } from '@odemor/conformance';
 * import { Rk4Solver } from '../src/index.js';
 * solverConformance(it, () => new Rk4Solver());
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's. Tests switch on and off with
 * the capabilities in {@link SolverConformanceOptions.supports} (all on by default). A Solver names no tensor
 * type: the suite integrates it through core's driver on the eager tfjs algebra of `@odemor/runtime-tfjs`
 * (float32 tensors on the 'cpu' backend, so accuracy checks stay well above float32 round-off; gradients by
 * tfjs autodiff); the tableau itself is checked in float64 with the core's reference stepper.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { SyncHook } from 'tapable';
import { rkSolveFloat64, rkStepScalarWithError, type Solver, type StepInfo } from '@odemor/core';
import { ensureGradients, tensorSolver, type RhsFn, type SolveOptions, type SolveResult, type TensorSolver } from '@odemor/runtime-tfjs';

/** The part of vitest's `it` the suite uses: a name and a test function that receives `{ expect }`. */
export type ConformanceIt = (name: string, fn: (context: { expect: ExpectStatic }) => unknown, timeout?: number) => void;

/** What the solver under test can do; every flag defaults to on. */
export interface SolverCapabilities {
  /** exposes a consistent explicit Runge–Kutta `tableau` whose float64 order is checked */
  tableau?: boolean;
  /** samples `options.input` at the stage times and passes it to the rhs */
  input?: boolean;
  /** gradients flow through `solve` (tfjs autodiff) */
  gradients?: boolean;
  /** fires `options.hooks.step` once per accepted step */
  hooks?: boolean;
  /** honours `options.saveEvery` */
  saveEvery?: boolean;
  /** rows of a batch are integrated independently */
  batch?: boolean;
  /** frees every tensor it does not return, also when it throws */
  memory?: boolean;
  /** rejects bad arguments with `OdemorError('ARGUMENT')` */
  validation?: boolean;
}

/** Options of {@link solverConformance}. */
export interface SolverConformanceOptions {
  /** expected order of accuracy; default `solver.order` */
  order?: number;
  /** whether the solver is adaptive; default `solver.adaptive` */
  adaptive?: boolean;
  supports?: SolverCapabilities;
  /** title of the `describe` block; default `solver '<name>' conformance` */
  title?: string;
  /** wrap the tests in a `describe` block (default true); false registers them with `it` directly */
  group?: boolean;
  /**
   * The eager integration under test: default `solveTensor` of `@odemor/runtime-tfjs` (core's driver on the
   * tfjs algebra). A runtime author passes their own to check it with the same tests.
   */
  solve?: (solver: Solver, rhs: RhsFn, x0: tf.Tensor2D, options: SolveOptions) => SolveResult;
}

const EXP10 = Math.exp(10);

/**
 * Register the solver conformance tests with `it` (vitest's `it`). `factory` must return a fresh solver.
 * The declared `order`/`adaptive` are read from one solver the factory makes now.
 */
export function solverConformance(it: ConformanceIt, makeSolver: () => Solver, options: SolverConformanceOptions = {}): void {
  // the solver runs on the eager tfjs algebra of core's driver (autodiff, memory checks); its tableau in float64
  const integrate = options.solve;
  const factory = (): TensorSolver => {
    const solver = makeSolver();
    if (!integrate) return tensorSolver(solver);
    return Object.assign(Object.create(solver) as Solver, { solve: (r: RhsFn, x: tf.Tensor2D, o: SolveOptions) => integrate(solver, r, x, o) });
  };
  const probe = makeSolver();
  const order = options.order ?? probe.order;
  const adaptive = options.adaptive ?? probe.adaptive;
  const sup: Required<SolverCapabilities> = {
    tableau: true,
    input: true,
    gradients: true,
    hooks: true,
    saveEvery: true,
    batch: true,
    memory: true,
    validation: true,
    ...options.supports,
  };
  /** solve options: adaptive solvers get explicit tolerances, fixed-step solvers none */
  const tol = (rtol: number, atol = 1e-9): Partial<SolveOptions> => (adaptive ? { rtol, atol } : {});
  const cases = (name: string, fn: (expect: ExpectStatic) => unknown) =>
    it(name, async ({ expect }) => {
      if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
      await fn(expect);
    });

  const register = () => {

    cases('declares a name, a positive order and whether it is adaptive', (expect) => {
      const s = factory();
      expect(typeof s.name).toBe('string');
      expect(s.name.length).toBeGreaterThan(0);
      expect(Number.isInteger(s.order) && s.order >= 1).toBe(true);
      expect(typeof s.adaptive).toBe('boolean');
      expect(s.order).toBe(order);
      expect(s.adaptive).toBe(adaptive);
    });

    // ───────────── accuracy ─────────────

    // float32 cannot resolve the asymptotic regime of order ≥ 5 methods: the float64 tableau test covers those
    if (!adaptive && order <= 4) {
      for (const problem of ORDER_PROBLEMS) {
        cases(`observed order ≈ declared order ${order} by step halving on ${problem.label} (float32)`, (expect) => {
          const s = factory();
          const errors: { h: number; e: number }[] = [];
          // relative errors for 4, 8, …, 2048 steps, until they drop below what float32 resolves well
          for (let steps = 4; steps <= 2048; steps *= 2) {
            const h = problem.t1 / steps;
            const y = solveScalar(s, problem.rhs, 1, { t0: 0, t1: problem.t1, dt: h });
            const e = Math.abs(y - problem.exact) / problem.exact;
            errors.push({ h, e });
            if (e < 2e-5) break;
          }
          // the finest pair whose finer error (≥ 2e-5) still dwarfs float32 round-off
          let pick: [number, number] | undefined;
          for (let i = 0; i + 1 < errors.length; i++) if (errors[i + 1]!.e >= 2e-5) pick = [errors[i]!.e, errors[i + 1]!.e];
          expect(pick, `no step pair with errors above float32 round-off: ${JSON.stringify(errors)}`).toBeDefined();
          const observed = Math.log2(pick![0] / pick![1]);
          expect(observed, `errors ${JSON.stringify(errors)}`).toBeGreaterThan(order - 0.5);
          expect(observed, `errors ${JSON.stringify(errors)}`).toBeLessThan(order + 0.5);
        });
      }
    }

    if (adaptive) {
      for (const problem of ADAPTIVE_PROBLEMS) {
        cases(`meets its tolerance on ${problem.label} (float32, rtol 1e-5)`, (expect) => {
          const s = factory();
          const res = solveScalarFull(s, problem.rhs, 1, { t0: 0, t1: 1, dt: 0.5, rtol: 1e-5, atol: 1e-8 });
          expect(Math.abs(res.y - problem.exact) / problem.exact).toBeLessThan(1e-4);
          expect(res.stats.accepted).toBeGreaterThan(0);
          expect(res.stats.nfe).toBeGreaterThanOrEqual(res.stats.accepted + res.stats.rejected);
        });
      }

      cases('a tighter tolerance takes more steps and gives a smaller error', (expect) => {
        const s = factory();
        const p = ADAPTIVE_PROBLEMS[1]!;
        const loose = solveScalarFull(s, p.rhs, 1, { t0: 0, t1: 1, dt: 0.1, rtol: 1e-2, atol: 1e-4 });
        const tight = solveScalarFull(s, p.rhs, 1, { t0: 0, t1: 1, dt: 0.1, rtol: 1e-6, atol: 1e-9 });
        expect(tight.stats.accepted).toBeGreaterThan(loose.stats.accepted);
        expect(Math.abs(tight.y - p.exact)).toBeLessThan(Math.abs(loose.y - p.exact));
      });

      cases('rejects a too-large first step and counts it', (expect) => {
        const s = factory();
        const res = solveScalarFull(s, ADAPTIVE_PROBLEMS[1]!.rhs, 1, { t0: 0, t1: 4, dt: 4, rtol: 1e-6, atol: 1e-9 });
        expect(res.stats.rejected).toBeGreaterThan(0);
      });
    }

    if (!adaptive) {
      cases('takes ceil((t1 − t0)/dt − 1e-9) steps, the last one shortened to land on t1', (expect) => {
        const s = factory();
        for (const [t0, t1, dt, n] of [
          [0, 1, 0.3, 4],
          [0, 1, 0.1, 10],
          [0, 0.7, 0.1, 7],
          [1, 3, 0.5, 4],
        ] as const) {
          const hs: number[] = [];
          const ts: number[] = [];
          const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
          hooks.step.tap('count', (info) => {
            hs.push(info.h);
            ts.push(info.t);
          });
          const x0 = tf.ones([1, 1]) as tf.Tensor2D;
          const res = s.solve((_t, x) => tf.neg(x), x0, { t0, t1, dt, hooks });
          tf.dispose([x0, res.y]);
          expect(res.stats.accepted).toBe(n);
          expect(res.stats.rejected).toBe(0);
          if (!sup.hooks) continue;
          expect(hs.length).toBe(n);
          expect(ts[0]).toBe(t0);
          expect(ts[n - 1]! + hs[n - 1]!).toBeCloseTo(t1, 12);
          for (let i = 0; i < n - 1; i++) expect(hs[i]).toBeCloseTo(dt, 12);
          expect(hs[n - 1]! > 0 && hs[n - 1]! <= dt + 1e-9).toBe(true);
        }
      });
    }

    cases('t1 = t0 returns a copy of x0 after 0 steps', (expect) => {
      const s = factory();
      const x0 = tf.tensor2d([[1, -2, 3]]);
      const res = s.solve(() => {
        throw new Error('rhs must not be called');
      }, x0, { t0: 0.5, t1: 0.5, dt: 0.1, ...tol(1e-6) });
      expect(res.y).not.toBe(x0);
      expect(Array.from(res.y.dataSync())).toEqual([1, -2, 3]);
      expect(res.stats.accepted).toBe(0);
      res.y.dispose();
      expect(x0.isDisposed).toBe(false);
      x0.dispose();
    });

    // ───────────── tableau ─────────────

    if (sup.tableau) {
      cases('exposes a consistent explicit tableau (a strictly lower triangular, rows sum to c, c[0] = 0, b and bHat sum to 1)', (expect) => {
        const s = factory();
        const tab = s.tableau;
        expect(tab, 'solver.tableau').toBeDefined();
        const { a, b, c } = tab!;
        const n = b.length;
        expect(n).toBeGreaterThan(0);
        expect(c.length).toBe(n);
        expect(a.length).toBe(n);
        expect(c[0]).toBe(0);
        for (let i = 0; i < n; i++) {
          expect(a[i]!.length, `a[${i}] length`).toBe(n);
          for (let j = i; j < n; j++) expect(a[i]![j], `a[${i}][${j}]`).toBe(0);
          expect(sum(a[i]!), `row ${i} of a`).toBeCloseTo(c[i]!, 12);
        }
        expect(sum(b)).toBeCloseTo(1, 12);
        expect(tab!.order).toBe(s.order);
        if (adaptive) {
          expect(tab!.bHat, 'an adaptive solver needs bHat').toBeDefined();
          expect(tab!.embeddedOrder, 'an adaptive solver declares embeddedOrder').toBeDefined();
        }
        if (tab!.bHat) {
          expect(tab!.bHat.length).toBe(n);
          expect(sum(tab!.bHat)).toBeCloseTo(1, 12);
          if (tab!.embeddedOrder !== undefined) expect(tab!.embeddedOrder).toBeLessThan(tab!.order);
        }
      });

      for (const problem of FLOAT64_PROBLEMS) {
        cases(`the tableau has order ${order} in float64 on ${problem.label}`, (expect) => {
          const tab = factory().tableau!;
          expect(tab).toBeDefined();
          const errors: number[] = [];
          let pick: [number, number] | undefined;
          for (let steps = 8; steps <= 1024; steps *= 2) {
            const y = rkSolveFloat64(tab, problem.rhs, 1, { t0: 0, t1: 1, dt: 1 / steps }).y[0]!;
            errors.push(Math.abs(y - problem.exact));
            const k = errors.length - 1;
            if (k > 0 && errors[k]! >= 1e-11) pick = [errors[k - 1]!, errors[k]!];
          }
          expect(pick, `errors ${errors.join(', ')}`).toBeDefined();
          expect(Math.abs(Math.log2(pick![0] / pick![1]) - order)).toBeLessThan(0.25);
        });
      }

      if (adaptive) {
        cases('the embedded weights have the declared embedded order (float64 local error)', (expect) => {
          const tab = factory().tableau!;
          expect(tab.bHat).toBeDefined();
          const q = tab.embeddedOrder!;
          const local = (h: number) => Math.abs(rkStepScalarWithError(tab, (t, y) => -2 * t * y, 0.3, Math.exp(-0.09), h).yHat! - Math.exp(-((0.3 + h) ** 2)));
          // local error ~ C h^(q+1)
          expect(Math.abs(Math.log2(local(0.02) / local(0.01)) - (q + 1))).toBeLessThan(0.3);
        });

        cases('the step-size control with this tableau meets rtol 1e-8 in float64', (expect) => {
          const tab = factory().tableau!;
          for (const problem of FLOAT64_PROBLEMS) {
            const res = rkSolveFloat64(tab, problem.rhs, 1, { t0: 0, t1: 1, dt: 0.1, adaptive: true, rtol: 1e-8, atol: 1e-12 });
            expect(Math.abs(res.y[0]! - problem.exact) / problem.exact, problem.label).toBeLessThan(1e-7);
            expect(res.stats.accepted).toBeGreaterThan(0);
          }
        });
      }

      if (!adaptive) {
        cases('the tensor solve follows its tableau (float32 vs float64 reference of the same steps)', (expect) => {
          const s = factory();
          for (const problem of FLOAT64_PROBLEMS) {
            const ref = rkSolveFloat64(s.tableau!, problem.rhs, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
            const y = solveScalar(s, problem.tensorRhs, 1, { t0: 0, t1: 1, dt: 0.1 });
            expect(Math.abs(y - ref) / Math.abs(ref), problem.label).toBeLessThan(2e-6);
          }
        });
      }
    }

    // ───────────── hooks and saved states ─────────────

    if (sup.hooks) {
      cases('fires hooks.step once per accepted step, with consecutive t, index and a live state', (expect) => {
        const s = factory();
        const seen: { t: number; h: number; index: number; shape: number[]; disposed: boolean }[] = [];
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        hooks.step.tap('record', (i) => seen.push({ t: i.t, h: i.h, index: i.index, shape: [...i.state.shape], disposed: i.state.isDisposed }));
        const x0 = tf.tensor2d([[1, 0.5], [2, -1]]);
        const res = s.solve((t, x) => tf.mul(x, -2 * t), x0, { t0: 0, t1: 1.3, dt: 0.1, hooks, ...tol(1e-6) });
        tf.dispose([x0, res.y, ...(res.states ?? [])]);
        expect(seen.length).toBe(res.stats.accepted);
        expect(seen.length).toBeGreaterThan(0);
        seen.forEach((step, k) => {
          expect(step.index).toBe(k);
          expect(step.shape).toEqual([2, 2]);
          expect(step.disposed).toBe(false);
          expect(step.h).toBeGreaterThan(0);
          if (k > 0) expect(step.t).toBeCloseTo(seen[k - 1]!.t + seen[k - 1]!.h, 12);
        });
        expect(seen[0]!.t).toBe(0);
        expect(seen.at(-1)!.t + seen.at(-1)!.h).toBeCloseTo(1.3, 12);
      });
    }

    if (sup.saveEvery) {
      cases('saveEvery keeps every saveEvery-th accepted state and its time', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1], [2]]);
        const all = s.solve((_t, x) => tf.neg(x), x0, { t0: 0, t1: 1, dt: 0.1, saveEvery: 1, ...tol(1e-6) });
        const third = s.solve((_t, x) => tf.neg(x), x0, { t0: 0, t1: 1, dt: 0.1, saveEvery: 3, ...tol(1e-6) });
        const n = all.stats.accepted;
        expect(all.states!.length).toBe(n);
        expect(all.times!.length).toBe(n);
        expect(all.times!.at(-1)).toBeCloseTo(1, 12);
        expect(Array.from(all.states!.at(-1)!.dataSync())).toEqual(Array.from(all.y.dataSync()));
        for (let i = 1; i < n; i++) expect(all.times![i]!).toBeGreaterThan(all.times![i - 1]!);
        expect(third.states!.length).toBe(Math.floor(third.stats.accepted / 3));
        third.times!.forEach((t, k) => expect(t).toBeCloseTo(all.times![3 * k + 2]!, 12));
        third.states!.forEach((st, k) => {
          const v = st.dataSync();
          const ref = all.states![3 * k + 2]!.dataSync();
          // with saveEvery 3, the k-th kept state is the one after step 3k+2
          expect(v[0]).toBeCloseTo(ref[0]!, 5);
          expect(v[1]).toBeCloseTo(ref[1]!, 5);
        });
        tf.dispose([x0, all.y, third.y, ...all.states!, ...third.states!]);
      });
    }

    // ───────────── batch ─────────────

    if (sup.batch) {
      cases('integrates the rows of a batch independently', (expect) => {
        const s = factory();
        // pendulum: x0' = x1, x1' = −sin x0, plus a time-dependent forcing
        const rhs: RhsFn = (t, x) =>
          tf.tidy(() => {
            const q = tf.slice(x, [0, 0], [-1, 1]);
            const p = tf.slice(x, [0, 1], [-1, 1]);
            return tf.concat([p, tf.add(tf.neg(tf.sin(q)), 0.1 * Math.cos(t))], 1) as tf.Tensor2D;
          });
        const rows = [
          [0.1, 0],
          [1, -0.5],
          [-2, 1],
          [3, 0.25],
        ];
        const opts: SolveOptions = { t0: 0, t1: 2, dt: 0.1, ...tol(1e-5, 1e-8) };
        const x0 = tf.tensor2d(rows);
        const together = s.solve(rhs, x0, opts);
        const all = together.y.arraySync();
        tf.dispose([x0, together.y]);
        rows.forEach((row, i) => {
          const xi = tf.tensor2d([row]);
          const alone = s.solve(rhs, xi, opts);
          const v = alone.y.arraySync()[0]!;
          tf.dispose([xi, alone.y]);
          // fixed-step: the same arithmetic; adaptive: different steps, each within tolerance
          const bound = adaptive ? 5e-4 : 1e-6;
          for (let j = 0; j < 2; j++) expect(Math.abs(v[j]! - all[i]![j]!), `row ${i}, column ${j}`).toBeLessThan(bound);
        });
      });
    }

    // ───────────── input ─────────────

    if (sup.input) {
      cases('samples the input u(t) at the stage times: y′ = u(t), u = cos t gives sin t', (expect) => {
        const s = factory();
        const inputTimes: number[] = [];
        const rhsCalls: { t: number; u: number | undefined }[] = [];
        const stepStarts: { t: number; h: number }[] = [];
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        hooks.step.tap('steps', (i) => stepStarts.push({ t: i.t, h: i.h }));
        const dt = 0.05;
        const x0 = tf.zeros([2, 1]) as tf.Tensor2D;
        const res = s.solve(
          (t, _x, u) => {
            rhsCalls.push({ t, u: u ? u.dataSync()[0] : undefined });
            return tf.clone(u!) as tf.Tensor2D;
          },
          x0,
          {
            t0: 0,
            t1: 1,
            dt,
            input: (t) => {
              inputTimes.push(t);
              return tf.fill([2, 1], Math.cos(t)) as tf.Tensor2D;
            },
            ...(sup.hooks ? { hooks } : {}),
            ...tol(1e-7, 1e-9),
          },
        );
        const y = Array.from(res.y.dataSync());
        tf.dispose([x0, res.y]);
        expect(rhsCalls.length).toBe(res.stats.nfe);
        for (const call of rhsCalls) {
          expect(call.u, `u passed at t=${call.t}`).toBeDefined();
          expect(call.u!).toBeCloseTo(Math.cos(call.t), 6);
          expect(inputTimes).toContain(call.t);
        }
        const bound = adaptive ? 1e-5 : Math.max(dt ** order, 2e-6);
        for (const v of y) expect(Math.abs(v - Math.sin(1))).toBeLessThan(bound);
        if (sup.tableau && sup.hooks && s.tableau) {
          const allowed = stepStarts.flatMap(({ t, h }) => s.tableau!.c.map((ci) => t + ci * h));
          // rejected steps of adaptive solvers sample their own stage times too
          if (!adaptive) {
            for (const t of inputTimes) expect(allowed.some((a) => Math.abs(a - t) < 1e-12), `input sampled at t=${t}, not a stage time`).toBe(true);
          }
          // every stage time of every accepted step was sampled (rejected steps may add more)
          for (const a of allowed) expect(inputTimes.some((t) => Math.abs(a - t) < 1e-12), `stage time ${a} never sampled`).toBe(true);
        }
      });
    }

    // ───────────── gradients ─────────────

    if (sup.gradients) {
      cases('gradients flow through the solve: d sum(y(1))/dx0 ≈ e^−1 for y′ = −y', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1, 2], [-3, 0.5]]);
        const opts: SolveOptions = { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) };
        const g = tf.grad((x: tf.Tensor) => tf.sum(s.solve((_t, xx) => tf.neg(xx), x as tf.Tensor2D, opts).y))(x0);
        const grad = Array.from(g.dataSync());
        const y = s.solve((_t, xx) => tf.neg(xx), x0, opts);
        const ratio = y.y.dataSync()[0]! / 1; // the solve is linear: y(1) = Φ x0
        tf.dispose([g, y.y]);
        expect(x0.isDisposed).toBe(false);
        x0.dispose();
        for (const v of grad) {
          expect(Math.abs(v - ratio)).toBeLessThan(1e-5);
          expect(Math.abs(v - Math.exp(-1))).toBeLessThan(0.05);
        }
      });

      cases('gradients flow to parameters of the rhs: d sum(y(1))/da = −sum(x0) e^−a for y′ = −a y', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1, 2]]);
        const a = tf.scalar(1);
        const opts: SolveOptions = { t0: 0, t1: 1, dt: 0.05, ...tol(1e-6) };
        const [, ga] = tf.grads((x: tf.Tensor, p: tf.Tensor) => tf.sum(s.solve((_t, xx) => tf.mul(xx, tf.neg(p)) as tf.Tensor2D, x as tf.Tensor2D, opts).y))([x0, a]);
        const v = ga!.dataSync()[0]!;
        tf.dispose([x0, a, ga!]);
        expect(Math.abs(v - -3 * Math.exp(-1)) / (3 * Math.exp(-1))).toBeLessThan(0.06);
      });
    }

    // ───────────── memory ─────────────

    if (sup.memory) {
      cases('frees its intermediates and never disposes x0 or what it returns', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1, 2, 3]]);
        const u = tf.ones([1, 1]) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        const res = s.solve((t, x, uu) => tf.add(tf.mul(x, -1), uu ?? 0) as tf.Tensor2D, x0, {
          t0: 0,
          t1: 1,
          dt: 0.1,
          saveEvery: 2,
          ...(sup.input ? { input: () => u } : {}),
          ...(sup.hooks ? { hooks } : {}),
          ...tol(1e-6),
        });
        const kept = 1 + (res.states?.length ?? 0);
        expect(tf.memory().numTensors - before).toBe(kept);
        expect(x0.isDisposed).toBe(false);
        expect(u.isDisposed).toBe(false);
        expect(res.y.isDisposed).toBe(false);
        // returned tensors stay valid after a caller's tidy around the solve
        const inTidy = tf.tidy(() => s.solve((_t, x) => tf.neg(x), x0, { t0: 0, t1: 1, dt: 0.25, ...tol(1e-6) }).y);
        expect(inTidy.isDisposed).toBe(false);
        tf.dispose([res.y, ...(res.states ?? []), inTidy]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x0, u]);
      });
    }

    // ───────────── bad arguments ─────────────

    if (sup.validation) {
      const argError = (expect: ExpectStatic, fn: () => unknown, mentions: RegExp) => {
        let error: unknown;
        try {
          fn();
        } catch (e) {
          error = e;
        }
        expect(error, `expected an OdemorError mentioning ${mentions}`).toBeDefined();
        expect(error).toMatchObject({ name: 'OdemorError', code: 'ARGUMENT' });
        expect((error as Error).message).toMatch(mentions);
      };
      const neg: RhsFn = (_t, x) => tf.neg(x);

      cases('rejects dt <= 0 or non-finite dt, naming dt', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 2]) as tf.Tensor2D;
        for (const dt of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
          argError(expect, () => s.solve(neg, x0, { t0: 0, t1: 1, dt }), /dt/);
        }
        x0.dispose();
      });

      cases('rejects t1 < t0 and non-finite times, naming them', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 2]) as tf.Tensor2D;
        argError(expect, () => s.solve(neg, x0, { t0: 1, t1: 0, dt: 0.1 }), /t1/);
        argError(expect, () => s.solve(neg, x0, { t0: Number.NaN, t1: 1, dt: 0.1 }), /t0/);
        argError(expect, () => s.solve(neg, x0, { t0: 0, t1: Number.POSITIVE_INFINITY, dt: 0.1 }), /t1/);
        x0.dispose();
      });

      cases('rejects an x0 that is not rank 2, naming x0', (expect) => {
        const s = factory();
        const x1 = tf.ones([3]);
        const x3 = tf.ones([1, 2, 2]);
        argError(expect, () => s.solve(neg, x1 as unknown as tf.Tensor2D, { t0: 0, t1: 1, dt: 0.1 }), /x0/);
        argError(expect, () => s.solve(neg, x3 as unknown as tf.Tensor2D, { t0: 0, t1: 1, dt: 0.1 }), /x0/);
        tf.dispose([x1, x3]);
      });

      cases('rejects an rhs that returns a different shape, naming rhs and the shapes', (expect) => {
        const s = factory();
        const x0 = tf.ones([2, 3]) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        argError(expect, () => s.solve(() => tf.ones([2, 4]) as tf.Tensor2D, x0, { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }), /rhs[\s\S]*\[2, 4\]/);
        argError(expect, () => s.solve(() => tf.ones([3, 3]) as tf.Tensor2D, x0, { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }), /rhs/);
        if (sup.memory) expect(tf.memory().numTensors).toBe(before);
        x0.dispose();
      });

      cases('rejects a NaN or infinite x0', (expect) => {
        const s = factory();
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
          const x0 = tf.tensor2d([[1, bad]]);
          argError(expect, () => s.solve(neg, x0, { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }), /x0|NaN|finite/);
          x0.dispose();
        }
      });

      cases('reports a state that blows up to Inf/NaN instead of returning it', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 1]) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        // y′ = y², y(0) = 1 blows up at t = 1
        let error: unknown;
        try {
          s.solve((_t, x) => tf.square(x), x0, { t0: 0, t1: 2, dt: 0.01, ...tol(1e-6), maxSteps: 5000 });
        } catch (e) {
          error = e;
        }
        expect(error).toMatchObject({ name: 'OdemorError' });
        if (sup.memory) expect(tf.memory().numTensors).toBe(before);
        x0.dispose();
      });

      if (adaptive) {
        cases('rejects rtol <= 0 and atol <= 0, naming them', (expect) => {
          const s = factory();
          const x0 = tf.ones([1, 1]) as tf.Tensor2D;
          argError(expect, () => s.solve(neg, x0, { t0: 0, t1: 1, dt: 0.1, rtol: 0 }), /rtol/);
          argError(expect, () => s.solve(neg, x0, { t0: 0, t1: 1, dt: 0.1, atol: -1 }), /atol/);
          x0.dispose();
        });
      }
    }
  };

  if (options.group === false) {
    register();
    return;
  }
  describe(options.title ?? `solver '${probe.name}' conformance`, () => {
    beforeAll(async () => {
      await ensureGradients();
      await tf.setBackend('cpu');
    });
    register();
  });
}

// ───────────── problems and helpers ─────────────

interface TensorProblem {
  label: string;
  rhs: RhsFn;
  t1: number;
  exact: number;
}

/** Long horizons so the errors of a float32 solve stay far above round-off while h is small. */
const ORDER_PROBLEMS: TensorProblem[] = [
  { label: "y′ = y on [0, 10]", rhs: (_t, x) => tf.clone(x) as tf.Tensor2D, t1: 10, exact: EXP10 },
  { label: "y′ = 2ty on [0, 3] (time-dependent)", rhs: (t, x) => tf.mul(x, 2 * t) as tf.Tensor2D, t1: 3, exact: Math.exp(9) },
];

const ADAPTIVE_PROBLEMS: { label: string; rhs: RhsFn; exact: number }[] = [
  { label: "y′ = y on [0, 1]", rhs: (_t, x) => tf.clone(x) as tf.Tensor2D, exact: Math.E },
  { label: "y′ = −2ty on [0, 1], y = e^(−t²)", rhs: (t, x) => tf.mul(x, -2 * t) as tf.Tensor2D, exact: Math.exp(-1) },
];

const FLOAT64_PROBLEMS: { label: string; rhs: (t: number, y: Float64Array) => number[]; tensorRhs: RhsFn; exact: number }[] = [
  { label: "y′ = y on [0, 1]", rhs: (_t, y) => [y[0]!], tensorRhs: ADAPTIVE_PROBLEMS[0]!.rhs, exact: Math.E },
  { label: "y′ = −2ty on [0, 1]", rhs: (t, y) => [-2 * t * y[0]!], tensorRhs: ADAPTIVE_PROBLEMS[1]!.rhs, exact: Math.exp(-1) },
];

function sum(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0);
}

function solveScalarFull(s: TensorSolver, rhs: RhsFn, y0: number, opts: SolveOptions) {
  const x0 = tf.tensor2d([[y0]]);
  const res = s.solve(rhs, x0, opts);
  const y = res.y.dataSync()[0]!;
  tf.dispose([x0, res.y, ...(res.states ?? [])]);
  return { y, stats: res.stats };
}

function solveScalar(s: TensorSolver, rhs: RhsFn, y0: number, opts: SolveOptions): number {
  return solveScalarFull(s, rhs, y0, opts).y;
}

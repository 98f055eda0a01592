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
 *
 * A failure names the case and the field (see `checker` in `./check.ts`), e.g. `dopri5, y′ = y on [0, 1],
 * dt 0.5, rtol 1e-5, atol 1e-8: y(1): expected 2.718281828459045 ± 1e-4 relative, got 2.719285726547241
 * (relative error 3.69e-4)` or `rk4, y′ = −y on [0, 1], dt 0.3: hooks.step: calls: expected 4, got 0`, instead
 * of vitest's bare `expected 0 to be 4`. The checks are those of the vitest matchers they replace (strict
 * `<` as `toBeLessThan`, `toBeCloseTo`'s bound): only the messages differ.
 *
 * A solver that declares `derivatives` (a Taylor method: its step asks the runtime for the exact time derivatives
 * x⁽¹⁾ … x⁽ᴺ⁾ of the solution, `StepContext.derivatives`) is read as such from the instance itself: every solve of
 * the suite then also passes the exact derivatives of its problem (y′ = g(t) y with g a polynomial: x⁽ᵏ⁾ = P_k(t) y,
 * P_1 = g, P_{k+1} = P_k′ + g P_k, the ∂/∂t terms included; y′ = y²: x⁽ᵏ⁾ = k! y^{k+1}; a forced linear oscillator
 * in place of the pendulum), with no midpoint (Γ = 0). Problems without closed-form derivatives are skipped for
 * such a solver (the input u(t) problem: `input` defaults to off), the rhs-shape check becomes a check of the
 * derivatives' count, and a float64 order check of the step program replaces the tableau checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { SyncHook } from 'tapable';
import { float64Algebra, rkSolveFloat64, rkStepScalarWithError, solveWith, type Solver, type StepInfo } from '@odemor/core';
import { ensureGradients, tensorSolver, type RhsFn, type SolveOptions, type SolveResult, type TensorSolver } from '@odemor/runtime-tfjs';
import { checker, show, type Checker } from './check.js';

/** The part of vitest's `it` the suite uses: a name and a test function that receives `{ expect }`. */
export type ConformanceIt = (name: string, fn: (context: { expect: ExpectStatic }) => unknown, timeout?: number) => void;

/** What the solver under test can do; every flag defaults to on. */
export interface SolverCapabilities {
  /** exposes a consistent explicit Runge–Kutta `tableau` whose float64 order is checked (default off for a solver that declares `derivatives`) */
  tableau?: boolean;
  /**
   * samples `options.input` at the stage times and passes it to the rhs (default off for a solver that declares
   * `derivatives`: the kit has no closed-form derivatives for its input problem, and must not be turned on for one)
   */
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
  /** the solver's step asks for exact time derivatives: every solve passes its problem's (read from the solver, never claimed) */
  const derives = probe.derivatives !== undefined && probe.derivatives > 0;
  if (derives && options.supports?.input) {
    throw new Error(`solverConformance: solver '${probe.name}' declares derivatives (${probe.derivatives}); the kit has no closed-form derivatives for its input problem y′ = u(t), so supports.input must stay off`);
  }
  const sup: Required<SolverCapabilities> = {
    tableau: !derives,
    input: !derives,
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
  /** `o` plus the problem's exact derivatives, for a solver that declares `derivatives` (others get `o` unchanged) */
  const d = <O extends SolveOptions>(o: O, derivatives: TensorDerivatives): O => (derives ? { ...o, derivatives } : o);
  const cases = (name: string, fn: (expect: ExpectStatic) => unknown) =>
    it(name, async ({ expect }) => {
      if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
      await fn(expect);
    });

  const register = () => {

    cases('declares a name, a positive order and whether it is adaptive', (expect) => {
      const s = factory();
      const c = checker(expect, `solver '${String(s.name)}'`);
      c.is('typeof name', typeof s.name, 'string');
      c.above('name.length', s.name.length, 0);
      c.ok('order', Number.isInteger(s.order) && s.order >= 1, `expected a positive integer, got ${show(s.order)}`);
      c.is('typeof adaptive', typeof s.adaptive, 'boolean');
      c.is('order', s.order, order);
      c.is('adaptive', s.adaptive, adaptive);
      c.ok('derivatives', s.derivatives === undefined || (Number.isInteger(s.derivatives) && s.derivatives >= 1), `expected undefined or a positive integer, got ${show(s.derivatives)}`);
    });

    // ───────────── accuracy ─────────────

    // float32 cannot resolve the asymptotic regime of order ≥ 5 methods: the float64 tableau test covers those
    if (!adaptive && order <= 4) {
      for (const problem of ORDER_PROBLEMS) {
        cases(`observed order ≈ declared order ${order} by step halving on ${problem.label} (float32)`, (expect) => {
          const s = factory();
          const c = solverChecker(expect, `${s.name}, ${problem.ode} on [0, ${problem.t1}], float32, 4, 8, … steps`);
          const errors: { h: number; e: number }[] = [];
          // relative errors for 4, 8, …, 2048 steps, until they drop below what float32 resolves well
          for (let steps = 4; steps <= 2048; steps *= 2) {
            const h = problem.t1 / steps;
            const y = solveScalar(s, problem.rhs, 1, d({ t0: 0, t1: problem.t1, dt: h }, problem.derivatives));
            const e = Math.abs(y - problem.exact) / problem.exact;
            errors.push({ h, e });
            if (e < 2e-5) break;
          }
          const list = errors.map(({ h, e }) => `dt ${num(h)}: ${e.toPrecision(3)}`).join(', ');
          // the finest pair whose finer error (≥ 2e-5) still dwarfs float32 round-off
          let pick: [number, number] | undefined;
          for (let i = 0; i + 1 < errors.length; i++) if (errors[i + 1]!.e >= 2e-5) pick = [errors[i]!.e, errors[i + 1]!.e];
          c.ok('relative errors', pick !== undefined, `no step pair with errors above float32 round-off: ${list}`);
          const observed = Math.log2(pick![0] / pick![1]);
          const field = `observed order log2(e(dt)/e(dt/2)) at the finest pair with e ≥ 2e-5 (relative errors ${list})`;
          c.above(field, observed, order - 0.5);
          c.below(field, observed, order + 0.5);
        });
      }
    }

    if (adaptive) {
      for (const problem of ADAPTIVE_PROBLEMS) {
        cases(`meets its tolerance on ${problem.label} (float32, rtol 1e-5)`, (expect) => {
          const s = factory();
          const o: SolveOptions = { t0: 0, t1: 1, dt: 0.5, rtol: 1e-5, atol: 1e-8 };
          const c = solverChecker(expect, solveCase(s.name, problem.ode, o));
          const res = solveScalarFull(s, problem.rhs, 1, d(o, problem.derivatives));
          c.relWithin('y(1)', res.y, problem.exact, 1e-4);
          c.above('stats.accepted', res.stats.accepted, 0);
          c.atLeast('stats.nfe (≥ accepted + rejected)', res.stats.nfe, res.stats.accepted + res.stats.rejected);
        });
      }

      cases('a tighter tolerance takes more steps and gives a smaller error', (expect) => {
        const s = factory();
        const p = ADAPTIVE_PROBLEMS[1]!;
        const c = solverChecker(expect, `${s.name}, ${p.ode} on [0, 1], dt 0.1`);
        const loose = solveScalarFull(s, p.rhs, 1, d({ t0: 0, t1: 1, dt: 0.1, rtol: 1e-2, atol: 1e-4 }, p.derivatives));
        const tight = solveScalarFull(s, p.rhs, 1, d({ t0: 0, t1: 1, dt: 0.1, rtol: 1e-6, atol: 1e-9 }, p.derivatives));
        c.above('stats.accepted at rtol 1e-6, atol 1e-9 (more than at rtol 1e-2, atol 1e-4)', tight.stats.accepted, loose.stats.accepted);
        c.below('|y(1) − exact| at rtol 1e-6, atol 1e-9 (less than at rtol 1e-2, atol 1e-4)', Math.abs(tight.y - p.exact), Math.abs(loose.y - p.exact));
      });

      cases('rejects a too-large first step and counts it', (expect) => {
        const s = factory();
        const o: SolveOptions = { t0: 0, t1: 4, dt: 4, rtol: 1e-6, atol: 1e-9 };
        const res = solveScalarFull(s, ADAPTIVE_PROBLEMS[1]!.rhs, 1, d(o, ADAPTIVE_PROBLEMS[1]!.derivatives));
        checker(expect, solveCase(s.name, ADAPTIVE_PROBLEMS[1]!.ode, o)).above('stats.rejected', res.stats.rejected, 0);
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
          const c = solverChecker(expect, solveCase(s.name, 'y′ = −y', { t0, t1, dt }));
          const hs: number[] = [];
          const ts: number[] = [];
          const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
          hooks.step.tap('count', (info) => {
            hs.push(info.h);
            ts.push(info.t);
          });
          const x0 = tf.ones([1, 1]) as tf.Tensor2D;
          const res = s.solve((_t, x) => tf.neg(x), x0, d({ t0, t1, dt, hooks }, NEG_DERIVATIVES));
          tf.dispose([x0, res.y]);
          c.is('stats.accepted', res.stats.accepted, n);
          c.is('stats.rejected', res.stats.rejected, 0);
          if (!sup.hooks) continue;
          const h = c.at('hooks.step');
          h.is('calls', hs.length, n);
          h.is('t of the first step', ts[0], t0);
          h.closeTo('t + h of the last step (= t1)', ts[n - 1]! + hs[n - 1]!, t1, 12);
          for (let i = 0; i < n - 1; i++) h.closeTo(`h of step ${i} (= dt)`, hs[i]!, dt, 12);
          h.ok('h of the last step', hs[n - 1]! > 0 && hs[n - 1]! <= dt + 1e-9, `expected more than 0 and at most dt + 1e-9 = ${show(dt + 1e-9)}, got ${show(hs[n - 1])}`);
        }
      });
    }

    cases('t1 = t0 returns a copy of x0 after 0 steps', (expect) => {
      const s = factory();
      const x0 = tf.tensor2d([[1, -2, 3]]);
      const o: SolveOptions = { t0: 0.5, t1: 0.5, dt: 0.1, ...tol(1e-6) };
      const c = checker(expect, solveCase(s.name, 'an rhs that throws', o, 'x0 = [[1, −2, 3]]'));
      const res = s.solve(() => {
        throw new Error('rhs must not be called');
      }, x0, d(o, () => {
        throw new Error('derivatives must not be called');
      }));
      c.ok('y', !Object.is(res.y, x0), 'expected a copy of x0, got x0 itself');
      c.equal('y', Array.from(res.y.dataSync()), [1, -2, 3]);
      c.is('stats.accepted', res.stats.accepted, 0);
      res.y.dispose();
      c.is('x0.isDisposed (after disposing y)', x0.isDisposed, false);
      x0.dispose();
    });

    // ───────────── tableau ─────────────

    if (sup.tableau) {
      cases('exposes a consistent explicit tableau (a strictly lower triangular, rows sum to c, c[0] = 0, b and bHat sum to 1)', (expect) => {
        const s = factory();
        const check = solverChecker(expect, `solver '${s.name}'`);
        const tab = s.tableau;
        check.ok('tableau', tab !== undefined, 'expected a Butcher tableau, got undefined');
        const { a, b, c } = tab!;
        const n = b.length;
        check.above('tableau.b.length', n, 0);
        check.is('tableau.c.length (= b.length)', c.length, n);
        check.is('tableau.a.length (= b.length)', a.length, n);
        check.is('tableau.c[0]', c[0], 0);
        for (let i = 0; i < n; i++) {
          check.is(`tableau.a[${i}].length (= b.length)`, a[i]!.length, n);
          for (let j = i; j < n; j++) check.is(`tableau.a[${i}][${j}] (explicit: a is strictly lower triangular)`, a[i]![j], 0);
          check.closeTo(`sum of tableau.a[${i}] (= c[${i}])`, sum(a[i]!), c[i]!, 12);
        }
        check.closeTo('sum of tableau.b', sum(b), 1, 12);
        check.is('tableau.order (= solver.order)', tab!.order, s.order);
        if (adaptive) {
          check.ok('tableau.bHat', tab!.bHat !== undefined, 'an adaptive solver needs bHat, got undefined');
          check.ok('tableau.embeddedOrder', tab!.embeddedOrder !== undefined, 'an adaptive solver declares embeddedOrder, got undefined');
        }
        if (tab!.bHat) {
          check.is('tableau.bHat.length (= b.length)', tab!.bHat.length, n);
          check.closeTo('sum of tableau.bHat', sum(tab!.bHat), 1, 12);
          if (tab!.embeddedOrder !== undefined) check.below('tableau.embeddedOrder (less than tableau.order)', tab!.embeddedOrder, tab!.order);
        }
      });

      for (const problem of FLOAT64_PROBLEMS) {
        cases(`the tableau has order ${order} in float64 on ${problem.label}`, (expect) => {
          const s = factory();
          const tab = s.tableau!;
          const c = solverChecker(expect, `${s.name}'s tableau in float64, ${problem.ode} on [0, 1], 8, 16, … 1024 steps`);
          c.ok('tableau', tab !== undefined, 'expected a Butcher tableau, got undefined');
          const errors: number[] = [];
          let pick: [number, number] | undefined;
          for (let steps = 8; steps <= 1024; steps *= 2) {
            const y = rkSolveFloat64(tab, problem.rhs, 1, { t0: 0, t1: 1, dt: 1 / steps }).y[0]!;
            errors.push(Math.abs(y - problem.exact));
            const k = errors.length - 1;
            if (k > 0 && errors[k]! >= 1e-11) pick = [errors[k - 1]!, errors[k]!];
          }
          const list = errors.map((e, i) => `${8 << i}: ${e.toPrecision(3)}`).join(', ');
          c.ok('errors', pick !== undefined, `no step pair with errors above 1e-11: ${list}`);
          c.within(`observed order log2(e(dt)/e(dt/2)) at the finest pair with e ≥ 1e-11 (errors by steps ${list})`, Math.log2(pick![0] / pick![1]), order, 0.25);
        });
      }

      if (adaptive) {
        cases('the embedded weights have the declared embedded order (float64 local error)', (expect) => {
          const s = factory();
          const tab = s.tableau!;
          const c = solverChecker(expect, `${s.name}'s tableau in float64, one step of y′ = −2ty from t = 0.3, h 0.02 and 0.01`);
          c.ok('tableau.bHat', tab.bHat !== undefined, 'expected embedded weights, got undefined');
          const q = tab.embeddedOrder!;
          const local = (h: number) => Math.abs(rkStepScalarWithError(tab, (t, y) => -2 * t * y, 0.3, Math.exp(-0.09), h).yHat! - Math.exp(-((0.3 + h) ** 2)));
          // local error ~ C h^(q+1)
          c.within(`observed order of the embedded local error log2(e(0.02)/e(0.01)) (= embeddedOrder ${q} + 1)`, Math.log2(local(0.02) / local(0.01)), q + 1, 0.3);
        });

        cases('the step-size control with this tableau meets rtol 1e-8 in float64', (expect) => {
          const s = factory();
          const tab = s.tableau!;
          for (const problem of FLOAT64_PROBLEMS) {
            const res = rkSolveFloat64(tab, problem.rhs, 1, { t0: 0, t1: 1, dt: 0.1, adaptive: true, rtol: 1e-8, atol: 1e-12 });
            const c = solverChecker(expect, `${s.name}'s tableau in float64, ${problem.ode} on [0, 1], dt 0.1, adaptive, rtol 1e-8, atol 1e-12`);
            c.relWithin('y(1)', res.y[0]!, problem.exact, 1e-7);
            c.above('stats.accepted', res.stats.accepted, 0);
          }
        });
      }

      if (!adaptive) {
        cases('the tensor solve follows its tableau (float32 vs float64 reference of the same steps)', (expect) => {
          const s = factory();
          for (const problem of FLOAT64_PROBLEMS) {
            const ref = rkSolveFloat64(s.tableau!, problem.rhs, 1, { t0: 0, t1: 1, dt: 0.1 }).y[0]!;
            const y = solveScalar(s, problem.tensorRhs, 1, { t0: 0, t1: 1, dt: 0.1 });
            solverChecker(expect, `${s.name}, ${problem.ode} on [0, 1], dt 0.1`).relWithin('y(1) in float32 (= the float64 reference of its tableau)', y, ref, 2e-6);
          }
        });
      }
    }

    // ───────────── step program (no tableau) ─────────────

    // a step program is checked in float64 through core's driver, as a tableau is with the reference stepper (float32
    // cannot resolve the asymptotic regime of high orders); derivative solvers get the problems' exact derivatives
    if (!probe.tableau && probe.step && !adaptive) {
      for (const problem of FLOAT64_PROBLEMS) {
        cases(`the step program has order ${order} in float64 on ${problem.label}`, (expect) => {
          const s = makeSolver();
          const c = solverChecker(expect, `${s.name}'s step program in float64 (core's solveWith), ${problem.ode} on [0, 1], 8, 16, … 1024 steps`);
          const errors: number[] = [];
          let pick: [number, number] | undefined;
          for (let steps = 8; steps <= 1024; steps *= 2) {
            const res = solveWith(float64Algebra, s, (t, y) => Float64Array.from(problem.rhs(t, y)), Float64Array.of(1), {
              t0: 0,
              t1: 1,
              dt: 1 / steps,
              ...(derives ? { derivatives: problem.float64Derivatives } : {}),
            });
            errors.push(Math.abs(res.y[0]! - problem.exact));
            const k = errors.length - 1;
            if (k > 0 && errors[k]! >= 1e-11) pick = [errors[k - 1]!, errors[k]!];
          }
          const list = errors.map((e, i) => `${8 << i}: ${e.toPrecision(3)}`).join(', ');
          c.ok('errors', pick !== undefined, `no step pair with errors above 1e-11: ${list}`);
          c.within(`observed order log2(e(dt)/e(dt/2)) at the finest pair with e ≥ 1e-11 (errors by steps ${list})`, Math.log2(pick![0] / pick![1]), order, 0.25);
        });
      }
    }

    if (derives && !adaptive) {
      cases('the tensor solve follows its step program (float32 vs the float64 solve of the same steps)', (expect) => {
        const s = factory();
        for (const problem of FLOAT64_PROBLEMS) {
          const ref = solveWith(float64Algebra, s, (t, y) => Float64Array.from(problem.rhs(t, y)), Float64Array.of(1), { t0: 0, t1: 1, dt: 0.1, derivatives: problem.float64Derivatives }).y[0]!;
          const y = solveScalar(s, problem.tensorRhs, 1, d({ t0: 0, t1: 1, dt: 0.1 }, problem.derivatives));
          solverChecker(expect, `${s.name}, ${problem.ode} on [0, 1], dt 0.1`).relWithin('y(1) in float32 (= the float64 solve of its step program)', y, ref, 2e-6);
        }
      });
    }

    // ───────────── hooks and saved states ─────────────

    if (sup.hooks) {
      cases('fires hooks.step once per accepted step, with consecutive t, index and a live state', (expect) => {
        const s = factory();
        const seen: { t: number; h: number; index: number; shape: number[]; disposed: boolean }[] = [];
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        hooks.step.tap('record', (i) => seen.push({ t: i.t, h: i.h, index: i.index, shape: [...i.state.shape], disposed: i.state.isDisposed }));
        const x0 = tf.tensor2d([[1, 0.5], [2, -1]]);
        const o: SolveOptions = { t0: 0, t1: 1.3, dt: 0.1, hooks, ...tol(1e-6) };
        const c = solverChecker(expect, solveCase(s.name, 'y′ = −2ty', o, 'x0 of shape [2, 2]')).at('hooks.step');
        const res = s.solve((t, x) => tf.mul(x, -2 * t), x0, d(o, ADAPTIVE_PROBLEMS[1]!.derivatives));
        tf.dispose([x0, res.y, ...(res.states ?? [])]);
        c.is('calls (= stats.accepted)', seen.length, res.stats.accepted);
        c.above('calls', seen.length, 0);
        seen.forEach((step, k) => {
          const at = c.at(`call ${k}`);
          at.is('index', step.index, k);
          at.equal('state.shape', step.shape, [2, 2]);
          at.is('state.isDisposed', step.disposed, false);
          at.above('h', step.h, 0);
          if (k > 0) at.closeTo('t (= t + h of the previous call)', step.t, seen[k - 1]!.t + seen[k - 1]!.h, 12);
        });
        c.is('t of the first call (= t0)', seen[0]!.t, 0);
        c.closeTo('t + h of the last call (= t1)', seen.at(-1)!.t + seen.at(-1)!.h, 1.3, 12);
      });
    }

    if (sup.saveEvery) {
      cases('saveEvery keeps every saveEvery-th accepted state and its time', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1], [2]]);
        const c = solverChecker(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }, 'x0 of shape [2, 1]'));
        const all = s.solve((_t, x) => tf.neg(x), x0, d({ t0: 0, t1: 1, dt: 0.1, saveEvery: 1, ...tol(1e-6) }, NEG_DERIVATIVES));
        const third = s.solve((_t, x) => tf.neg(x), x0, d({ t0: 0, t1: 1, dt: 0.1, saveEvery: 3, ...tol(1e-6) }, NEG_DERIVATIVES));
        const c1 = c.at('saveEvery 1');
        const c3 = c.at('saveEvery 3');
        const n = all.stats.accepted;
        c1.is('states.length (= stats.accepted)', all.states!.length, n);
        c1.is('times.length (= stats.accepted)', all.times!.length, n);
        c1.closeTo('times[last] (= t1)', all.times!.at(-1)!, 1, 12);
        c1.equal('states[last] (= y)', Array.from(all.states!.at(-1)!.dataSync()), Array.from(all.y.dataSync()));
        for (let i = 1; i < n; i++) c1.above(`times[${i}] (more than times[${i - 1}])`, all.times![i]!, all.times![i - 1]!);
        c3.is('states.length (= floor(stats.accepted / 3))', third.states!.length, Math.floor(third.stats.accepted / 3));
        third.times!.forEach((t, k) => c3.closeTo(`times[${k}] (= times[${3 * k + 2}] with saveEvery 1)`, t, all.times![3 * k + 2]!, 12));
        third.states!.forEach((st, k) => {
          const v = st.dataSync();
          const ref = all.states![3 * k + 2]!.dataSync();
          // with saveEvery 3, the k-th kept state is the one after step 3k+2
          c3.closeTo(`states[${k}][0] (= states[${3 * k + 2}][0] with saveEvery 1)`, v[0]!, ref[0]!, 5);
          c3.closeTo(`states[${k}][1] (= states[${3 * k + 2}][1] with saveEvery 1)`, v[1]!, ref[1]!, 5);
        });
        tf.dispose([x0, all.y, third.y, ...all.states!, ...third.states!]);
      });
    }

    // ───────────── batch ─────────────

    if (sup.batch) {
      cases('integrates the rows of a batch independently', (expect) => {
        const s = factory();
        // pendulum: x0' = x1, x1' = −sin x0, plus a time-dependent forcing; a derivative solver gets the forced
        // damped oscillator instead (the kit has closed-form derivatives only for that one)
        const pendulum: RhsFn = (t, x) =>
          tf.tidy(() => {
            const q = tf.slice(x, [0, 0], [-1, 1]);
            const p = tf.slice(x, [0, 1], [-1, 1]);
            return tf.concat([p, tf.add(tf.neg(tf.sin(q)), 0.1 * Math.cos(t))], 1) as tf.Tensor2D;
          });
        const rhs: RhsFn = derives ? FORCED_OSCILLATOR.rhs : pendulum;
        const rows = [
          [0.1, 0],
          [1, -0.5],
          [-2, 1],
          [3, 0.25],
        ];
        const opts: SolveOptions = d({ t0: 0, t1: 2, dt: 0.1, ...tol(1e-5, 1e-8) }, FORCED_OSCILLATOR.derivatives);
        const c = solverChecker(expect, solveCase(s.name, derives ? FORCED_OSCILLATOR.ode : 'a forced pendulum', opts, 'a batch of 4 rows'));
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
          for (let j = 0; j < 2; j++) c.within(`y(2) of row ${i} solved alone, column ${j} (= row ${i} of the batch)`, v[j]!, all[i]![j]!, bound);
        });
      });
    }

    // ───────────── input ─────────────

    // off by default for a derivative solver: its derivatives callback samples the input itself, and the kit has no
    // closed-form derivatives of y′ = u(t) for an arbitrary u
    if (sup.input) {
      cases('samples the input u(t) at the stage times: y′ = u(t), u = cos t gives sin t', (expect) => {
        const s = factory();
        const inputTimes: number[] = [];
        const rhsCalls: { t: number; u: number | undefined }[] = [];
        const stepStarts: { t: number; h: number }[] = [];
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        hooks.step.tap('steps', (i) => stepStarts.push({ t: i.t, h: i.h }));
        const dt = 0.05;
        const c = solverChecker(expect, solveCase(s.name, 'y′ = u(t), u = cos t', { t0: 0, t1: 1, dt, ...tol(1e-7, 1e-9) }, 'x0 = 0 of shape [2, 1]'));
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
        c.is('rhs calls (= stats.nfe)', rhsCalls.length, res.stats.nfe);
        for (const call of rhsCalls) {
          const at = c.at(`rhs call at t = ${call.t}`);
          at.ok('u', call.u !== undefined, 'expected the input u(t), got undefined');
          at.closeTo('u (= cos t)', call.u!, Math.cos(call.t), 6);
          at.ok('t', inputTimes.indexOf(call.t) !== -1, 'expected a time at which options.input was sampled, it was not');
        }
        const bound = adaptive ? 1e-5 : Math.max(dt ** order, 2e-6);
        y.forEach((v, r) => c.within(`y(1) of row ${r} (= sin 1)`, v, Math.sin(1), bound));
        if (sup.tableau && sup.hooks && s.tableau) {
          const allowed = stepStarts.flatMap(({ t, h }) => s.tableau!.c.map((ci) => t + ci * h));
          // rejected steps of adaptive solvers sample their own stage times too
          if (!adaptive) {
            for (const t of inputTimes) c.ok(`options.input sampled at t = ${t}`, allowed.some((a) => Math.abs(a - t) < 1e-12), 'expected a stage time t + c[i]·h of a step, it is none');
          }
          // every stage time of every accepted step was sampled (rejected steps may add more)
          for (const a of allowed) c.ok(`stage time ${a}`, inputTimes.some((t) => Math.abs(a - t) < 1e-12), 'expected options.input to be sampled there, it never was');
        }
      });
    }

    // ───────────── gradients ─────────────

    if (sup.gradients) {
      cases('gradients flow through the solve: d sum(y(1))/dx0 ≈ e^−1 for y′ = −y', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1, 2], [-3, 0.5]]);
        const opts: SolveOptions = d({ t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }, NEG_DERIVATIVES);
        const c = solverChecker(expect, solveCase(s.name, 'y′ = −y', opts, 'x0 of shape [2, 2]'));
        const g = tf.grad((x: tf.Tensor) => tf.sum(s.solve((_t, xx) => tf.neg(xx), x as tf.Tensor2D, opts).y))(x0);
        const grad = Array.from(g.dataSync());
        const y = s.solve((_t, xx) => tf.neg(xx), x0, opts);
        const ratio = y.y.dataSync()[0]! / 1; // the solve is linear: y(1) = Φ x0
        tf.dispose([g, y.y]);
        c.is('x0.isDisposed', x0.isDisposed, false);
        x0.dispose();
        grad.forEach((v, i) => {
          c.within(`d sum(y(1))/dx0, element ${i} (= y(1)/x0 of the forward solve)`, v, ratio, 1e-5);
          c.within(`d sum(y(1))/dx0, element ${i} (≈ e^−1)`, v, Math.exp(-1), 0.05);
        });
      });

      cases('gradients flow to parameters of the rhs: d sum(y(1))/da = −sum(x0) e^−a for y′ = −a y', (expect) => {
        const s = factory();
        const x0 = tf.tensor2d([[1, 2]]);
        const a = tf.scalar(1);
        const opts: SolveOptions = { t0: 0, t1: 1, dt: 0.05, ...tol(1e-6) };
        const c = solverChecker(expect, solveCase(s.name, 'y′ = −a y, a = 1', opts, 'x0 = [[1, 2]]'));
        // x⁽ᵏ⁾ = (−a)ᵏ y, built from a so that the gradient flows through the derivatives too
        const powers = (p: tf.Tensor): TensorDerivatives => (_t, y, n) => {
          const out: tf.Tensor2D[] = [];
          let ak = tf.neg(p);
          for (let k = 1; k <= n; k++, ak = tf.mul(ak, tf.neg(p))) out.push(tf.mul(y, ak) as tf.Tensor2D);
          return out;
        };
        const [, ga] = tf.grads((x: tf.Tensor, p: tf.Tensor) => tf.sum(s.solve((_t, xx) => tf.mul(xx, tf.neg(p)) as tf.Tensor2D, x as tf.Tensor2D, d(opts, powers(p))).y))([x0, a]);
        const v = ga!.dataSync()[0]!;
        tf.dispose([x0, a, ga!]);
        c.relWithin('d sum(y(1))/da (= −3 e^−1)', v, -3 * Math.exp(-1), 0.06);
      });
    }

    // ───────────── memory ─────────────

    if (sup.memory) {
      cases('frees its intermediates and never disposes x0 or what it returns', (expect) => {
        const s = factory();
        const c = checker(expect, solveCase(s.name, 'y′ = −y + u', { t0: 0, t1: 1, dt: 0.1, saveEvery: 2, ...tol(1e-6) }));
        const x0 = tf.tensor2d([[1, 2, 3]]);
        const u = tf.ones([1, 1]) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        const hooks = { step: new SyncHook<[StepInfo<tf.Tensor2D>]>(['info']) };
        // (a derivative solver has input off: y′ = −y, x⁽ᵏ⁾ = (−1)ᵏ y)
        const res = s.solve((t, x, uu) => tf.add(tf.mul(x, -1), uu ?? 0) as tf.Tensor2D, x0, d({
          t0: 0,
          t1: 1,
          dt: 0.1,
          saveEvery: 2,
          ...(sup.input ? { input: () => u } : {}),
          ...(sup.hooks ? { hooks } : {}),
          ...tol(1e-6),
        }, NEG_DERIVATIVES));
        const kept = 1 + (res.states?.length ?? 0);
        c.is('tensors alive after the solve − before (y and the saved states)', tf.memory().numTensors - before, kept);
        c.is('x0.isDisposed', x0.isDisposed, false);
        c.is('input tensor isDisposed', u.isDisposed, false);
        c.is('y.isDisposed', res.y.isDisposed, false);
        // returned tensors stay valid after a caller's tidy around the solve
        const inTidy = tf.tidy(() => s.solve((_t, x) => tf.neg(x), x0, d({ t0: 0, t1: 1, dt: 0.25, ...tol(1e-6) }, NEG_DERIVATIVES)).y);
        c.is("y.isDisposed after a caller's tf.tidy around a solve with dt 0.25", inTidy.isDisposed, false);
        tf.dispose([res.y, ...(res.states ?? []), inTidy]);
        c.is('tensors alive after disposing what the solves returned (= before)', tf.memory().numTensors, before);
        tf.dispose([x0, u]);
      });
    }

    if (derives && sup.memory) {
      cases('hands the remainders it returns to onRemainder, one per accepted step, and the caller owns them', (expect) => {
        const s = factory();
        const o: SolveOptions = d({ t0: 0, t1: 1, dt: 0.3, ...tol(1e-6) }, NEG_DERIVATIVES);
        const c = solverChecker(expect, solveCase(s.name, 'y′ = −y', o, 'x0 of shape [2, 3], onRemainder'));
        const x0 = tf.tensor2d([
          [1, 2, 3],
          [-1, 0.5, 0],
        ]);
        const before = tf.memory().numTensors;
        const got: { t: number; h: number; shape: number[]; disposed: boolean; r: tf.Tensor2D }[] = [];
        const res = s.solve((_t, x) => tf.neg(x), x0, { ...o, onRemainder: (r, t, h) => got.push({ t, h, shape: [...r.shape], disposed: r.isDisposed, r }) });
        const n = res.stats.accepted;
        c.ok('onRemainder calls', got.length === 0 || got.length === n, `expected none or one per accepted step (${n}), got ${got.length}`);
        got.forEach((g, k) => {
          const at = c.at(`onRemainder call ${k}`);
          at.equal('remainder.shape (= the state shape)', g.shape, [2, 3]);
          at.is('remainder.isDisposed when handed over', g.disposed, false);
          at.closeTo('t (= t0 + k·dt)', g.t, 0.3 * k, 12);
          at.above('h', g.h, 0);
        });
        c.is('tensors alive after the solve − before (y and the remainders handed over)', tf.memory().numTensors - before, 1 + got.length);
        tf.dispose([res.y, ...got.map((g) => g.r)]);
        c.is('tensors alive after disposing them (= before)', tf.memory().numTensors, before);
        x0.dispose();
      });
    }

    // ───────────── bad arguments ─────────────

    if (sup.validation) {
      /** `fn` throws an OdemorError('ARGUMENT') whose message matches `mentions`; `context` names the call. */
      const argError = (expect: ExpectStatic, context: string, fn: () => unknown, mentions: RegExp) => {
        let error: unknown;
        try {
          fn();
        } catch (e) {
          error = e;
        }
        checker(expect, context).ok('thrown error', error !== undefined, `expected an OdemorError mentioning ${mentions}, got none`);
        expect(error, `${context}: thrown error: expected an OdemorError with code 'ARGUMENT'`).toMatchObject({ name: 'OdemorError', code: 'ARGUMENT' });
        expect((error as Error).message, `${context}: thrown error's message: expected it to mention ${mentions}`).toMatch(mentions);
      };
      const neg: RhsFn = (_t, x) => tf.neg(x);

      cases('rejects dt <= 0 or non-finite dt, naming dt', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 2]) as tf.Tensor2D;
        for (const dt of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
          argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt }), () => s.solve(neg, x0, d({ t0: 0, t1: 1, dt }, NEG_DERIVATIVES)), /dt/);
        }
        x0.dispose();
      });

      cases('rejects t1 < t0 and non-finite times, naming them', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 2]) as tf.Tensor2D;
        argError(expect, solveCase(s.name, 'y′ = −y', { t0: 1, t1: 0, dt: 0.1 }), () => s.solve(neg, x0, d({ t0: 1, t1: 0, dt: 0.1 }, NEG_DERIVATIVES)), /t1/);
        argError(expect, solveCase(s.name, 'y′ = −y', { t0: Number.NaN, t1: 1, dt: 0.1 }), () => s.solve(neg, x0, d({ t0: Number.NaN, t1: 1, dt: 0.1 }, NEG_DERIVATIVES)), /t0/);
        argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: Number.POSITIVE_INFINITY, dt: 0.1 }), () => s.solve(neg, x0, d({ t0: 0, t1: Number.POSITIVE_INFINITY, dt: 0.1 }, NEG_DERIVATIVES)), /t1/);
        x0.dispose();
      });

      cases('rejects an x0 that is not rank 2, naming x0', (expect) => {
        const s = factory();
        const x1 = tf.ones([3]);
        const x3 = tf.ones([1, 2, 2]);
        argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt: 0.1 }, 'x0 of shape [3]'), () => s.solve(neg, x1 as unknown as tf.Tensor2D, d({ t0: 0, t1: 1, dt: 0.1 }, NEG_DERIVATIVES)), /x0/);
        argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt: 0.1 }, 'x0 of shape [1, 2, 2]'), () => s.solve(neg, x3 as unknown as tf.Tensor2D, d({ t0: 0, t1: 1, dt: 0.1 }, NEG_DERIVATIVES)), /x0/);
        tf.dispose([x1, x3]);
      });

      // a derivative solver takes x⁽¹⁾ = f from the derivatives, not from the rhs: checked below instead
      if (!derives) cases('rejects an rhs that returns a different shape, naming rhs and the shapes', (expect) => {
        const s = factory();
        const x0 = tf.ones([2, 3]) as tf.Tensor2D;
        const before = tf.memory().numTensors;
        const o: SolveOptions = { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) };
        argError(expect, solveCase(s.name, 'an rhs returning shape [2, 4]', o, 'x0 of shape [2, 3]'), () => s.solve(() => tf.ones([2, 4]) as tf.Tensor2D, x0, { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }), /rhs[\s\S]*\[2, 4\]/);
        argError(expect, solveCase(s.name, 'an rhs returning shape [3, 3]', o, 'x0 of shape [2, 3]'), () => s.solve(() => tf.ones([3, 3]) as tf.Tensor2D, x0, { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }), /rhs/);
        if (sup.memory) checker(expect, `${s.name}, the rejected solves`).is('tensors alive after them (= before)', tf.memory().numTensors, before);
        x0.dispose();
      });

      cases('rejects a NaN or infinite x0', (expect) => {
        const s = factory();
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
          const x0 = tf.tensor2d([[1, bad]]);
          const o: SolveOptions = { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) };
          argError(expect, solveCase(s.name, 'y′ = −y', o, `x0 = [[1, ${bad}]]`), () => s.solve(neg, x0, d({ t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) }, NEG_DERIVATIVES)), /x0|NaN|finite/);
          x0.dispose();
        }
      });

      cases('reports a state that blows up to Inf/NaN instead of returning it', (expect) => {
        const s = factory();
        const x0 = tf.ones([1, 1]) as tf.Tensor2D;
        const o: SolveOptions = { t0: 0, t1: 2, dt: 0.01, ...tol(1e-6), maxSteps: 5000 };
        const context = solveCase(s.name, 'y′ = y², y(0) = 1', o, 'blows up at t = 1');
        const before = tf.memory().numTensors;
        // y′ = y², y(0) = 1 blows up at t = 1
        let error: unknown;
        try {
          s.solve((_t, x) => tf.square(x), x0, d(o, SQUARE_DERIVATIVES));
        } catch (e) {
          error = e;
        }
        expect(error, `${context}: thrown error: expected an OdemorError`).toMatchObject({ name: 'OdemorError' });
        if (sup.memory) checker(expect, context).is('tensors alive after the failed solve (= before)', tf.memory().numTensors, before);
        x0.dispose();
      });

      if (derives) {
        cases('rejects a solve without derivatives and derivatives that return the wrong number of orders, naming derivatives', (expect) => {
          const s = factory();
          const x0 = tf.ones([1, 2]) as tf.Tensor2D;
          const o: SolveOptions = { t0: 0, t1: 1, dt: 0.1, ...tol(1e-6) };
          const before = tf.memory().numTensors;
          argError(expect, solveCase(s.name, 'y′ = −y', o, 'no derivatives'), () => s.solve(neg, x0, o), /derivatives/);
          const few: TensorDerivatives = (t, y, n) => NEG_DERIVATIVES(t, y, n - 1);
          const many: TensorDerivatives = (t, y, n) => NEG_DERIVATIVES(t, y, n + 1);
          argError(expect, solveCase(s.name, 'y′ = −y', o, 'derivatives returning one order too few'), () => s.solve(neg, x0, { ...o, derivatives: few }), /derivatives/);
          argError(expect, solveCase(s.name, 'y′ = −y', o, 'derivatives returning one order too many'), () => s.solve(neg, x0, { ...o, derivatives: many }), /derivatives/);
          if (sup.memory) checker(expect, `${s.name}, the rejected solves`).is('tensors alive after them (= before)', tf.memory().numTensors, before);
          x0.dispose();
        });
      }

      if (adaptive) {
        cases('rejects rtol <= 0 and atol <= 0, naming them', (expect) => {
          const s = factory();
          const x0 = tf.ones([1, 1]) as tf.Tensor2D;
          argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt: 0.1, rtol: 0 }), () => s.solve(neg, x0, { t0: 0, t1: 1, dt: 0.1, rtol: 0 }), /rtol/);
          argError(expect, solveCase(s.name, 'y′ = −y', { t0: 0, t1: 1, dt: 0.1, atol: -1 }), () => s.solve(neg, x0, { t0: 0, t1: 1, dt: 0.1, atol: -1 }), /atol/);
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

/** Exact time derivatives `[x⁽¹⁾, …, x⁽ᵒʳᵈᵉʳ⁾]` of the solution through (t, y), as `SolveOptions.derivatives` takes them. */
export type TensorDerivatives = (t: number, y: tf.Tensor2D, order: number) => tf.Tensor2D[];

/**
 * The factors `[P_1(t), …, P_order(t)]` with x⁽ᵏ⁾ = P_k(t) · y for the linear scalar problem y′ = g(t) y, `g` a
 * polynomial given by its coefficients (lowest first): P_1 = g, P_{k+1} = P_k′ + g · P_k (the ∂/∂t terms included:
 * P_2 = g′ + g², P_3 = g″ + 3 g g′ + g³).
 */
export function linearGrowthFactors(g: readonly number[], t: number, order: number): number[] {
  const evaluate = (c: readonly number[]) => c.reduceRight((acc, v) => acc * t + v, 0);
  const out: number[] = [];
  let pk = [...g];
  for (let k = 1; k <= order; k++) {
    out.push(evaluate(pk));
    const next = new Array<number>(Math.max(pk.length - 1, pk.length + g.length - 1, 1)).fill(0);
    for (let i = 1; i < pk.length; i++) next[i - 1]! += i * pk[i]!;
    for (let i = 0; i < pk.length; i++) for (let j = 0; j < g.length; j++) next[i + j]! += pk[i]! * g[j]!;
    pk = next;
  }
  return out;
}

/** The exact derivatives of y′ = g(t) y on tensors (see {@link linearGrowthFactors}). */
function linearGrowth(g: readonly number[]): TensorDerivatives {
  return (t, y, order) => linearGrowthFactors(g, t, order).map((c) => tf.mul(y, c) as tf.Tensor2D);
}

/** The exact derivatives of y′ = g(t) y in float64. */
function linearGrowth64(g: readonly number[]): (t: number, y: Float64Array, order: number) => Float64Array[] {
  return (t, y, order) => linearGrowthFactors(g, t, order).map((c) => y.map((v) => v * c));
}

/** y′ = −y: x⁽ᵏ⁾ = (−1)ᵏ y. */
const NEG_DERIVATIVES: TensorDerivatives = linearGrowth([-1]);

/** y′ = y²: x⁽ᵏ⁾ = k! y^{k+1}. */
const SQUARE_DERIVATIVES: TensorDerivatives = (_t, y, order) => {
  const out: tf.Tensor2D[] = [];
  let factorial = 1;
  for (let k = 1; k <= order; k++) out.push(tf.mul(tf.pow(y, k + 1), (factorial *= k)) as tf.Tensor2D);
  return out;
};

/**
 * The batch problem of a derivative solver: a forced damped oscillator x′ = A x + b cos t (rows of the batch are
 * states, so x′ = x Aᵀ + cos t · bᵀ), A = [[0, 1], [−1, −0.1]], b = [0, 0.1]; x⁽ᵏ⁺¹⁾ = A x⁽ᵏ⁾ + b cos⁽ᵏ⁾(t).
 */
const FORCED_OSCILLATOR: { ode: string; rhs: RhsFn; derivatives: TensorDerivatives } = (() => {
  const At = [
    [0, -1],
    [1, -0.1],
  ];
  const b = [[0, 0.1]];
  const forcing = (x: tf.Tensor2D, c: number) => tf.add(tf.matMul(x, tf.tensor2d(At)), tf.mul(tf.tensor2d(b), c)) as tf.Tensor2D;
  return {
    ode: "a forced damped oscillator x′ = A x + b cos t",
    rhs: (t, x) => tf.tidy(() => forcing(x, Math.cos(t))),
    derivatives: (t, y, order) => {
      const out: tf.Tensor2D[] = [];
      let v = y;
      // cos⁽ᵏ⁾(t) = cos(t + kπ/2)
      for (let k = 0; k < order; k++) out.push((v = forcing(v, Math.cos(t + (k * Math.PI) / 2))));
      return out;
    },
  };
})();

interface TensorProblem {
  label: string;
  /** the equation alone, for failure messages (which add the interval and the step) */
  ode: string;
  rhs: RhsFn;
  /** the exact derivatives of the solution (for derivative solvers) */
  derivatives: TensorDerivatives;
  t1: number;
  exact: number;
}

/** Long horizons so the errors of a float32 solve stay far above round-off while h is small. */
const ORDER_PROBLEMS: TensorProblem[] = [
  { label: "y′ = y on [0, 10]", ode: 'y′ = y', rhs: (_t, x) => tf.clone(x) as tf.Tensor2D, derivatives: linearGrowth([1]), t1: 10, exact: EXP10 },
  { label: "y′ = 2ty on [0, 3] (time-dependent)", ode: 'y′ = 2ty', rhs: (t, x) => tf.mul(x, 2 * t) as tf.Tensor2D, derivatives: linearGrowth([0, 2]), t1: 3, exact: Math.exp(9) },
];

const ADAPTIVE_PROBLEMS: { label: string; ode: string; rhs: RhsFn; derivatives: TensorDerivatives; exact: number }[] = [
  { label: "y′ = y on [0, 1]", ode: 'y′ = y', rhs: (_t, x) => tf.clone(x) as tf.Tensor2D, derivatives: linearGrowth([1]), exact: Math.E },
  { label: "y′ = −2ty on [0, 1], y = e^(−t²)", ode: 'y′ = −2ty', rhs: (t, x) => tf.mul(x, -2 * t) as tf.Tensor2D, derivatives: linearGrowth([0, -2]), exact: Math.exp(-1) },
];

const FLOAT64_PROBLEMS: {
  label: string;
  ode: string;
  rhs: (t: number, y: Float64Array) => number[];
  tensorRhs: RhsFn;
  derivatives: TensorDerivatives;
  float64Derivatives: (t: number, y: Float64Array, order: number) => Float64Array[];
  exact: number;
}[] = [
  { label: "y′ = y on [0, 1]", ode: 'y′ = y', rhs: (_t, y) => [y[0]!], tensorRhs: ADAPTIVE_PROBLEMS[0]!.rhs, derivatives: linearGrowth([1]), float64Derivatives: linearGrowth64([1]), exact: Math.E },
  { label: "y′ = −2ty on [0, 1]", ode: 'y′ = −2ty', rhs: (t, y) => [-2 * t * y[0]!], tensorRhs: ADAPTIVE_PROBLEMS[1]!.rhs, derivatives: linearGrowth([0, -2]), float64Derivatives: linearGrowth64([0, -2]), exact: Math.exp(-1) },
];

function sum(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0);
}

/** A number for a message: `1e-6` rather than `0.000001`. */
function num(v: number): string {
  return v !== 0 && Number.isFinite(v) && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

/** A tolerance or limit for a message, to 12 digits: `6.25e-6` rather than `0.000006250000000000001`. */
function bound(v: number): string {
  return Number.isFinite(v) ? num(Number(v.toPrecision(12))) : String(v);
}

/** The case a failure names: `rk4, y′ = y on [0, 1], dt 0.1, rtol 1e-6` (then `more`, if given). */
function solveCase(solver: string, problem: string, o: SolveOptions, more?: string): string {
  let s = `${solver}, ${problem} on [${num(o.t0)}, ${num(o.t1)}], dt ${num(o.dt)}`;
  if (o.rtol !== undefined) s += `, rtol ${num(o.rtol)}`;
  if (o.atol !== undefined) s += `, atol ${num(o.atol)}`;
  if (o.saveEvery !== undefined) s += `, saveEvery ${o.saveEvery}`;
  if (o.maxSteps !== undefined) s += `, maxSteps ${o.maxSteps}`;
  return more ? `${s}, ${more}` : s;
}

/**
 * {@link Checker} plus the strict comparisons of the vitest matchers the kit's checks are written with
 * (`toBeLessThan`, `toBeCloseTo`), so that a check passes and fails exactly where the matcher would.
 */
interface SolverChecker extends Checker {
  /** `actual < limit` (as `toBeLessThan`) */
  below(field: string, actual: number, limit: number): void;
  /** `|actual − expected| < tolerance` */
  within(field: string, actual: number, expected: number, tolerance: number): void;
  /** `|actual − expected| / |expected| < tolerance` */
  relWithin(field: string, actual: number, expected: number, tolerance: number): void;
  /** as `toBeCloseTo(expected, digits)`: `|actual − expected| < 10^−digits / 2`, or both the same infinity */
  closeTo(field: string, actual: number, expected: number, digits: number): void;
  at(context: string): SolverChecker;
}

function solverChecker(expect: ExpectStatic, context?: string): SolverChecker {
  const c = checker(expect, context);
  return {
    ...c,
    below: (field, actual, limit) => c.ok(field, actual < limit, `expected less than ${bound(limit)}, got ${show(actual)}`),
    within: (field, actual, expected, tolerance) =>
      c.ok(field, Math.abs(actual - expected) < tolerance, `expected ${show(expected)} ± ${bound(tolerance)}, got ${show(actual)}`),
    relWithin: (field, actual, expected, tolerance) => {
      const error = Math.abs(actual - expected) / Math.abs(expected);
      c.ok(field, error < tolerance, `expected ${show(expected)} ± ${bound(tolerance)} relative, got ${show(actual)} (relative error ${num(Number(error.toPrecision(3)))})`);
    },
    closeTo: (field, actual, expected, digits) => {
      const tolerance = 10 ** -digits / 2;
      const pass =
        (actual === Number.POSITIVE_INFINITY && expected === Number.POSITIVE_INFINITY) ||
        (actual === Number.NEGATIVE_INFINITY && expected === Number.NEGATIVE_INFINITY) ||
        Math.abs(actual - expected) < tolerance;
      c.ok(field, pass, `expected ${show(expected)} ± ${bound(tolerance)}, got ${show(actual)}`);
    },
    at: (more) => solverChecker(expect, context ? `${context}: ${more}` : more),
  };
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

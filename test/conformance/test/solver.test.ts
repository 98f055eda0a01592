/**
 * Tests of the solver kit itself: it passes on correct solvers of other orders (Kutta 3, adaptive
 * Bogacki–Shampine 3(2)), and each of its checks fails on a solver with the matching defect.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, it } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { ExplicitRungeKuttaSolver, type ButcherTableau, type Solver } from '@odemor/core';
import { solveTensor, type RhsFn, type SolveOptions, type SolveResult } from '@odemor/runtime-tfjs';
import { solverConformance, type ConformanceIt } from '../src/index.js';

const KUTTA3: ButcherTableau = { a: [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]], b: [1 / 6, 2 / 3, 1 / 6], c: [0, 0.5, 1], order: 3 };
const BS23: ButcherTableau = {
  a: [[0, 0, 0, 0], [1 / 2, 0, 0, 0], [0, 3 / 4, 0, 0], [2 / 9, 1 / 3, 4 / 9, 0]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  bHat: [7 / 24, 1 / 4, 1 / 3, 1 / 8],
  c: [0, 1 / 2, 3 / 4, 1],
  order: 3,
  embeddedOrder: 2,
};

solverConformance(it, () => new ExplicitRungeKuttaSolver('kutta3', KUTTA3, false));
solverConformance(it, () => new ExplicitRungeKuttaSolver('bs23', BS23, true, { rtol: 1e-6 }));

type Integrate = (rhs: RhsFn, x0: tf.Tensor2D, o: SolveOptions) => SolveResult;

/**
 * A solver delegating to `inner`, with its eager integration replaced by `solve` (the kit's `solve` option:
 * a Solver is its tableau, so a defect in how it is integrated is a defect of the integration under test).
 */
function wrap(inner: Solver, solve: Integrate, extra: Partial<Solver> = {}): Solver & { integrate: Integrate } {
  return {
    name: inner.name,
    order: inner.order,
    adaptive: inner.adaptive,
    ...(inner.tableau ? { tableau: inner.tableau } : {}),
    integrate: solve,
    ...extra,
  };
}

/** Register the kit on `factory` with a collecting `it`; returns a runner of the tests whose name matches. */
function collect(factory: () => Solver & { integrate?: Integrate }): (name: RegExp, expect: ExpectStatic) => Promise<{ passed: string[]; failed: string[] }> {
  const tests = new Map<string, (ctx: { expect: ExpectStatic }) => unknown>();
  const fakeIt: ConformanceIt = (name, fn) => void tests.set(name, fn);
  const integrate = (s: Solver, r: RhsFn, x: tf.Tensor2D, o: SolveOptions) => {
    const own = (s as { integrate?: Integrate }).integrate;
    return own ? own(r, x, o) : solveTensor(s, r, x, o);
  };
  solverConformance(fakeIt, factory, { group: false, solve: integrate });
  return async (name, expect) => {
    await tf.setBackend('cpu');
    const passed: string[] = [];
    const failed: string[] = [];
    for (const [n, fn] of tests) {
      if (!name.test(n)) continue;
      try {
        await fn({ expect });
        passed.push(n);
      } catch {
        failed.push(n);
      }
    }
    if (passed.length + failed.length === 0) throw new Error(`no collected test matches ${name}`);
    return { passed, failed };
  };
}

const rk = (tab: ButcherTableau, name = 'x') => () => new ExplicitRungeKuttaSolver(name, tab, false);

describe('the solver kit catches defects', () => {
  const control = collect(rk(KUTTA3));
  const mislabeled = collect(() => wrap(new ExplicitRungeKuttaSolver('k3', KUTTA3, false), (r, x, o) => solveTensor(new ExplicitRungeKuttaSolver('k3', KUTTA3, false), r, x, o), { order: 4 }));
  const badTableau = collect(() => wrap(rk(KUTTA3)(), (r, x, o) => solveTensor(rk(KUTTA3)(), r, x, o), { tableau: { ...KUTTA3, b: [0.2, 0.6, 0.1] } }));
  const frozenTime = collect(() => {
    const inner = rk(KUTTA3)();
    // evaluates every stage (and the input) at the start of its step: wrong on time-dependent problems
    return wrap(inner, (rhs, x0, o) => {
      const snap = (t: number) => o.t0 + Math.floor((t - o.t0) / o.dt + 1e-9) * o.dt;
      const { input, ...rest } = o;
      return solveTensor(inner, (t, x, u) => rhs(snap(t), x, u), x0, { ...rest, ...(input ? { input: (t: number) => input(snap(t)) } : {}) });
    });
  });
  const noHooks = collect(() => {
    const inner = rk(KUTTA3)();
    return wrap(inner, (rhs, x0, { hooks: _h, ...rest }) => solveTensor(inner, rhs, x0, rest));
  });
  const leaky = collect(() => {
    const inner = rk(KUTTA3)();
    return wrap(inner, (rhs, x0, o) => {
      tf.zeros([1]);
      return solveTensor(inner, rhs, x0, o);
    });
  });
  const lax = collect(() => {
    const inner = rk(KUTTA3)();
    return wrap(inner, (rhs, x0, o) => (o.dt <= 0 || o.t1 < o.t0 ? { y: tf.clone(x0), stats: { nfe: 0, accepted: 0, rejected: 0 } } : solveTensor(inner, rhs, x0, o)));
  });
  const detached = collect(() => {
    const inner = rk(KUTTA3)();
    return wrap(inner, (rhs, x0, o) => {
      const res = solveTensor(inner, rhs, x0, o);
      const y = tf.tensor2d(res.y.arraySync());
      res.y.dispose();
      return { ...res, y };
    });
  });
  const coupled = collect(() => {
    const inner = rk(KUTTA3)();
    // leaks information across the batch: adds a bit of the batch mean to every row
    return wrap(inner, (rhs, x0, o) => solveTensor(inner, (t, x, u) => tf.tidy(() => tf.add(rhs(t, x, u), tf.mul(tf.mean(x, 0, true), 1e-3))), x0, o));
  });

  const cases: [string, typeof control, RegExp][] = [
    ['a declared order higher than the real one', mislabeled, /order \d in float64/],
    ['an inconsistent tableau', badTableau, /consistent explicit tableau/],
    ['stages evaluated at the wrong times', frozenTime, /stage times/],
    ['hooks that never fire', noHooks, /hooks\.step/],
    ['leaked tensors', leaky, /frees its intermediates/],
    ['bad arguments accepted', lax, /rejects dt|rejects t1/],
    ['a solve that breaks the gradient tape', detached, /gradients flow/],
    ['rows of a batch that influence each other', coupled, /batch/],
  ];
  for (const [label, run, pattern] of cases) {
    it(`fails on ${label}, passes the same tests on the correct solver`, async ({ expect }) => {
      const bad = await run(pattern, expect);
      expect(bad.failed.length, `tests passed on the defective solver: ${bad.passed.join('; ')}`).toBeGreaterThan(0);
      const good = await control(pattern, expect);
      expect(good.failed, 'the same tests on the correct solver').toEqual([]);
    });
  }
});

describe('the solver kit names the failing case and field', () => {
  /** The failure message of the one collected test whose name matches `name`, run on `factory`'s solver. */
  const failureOf = async (factory: () => Solver & { integrate?: Integrate }, name: RegExp, expect: ExpectStatic): Promise<string> => {
    const tests: [string, (ctx: { expect: ExpectStatic }) => unknown][] = [];
    solverConformance((n, fn) => void tests.push([n, fn]), factory, {
      group: false,
      solve: (s, r, x, o) => ((s as { integrate?: Integrate }).integrate ?? ((rr, xx, oo) => solveTensor(s, rr, xx, oo)))(r, x, o),
    });
    const matching = tests.filter(([n]) => name.test(n));
    if (matching.length !== 1) throw new Error(`${matching.length} collected tests match ${name}`);
    await tf.setBackend('cpu');
    try {
      await matching[0]![1]({ expect });
    } catch (e) {
      return (e as Error).message;
    }
    return '(no failure)';
  };

  it('hooks that never fire: the step-count case and hooks.step: calls', async ({ expect }) => {
    const inner = rk(KUTTA3, 'k3')();
    const noHooks = () => wrap(inner, (rhs, x0, { hooks: _h, ...rest }) => solveTensor(inner, rhs, x0, rest));
    expect(await failureOf(noHooks, /^takes ceil/, expect)).toBe('k3, y′ = −y on [0, 1], dt 0.3: hooks.step: calls: expected 4, got 0');
    expect(await failureOf(noHooks, /^fires hooks\.step/, expect)).toBe('k3, y′ = −2ty on [0, 1.3], dt 0.1, x0 of shape [2, 2]: hooks.step: calls (= stats.accepted): expected 13, got 0');
  });

  it('a declared order above the real one: the observed order, expected and got', async ({ expect }) => {
    const mislabeled = () => wrap(rk(KUTTA3, 'k3')(), (r, x, o) => solveTensor(rk(KUTTA3, 'k3')(), r, x, o), { order: 4 });
    const message = await failureOf(mislabeled, /order 4 in float64 on y′ = y on/, expect);
    expect(message).toMatch(/^k3's tableau in float64, y′ = y on \[0, 1\], 8, 16, … 1024 steps: observed order log2\(e\(dt\)\/e\(dt\/2\)\) .*: expected 4 ± 0\.25, got (2\.9|3\.0)\d*$/);
  });

  it('a bad argument accepted: the call and what it should have thrown', async ({ expect }) => {
    const inner = rk(KUTTA3, 'k3')();
    const lax = () => wrap(inner, (rhs, x0, o) => (o.dt <= 0 ? { y: tf.clone(x0), stats: { nfe: 0, accepted: 0, rejected: 0 } } : solveTensor(inner, rhs, x0, o)));
    expect(await failureOf(lax, /^rejects dt/, expect)).toBe('k3, y′ = −y on [0, 1], dt 0: thrown error: expected an OdemorError mentioning /dt/, got none');
  });
});

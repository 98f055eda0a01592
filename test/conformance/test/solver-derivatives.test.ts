/**
 * The solver kit on derivative solvers (a step program that asks for `derivatives`): the exact derivatives of
 * its problems, a correct Taylor method passing the suite, and each derivative-specific check failing on a
 * solver with the matching defect. A minimal Taylor method of order 2 stands in for the real plugin.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import type { ExpectStatic } from 'vitest';
import { OdemorError, type Solver, type SolverAlgebra, type StepContext } from '@odemor/core';
import { linearGrowthFactors, solverConformance, type ConformanceIt } from '../src/index.js';

describe('linearGrowthFactors: x⁽ᵏ⁾ = P_k(t) y for y′ = g(t) y', () => {
  it('constant g = λ: P_k = λᵏ', () => {
    expect(linearGrowthFactors([-1], 0.3, 4)).toEqual([-1, 1, -1, 1]);
    linearGrowthFactors([1.5], 2, 5).forEach((v, k) => expect(v).toBeCloseTo(1.5 ** (k + 1), 12));
  });

  it('g = 2t: P_1 = g, P_2 = g′ + g², P_3 = g″ + 3 g g′ + g³, P_4 by differentiating P_3 y once more', () => {
    for (const t of [0, 0.7, -1.3]) {
      const g = 2 * t;
      const [p1, p2, p3, p4] = linearGrowthFactors([0, 2], t, 4);
      expect(p1).toBeCloseTo(g, 12);
      expect(p2).toBeCloseTo(2 + g * g, 12);
      expect(p3).toBeCloseTo(3 * g * 2 + g ** 3, 12);
      // P_4 = P_3′ + g P_3 = (12 + 24 t²) + 2t (12 t + 8 t³)
      expect(p4).toBeCloseTo(12 + 24 * t * t + 2 * t * (12 * t + 8 * t ** 3), 12);
    }
  });

  it('the factors are the Taylor coefficients of the exact solution: y(t + h) = Σ P_k(t) hᵏ/k! · y(t) for y′ = −2ty', () => {
    const t = 0.4;
    const h = 0.05;
    const P = linearGrowthFactors([0, -2], t, 12);
    let series = 1;
    let c = 1;
    P.forEach((p, k) => {
      c *= h / (k + 1);
      series += p * c;
    });
    expect(series).toBeCloseTo(Math.exp(-((t + h) ** 2)) / Math.exp(-(t * t)), 14);
  });
});

type Step = <T>(alg: SolverAlgebra<T>, f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>) => { y1: T };

/** The truncated Taylor method of order 2, y₁ = y + h x⁽¹⁾ + h²/2 x⁽²⁾; `over` replaces fields (the defects). */
function taylor2(over: Partial<Solver> & { step?: Step } = {}): Solver {
  return {
    name: 'taylor2',
    order: 2,
    adaptive: false,
    derivatives: 2,
    step<T>(alg: SolverAlgebra<T>, _f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>) {
      const d = context.derivatives?.(t, y, 2);
      if (!d || d.length !== 2) throw new OdemorError('ARGUMENT', `solver 'taylor2': derivatives must return 2 orders, got ${d?.length}`);
      context.onEval?.();
      context.onEval?.();
      return { y1: alg.axpy(y, [h, (h * h) / 2], d) };
    },
    ...over,
  };
}

solverConformance(it, () => taylor2(), { title: "the kit on a correct derivative solver (Taylor of order 2)" });

/** Register the kit on `factory` with a collecting `it`; returns a runner of the tests whose name matches. */
function collect(factory: () => Solver) {
  const tests = new Map<string, (ctx: { expect: ExpectStatic }) => unknown>();
  const fakeIt: ConformanceIt = (name, fn) => void tests.set(name, fn);
  solverConformance(fakeIt, factory, { group: false });
  return async (name: RegExp, expect: ExpectStatic) => {
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

describe('the solver kit catches defects of derivative solvers', () => {
  const control = collect(() => taylor2());
  const mislabeled = collect(() => taylor2({ order: 3 }));
  // evaluates the derivatives at t0 in every step: misses the time dependence of y′ = 2ty, y′ = −2ty
  const frozenTime = collect(() => {
    const inner = taylor2();
    return taylor2({ step: (alg, f, _t, y, h, c) => inner.step!(alg, f, 0, y, h, c) });
  });
  // takes whatever derivatives it gets (the first order only when fewer come)
  const trusting = collect(() =>
    taylor2({
      step: (alg, _f, t, y, h, c) => {
        const d = c.derivatives!(t, y, 2);
        return { y1: alg.axpy(y, [h, (h * h) / 2].slice(0, d.length), d) };
      },
    }),
  );
  // [label, the defective solver, its tests that must fail, the same tests on the correct solver]
  const cases: [string, typeof control, RegExp, RegExp][] = [
    ['a declared order higher than the real one', mislabeled, /order 3/, /order 2/],
    ['derivatives evaluated at the wrong time', frozenTime, /2ty/, /2ty/],
    ['derivatives of the wrong count accepted', trusting, /wrong number of orders/, /wrong number of orders/],
  ];
  for (const [label, run, pattern, same] of cases) {
    it(`fails on ${label}, passes the same tests on the correct solver`, async ({ expect }) => {
      const bad = await run(pattern, expect);
      expect(bad.failed.length, `tests passed on the defective solver: ${bad.passed.join('; ')}`).toBeGreaterThan(0);
      const good = await control(same, expect);
      expect(good.failed, 'the same tests on the correct solver').toEqual([]);
    });
  }

  it('skips the input problem and the tableau checks, and refuses supports.input', () => {
    const names: string[] = [];
    solverConformance((n) => void names.push(n), () => taylor2(), { group: false });
    expect(names.some((n) => /input u\(t\)/.test(n))).toBe(false);
    expect(names.some((n) => /tableau/.test(n))).toBe(false);
    expect(names.some((n) => /rhs that returns a different shape/.test(n))).toBe(false);
    expect(names.filter((n) => /step program has order 2 in float64/.test(n))).toHaveLength(2);
    expect(() => solverConformance(() => {}, () => taylor2(), { group: false, supports: { input: true } })).toThrow(/derivatives[\s\S]*supports\.input/);
  });
});

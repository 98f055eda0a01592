/**
 * The Taylor-Lagrange step in float64 (core's `float64Algebra` and `solveWith`) with hand-written exact
 * derivatives: y′ = λy (x⁽ⁱ⁾ = λⁱ y), the stiff linear system of the paper x′ = A x (x⁽ⁱ⁾ = Aⁱ x), and the
 * nonlinear y′ = −y² (x⁽ᵏ⁾ = (−1)ᵏ k! y^{k+1}); then the tfjs algebra for the midpoint path.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Experiment, OdemorError, float64Algebra, solveWith, type Solver, type SolverAlgebra, type StepContext } from '@odemor/core';
import { solveTensor } from '@odemor/runtime-tfjs';
import plugin, { TaylorLagrangeSolver, taylorCoefficients, taylorLagrangeOptions, taylorOptions, taylorSolver } from '../src/index.js';

type Vec = Float64Array;
type Derivs = (t: number, y: Vec, order: number) => Vec[];

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** y′ = λy: x⁽ⁱ⁾ = λⁱ y. */
const scalarLinear =
  (lambda: number): Derivs =>
  (_t, y, order) =>
    Array.from({ length: order }, (_, i) => y.map((v) => v * lambda ** (i + 1)));

/** y′ = −y²: x⁽ᵏ⁾ = (−1)ᵏ k! y^{k+1}. */
const riccati: Derivs = (_t, y, order) => Array.from({ length: order }, (_, i) => y.map((v) => (-1) ** (i + 1) * factorial(i + 1) * v ** (i + 2)));

// ── the stiff system of the paper: A = P⁻¹ diag(−1000, −1) P, P = [[3, 1], [1, −2]] ──
type M2 = [[number, number], [number, number]];
const P: M2 = [
  [3, 1],
  [1, -2],
];
const detP = P[0][0] * P[1][1] - P[0][1] * P[1][0];
const Pinv: M2 = [
  [P[1][1] / detP, -P[0][1] / detP],
  [-P[1][0] / detP, P[0][0] / detP],
];
const mm = (a: M2, b: M2): M2 => [
  [a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]],
  [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]],
];
const diag = (a: number, b: number): M2 => [
  [a, 0],
  [0, b],
];
const mv = (a: M2, x: ArrayLike<number>): Vec => Float64Array.of(a[0][0] * x[0]! + a[0][1] * x[1]!, a[1][0] * x[0]! + a[1][1] * x[1]!);
const A = mm(Pinv, mm(diag(-1000, -1), P));
/** e^{A t} x0, exactly through the eigendecomposition */
const stiffExact = (t: number, x0: ArrayLike<number>): Vec => mv(mm(Pinv, mm(diag(Math.exp(-1000 * t), Math.exp(-t)), P)), x0);
const stiff: Derivs = (_t, y, order) => {
  const out: Vec[] = [];
  let v: Vec = y;
  for (let i = 0; i < order; i++) out.push((v = mv(A, v)));
  return out;
};
const stiffRhs = (_t: number, y: Vec): Vec => mv(A, y);

/** One float64 solve; the rhs must not be called (the step takes x⁽¹⁾ from the derivatives). */
function solve(solver: TaylorLagrangeSolver, derivatives: Derivs, x0: number[], o: { t0?: number; t1: number; dt: number; midpoint?: (t: number, y: Vec) => Vec; onRemainder?: (r: Vec, t: number, h: number) => void }) {
  return solveWith(
    float64Algebra,
    solver,
    () => {
      throw new Error('the rhs must not be called');
    },
    Float64Array.from(x0),
    { t0: o.t0 ?? 0, t1: o.t1, dt: o.dt, derivatives, ...(o.midpoint ? { midpoint: o.midpoint } : {}), ...(o.onRemainder ? { onRemainder: o.onRemainder } : {}) },
  );
}

/** log2(e(dt)/e(dt/2)) at the finest pair of step counts 2^k·base whose finer error is still ≥ floor. */
function observedOrder(err: (steps: number) => number, base = 4, maxSteps = 4096, floor = 1e-11): { order: number; list: string } {
  const errors: { steps: number; e: number }[] = [];
  let pick: [number, number] | undefined;
  for (let steps = base; steps <= maxSteps; steps *= 2) {
    errors.push({ steps, e: err(steps) });
    const k = errors.length - 1;
    if (k > 0 && errors[k]!.e >= floor) pick = [errors[k - 1]!.e, errors[k]!.e];
  }
  const list = errors.map(({ steps, e }) => `${steps}: ${e.toPrecision(3)}`).join(', ');
  if (!pick) throw new Error(`no step pair with errors above ${floor}: ${list}`);
  return { order: Math.log2(pick[0] / pick[1]), list };
}

/** Σ_{i=0}^{n} zⁱ/i! */
const taylorPoly = (z: number, n: number) => Array.from({ length: n + 1 }, (_, i) => z ** i / factorial(i)).reduce((a, b) => a + b, 0);

describe('options', () => {
  it('defaults: order p = 1 with the remainder — declared order 2, derivatives 2, fixed step, no tableau', () => {
    const s = new TaylorLagrangeSolver();
    expect(s).toMatchObject({ name: 'taylor-lagrange', taylorOrder: 1, remainder: true, order: 2, derivatives: 2, adaptive: false, maxSteps: 100_000 });
    expect((s as Solver).tableau).toBeUndefined();
    expect(typeof s.step).toBe('function');
  });

  it('remainder false is the truncated series of order p, named taylor: declared order p, derivatives p', () => {
    expect(new TaylorLagrangeSolver({ order: 3, remainder: false })).toMatchObject({ name: 'taylor', taylorOrder: 3, remainder: false, order: 3, derivatives: 3 });
    expect(new TaylorLagrangeSolver({ order: 3 })).toMatchObject({ name: 'taylor-lagrange', order: 4, derivatives: 4 });
    expect(taylorSolver({ order: 2 })).toMatchObject({ name: 'taylor', order: 2, derivatives: 2, remainder: false });
    expect(taylorSolver({ order: 2, remainder: false }).remainder).toBe(false);
  });

  it('rejects a bad order, remainder or maxSteps with ARGUMENT naming the key and the value', () => {
    for (const [options, mentions] of [
      [{ order: 0 }, /order[\s\S]*(≥ 1|>= 1)/],
      [{ order: 1.5 }, /order[\s\S]*int[\s\S]*1\.5/],
      [{ order: '2' }, /order[\s\S]*'2'|order[\s\S]*"2"|order[\s\S]*string/],
      [{ remainder: 'yes' }, /remainder/],
      [{ maxSteps: 0 }, /maxSteps/],
      [{ rtol: -1 }, /rtol/],
    ] as const) {
      let error: unknown;
      try {
        new TaylorLagrangeSolver(options as Record<string, unknown>);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(OdemorError);
      expect((error as OdemorError).code).toBe('ARGUMENT');
      expect((error as Error).message, JSON.stringify(options)).toMatch(mentions);
      expect((error as Error).message).toMatch(/solver 'taylor-lagrange'/);
    }
    expect(() => taylorSolver({ remainder: true })).toThrow(/'taylor' is the truncated series[\s\S]*taylor-lagrange/);
  });

  it('the option schemas are strict and accept the span keys core passes every solver', () => {
    expect(taylorLagrangeOptions.safeParse({ order: 2, remainder: false, dt: 0.1, t0: 0, t1: 1, rtol: 1e-6, atol: 1e-9, maxSteps: 10 }).success).toBe(true);
    expect(taylorLagrangeOptions.safeParse({ ordr: 2 }).error!.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['ordr'] }]);
    expect(taylorLagrangeOptions.safeParse({ order: 0 }).success).toBe(false);
    expect(taylorOptions.safeParse({ order: 2, dt: 0.1 }).success).toBe(true);
    expect(taylorOptions.safeParse({ remainder: true }).error!.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['remainder'] }]);
    // unknown keys are left to the config check, as every solver does
    expect(new TaylorLagrangeSolver({ order: 2, something: 1 }).order).toBe(3);
  });

  it('the plugin provides taylor-lagrange and taylor with their schemas', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/solver-taylor-lagrange');
    expect(exp.names('Solver').sort()).toEqual(['taylor', 'taylor-lagrange']);
    expect(exp.provision('Solver', 'taylor-lagrange')!.options).toBe(taylorLagrangeOptions);
    expect(exp.provision('Solver', 'taylor')!.options).toBe(taylorOptions);
    expect(exp.factory('Solver', 'taylor-lagrange')({ order: 2, dt: 0.1, t0: 0, t1: 1 })).toMatchObject({ name: 'taylor-lagrange', order: 3 });
    expect(exp.factory('Solver', 'taylor')({ order: 2 })).toMatchObject({ name: 'taylor', order: 2, remainder: false });
  });

  it('taylorCoefficients(h, n) = [h, h²/2!, …, hⁿ/n!]', () => {
    const c = taylorCoefficients(0.5, 4);
    [0.5, 0.125, 0.125 / 6, 0.0625 / 24].forEach((v, i) => expect(c[i]).toBeCloseTo(v, 15));
    expect(taylorCoefficients(2, 0)).toEqual([]);
  });
});

describe('one step', () => {
  for (const p of [1, 2, 3, 4]) {
    it(`p = ${p}: 'taylor' is the truncated series Σ_{i≤p}, 'taylor-lagrange' with Γ = 0 the series to p + 1, its remainder the last term`, () => {
      const lambda = -1.7;
      const h = 0.3;
      const z = lambda * h;
      const truncated = solve(new TaylorLagrangeSolver({ order: p, remainder: false }), scalarLinear(lambda), [2], { t1: h, dt: h }).y[0]!;
      expect(truncated).toBeCloseTo(2 * taylorPoly(z, p), 14);
      const remainders: { r: number; t: number; h: number }[] = [];
      const tl = solve(new TaylorLagrangeSolver({ order: p }), scalarLinear(lambda), [2], { t1: h, dt: h, onRemainder: (r, t, hh) => remainders.push({ r: r[0]!, t, h: hh }) }).y[0]!;
      expect(tl).toBeCloseTo(2 * taylorPoly(z, p + 1), 14);
      expect(remainders).toHaveLength(1);
      expect(remainders[0]!.r).toBeCloseTo((2 * z ** (p + 1)) / factorial(p + 1), 15);
      expect(remainders[0]!.r).toBeCloseTo(tl - truncated, 15);
      expect(remainders[0]).toMatchObject({ t: 0, h });
    });
  }

  it("the 'taylor' variant returns no remainder", () => {
    let calls = 0;
    solve(new TaylorLagrangeSolver({ order: 2, remainder: false }), scalarLinear(-1), [1], { t1: 1, dt: 0.25, onRemainder: () => calls++ });
    expect(calls).toBe(0);
  });

  for (const [lambda, h] of [
    [-2, 0.5],
    [0.7, 0.5],
    [-30, 0.05],
  ] as const) {
    for (const p of [1, 2, 3]) {
      it(`y′ = ${lambda} y, h = ${h}, p = ${p}: the exact Lagrange midpoint ξ = y(θh), θ ∈ (0, 1), as Γ = (e^{λθh} − 1)/λ, makes one step exact`, () => {
        const y0 = 1.5;
        const z = lambda * h;
        // Lagrange: e^z − T_p(z) = z^{p+1}/(p+1)! · e^{θz} for one θ ∈ (0, 1)
        const ratio = ((Math.exp(z) - taylorPoly(z, p)) * factorial(p + 1)) / z ** (p + 1);
        const theta = Math.log(ratio) / z;
        expect(theta).toBeGreaterThan(0);
        expect(theta).toBeLessThan(1);
        const gamma = Math.expm1(lambda * theta * h) / lambda; // ξ = y0 + Γ λ y0 = y0 e^{λθh}
        const mids: number[] = [];
        const res = solve(new TaylorLagrangeSolver({ order: p }), scalarLinear(lambda), [y0], {
          t1: h,
          dt: h,
          midpoint: (_t, y) => {
            mids.push(y[0]!);
            return y.map(() => gamma);
          },
        });
        expect(mids).toEqual([y0]);
        expect(Math.abs(res.y[0]! - y0 * Math.exp(z)) / (y0 * Math.exp(z))).toBeLessThan(1e-13);
        // without the midpoint (Γ = 0) the same step is off by the (p+2)-th order term
        const plain = solve(new TaylorLagrangeSolver({ order: p }), scalarLinear(lambda), [y0], { t1: h, dt: h }).y[0]!;
        expect(Math.abs(plain - y0 * Math.exp(z)) / (y0 * Math.exp(z))).toBeGreaterThan(1e-6);
      });
    }
  }

  it('the stiff system, one step Δt = 0.1 (p = 1): the componentwise midpoint Γ = (ξ* − x0) ⊘ A x0 makes it exact; without it the step explodes', () => {
    const x0 = [1, -0.5];
    const h = 0.1;
    const exact = stiffExact(h, x0);
    // A² ξ* = 2/h² (e^{Ah} − I − Ah) x0
    const f0 = mv(A, x0);
    const target = Float64Array.from(exact, (v, i) => ((v - x0[i]! - h * f0[i]!) * 2) / (h * h));
    const A2 = mm(A, A);
    const det = A2[0][0] * A2[1][1] - A2[0][1] * A2[1][0];
    const A2inv: M2 = [
      [A2[1][1] / det, -A2[0][1] / det],
      [-A2[1][0] / det, A2[0][0] / det],
    ];
    const xi = mv(A2inv, target);
    const gamma = Float64Array.from(xi, (v, i) => (v - x0[i]!) / f0[i]!);
    const remainders: Vec[] = [];
    const res = solve(new TaylorLagrangeSolver({ order: 1 }), stiff, x0, { t1: h, dt: h, midpoint: () => gamma, onRemainder: (r) => remainders.push(r) });
    // round-off: A² has an eigenvalue 1e6, so A² ξ carries ~1e-16 · 1e6 · |ξ| of it
    for (let i = 0; i < 2; i++) expect(Math.abs(res.y[i]! - exact[i]!)).toBeLessThan(1e-7);
    // the remainder is h²/2 · A² ξ
    const r = mv(A2, xi).map((v) => (v * h * h) / 2);
    for (let i = 0; i < 2; i++) expect(Math.abs(remainders[0]![i]! - r[i]!)).toBeLessThan(1e-6 * Math.abs(r[i]!));
    const plain = solve(new TaylorLagrangeSolver({ order: 1 }), stiff, x0, { t1: h, dt: h }).y;
    expect(Math.max(...Array.from(plain, (v, i) => Math.abs(v - exact[i]!)))).toBeGreaterThan(100);
  });
});

describe('convergence order (float64, step halving)', () => {
  for (const remainder of [false, true]) {
    for (const p of [1, 2, 3, 4]) {
      const declared = remainder ? p + 1 : p;
      const label = `${remainder ? 'taylor-lagrange (Γ = 0)' : 'taylor'}, p = ${p}`;

      it(`${label}: order ${declared} on y′ = −1.3 y`, () => {
        const s = new TaylorLagrangeSolver({ order: p, remainder });
        expect(s.order).toBe(declared);
        const { order, list } = observedOrder((n) => Math.abs(solve(s, scalarLinear(-1.3), [1], { t1: 1, dt: 1 / n }).y[0]! - Math.exp(-1.3)));
        expect(Math.abs(order - declared), list).toBeLessThan(0.25);
      });

      it(`${label}: order ${declared} on the stiff system x′ = A x (eigenvalues −1000, −1) on [0, 0.002]`, () => {
        const s = new TaylorLagrangeSolver({ order: p, remainder });
        const x0 = [1, 2];
        // on [0, 0.002] the fast mode has decayed to e^−2 only, so its error dominates and stays measurable
        const exact = stiffExact(0.002, x0);
        // h·1000 ≤ 0.25 from 8 steps: inside every Taylor method's stability interval
        const { order, list } = observedOrder((n) => {
          const y = solve(s, stiff, x0, { t1: 0.002, dt: 0.002 / n }).y;
          return Math.max(Math.abs(y[0]! - exact[0]!), Math.abs(y[1]! - exact[1]!));
        }, 8, 8192, 1e-11);
        expect(Math.abs(order - declared), list).toBeLessThan(0.25);
      });

      it(`${label}: order ${declared} on the nonlinear y′ = −y², y = 1/(1 + t)`, () => {
        const s = new TaylorLagrangeSolver({ order: p, remainder });
        const { order, list } = observedOrder((n) => Math.abs(solve(s, riccati, [1], { t1: 2, dt: 2 / n }).y[0]! - 1 / 3), 8);
        expect(Math.abs(order - declared), list).toBeLessThan(0.25);
      });
    }
  }

  it('the stiff system at Δt beyond the stability limit: Γ = 0 blows up (no midpoint learned), as for any explicit method', () => {
    const s = new TaylorLagrangeSolver({ order: 1 });
    // |1 + z + z²/2| > 1 for z = −1000 · 0.01 = −10
    expect(() => solve(s, stiff, [1, 2], { t1: 5, dt: 0.01 })).toThrow(/non-finite/);
  });
});

describe('function evaluations and derivative requests', () => {
  const cases = [
    { remainder: false, midpoint: false, perStep: (p: number) => p, asks: (p: number) => [p] },
    { remainder: true, midpoint: false, perStep: (p: number) => p + 1, asks: (p: number) => [p + 1] },
    { remainder: true, midpoint: true, perStep: (p: number) => 2 * p + 1, asks: (p: number) => [p, p + 1] },
  ];
  for (const c of cases) {
    for (const p of [1, 3]) {
      it(`p = ${p}, remainder ${c.remainder}, ${c.midpoint ? 'a midpoint' : 'no midpoint'}: nfe = ${c.perStep(p) === p ? 'p' : c.perStep(p) === p + 1 ? 'p + 1' : '2p + 1'} per step, one onEval per derivative order`, () => {
        const asked: number[] = [];
        const derivs: Derivs = (t, y, order) => {
          asked.push(order);
          return scalarLinear(-1)(t, y, order);
        };
        let midpointCalls = 0;
        const res = solve(new TaylorLagrangeSolver({ order: p, remainder: c.remainder }), derivs, [1], {
          t1: 1,
          dt: 0.3,
          ...(c.midpoint
            ? {
                midpoint: (_t: number, y: Vec) => {
                  midpointCalls++;
                  return y.map(() => 0.01);
                },
              }
            : {}),
        });
        expect(res.stats).toEqual({ nfe: 4 * c.perStep(p), accepted: 4, rejected: 0 });
        expect(asked).toEqual(Array.from({ length: 4 }, () => c.asks(p)).flat());
        // 'taylor' never asks for the midpoint
        expect(midpointCalls).toBe(c.midpoint && c.remainder ? 4 : 0);
      });
    }
  }

  it("'taylor' ignores a midpoint", () => {
    let calls = 0;
    const res = solve(new TaylorLagrangeSolver({ order: 2, remainder: false }), scalarLinear(-1), [1], { t1: 1, dt: 0.5, midpoint: (_t, y) => (calls++, y) });
    expect(calls).toBe(0);
    expect(res.y[0]).toBeCloseTo(taylorPoly(-0.5, 2) ** 2, 14);
  });

  it('asks for the derivatives at the step start (t_k, x_k) and at (t_k, ξ_k)', () => {
    const seen: { t: number; y: number; order: number }[] = [];
    solve(new TaylorLagrangeSolver({ order: 1 }), (t, y, order) => (seen.push({ t, y: y[0]!, order }), scalarLinear(-1)(t, y, order)), [1], {
      t0: 1,
      t1: 1.5,
      dt: 0.3,
      midpoint: (_t, y) => y.map(() => 0.5),
    });
    expect(seen.map((s) => [s.t, s.order])).toEqual([
      [1, 1],
      [1, 2],
      [1.3, 1],
      [1.3, 2],
    ]);
    // ξ = x + 0.5 · (−x) = x / 2
    expect(seen[1]!.y).toBeCloseTo(seen[0]!.y / 2, 15);
  });
});

describe('errors', () => {
  const ctx = (over: Partial<StepContext<Vec>>): StepContext<Vec> => ({ fsal: false, ...over });
  const step = (s: TaylorLagrangeSolver, c: StepContext<Vec>, alg: SolverAlgebra<Vec> = float64Algebra) => s.step(alg, (_t, y) => y, 0, Float64Array.of(1), 0.1, c);
  const thrown = (fn: () => unknown): OdemorError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(OdemorError);
      return e as OdemorError;
    }
    throw new Error('expected an OdemorError, got none');
  };

  it('solveWith refuses the solver without derivatives (ARGUMENT naming the order)', () => {
    const e = thrown(() => solveWith(float64Algebra, new TaylorLagrangeSolver({ order: 2 }), (_t, y) => y, Float64Array.of(1), { t0: 0, t1: 1, dt: 0.1 }));
    expect(e.code).toBe('ARGUMENT');
    expect(e.message).toMatch(/taylor-lagrange[\s\S]*derivatives[\s\S]*3/);
  });

  it('a step without context.derivatives is an ARGUMENT error naming derivatives', () => {
    const e = thrown(() => step(new TaylorLagrangeSolver({ order: 2 }), ctx({})));
    expect(e.code).toBe('ARGUMENT');
    expect(e.message).toMatch(/solver 'taylor-lagrange'[\s\S]*x⁽¹⁾ … x⁽³⁾[\s\S]*context\.derivatives[\s\S]*got none/);
  });

  it('derivatives returning the wrong count (or no array) is an ARGUMENT error naming the call and the counts', () => {
    const s = new TaylorLagrangeSolver({ order: 2 });
    const few = thrown(() => step(s, ctx({ derivatives: (_t, y) => [y, y] })));
    expect(few.code).toBe('ARGUMENT');
    expect(few.message).toMatch(/derivatives\(t = 0, x_k, 3\) must return the 3 derivatives \[x⁽¹⁾, …, x⁽³⁾\], got 2 values/);
    const many = thrown(() => step(new TaylorLagrangeSolver({ order: 1, remainder: false }), ctx({ derivatives: (_t, y) => [y, y] })));
    expect(many.message).toMatch(/solver 'taylor'[\s\S]*derivatives\(t = 0, x_k, 1\)[\s\S]*got 2 values/);
    const none = thrown(() => step(s, ctx({ derivatives: () => undefined as unknown as Vec[] })));
    expect(none.message).toMatch(/got undefined/);
    // at the midpoint
    const atXi = thrown(() => step(s, ctx({ derivatives: (_t, y, n) => (n === 2 ? [y, y] : [y]), midpoint: (_t, y) => y })));
    expect(atXi.message).toMatch(/derivatives\(t = 0, ξ = x_k \+ Γ ⊙ f\(x_k\), 3\)[\s\S]*got 1 value$/);
  });

  it('a midpoint with an algebra that has no mul is an OdemorError naming SolverAlgebra.mul', () => {
    const { mul: _m, ...noMul } = float64Algebra;
    const s = new TaylorLagrangeSolver({ order: 1 });
    const e = thrown(() => step(s, ctx({ derivatives: scalarLinear(-1), midpoint: (_t, y) => y }), noMul as SolverAlgebra<Vec>));
    expect(e.code).toBe('RUNTIME');
    expect(e.message).toMatch(/solver 'taylor-lagrange'[\s\S]*midpoint[\s\S]*SolverAlgebra\.mul/);
    // without a midpoint, mul is not needed
    expect(step(s, ctx({ derivatives: scalarLinear(-1) }), noMul as SolverAlgebra<Vec>).y1[0]).toBeCloseTo(1 - 0.1 + 0.005, 15);
  });
});

describe('on the tfjs algebra', () => {
  it('the stiff system with a midpoint: the same numbers as float64, remainders handed over, no tensor leaks', async () => {
    await tf.setBackend('cpu');
    const At = tf.tensor2d([
      [A[0][0], A[1][0]],
      [A[0][1], A[1][1]],
    ]); // Aᵀ, for row vectors
    const gammaValues = [0.001, -0.002];
    const gamma = tf.tensor2d([gammaValues, gammaValues]);
    const x0 = tf.tensor2d([
      [1, 2],
      [-0.5, 0.25],
    ]);
    const before = tf.memory().numTensors;
    const remainders: tf.Tensor2D[] = [];
    const res = solveTensor(
      new TaylorLagrangeSolver({ order: 2 }),
      (_t, x) => tf.matMul(x, At),
      x0,
      {
        t0: 0,
        t1: 0.01,
        dt: 0.001,
        derivatives: (_t, y, order) => {
          const out: tf.Tensor2D[] = [];
          let v = y;
          for (let i = 0; i < order; i++) out.push((v = tf.matMul(v, At)));
          return out;
        },
        midpoint: () => tf.clone(gamma),
        onRemainder: (r) => remainders.push(r),
      },
    );
    expect(res.stats).toEqual({ nfe: 10 * 5, accepted: 10, rejected: 0 });
    expect(remainders).toHaveLength(10);
    expect(remainders[0]!.shape).toEqual([2, 2]);
    const y = res.y.arraySync();
    const rows = [
      [1, 2],
      [-0.5, 0.25],
    ];
    rows.forEach((row, i) => {
      const ref = solve(new TaylorLagrangeSolver({ order: 2 }), stiff, row, { t1: 0.01, dt: 0.001, midpoint: () => Float64Array.from(gammaValues) }).y;
      for (let j = 0; j < 2; j++) expect(Math.abs(y[i]![j]! - ref[j]!)).toBeLessThan(1e-5 * (1 + Math.abs(ref[j]!)));
    });
    expect(tf.memory().numTensors - before).toBe(1 + remainders.length);
    tf.dispose([res.y, ...remainders]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([At, gamma, x0]);
  });
});

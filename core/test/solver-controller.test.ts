import { describe, expect, it } from 'vitest';
import { REFERENCE_TABLEAUX } from '@odemor/conformance';
import {
  AdaptiveController,
  OdemorError,
  adaptiveExponent,
  errorRatioFromSquares,
  float64Algebra,
  integrate,
  integrateAsync,
  landStep,
  nextStep,
  scaledError,
  stepFactor,
  type DriverOptions,
  type StepContext,
  type StepOutput,
} from '../src/index.js';

const { dopri5: DOPRI5, rk4: RK4 } = REFERENCE_TABLEAUX;

/** y' = tanh(W y + sin 3t), a small nonlinear, time-dependent test problem. */
function problem(d: number, seed: number): { f: (t: number, y: Float64Array) => Float64Array; x0: Float64Array } {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const W = Array.from({ length: d * d }, () => (r() - 0.5) * 6);
  const x0 = Float64Array.from({ length: d }, () => r() - 0.5);
  const f = (t: number, y: Float64Array) => {
    const o = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let v = Math.sin(3 * t);
      for (let j = 0; j < d; j++) v += W[i * d + j]! * y[j]!;
      o[i] = Math.tanh(v);
    }
    return o;
  };
  return { f, x0 };
}

function options(f: DriverOptions<Float64Array>['f'], extra: Partial<DriverOptions<Float64Array>> = {}): DriverOptions<Float64Array> {
  return { t0: 0, t1: 2, dt: 0.5, adaptive: true, rtol: 1e-6, atol: 1e-9, maxSteps: 1000, name: 'dopri5', f, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<OdemorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return e as OdemorError;
  }
  throw new Error('expected a rejection');
}

describe('the controller decisions (pure functions)', () => {
  it('exponent −1/(q+1) with q the lower order; Dopri5: −1/5', () => {
    expect(adaptiveExponent(DOPRI5)).toBe(-1 / 5);
    expect(adaptiveExponent({ order: 3 })).toBe(-1 / 3);
    expect(adaptiveExponent({ order: 3, embeddedOrder: 2 })).toBe(-1 / 3);
  });
  it('factor: 10 at ratio 0, clamped to [0.2, 10], 0.9·ratio^exponent between', () => {
    expect(stepFactor(0, -0.2)).toBe(10);
    expect(stepFactor(1e-12, -0.2)).toBe(10);
    expect(stepFactor(1e6, -0.2)).toBe(0.2);
    expect(stepFactor(1, -0.2)).toBe(0.9);
    expect(stepFactor(0.5, -0.2)).toBe(0.9 * Math.pow(0.5, -0.2));
  });
  it('landing: a step that reaches t1 (up to 1e-12 relative) is shortened to land on it', () => {
    expect(landStep(0, 0.3, 1)).toEqual({ h: 0.3, last: false });
    expect(landStep(0.8, 0.3, 1)).toEqual({ h: 1 - 0.8, last: true });
    expect(landStep(0, 1 - 1e-13, 1)).toEqual({ h: 1, last: true });
  });
  it('nextStep accepts at ratio ≤ 1, moves t (exactly t1 on the last step) and scales h either way', () => {
    expect(nextStep({ ratio: 1, t: 0.5, h: 0.25, last: false, t1: 1, exponent: -0.2 })).toEqual({ accept: true, factor: 0.9, hNext: 0.25 * 0.9, tNext: 0.75 });
    expect(nextStep({ ratio: 0.01, t: 0.7, h: 0.3, last: true, t1: 1, exponent: -0.2 })).toMatchObject({ accept: true, tNext: 1 });
    const rej = nextStep({ ratio: 2, t: 0.5, h: 0.25, last: false, t1: 1, exponent: -0.2 });
    expect(rej).toEqual({ accept: false, factor: 0.9 * Math.pow(2, -0.2), hNext: 0.25 * 0.9 * Math.pow(2, -0.2), tNext: 0.5 });
  });
  it('the error ratio is the RMS of the scaled errors', () => {
    expect(scaledError(2e-6, 1, -3, 1e-6, 1e-9)).toBe(2e-6 / (1e-9 + 3e-6));
    expect(errorRatioFromSquares(8, 2)).toBe(2);
    expect(errorRatioFromSquares(0, 0)).toBe(0);
    const err = Float64Array.of(1e-6, -2e-6);
    const y0 = Float64Array.of(1, 0.5);
    const y1 = Float64Array.of(1.1, -0.4);
    const sq = scaledError(1e-6, 1, 1.1, 1e-5, 1e-8) ** 2 + scaledError(-2e-6, 0.5, -0.4, 1e-5, 1e-8) ** 2;
    expect(float64Algebra.errorRatio(err, y0, y1, 1e-5, 1e-8)).toBe(errorRatioFromSquares(sq, 2));
  });
  it('AdaptiveController: first step min(dt, span); maxSteps and a settle without a proposal are errors', () => {
    const c = new AdaptiveController(DOPRI5, { t0: 0, t1: 0.3, dt: 1, rtol: 1e-6, atol: 1e-9, maxSteps: 3, name: 'dopri5' });
    expect(c.propose()).toEqual({ t: 0, h: 0.3, last: true });
    expect(c.settle(4)).toMatchObject({ accept: false, tNext: 0 });
    expect(c.rejected).toBe(1);
    const h1 = 0.3 * 0.9 * Math.pow(4, -0.2);
    expect(c.propose()).toEqual({ t: 0, h: h1, last: false });
    expect(c.settle(0)).toMatchObject({ accept: true, tNext: h1, hNext: 10 * h1 });
    expect(c.done).toBe(false);
    expect(c.propose()).toEqual({ t: h1, h: 0.3 - h1, last: true });
    expect(c.settle(1)).toMatchObject({ accept: true, tNext: 0.3 });
    expect(c.done).toBe(true);
    expect(() => c.settle(0.5)).toThrow(/settle\(\) without a proposed step/);
    const d = new AdaptiveController(DOPRI5, { t0: 0, t1: 1, dt: 0.1, rtol: 1e-6, atol: 1e-9, maxSteps: 1, name: 'dopri5' });
    d.propose();
    d.settle(2);
    expect(() => d.propose()).toThrow(/maxSteps \(1\) reached at t=0 before t1=1/);
    expect(() => new AdaptiveController(RK4, { t0: 0, t1: 1, dt: 0.1, rtol: 1e-6, atol: 1e-9, maxSteps: 1, name: 'rk4' })).toThrow(/needs a tableau with bHat/);
    const e = new AdaptiveController(DOPRI5, { t0: 0, t1: 1, dt: 0.1, rtol: 1e-6, atol: 1e-9, maxSteps: 9, name: 'dopri5' });
    e.propose();
    expect(() => e.settle(NaN)).toThrow(/became non-finite \(error ratio NaN\) in the step from t=0 with h=0.1/);
  });
  it('driving the controller by hand reproduces integrate step for step', () => {
    const { f, x0 } = problem(3, 7);
    const steps: [number, number][] = [];
    const res = integrate(float64Algebra, DOPRI5, x0, options(f, { onStep: (t, h) => steps.push([t, h]) }));
    // the same decisions from the same ratios: replay the ratios integrate saw
    const ratios: number[] = [];
    const alg = { ...float64Algebra, errorRatio: (...a: Parameters<typeof float64Algebra.errorRatio>) => (ratios.push(float64Algebra.errorRatio(...a)), ratios.at(-1)!) };
    integrate(alg, DOPRI5, x0, options(f));
    const c = new AdaptiveController(DOPRI5, { t0: 0, t1: 2, dt: 0.5, rtol: 1e-6, atol: 1e-9, maxSteps: 1000, name: 'dopri5' });
    const replay: [number, number][] = [];
    for (const r of ratios) {
      const a = c.propose();
      if (c.settle(r).accept) replay.push([a.t, a.h]);
    }
    expect(c.done).toBe(true);
    expect(replay).toEqual(steps);
    expect([c.accepted, c.rejected]).toEqual([res.stats.accepted, res.stats.rejected]);
  });
});

describe('integrateAsync', () => {
  it('gives bit-identical results, steps, saved states and stats to integrate (adaptive and fixed-step)', async () => {
    for (const [tableau, adaptive] of [[DOPRI5, true], [RK4, false]] as const) {
      for (const seed of [1, 2, 3]) {
        const { f, x0 } = problem(4, seed);
        const o = options(f, { adaptive, rtol: 1e-7, saveEvery: 2, t1: 3, dt: 0.3 });
        const sync = integrate(float64Algebra, tableau, x0, o);
        const asyncF = await integrateAsync(float64Algebra, tableau, x0, { ...o, f: async (t, y) => f(t, y) });
        expect(Array.from(asyncF.y)).toEqual(Array.from(sync.y));
        expect(asyncF.stats).toEqual(sync.stats);
        expect(asyncF.times).toEqual(sync.times);
        expect(asyncF.states!.map((s) => Array.from(s))).toEqual(sync.states!.map((s) => Array.from(s)));
        if (adaptive) expect(sync.stats.nfe).toBe(1 + 6 * (sync.stats.accepted + sync.stats.rejected));
      }
    }
  });
  it('an async step program drives the same controller: k1 given, FSAL kLast taken, NFE counted by onEval', async () => {
    const { f, x0 } = problem(3, 11);
    const o = options(f, { rtol: 1e-5 });
    const sync = integrate(float64Algebra, DOPRI5, x0, o);
    const contexts: StepContext<Float64Array>[] = [];
    const { rkStep } = await import('../src/index.js');
    const res = await integrateAsync(float64Algebra, DOPRI5, x0, {
      ...o,
      step: async (t, y, h, context): Promise<StepOutput<Float64Array>> => {
        contexts.push(context);
        return rkStep(float64Algebra, DOPRI5, f, t, y, h, context);
      },
    });
    expect(Array.from(res.y)).toEqual(Array.from(sync.y));
    expect(res.stats).toEqual(sync.stats);
    expect(contexts.every((c) => c.k1 !== undefined && c.fsal && c.error?.rtol === 1e-5)).toBe(true);
    expect(contexts.length).toBe(sync.stats.accepted + sync.stats.rejected);
  });
  it('the same errors: maxSteps exceeded, a non-finite state, a throwing rhs', async () => {
    const stiff = (_t: number, y: Float64Array) => Float64Array.from(y, (v) => -50 * v);
    const o = options(stiff, { t1: 5, dt: 1, rtol: 1e-9, atol: 1e-12, maxSteps: 4 });
    const want = (() => {
      try {
        integrate(float64Algebra, DOPRI5, Float64Array.of(1), o);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(want).toMatch(/maxSteps \(4\) reached/);
    expect((await rejection(integrateAsync(float64Algebra, DOPRI5, Float64Array.of(1), o))).message).toBe(want);
    const nan = (t: number, y: Float64Array) => Float64Array.from(y, (v) => (t > 0.3 ? NaN : v));
    const e = await rejection(integrateAsync(float64Algebra, DOPRI5, Float64Array.of(1), options(nan, { dt: 0.1 })));
    expect(e.code).toBe('ARGUMENT');
    expect(e.message).toMatch(/became non-finite \(error ratio NaN\)/);
    const boom = async () => {
      throw new OdemorError('RUNTIME', 'session failed');
    };
    expect((await rejection(integrateAsync(float64Algebra, DOPRI5, Float64Array.of(1), options(boom)))).message).toBe('session failed');
  });
});

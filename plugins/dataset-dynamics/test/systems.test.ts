import { describe, expect, it } from 'vitest';
import { expectOdemorError } from '@odemor/conformance';
import {
  createSystem,
  integrateTrajectory,
  lotkaVolterraInvariant,
  pendulumEnergy,
  stiffLinearExact,
  stiffLinearMatrix,
  STIFF_P,
  systems,
  SYSTEM_NAMES,
  type InputSignal,
} from '../src/index.js';

const range = (n: number, from: number, to: number) => Array.from({ length: n }, (_, i) => from + ((i + 1) * (to - from)) / n);

describe('the systems table', () => {
  it('has a consistent entry for every system', () => {
    for (const name of SYSTEM_NAMES) {
      const s = systems[name];
      expect(s.name).toBe(name);
      expect(s.states).toHaveLength(s.dim);
      expect(s.inputs).toHaveLength(s.channels);
      expect(s.initial).toHaveLength(s.dim);
      const sys = createSystem(name);
      const x = s.initial.map(([lo, hi]) => (lo + hi) / 2 + 0.1);
      const f = sys.rhs(0, x, s.channels ? new Float64Array(s.channels) : undefined);
      expect(f).toHaveLength(s.dim);
      expect(Array.from(f).every(Number.isFinite)).toBe(true);
    }
  });

  it('stiff-linear: A = P⁻¹ diag(λ) P has eigenvalues λ with eigenvectors the columns of P⁻¹', () => {
    const a = stiffLinearMatrix();
    expect(a[0][0] * 7).toBeCloseTo(-6001, 9);
    expect(a[0][1] * 7).toBeCloseTo(-1998, 9);
    expect(a[1][0] * 7).toBeCloseTo(-2997, 9);
    expect(a[1][1] * 7).toBeCloseTo(-1006, 9);
    // the rows of P are left eigenvectors: P A = diag(λ) P
    for (const [k, lambda] of [
      [0, -1000],
      [1, -1],
    ] as const) {
      const p = STIFF_P[k]!;
      for (let j = 0; j < 2; j++) expect(p[0] * a[0][j] + p[1] * a[1][j]).toBeCloseTo(lambda * p[j]!, 9);
    }
    // the rhs is A x
    const f = createSystem('stiff-linear').rhs(0, [0.3, -0.7]);
    expect(f[0]).toBeCloseTo(a[0][0] * 0.3 - a[0][1] * 0.7, 10);
    expect(f[1]).toBeCloseTo(a[1][0] * 0.3 - a[1][1] * 0.7, 10);
  });

  it('createSystem rejects unknown systems and parameters', () => {
    expectOdemorError(expect, () => createSystem('lorenz' as never), 'ARGUMENT', 'lorenz', 'van-der-pol');
    expectOdemorError(expect, () => createSystem('van-der-pol', { sigma: 1 }), 'ARGUMENT', 'sigma', 'mu');
    expectOdemorError(expect, () => createSystem('van-der-pol', { mu: Number.NaN }), 'ARGUMENT', 'mu', 'NaN');
  });
});

describe('integrateTrajectory (float64 Dopri5, rtol 1e-10)', () => {
  it('stiff-linear matches the closed form P⁻¹ diag(e^{−1000t}, e^{−t}) P x0 to 1e-9', () => {
    const times = [1e-4, 5e-4, 1e-3, 3e-3, 0.01, 0.05, 0.1, 0.5, 1, 2, 3.5, 5];
    for (const x0 of [
      [1, 0],
      [0, 1],
      [-0.8, 0.6],
      [0.9, 0.95],
    ]) {
      const xs = integrateTrajectory('stiff-linear', x0, times);
      times.forEach((t, k) => {
        const exact = stiffLinearExact(x0, t);
        for (let j = 0; j < 2; j++) expect(Math.abs(xs[2 * k + j]! - exact[j]!)).toBeLessThan(1e-9);
      });
    }
  });

  it('stiff-linear closed form with another t0 and eigenvalues', () => {
    const sys = createSystem('stiff-linear', { lambda1: -50, lambda2: -0.5 });
    const times = [2.01, 2.1, 3, 4];
    const xs = integrateTrajectory(sys, [0.4, -0.2], times, undefined, { t0: 2 });
    times.forEach((t, k) => {
      const exact = stiffLinearExact([0.4, -0.2], t, 2, -50, -0.5);
      for (let j = 0; j < 2; j++) expect(Math.abs(xs[2 * k + j]! - exact[j]!)).toBeLessThan(1e-9);
    });
  });

  it('van der Pol (μ = 1) settles on the limit cycle of amplitude ≈ 2', () => {
    const times = range(1000, 0, 40);
    for (const x0 of [
      [0.1, 0],
      [3, -2],
    ]) {
      const xs = integrateTrajectory('van-der-pol', x0, times);
      let amp = 0;
      times.forEach((t, k) => {
        if (t >= 25) amp = Math.max(amp, Math.abs(xs[2 * k]!));
      });
      expect(amp).toBeGreaterThan(1.99);
      expect(amp).toBeLessThan(2.02); // 2.0086 for μ = 1
    }
  });

  it('the damped pendulum loses energy (dE/dt = −cω²); undamped it keeps it', () => {
    const times = range(200, 0, 10);
    const x0 = [1.5, 0.5];
    const damped = integrateTrajectory('pendulum', x0, times);
    let prev = pendulumEnergy(x0);
    const e0 = prev;
    for (let k = 0; k < times.length; k++) {
      const e = pendulumEnergy(damped.subarray(2 * k, 2 * k + 2));
      expect(e).toBeLessThanOrEqual(prev + 1e-10);
      prev = e;
    }
    expect(prev).toBeLessThan(0.5 * e0);
    const sys = createSystem('pendulum', { damping: 0 });
    const free = integrateTrajectory(sys, x0, times);
    for (let k = 0; k < times.length; k++) expect(Math.abs(pendulumEnergy(free.subarray(2 * k, 2 * k + 2), sys.params) - e0)).toBeLessThan(1e-8);
  });

  it('Lotka–Volterra keeps V = δx − γ ln x + βy − α ln y constant to 1e-8', () => {
    const times = range(100, 0, 10);
    for (const x0 of [
      [1, 0.5],
      [4.5, 2.8],
    ]) {
      const xs = integrateTrajectory('lotka-volterra', x0, times);
      const v0 = lotkaVolterraInvariant(x0);
      for (let k = 0; k < times.length; k++) expect(Math.abs(lotkaVolterraInvariant(xs.subarray(2 * k, 2 * k + 2)) - v0)).toBeLessThan(1e-8);
    }
    // other parameters
    const sys = createSystem('lotka-volterra', { alpha: 0.7, beta: 0.4, gamma: 1.2, delta: 0.3 });
    const xs = integrateTrajectory(sys, [2, 1], times);
    const v0 = lotkaVolterraInvariant([2, 1], sys.params);
    for (let k = 0; k < times.length; k++) expect(Math.abs(lotkaVolterraInvariant(xs.subarray(2 * k, 2 * k + 2), sys.params) - v0)).toBeLessThan(1e-8);
  });

  it('vehicle: with zero inputs and no lateral motion it drives a straight line along its heading', () => {
    const times = range(20, 0, 5);
    const steps = 100;
    const u: InputSignal = { values: new Float64Array(steps * 2), steps, channels: 2, dt: 0.05 };
    for (const [psi, vx] of [
      [0, 10],
      [0.7, 6],
      [-2.5, 14],
    ] as const) {
      const x0 = [1, -2, psi, vx, 0, 0];
      const xs = integrateTrajectory('vehicle', x0, times, u);
      times.forEach((t, k) => {
        const s = xs.subarray(6 * k, 6 * k + 6);
        expect(s[0]).toBeCloseTo(1 + vx * Math.cos(psi) * t, 9);
        expect(s[1]).toBeCloseTo(-2 + vx * Math.sin(psi) * t, 9);
        expect(s[2]).toBeCloseTo(psi, 12);
        expect(s[3]).toBeCloseTo(vx, 12);
        expect(s[4]).toBeCloseTo(0, 12);
        expect(s[5]).toBeCloseTo(0, 12);
      });
    }
  });

  it('vehicle: a held input is integrated hold interval by hold interval (zero-order hold)', () => {
    const sys = createSystem('vehicle');
    const dt = 0.1;
    const steps = 10;
    const values = new Float64Array(steps * 2);
    for (let i = 0; i < steps; i++) {
      const k = i >= 3 && i <= 6 ? 3 : i; // samples 3 – 6 repeat (no switch there)
      values[2 * i] = 0.04 * Math.sin(k);
      values[2 * i + 1] = 800 * Math.cos(0.7 * k);
    }
    const times = [0.25, 0.5, 0.75, 1]; // observation times that are not hold boundaries
    const xs = integrateTrajectory(sys, [0, 0, 0.2, 8, 0.1, 0.05], times, { values, steps, channels: 2, dt });
    // the same, chained by hand: one constant-input solve per hold interval (and per observation inside it)
    const stops = [...new Set([...Array.from({ length: steps }, (_, i) => Number(((i + 1) * dt).toFixed(10))), ...times])].sort((a, b) => a - b);
    let y: ArrayLike<number> = [0, 0, 0.2, 8, 0.1, 0.05];
    let t = 0;
    const byHand = new Map<number, ArrayLike<number>>();
    for (const stop of stops) {
      const j = Math.min(steps - 1, Math.floor(t / dt + 1e-9));
      const hold: InputSignal = { values: [values[2 * j]!, values[2 * j + 1]!], steps: 1, channels: 2, dt: 1 };
      y = integrateTrajectory(sys, y, [stop], hold, { t0: t });
      t = stop;
      byHand.set(stop, y);
    }
    times.forEach((tt, k) => {
      const ref = byHand.get(tt)!;
      for (let j = 0; j < 6; j++) expect(Math.abs(xs[6 * k + j]! - ref[j]!)).toBeLessThan(1e-8 * Math.max(1, Math.abs(ref[j]!)));
    });
    // and it differs from holding the first value throughout
    const constant = integrateTrajectory(sys, [0, 0, 0.2, 8, 0.1, 0.05], [1], { values: [values[0]!, values[1]!], steps: 1, channels: 2, dt: 1 });
    expect(Math.abs(constant[3]! - xs[6 * 3 + 3]!)).toBeGreaterThan(1e-3);
  });

  it('observation times may repeat, start at t0 and coincide with hold boundaries', () => {
    const times = [0, 0.5, 0.5, 1];
    const xs = integrateTrajectory('van-der-pol', [1, 0], times);
    expect(Array.from(xs.subarray(0, 2))).toEqual([1, 0]);
    expect(Array.from(xs.subarray(2, 4))).toEqual(Array.from(xs.subarray(4, 6)));
    const steps = 20;
    const u: InputSignal = { values: Array.from({ length: 40 }, (_, i) => (i % 2 ? 100 : 0.01) * (i % 3)), steps, channels: 2, dt: 0.05 };
    const a = integrateTrajectory('vehicle', [0, 0, 0, 8, 0, 0], [0.1, 0.15, 0.3, 1], u);
    expect(Array.from(a).every(Number.isFinite)).toBe(true);
  });

  it('rejects bad arguments', () => {
    expectOdemorError(expect, () => integrateTrajectory('van-der-pol', [1], [1]), 'ARGUMENT', 'x0 has 1 entries');
    expectOdemorError(expect, () => integrateTrajectory('van-der-pol', [1, Number.NaN], [1]), 'ARGUMENT', 'x0[1]');
    expectOdemorError(expect, () => integrateTrajectory('van-der-pol', [1, 0], [1, 0.5]), 'ARGUMENT', 'times[1]');
    expectOdemorError(expect, () => integrateTrajectory('van-der-pol', [1, 0], [1], undefined, { t0: 2 }), 'ARGUMENT', 'times[0]');
    expectOdemorError(expect, () => integrateTrajectory('vehicle', [0, 0, 0, 5, 0, 0], [1]), 'ARGUMENT', 'input');
    expectOdemorError(expect, () => integrateTrajectory('vehicle', [0, 0, 0, 5, 0, 0], [1], { values: [0, 0, 0], steps: 1, channels: 2, dt: 1 }), 'ARGUMENT', '3 values');
    expectOdemorError(expect, () => integrateTrajectory('pendulum', [0, 0], [1], { values: [0], steps: 1, channels: 1, dt: 1 }), 'ARGUMENT', 'no inputs');
  });
});

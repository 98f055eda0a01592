/**
 * Reference trajectories: float64 Dormand–Prince 5(4) (core's `rkSolveFloat64` with the Dopri5 tableau)
 * at tight tolerances, stopping exactly at every observation time and at every switch of a zero-order-hold
 * input, so the input is constant over every integration segment.
 */
import { OdemorError, rkSolveFloat64, sequenceIndex, type SolveStats } from '@odemor/core';
import { DOPRI5_TABLEAU } from '@odemor/solver-dopri5';
import { createSystem, type DynamicalSystem, type SystemName } from './systems.js';

/** Default relative tolerance of {@link integrateTrajectory}. */
export const DEFAULT_RTOL = 1e-10;
/** Default absolute tolerance of {@link integrateTrajectory}. */
export const DEFAULT_ATOL = 1e-12;

/**
 * An input signal u(t) sampled at t0 + i·dt, i = 0 … steps − 1 and held constant in between (zero-order
 * hold; after the last sample the last value holds), as `DatasetInfo.signal` documents: the value at t is
 * `values[sequenceIndex(t, t0, dt, steps)]`.
 */
export interface InputSignal {
  /** row-major [steps, channels] */
  values: ArrayLike<number>;
  steps: number;
  channels: number;
  dt: number;
}

/** Options of {@link integrateTrajectory}. */
export interface IntegrateOptions {
  /** start time of the trajectory (default 0); the input's first sample is at t0 */
  t0?: number;
  /** default {@link DEFAULT_RTOL} */
  rtol?: number;
  /** default {@link DEFAULT_ATOL} */
  atol?: number;
  /** most step attempts per integration segment (default 1 000 000) */
  maxSteps?: number;
  /** solver statistics are added to this object (summed over all segments) */
  stats?: SolveStats;
}

/**
 * Integrate `system` from `x0` at `t0` and return its states at `times` (row-major [T, d], float64), with
 * Dormand–Prince 5(4) in float64 (adaptive, rtol 1e-10 and atol 1e-12 by default).
 *
 * With an input `u` (required for systems with input channels), the integration stops at every sample
 * time t0 + i·dt where the signal changes and integrates each hold interval with its constant value, so
 * the result is the exact solution for the piecewise-constant input (up to the tolerances), not a
 * smoothed one.
 *
 * @param system a system made by `createSystem`, or a name (default parameters)
 * @param times observation times, non-decreasing, none before `t0`
 * @throws OdemorError `ARGUMENT` for a bad state, time list or input; `NUMERIC` when the solver fails
 */
export function integrateTrajectory(
  system: DynamicalSystem | SystemName,
  x0: ArrayLike<number>,
  times: ArrayLike<number>,
  u?: InputSignal,
  options: IntegrateOptions = {},
): Float64Array {
  const sys = typeof system === 'string' ? createSystem(system) : system;
  const d = sys.dim;
  const t0 = options.t0 ?? 0;
  const rtol = options.rtol ?? DEFAULT_RTOL;
  const atol = options.atol ?? DEFAULT_ATOL;
  const maxSteps = options.maxSteps ?? 1_000_000;
  const what = `integrateTrajectory(${sys.name})`;
  if (x0.length !== d) throw new OdemorError('ARGUMENT', `${what}: x0 has ${x0.length} entries, the system has ${d} states`);
  for (let i = 0; i < d; i++) if (!Number.isFinite(x0[i])) throw new OdemorError('ARGUMENT', `${what}: x0[${i}] is ${String(x0[i])}, expected a finite number`);
  if (!Number.isFinite(t0)) throw new OdemorError('ARGUMENT', `${what}: t0 must be a finite number, got ${String(t0)}`);
  const T = times.length;
  for (let i = 0; i < T; i++) {
    const t = times[i]!;
    if (!Number.isFinite(t) || t < t0 || (i > 0 && t < times[i - 1]!)) {
      throw new OdemorError('ARGUMENT', `${what}: times must be finite, non-decreasing and not before t0 = ${t0}; times[${i}] is ${String(t)}`);
    }
  }
  if (sys.channels > 0) {
    if (!u) throw new OdemorError('ARGUMENT', `${what}: the system has ${sys.channels} input channels; pass the input signal u`);
    if (u.channels !== sys.channels) throw new OdemorError('ARGUMENT', `${what}: the input has ${u.channels} channels, the system ${sys.channels}`);
    if (!Number.isSafeInteger(u.steps) || u.steps < 1) throw new OdemorError('ARGUMENT', `${what}: input steps must be a positive integer, got ${String(u.steps)}`);
    if (!(u.dt > 0) || !Number.isFinite(u.dt)) throw new OdemorError('ARGUMENT', `${what}: input dt must be a finite number > 0, got ${String(u.dt)}`);
    if (u.values.length !== u.steps * u.channels) {
      throw new OdemorError('ARGUMENT', `${what}: the input has ${u.values.length} values, expected steps × channels = ${u.steps * u.channels}`);
    }
  } else if (u) {
    throw new OdemorError('ARGUMENT', `${what}: the system has no inputs, but an input signal was given`);
  }

  const out = new Float64Array(T * d);
  const t1 = T > 0 ? times[T - 1]! : t0;
  // the stops: every observation time and every switch of the input, merged when they coincide up to rounding
  const stops: { t: number; obs: number[] }[] = [];
  for (let i = 0; i < T; i++) stops.push({ t: times[i]!, obs: [i] });
  if (u) {
    for (let i = 1; i < u.steps; i++) {
      const t = t0 + i * u.dt;
      if (t >= t1) break;
      // a sample that repeats the previous one is no switch
      let same = true;
      for (let c = 0; c < u.channels && same; c++) same = u.values[i * u.channels + c] === u.values[(i - 1) * u.channels + c];
      if (!same) stops.push({ t, obs: [] });
    }
  }
  stops.sort((a, b) => a.t - b.t);
  const merged: { t: number; obs: number[] }[] = [];
  for (const s of stops) {
    const last = merged[merged.length - 1];
    const tol = 1e-12 * Math.max(1, Math.abs(s.t));
    if (last && s.t - last.t <= tol) {
      // keep the observation time when a switch coincides with it
      if (s.obs.length) {
        if (!last.obs.length) last.t = s.t;
        last.obs.push(...s.obs);
      }
    } else merged.push({ t: s.t, obs: [...s.obs] });
  }

  let y: Float64Array = Float64Array.from(x0);
  let t = t0;
  // the step carried from segment to segment (the last full step of the previous one)
  let hCarry = Math.max(1e-6, 1e-4 * Math.max(1e-3, t1 - t0));
  const uNow = u ? new Float64Array(u.channels) : undefined;
  for (const stop of merged) {
    if (stop.t - t > 1e-12 * Math.max(1, Math.abs(stop.t))) {
      let rhs: (tt: number, yy: Float64Array) => Float64Array;
      if (u && uNow) {
        const j = sequenceIndex(t, t0, u.dt, u.steps);
        for (let c = 0; c < u.channels; c++) uNow[c] = u.values[j * u.channels + c]!;
        rhs = (tt, yy) => sys.rhs(tt, yy, uNow);
      } else rhs = (tt, yy) => sys.rhs(tt, yy);
      let hLast = 0;
      let hFull = 0;
      let count = 0;
      const res = rkSolveFloat64(DOPRI5_TABLEAU, rhs, y, {
        t0: t,
        t1: stop.t,
        dt: Math.min(hCarry, stop.t - t),
        adaptive: true,
        rtol,
        atol,
        maxSteps,
        onStep: (info) => {
          if (count > 0) hFull = hLast; // the step before the last (the last one may be shortened to land)
          hLast = info.h;
          count++;
        },
      });
      if (count > 1) hCarry = hFull;
      else hCarry = Math.max(hCarry, hLast);
      y = res.y;
      t = stop.t;
      if (options.stats) {
        options.stats.nfe += res.stats.nfe;
        options.stats.accepted += res.stats.accepted;
        options.stats.rejected += res.stats.rejected;
      }
    }
    for (const i of stop.obs) out.set(y, i * d);
  }
  return out;
}

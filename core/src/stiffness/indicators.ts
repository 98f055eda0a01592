/**
 * Stiffness indicators of a model's ODE block along test trajectories (docs/algorithms.md#stiffness): the block's
 * state is integrated in float64 from a few test samples, and at a few times along each trajectory the spectrum of
 * the Jacobian J(z, u(t)) gives the spectral radius ρ and the stiffness ratio; the summary is their median and
 * maximum over all sampled points.
 */
import { check } from '../errors.js';
import type { ModelIR } from '../ir/types.js';
import { applyLinearMap } from '../reduce/simulate.js';
import { DOPRI5_TABLEAU } from '../solvers/dopri5.js';
import { sequenceIndex } from '../solvers/driver.js';
import { rkSolveFloat64 } from '../solvers/float64.js';
import { median } from '../util/stats.js';
import { blockForm, blockRhs, linearizeBlock, type BlockForm } from './jacobian.js';
import { blockInput64 } from './layers.js';
import { eigenvalues, powerIteration, spectrumMeasures, type PowerIterationOptions } from './spectrum.js';

/** Defaults of {@link StiffnessOptions}. */
export const STIFFNESS_DEFAULTS = Object.freeze({ trajectories: 8, points: 8, exactMaxDim: 128 });

/** Options of {@link stiffnessIndicators}. */
export interface StiffnessOptions {
  /** sampled times per trajectory (default 8; see {@link stiffnessTimes}) */
  points?: number;
  /** every eigenvalue (and so the stiffness ratio) up to this state dimension; power iteration above (default 128) */
  exactMaxDim?: number;
  /** options of the power iteration (large blocks) */
  power?: PowerIterationOptions;
}

/** One test sample: its input (as the dataset gives it) and, for a state input with a signal, its signal u [steps, channels]. */
export interface StiffnessSample {
  x: ArrayLike<number>;
  u?: ArrayLike<number>;
}

/** Median and maximum over the sampled points. */
export interface MedianMax {
  median: number;
  max: number;
}

/** What {@link stiffnessIndicators} returns (a row's `stiffness`). */
export interface StiffnessSummary {
  /** 'exact': every eigenvalue of the dense J (dim ≤ exactMaxDim); 'power': ρ by power iteration on Jacobian-vector products */
  method: 'exact' | 'power';
  /** the state dimension J acts on (k for a reduced block) */
  dim: number;
  /** test trajectories sampled */
  trajectories: number;
  /** the sampled times along each trajectory */
  times: number[];
  /** sampled points with a finite state (trajectories × times, less those where the state was not finite) */
  points: number;
  /** spectral radius ρ(J) = max |λ| */
  spectralRadius: MedianMax;
  /** max |Re λ| / min |Re λ| over the eigenvalues with Re λ < 0, over the points that have such eigenvalues (exact only; null otherwise) */
  stiffnessRatio: MedianMax | null;
  /** max Re λ (exact only): > 0 where the linearised block grows */
  maxReal: MedianMax | null;
  /** points where the power iteration did not meet its tolerance */
  unconverged?: number;
  /** points dropped because the integrated state was not finite */
  nonFinite?: number;
  /** wall seconds the measurement took (set by the pipeline) */
  seconds?: number;
}

/**
 * The times at which the Jacobian is sampled along a trajectory: a trajectory readout's times (at most `points` of
 * them, evenly spaced in index, the last one kept); otherwise `points` evenly spaced times on [t0, t1], both ends
 * included (one point: t1).
 */
export function stiffnessTimes(model: ModelIR, points: number): number[] {
  check(Number.isInteger(points) && points >= 1, `stiffness points must be a positive integer, got ${points}`, 'ARGUMENT');
  const { t0, t1 } = model.solver;
  const readout = model.readout?.times;
  if (readout?.length) {
    if (readout.length <= points) return [...readout];
    return Array.from({ length: points }, (_, j) => readout[Math.round(((j + 1) * readout.length) / points) - 1]!);
  }
  if (points === 1) return [t1];
  return Array.from({ length: points }, (_, j) => (j === points - 1 ? t1 : t0 + ((t1 - t0) * j) / (points - 1)));
}

/** u(t) of one sample: a sequence's element, a state input's signal row, or undefined (no input). */
function inputAt(model: ModelIR, sample: StiffnessSample): ((t: number) => Float64Array) | undefined {
  const input = model.input;
  const t0 = model.solver.t0;
  if (input.kind === 'sequence') {
    const { steps, features, stepDuration } = input;
    return (t) => {
      const j = sequenceIndex(t, t0, stepDuration, steps);
      return Float64Array.from({ length: features }, (_, c) => sample.x[j * features + c]!);
    };
  }
  if (input.kind === 'state' && input.signal) {
    const { steps, channels, stepDuration } = input.signal;
    const u = sample.u;
    check(u !== undefined && u.length === steps * channels, `a sample of a model with an input signal needs its signal u [${steps}, ${channels}]`, 'SHAPE');
    return (t) => {
      const j = sequenceIndex(t, t0, stepDuration, steps);
      return Float64Array.from({ length: channels }, (_, c) => u![j * channels + c]!);
    };
  }
  return undefined;
}

/** The block's state z(t) (and u(t)) at each of `times` along the trajectory of one sample, integrated in float64. */
export function trajectoryPoints(model: ModelIR, form: BlockForm, sample: StiffnessSample, times: readonly number[]): { t: number; z: Float64Array; u?: Float64Array }[] {
  const block = model.block;
  const u = inputAt(model, sample);
  let z: Float64Array;
  if (model.input.kind === 'sequence') z = new Float64Array(form.dim);
  else {
    const x = blockInput64(model, sample.x);
    z = block.kind === 'reduced' ? applyLinearMap(block.E, x) : x;
  }
  check(z.length === form.dim, `the initial state has ${z.length} values, the block's state dimension is ${form.dim}`, 'SHAPE');
  const f = (t: number, y: Float64Array) => blockRhs(form, y, u?.(t));
  const out: { t: number; z: Float64Array; u?: Float64Array }[] = [];
  let t = model.solver.t0;
  for (const ti of times) {
    if (ti > t && z.every(Number.isFinite)) {
      // the model's own step size, with a 5th-order method (Dormand–Prince's b weights, fixed steps)
      z = rkSolveFloat64(DOPRI5_TABLEAU, f, z, { t0: t, t1: ti, dt: Math.min(model.solver.dt, ti - t) }).y;
      t = ti;
    }
    const ut = u?.(ti);
    out.push({ t: ti, z: Float64Array.from(z), ...(ut ? { u: ut } : {}) });
  }
  return out;
}

const medianMax = (xs: number[]): MedianMax => ({ median: median(xs), max: Math.max(...xs) });

/**
 * The stiffness indicators of `model`'s block along the trajectories of `samples` (docs/algorithms.md#stiffness):
 * at each of {@link stiffnessTimes} of each trajectory, J(z(t), u(t)); up to `exactMaxDim` every eigenvalue of the
 * dense J (ρ, the stiffness ratio and max Re λ), above it ρ by {@link powerIteration} on Jacobian-vector products (no
 * stiffness ratio: its smallest decay rate is not an extreme eigenvalue). A point whose state is not finite is
 * dropped and counted.
 */
export function stiffnessIndicators(model: ModelIR, samples: readonly StiffnessSample[], options: StiffnessOptions = {}): StiffnessSummary {
  check(samples.length >= 1, 'stiffnessIndicators: no samples', 'ARGUMENT');
  const form = blockForm(model.block);
  const times = stiffnessTimes(model, options.points ?? STIFFNESS_DEFAULTS.points);
  const exact = form.dim <= (options.exactMaxDim ?? STIFFNESS_DEFAULTS.exactMaxDim);
  const rho: number[] = [];
  const ratio: number[] = [];
  const maxReal: number[] = [];
  let unconverged = 0;
  let nonFinite = 0;
  samples.forEach((sample, i) => {
    for (const p of trajectoryPoints(model, form, sample, times)) {
      if (!p.z.every(Number.isFinite)) {
        nonFinite++;
        continue;
      }
      const J = linearizeBlock(form, p.z, p.u);
      if (exact) {
        const m = spectrumMeasures(eigenvalues(J.dense(), form.dim));
        rho.push(m.spectralRadius);
        maxReal.push(m.maxReal);
        if (m.stiffnessRatio !== null) ratio.push(m.stiffnessRatio);
      } else {
        const r = powerIteration((v) => J.apply(v), form.dim, { seed: i + 1, ...options.power });
        rho.push(r.spectralRadius);
        if (!r.converged) unconverged++;
      }
    }
  });
  return {
    method: exact ? 'exact' : 'power',
    dim: form.dim,
    trajectories: samples.length,
    times,
    points: rho.length,
    spectralRadius: rho.length ? medianMax(rho) : { median: Number.NaN, max: Number.NaN },
    stiffnessRatio: ratio.length ? medianMax(ratio) : null,
    maxReal: maxReal.length ? medianMax(maxReal) : null,
    ...(unconverged ? { unconverged } : {}),
    ...(nonFinite ? { nonFinite } : {}),
  };
}

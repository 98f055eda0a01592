import { OdemorError, type Batch, type BatchOptions, type Dataset, type DatasetInfo, type SolveStats, type Split } from '@odemor/core';
import { integrateTrajectory } from './integrate.js';
import { resolveOptions, type DynamicsOptions } from './options.js';
import { randomInput, streamFor } from './signals.js';
import { createSystem, stiffLinearExact, type DynamicalSystem } from './systems.js';

/** All trajectories of one split, row-major. */
export interface TrajectorySplit {
  count: number;
  /** initial states x(t0), [count, d] (float32 values: the integration started from exactly these) */
  x: Float32Array;
  /** observed states at `times`, [count, T, d], with the split's observation noise */
  targets: Float32Array;
  /** the noise-free states in float64, [count, T, d] */
  clean: Float64Array;
  /** inputs, [count, steps, channels] (float32 values: the integration used exactly these), for systems with inputs */
  u?: Float32Array;
}

/** How long generating a split took, and what the solver did. */
export interface GenerationStats extends SolveStats {
  seconds: number;
  trajectories: number;
}

/**
 * Trajectories of a known dynamical system as a regression dataset: `x` is the initial state, the targets
 * the states at the observation times, and for systems with inputs `u` the held input signal. Each split
 * is generated on first use (float64 Dopri5 at rtol 1e-10; the stiff linear system with `method: exact`
 * from its closed form), from its own seeded streams, and cached.
 */
export class DynamicsDataset implements Dataset {
  readonly name: string;
  readonly info: DatasetInfo;
  /** the validated options, defaults filled in */
  readonly options: Readonly<DynamicsOptions>;
  /** the system with its parameters */
  readonly system: DynamicalSystem;
  private readonly cache = new Map<Split, TrajectorySplit>();
  private readonly statsBySplit = new Map<Split, GenerationStats>();

  constructor(options: DynamicsOptions) {
    this.options = Object.freeze({ ...options });
    this.system = createSystem(options.system, options.params);
    const d = this.system.dim;
    const T = options.times.length;
    this.name = `dynamics-${options.system}`;
    this.info = Object.freeze({
      inputShape: [d],
      kind: 'trajectory',
      numClasses: 0,
      task: 'regression',
      targetShape: [T, d],
      times: [...options.times],
      t0: options.t0,
      ...(options.input ? { signal: { steps: options.input.steps, channels: this.system.channels, dt: options.input.dt } } : {}),
      trainSize: options.trajectories,
      testSize: options.test,
    } satisfies DatasetInfo);
  }

  /** Solver statistics and wall time of a split's generation, once it is generated. */
  generationStats(split: Split): GenerationStats | undefined {
    return this.statsBySplit.get(split);
  }

  /**
   * All trajectories of a split, in storage order (generated on first call, then cached). The arrays are
   * the dataset's own: do not modify them.
   *
   * Trajectory i of a split draws its initial state (and its input) from the split's stream in order, so
   * the first trajectories do not change when the count grows; the noise comes from a stream of its own,
   * so the clean data does not depend on the noise level.
   */
  split(split: Split): TrajectorySplit {
    if (split !== 'train' && split !== 'test') throw new OdemorError('ARGUMENT', `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
    const cached = this.cache.get(split);
    if (cached) return cached;
    const o = this.options;
    const sys = this.system;
    const d = sys.dim;
    const T = o.times.length;
    const count = split === 'train' ? o.trajectories : o.test;
    const rng = streamFor(o.seed, `data:${split}`);
    const x = new Float32Array(count * d);
    const clean = new Float64Array(count * T * d);
    const input = o.input;
    const u = input ? new Float32Array(count * input.steps * sys.channels) : undefined;
    const stats: SolveStats = { nfe: 0, accepted: 0, rejected: 0 };
    const start = performance.now();
    const x0 = new Float64Array(d);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < d; j++) {
        const [lo, hi] = o.initial[j]!;
        x0[j] = Math.fround(lo + (hi - lo) * rng.next());
      }
      x.set(x0, i * d);
      let signal: Float64Array | undefined;
      if (input) {
        signal = randomInput(input.kind, input.steps, input.dt, input.amplitude, rng);
        u!.set(signal, i * input.steps * sys.channels);
      }
      if (o.method === 'exact') {
        for (let k = 0; k < T; k++) clean.set(stiffLinearExact(x0, o.times[k]!, o.t0, o.params.lambda1, o.params.lambda2), (i * T + k) * d);
      } else {
        const signalOf = signal && input ? { values: signal, steps: input.steps, channels: sys.channels, dt: input.dt } : undefined;
        clean.set(integrateTrajectory(sys, x0, o.times, signalOf, { t0: o.t0, rtol: o.rtol, atol: o.atol, stats }), i * T * d);
      }
    }
    const targets = Float32Array.from(clean);
    const noise = split === 'train' ? o.noise : o.noiseTest;
    if (noise > 0) {
      const nrng = streamFor(o.seed, `noise:${split}`);
      for (let k = 0; k < targets.length; k++) targets[k] = clean[k]! + noise * nrng.normal();
    }
    const data: TrajectorySplit = { count, x, targets, clean, ...(u ? { u } : {}) };
    this.cache.set(split, data);
    this.statsBySplit.set(split, { ...stats, seconds: (performance.now() - start) / 1000, trajectories: count });
    return data;
  }

  /**
   * Iterate over a split in batches of `batchSize` (the last one may be smaller). Every batch holds fresh
   * arrays: `x` [size, d] (initial states), `targets` [size, T, d], `u` [size, steps, channels] for systems
   * with inputs, and `y` an empty `Int32Array` (regression: there are no labels).
   *
   * - `limit`: use only the first `limit` trajectories of the split (applied before shuffling).
   * - `shuffle` (default false): a seeded random order; the same `seed` (default: the dataset's) gives the
   *   same order.
   * - `augment` is ignored (no augmentation).
   *
   * @throws OdemorError `ARGUMENT` for a bad split, batch size, limit or seed
   */
  async *batches(split: Split, batchSize: number, options: BatchOptions = {}): AsyncGenerator<Batch> {
    if (split !== 'train' && split !== 'test') throw new OdemorError('ARGUMENT', `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new OdemorError('ARGUMENT', `batch size must be a positive integer, got ${String(batchSize)}`);
    const { shuffle = false, limit } = options;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new OdemorError('ARGUMENT', `limit must be a positive integer, got ${String(limit)}`);
    const seed = options.seed ?? this.options.seed;
    if (!Number.isSafeInteger(seed)) throw new OdemorError('ARGUMENT', `batch seed must be an integer, got ${String(seed)}`);
    const data = this.split(split);
    const n = Math.min(data.count, limit ?? data.count);
    const d = this.system.dim;
    const per = this.options.times.length * d;
    const uPer = this.options.input ? this.options.input.steps * this.system.channels : 0;
    let order: number[] | undefined;
    if (shuffle) {
      order = Array.from({ length: n }, (_, i) => i);
      streamFor(seed, `shuffle:${split}`).shuffle(order);
    }
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const x = new Float32Array(size * d);
      const targets = new Float32Array(size * per);
      const u = data.u ? new Float32Array(size * uPer) : undefined;
      for (let b = 0; b < size; b++) {
        const idx = order ? order[start + b]! : start + b;
        x.set(data.x.subarray(idx * d, (idx + 1) * d), b * d);
        targets.set(data.targets.subarray(idx * per, (idx + 1) * per), b * per);
        if (u) u.set(data.u!.subarray(idx * uPer, (idx + 1) * uPer), b * uPer);
      }
      yield { x, y: new Int32Array(0), size, targets, ...(u ? { u } : {}) };
    }
  }
}

/**
 * Create a dynamics dataset from raw options (the `dataset:` section of a config plus `seed`).
 *
 * @throws OdemorError `CONFIG` for bad options, naming the key and value
 */
export function createDynamicsDataset(options: Record<string, unknown>): DynamicsDataset {
  return new DynamicsDataset(resolveOptions(options));
}


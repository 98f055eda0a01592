import { OdemorError, describeIssues, z } from '@odemor/core';
import { DEFAULT_ATOL, DEFAULT_RTOL } from './integrate.js';
import { INPUT_KINDS, type InputKind } from './signals.js';
import { SYSTEM_NAMES, systems, type Range, type SystemName } from './systems.js';

/** The system of a dataset without `system`. */
export const DEFAULT_SYSTEM: SystemName = 'van-der-pol';
/** Default number of training trajectories. */
export const DEFAULT_TRAJECTORIES = 1000;
/** Default number of test trajectories. */
export const DEFAULT_TEST = 200;
/** Most input samples of one trajectory (horizon / inputDt). */
export const MAX_SIGNAL_STEPS = 1_000_000;

/** Options of the input signals of a system with inputs (the vehicle). */
export interface InputOptions {
  kind: InputKind;
  /** sample spacing of the held signal */
  dt: number;
  /** samples per trajectory: ceil(horizon / dt), covering [t0, t1) */
  steps: number;
  /** per channel: the signal stays in [−amplitude, amplitude] */
  amplitude: number[];
}

/** Fully resolved, validated options of a dynamics dataset. */
export interface DynamicsOptions {
  system: SystemName;
  /** every parameter of the system (defaults filled in) */
  params: Record<string, number>;
  /** number of training trajectories */
  trajectories: number;
  /** number of test trajectories */
  test: number;
  t0: number;
  /** observation times t_1 < … < t_T, all after t0 */
  times: number[];
  /** std of the Gaussian noise added to the training targets */
  noise: number;
  /** std of the Gaussian noise added to the test targets */
  noiseTest: number;
  /** per state: the range of the uniform initial states */
  initial: Range[];
  rtol: number;
  atol: number;
  /** present for systems with inputs */
  input?: InputOptions;
  /** how the states are computed: the Dopri5 reference solve, or (stiff-linear only) the closed form */
  method: 'dopri5' | 'exact';
  seed: number;
}

/** The keys of each system's own options (its parameters, and for the vehicle its input options). */
export const SYSTEM_KEYS: Readonly<Record<SystemName, readonly string[]>> = Object.freeze({
  'stiff-linear': ['lambda1', 'lambda2', 'method'],
  'van-der-pol': ['mu'],
  pendulum: ['g', 'length', 'damping'],
  'lotka-volterra': ['alpha', 'beta', 'gamma', 'delta'],
  vehicle: ['mass', 'inertia', 'lf', 'lr', 'cf', 'cr', 'minSpeed', 'inputs', 'inputDt', 'steerMax', 'forceMax'],
});

/** Defaults of the vehicle's input options. */
export const VEHICLE_INPUT_DEFAULTS = Object.freeze({ inputs: 'smooth' as InputKind, inputDt: 0.05, steerMax: 0.05, forceMax: 1000 });

const systemOf = new Map<string, SystemName>(Object.entries(SYSTEM_KEYS).flatMap(([s, keys]) => keys.map((k) => [k, s as SystemName] as const)));

const positive = () => z.number().positive().optional();
const nonNegative = () => z.number().min(0).optional();

/**
 * The option schema of the `dynamics` dataset (the `dataset:` keys besides `use`, plus the `seed` and
 * `baseDir` core passes), declared with `ctx.provide` so a config is checked before any work. It states
 * every rule {@link resolveOptions} applies (resolveOptions validates with it).
 */
export function dynamicsOptionsSchema() {
  return z
    .strictObject({
      /** which system (default 'van-der-pol') */
      system: z.enum(SYSTEM_NAMES).optional(),
      /** number of training trajectories (default 1000) */
      trajectories: z.number().int().min(1).optional(),
      /** number of test trajectories (default 200) */
      test: z.number().int().min(1).optional(),
      /** start time of every trajectory (default 0) */
      t0: z.number().optional(),
      /** t1 − t0 (default per system) */
      horizon: positive(),
      /** number of evenly spaced observation times in (t0, t1] (default per system) */
      samples: z.number().int().min(1).max(100_000).optional(),
      /** explicit observation times, increasing, after t0 (instead of horizon and samples) */
      times: z.array(z.number()).min(1).max(100_000).optional(),
      /** std of the Gaussian noise on the training targets (default 0) */
      noise: nonNegative(),
      /** std of the Gaussian noise on the test targets (default 0) */
      noiseTest: nonNegative(),
      /** per state [lo, hi] of the uniform initial states (default per system) */
      initial: z.array(z.tuple([z.number(), z.number()])).optional(),
      /** tolerances of the Dopri5 reference solve (default 1e-10, 1e-12) */
      rtol: z.number().positive().max(1e-3).optional(),
      atol: z.number().positive().max(1e-3).optional(),
      // stiff-linear
      lambda1: z.number().max(0).optional(),
      lambda2: z.number().max(0).optional(),
      /** stiff-linear: 'dopri5' (default) or 'exact' (the closed form, much faster) */
      method: z.enum(['dopri5', 'exact']).optional(),
      // van-der-pol
      mu: nonNegative(),
      // pendulum
      g: positive(),
      length: positive(),
      damping: nonNegative(),
      // lotka-volterra
      alpha: positive(),
      beta: positive(),
      gamma: positive(),
      delta: positive(),
      // vehicle
      mass: positive(),
      inertia: positive(),
      lf: positive(),
      lr: positive(),
      cf: positive(),
      cr: positive(),
      minSpeed: positive(),
      inputs: z.enum(INPUT_KINDS).optional(),
      inputDt: positive(),
      steerMax: z.number().min(0).max(0.5).optional(),
      forceMax: nonNegative(),
      /** set by core from the config's seed */
      seed: z.number().int().optional(),
      /** set by core: the config's folder (this dataset reads no files) */
      baseDir: z.string().optional(),
      name: z.string().optional(),
    })
    .superRefine((o, ctx) => {
      const system = o.system ?? DEFAULT_SYSTEM;
      const def = systems[system];
      for (const [key, owner] of systemOf) {
        if (owner === system || (o as Record<string, unknown>)[key] === undefined) continue;
        ctx.addIssue({ code: 'custom', path: [key], message: `applies to system '${owner}' only, not to '${system}'` });
      }
      const t0 = o.t0 ?? 0;
      let t1 = t0 + (o.horizon ?? def.horizon);
      if (o.times !== undefined) {
        if (o.horizon !== undefined || o.samples !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['times'], message: 'cannot be combined with horizon or samples (the last time is t1)' });
        }
        o.times.forEach((t, i) => {
          const prev = i === 0 ? t0 : o.times![i - 1]!;
          if (!(t > prev)) {
            const message = i === 0 ? `must be after t0 = ${t0}` : `must be after times[${i - 1}] = ${prev} (increasing)`;
            ctx.addIssue({ code: 'custom', path: ['times', i], message });
          }
        });
        t1 = o.times[o.times.length - 1]!;
      }
      if (o.initial !== undefined) {
        if (o.initial.length !== def.dim) {
          ctx.addIssue({
            code: 'custom',
            path: ['initial'],
            message: `must have one [lo, hi] range per state of '${system}' (${def.dim}: ${def.states.join(', ')}), got ${o.initial.length}`,
          });
        } else {
          o.initial.forEach(([lo, hi], i) => {
            if (!(lo <= hi)) ctx.addIssue({ code: 'custom', path: ['initial', i], message: `must be [lo, hi] with lo ≤ hi, got [${lo}, ${hi}]` });
          });
          if (system === 'lotka-volterra') {
            o.initial.forEach(([lo, hi], i) => {
              if (!(lo > 0)) ctx.addIssue({ code: 'custom', path: ['initial', i], message: `populations must start positive: lo must be > 0, got [${lo}, ${hi}]` });
            });
          }
          if (system === 'vehicle') {
            const minSpeed = o.minSpeed ?? def.params.minSpeed!;
            const [lo, hi] = o.initial[3]!;
            if (!(lo >= minSpeed)) {
              ctx.addIssue({ code: 'custom', path: ['initial', 3], message: `the forward speed vx must start at or above minSpeed = ${minSpeed}: got [${lo}, ${hi}]` });
            }
          }
        }
      } else if (system === 'vehicle' && o.minSpeed !== undefined && o.minSpeed > def.initial[3]![0]) {
        ctx.addIssue({ code: 'custom', path: ['minSpeed'], message: `must not exceed the lowest default initial speed ${def.initial[3]![0]} (give initial)` });
      }
      if (system === 'vehicle' && t1 > t0) {
        const dt = o.inputDt ?? VEHICLE_INPUT_DEFAULTS.inputDt;
        const steps = Math.ceil((t1 - t0) / dt - 1e-9);
        if (steps > MAX_SIGNAL_STEPS) {
          ctx.addIssue({ code: 'custom', path: ['inputDt'], message: `gives ${steps} input samples over [${t0}, ${t1}], above ${MAX_SIGNAL_STEPS}` });
        }
      }
    });
}

let schemaCache: ReturnType<typeof dynamicsOptionsSchema> | undefined;

/**
 * Validate raw options (the `dataset:` section of a config plus `seed`) and fill in the defaults.
 *
 * @throws OdemorError `CONFIG` listing every problem, each with its key and value
 *   (`dataset.mu: must be ≥ 0, got -1`)
 */
export function resolveOptions(raw: Record<string, unknown>): DynamicsOptions {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OdemorError('CONFIG', `dataset options must be an object, got ${JSON.stringify(raw)}`);
  }
  schemaCache ??= dynamicsOptionsSchema();
  const parsed = schemaCache.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues, raw, { prefix: ['dataset'], schema: schemaCache, owner: "dataset 'dynamics'" });
    throw new OdemorError('CONFIG', problems.map((p) => `${p.key}: ${p.message}`).join('; '));
  }
  const o = parsed.data;
  const system = o.system ?? DEFAULT_SYSTEM;
  const def = systems[system];
  const params: Record<string, number> = { ...def.params };
  for (const k of Object.keys(def.params)) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v === 'number') params[k] = v;
  }
  const t0 = o.t0 ?? 0;
  let times: number[];
  if (o.times) times = [...o.times];
  else {
    const horizon = o.horizon ?? def.horizon;
    const samples = o.samples ?? def.samples;
    times = Array.from({ length: samples }, (_, i) => (i === samples - 1 ? t0 + horizon : t0 + ((i + 1) * horizon) / samples));
  }
  const out: DynamicsOptions = {
    system,
    params,
    trajectories: o.trajectories ?? DEFAULT_TRAJECTORIES,
    test: o.test ?? DEFAULT_TEST,
    t0,
    times,
    noise: o.noise ?? 0,
    noiseTest: o.noiseTest ?? 0,
    initial: (o.initial ?? def.initial).map(([lo, hi]) => [lo, hi] as const),
    rtol: o.rtol ?? DEFAULT_RTOL,
    atol: o.atol ?? DEFAULT_ATOL,
    method: o.method ?? 'dopri5',
    seed: o.seed ?? 0,
  };
  if (def.channels > 0) {
    const dt = o.inputDt ?? VEHICLE_INPUT_DEFAULTS.inputDt;
    const t1 = times[times.length - 1]!;
    out.input = {
      kind: o.inputs ?? VEHICLE_INPUT_DEFAULTS.inputs,
      dt,
      steps: Math.max(1, Math.ceil((t1 - t0) / dt - 1e-9)),
      amplitude: [o.steerMax ?? VEHICLE_INPUT_DEFAULTS.steerMax, o.forceMax ?? VEHICLE_INPUT_DEFAULTS.forceMax],
    };
  }
  return out;
}

/** The own options of Trainer 'backprop-onnx' (core's `train` keys are checked by core) and their schema. */
import { OdemorError, z } from '@odemor/core';
import type { LrSchedule } from './schedule.js';

/** Options of Trainer 'backprop-onnx' beyond core's `train` keys (given to the factory, or in `TrainOptions`). */
export interface OnnxBackpropTrainerOptions {
  /** learning-rate schedule per epoch besides core's exponential `lrDecay`: step or cosine */
  schedule?: LrSchedule;
  /** intra-op threads of the gradient program's session; default the program's (all cores) */
  threads?: number;
  /** cache the block's outputs when only the post layers train and inputs are not augmented (default true) */
  cacheFeatures?: boolean;
  /** Adam's β1 (default 0.9) */
  beta1?: number;
  /** Adam's β2 (default 0.999) */
  beta2?: number;
  /** Adam's ε (default 1e-7, tfjs's on float32 backends) */
  epsilon?: number;
  /**
   * λ of the Taylor-Lagrange remainder penalty (default 0): the loss is task loss + λ · mean|R| over the remainder
   * terms R of every unrolled step (mean over steps, batch and state), when the solver's steps return them
   */
  remainderWeight?: number;
  /**
   * The alternating midpoint schedule of Taylor-Lagrange training (a `taylor-lagrange` solver with the remainder):
   * every `every` iterations `steps` Adam steps on the midpoint network φ alone, on mean_b ‖x_TL − x_ref‖₁ against an
   * adaptive Dormand–Prince solve of the current dynamics (see {@link MidpointSchedule}). Off when absent.
   */
  midpoint?: MidpointScheduleOptions;
  /**
   * Clip the spectrum of the block's antisymmetric A = W − Wᵀ − γI (an `ode-rnn`'s): before the first step, after
   * every `every`-th optimizer step (default 1) and at the end of every epoch, the eigenvalues ±iω of W − Wᵀ with
   * |ω| > max are scaled to ±i·max and the others kept (core's `clipAntisymmetricSpectrum`). Explicit Euler at step h keeps a linearised mode iω − γ from
   * growing iff ω ≤ √(2γ/h − γ²) (≈ √(2γ/h)); docs/algorithms.md, "Spectral clip of an antisymmetric A".
   */
  spectralClip?: SpectralClipOptions;
}

/** The trainer option `spectralClip`. */
export interface SpectralClipOptions {
  /** the largest |ω| kept, > 0 */
  max: number;
  /** optimizer steps between two clips (default 1) */
  every?: number;
}

/** The trainer option `midpoint` (every key optional; defaults in {@link MIDPOINT_DEFAULTS}). */
export interface MidpointScheduleOptions {
  /** iterations (batches) between two midpoint updates, default 10 */
  every?: number;
  /** Adam steps on φ per update, default 1 */
  steps?: number;
  /** Adam's learning rate for φ, default 1e-3 */
  lr?: number;
  /** tolerances of the Dormand–Prince reference solve, default 1e-7 and 1e-9 */
  rtol?: number;
  atol?: number;
  /** hidden units of the network the trainer adds when the model has none (dense s→hidden, relu, dense hidden→s), default 16 */
  hidden?: number;
  /** that network's weights are uniform in ±init (biases zero), default 1e-2 */
  init?: number;
}

/** The midpoint schedule with every default filled in. */
export type MidpointSchedule = Required<MidpointScheduleOptions>;

/** Defaults of {@link MidpointScheduleOptions}. */
export const MIDPOINT_DEFAULTS: Readonly<MidpointSchedule> = Object.freeze({ every: 10, steps: 1, lr: 1e-3, rtol: 1e-7, atol: 1e-9, hidden: 16, init: 1e-2 });

const finitePositive = () => z.number().positive().refine(Number.isFinite, 'must be finite');

const midpointSchema = z.strictObject({
  every: z.number().int().positive().optional(),
  steps: z.number().int().positive().optional(),
  lr: finitePositive().optional(),
  rtol: finitePositive().optional(),
  atol: finitePositive().optional(),
  hidden: z.number().int().positive().optional(),
  init: finitePositive().optional(),
});

const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('step'),
    /** epochs between two decays */
    every: z.number().int().positive(),
    /** factor applied every `every` epochs */
    gamma: z.number().positive().max(1),
  }),
  z.strictObject({
    kind: z.literal('cosine'),
    /** the rate the cosine falls to (default 0) */
    min: z.number().min(0).optional(),
  }),
]);

/** Option schema of Trainer 'backprop-onnx' (its own keys; declared with `ctx.provide`). */
export const backpropOnnxOptionsSchema = z.strictObject({
  schedule: scheduleSchema.optional(),
  threads: z.number().int().positive().optional(),
  cacheFeatures: z.boolean().optional(),
  beta1: z.number().gt(0).lt(1).optional(),
  beta2: z.number().gt(0).lt(1).optional(),
  epsilon: z.number().positive().optional(),
  remainderWeight: z.number().min(0).refine(Number.isFinite, 'must be finite').optional(),
  midpoint: midpointSchema.optional(),
  spectralClip: z.strictObject({ max: finitePositive(), every: z.number().int().positive().optional() }).optional(),
});

/** The keys of {@link OnnxBackpropTrainerOptions}. */
export const OWN_KEYS = ['schedule', 'threads', 'cacheFeatures', 'beta1', 'beta2', 'epsilon', 'remainderWeight', 'midpoint', 'spectralClip'] as const;

/** The midpoint schedule of the trainer option `midpoint` with its defaults, or undefined when the option is absent. */
export function midpointSchedule(options: MidpointScheduleOptions | undefined): MidpointSchedule | undefined {
  if (options === undefined) return undefined;
  const o = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...MIDPOINT_DEFAULTS, ...o };
}

/** Validate the trainer's own options; an ARGUMENT error naming the key and the value otherwise. */
export function parseOwnOptions(options: Record<string, unknown>): OnnxBackpropTrainerOptions {
  const r = backpropOnnxOptionsSchema.safeParse(options);
  if (r.success) return r.data as OnnxBackpropTrainerOptions;
  const lines = r.error.issues.map((i) => {
    const key = i.path.length ? i.path.join('.') : '(options)';
    let value: unknown = options;
    for (const p of i.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey];
    const got = i.path.length && value !== undefined ? ` (got ${JSON.stringify(value)})` : '';
    return `${key}: ${i.message}${got}`;
  });
  throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': ${lines.join('; ')}`);
}

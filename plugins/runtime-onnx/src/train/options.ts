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
}

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
});

/** The keys of {@link OnnxBackpropTrainerOptions}. */
export const OWN_KEYS = ['schedule', 'threads', 'cacheFeatures', 'beta1', 'beta2', 'epsilon'] as const;

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

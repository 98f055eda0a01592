import { z } from 'zod';

const positiveInt = z.number().int().positive();
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** `{ use: name, ...plugin options }`: core checks `use`; the plugin checks its own options. */
const pluginRef = z.looseObject({ use: z.string().min(1) });

/** Solver defaults when neither the config nor a checkpoint gives one. */
export const DEFAULT_SOLVER = { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } as const;

/**
 * `model.solver`: every key optional; missing keys come from the checkpoint's solver when one is
 * loaded, else from {@link DEFAULT_SOLVER}.
 */
export const solverSchema = z
  .strictObject({
    use: z.string().min(1).optional(),
    dt: finite.refine((v) => v > 0, 'must be > 0').optional(),
    t0: finite.optional(),
    t1: finite.optional(),
    rtol: z.number().positive().optional(),
    atol: z.number().positive().optional(),
    /** adaptive solvers: step limit per solve */
    maxSteps: positiveInt.optional(),
  })
  .refine((s) => s.t0 === undefined || s.t1 === undefined || s.t1 >= s.t0, { message: 't1 must not be smaller than t0', path: ['t1'] });

/** Which tensors train (see `ParamSelection`): a named part or a non-empty list of IR paths / prefixes. */
export const paramsSchema = z.union([z.enum(['all', 'block', 'after-block', 'before-block']), z.array(z.string().min(1)).min(1)]);

/**
 * `train`: the keys core owns (every Trainer understands them); any other key belongs to the trainer named
 * by `use` and is checked by its option schema.
 */
export const trainSchema = z.looseObject({
  /** the Trainer (default 'backprop'); a runtime's own is tried first as `<use>-<runtime>` (see `runtime`) */
  use: z.string().min(1).default('backprop'),
  /**
   * the runtime of a runtime-specific trainer: `use: backprop, runtime: tfjs` resolves Trainer 'backprop-tfjs';
   * default onnx when its trainer is installed (falling back to tfjs for a model it cannot train), else tfjs
   */
  runtime: z.string().min(1).optional(),
  epochs: z.number().int().min(0).default(10),
  batch: positiveInt.default(64),
  optimizer: z.enum(['sgd', 'momentum', 'adam']).default('adam'),
  lr: z.number().positive().default(0.01),
  lrDecay: z.number().positive().max(1).default(1),
  momentum: z.number().min(0).max(1).optional(),
  limit: positiveInt.optional(),
  augment: z.boolean().default(false),
  /** save the model (atomically) to the results folder after every epoch */
  checkpoint: z.boolean().default(true),
  /** which tensors train; default all (a reduced block: after-block) */
  params: paramsSchema.optional(),
  /** decoupled weight decay per step */
  weightDecay: z.number().min(0).optional(),
  /** clip the gradients' global L2 norm */
  clipNorm: z.number().positive().optional(),
});

/** Keys of `train` that core owns; the rest go to the trainer's option schema. */
export const TRAIN_CORE_KEYS = ['use', 'runtime', 'epochs', 'batch', 'optimizer', 'lr', 'lrDecay', 'momentum', 'limit', 'augment', 'checkpoint', 'params', 'weightDecay', 'clipNorm'] as const;

export const finetuneSchema = z.strictObject({
  /** the Trainer; default the one `train.use` names, else 'backprop' */
  use: z.string().min(1).optional(),
  /** the runtime of a runtime-specific trainer (see `train.runtime`); default `train.runtime` */
  runtime: z.string().min(1).optional(),
  epochs: z.number().int().min(0).default(3),
  /** the older name of `params: after-block` */
  layers: z.enum(['after-block']).default('after-block'),
  /** which tensors fine-tune (default after-block: the paper's fine-tuning of the layers after the block) */
  params: paramsSchema.optional(),
  batch: positiveInt.optional(),
  optimizer: z.enum(['sgd', 'momentum', 'adam']).optional(),
  lr: z.number().positive().optional(),
  limit: positiveInt.optional(),
});

/** `snapshots`: core's keys; other keys go to the snapshotter's option schema. */
export const snapshotsSchema = z.looseObject({
  use: z.string().min(1).default('stream'),
  every: positiveInt.default(2),
  limit: positiveInt.optional(),
  batch: positiveInt.default(500),
});

const dimsSchema = z.union([z.array(positiveInt).min(1), z.literal('auto'), positiveInt.transform((v) => [v])]);

export const reducerSchema = z.looseObject({
  use: z.string().min(1),
  dims: dimsSchema,
  /** interpolation points per dimension (defaults to k) */
  points: z.union([z.array(positiveInt), positiveInt]).optional(),
  /** with dims: auto, the POD energy that picks k */
  energy: z.number().gt(0).max(1).default(0.9999),
});

export const configSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only')
    .default('experiment'),
  seed: z.number().int().min(0).default(1),
  /** extra plugins to load before resolving names: package names or paths relative to the config file */
  plugins: z.array(z.string().min(1)).default([]),
  dataset: pluginRef,
  model: z.looseObject({
    use: z.string().min(1),
    /** a saved model (.odemor) to start from, relative to the config file; skips building a fresh one */
    checkpoint: z.string().min(1).optional(),
    solver: solverSchema.optional(),
  }),
  /** false (or absent with a checkpoint) skips training */
  train: z.union([trainSchema, z.literal(false)]).optional(),
  snapshots: snapshotsSchema.optional(),
  reducers: z.array(reducerSchema).default([]),
  finetune: z.union([finetuneSchema, z.literal(false)]).optional(),
  evaluate: z
    .strictObject({
      use: z.string().min(1).default('classification'),
      /** default: onnx when @odemor/runtime-onnx is installed, else tfjs */
      runtime: z.string().min(1).optional(),
      repeats: positiveInt.default(5),
      topk: z.array(positiveInt).min(1).default([1, 3]),
      batch: positiveInt.default(1000),
      limit: positiveInt.optional(),
      threads: positiveInt.optional(),
    })
    .prefault({}),
  report: pluginRef.optional(),
  output: z.strictObject({ dir: z.string().min(1).optional(), saveModels: z.boolean().default(false) }).prefault({}),
});

export type ExperimentConfig = z.output<typeof configSchema>;
export type ExperimentConfigInput = z.input<typeof configSchema>;
export type ReducerConfig = z.output<typeof reducerSchema>;

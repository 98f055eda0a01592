import { distance } from 'fastest-levenshtein';
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/**
 * The most entries a list of the config may hold: a list far longer than any real sweep is a mistake (or an
 * attack), rejected before any work rather than validated entry by entry (a 3.5M-entry `dims` list took
 * 44 s and 4.2 GB to validate).
 */
export const LIST_LIMITS = Object.freeze({
  /** `reducers[].dims` and a `points` list: reduced dimensions per reducer */
  dims: 256,
  /** `evaluate.topk` */
  topk: 32,
  /** `plugins` */
  plugins: 64,
  /** `reducers` */
  reducers: 256,
  /** `train.params`, `finetune.params`: IR paths or prefixes */
  params: 1024,
  /** `compare.solvers`, `compare.trainers`: the entries of a comparison (each trains a model of its own) */
  compare: 32,
});

/** A list of at most `max` entries, with a message naming the limit (the count is added by the config's error formatting). */
function limited<T extends z.ZodType>(element: T, max: number, what: string) {
  return z.array(element).max(max, `at most ${max} ${what}`);
}

/** `{ use: name, ...plugin options }`: core checks `use`; the plugin checks its own options. */
const pluginRef = z.looseObject({ use: z.string().min(1) });

/** Solver defaults when neither the config nor a checkpoint gives one. */
export const DEFAULT_SOLVER = { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } as const;

/**
 * `model.solver`: every key optional; missing keys come from the checkpoint's solver when one is
 * loaded, else from {@link DEFAULT_SOLVER}.
 */
export const solverSchema = z
  /* loose: a solver plugin's own keys (e.g. taylor-lagrange's `order`) pass through to its option schema, and
     a solver that declares none gets unknown keys rejected by `validatePluginOptions` */
  .looseObject({
    use: z.string().min(1).optional(),
    dt: finite.refine((v) => v > 0, 'must be > 0').optional(),
    t0: finite.optional(),
    t1: finite.optional(),
    rtol: z.number().positive().optional(),
    atol: z.number().positive().optional(),
    /**
     * step limit per solve: adaptive solvers stop there (accepted and rejected steps); for a fixed-step solver
     * `ceil((t1 − t0)/dt)` above it is rejected before any work (default 100000)
     */
    maxSteps: positiveInt.optional(),
  })
  .refine((s) => s.t0 === undefined || s.t1 === undefined || s.t1 >= s.t0, { message: 't1 must not be smaller than t0', path: ['t1'] })
  .refine((s) => s.t0 === undefined || s.t1 === undefined || s.t1 !== s.t0, {
    message: 't1 must be greater than t0: a zero-length span [t0, t1] integrates nothing and makes no snapshots',
    path: ['t1'],
  });

/** Which tensors train (see `ParamSelection`): a named part or a non-empty list of IR paths / prefixes. */
export const paramsSchema = z.union([z.enum(['all', 'block', 'after-block', 'before-block']), limited(z.string().min(1), LIST_LIMITS.params, 'IR paths').min(1)]);

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

/** The fine-tuning stages of a reduced model: the row `stage` each entry of `finetune` publishes. */
export const FINETUNE_STAGES = ['finetuned', 'finetuned-block', 'retrained'] as const;
/** A fine-tuning stage: the `stage` of the rows it publishes. */
export type FinetuneStage = (typeof FINETUNE_STAGES)[number];

/**
 * One entry of `finetune`. `stage` names the rows it publishes and sets the defaults: `finetuned` (the paper's
 * 3 epochs of the layers after the block), `finetuned-block` (3 epochs of the reduced block's own tensors and the
 * layers after it) and `retrained` (the paper's 30 epochs of the layers after the block).
 */
export const finetuneSchema = z.strictObject({
  stage: z.enum(FINETUNE_STAGES).default('finetuned'),
  /** the Trainer; default the one `train.use` names, else 'backprop' */
  use: z.string().min(1).optional(),
  /** the runtime of a runtime-specific trainer (see `train.runtime`); default `train.runtime` */
  runtime: z.string().min(1).optional(),
  /** default 3 (`retrained`: 30) */
  epochs: z.number().int().min(0).optional(),
  /** the older name of `params: after-block` */
  layers: z.enum(['after-block']).optional(),
  /** which tensors fine-tune (default after-block; `finetuned-block`: the block's tensors and the layers after it) */
  params: paramsSchema.optional(),
  batch: positiveInt.optional(),
  optimizer: z.enum(['sgd', 'momentum', 'adam']).optional(),
  lr: z.number().positive().optional(),
  limit: positiveInt.optional(),
  /** only these reduced dimensions k (default every dimension of the sweep) */
  dims: limited(positiveInt, LIST_LIMITS.dims, 'dimensions').min(1).optional(),
  /** only these reducers, by their `use` name (default all) */
  methods: limited(z.string().min(1), LIST_LIMITS.reducers, 'reducers').min(1).optional(),
});

/** `snapshots`: core's keys; other keys go to the snapshotter's option schema. */
export const snapshotsSchema = z.looseObject({
  use: z.string().min(1).default('stream'),
  every: positiveInt.default(2),
  limit: positiveInt.optional(),
  batch: positiveInt.default(500),
});

const dimsSchema = z.union([limited(positiveInt, LIST_LIMITS.dims, 'dimensions per reducer').min(1), z.literal('auto'), positiveInt.transform((v) => [v])]);

export const reducerSchema = z.looseObject({
  use: z.string().min(1),
  dims: dimsSchema,
  /** interpolation points per dimension (defaults to k) */
  points: z.union([limited(positiveInt, LIST_LIMITS.dims, 'point counts per reducer'), positiveInt]).optional(),
  /** with dims: auto, the POD energy that picks k */
  energy: z.number().gt(0).max(1).default(0.9999),
});

/** The most tolerances `evaluate.adaptive.rtol` may list (each integrates every model of the sweep once more). */
export const ADAPTIVE_RTOL_LIMIT = 8;

/**
 * `evaluate.adaptive`: every original, reduced and fine-tuned model of a sweep is also integrated by an adaptive
 * solver (`use`, default dopri5) at each tolerance of `rtol`, on the first `samples` test samples, and its NFE,
 * rejected steps, wall time and accuracy are compared with the original's under the same solver; and the stiffness
 * of its block is sampled along `stiffness.trajectories` test trajectories at `stiffness.points` times
 * (docs/architecture.md#adaptive, docs/algorithms.md#stiffness). The solver being adaptive is checked once it is
 * resolved.
 */
export const adaptiveSchema = z.strictObject({
  use: z.string().min(1).default('dopri5'),
  /** relative tolerances, one integration of every model each */
  rtol: z
    .union([z.number().positive('must be > 0'), limited(z.number().positive('must be > 0'), ADAPTIVE_RTOL_LIMIT, 'tolerances').min(1)])
    .default([1e-3, 1e-6])
    .transform((v) => (Array.isArray(v) ? v : [v])),
  /** absolute tolerance (default: the solver's) */
  atol: z.number().positive('must be > 0').optional(),
  /** step limit per solve, accepted and rejected steps (default: the solver's) */
  maxSteps: positiveInt.optional(),
  /** the first test samples integrated (default 1000) */
  samples: positiveInt.default(1000),
  /** samples per batched solve: one step-size sequence per batch (default `evaluate.batch`) */
  batch: positiveInt.optional(),
  /** timed passes; the row's wall time is their median (default 1) */
  repeats: positiveInt.default(1),
  /**
   * the stages measured (default all): a fine-tuning stage that trains only the layers after the block has the
   * reduced model's block, so its NFE and stiffness are the reduced row's; the original is always measured (the
   * baseline of every ratio)
   */
  stages: z.array(z.enum(['original', 'reduced', ...FINETUNE_STAGES])).min(1).optional(),
  /** the stiffness indicators of the block along test trajectories; false: none */
  stiffness: z
    .union([
      z.strictObject({
        /** test trajectories (the first test samples) (default 8) */
        trajectories: positiveInt.max(1000).default(8),
        /** sampled times per trajectory (default 8) */
        points: positiveInt.max(1000).default(8),
        /** every eigenvalue up to this state dimension, power iteration on Jacobian-vector products above (default 128) */
        exactMaxDim: z.number().int().min(0).max(2048).default(128),
        /** most power iterations per point above exactMaxDim, each 4 Jacobian-vector products (default 300) */
        iterations: positiveInt.max(10000).default(300),
      }),
      z.literal(false),
    ])
    .prefault({}),
});

/** A label of `compare.solvers` (also a file name, `models/<label>.odemor`): letters, digits, dot, dash, underscore. */
const labelSchema = z
  .string()
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only (it names the file models/<label>.odemor)')
  .refine((n) => n !== '.' && n !== '..', "must be a plain name, not '.' or '..'");

/** The train keys core owns, each optional: the overrides an entry of `compare` may give. */
const compareTrainShape = {
  epochs: z.number().int().min(0).optional(),
  batch: positiveInt.optional(),
  optimizer: z.enum(['sgd', 'momentum', 'adam']).optional(),
  lr: z.number().positive().optional(),
  lrDecay: z.number().positive().max(1).optional(),
  momentum: z.number().min(0).max(1).optional(),
  limit: positiveInt.optional(),
  augment: z.boolean().optional(),
  params: paramsSchema.optional(),
  weightDecay: z.number().min(0).optional(),
  clipNorm: z.number().positive().optional(),
};

/**
 * The `train` overrides of one entry of a comparison: core's keys (all optional) except `use`, `runtime` and
 * `checkpoint`, each with `why` it cannot be set there; other keys go to the trainer's option schema.
 */
function entryTrainSchema(why: (k: 'use' | 'runtime' | 'checkpoint') => string) {
  return z.looseObject(compareTrainShape).superRefine((t, ctx) => {
    for (const k of ['use', 'runtime', 'checkpoint'] as const) {
      if (k in t) ctx.addIssue({ code: 'custom', path: [k], message: `cannot be set per entry: ${why(k)}` });
    }
    // a near miss of one of core's keys (`epochz`) is a typo, not an option of the trainer
    const own: readonly string[] = TRAIN_CORE_KEYS;
    for (const k of Object.keys(t)) {
      if (own.includes(k)) continue;
      const near = own.find((c) => distance(k.toLowerCase(), c.toLowerCase()) <= 2);
      if (near) ctx.addIssue({ code: 'custom', path: [k], message: `unknown key '${k}'; did you mean '${near}'?` });
    }
  });
}

const NOT_CHECKPOINTED = 'an entry is not checkpointed: its training is timed in one piece (a killed entry trains again on --resume)';

/**
 * `train` keys of one `compare.solvers` entry, over the experiment's `train`: core's keys (all optional) except
 * `use` and `runtime` — every entry trains with the one trainer `train` names, on one runtime — and `checkpoint`
 * (an entry's training is timed in one piece); other keys go to the trainer's option schema (`remainderWeight`).
 */
export const compareTrainSchema = entryTrainSchema((k) =>
  k === 'checkpoint' ? NOT_CHECKPOINTED : `every entry trains with train.${k}: one trainer on one runtime, so that the training times compare`,
);

/**
 * `train` keys of one `compare.trainers` entry, over the experiment's `train`: as {@link compareTrainSchema}; the
 * trainer and its runtime are the entry's `use` and `runtime`.
 */
export const compareTrainerTrainSchema = entryTrainSchema((k) =>
  k === 'checkpoint' ? NOT_CHECKPOINTED : `the entry's trainer is its own \`${k}\` (compare.trainers[i].${k})`,
);

/**
 * One solver of `compare.solvers`: `use`, the solver's keys (`dt`, `rtol`, `atol`, `maxSteps` and its own, e.g.
 * `order`, `remainder`: checked by the solver's option schema), an optional `label` (default: the solver's name)
 * and `train` overrides. The time span is the model's: `t0` and `t1` cannot be set per entry.
 */
export const compareEntrySchema = z
  .looseObject({
    label: labelSchema.optional(),
    use: z.string().min(1),
    dt: finite.refine((v) => v > 0, 'must be > 0').optional(),
    rtol: z.number().positive().optional(),
    atol: z.number().positive().optional(),
    maxSteps: positiveInt.optional(),
    train: compareTrainSchema.optional(),
  })
  .superRefine((e, ctx) => {
    for (const k of ['t0', 't1'] as const) {
      if (k in e) ctx.addIssue({ code: 'custom', path: [k], message: `cannot be set per entry: every solver of a comparison integrates the model's span (model.solver.${k})` });
    }
  });

/** The keys of an entry of `compare.solvers` that are not the solver's: `label`, `use`, `train`. */
export const COMPARE_ENTRY_KEYS = ['label', 'use', 'train'] as const;

/**
 * The solver one `compare.trainers` entry trains with: `model.solver`'s keys (`use` default the model's solver)
 * except the span (`t0`, `t1`: the model's); the solver's own keys pass to its option schema.
 */
export const compareTrainerSolverSchema = z
  .looseObject({
    use: z.string().min(1).optional(),
    dt: finite.refine((v) => v > 0, 'must be > 0').optional(),
    rtol: z.number().positive().optional(),
    atol: z.number().positive().optional(),
    maxSteps: positiveInt.optional(),
  })
  .superRefine((e, ctx) => {
    for (const k of ['t0', 't1'] as const) {
      if (k in e) ctx.addIssue({ code: 'custom', path: [k], message: `cannot be set per entry: every entry of a comparison integrates the model's span (model.solver.${k})` });
    }
  });

/**
 * One trainer of `compare.trainers`: `use` (a Trainer, resolved like `train.use`: 'backprop' is backprop-onnx or
 * backprop-tfjs by `runtime`), an optional `runtime`, the `solver` it trains with (default `model.solver`), an
 * optional `label` (default: `use`) and `train` overrides (core's keys and the trainer's own, e.g. spectral's `order`).
 */
export const compareTrainerEntrySchema = z.strictObject({
  label: labelSchema.optional(),
  use: z.string().min(1),
  runtime: z.string().min(1).optional(),
  solver: compareTrainerSolverSchema.optional(),
  train: compareTrainerTrainSchema.optional(),
});

/**
 * `compare`: a comparison instead of a reduction sweep (docs/architecture.md#compare), of solvers or of trainers —
 * exactly one of `solvers` and `trainers`. One initial model is built; for each entry of `solvers`, in order, a
 * copy of it trains with that solver and is evaluated with it; for each entry of `trainers`, a copy trains with
 * that trainer (and its solver) and every trained model is evaluated with `model.solver`.
 * `target`: a training-loss target. Solvers: each row's `timeToTarget` is the training time until the epoch loss
 * first went below it (null when it never did). Trainers: each row's `secondsToTarget` is the training time until
 * the rollout MSE on `trainLossSamples` training trajectories first went below it.
 */
export const compareSchema = z
  .strictObject({
    solvers: limited(compareEntrySchema, LIST_LIMITS.compare, 'solvers').min(1).optional(),
    trainers: limited(compareTrainerEntrySchema, LIST_LIMITS.compare, 'trainers').min(1).optional(),
    target: z.number().positive().optional(),
    /** trainers: the training trajectories (the first ones) of the common training-loss curve (default 64) */
    trainLossSamples: positiveInt.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.solvers === undefined) === (c.trainers === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          c.solvers === undefined
            ? 'give exactly one of compare.solvers (a solver comparison) and compare.trainers (a trainer comparison): neither is given'
            : 'give exactly one of compare.solvers (a solver comparison) and compare.trainers (a trainer comparison), not both',
      });
      return;
    }
    if (c.trainLossSamples !== undefined && !c.trainers) {
      ctx.addIssue({ code: 'custom', path: ['trainLossSamples'], message: 'only a trainer comparison (compare.trainers) has a common training-loss curve' });
    }
    // the label defaults to the solver's (the trainer's) name; checked again once the names are resolved
    const list = c.solvers ? 'solvers' : 'trainers';
    const what = c.solvers ? 'solver' : 'trainer';
    const seen = new Map<string, number>();
    (c.solvers ?? c.trainers ?? []).forEach((e, i) => {
      const label = e.label ?? e.use;
      const first = seen.get(label);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [list, i],
          message: `label '${label}' is also the label of compare.${list}[${first}]: labels must be unique (give ${e.label !== undefined ? 'one of them another' : `each entry of the same ${what} a`} label)`,
        });
      } else seen.set(label, i);
    });
  });

export const configSchema = z.strictObject({
  /** a plain folder name (the default results folder is `results/<name>`): not `.` or `..`, no separators */
  name: z
    .string()
    .max(100, 'at most 100 characters')
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only (a plain folder name)')
    .refine((n) => n !== '.' && n !== '..', "must be a plain folder name, not '.' or '..'")
    .default('experiment'),
  seed: z.number().int().min(0).default(1),
  /** extra plugins to load before resolving names: package names or paths relative to the config file */
  plugins: limited(z.string().min(1), LIST_LIMITS.plugins, 'plugins').default([]),
  dataset: pluginRef,
  model: z
    .looseObject({
      use: z.string().min(1),
      /** a saved model (.odemor) to start from, relative to the config file; skips building a fresh one */
      checkpoint: z.string().min(1).optional(),
      /**
       * PyTorch weights (.safetensors, relative to the config file) for the built-in model `use` names, built from
       * its options for the dataset (docs/import.md); without a `train` key the model is not trained
       */
      weights: z.string().min(1).optional(),
      /** a tensor name map (YAML, relative to the config file) from the weights file's names onto the convention */
      weightsMap: z.string().min(1).optional(),
      solver: solverSchema.optional(),
    })
    .superRefine((m, ctx) => {
      if (m.weights !== undefined && m.checkpoint !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['weights'], message: 'give model.weights (PyTorch weights) or model.checkpoint (a saved model), not both' });
      }
      if (m.weightsMap !== undefined && m.weights === undefined) {
        ctx.addIssue({ code: 'custom', path: ['weightsMap'], message: 'a tensor name map applies to model.weights, which is not given' });
      }
    }),
  /** false (or absent with a checkpoint or weights) skips training */
  train: z.union([trainSchema, z.literal(false)]).optional(),
  snapshots: snapshotsSchema.optional(),
  reducers: limited(reducerSchema, LIST_LIMITS.reducers, 'reducers').default([]),
  /** one fine-tuning stage, or several (each its own `stage`); false skips fine-tuning */
  finetune: z
    .union([finetuneSchema, limited(finetuneSchema, FINETUNE_STAGES.length, 'fine-tuning stages').min(1), z.literal(false)])
    .optional()
    .superRefine((v, ctx) => {
      if (!Array.isArray(v)) return;
      const seen = new Set<string>();
      v.forEach((e, i) => {
        if (seen.has(e.stage)) ctx.addIssue({ code: 'custom', path: [i, 'stage'], message: `stage '${e.stage}' appears twice` });
        seen.add(e.stage);
      });
    }),
  evaluate: z
    .strictObject({
      /**
       * the Evaluator; default: 'regression' on a regression dataset (`info.task: 'regression'`, e.g. `dynamics`),
       * else 'classification' (chosen when the dataset is known)
       */
      use: z.string().min(1).optional(),
      /** default: onnx when @odemor/runtime-onnx is installed, else tfjs */
      runtime: z.string().min(1).optional(),
      repeats: positiveInt.default(5),
      topk: limited(positiveInt, LIST_LIMITS.topk, 'top-k values').min(1).default([1, 3]),
      batch: positiveInt.default(1000),
      limit: positiveInt.optional(),
      /** time the passes over the first `timingLimit` test samples only (the accuracy uses them all) */
      timingLimit: positiveInt.optional(),
      threads: positiveInt.optional(),
      /**
       * 'paired' (default): every model's timed passes alternate with passes of the baseline model, kept open
       * for the whole run, and `speedup` is the median of the paired ratios; 'single': the baseline is timed
       * once and every `speedup` is its median time over the model's
       */
      timing: z.enum(['paired', 'single']).default('paired'),
      /** also integrate every model with an adaptive solver and measure its stiffness (see {@link adaptiveSchema}) */
      adaptive: adaptiveSchema.optional(),
    })
    .prefault({}),
  report: pluginRef.optional(),
  output: z.strictObject({ dir: z.string().min(1).optional(), saveModels: z.boolean().default(false) }).prefault({}),
  /** a solver comparison (instead of snapshots, reducers and fine-tuning) */
  compare: compareSchema.optional(),
}).superRefine((c, ctx) => {
  if (!c.compare) return;
  if (c.reducers.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['compare'],
      message: 'compare and reducers cannot be combined: a solver comparison trains and evaluates one model per solver and reduces none (run the reduction sweep as an experiment of its own)',
    });
  }
  if (c.finetune) {
    ctx.addIssue({ code: 'custom', path: ['compare'], message: 'compare and finetune cannot be combined: fine-tuning applies to reduced models, and a solver comparison reduces none' });
  }
  if (c.evaluate.adaptive) {
    ctx.addIssue({
      code: 'custom',
      path: ['evaluate', 'adaptive'],
      message: 'evaluate.adaptive measures the models of a reduction sweep against the original; a comparison (compare) has no original — its rows carry their own NFE per sample',
    });
  }
});

export type ExperimentConfig = z.output<typeof configSchema>;
export type ExperimentConfigInput = z.input<typeof configSchema>;
export type ReducerConfig = z.output<typeof reducerSchema>;
export type CompareConfig = z.output<typeof compareSchema>;
export type AdaptiveConfig = z.output<typeof adaptiveSchema>;
export type CompareEntryConfig = z.output<typeof compareEntrySchema>;
export type CompareTrainerEntryConfig = z.output<typeof compareTrainerEntrySchema>;

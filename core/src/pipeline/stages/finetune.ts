/**
 * Fine-tuning of reduced models (part of stage 'reduce'): each entry of `finetune` is one stage with its own
 * rows — `finetuned` (the paper's 3 epochs of the layers after the block), `finetuned-block` (the reduced block's
 * own tensors train too) and `retrained` (the paper's third column: 30 epochs of the layers after the block) —
 * optionally limited to some dimensions and methods (docs/architecture.md#stages).
 */
import { trainSchema, type ExperimentConfig, type FinetuneStage } from '../../config/schema.js';
import type { ParamSelection, ReducedModel } from '../../extension-points.js';
import type { ResultRow } from '../../hooks.js';
import type { ModelIR } from '../../ir/types.js';
import { blockFeatureModel } from '../../ir/validate.js';
import { listTensors } from '../../model/params.js';
import { buildFor, evaluateModel, progress, publishRow, runtimeFor } from '../evaluate.js';
import type { ExperimentState } from '../state.js';
import { trainerFor, trainerOwnOptions } from './model.js';

export type { FinetuneStage };

type FinetuneEntry = Extract<NonNullable<ExperimentConfig['finetune']>, { stage: FinetuneStage }>;

/** One fine-tuning stage of the config with its defaults applied. */
export interface FinetuneJob {
  /** index of the entry in `finetune` (0 for a single object), for resolved trainer names and messages */
  index: number;
  stage: FinetuneStage;
  config: FinetuneEntry;
  epochs: number;
  /** the selection, or 'block+after' (resolved per model: the block's and the post layers' tensors) */
  params: ParamSelection | 'block+after';
}

/** Defaults per stage: epochs, and which tensors train. */
const STAGE_DEFAULTS: Record<FinetuneStage, { epochs: number; params: FinetuneJob['params']; label: string }> = {
  finetuned: { epochs: 3, params: 'after-block', label: 'ft' },
  'finetuned-block': { epochs: 3, params: 'block+after', label: 'ftb' },
  retrained: { epochs: 30, params: 'after-block', label: 'rt' },
};

/** The config's fine-tuning entries as a list (one object becomes a list of one). */
export function finetuneEntries(finetune: ExperimentConfig['finetune']): FinetuneEntry[] {
  if (!finetune) return [];
  return Array.isArray(finetune) ? finetune : [finetune];
}

/** The fine-tuning jobs of a config, in order, with their defaults applied (0-epoch entries dropped). */
export function finetuneJobs(config: ExperimentConfig): FinetuneJob[] {
  return finetuneEntries(config.finetune)
    .map((entry, index) => {
      const d = STAGE_DEFAULTS[entry.stage];
      const params = entry.params ?? (entry.layers ?? d.params);
      return { index, stage: entry.stage, config: entry, epochs: entry.epochs ?? d.epochs, params };
    })
    .filter((j) => j.epochs > 0);
}

/** Whether `job` fine-tunes the model of reducer `use` at dimension k. */
export function jobApplies(job: FinetuneJob, use: string, k: number): boolean {
  return (!job.config.dims || job.config.dims.includes(k)) && (!job.config.methods || job.config.methods.includes(use));
}

/** `block+after` resolved for one model: the prefixes of its block and its post layers that hold tensors. */
function selectionFor(job: FinetuneJob, model: ModelIR): ParamSelection {
  if (job.params !== 'block+after') return job.params;
  const paths = listTensors(model).map((t) => t.path);
  return ['block.', 'post.'].filter((p) => paths.some((q) => q.startsWith(p)));
}

/**
 * Fine-tune one reduced model for `job` and publish its row ({@link finetuneModel}, then evaluated). Returns the
 * row and the fine-tuned model.
 */
export async function finetuneReduced(state: ExperimentState, job: FinetuneJob, reduced: ReducedModel, label: string, method: string, k: number): Promise<{ row: ResultRow; model: ModelIR }> {
  const { model, tag } = await finetuneModel(state, job, reduced, label);
  const row = await evaluateModel(state, model, tag, job.stage, method, k, reduced.diagnostics);
  await publishRow(state, row);
  return { row, model };
}

/**
 * Fine-tune one reduced model for `job` (not evaluated): the model and its label (`<label>+ft`). When only the
 * post layers train on unaugmented data, the block's outputs are fixed: they are computed once on the evaluation
 * runtime (onnx is ~80× faster than tfjs-wasm here) and handed to the trainer.
 */
export async function finetuneModel(state: ExperimentState, job: FinetuneJob, reduced: ReducedModel, label: string): Promise<{ model: ModelIR; tag: string }> {
  const ft = job.config;
  const base = state.train === false ? trainSchema.parse({}) : state.train;
  const augment = base.augment;
  const params = selectionFor(job, reduced.model);
  // (a tfjs trainer computes the features itself as fast as a tfjs executable would)
  const featRt = !augment && params === 'after-block' ? await runtimeFor(state, reduced.model) : undefined;
  const featExec = featRt && featRt.name !== 'tfjs' ? await buildFor(state, blockFeatureModel(reduced.model), featRt) : undefined;
  try {
    const name = state.resolved.finetuners?.[job.index] ?? state.resolved.finetuner!;
    // the trainer's own options of `train` belong to the trainer `train` names
    const own = state.train !== false && name === state.resolved.trainer ? trainerOwnOptions(state.train) : {};
    const base0 = state.train === false ? undefined : state.train;
    const trainer = await trainerFor(state, name, ft.use ?? base0?.use ?? trainSchema.shape.use.parse(undefined), ft.runtime ?? base0?.runtime, own, reduced.model);
    const tag = `${label}+${STAGE_DEFAULTS[job.stage].label}`;
    const out = await trainer.train(
      reduced.model,
      {
        epochs: job.epochs,
        batch: ft.batch ?? base.batch,
        optimizer: ft.optimizer ?? base.optimizer,
        lr: ft.lr ?? base.lr,
        lrDecay: base.lrDecay,
        ...(base.momentum !== undefined ? { momentum: base.momentum } : {}),
        ...(base.weightDecay !== undefined ? { weightDecay: base.weightDecay } : {}),
        ...(base.clipNorm !== undefined ? { clipNorm: base.clipNorm } : {}),
        ...(ft.limit ? { limit: ft.limit } : {}),
        augment,
        params,
        seed: state.seed,
      },
      {
        dataset: state.dataset,
        solver: state.solver,
        phase: 'finetune',
        hooks: state.exp.hooks,
        ...(featExec ? { blockFeatures: (x: Float32Array, b: number) => featExec.predict(x, b) } : {}),
        onProgress: (done, total, detail) => progress(state, `finetune:${tag}`, `${job.stage} ${label}`, done, total, detail),
      },
    );
    return { model: out.model, tag };
  } finally {
    await featExec?.dispose();
  }
}

/**
 * Stage 'reduce': each reducer is fitted once, then for each dimension of its sweep the reduced model is
 * built (`reduced` waterfall), vetoed or not (`shouldEvaluate`), evaluated, optionally saved, and
 * optionally fine-tuned by a Trainer and evaluated again. Plot data comes from `Reducer.analysis()`.
 */
import path from 'node:path';
import { finetuneSchema, trainSchema, type ExperimentConfig } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { ReduceDims, ReducedModel, SnapshotSet } from '../../extension-points.js';
import type { ResultRow, RowFailure } from '../../hooks.js';
import { saveModel } from '../../ir/io.js';
import { blockFeatureModel } from '../../ir/validate.js';
import { rankByEnergy } from '../../linalg/index.js';
import { buildFor, evaluateModel, progress, publishRow, resumedRow, runtimeFor } from '../evaluate.js';
import { persistPartial } from './report.js';
import type { ExperimentState, Stage } from '../state.js';
import { trainerFor, trainerOwnOptions } from './model.js';

export const reduceStage: Stage = {
  name: 'reduce',
  async run(state) {
    const { exp, snapshots, seed } = state;
    const n = state.model.block.n;
    const finetunes = !!state.config.finetune && state.config.finetune.epochs > 0;
    for (const { config: cfg, name, reducer } of state.reducers) {
      const dims = expandDims(cfg, snapshots, n);
      // --resume: (method, dim) jobs whose rows all finished are not redone
      const done = (d: ReduceDims) => ({
        reduced: resumedRow(state, name, d.k, 'reduced'),
        finetuned: finetunes ? resumedRow(state, name, d.k, 'finetuned') : undefined,
      });
      const finished = (d: ReduceDims) => {
        const r = done(d);
        return !!r.reduced && (!finetunes || !!r.finetuned);
      };
      if (dims.every(finished)) {
        for (const d of dims) state.rows.push(...Object.values(done(d)).filter((r): r is ResultRow => !!r));
        continue;
      }
      await reducer.fit({ model: state.model, ...(snapshots ? { snapshots } : {}), seed });
      const info = reducer.analysis?.() ?? {};
      if (info.weightSingularValues && !state.analysis.weightSingularValues) state.analysis.weightSingularValues = info.weightSingularValues;
      if (info.neuronScores) state.analysis.apozScores = info.neuronScores;
      await exp.hooks.beforeReduce.promise(name, dims);
      for (const d of dims) {
        const before = done(d);
        if (finished(d)) {
          state.rows.push(...Object.values(before).filter((r): r is ResultRow => !!r));
          continue;
        }
        const label = `${name}@${d.k}`;
        let stage: RowFailure['stage'] = 'reduced';
        try {
          let reduced: ReducedModel = reducer.reduce(d);
          reduced = await exp.hooks.reduced.promise(reduced);
          if ((await exp.hooks.shouldEvaluate.promise(reduced)) === false) continue;
          const pts = reduced.diagnostics.points;
          if (info.markPoints && pts && pts.length > (state.analysis.deimPoints?.length ?? 0)) state.analysis.deimPoints = pts;
          if (before.reduced) state.rows.push(before.reduced);
          else await publishRow(state, await evaluateModel(state, reduced.model, label, 'reduced', name, d.k, reduced.diagnostics));
          if (state.config.output.saveModels && state.options.write !== false) {
            await saveModel(path.join(state.workDir, 'models', `${name}-${d.k}.odemor`), reduced.model);
          }
          stage = 'finetuned';
          if (finetunes) await finetune(state, reduced, label, name, d.k);
        } catch (e) {
          // one model failing does not stop the sweep: it is recorded, and the run fails at the end naming it
          const error = e instanceof Error ? e.message : String(e);
          state.failures.push({ method: name, dim: d.k, stage, error });
          state.log(`odemor: ${label} failed (${stage}): ${error}`);
          await persistPartial(state);
        }
      }
    }
    if (snapshots && !state.analysis.apozScores) state.analysis.apozScores = [...snapshots.final.meanAbs];
  },
};

/**
 * Fine-tune one reduced model and publish its row. When only the post layers train on unaugmented data,
 * the block's outputs are fixed: they are computed once on the evaluation runtime (onnx is ~80× faster than
 * tfjs-wasm here) and handed to the trainer.
 */
async function finetune(state: ExperimentState, reduced: ReducedModel, label: string, method: string, k: number): Promise<void> {
  const ft = state.config.finetune as Exclude<ExperimentConfig['finetune'], false | undefined>;
  const base = state.train === false ? trainSchema.parse({}) : state.train;
  const augment = base.augment;
  const params = ft.params ?? finetuneSchema.shape.layers.parse(ft.layers);
  // (a tfjs trainer computes the features itself as fast as a tfjs executable would)
  const featRt = !augment && params === 'after-block' ? await runtimeFor(state, reduced.model) : undefined;
  const featExec = featRt && featRt.name !== 'tfjs' ? await buildFor(state, blockFeatureModel(reduced.model), featRt) : undefined;
  try {
    // the trainer's own options of `train` belong to the trainer `train` names
    const own = state.train !== false && state.resolved.finetuner === state.resolved.trainer ? trainerOwnOptions(state.train) : {};
    const base0 = state.train === false ? undefined : state.train;
    const trainer = await trainerFor(state, state.resolved.finetuner!, ft.use ?? base0?.use ?? trainSchema.shape.use.parse(undefined), ft.runtime ?? base0?.runtime, own, reduced.model);
    const out = await trainer.train(
      reduced.model,
      {
        epochs: ft.epochs,
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
        onProgress: (done, total, detail) => progress(state, `finetune:${label}`, `finetune ${label}`, done, total, detail),
      },
    );
    await publishRow(state, await evaluateModel(state, out.model, `${label}+ft`, 'finetuned', method, k, reduced.diagnostics));
  } finally {
    await featExec?.dispose();
  }
}

/** The (k, m) pairs of one reducer's sweep: its dims, or `auto` (the POD energy rank), with its points. */
export function expandDims(cfg: ExperimentConfig['reducers'][number], snapshots: SnapshotSet | undefined, n: number): ReduceDims[] {
  let ks: number[];
  if (cfg.dims === 'auto') {
    if (!snapshots) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dims: auto needs snapshots`);
    ks = [rankByEnergy(snapshots.stateSingularValues, cfg.energy)];
  } else ks = cfg.dims;
  const points = cfg.points;
  return ks.map((k, i) => {
    if (k > n) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dimension ${k} exceeds the ODE state dimension n = ${n}`);
    const m = Array.isArray(points) ? points[i] : points;
    return m === undefined ? { k } : { k, m };
  });
}

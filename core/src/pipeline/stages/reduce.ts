/**
 * Stage 'reduce': each reducer is fitted once, then for each dimension of its sweep the reduced model is
 * built (`reduced` waterfall), vetoed or not (`shouldEvaluate`), evaluated, optionally saved, and
 * fine-tuned by a Trainer and evaluated again for each fine-tuning stage that applies (./finetune.ts). Plot data comes from `Reducer.analysis()`.
 */
import path from 'node:path';
import type { ExperimentConfig } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import type { ReduceDims, ReducedModel, ReducerAnalysis, SnapshotSet } from '../../extension-points.js';
import type { ResultRow, RowFailure } from '../../hooks.js';
import { saveModel } from '../../ir/io.js';
import { rankByEnergy } from '../../linalg/index.js';
import { evaluateModel, publishRow, resumedRow } from '../evaluate.js';
import { persistPartial } from './report.js';
import type { ModelIR } from '../../ir/types.js';
import type { ExperimentState, ReducerJob, Stage } from '../state.js';
import { finetuneJobs, finetuneReduced, jobApplies } from './finetune.js';

export const reduceStage: Stage = {
  name: 'reduce',
  async run(state) {
    const { exp, snapshots, seed } = state;
    const n = reducibleSize(state.model.block);
    const jobs = finetuneJobs(state.config);
    for (const job of state.reducers) {
      const { config: cfg, name, reducer } = job;
      const dims = expandDims(cfg, snapshots, n);
      const jobsAt = (d: ReduceDims) => jobs.filter((j) => jobApplies(j, cfg.use, d.k));
      // --resume: (method, dim) jobs whose rows all finished are not redone
      const done = (d: ReduceDims) => ({
        reduced: resumedRow(state, name, d.k, 'reduced'),
        tuned: jobsAt(d).map((j) => resumedRow(state, name, d.k, j.stage)),
      });
      const finished = (d: ReduceDims) => {
        const r = done(d);
        return !!r.reduced && r.tuned.every((t) => !!t);
      };
      const rowsOf = (r: ReturnType<typeof done>) => [r.reduced, ...r.tuned].filter((x): x is ResultRow => !!x);
      if (dims.every(finished)) {
        for (const d of dims) state.rows.push(...rowsOf(done(d)));
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
          state.rows.push(...rowsOf(before));
          continue;
        }
        await sweepPoint(state, job, d, info, before);
      }
    }
    if (snapshots && !state.analysis.apozScores) state.analysis.apozScores = [...snapshots.final.meanAbs];
  },
};

/** What a point of the sweep resumed from an unfinished run: its reduced row and each fine-tuning stage's, by job. */
export interface PointRows {
  reduced: ResultRow | undefined;
  tuned: (ResultRow | undefined)[];
}

/**
 * One (method, dim) point of a reducer's sweep, the reducer fitted (`info`: its analysis): the reduced model
 * (`reduced` waterfall), vetoed or not (`shouldEvaluate`), evaluated, optionally saved, then fine-tuned and
 * evaluated for each fine-tuning stage that applies; rows of `before` (a resumed run) are kept instead of
 * redone. A failure is recorded in `state.failures` (the sweep goes on). Returns the reduced model's
 * interpolation points when the reducer marks them (`info.markPoints`). The in-process sweep and a queue
 * worker (./distributed.ts) run the same function.
 */
export async function sweepPoint(state: ExperimentState, job: ReducerJob, d: ReduceDims, info: ReducerAnalysis, before?: PointRows): Promise<number[] | undefined> {
  const { exp } = state;
  const { config: cfg, name, reducer } = job;
  const ftJobs = finetuneJobs(state.config).filter((j) => jobApplies(j, cfg.use, d.k));
  const label = `${name}@${d.k}`;
  let stage: RowFailure['stage'] = 'reduced';
  let marked: number[] | undefined;
  try {
    let reduced: ReducedModel = reducer.reduce(d);
    reduced = await exp.hooks.reduced.promise(reduced);
    if ((await exp.hooks.shouldEvaluate.promise(reduced)) === false) return undefined;
    const pts = reduced.diagnostics.points;
    if (info.markPoints && pts) marked = [...pts];
    if (info.markPoints && pts && pts.length > (state.analysis.deimPoints?.length ?? 0)) state.analysis.deimPoints = pts;
    if (before?.reduced) state.rows.push(before.reduced);
    else await publishRow(state, await evaluateModel(state, reduced.model, label, 'reduced', name, d.k, reduced.diagnostics));
    if (state.config.output.saveModels && state.options.write !== false) {
      await saveModel(path.join(state.workDir, 'models', `${name}-${d.k}.odemor`), reduced.model);
    }
    for (const [i, ft] of ftJobs.entries()) {
      stage = ft.stage;
      const prior = before?.tuned[i];
      if (prior) state.rows.push(prior);
      else await finetuneReduced(state, ft, reduced, label, name, d.k);
    }
  } catch (e) {
    // one model failing does not stop the sweep: it is recorded, and the run fails at the end naming it
    const error = e instanceof Error ? e.message : String(e);
    state.failures.push({ method: name, dim: d.k, stage, error });
    state.log(`odemor: ${label} failed (${stage}): ${error}`);
    await persistPartial(state);
  }
  return marked;
}

/** The (k, m) pairs of one reducer's sweep: its dims, or `auto` (the POD energy rank), with its points. */
/**
 * The size a reducer's dimension k is bounded by: the state dimension n of a full ODE block, the hidden width m of
 * an mlp block (reducers act on its hidden layer and keep its state; docs/algorithms.md#mlp-reduction).
 */
export function reducibleSize(block: ModelIR['block']): number {
  return block.kind === 'mlp' ? block.m : block.n;
}

/** How {@link reducibleSize}'s bound reads in an error message. */
function dimensionNoun(size: number): string {
  return `the model's reducible dimension (${size}: the ODE state dimension n, or an mlp block's hidden width m)`;
}

export function expandDims(cfg: ExperimentConfig['reducers'][number], snapshots: SnapshotSet | undefined, n: number): ReduceDims[] {
  let ks: number[];
  if (cfg.dims === 'auto') {
    if (!snapshots) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dims: auto needs snapshots`);
    // an mlp block's dimension is its hidden width: the energy of the hidden activations' spectrum
    ks = [rankByEnergy(snapshots.nonlinearDim !== undefined && snapshots.nonlinearDim !== snapshots.n ? snapshots.nonlinearSingularValues : snapshots.stateSingularValues, cfg.energy)];
  } else ks = cfg.dims;
  const points = cfg.points;
  return ks.map((k, i) => {
    if (k > n) throw new OdemorError('CONFIG', `reducer '${cfg.use}': dimension ${k} exceeds ${dimensionNoun(n)}`);
    const m = Array.isArray(points) ? points[i] : points;
    return m === undefined ? { k } : { k, m };
  });
}

/**
 * Stage 'setup': the dataset, the solver, the evaluation runtime and every reducer instance (so a bad
 * reducer option fails here, before any training), the evaluator the dataset needs (the default `evaluate.use`:
 * `regression` on a regression dataset, else `classification`) and the top-k values that make sense for the data.
 */
import os from 'node:os';
import { OdemorError } from '../../errors.js';
import type { Dataset, Solver } from '../../extension-points.js';
import { resolveUse } from '../../plugins/resolve.js';
import { runtimeNamed } from '../evaluate.js';
import type { ExperimentState, Stage } from '../state.js';

/** The default `evaluate.use` of a regression dataset, and of every other. */
export const DEFAULT_EVALUATORS = Object.freeze({ regression: 'regression', classification: 'classification' });

export const setupStage: Stage = {
  name: 'setup',
  async run(state) {
    const { exp, config, resolved, seed } = state;
    state.loadAverageStart = os.loadavg(); // results.json's environment.loadAverage.start
    const { use: _d, ...datasetOptions } = config.dataset;
    // baseDir: the config's folder, which the dataset's relative paths (mnist's `dir`) resolve against
    state.dataset = (await exp.factory('Dataset', resolved.dataset)({ ...datasetOptions, seed, baseDir: state.loaded.baseDir })) as Dataset;
    const { use: _s, ...solverOptions } = state.solverConfig;
    state.solver = exp.factory('Solver', resolved.solver)(solverOptions) as Solver;
    state.runtime = await runtimeNamed(state, resolved.runtime);
    state.reducers = config.reducers.map((r, i) => {
      const { use: _u, dims: _dims, points: _p, energy: _e, ...ropts } = r;
      const name = resolved.reducers[i]!;
      return { config: r, name, reducer: exp.factory('Reducer', name)({ ...ropts, seed }) };
    });
    state.regression = state.dataset.info.task === 'regression';
    await chooseEvaluator(state);
    state.topk = state.regression ? [] : usefulTopk(state);
  },
};

/**
 * The evaluator the dataset needs: without `evaluate.use`, `regression` on a regression dataset and
 * `classification` otherwise (resolved now that the dataset is known; `prepare` resolved a provisional one).
 * A built-in evaluator named for the wrong kind of dataset is a CONFIG error here, before any training.
 */
async function chooseEvaluator(state: ExperimentState): Promise<void> {
  const { config, dataset } = state;
  const want = state.regression ? DEFAULT_EVALUATORS.regression : DEFAULT_EVALUATORS.classification;
  if (config.evaluate.use === undefined) {
    if (state.resolved.evaluator !== want) {
      let name: string;
      try {
        name = await resolveUse(state.exp, 'Evaluator', want, state.loaded.baseDir);
      } catch (e) {
        if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
        const kind = state.regression ? 'a regression' : 'a classification';
        throw new OdemorError('PLUGIN', `${state.loaded.file}: evaluate.use: dataset ${dataset.name} is ${kind} dataset, whose default evaluator is '${want}': ${e.message}`, { cause: e });
      }
      state.resolved = { ...state.resolved, evaluator: name };
    }
    return;
  }
  const other = state.regression ? DEFAULT_EVALUATORS.classification : DEFAULT_EVALUATORS.regression;
  if (state.resolved.evaluator === other) {
    const what = state.regression ? 'a regression dataset (targets, no class labels)' : `a classification dataset (${dataset.info.numClasses} classes)`;
    throw new OdemorError(
      'CONFIG',
      `${state.loaded.file}: evaluate.use: '${other}' cannot evaluate dataset ${dataset.name}, ${what}; use '${want}' (the default for it) or leave evaluate.use out`,
    );
  }
}

/** top-k for k ≥ the number of classes is trivially 1: drop those k, saying so. */
function usefulTopk(state: ExperimentState): number[] {
  const want = state.config.evaluate.topk;
  const classes = state.dataset.info.numClasses;
  const topk = want.filter((k) => k < classes || k === 1);
  if (topk.length < want.length) {
    state.log(`odemor: evaluate.topk: dropped k = ${want.filter((k) => !topk.includes(k)).join(', ')} (the dataset has ${classes} classes)`);
  }
  return topk;
}

/**
 * Stage 'setup': the dataset, the solver, the evaluation runtime and every reducer instance (so a bad
 * reducer option fails here, before any training), and the top-k values that make sense for the data.
 */
import os from 'node:os';
import type { Dataset, Solver } from '../../extension-points.js';
import { runtimeNamed } from '../evaluate.js';
import type { ExperimentState, Stage } from '../state.js';

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
    state.topk = usefulTopk(state);
  },
};

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

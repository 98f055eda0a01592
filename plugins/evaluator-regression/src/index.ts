/**
 * @odemor/evaluator-regression: trajectory errors (MSE, RMSE, relative error, the rollout error against time),
 * NFE per sample, median wall time, throughput and speedup of a regression model — a trajectory model on a
 * system-identification dataset — on a dataset's test split. Provides the Evaluator `regression`.
 */
import type { EvaluatorFactory, OdemorPlugin } from '@odemor/core';
import { OdemorError, z } from '@odemor/core';
import { MAX_TRAJECTORIES, RegressionEvaluator } from './evaluator.js';

export { RegressionEvaluator, DEFAULT_TRAJECTORIES, MAX_TRAJECTORIES, type RegressionEvaluatorOptions } from './evaluator.js';
export { TrajectoryErrors, trajectoryErrors, type TrajectoryErrorSummary } from './metrics.js';

/**
 * The option schema of the `regression` Evaluator: its own keys besides core's `evaluate` keys (`use`,
 * `runtime`, `repeats`, `topk`, `batch`, `limit`, `timingLimit`, `threads`, `timing`), checked before any work.
 */
export const regressionOptionsSchema = z.strictObject({
  trajectories: z.number().int().min(0).max(MAX_TRAJECTORIES).optional(),
});

/**
 * Factory of the `regression` Evaluator. Options: `trajectories` (test samples whose predicted and observed
 * trajectories the result keeps for plots, default 3); any other key is a CONFIG error.
 */
export const regressionFactory: EvaluatorFactory = (options = {}) => {
  for (const key of Object.keys(options)) {
    if (key !== 'trajectories' && options[key] !== undefined) {
      throw new OdemorError('CONFIG', `unknown option '${key}' of the regression evaluator; known: trajectories`);
    }
  }
  return new RegressionEvaluator(options.trajectories === undefined ? {} : { trajectories: options.trajectories as number });
};

/** The plugin: register it with `experiment.use(plugin)` or list it under `plugins:` in a config. */
const plugin: OdemorPlugin = {
  name: '@odemor/evaluator-regression',
  register(ctx) {
    ctx.provide('Evaluator', 'regression', regressionFactory, {
      description: 'trajectory MSE, RMSE, relative error, rollout error against time, NFE per sample, median wall time and speedup on the test split',
      options: regressionOptionsSchema,
    });
  },
};

export default plugin;

/**
 * @odemor/evaluator-classification: top-k accuracy, median wall time, throughput and speedup of a
 * classifier on a dataset's test split. Provides the Evaluator `classification`.
 */
import type { EvaluatorFactory, OdemorPlugin } from '@odemor/core';
import { OdemorError, z } from '@odemor/core';
import { ClassificationEvaluator } from './evaluator.js';
import { TIE_RULES, type TieRule } from './metrics.js';

export { ClassificationEvaluator, type ClassificationEvaluatorOptions } from './evaluator.js';
export { topkAccuracy, accumulateTopk, checkTopk, median, TIE_RULES, type TieRule } from './metrics.js';

/**
 * The option schema of the `classification` Evaluator: its own keys besides core's `evaluate` keys
 * (`use`, `runtime`, `repeats`, `topk`, `batch`, `limit`, `threads`), checked before any work.
 */
export const classificationOptionsSchema = z.strictObject({
  ties: z.enum(TIE_RULES as unknown as [TieRule, ...TieRule[]]).optional(),
});

/**
 * Factory of the `classification` Evaluator. Options: `ties` (`'index'` default (argmax: first maximum), `'optimistic'`,
 * `'pessimistic'`); any other key is a CONFIG error.
 */
export const classificationFactory: EvaluatorFactory = (options = {}) => {
  for (const key of Object.keys(options)) {
    if (key !== 'ties' && options[key] !== undefined) {
      throw new OdemorError('CONFIG', `unknown option '${key}' of the classification evaluator; known: ties`);
    }
  }
  return new ClassificationEvaluator(options.ties === undefined ? {} : { ties: options.ties as TieRule });
};

/** The plugin: register it with `experiment.use(plugin)` or list it under `plugins:` in a config. */
const plugin: OdemorPlugin = {
  name: '@odemor/evaluator-classification',
  register(ctx) {
    ctx.provide('Evaluator', 'classification', classificationFactory, {
      description: 'top-k accuracy, median wall time, throughput and speedup on the test split',
      options: classificationOptionsSchema,
    });
  },
};

export default plugin;

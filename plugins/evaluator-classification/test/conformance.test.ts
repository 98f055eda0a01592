import { it } from 'vitest';
import { evaluatorConformance } from '@odemor/conformance';
import { ClassificationEvaluator } from '../src/index.js';

evaluatorConformance(it, () => new ClassificationEvaluator(), { supports: { task: 'classification' } });
evaluatorConformance(it, () => new ClassificationEvaluator({ ties: 'pessimistic' }), {
  supports: { task: 'classification' },
  title: "classification evaluator conformance, ties: 'pessimistic'",
});

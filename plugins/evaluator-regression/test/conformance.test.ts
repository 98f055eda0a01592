import { it } from 'vitest';
import { evaluatorConformance } from '@odemor/conformance';
import { RegressionEvaluator } from '../src/index.js';

evaluatorConformance(it, () => new RegressionEvaluator(), { supports: { task: 'regression' } });
evaluatorConformance(it, () => new RegressionEvaluator({ trajectories: 0 }), {
  supports: { task: 'regression' },
  title: 'regression evaluator conformance, trajectories: 0',
});

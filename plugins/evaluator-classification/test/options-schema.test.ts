import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { classificationOptionsSchema, TIE_RULES } from '../src/index.js';

describe('the option schema', () => {
  it('takes what the factory takes: ties, nothing else', async () => {
    for (const ties of TIE_RULES) expect(classificationOptionsSchema.safeParse({ ties }).success).toBe(true);
    expect(classificationOptionsSchema.safeParse({}).success).toBe(true);
    expect(classificationOptionsSchema.safeParse({ ties: 'random' }).success).toBe(false);
    expect(classificationOptionsSchema.safeParse({ repeats: 3 }).success).toBe(false);
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Evaluator', 'classification')?.options).toBe(classificationOptionsSchema);
  });
});

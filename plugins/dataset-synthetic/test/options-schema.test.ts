import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { resolveOptions, syntheticOptionsSchema, type SyntheticKind } from '../src/index.js';

/** Options and the alias they go to; the schema and the factory's own checks must agree on each. */
const cases: [Record<string, unknown>, SyntheticKind | undefined][] = [
  [{ seed: 1 }, undefined],
  [{ seed: 1, kind: 'blobs', train: 10, test: 5, noise: 0.2, classes: 4, dim: 6, jitter: 0.1 }, undefined],
  [{ seed: 1, steps: 12, features: 2, classes: 5 }, 'sequence'],
  [{ seed: 1, steps: 10, classes: 5 }, 'sequence'], // Nyquist
  [{ seed: 1, dim: 3 }, 'sequence'],
  [{ seed: 1, steps: 10 }, 'circles'],
  [{ seed: 1, kind: 'blobs' }, 'circles'],
  [{ seed: 1, kind: 'squares' }, undefined],
  [{ seed: 1, clases: 3 }, 'spirals'],
  [{ seed: 1, train: 0 }, undefined],
  [{ seed: 1, classes: 1 }, undefined],
  [{ seed: 1, noise: -1 }, undefined],
  [{ seed: 1.5 }, undefined],
  [{ seed: 1, dim: 1 }, undefined],
  [{ seed: 1, steps: 3 }, 'sequence'],
];

describe('the option schema', () => {
  it.each(cases)('agrees with resolveOptions on %j (alias %s)', (options, kind) => {
    let ok = true;
    try {
      resolveOptions(options, kind);
    } catch {
      ok = false;
    }
    expect(syntheticOptionsSchema(kind).safeParse(options).success).toBe(ok);
  });

  it('is declared for every name the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    for (const name of ['synthetic', 'circles', 'spirals', 'sequence']) expect(exp.provision('Dataset', name)?.options).toBeDefined();
    const issues = exp.provision('Dataset', 'spirals')!.options!.safeParse({ seed: 1, clases: 3 }).error!.issues;
    expect(issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['clases'] }]);
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { MnistDataset, mnistOptionsSchema, type MnistOptions } from '../src/index.js';

const cases: Record<string, unknown>[] = [
  { seed: 1 },
  { seed: 1, train: 100, test: 50, view: 'sequence', downsample: 2, augment: { rotate: 10, translate: 0.1 }, dir: '/tmp' },
  { seed: 1, train: 70000 },
  { seed: 1, test: 0 },
  { seed: 1, view: 'pixels' },
  { seed: 1, downsample: 3 },
  { seed: 1, augment: { rotate: 200 } },
  { seed: 1, augment: { translate: 0.5 } },
  { seed: 1, augment: { shear: 1 } },
  { seed: 1, colour: true },
];

describe('the option schema', () => {
  it.each(cases)('agrees with the constructor on %j', (options) => {
    let ok = true;
    try {
      new MnistDataset(options as unknown as MnistOptions);
    } catch {
      ok = false;
    }
    expect(mnistOptionsSchema.safeParse(options).success).toBe(ok);
  });

  it('is declared with the plugin', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Dataset', 'mnist')?.options).toBe(mnistOptionsSchema);
  });
});

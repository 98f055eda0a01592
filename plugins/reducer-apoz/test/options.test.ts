import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { ApozReducer, apozOptionsSchema } from '../src/index.js';

describe('apoz option schema', () => {
  it('is the schema the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Reducer', 'apoz')?.options).toBe(apozOptionsSchema);
  });

  it('accepts the documented options and the pipeline seed', () => {
    for (const o of [{}, { score: 'magnitude' }, { score: 'zero-fraction', adjustNeighbours: false }, { adjustNeighbours: true, seed: 2 }]) {
      expect(apozOptionsSchema.safeParse(o).success).toBe(true);
    }
  });

  it('rejects an unknown key, naming it', () => {
    const res = apozOptionsSchema.safeParse({ score: 'magnitude', threshold: 0.1 });
    expect(res.success).toBe(false);
    expect(res.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['threshold'] })]);
  });

  it('rejects bad values, as the constructor does', () => {
    for (const o of [{ score: 'apoz' }, { adjustNeighbours: 'yes' }]) {
      expect(apozOptionsSchema.safeParse(o).success).toBe(false);
      expect(() => new ApozReducer(o as never)).toThrow(/option/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { soptOptionsSchema } from '../src/index.js';

/** the config entry less the core keys, as the config validation hands it to the schema */
const own = ({ use: _u, dims: _d, points: _p, energy: _e, ...rest }: Record<string, unknown>) => rest;

describe('sopt option schema', () => {
  it('is the schema the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Reducer', 'sopt')?.options).toBe(soptOptionsSchema);
  });

  it('accepts the documented options and the pipeline seed', () => {
    for (const o of [{}, { m: 6 }, { pointsRatio: 1.5 }, { m: 4, seed: 3 }, { oversample: 0 }, { oversample: 3, pointsRatio: 2 }]) {
      expect(soptOptionsSchema.safeParse(o).success).toBe(true);
    }
    expect(soptOptionsSchema.safeParse(own({ use: 'sopt', dims: [4], points: [6], seed: 1 })).success).toBe(true);
  });

  it('rejects an unknown key, naming it', () => {
    const res = soptOptionsSchema.safeParse(own({ use: 'sopt', dims: [4], oversampling: 2 }));
    expect(res.success).toBe(false);
    expect(res.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['oversampling'] })]);
  });

  it('rejects bad values and m together with pointsRatio', () => {
    for (const o of [{ m: 0 }, { m: 2.5 }, { pointsRatio: -1 }, { pointsRatio: 'two' }, { seed: -1 }, { oversample: -1 }, { oversample: 1.5 }]) {
      expect(soptOptionsSchema.safeParse(o).success).toBe(false);
    }
    expect(soptOptionsSchema.safeParse({ m: 3, pointsRatio: 1 }).error?.issues[0]?.message).toMatch(/either/);
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { qdeimOptionsSchema } from '../src/index.js';

/** the config entry less the core keys, as the config validation hands it to the schema */
const own = ({ use: _u, dims: _d, points: _p, energy: _e, ...rest }: Record<string, unknown>) => rest;

describe('qdeim option schema', () => {
  it('is the schema the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Reducer', 'qdeim')?.options).toBe(qdeimOptionsSchema);
  });

  it('accepts the documented options and the pipeline seed', () => {
    for (const o of [{}, { m: 6 }, { pointsRatio: 1.5 }, { m: 4, seed: 3 }]) {
      expect(qdeimOptionsSchema.safeParse(o).success).toBe(true);
    }
    expect(qdeimOptionsSchema.safeParse(own({ use: 'qdeim', dims: [4], points: [6], seed: 1 })).success).toBe(true);
  });

  it('rejects an unknown key, naming it', () => {
    const res = qdeimOptionsSchema.safeParse(own({ use: 'qdeim', dims: [4], oversample: 2 }));
    expect(res.success).toBe(false);
    expect(res.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['oversample'] })]);
  });

  it('rejects bad values and m together with pointsRatio', () => {
    for (const o of [{ m: 0 }, { m: 2.5 }, { pointsRatio: -1 }, { pointsRatio: 'two' }, { seed: -1 }]) {
      expect(qdeimOptionsSchema.safeParse(o).success).toBe(false);
    }
    expect(qdeimOptionsSchema.safeParse({ m: 3, pointsRatio: 1 }).error?.issues[0]?.message).toMatch(/either/);
  });
});

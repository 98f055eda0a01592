import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { SvdReducer, svdOptionsSchema } from '../src/index.js';

describe('svd option schema', () => {
  it('is the schema the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Reducer', 'svd')?.options).toBe(svdOptionsSchema);
  });

  it('accepts no options but the pipeline seed', () => {
    expect(svdOptionsSchema.safeParse({}).success).toBe(true);
    expect(svdOptionsSchema.safeParse({ seed: 1 }).success).toBe(true);
    expect(svdOptionsSchema.safeParse({ seed: -1 }).success).toBe(false);
  });

  it('rejects an unknown key, naming it (the constructor itself still ignores it)', () => {
    const res = svdOptionsSchema.safeParse({ rank: 4 });
    expect(res.success).toBe(false);
    expect(res.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['rank'] })]);
    expect(new SvdReducer({ rank: 4 }).name).toBe('svd');
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment } from '@odemor/core';
import plugin, { GalerkinReducer, galerkinOptionsSchema } from '../src/index.js';

describe('galerkin option schema', () => {
  it('is the schema the plugin provides', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.provision('Reducer', 'galerkin')?.options).toBe(galerkinOptionsSchema);
  });

  it('accepts no options but the pipeline seed', () => {
    expect(galerkinOptionsSchema.safeParse({}).success).toBe(true);
    expect(galerkinOptionsSchema.safeParse({ seed: 1 }).success).toBe(true);
    expect(galerkinOptionsSchema.safeParse({ seed: -1 }).success).toBe(false);
  });

  it('rejects an unknown key, naming it (the constructor itself still ignores it)', () => {
    const res = galerkinOptionsSchema.safeParse({ oversample: 1 });
    expect(res.success).toBe(false);
    expect(res.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['oversample'] })]);
    expect(new GalerkinReducer({ oversample: 1 } as never).name).toBe('galerkin');
  });
});

/**
 * DEIM on the hidden layer of an mlp block (docs/algorithms.md#mlp-reduction): U = the first r POD modes of the
 * hidden activations, r DEIM points P, and z' = N U (PᵀU)⁻¹ σ(PᵀM z + Pᵀc + PᵀZin u) + bias.
 */
import { describe, expect, it } from 'vitest';
import { OdemorError, interpolationOperator, relativePodError, selectDeimPoints } from '@odemor/core';
import { mlpReducerFixture, MLP_M, MLP_N } from '@odemor/conformance';
import { DeimReducer } from '../src/index.js';

describe("reducer 'deim' on an mlp block", () => {
  const f = mlpReducerFixture('generic', true);
  const block = f.model.block;

  it('builds M = PᵀM, c = Pᵀc, Zin = PᵀZin, N = N U (PᵀU)⁻¹ on the DEIM points of the hidden basis', () => {
    const r = new DeimReducer();
    r.fit(f.context);
    const k = 6;
    const res = r.reduce({ k });
    const U = f.snapshots.nonlinearBasis.subMatrix(0, MLP_M - 1, 0, k - 1);
    const P = selectDeimPoints(U);
    const op = interpolationOperator(U, P);
    const blk = res.model.block;
    expect(res.diagnostics.points).toEqual(P);
    expect(res.dims).toEqual({ k, m: k });
    expect(blk.m).toBe(k);
    expect(blk.M.type).toBe('dense');
    if (blk.M.type !== 'dense' || blk.N.type !== 'dense') throw new Error('dense M and N expected');
    P.forEach((p, i) => {
      for (let j = 0; j < MLP_N; j++) expect(blk.M.type === 'dense' && blk.M.weight.data[i * MLP_N + j]).toBe(block.M.data[p * MLP_N + j]);
      expect(blk.c.data[i]).toBe(block.c.data[p]);
      expect(Array.from(blk.Zin!.data.subarray(i * 2, i * 2 + 2))).toEqual(Array.from(block.Zin!.data.subarray(p * 2, p * 2 + 2)));
    });
    for (let i = 0; i < MLP_N; i++) {
      for (let j = 0; j < k; j++) {
        let acc = 0;
        for (let l = 0; l < MLP_M; l++) acc += block.N.data[i * MLP_M + l]! * op.projector[l * k + j]!;
        expect(blk.N.weight.data[i * k + j]).toBeCloseTo(acc, 5);
      }
    }
    expect(Array.from(blk.bias!.data)).toEqual(Array.from(block.bias.data));
    expect(res.diagnostics.errorConstant).toBeCloseTo(op.errorConstant, 10);
    expect(res.diagnostics.nonlinearPodError).toBeCloseTo(relativePodError(f.snapshots.nonlinearSingularValues, k), 12);
    expect(res.diagnostics).toMatchObject({ modes: k, oversample: 0, stateDim: MLP_N, activations: k });
  });

  it('evaluates k points: a dims.m other than k is an ARGUMENT error pointing to odeim', () => {
    const r = new DeimReducer();
    r.fit(f.context);
    expect(r.reduce({ k: 4, m: 4 }).model.block.m).toBe(4);
    try {
      r.reduce({ k: 4, m: 6 });
      expect.fail('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(OdemorError);
      expect((e as OdemorError).code).toBe('ARGUMENT');
      expect((e as Error).message).toMatch(/m = 6.*k = 4|k = 4.*m = 6/);
      expect((e as Error).message).toContain('odeim');
    }
  });

  it('refuses the options m and pointsRatio (they size the nonlinear basis of a full ODE block) with a CONFIG error', () => {
    for (const options of [{ m: 5 }, { pointsRatio: 2 }]) {
      const r = new DeimReducer(options);
      expect(() => r.fit(f.context)).toThrow(/mlp block/);
    }
  });

  it('reduces the full ODE model again after an mlp model (fit replaces the state)', async () => {
    const { reducerFixture } = await import('@odemor/conformance');
    const ode = reducerFixture('generic');
    const r = new DeimReducer();
    r.fit(f.context);
    r.reduce({ k: 3 });
    r.fit(ode.context);
    expect(r.reduce({ k: 3 }).model.block.E.type).toBe('dense');
    r.fit(f.context);
    expect(r.reduce({ k: 3 }).model.block.E).toEqual({ type: 'identity', size: MLP_N });
  });
});

/**
 * POD-Galerkin on the hidden layer of an mlp block (docs/algorithms.md#galerkin): r hidden POD modes, no point
 * selection, N' = N U_r U_rᵀ, all m hidden units evaluated.
 */
import { describe, expect, it } from 'vitest';
import { blockCost } from '@odemor/core';
import { expectOdemorError, mlpReducerFixture, MLP_M, MLP_N } from '@odemor/conformance';
import { GalerkinReducer } from '../src/index.js';

describe("reducer 'galerkin' on an mlp block", () => {
  const f = mlpReducerFixture('decaying', true);
  const block = f.model.block;

  it('N′ = N U_r U_rᵀ entrywise; M, c, Zin, bias unchanged; all m units; E = D = I_n', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    const k = 6;
    const res = r.reduce({ k });
    const blk = res.model.block;
    expect(res.dims).toEqual({ k });
    expect(res.diagnostics).toMatchObject({ modes: k, activations: MLP_M, stateDim: MLP_N });
    expect(blk.E).toEqual({ type: 'identity', size: MLP_N });
    expect(blk.D).toEqual({ type: 'identity', size: MLP_N });
    if (blk.M.type !== 'dense' || blk.N.type !== 'dense') throw new Error('dense M and N expected');
    expect(Array.from(blk.M.weight.data)).toEqual(Array.from(block.M.data));
    expect(Array.from(blk.c.data)).toEqual(Array.from(block.c.data));
    expect(Array.from(blk.Zin!.data)).toEqual(Array.from(block.Zin!.data));
    expect(Array.from(blk.bias!.data)).toEqual(Array.from(block.bias.data));
    const U = f.snapshots.nonlinearBasis;
    for (let i = 0; i < MLP_N; i++) {
      for (let j = 0; j < MLP_M; j++) {
        let s = 0;
        for (let l = 0; l < MLP_M; l++) {
          let uu = 0;
          for (let a = 0; a < k; a++) uu += U.get(l, a) * U.get(j, a);
          s += block.N.data[i * MLP_M + l]! * uu;
        }
        expect(blk.N.weight.data[i * MLP_M + j]).toBeCloseTo(s, 5);
      }
    }
    expect(res.diagnostics.params).toBe(blockCost(block).params);
  });

  it('at r = m it is the full block (U square orthogonal: N U Uᵀ = N)', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    const blk = r.reduce({ k: MLP_M }).model.block;
    if (blk.N.type !== 'dense') throw new Error('dense N expected');
    blk.N.weight.data.forEach((v, i) => expect(v).toBeCloseTo(block.N.data[i]!, 5));
  });

  it('refuses points (dims.m ≠ r) and r beyond m, naming the values', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    expectOdemorError(expect, () => r.reduce({ k: 4, m: 8 }), 'ARGUMENT', /galerkin/, /m = 8/, /points/);
    expectOdemorError(expect, () => r.reduce({ k: MLP_M + 1 }), 'ARGUMENT', `k (hidden modes r) = ${MLP_M + 1} exceeds the mlp block's m = ${MLP_M} hidden units`);
  });
});

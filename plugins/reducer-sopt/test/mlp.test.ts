/**
 * S-OPT on the hidden layer of an mlp block (docs/algorithms.md#mlp-reduction): r hidden modes, q ≥ r S-OPT
 * points (dims.m, default r + oversample, at most m), N' = N U (PᵀU)⁺.
 */
import { describe, expect, it } from 'vitest';
import { OdemorError, interpolationOperator } from '@odemor/core';
import { mlpReducerFixture, MLP_M, MLP_N } from '@odemor/conformance';
import { SoptReducer, selectSoptPoints } from '../src/index.js';

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return { code: (e as OdemorError).code, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

describe("reducer 'sopt' on an mlp block", () => {
  const f = mlpReducerFixture('decaying', true);

  it('takes r + oversample S-OPT points by default and dims.m points when given; N′ = N U (PᵀU)⁺', () => {
    const r = new SoptReducer();
    r.fit(f.context);
    const d = r.reduce({ k: 5 });
    expect(d.dims).toEqual({ k: 5, m: 6 });
    expect(d.model.block.m).toBe(6);
    expect(d.diagnostics).toMatchObject({ modes: 5, oversample: 1 });
    const U = f.snapshots.nonlinearBasis.subMatrix(0, MLP_M - 1, 0, 4);
    const points = selectSoptPoints(U, 6);
    expect(d.diagnostics.points).toEqual(points);
    // N' entrywise
    const op = interpolationOperator(U, points);
    const N = f.model.block.N.data;
    const blk = d.model.block;
    if (blk.N.type !== 'dense') throw new Error('dense N expected');
    for (let i = 0; i < MLP_N; i++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let l = 0; l < MLP_M; l++) s += N[i * MLP_M + l]! * op.projector[l * 6 + j]!;
        expect(blk.N.weight.data[i * 6 + j]).toBeCloseTo(s, 5);
      }
    }
    const q = r.reduce({ k: 5, m: 12 });
    expect(q.model.block.m).toBe(12);
    expect(q.diagnostics.points).toEqual(selectSoptPoints(U, 12));
    expect(q.diagnostics.errorConstant!).toBeLessThanOrEqual(d.diagnostics.errorConstant! + 1e-12);
    expect(r.reduce({ k: MLP_M }).model.block.m).toBe(MLP_M);
  });

  it('refuses fewer points than modes and more points than hidden units, and the options m and pointsRatio', () => {
    const r = new SoptReducer();
    r.fit(f.context);
    const few = codeOf(() => r.reduce({ k: 6, m: 4 }));
    expect(few.code).toBe('ARGUMENT');
    expect(few.message).toMatch(/m = 4.*k = 6/);
    const many = codeOf(() => r.reduce({ k: 6, m: MLP_M + 1 }));
    expect(many.code).toBe('ARGUMENT');
    expect(many.message).toContain(`m = ${MLP_M} hidden units`);
    const withM = codeOf(() => new SoptReducer({ m: 4 }).fit(f.context));
    expect(withM.code).toBe('CONFIG');
    expect(withM.message).toMatch(/option m = 4/);
  });
});

/**
 * Oversampled DEIM on the hidden layer of an mlp block (docs/algorithms.md#mlp-reduction): r hidden modes,
 * q ≥ r points (dims.m, default r + oversample, at most m), N' = N U (PᵀU)⁺.
 */
import { describe, expect, it } from 'vitest';
import { OdemorError, interpolationOperator, selectOdeimPoints } from '@odemor/core';
import { mlpReducerFixture, MLP_M } from '@odemor/conformance';
import { OdeimReducer } from '../src/index.js';

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return { code: (e as OdemorError).code, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

describe("reducer 'odeim' on an mlp block", () => {
  const f = mlpReducerFixture('decaying', true);

  it('takes r + oversample points by default and dims.m points when given; the least-squares operator', () => {
    const r = new OdeimReducer();
    r.fit(f.context);
    const d = r.reduce({ k: 5 });
    expect(d.dims).toEqual({ k: 5, m: 6 });
    expect(d.model.block.m).toBe(6);
    expect(d.diagnostics).toMatchObject({ modes: 5, oversample: 1 });
    const U = f.snapshots.nonlinearBasis.subMatrix(0, MLP_M - 1, 0, 4);
    expect(d.diagnostics.points).toEqual(selectOdeimPoints(U, 6));
    const q = r.reduce({ k: 5, m: 12 });
    expect(q.model.block.m).toBe(12);
    expect(q.diagnostics.points).toEqual(selectOdeimPoints(U, 12));
    expect(q.diagnostics.errorConstant).toBeCloseTo(interpolationOperator(U, selectOdeimPoints(U, 12)).errorConstant, 10);
    // more points never raise the error constant
    expect(q.diagnostics.errorConstant!).toBeLessThanOrEqual(d.diagnostics.errorConstant! + 1e-12);
    const o3 = new OdeimReducer({ oversample: 3 });
    o3.fit(f.context);
    expect(o3.reduce({ k: 5 }).model.block.m).toBe(8);
    // at r = m the points are capped at m
    expect(r.reduce({ k: MLP_M }).model.block.m).toBe(MLP_M);
  });

  it('refuses fewer points than modes and more points than hidden units, naming the values', () => {
    const r = new OdeimReducer();
    r.fit(f.context);
    const few = codeOf(() => r.reduce({ k: 6, m: 4 }));
    expect(few.code).toBe('ARGUMENT');
    expect(few.message).toMatch(/m = 4.*k = 6/);
    const many = codeOf(() => r.reduce({ k: 6, m: MLP_M + 1 }));
    expect(many.code).toBe('ARGUMENT');
    expect(many.message).toContain(`m = ${MLP_M + 1}`);
    expect(many.message).toContain(`m = ${MLP_M} hidden units`);
  });
});

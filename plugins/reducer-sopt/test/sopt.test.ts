import { describe, expect, it } from 'vitest';
import { Experiment, selectOdeimPoints } from '@odemor/core';
import { reducerFixture } from '@odemor/conformance';
import plugin, { SoptReducer, selectSoptPoints } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;

describe('SoptReducer', () => {
  it('selects m + o S-OPT points (default o = 1) on U_m and evaluates m + o activations', () => {
    const r = new SoptReducer();
    r.fit(f.context);
    const res = r.reduce({ k: 4, m: 5 });
    const U5 = f.snapshots.nonlinearBasis.subMatrix(0, n - 1, 0, 4);
    expect(res.diagnostics.points).toEqual(selectSoptPoints(U5, 6));
    expect(res.diagnostics.points).not.toEqual(selectOdeimPoints(U5, 6));
    expect(res.diagnostics).toMatchObject({ stateDim: 4, activations: 6, oversample: 1, m: 5 });
    expect(res.model.block.N.type === 'dense' && res.model.block.N.weight.shape).toEqual([4, 6]);
    const r3 = new SoptReducer({ oversample: 3 });
    r3.fit(f.context);
    expect(r3.reduce({ k: 4 }).diagnostics.activations).toBe(7);
    const r0 = new SoptReducer({ oversample: 0 });
    r0.fit(f.context);
    expect(r0.reduce({ k: 4 }).diagnostics).toMatchObject({ activations: 4, oversample: 0 });
  });

  it('least squares: N Pᵀ f = V_kᵀ f for f in span U_m', () => {
    const r = new SoptReducer({ oversample: 2 });
    r.fit(f.context);
    const res = r.reduce({ k: 3, m: 4 });
    const N = (res.model.block.N as { weight: { data: Float32Array } }).weight.data;
    const pts = res.diagnostics.points!;
    expect(pts.length).toBe(6);
    const U = f.snapshots.nonlinearBasis;
    const V = f.snapshots.stateBasis;
    const a = [1, -0.5, 0.25, 2];
    const fv = Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + U.get(i, j) * aj, 0));
    for (let i = 0; i < 3; i++) {
      const lhs = pts.reduce((s, p, l) => s + N[i * 6 + l]! * fv[p]!, 0);
      const rhs = fv.reduce((s, v, l) => s + V.get(l, i) * v, 0);
      expect(lhs).toBeCloseTo(rhs, 4);
    }
  });

  it('caps the oversampling at the number of rows (m = n uses all n points)', () => {
    const r = new SoptReducer({ oversample: 3 });
    r.fit(f.context);
    expect(r.reduce({ k: n - 1, m: n - 1 }).diagnostics).toMatchObject({ activations: n, oversample: 1 });
    expect(r.reduce({ k: n }).diagnostics).toMatchObject({ activations: n, oversample: 0 });
    expect(() => new SoptReducer({ oversample: -1 })).toThrow(/oversample/);
  });

  it('registers as the Reducer named sopt', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.factory('Reducer', 'sopt')({ oversample: 2 })).toBeInstanceOf(SoptReducer);
  });
});

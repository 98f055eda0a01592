import { describe, expect, it } from 'vitest';
import { Experiment, interpolationErrorConstant, type Reducer } from '@odemor/core';
import { reducerFixture } from '@odemor/conformance';
import plugin, { DeimReducer, selectDeimPoints } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;

function fit(r: Reducer): Reducer {
  void r.fit(f.context);
  return r;
}

describe('DeimReducer', () => {
  it('selects the DEIM points of U[:, :m] and reports ‖(PᵀU)⁻¹‖₂ and the relative POD error', () => {
    const r = fit(new DeimReducer());
    const res = r.reduce({ k: 5 });
    const U5 = f.snapshots.nonlinearBasis.subMatrix(0, n - 1, 0, 4);
    expect(res.diagnostics.points).toEqual(selectDeimPoints(U5));
    expect(res.diagnostics.errorConstant).toBeCloseTo(interpolationErrorConstant(U5, res.diagnostics.points!), 8);
    const sv = f.snapshots.stateSingularValues;
    const total = sv.reduce((a, s) => a + s * s, 0);
    const tail = sv.slice(5).reduce((a, s) => a + s * s, 0);
    expect(res.diagnostics.podError).toBeCloseTo(Math.sqrt(tail / total), 12);
    expect(res.diagnostics.podError).toBeLessThan(1);
    expect(r.reduce({ k: n }).diagnostics.podError).toBe(0);
  });

  it('interpolates exactly in the nonlinear basis: N Pᵀ f = V_kᵀ f for f in span U_m', () => {
    const r = fit(new DeimReducer());
    const res = r.reduce({ k: 4, m: 6 });
    const blk = res.model.block;
    const { points } = res.diagnostics;
    const N = (blk.N as { weight: { data: Float32Array } }).weight.data;
    const U = f.snapshots.nonlinearBasis;
    const V = f.snapshots.stateBasis;
    const a = [0.3, -1.2, 0.5, 2, -0.7, 1.1];
    const fv = Array.from({ length: n }, (_, i) => a.reduce((s, aj, j) => s + U.get(i, j) * aj, 0));
    for (let i = 0; i < 4; i++) {
      const lhs = points!.reduce((s, p, l) => s + N[i * 6 + l]! * fv[p]!, 0);
      const rhs = fv.reduce((s, v, l) => s + V.get(l, i) * v, 0);
      expect(lhs).toBeCloseTo(rhs, 4);
    }
  });

  it('k and m are independent: dims.m, option m and option pointsRatio', () => {
    expect(fit(new DeimReducer()).reduce({ k: 3, m: 7 }).diagnostics).toMatchObject({ stateDim: 3, activations: 7, params: 2 * 3 * 7 + 3 * 2 });
    expect(fit(new DeimReducer({ m: 6 })).reduce({ k: 3 }).diagnostics.activations).toBe(6);
    expect(fit(new DeimReducer({ pointsRatio: 2 })).reduce({ k: 4 }).diagnostics.activations).toBe(8);
    expect(fit(new DeimReducer({ pointsRatio: 2 })).reduce({ k: 4, m: 5 }).diagnostics.activations).toBe(5);
    expect(() => new DeimReducer({ m: 0 })).toThrow(/option m/);
    expect(() => new DeimReducer({ m: 3, pointsRatio: 1 })).toThrow(/either/);
    expect(() => new DeimReducer({ oversample: 2 })).toThrow(/odeim/);
  });

  it('caches the points by m: the same m gives the same points whatever k', () => {
    const r = fit(new DeimReducer());
    expect(r.reduce({ k: 2, m: 6 }).diagnostics.points).toEqual(r.reduce({ k: 5, m: 6 }).diagnostics.points);
  });

  it('refuses m beyond the rank of the nonlinear basis and k beyond the state basis', () => {
    const r = new DeimReducer();
    const s = f.snapshots;
    r.fit({ ...f.context, snapshots: { ...s, stateBasis: s.stateBasis.subMatrix(0, n - 1, 0, 5), nonlinearBasis: s.nonlinearBasis.subMatrix(0, n - 1, 0, 3) } });
    expect(() => r.reduce({ k: 7 })).toThrow(/k = 7 exceeds the rank of the state basis \(6\)/);
    expect(() => r.reduce({ k: 3, m: 5 })).toThrow(/m \(interpolation points\) = 5 exceeds the rank of the nonlinear basis \(4\)/);
  });

  it('registers as the Reducer named deim', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(plugin.name).toBe('@odemor/reducer-deim');
    const r = exp.factory('Reducer', 'deim')({});
    expect(r).toBeInstanceOf(DeimReducer);
    expect(r.name).toBe('deim');
  });
});

import { describe, expect, it } from 'vitest';
import { Experiment, interpolationErrorConstant } from '@odemor/core';
import { reducerFixture } from '@odemor/conformance';
import plugin, { QdeimReducer, selectQdeimPoints } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;

describe('QdeimReducer', () => {
  it('uses the Q-DEIM points of U[:, :m] and reports their error constant', () => {
    const r = new QdeimReducer();
    r.fit(f.context);
    for (const m of [3, 8]) {
      const res = r.reduce({ k: 4, m });
      const Um = f.snapshots.nonlinearBasis.subMatrix(0, n - 1, 0, m - 1);
      expect(res.diagnostics.points).toEqual(selectQdeimPoints(Um));
      expect(res.diagnostics.errorConstant).toBeCloseTo(interpolationErrorConstant(Um, res.diagnostics.points!), 8);
      expect(res.model.block.method).toBe('qdeim');
      expect(res.model.block.m).toBe(m);
    }
  });

  it('registers as the Reducer named qdeim', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.factory('Reducer', 'qdeim')({})).toBeInstanceOf(QdeimReducer);
  });
});

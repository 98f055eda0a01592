/**
 * The convergence checks of the reducer kit that `conformance.test.ts` switches off with `lowRankConvergence`
 * (see there): the full block's rank-4 check as the kit states it, and on the decaying mlp fixture the form of
 * convergence the POD projection satisfies (not monotone from r = 1 to 2).
 */
import { describe, expect, it } from 'vitest';
import { mlpReducedError, mlpReducerFixture, MLP_M, reducedModelError, reducerFixture } from '@odemor/conformance';
import { GalerkinReducer } from '../src/index.js';

describe("reducer 'galerkin' convergence", () => {
  it('converges on rank-4 dynamics: the error does not grow over k = 1, 2, 4 and is ≤ 1e-4 at k = 4 (the kit check)', () => {
    const f = reducerFixture('structured');
    const r = new GalerkinReducer();
    r.fit(f.context);
    const errs = [1, 2, 4].map((k) => reducedModelError(f, r.reduce({ k })));
    expect(errs[0]!).toBeGreaterThan(1e-3);
    expect(errs[1]!).toBeLessThanOrEqual(errs[0]! * 1.05 + 1e-6);
    expect(errs[2]!).toBeLessThanOrEqual(errs[1]! * 1.05 + 1e-6);
    expect(errs[2]!).toBeLessThanOrEqual(1e-4);
  });

  it('on a decaying hidden spectrum (mlp block) the error falls by r = 5 and is exact at r = m', () => {
    const f = mlpReducerFixture('decaying', true);
    const r = new GalerkinReducer();
    r.fit(f.context);
    const rs = [1, 2, 5, 10, 20, MLP_M];
    const errs = rs.map((k) => mlpReducedError(f, r.reduce({ k })));
    expect(errs[0]!).toBeGreaterThan(1e-3);
    // r = 2 is worse than r = 1 (conformance.test.ts), within a factor 2
    expect(errs[1]!).toBeLessThanOrEqual(2 * errs[0]!);
    for (let i = 2; i < rs.length; i++) {
      expect(errs[i]!, `r = ${rs[i]}`).toBeLessThanOrEqual(0.1 * errs[0]!);
      expect(errs[i]!, `r = ${rs[i]}`).toBeLessThanOrEqual(errs[i - 1]! * 1.5 + 1e-6);
    }
    expect(errs[4]!).toBeLessThanOrEqual(1e-4);
    expect(errs[5]!).toBeLessThanOrEqual(1e-6);
  });
});

/**
 * APoZ on the hidden layer of an mlp block (docs/algorithms.md#mlp-reduction): keep the r hidden units with the
 * lowest zero fraction of the sampled activations (ties: larger mean |h|), M' = M[S, :], N' = N[:, S].
 */
import { describe, expect, it } from 'vitest';
import { OdemorError } from '@odemor/core';
import { mlpReducerFixture, MLP_M, MLP_N } from '@odemor/conformance';
import { ApozReducer, rankHiddenUnits } from '../src/index.js';

describe("reducer 'apoz' on an mlp block", () => {
  it('ranks hidden units by zero fraction, then by larger meanAbs, then by index (or meanAbs first)', () => {
    const stats = { zeroFraction: [0.5, 0, 0, 0.1, 0], meanAbs: [9, 0.2, 0.7, 5, 0.7] };
    expect(rankHiddenUnits(stats)).toEqual([2, 4, 1, 3, 0]);
    expect(rankHiddenUnits(stats, 'magnitude')).toEqual([0, 3, 2, 4, 1]);
  });

  it('keeps the top r units: rows of M, c, Zin, columns of N, the bias, E = D = I', () => {
    const f = mlpReducerFixture('decaying', true);
    const block = f.model.block;
    const h = f.snapshots.hidden!;
    // the smallest units (scale 0.7^39 ≈ 1e-6) count as zeros, the others never are
    expect(Array.from(h.zeroFraction).some((z) => z > 0)).toBe(true);
    const r = new ApozReducer();
    r.fit(f.context);
    const res = r.reduce({ k: 5 });
    const S = rankHiddenUnits(h).slice(0, 5).sort((a, b) => a - b);
    expect(res.diagnostics.points).toEqual(S);
    expect(res.diagnostics.score).toBe('zero-fraction');
    const blk = res.model.block;
    if (blk.M.type !== 'dense' || blk.N.type !== 'dense') throw new Error('dense M and N expected');
    S.forEach((u, i) => {
      expect(Array.from(blk.M.type === 'dense' ? blk.M.weight.data.subarray(i * MLP_N, (i + 1) * MLP_N) : [])).toEqual(Array.from(block.M.data.subarray(u * MLP_N, (u + 1) * MLP_N)));
      for (let j = 0; j < MLP_N; j++) expect(blk.N.type === 'dense' && blk.N.weight.data[j * 5 + i]).toBe(block.N.data[j * MLP_M + u]);
      expect(blk.c.data[i]).toBe(block.c.data[u]);
    });
    expect(blk.Zin!.shape).toEqual([5, 2]);
    expect(blk.E).toEqual({ type: 'identity', size: MLP_N });
    expect(r.analysis().neuronScores).toHaveLength(MLP_M);
    // the largest mean |h| are kept
    const kept = Math.min(...S.map((u) => h.meanAbs[u]!));
    const dropped = Math.max(...Array.from(h.meanAbs).filter((_, u) => !S.includes(u)));
    expect(kept).toBeGreaterThanOrEqual(dropped);
  });

  it('needs the hidden-unit statistics; refuses r > m naming m', () => {
    const f = mlpReducerFixture('generic', false);
    const { hidden: _h, ...rest } = f.snapshots;
    const r = new ApozReducer();
    try {
      r.fit({ ...f.context, snapshots: rest });
      expect.fail('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(OdemorError);
      expect((e as OdemorError).code).toBe('REDUCER');
      expect((e as Error).message).toContain('snapshots.hidden');
    }
    r.fit(f.context);
    expect(() => r.reduce({ k: MLP_M + 1 })).toThrow(new RegExp(`${MLP_M + 1}.*m = ${MLP_M}`));
    expect(() => r.reduce({ k: 3, m: 5 })).toThrow(/m = 5/);
  });
});

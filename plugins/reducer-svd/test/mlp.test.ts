/**
 * SVD truncation of an mlp block's W₁ = M (docs/algorithms.md#mlp-reduction): M ≈ Φ_r (Σ_rΨ_rᵀ), kept factored,
 * N, c, bias and Zin unchanged; r ≥ min(m, n) is refused.
 */
import { describe, expect, it } from 'vitest';
import { OdemorError, matrixSvd } from '@odemor/core';
import { mlpReducerFixture, MLP_M, MLP_N } from '@odemor/conformance';
import { SvdReducer } from '../src/index.js';

describe("reducer 'svd' on an mlp block", () => {
  const f = mlpReducerFixture('decaying', true);
  const block = f.model.block;

  it('factors M at rank r and keeps N, c, bias and Zin; diagnostics from the singular values of M', () => {
    const r = new SvdReducer();
    r.fit({ model: f.model, seed: 1 });
    const s = matrixSvd(block.M.data, MLP_M, MLP_N).singularValues;
    expect(r.analysis().weightSingularValues).toEqual(s);
    const res = r.reduce({ k: 1 });
    const blk = res.model.block;
    expect(blk.M.type).toBe('factored');
    if (blk.M.type !== 'factored' || blk.N.type !== 'dense') throw new Error('factored M, dense N expected');
    expect(blk.M.left.shape).toEqual([MLP_M, 1]);
    expect(blk.M.right.shape).toEqual([1, MLP_N]);
    expect(Array.from(blk.N.weight.data)).toEqual(Array.from(block.N.data));
    expect(Array.from(blk.c.data)).toEqual(Array.from(block.c.data));
    expect(Array.from(blk.Zin!.data)).toEqual(Array.from(block.Zin!.data));
    expect(Array.from(blk.bias!.data)).toEqual(Array.from(block.bias.data));
    expect(blk.m).toBe(MLP_M);
    // ‖M − M_1‖₂ = σ₂: the factors' product differs from M by exactly the tail
    let fro = 0;
    for (let i = 0; i < MLP_M; i++) {
      for (let j = 0; j < MLP_N; j++) {
        const v = blk.M.left.data[i]! * blk.M.right.data[j]!;
        fro += (v - block.M.data[i * MLP_N + j]!) ** 2;
      }
    }
    expect(Math.sqrt(fro)).toBeCloseTo(Math.hypot(...s.slice(1)), 4);
    expect(res.diagnostics).toMatchObject({ rank: 1, stateDim: MLP_N, activations: MLP_M, params: MLP_M + MLP_N + MLP_N * MLP_M + MLP_M * 2 });
    expect(res.diagnostics.spectralError).toBeCloseTo(s[1]! / s[0]!, 10);
  });

  it('refuses r ≥ min(m, n), naming r, m and n, with an ARGUMENT error', () => {
    const r = new SvdReducer();
    r.fit({ model: f.model, seed: 1 });
    for (const k of [MLP_N, MLP_N + 4]) {
      try {
        r.reduce({ k });
        expect.fail('expected an error');
      } catch (e) {
        expect(e).toBeInstanceOf(OdemorError);
        expect((e as OdemorError).code).toBe('ARGUMENT');
        const msg = (e as Error).message;
        expect(msg).toContain(`k = ${k}`);
        expect(msg).toContain(`m = ${MLP_M}`);
        expect(msg).toContain(`n = ${MLP_N}`);
        expect(msg).toContain(`min(m, n) = ${MLP_N}`);
      }
    }
    expect(() => r.reduce({ k: 1, m: 2 })).toThrow(/m = 2/);
  });
});

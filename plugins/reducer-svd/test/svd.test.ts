import { describe, expect, it } from 'vitest';
import { Experiment, denseA, simulateBlock, spectralNorm, toMatrix, type ModelIR, type OdeBlock } from '@odemor/core';
import { reducerFixture } from '@odemor/conformance';
import plugin, { SvdReducer } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;

/** Φ_k (Σ_k Ψ_kᵀ) as dense n×n. */
function product(res: ReturnType<SvdReducer['reduce']>): Float64Array {
  const M = res.model.block.M;
  if (M.type !== 'factored') throw new Error('expected a factored M');
  const [rows, k] = M.left.shape as [number, number];
  const cols = M.right.shape[1]!;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let l = 0; l < k; l++) for (let j = 0; j < cols; j++) out[i * cols + j] = out[i * cols + j]! + M.left.data[i * k + l]! * M.right.data[l * cols + j]!;
  return out;
}

describe('SvdReducer', () => {
  it('needs no snapshots and counts 2kn ODE weights with all n activations', () => {
    const r = new SvdReducer();
    expect(r.needsSnapshots).toBe(false);
    r.fit({ model: { ...f.model, block: { ...f.model.block, Z: undefined } }, seed: 1 });
    for (const k of [1, 5, 12]) {
      const res = r.reduce({ k });
      expect(res.diagnostics).toMatchObject({ stateDim: n, activations: n, params: 2 * k * n, macsPerRhs: 2 * k * n, projectionParams: 0 });
      expect(res.model.block.E).toEqual({ type: 'identity', size: n });
      expect(res.model.block.D).toEqual({ type: 'identity', size: n });
    }
  });

  it('is exact at k = n and optimal below: ‖A − A_k‖₂ = σ_{k+1} (Eckart–Young)', () => {
    const r = new SvdReducer();
    r.fit(f.context);
    const A = denseA(f.model.block);
    const sA = spectralNorm(toMatrix(A, n, n));
    const full = product(r.reduce({ k: n }));
    full.forEach((v, i) => expect(Math.abs(v - A[i]!)).toBeLessThan(1e-5 * sA));
    for (const k of [1, 4, 10]) {
      const res = r.reduce({ k });
      const Ak = product(res);
      const diff = toMatrix(Float64Array.from(A, (v, i) => v - Ak[i]!), n, n);
      const sigma = res.diagnostics.spectralError as number;
      expect(spectralNorm(diff) / sA).toBeCloseTo(sigma, 5);
    }
  });

  it('truncates a convolutional block through its Toeplitz matrix and reproduces it at full rank', () => {
    const H = 3, W = 3, C = 2;
    const nc = H * W * C;
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5);
    const block: OdeBlock = {
      kind: 'ode', n: nc, activation: 'tanh',
      A: { type: 'conv', kernel: { shape: [3, 3, C, C], data: Float32Array.from({ length: 9 * C * C }, rnd) }, height: H, width: W, channels: C },
      b: { shape: [nc], data: Float32Array.from({ length: nc }, rnd) },
    };
    const model: ModelIR = { ...f.model, pre: [], post: [], block };
    const r = new SvdReducer();
    r.fit({ model, seed: 0 });
    const x0 = [Float64Array.from({ length: nc }, rnd)];
    const opts = { t0: 0, t1: 1, dt: 0.1 };
    const ref = simulateBlock(block, x0, opts)[0]!;
    const red = simulateBlock(r.reduce({ k: nc }).model.block, x0, opts)[0]!;
    ref.forEach((v, i) => expect(Math.abs(v - red[i]!)).toBeLessThan(1e-5));
    expect(r.reduce({ k: 3 }).diagnostics.params).toBe(2 * 3 * nc);
  });

  it('rejects k outside 1..n, naming the value and n', () => {
    const r = new SvdReducer();
    r.fit(f.context);
    expect(() => r.reduce({ k: n + 1 })).toThrow(`k = ${n + 1} exceeds the ODE block's dimension n = ${n}`);
    expect(() => r.reduce({ k: 0 })).toThrow(/k = 0 must be at least 1/);
  });

  it('registers as the Reducer named svd', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.factory('Reducer', 'svd')({})).toBeInstanceOf(SvdReducer);
  });
});

import { describe, expect, it } from 'vitest';
import {
  Experiment,
  Matrix,
  blockCost,
  buildInterpolatedBlock,
  denseA,
  relativePodError,
  simulateBlock,
  type ModelIR,
  type OdeBlock,
  type ReducedBlock,
  type SnapshotSet,
  type Tensor32,
} from '@odemor/core';
import { expectOdemorError, randomOrthonormal, reducerFixture } from '@odemor/conformance';
import plugin, { GalerkinReducer } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;
const P = f.model.block.Z!.shape[1]!;

const dense = (map: ReducedBlock['E'] | ReducedBlock['N']): Tensor32 => {
  if (map.type !== 'dense') throw new Error(`a dense map expected, got ${map.type}`);
  return map.weight;
};

describe('GalerkinReducer', () => {
  it('builds E = V_kᵀ, M = A V_k, c = b, N = V_kᵀ, Zr = V_kᵀZ, D = V_k entrywise (float64 products, float32 storage)', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    const k = 5;
    const res = r.reduce({ k });
    const blk = res.model.block;
    expect(res.dims).toEqual({ k });
    expect([blk.k, blk.m]).toEqual([k, n]);
    const V = f.snapshots.stateBasis;
    const A = denseA(f.model.block);
    const Z = f.model.block.Z!.data;
    const E = dense(blk.E);
    const N = dense(blk.N);
    const D = dense(blk.D);
    if (blk.M.type !== 'dense') throw new Error('dense M expected');
    expect(E.shape).toEqual([k, n]);
    expect(N.shape).toEqual([k, n]);
    expect(D.shape).toEqual([n, k]);
    expect(blk.M.weight.shape).toEqual([n, k]);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        expect(E.data[j * n + i]).toBeCloseTo(V.get(i, j), 6);
        expect(N.data[j * n + i]).toBeCloseTo(V.get(i, j), 6);
        expect(D.data[i * k + j]).toBeCloseTo(V.get(i, j), 6);
        let av = 0;
        for (let l = 0; l < n; l++) av += A[i * n + l]! * V.get(l, j);
        expect(blk.M.weight.data[i * k + j]).toBeCloseTo(av, 5);
      }
    }
    expect(Array.from(blk.c.data)).toEqual(Array.from(f.model.block.b.data));
    for (let j = 0; j < k; j++) {
      for (let q = 0; q < P; q++) {
        let vz = 0;
        for (let l = 0; l < n; l++) vz += V.get(l, j) * Z[l * P + q]!;
        expect(blk.Zr!.data[j * P + q]).toBeCloseTo(vz, 5);
      }
    }
  });

  it('is POD-DEIM with every point: the interpolated block of U = I_n at all n points', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    const k = 4;
    const g = r.reduce({ k }).model.block;
    const I = Matrix.eye(n, n);
    const V = f.snapshots.stateBasis.subMatrix(0, n - 1, 0, k - 1);
    const deim = buildInterpolatedBlock({ block: f.model.block, V, U: I, points: Array.from({ length: n }, (_, i) => i), method: 'galerkin' });
    const close = (a: Tensor32, b: Tensor32) => {
      expect(a.shape).toEqual(b.shape);
      a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i]!, 5));
    };
    close(dense(g.E), dense(deim.E));
    close(dense(g.N), dense(deim.N));
    close(dense(g.D), dense(deim.D));
    close((g.M as { weight: Tensor32 }).weight, (deim.M as { weight: Tensor32 }).weight);
    close(g.c, deim.c);
    close(g.Zr!, deim.Zr!);
  });

  it('costs n·k + k·n + k·p weights with all n activations; diagnostics podError at k', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    for (const k of [1, 3, 7]) {
      const res = r.reduce({ k });
      const cost = blockCost(res.model.block);
      expect(cost).toMatchObject({ stateDim: k, activations: n, params: 2 * n * k + k * P, projectionParams: 2 * k * n });
      expect(res.diagnostics).toMatchObject({ stateDim: k, activations: n, params: cost.params, macsPerRhs: cost.macsPerRhs });
      expect(res.diagnostics.podError).toBe(relativePodError(f.snapshots.stateSingularValues, k));
      expect(res.diagnostics.points).toBeUndefined();
    }
  });

  it('projects a convolutional block through its Toeplitz matrix and reproduces it at k = n', () => {
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
    const V = randomOrthonormal(nc, nc, 3);
    const snapshots: SnapshotSet = {
      n: nc, stateBasis: V, stateSingularValues: Array.from({ length: nc }, (_, i) => nc - i),
      nonlinearBasis: V, nonlinearSingularValues: Array.from({ length: nc }, (_, i) => nc - i),
      snapshots: nc, samples: 1, final: { meanAbs: new Float64Array(nc), zeroFraction: new Float64Array(nc) },
    };
    const r = new GalerkinReducer();
    r.fit({ model, snapshots, seed: 0 });
    const x0 = [Float64Array.from({ length: nc }, rnd)];
    const opts = { t0: 0, t1: 1, dt: 0.1 };
    const ref = simulateBlock(block, x0, opts)[0]!;
    const red = simulateBlock(r.reduce({ k: nc }).model.block, x0, opts)[0]!;
    ref.forEach((v, i) => expect(Math.abs(v - red[i]!)).toBeLessThan(1e-5));
    const M = r.reduce({ k: 3 }).model.block.M;
    if (M.type !== 'dense') throw new Error('dense M expected');
    const A = denseA(block);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < 3; j++) {
        let av = 0;
        for (let l = 0; l < nc; l++) av += A[i * nc + l]! * V.get(l, j);
        expect(M.weight.data[i * 3 + j]).toBeCloseTo(av, 5);
      }
    }
  });

  it('refuses interpolation points (m ≠ k) and k beyond n or the state basis rank, naming the values', () => {
    const r = new GalerkinReducer();
    r.fit(f.context);
    expectOdemorError(expect, () => r.reduce({ k: 4, m: 6 }), 'ARGUMENT', /galerkin/, /m = 6/, /points/);
    expect(r.reduce({ k: 4, m: 4 }).dims).toEqual({ k: 4 });
    expectOdemorError(expect, () => r.reduce({ k: n + 1 }), 'ARGUMENT', `k = ${n + 1} exceeds the ODE block's dimension n = ${n}`);
    const narrow = new GalerkinReducer();
    narrow.fit({ ...f.context, snapshots: { ...f.snapshots, stateBasis: f.snapshots.stateBasis.subMatrix(0, n - 1, 0, 5) } });
    expectOdemorError(expect, () => narrow.reduce({ k: 7 }), 'ARGUMENT', /k = 7 exceeds the rank of the state basis \(6\)/);
  });

  it('registers as the Reducer named galerkin', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.factory('Reducer', 'galerkin')({})).toBeInstanceOf(GalerkinReducer);
  });
});

/**
 * The shared pieces of reducing an mlp block on its hidden layer (core/src/reduce/mlp.ts,
 * docs/algorithms.md#mlp-reduction): the one assembly of the reduced block, the checked block, the hidden
 * dimension check and the snapshot check for a nonlinear width m.
 */
import { describe, expect, it } from 'vitest';
import {
  Matrix,
  OdemorError,
  blockCost,
  buildMlpReducedBlock,
  checkHiddenDim,
  matrixSvd,
  requireMlpBlock,
  requireSnapshots,
  simulateBlock,
  type MlpBlock,
  type ModelIR,
  type SnapshotSet,
} from '../../src/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function mlp(n: number, m: number, p: number | undefined, r: () => number): MlpBlock {
  const t = (shape: number[], scale: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * r()) });
  return { kind: 'mlp', n, m, M: t([m, n], 2), c: t([m], 0.6), N: t([n, m], 1), bias: t([n], 0.3), ...(p ? { Zin: t([m, p], 1) } : {}), activation: 'tanh' };
}

function modelOf(block: MlpBlock): ModelIR {
  return {
    format: 'odemor-model',
    version: 1,
    name: 'mlp',
    input: { kind: 'state', size: block.n, ...(block.Zin ? { signal: { steps: 4, channels: block.Zin.shape[1]!, stepDuration: 0.25 } } : {}) },
    pre: [],
    block,
    post: [],
    solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 },
    readout: { kind: 'trajectory', times: [1] },
    outputs: block.n,
  };
}

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return { code: (e as OdemorError).code, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

describe('buildMlpReducedBlock', () => {
  const block = mlp(3, 7, 2, rng(1));
  const units = [5, 1, 3];

  it('keeps the rows of M, c, Zin and the columns of N of the given units, the bias, E = D = I_n and k = n', () => {
    const red = buildMlpReducedBlock({ block, method: 'test', units });
    expect(red).toMatchObject({ kind: 'reduced', method: 'test', n: 3, k: 3, m: 3, E: { type: 'identity', size: 3 }, D: { type: 'identity', size: 3 }, activation: 'tanh' });
    if (red.M.type !== 'dense' || red.N.type !== 'dense') throw new Error('dense M and N expected');
    units.forEach((u, i) => {
      for (let j = 0; j < 3; j++) expect(red.M.type === 'dense' && red.M.weight.data[i * 3 + j]).toBe(block.M.data[u * 3 + j]);
      expect(red.c.data[i]).toBe(block.c.data[u]);
      for (let j = 0; j < 2; j++) expect(red.Zin!.data[i * 2 + j]).toBe(block.Zin!.data[u * 2 + j]);
      for (let j = 0; j < 3; j++) expect(red.N.type === 'dense' && red.N.weight.data[j * 3 + i]).toBe(block.N.data[j * 7 + u]);
    });
    expect(red.N.weight.shape).toEqual([3, 3]);
    expect(red.Zin!.shape).toEqual([3, 2]);
    expect(Array.from(red.bias!.data)).toEqual(Array.from(block.bias.data));
    expect(red.bias!.data).not.toBe(block.bias.data);
    expect(red.Zr).toBeUndefined();
    // 3 units: M 3·3 + N 3·3 + Zin 3·2 weights, 3 activations, no projection cost
    expect(blockCost(red)).toMatchObject({ stateDim: 3, activations: 3, params: 24, macsPerRhs: 24, projectionParams: 0 });
  });

  it('with all units it is the mlp block itself: the same trajectories (with an input u)', () => {
    const red = buildMlpReducedBlock({ block, method: 'all' });
    const x0 = [Float64Array.of(0.3, -0.2, 0.5), Float64Array.of(-1, 0.4, 0.1)];
    const input = (t: number, s: number) => [Math.sin(3 * t + s), Math.cos(t)];
    const a = simulateBlock(block, x0, { t0: 0, t1: 1, dt: 0.1, input });
    const b = simulateBlock(red, x0, { t0: 0, t1: 1, dt: 0.1, input });
    a.forEach((x, s) => x.forEach((v, i) => expect(b[s]![i]).toBeCloseTo(v, 12)));
    expect(blockCost(red).params).toBe(blockCost(block).params);
  });

  it('takes a given output matrix [n, q] and a factored inner matrix', () => {
    const N = Float64Array.from({ length: 3 * 3 }, (_, i) => i / 10);
    const withN = buildMlpReducedBlock({ block, method: 'n', units, N });
    expect(withN.N.type === 'dense' && Array.from(withN.N.weight.data)).toEqual(Array.from(Float32Array.from(N)));
    const svd = matrixSvd(block.M.data, 7, 3);
    const left = new Float64Array(7 * 2);
    const right = new Float64Array(2 * 3);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 2; j++) left[i * 2 + j] = svd.left[i * 3 + j]!;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) right[j * 3 + i] = svd.singularValues[j]! * svd.right[i * 3 + j]!;
    const f = buildMlpReducedBlock({ block, method: 'svd', factored: { left, right, rank: 2 } });
    expect(f.M.type).toBe('factored');
    if (f.M.type === 'factored') {
      expect(f.M.left.shape).toEqual([7, 2]);
      expect(f.M.right.shape).toEqual([2, 3]);
    }
    expect(f.m).toBe(7);
    expect(blockCost(f).params).toBe(7 * 2 + 2 * 3 + 3 * 7 + 7 * 2);
  });

  it('refuses units out of range or repeated, and mis-sized matrices', () => {
    expect(codeOf(() => buildMlpReducedBlock({ block, method: 'x', units: [1, 7] })).message).toContain('unit 7 is outside 0..6');
    expect(codeOf(() => buildMlpReducedBlock({ block, method: 'x', units: [2, 2] })).message).toContain('listed twice');
    expect(codeOf(() => buildMlpReducedBlock({ block, method: 'x', units: [] })).code).toBe('ARGUMENT');
    expect(codeOf(() => buildMlpReducedBlock({ block, method: 'x', units, N: new Float64Array(4) })).code).toBe('SHAPE');
  });
});

describe('matrixSvd', () => {
  it('is a thin SVD of a rectangular matrix: W = Φ Σ Ψᵀ, σ descending', () => {
    const r = rng(4);
    const W = Float64Array.from({ length: 6 * 3 }, r);
    const { left, singularValues: s, right } = matrixSvd(W, 6, 3);
    expect(s).toHaveLength(3);
    expect(s[0]! >= s[1]! && s[1]! >= s[2]!).toBe(true);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 3; j++) {
        let acc = 0;
        for (let l = 0; l < 3; l++) acc += left[i * 3 + l]! * s[l]! * right[j * 3 + l]!;
        expect(acc).toBeCloseTo(W[i * 3 + j]!, 12);
      }
    }
  });
});

describe('requireMlpBlock, checkHiddenDim and requireSnapshots for an mlp block', () => {
  const block = mlp(3, 7, undefined, rng(2));

  it('requireMlpBlock checks the kind, the shapes and finite weights', () => {
    expect(requireMlpBlock(modelOf(block), 'r')).toBe(block);
    const bad = { ...block, N: { shape: [3, 7], data: Float32Array.from(block.N.data) } };
    bad.N.data[4] = NaN;
    expect(codeOf(() => requireMlpBlock(modelOf(bad), 'r'))).toMatchObject({ code: 'NUMERIC' });
    expect(codeOf(() => requireMlpBlock(modelOf({ ...block, c: { shape: [6], data: new Float32Array(6) } }), 'r')).code).toBe('SHAPE');
    const ode: ModelIR = { ...modelOf(block), block: { kind: 'ode', n: 3, A: { type: 'dense', weight: { shape: [3, 3], data: new Float32Array(9) } }, b: { shape: [3], data: new Float32Array(3) }, activation: 'tanh' } };
    expect(codeOf(() => requireMlpBlock(ode, 'r')).code).toBe('REDUCER');
  });

  it('checkHiddenDim names the value and the limit m', () => {
    expect(checkHiddenDim('r', 'k', 4, 7)).toBe(4);
    expect(codeOf(() => checkHiddenDim('r', 'k', 8, 7)).message).toMatch(/k = 8 exceeds the mlp block's m = 7 hidden units/);
    expect(codeOf(() => checkHiddenDim('r', 'k', 5, 7, 4, 'the rank')).message).toContain('k = 5 exceeds the rank (4)');
    expect(codeOf(() => checkHiddenDim('r', 'k', 0, 7)).code).toBe('ARGUMENT');
    expect(codeOf(() => checkHiddenDim('r', 'k', 1.5, 7)).message).toContain('1.5');
  });

  it('requireSnapshots(…, m) wants the hidden activations: nonlinearDim = m and an m-row nonlinear basis', () => {
    const good: SnapshotSet = {
      n: 3,
      nonlinearDim: 7,
      stateBasis: Matrix.eye(3, 3),
      stateSingularValues: [1, 1, 1],
      nonlinearBasis: Matrix.eye(7, 4),
      nonlinearSingularValues: [1, 1, 1, 1],
      snapshots: 10,
      samples: 2,
      final: { meanAbs: new Float64Array(3), zeroFraction: new Float64Array(3) },
    };
    const ctx = (snapshots: SnapshotSet) => ({ model: modelOf(block), snapshots, seed: 0 });
    expect(requireSnapshots(ctx(good), 'r', 3, 7)).toBe(good);
    const narrow = { ...good, nonlinearDim: undefined, nonlinearBasis: Matrix.eye(3, 3) } as unknown as SnapshotSet;
    const e = codeOf(() => requireSnapshots(ctx(narrow), 'r', 3, 7));
    expect(e.code).toBe('SHAPE');
    expect(e.message).toContain('nonlinearDim = 3 (absent: n)');
    expect(e.message).toContain('m = 7 hidden units');
    const rows = codeOf(() => requireSnapshots(ctx({ ...good, nonlinearBasis: Matrix.eye(6, 4) }), 'r', 3, 7));
    expect(rows.message).toContain('nonlinear basis has 6 rows, the mlp block has m = 7 hidden units');
    // an ODE block's checks read as before
    expect(codeOf(() => requireSnapshots(ctx(good), 'r', 3)).message).toContain('the snapshot nonlinear basis has 7 rows, the ODE block has n = 3');
  });
});

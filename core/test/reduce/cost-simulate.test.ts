import { describe, expect, it } from 'vitest';
import { blockCost, simulateBlock, simulateModel, type ModelIR, type OdeBlock, type ReducedBlock } from '../../src/index.js';

const t = (data: number[], shape: number[]) => ({ shape, data: Float32Array.from(data) });

describe('blockCost', () => {
  it('full blocks: dense n², conv kernel params and H·W·kh·kw·C² MACs, input matrix counted unless disabled', () => {
    const n = 4;
    const dense: OdeBlock = { kind: 'ode', n, A: { type: 'dense', weight: t(new Array(16).fill(1), [4, 4]) }, b: t([0, 0, 0, 0], [4]), activation: 'tanh' };
    expect(blockCost(dense)).toEqual({ stateDim: 4, activations: 4, params: 16, biasParams: 4, macsPerRhs: 16, projectionParams: 0, projectionMacs: 0 });
    const withZ: OdeBlock = { ...dense, Z: t(new Array(8).fill(1), [4, 2]) };
    expect(blockCost(withZ).params).toBe(24);
    expect(blockCost(withZ, { countInput: false }).params).toBe(16);
    const conv: OdeBlock = {
      kind: 'ode',
      n: 5 * 5 * 3,
      A: { type: 'conv', kernel: t(new Array(3 * 3 * 3 * 3).fill(0), [3, 3, 3, 3]), height: 5, width: 5, channels: 3 },
      b: t(new Array(75).fill(0), [75]),
      activation: 'relu',
    };
    expect(blockCost(conv)).toMatchObject({ stateDim: 75, activations: 75, params: 81, macsPerRhs: 25 * 81 });
  });

  it('reduced blocks: SVD factored 2kn with n activations; APoZ k²', () => {
    const n = 10;
    const k = 3;
    const svd: ReducedBlock = {
      kind: 'reduced', method: 'svd', n, k: n, m: n,
      E: { type: 'identity', size: n },
      M: { type: 'factored', left: t(new Array(n * k).fill(0), [n, k]), right: t(new Array(k * n).fill(0), [k, n]) },
      c: t(new Array(n).fill(0), [n]), N: { type: 'identity', size: n }, D: { type: 'identity', size: n }, activation: 'tanh',
    };
    expect(blockCost(svd)).toMatchObject({ stateDim: n, activations: n, params: 2 * k * n, projectionParams: 0 });
    const apoz: ReducedBlock = {
      kind: 'reduced', method: 'apoz', n, k, m: k,
      E: { type: 'select', indices: [0, 4, 7], from: n },
      M: { type: 'dense', weight: t(new Array(k * k).fill(0), [k, k]) },
      c: t([0, 0, 0], [k]), N: { type: 'identity', size: k }, D: { type: 'scatter', indices: [0, 4, 7], to: n }, activation: 'tanh',
    };
    expect(blockCost(apoz)).toMatchObject({ stateDim: k, activations: k, params: k * k, projectionParams: 0 });
  });
});

describe('simulateBlock (classical RK4, float64)', () => {
  const scalar = (a: number): OdeBlock => ({ kind: 'ode', n: 1, A: { type: 'dense', weight: t([a], [1, 1]) }, b: t([0], [1]), activation: 'identity' });

  it("y' = y, h = 0.1 at t = 1 gives the published RK4 value 2.718279744135166", () => {
    const [y] = simulateBlock(scalar(1), [[1]], { t0: 0, t1: 1, dt: 0.1 });
    expect(y![0]).toBeCloseTo(2.718279744135166, 13);
  });

  it('is fourth order: on y\' = −y the error falls by ≈ 16 when h halves', () => {
    const exact = Math.exp(-1);
    const e1 = Math.abs(simulateBlock(scalar(-1), [[1]], { t0: 0, t1: 1, dt: 0.1 })[0]![0]! - exact);
    const e2 = Math.abs(simulateBlock(scalar(-1), [[1]], { t0: 0, t1: 1, dt: 0.05 })[0]![0]! - exact);
    expect(Math.log2(e1 / e2)).toBeGreaterThan(3.8);
    expect(Math.log2(e1 / e2)).toBeLessThan(4.2);
  });

  it("is classical RK4, not the 3/8 rule: x' = u(t) reduces to composite Simpson's rule", () => {
    const block: OdeBlock = { ...scalar(0), Z: t([1], [1, 1]) };
    const h = 0.5;
    const [y] = simulateBlock(block, [[0]], { t0: 0, t1: 1, dt: h, input: (tt) => [Math.cos(3 * tt)] });
    let simpson = 0;
    let threeEighths = 0;
    for (let a = 0; a < 1 - 1e-12; a += h) {
      const f = (x: number) => Math.cos(3 * x);
      simpson += (h / 6) * (f(a) + 4 * f(a + h / 2) + f(a + h));
      threeEighths += (h / 8) * (f(a) + 3 * f(a + h / 3) + 3 * f(a + (2 * h) / 3) + f(a + h));
    }
    expect(y![0]).toBeCloseTo(simpson, 14);
    expect(Math.abs(y![0]! - threeEighths)).toBeGreaterThan(1e-6);
  });

  it('samples the input at the stage times: x\' = u(t) = 3t² integrates exactly to t³', () => {
    const block: OdeBlock = { ...scalar(0), Z: t([1], [1, 1]) };
    const [y] = simulateBlock(block, [[0]], { t0: 0, t1: 2, dt: 0.25, input: (tt) => [3 * tt * tt] });
    expect(y![0]).toBeCloseTo(8, 12);
  });

  it('a reduced block applies E at the start and D at the end', () => {
    // z = x[1] (select), z' = −z, x = scatter z into 3 entries
    const red: ReducedBlock = {
      kind: 'reduced', method: 'test', n: 3, k: 1, m: 1,
      E: { type: 'select', indices: [1], from: 3 },
      M: { type: 'dense', weight: t([-1], [1, 1]) }, c: t([0], [1]), N: { type: 'identity', size: 1 },
      D: { type: 'scatter', indices: [2], to: 3 }, activation: 'identity',
    };
    const [x] = simulateBlock(red, [[5, 2, 7]], { t0: 0, t1: 1, dt: 0.01 });
    expect(x![0]).toBe(0);
    expect(x![1]).toBe(0);
    expect(x![2]).toBeCloseTo(2 * Math.exp(-1), 8);
  });

  it('simulateModel runs pre → block → post', () => {
    const model: ModelIR = {
      format: 'odemor-model', version: 1, input: { kind: 'tensor', shape: [1] },
      pre: [{ type: 'dense', weight: t([2], [1, 1]), bias: t([1], [1]) }],
      block: scalar(0),
      post: [{ type: 'dense', weight: t([1, -1], [2, 1]) }, { type: 'relu' }],
      solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 }, outputs: 2,
    };
    const [y] = simulateModel(model, [[3]]);
    expect(Array.from(y!)).toEqual([7, 0]);
  });
});

describe('simulateBlock step sizes', () => {
  it('takes steps of dt and shortens the last one to land on t1 (x\' = u(t) = 1 for t < 0.25, else 0 is exact only then)', () => {
    // with dt = 0.3 on [0, 1]: steps at 0, 0.3, 0.6, 0.9 (last h = 0.1); x' = 2t integrates exactly by Simpson
    const block = { kind: 'ode' as const, n: 1, A: { type: 'dense' as const, weight: { shape: [1, 1], data: new Float32Array([0]) } }, b: { shape: [1], data: new Float32Array(1) }, Z: { shape: [1, 1], data: new Float32Array([1]) }, activation: 'identity' as const };
    const seen: number[] = [];
    const [y] = simulateBlock(block, [[0]], { t0: 0, t1: 1, dt: 0.3, input: (t) => (seen.push(t), [2 * t]) });
    expect(y![0]).toBeCloseTo(1, 12);
    expect(seen.filter((t, i) => i % 4 === 0).map((t) => +t.toFixed(12))).toEqual([0, 0.3, 0.6, 0.9]);
    expect(+seen[seen.length - 1]!.toFixed(12)).toBe(1);
  });
});

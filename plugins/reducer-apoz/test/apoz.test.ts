import { describe, expect, it } from 'vitest';
import { Experiment, denseA, simulateModel, type Layer, type ModelIR, type SnapshotSet } from '@odemor/core';
import { reducerFixture } from '@odemor/conformance';
import plugin, { ApozReducer, topKNeurons } from '../src/index.js';

const f = reducerFixture('generic');
const n = f.model.block.n;

function withScores(meanAbs: number[], zeroFraction = new Array(n).fill(0)): SnapshotSet {
  return { ...f.snapshots, final: { meanAbs: Float64Array.from(meanAbs), zeroFraction: Float64Array.from(zeroFraction) } };
}

describe('topKNeurons', () => {
  it('keeps the k highest scores, sorted by index, ties to the lower index', () => {
    let s = 3;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 20; trial++) {
      const scores = Array.from({ length: 15 }, () => Math.round(rnd() * 6)); // many ties
      const k = 1 + (trial % 14);
      const S = topKNeurons(scores, k);
      expect(S.length).toBe(k);
      expect([...S].sort((a, b) => a - b)).toEqual(S);
      const dropped = scores.map((_, i) => i).filter((i) => !S.includes(i));
      for (const i of S) for (const j of dropped) {
        expect(scores[i]!).toBeGreaterThanOrEqual(scores[j]!);
        if (scores[i] === scores[j]) expect(i).toBeLessThan(j);
      }
    }
  });
});

describe('ApozReducer', () => {
  it('keeps the top-k mean |x(t_end)| neurons: M = A[S,S], c = b[S], Zr = Z[S,:]', () => {
    const scores = Array.from({ length: n }, (_, i) => ((i * 7) % n) / n);
    const r = new ApozReducer({ adjustNeighbours: false });
    r.fit({ ...f.context, snapshots: withScores(scores) });
    const k = 5;
    const res = r.reduce({ k });
    const S = res.diagnostics.points!;
    const expected = scores.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i).sort((a, b) => a - b);
    expect(S).toEqual(expected);
    const blk = res.model.block;
    expect(blk.E).toEqual({ type: 'select', indices: S, from: n });
    expect(blk.D).toEqual({ type: 'scatter', indices: S, to: n });
    const A = denseA(f.model.block);
    const M = (blk.M as { weight: { data: Float32Array } }).weight.data;
    S.forEach((i, a) => {
      S.forEach((j, b) => expect(M[a * k + b]).toBeCloseTo(A[i * n + j]!, 6));
      expect(blk.c.data[a]).toBe(f.model.block.b.data[i]);
      expect(blk.Zr!.data[a * 2]).toBe(f.model.block.Z!.data[i * 2]);
    });
    expect(res.diagnostics).toMatchObject({ stateDim: k, activations: k, params: k * k + 2 * k });
  });

  it("score 'zero-fraction' keeps the neurons that are least often zero", () => {
    const zeroFraction = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 0.1 : 0.9));
    const r = new ApozReducer({ score: 'zero-fraction' });
    r.fit({ ...f.context, snapshots: withScores(new Array(n).fill(1), zeroFraction) });
    expect(r.reduce({ k: 6 }).diagnostics.points).toEqual([0, 4, 8, 12, 16, 20]);
    expect(() => new ApozReducer({ score: 'bogus' as never })).toThrow(/score/);
  });

  it('folding into the neighbouring dense layers gives the same outputs as select/scatter with the full layers', () => {
    const folded = new ApozReducer();
    const plain = new ApozReducer({ adjustNeighbours: false });
    folded.fit(f.context);
    plain.fit(f.context);
    for (const k of [3, 10]) {
      const a = folded.reduce({ k });
      const b = plain.reduce({ k });
      expect(a.model.block.E).toEqual({ type: 'identity', size: k });
      expect(a.model.block.D).toEqual({ type: 'identity', size: k });
      const pre = a.model.pre[0] as Extract<Layer, { type: 'dense' }>;
      const post = a.model.post[0] as Extract<Layer, { type: 'dense' }>;
      expect(pre.weight.shape).toEqual([k, 3]);
      expect(pre.bias!.shape).toEqual([k]);
      expect(post.weight.shape).toEqual([3, k]);
      expect(b.model.pre).toEqual(f.model.pre);
      expect(b.model.post).toEqual(f.model.post);
      const ya = simulateModel(a.model, f.testInputs, { input: f.input });
      const yb = simulateModel(b.model, f.testInputs, { input: f.input });
      ya.forEach((y, s) => y.forEach((v, i) => expect(v).toBeCloseTo(yb[s]![i]!, 6)));
    }
  });

  it('keeps D = scatter when the following operation is nonlinear, and E = select without a dense layer before', () => {
    const model: ModelIR = { ...f.model, pre: [...f.model.pre, { type: 'tanh' }], post: [{ type: 'relu' }, ...f.model.post] };
    const r = new ApozReducer();
    r.fit({ ...f.context, model });
    const res = r.reduce({ k: 4 });
    expect(res.model.block.E.type).toBe('select');
    expect(res.model.block.D.type).toBe('scatter');
    expect(res.model.pre).toEqual(model.pre);
    expect(res.model.post).toEqual(model.post);
  });

  it('asks for no more neurons than the block has', () => {
    const r = new ApozReducer();
    r.fit(f.context);
    expect(() => r.reduce({ k: n + 5 })).toThrow(`k (neurons kept) = ${n + 5} exceeds the ODE block's dimension n = ${n}`);
  });

  it('registers as the Reducer named apoz', async () => {
    const exp = new Experiment();
    await exp.use(plugin);
    expect(exp.factory('Reducer', 'apoz')({ score: 'magnitude' })).toBeInstanceOf(ApozReducer);
  });
});

/**
 * The vector–Jacobian rules one by one, on small hand-built graphs (including ops and attributes the compiler
 * does not emit today: Gemm with transposes, alpha and beta, strided Conv, overlapping strided MaxPool with
 * padding, batched MatMul, Concat, Slice, repeated Gather indices): the engine's gradient of L = Σ y ⊙ R
 * against central differences of L through onnxruntime (float32, h = 1e-2, smooth or well-separated inputs).
 */
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { mulberry32 } from '@odemor/core';
import { backward, ShapeTable } from '../src/index.js';
import { GraphBuilder } from '../src/graph.js';

interface In {
  name: string;
  dims: number[];
  data: Float32Array;
}

const rand = (seed: number, size: number, scale = 1): Float32Array => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: size }, () => (2 * r() - 1) * scale);
};
/** distinct values 0.1 apart, shuffled (no max-pool window switches under a 1e-2 step) */
const spaced = (seed: number, size: number): Float32Array => {
  const r = mulberry32(seed);
  const v = Array.from({ length: size }, (_, i) => (i - size / 2) * 0.1);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return Float32Array.from(v);
};

async function check(inputs: In[], build: (g: GraphBuilder) => string): Promise<void> {
  const g = new GraphBuilder();
  const y = build(g);
  const shapes = new ShapeTable(g, new Map(inputs.map((i) => [i.name, i.dims])));
  const yDims = [...shapes.shape(y)];
  const R = rand(99, yDims.reduce((a, b) => a * b, 1));
  const seed = g.float('R', R, yDims);
  const grads = backward(g, { inputShapes: new Map(inputs.map((i) => [i.name, i.dims])), seeds: new Map([[y, seed]]), wrt: inputs.map((i) => i.name) });
  g.node('Identity', [y], {}, 'y');
  inputs.forEach((inp, k) => g.node('Identity', [grads.get(inp.name)!], {}, `g${k}`));
  const bytes = g.encode({
    inputs: inputs.map((i) => ({ name: i.name, dims: i.dims })),
    outputs: [{ name: 'y', dims: yDims }, ...inputs.map((i, k) => ({ name: `g${k}`, dims: i.dims }))],
    opset: 17,
    name: 'rules',
  });
  const session = await InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feeds = (over?: { k: number; i: number; v: number }): Record<string, Tensor> => {
    const f: Record<string, Tensor> = {};
    inputs.forEach((inp, k) => {
      const d = Float32Array.from(inp.data);
      if (over && over.k === k) d[over.i] = over.v;
      f[inp.name] = new Tensor('float32', d, inp.dims);
    });
    return f;
  };
  const loss = async (over: { k: number; i: number; v: number }): Promise<number> => {
    const out = (await session.run(feeds(over))).y!.data as Float32Array;
    return out.reduce((s, v, i) => s + v * R[i]!, 0);
  };
  const res = await session.run(feeds());
  for (let k = 0; k < inputs.length; k++) {
    const gk = res[`g${k}`]!.data as Float32Array;
    const scale = Math.max(...gk.map(Math.abs), 1e-3);
    const data = inputs[k]!.data;
    for (let i = 0; i < data.length; i += Math.max(1, Math.floor(data.length / 7))) {
      const h = 1e-2;
      const fd = ((await loss({ k, i, v: data[i]! + h })) - (await loss({ k, i, v: data[i]! - h }))) / (2 * h);
      expect(Math.abs(gk[i]! - fd), `${inputs[k]!.name}[${i}]: ${gk[i]} vs ${fd}`).toBeLessThanOrEqual(2e-3 * scale);
    }
  }
  await session.release();
}

describe('vector–Jacobian rules against finite differences', () => {
  for (const [tA, tB] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const) {
    it(`Gemm transA = ${tA}, transB = ${tB}, alpha 0.5, beta 2.5, C broadcast`, async () => {
      await check(
        [
          { name: 'a', dims: tA ? [4, 3] : [3, 4], data: rand(1, 12) },
          { name: 'b', dims: tB ? [5, 4] : [4, 5], data: rand(2, 20) },
          { name: 'c', dims: [5], data: rand(3, 5) },
        ],
        (g) => g.node('Gemm', ['a', 'b', 'c'], { transA: tA, transB: tB, alpha: 0.5, beta: 2.5 }),
      );
    });
  }

  it('batched MatMul, Sub, Sigmoid, Softplus, Tanh, Mul with broadcasting', async () => {
    await check(
      [
        { name: 'a', dims: [2, 3, 4], data: rand(4, 24) },
        { name: 'w', dims: [4, 3], data: rand(5, 12) },
        { name: 'v', dims: [3], data: rand(6, 3) },
      ],
      (g) => {
        const m = g.node('MatMul', ['a', 'w']);
        const s = g.node('Sigmoid', [g.node('Sub', [m, 'v'])]);
        return g.node('Mul', [g.node('Softplus', [s]), g.node('Tanh', [g.node('Mul', [m, 'v'])])]);
      },
    );
  });

  it('Reshape, Transpose, Concat, Slice, Pad, Gather with repeated and distinct indices', async () => {
    await check(
      [
        { name: 'a', dims: [2, 6], data: rand(7, 12) },
        { name: 'b', dims: [2, 3], data: rand(8, 6) },
      ],
      (g) => {
        const c = g.node('Concat', ['a', 'b'], { axis: 1 }); // [2, 9]
        const t = g.node('Transpose', [g.node('Reshape', [c, g.int64([2, 3, 3])])], { perm: [0, 2, 1] });
        const s = g.node('Slice', [g.node('Reshape', [t, g.int64([2, 9])]), g.int64([1]), g.int64([8]), g.int64([1])]); // [2, 7]
        const p = g.node('Pad', [s, g.int64([0, 2, 0, 1])], { mode: 'constant' }); // [2, 10]
        const rep = g.node('Gather', [p, g.int64([0, 3, 3, 9, 5])], { axis: 1 });
        const dist = g.node('Gather', [p, g.int64([4, 1, 6])], { axis: 1 });
        return g.node('Concat', [rep, dist], { axis: 1 });
      },
    );
  });

  it('Gather with a scalar index (the sequence input u(t) = x[:, j])', async () => {
    await check([{ name: 'x', dims: [2, 4, 3], data: rand(13, 24) }], (g) => g.node('Tanh', [g.node('Gather', ['x', g.int64([2], [])], { axis: 1 })]));
  });

  for (const [stride, pads] of [
    [1, [1, 1, 1, 1]],
    [2, [1, 0, 1, 1]],
    [2, [0, 0, 0, 0]],
  ] as const) {
    it(`Conv 3×3 stride ${stride} pads [${pads.join(', ')}] with bias`, async () => {
      await check(
        [
          { name: 'x', dims: [2, 2, 7, 6], data: rand(9, 168) },
          { name: 'w', dims: [3, 2, 3, 3], data: rand(10, 54) },
          { name: 'b', dims: [3], data: rand(11, 3) },
        ],
        (g) => g.node('Conv', ['x', 'w', 'b'], { kernel_shape: [3, 3], strides: [stride, stride], pads: [...pads] }),
      );
    });
  }

  for (const [k, s, pads] of [
    [2, 2, [0, 0, 0, 0]],
    [3, 3, [0, 0, 1, 1]],
    [3, 3, [0, 0, 0, 0]],
    [2, 1, [0, 0, 0, 0]],
    [3, 2, [1, 1, 1, 1]],
  ] as const) {
    it(`MaxPool ${k}×${k} stride ${s} pads [${pads.join(', ')}]`, async () => {
      await check([{ name: 'x', dims: [2, 2, 7, 8], data: spaced(12, 224) }], (g) =>
        g.node('MaxPool', ['x'], { kernel_shape: [k, k], strides: [s, s], pads: [...pads] }),
      );
    });
  }
});

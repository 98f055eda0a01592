/**
 * The compiled gradients against central finite differences of the float64 reference forward pass
 * (`referenceForward`), determinism, and bad input.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel, listTensors, OdemorError, type ButcherTableau, type ModelIR } from '@odemor/core';
import { REFERENCE_TABLEAUX, inputSize, referenceForward, runtimeModels, uniformInput } from '@odemor/conformance';
import { compileGradientProgram, lossAndGradients } from '../src/index.js';
import { convMnistLike } from './grad-models.js';

const rk4 = REFERENCE_TABLEAUX.rk4;

/** Mean softmax cross-entropy of float64 logits [batch, classes] (log-sum-exp shifted by the row max). */
function crossEntropy(logits: Float64Array, y: Int32Array, classes: number): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    sum += lse - row[y[i]!]!;
  }
  return sum / y.length;
}

/**
 * Central difference of the float64 reference loss in entry `i` of the tensor at `path`. The IR holds float32,
 * so the step is the float32-rounded w ± h and the quotient divides by the step actually taken.
 */
function finiteDifference(model: ModelIR, path: string, i: number, x: Float32Array, y: Int32Array, tableau: ButcherTableau, h = 1e-3): number {
  const copy = cloneModel(model);
  const t = listTensors(copy).find((e) => e.path === path)!.tensor;
  const w = t.data[i]!;
  const loss = (v: number): number => {
    t.data[i] = v;
    return crossEntropy(referenceForward(copy, x, y.length, tableau).logits, y, model.outputs);
  };
  const up = Math.fround(w + h);
  const down = Math.fround(w - h);
  return (loss(up) - loss(down)) / (up - down);
}

/** Tiny models and the tensors checked in each (entries 0, the middle and the last). */
const CASES: { name: string; model: () => ModelIR; tableau: ButcherTableau; paths: string[] }[] = [
  { name: 'dense', model: () => runtimeModels.denseNode(), tableau: rk4, paths: ['pre.0.weight', 'block.A.weight', 'block.b', 'post.0.bias'] },
  // conv-node's pre layers hold a ReLU and a max-pool: their kinks are avoided by checking the block and after
  { name: 'conv', model: () => runtimeModels.convNode(), tableau: rk4, paths: ['block.A.kernel', 'block.b', 'post.1.weight'] },
  { name: 'conv-same (stride 2, euler)', model: () => runtimeModels.convSame(), tableau: REFERENCE_TABLEAUX.euler, paths: ['pre.0.kernel', 'block.A.kernel'] },
  { name: 'conv MNIST layout in small', model: convMnistLike, tableau: rk4, paths: ['block.A.kernel', 'post.3.weight'] },
  { name: 'antisymmetric with u(t)', model: () => runtimeModels.antisymmetricSeq(), tableau: rk4, paths: ['block.A.weight', 'block.Z', 'block.b'] },
  { name: 'svd (factored M)', model: () => runtimeModels.svdReduced(), tableau: rk4, paths: ['block.M.left', 'block.M.right', 'block.c'] },
  { name: 'deim with Zr', model: () => runtimeModels.seqReduced(), tableau: rk4, paths: ['block.M.weight', 'block.N.weight', 'block.Zr', 'block.D.weight'] },
];

describe('gradients against central finite differences of the float64 reference', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const model = c.model();
      const batch = 2;
      const x = uniformInput(23, batch * inputSize(model));
      const y = Int32Array.from({ length: batch }, (_, i) => (i + 1) % model.outputs);
      const res = await lossAndGradients(model, x, y, { tableau: c.tableau, threads: 1 });
      expect(res.loss).toBeCloseTo(crossEntropy(referenceForward(model, x, batch, c.tableau).logits, y, model.outputs), 5);
      for (const path of c.paths) {
        const g = res.grads.get(path)!;
        const scale = Math.max(...g.map(Math.abs));
        for (const i of [0, g.length >> 1, g.length - 1]) {
          const fd = finiteDifference(model, path, i, x, y, c.tableau);
          // the compiled gradient is float32 (measured: ≤ 6e-7 of the largest entry); the difference is ~1e-8 exact
          expect(Math.abs(g[i]! - fd), `${path}[${i}]: ${g[i]} vs ${fd}`).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-3));
        }
      }
    });
  }
});

describe('gradient programs', () => {
  it('are deterministic: the same bits run after run and program after program, at given parameters', async () => {
    const model = runtimeModels.convNode();
    const x = uniformInput(3, 4 * inputSize(model));
    const y = Int32Array.of(0, 1, 2, 1);
    const a = await compileGradientProgram(model, { tableau: rk4, trainable: () => true, threads: 2 });
    const b = await compileGradientProgram(model, { tableau: rk4, trainable: () => true, threads: 2 });
    try {
      const params = new Map([['block.A.kernel', uniformInput(9, 3 * 3 * 2 * 2)]]);
      const r1 = await a.run(params, x, y, 4);
      const r2 = await a.run(params, x, y, 4);
      const r3 = await b.run(params, x, y, 4);
      const r0 = await a.run(new Map(), x, y, 4);
      expect(r0.loss).not.toBe(r1.loss);
      for (const r of [r2, r3]) {
        expect(r.loss).toBe(r1.loss);
        expect(r.correct).toBe(r1.correct);
        for (const [path, g] of r1.grads) expect(Buffer.from(r.grads.get(path)!.buffer).equals(Buffer.from(g.buffer)), path).toBe(true);
      }
      expect(a.paths).toEqual(listTensors(model).map((t) => t.path));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('count correct top-1 predictions', async () => {
    const model = runtimeModels.denseNode();
    const x = uniformInput(3, 5 * 4);
    const logits = referenceForward(model, x, 5, rk4).logits;
    const pred = Int32Array.from({ length: 5 }, (_, i) => {
      const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
      return row.indexOf(Math.max(...row));
    });
    const wrong = pred.map((p) => (p + 1) % 3);
    expect((await lossAndGradients(model, x, pred, { tableau: rk4, threads: 1 })).correct).toBe(5);
    expect((await lossAndGradients(model, x, wrong, { tableau: rk4, threads: 1 })).correct).toBe(0);
  });

  it('refuse bad input with OdemorErrors naming what is wrong', async () => {
    const model = runtimeModels.denseNode();
    const program = await compileGradientProgram(model, { tableau: rk4, trainable: (p) => p.startsWith('post.'), threads: 1 });
    const x = uniformInput(1, 2 * 4);
    const y = Int32Array.of(0, 2);
    const fails = async (p: Promise<unknown>, code: string, text: RegExp) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(OdemorError.is(err), String(err)).toBe(true);
      expect((err as OdemorError).code).toBe(code);
      expect((err as Error).message).toMatch(text);
    };
    await fails(program.run(new Map(), x.subarray(1), y, 2), 'SHAPE', /input x has 7 values but batch 2 × \[4\] needs 8/);
    await fails(program.run(new Map([['block.A.weight', new Float32Array(64)]]), x, y, 2), 'ARGUMENT', /'block\.A\.weight' is not a trainable tensor.*post\.0\.weight/);
    await fails(program.run(new Map([['post.0.bias', new Float32Array(2)]]), x, y, 2), 'SHAPE', /'post\.0\.bias' has 2 values; the tensor has 3/);
    await fails(program.run(new Map(), x, Int32Array.of(0, 3), 2), 'ARGUMENT', /label y\[1\] = 3 is outside \[0, 3\)/);
    await fails(program.run(new Map(), x, Int32Array.of(0), 2), 'SHAPE', /Int32Array of 2 labels/);
    await fails(program.run(new Map(), x, new Float32Array(2), 2), 'SHAPE', /Int32Array of 2 labels/);
    await program.dispose();
    await fails(program.run(new Map(), x, y, 2), 'RUNTIME', /disposed/);
    await fails(lossAndGradients(model, x, new Float32Array(5), { tableau: rk4, loss: 'mse' }), 'SHAPE', /no whole positive batch of 3 outputs/);
    await fails(lossAndGradients(model, x, y, { tableau: rk4, loss: 'hinge' as 'mse' }), 'ARGUMENT', /loss must be one of softmax-cross-entropy, mse, l1; got 'hinge'/);
    await fails(lossAndGradients(model, x, y, { tableau: { a: [[0, 1], [0, 0]], b: [0.5, 0.5], c: [0, 1], order: 2 } }), 'ARGUMENT', /implicit/);
  });
});

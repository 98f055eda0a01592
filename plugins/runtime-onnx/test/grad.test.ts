/**
 * Gradient parity of the compiled gradient graphs against tfjs autodiff on the same weights (docs/algorithms.md,
 * "Gradients of the compiled graphs": relative error ≤ 1e-4 in float32), for every block kind and reduced form
 * of the conformance kit's models, with and without u(t), through the unrolled RK4 and Euler steps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ExplicitRungeKuttaSolver, listTensors, paramSelector, type ButcherTableau, type ModelIR } from '@odemor/core';
import { REFERENCE_TABLEAUX, inputSize, runtimeModelCases, runtimeModels, uniformInput } from '@odemor/conformance';
import { convMnistLike } from './grad-models.js';
import { createParams, disposeParams, forward, initTfjs, inputTensor } from '@odemor/runtime-tfjs';
import { compileModel, fromGraphLayout, lossAndGradients, lower, toGraphLayout, type LossKind, type WeightLayout } from '../src/index.js';

beforeAll(async () => {
  await initTfjs('cpu');
});

interface Reference {
  loss: number;
  grads: Map<string, Float32Array>;
}

/** Loss and gradients by tfjs autodiff through the model's forward pass (the tfjs runtime's reference). */
function tfjsGradients(model: ModelIR, x: Float32Array, y: Int32Array | Float32Array, batch: number, tableau: ButcherTableau, loss: LossKind, trainable: (p: string) => boolean): Reference {
  const solver = new ExplicitRungeKuttaSolver('reference', tableau, false);
  const params = createParams(model, trainable);
  try {
    const vars = [...params].filter(([p]) => trainable(p));
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(model, params, inputTensor(model, x, batch), solver);
      return loss === 'mse'
        ? tf.losses.meanSquaredError(tf.tensor2d(y as Float32Array, [batch, model.outputs]), logits)
        : tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y as Int32Array, 'int32'), model.outputs), logits);
    }, vars.map(([, v]) => v as tf.Variable)) as { value: tf.Scalar; grads: Record<string, tf.Tensor> };
    const out = new Map<string, Float32Array>();
    // a tensor the forward pass never reads (E of a sequence model: z(0) = 0) has no tfjs gradient: zero
    for (const [path, v] of vars) out.set(path, grads[(v as tf.Variable).name] ? (grads[(v as tf.Variable).name]!.dataSync() as Float32Array) : new Float32Array(v.size));
    const l = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    return { loss: l, grads: out };
  } finally {
    disposeParams(params);
  }
}

/** max |a − b| / max |b| (0 when both vanish). */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

const labels = (batch: number, classes: number): Int32Array => Int32Array.from({ length: batch }, (_, i) => (i * 7 + 1) % classes);

async function checkParity(model: ModelIR, tableau: ButcherTableau, loss: LossKind = 'softmax-cross-entropy', trainable: (p: string) => boolean = () => true): Promise<void> {
  const batch = 3;
  const x = uniformInput(17, batch * inputSize(model));
  const y = loss === 'mse' ? uniformInput(5, batch * model.outputs) : labels(batch, model.outputs);
  const onnx = await lossAndGradients(model, x, y, { tableau, loss, trainable, threads: 1 });
  const ref = tfjsGradients(model, x, y, batch, tableau, loss, trainable);
  expect(Math.abs(onnx.loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss)));
  const paths = listTensors(model).map((t) => t.path).filter(trainable);
  expect([...onnx.grads.keys()]).toEqual(paths);
  for (const path of paths) {
    const e = relErr(onnx.grads.get(path)!, ref.grads.get(path)!);
    expect(e, `${model.name ?? 'model'} ${path}: relative error ${e}`).toBeLessThanOrEqual(1e-4);
  }
}

/**
 * The cases this parity check feeds: all but those with an input signal u (this check passes x only;
 * trajectory.test.ts checks their gradients against central finite differences of the float64 reference).
 * Trajectory readouts get the MSE loss.
 */
const tfjsRuns = (m: ModelIR): boolean => !(m.input.kind === 'state' && m.input.signal);

describe('gradient parity with tfjs autodiff (relative error ≤ 1e-4)', () => {
  for (const c of runtimeModelCases().filter((c) => tfjsRuns(c.model()))) {
    it(`${c.name}, rk4`, async () => {
      const model = c.model();
      await checkParity(model, REFERENCE_TABLEAUX.rk4, model.readout ? 'mse' : 'softmax-cross-entropy');
    });
  }
  for (const name of ['dense', 'conv', 'antisym-seq', 'svd', 'apoz'] as const) {
    it(`${name}, euler`, async () => {
      await checkParity(runtimeModelCases().find((c) => c.name === name)!.model(), REFERENCE_TABLEAUX.euler);
    });
  }
  it('the conv MNIST layout in small (max-pools 3/3 valid with uncovered rows and 3/3 same), rk4', async () => {
    await checkParity(convMnistLike(), REFERENCE_TABLEAUX.rk4);
  });
  it('mse loss (dense and conv)', async () => {
    await checkParity(runtimeModels.denseNode(), REFERENCE_TABLEAUX.rk4, 'mse');
    await checkParity(runtimeModels.convSame(), REFERENCE_TABLEAUX.rk4, 'mse');
  });
  it("a path selection trains only those paths (the reduced block's M, c, N and the layers after it)", async () => {
    const model = runtimeModels.deimReduced();
    const trainable = paramSelector(model, ['block.M.weight', 'block.c', 'block.N.weight', 'post.']);
    await checkParity(model, REFERENCE_TABLEAUX.rk4, 'softmax-cross-entropy', trainable);
    const res = await lossAndGradients(model, uniformInput(1, 2 * 4), Int32Array.of(0, 1), { tableau: REFERENCE_TABLEAUX.rk4, trainable, threads: 1 });
    expect([...res.grads.keys()]).toEqual(['block.M.weight', 'block.c', 'block.N.weight', 'post.0.weight', 'post.0.bias']);
  });
});

describe('lowering', () => {
  it('without trainable tensors, the lowered graph is the inference graph, byte for byte', () => {
    for (const c of runtimeModelCases()) {
      const model = c.model();
      const tableau = REFERENCE_TABLEAUX.rk4;
      const lowered = lower(model, { tableau });
      expect(lowered.params.size).toBe(0);
      const bytes = lowered.encode([{ name: 'logits', dims: ['batch', model.outputs] }]);
      expect(Buffer.from(bytes).equals(Buffer.from(compileModel(model, { tableau }))), c.name).toBe(true);
    }
  });

  it('maps every trainable tensor to a graph input with its layout, in listTensors order', () => {
    const model = runtimeModels.convNode();
    const lowered = lower(model, { tableau: REFERENCE_TABLEAUX.rk4, trainable: () => true });
    const paths = listTensors(model).map((t) => t.path);
    expect([...lowered.params.keys()]).toEqual(paths);
    expect(lowered.params.get('pre.0.kernel')).toMatchObject({ layout: { kind: 'oihw' }, dims: [2, 1, 3, 3], shape: [3, 3, 1, 2] });
    expect(lowered.params.get('block.b')).toMatchObject({ layout: { kind: 'channels-first' }, dims: [2, 3, 3] });
    expect(lowered.params.get('post.1.weight')).toMatchObject({ layout: { kind: 'transpose' }, dims: [18, 3] });
  });

  it("each layout's gradient map is the adjoint of its JS layout map", () => {
    const layouts: [WeightLayout, number][] = [
      [{ kind: 'identity' }, 5],
      [{ kind: 'transpose', rows: 3, cols: 4 }, 12],
      [{ kind: 'oihw', kh: 3, kw: 2, ci: 2, co: 3 }, 36],
      [{ kind: 'channels-first', rows: 2, h: 2, w: 3, c: 2 }, 24],
      [{ kind: 'transpose-channels-first', rows: 2, h: 2, w: 3, c: 2 }, 24],
      [{ kind: 'antisymmetric', n: 4, gamma: 0 }, 16],
    ];
    for (const [layout, size] of layouts) {
      const a = uniformInput(3, size);
      const b = uniformInput(4, size);
      // ⟨L a, b⟩ = ⟨a, L* b⟩ for the linear part (γ = 0)
      const La = toGraphLayout(layout, a);
      const Lb = fromGraphLayout(layout, b);
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < size; i++) {
        lhs += La[i]! * b[i]!;
        rhs += a[i]! * Lb[i]!;
      }
      expect(Math.abs(lhs - rhs), layout.kind).toBeLessThan(1e-5);
    }
  });
});

/**
 * Test-only fixtures of the onnx trainer's tests: a GradientProgram built on tfjs autodiff (the same forward
 * pass and loss as the tfjs trainer, so the two trainers see identical gradients), a tiny in-memory
 * dataset and a tiny dense model.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ExplicitRungeKuttaSolver,
  createRng,
  denseNode,
  listTensors,
  type Batch,
  type BatchOptions,
  type Dataset,
  type ModelIR,
  type Solver,
} from '@odemor/core';
import { createParams, disposeParams, ensureGradients, forward, initTfjs, inputTensor } from '@odemor/runtime-tfjs';
import type { CompileGradientProgram, GradientProgram } from '../src/grad/types.js';

/** explicit Euler, the cheapest differentiable solver */
export const euler: Solver = new ExplicitRungeKuttaSolver('euler-test', { a: [[0]], b: [1], c: [0], order: 1 }, false);

/** In-memory dataset; shuffles with its own seeded RNG (as the real datasets do, by the batch seed). */
export function memoryDataset(x: Float32Array, y: Int32Array, inputShape: number[], numClasses: number): Dataset {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const size = y.length;
  return {
    name: 'memory',
    info: { inputShape, kind: 'vector', numClasses, trainSize: size, testSize: size },
    async *batches(_split, batchSize, o: BatchOptions = {}): AsyncIterable<Batch> {
      const count = Math.min(o.limit ?? size, size);
      const order = Array.from({ length: count }, (_, i) => i);
      if (o.shuffle) createRng(o.seed ?? 0).shuffle(order);
      for (let s = 0; s < count; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const bx = new Float32Array(idx.length * per);
        idx.forEach((j, r) => bx.set(x.subarray(j * per, (j + 1) * per), r * per));
        yield { x: bx, y: Int32Array.from(idx.map((j) => y[j]!)), size: idx.length };
      }
    },
  };
}

/** two Gaussian blobs in 2-D */
export function blobs(count: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(count * 2);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 2;
    y[i] = c;
    x[2 * i] = (c ? 1.5 : -1.5) + 0.4 * rng.normal();
    x[2 * i + 1] = (c ? -1 : 1) + 0.4 * rng.normal();
  }
  return { x, y };
}

export const solverSpec = { use: 'euler', dt: 0.25, t0: 0, t1: 1 };
export const data = blobs(48, 1);
export const dataset = memoryDataset(data.x, data.y, [2], 2);
/** dense 2→6, dense ODE block n = 6 (4 Euler steps), dense 6→2 */
export const tinyModel = (): ModelIR => denseNode({ hidden: 6 }, { dataset: dataset.info, seed: 5, solver: solverSpec });

/** Counts of the adapter's work, for tests that check what was compiled. */
export const adapterStats = { compiled: 0, runs: 0 };

/**
 * A GradientProgram on tfjs autodiff (cpu backend): the forward pass of runtime-tfjs, softmax cross-entropy as
 * the tfjs trainer computes it, `tf.variableGrads` for the trainable paths.
 */
export const tfjsCompile: CompileGradientProgram = async (model, options): Promise<GradientProgram> => {
  await initTfjs('cpu');
  await ensureGradients();
  adapterStats.compiled++;
  const solver = new ExplicitRungeKuttaSolver('adapter', options.tableau, false);
  const all = listTensors(model);
  const shapes = new Map(all.map((t) => [t.path, t.tensor.shape]));
  const paths = all.map((t) => t.path).filter(options.trainable);
  const params = createParams(model, options.trainable);
  const vars = paths.map((p) => params.get(p) as tf.Variable);
  return {
    paths,
    async run(values, x, y, batch) {
      adapterStats.runs++;
      for (const [p, v] of values) {
        const t = params.get(p);
        if (!(t instanceof tf.Variable)) throw new Error(`adapter: '${p}' is not trainable`);
        tf.tidy(() => t.assign(tf.tensor(v, shapes.get(p)!, 'float32')));
      }
      let hits: tf.Scalar | undefined;
      const { value, grads } = tf.tidy(() => {
        const xt = inputTensor(model, x, batch);
        const labels = tf.tensor1d(y as Int32Array, 'int32');
        return tf.variableGrads(() => {
          const logits = forward(model, params, xt, solver);
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, model.outputs), logits) as tf.Scalar;
        }, vars);
      });
      const out = new Map<string, Float32Array>();
      paths.forEach((p, i) => out.set(p, grads[vars[i]!.name]!.dataSync() as Float32Array));
      const loss = value.dataSync()[0]!;
      const correct = hits!.dataSync()[0]!;
      tf.dispose([value, hits!, ...Object.values(grads)]);
      return { loss, correct, grads: out };
    },
    async dispose() {
      disposeParams(params);
    },
  };
};

/** Bit patterns of a float32 array (exact comparisons that also tell -0 from 0). */
export const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Largest |a − b| over all tensors of two models with the same structure. */
export function maxDiff(a: ModelIR, b: ModelIR): number {
  const tb = new Map(listTensors(b).map((t) => [t.path, t.tensor.data]));
  let m = 0;
  for (const { path, tensor } of listTensors(a)) {
    const other = tb.get(path)!;
    for (let i = 0; i < tensor.data.length; i++) m = Math.max(m, Math.abs(tensor.data[i]! - other[i]!));
  }
  return m;
}

/** All tensors of a model concatenated as bit patterns. */
export function modelBits(m: ModelIR): number[] {
  return listTensors(m).flatMap((t) => bits(t.tensor.data));
}

/** The options of the SIGKILL test's child and of its in-process reference run. */
export const childOptions = { batch: 16, optimizer: 'adam', lr: 0.01, seed: 11 } as const;

/**
 * Time of one gradient step (forward, loss and backward through the unrolled solver; no optimizer) on
 * onnxruntime (`compileGradientProgram`, parameters fed every run) against tfjs autodiff, for the quickstart's
 * dense model (dense 2→64, tanh block n = 64, dense 64→4, RK4 10 steps, batch 64) and the convolutional MNIST
 * model (`checkpoints/conv-mnist.odemor`, RK4 10 steps, batch 128). Prints medians; writes nothing.
 *
 *   npx tsx bench/grad-step.ts
 *
 * Knobs: BENCH_THREADS (ORT intra-op threads, default 2), BENCH_REPS (default 10), BENCH_TFJS_BACKEND
 * (default wasm), BENCH_SKIP ("tfjs", "conv", "dense").
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { denseNode, ExplicitRungeKuttaSolver, listTensors, loadModel, type ModelIR } from '@odemor/core';
import { compileGradientProgram } from '@odemor/runtime-onnx';
import { createParams, disposeParams, forward, initTfjs, inputTensor, type TfjsBackendName } from '@odemor/runtime-tfjs';
import { RK4_TABLEAU } from '@odemor/solver-rk4';
import { median, rng, timeRuns, uniform } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const THREADS = Number(process.env.BENCH_THREADS ?? '2');
const REPS = Number(process.env.BENCH_REPS ?? '10');
const BACKEND = (process.env.BENCH_TFJS_BACKEND ?? 'wasm') as TfjsBackendName;
const SKIP = (process.env.BENCH_SKIP ?? '').split(',');

async function measure(name: string, model: ModelIR, batch: number): Promise<void> {
  const r = rng(3);
  const per = model.input.kind === 'sequence' ? model.input.steps * model.input.features : model.input.shape.reduce((a, b) => a * b, 1);
  const x = uniform(r, batch * per);
  const y = Int32Array.from({ length: batch }, (_, i) => i % model.outputs);
  const params = new Map(listTensors(model).map((t) => [t.path, t.tensor.data]));

  let t = process.hrtime.bigint();
  const program = await compileGradientProgram(model, { tableau: RK4_TABLEAU, trainable: () => true, threads: THREADS });
  const compileS = Number(process.hrtime.bigint() - t) / 1e9;
  const onnxS = median(await timeRuns(() => program.run(params, x, y, batch), REPS, 2));
  await program.dispose();
  console.log(`${name}: onnx ${(onnxS * 1e3).toFixed(1)} ms/step (${THREADS} threads; compile + session ${compileS.toFixed(2)} s)`);

  if (SKIP.includes('tfjs')) return;
  const solver = new ExplicitRungeKuttaSolver('rk4', RK4_TABLEAU, false);
  const vars = createParams(model, () => true);
  const list = [...vars.values()] as tf.Variable[];
  const xt = inputTensor(model, x, batch);
  const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), model.outputs);
  const step = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(onehot, forward(model, vars, xt, solver)) as tf.Scalar, list);
    await value.data();
    for (const g of Object.values(grads)) await g.data();
    value.dispose();
    tf.dispose(Object.values(grads));
  };
  t = process.hrtime.bigint();
  const tfS = median(await timeRuns(step, Math.max(3, Math.min(REPS, 5)), 1));
  disposeParams(vars);
  xt.dispose();
  onehot.dispose();
  console.log(`${name}: tfjs-${tf.getBackend()} ${(tfS * 1e3).toFixed(1)} ms/step → onnx ${(tfS / onnxS).toFixed(1)}× faster`);
}

async function main(): Promise<void> {
  await initTfjs(BACKEND);
  console.log(`gradient step, ${REPS} reps (medians); tfjs backend ${tf.getBackend()}`);
  if (!SKIP.includes('dense')) {
    const model = denseNode(
      { hidden: 64, activation: 'tanh' },
      { seed: 1, dataset: { inputShape: [2], numClasses: 4 }, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } } as Parameters<typeof denseNode>[1],
    );
    await measure('quickstart dense (n = 64, batch 64)', model, 64);
  }
  if (!SKIP.includes('conv')) {
    const model = await loadModel(path.join(here, '..', 'checkpoints', 'conv-mnist.odemor'));
    model.solver = { ...model.solver, use: 'rk4', dt: 0.1, t0: 0, t1: 1 };
    await measure('conv MNIST (batch 128, rk4 10 steps)', model, 128);
  }
}

await main();

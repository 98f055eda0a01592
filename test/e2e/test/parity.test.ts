/**
 * Parity of the two runtimes: for every model kind — the original dense, convolutional and
 * antisymmetric-with-input blocks, and each of the five reducers' outputs — the onnx and tfjs
 * runtimes agree to max abs error ≤ 1e-4 on the same inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Experiment,
  blockFeatureModel,
  builtinModels,
  coreModelsPlugin,
  type DatasetInfo,
  type ModelIR,
  type Solver,
} from '@odemor/core';
import { TfjsRuntime, blockFeatures, createParams, disposeParams, inputTensor, initTfjs } from '@odemor/runtime-tfjs';
import { OnnxRuntime } from '@odemor/runtime-onnx';
import rk4 from '@odemor/solver-rk4';
import euler from '@odemor/solver-euler';
import stream from '@odemor/snapshotter-stream';
import deim from '@odemor/reducer-deim';
import qdeim from '@odemor/reducer-qdeim';
import odeim from '@odemor/reducer-odeim';
import svd from '@odemor/reducer-svd';
import apoz from '@odemor/reducer-apoz';

const exp = new Experiment();
let solvers: Record<string, Solver>;

beforeAll(async () => {
  await initTfjs();
  for (const p of [coreModelsPlugin, rk4, euler, stream, deim, qdeim, odeim, svd, apoz]) await exp.use(p);
  solvers = { rk4: exp.factory('Solver', 'rk4')({}), euler: exp.factory('Solver', 'euler')({}) };
});

function inputs(shape: number[], batch: number, seed: number): Float32Array {
  const size = batch * shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, (_, i) => 0.5 + 0.5 * Math.sin(seed * 13.7 + i * 0.61));
}

async function maxDiff(model: ModelIR, x: Float32Array, batch: number): Promise<number> {
  const solver = solvers[model.solver.use]!;
  const tf = await new TfjsRuntime().build(model, { solver });
  const ort = await new OnnxRuntime({ threads: 1 }).build(model, { solver });
  try {
    const a = await tf.predict(x, batch);
    const b = await ort.predict(x, batch);
    expect(b.length).toBe(a.length);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    return d;
  } finally {
    await tf.dispose();
    await ort.dispose();
  }
}

const kinds: { name: string; make: () => ModelIR; shape: number[] }[] = [
  {
    name: 'dense',
    shape: [3],
    make: () =>
      builtinModels['dense-node']({ hidden: 16, activation: 'tanh' }, { dataset: info([3], 'vector', 4), seed: 1, solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 } }),
  },
  {
    name: 'conv',
    shape: [14, 14, 1],
    make: () =>
      builtinModels['conv-node']({ channels: 3 }, { dataset: info([14, 14, 1], 'image', 5), seed: 2, solver: { use: 'rk4', dt: 0.25, t0: 0, t1: 1 } }),
  },
  {
    name: 'antisymmetric with sequence input',
    shape: [12, 2],
    make: () =>
      builtinModels['ode-rnn']({ hidden: 10, gamma: 0.05 }, { dataset: info([12, 2], 'sequence', 3), seed: 3, solver: { use: 'euler', dt: 0.1, t0: 0, t1: 1.2 } }),
  },
];

function info(inputShape: number[], kind: DatasetInfo['kind'], numClasses: number): DatasetInfo {
  return { inputShape, kind, numClasses, trainSize: 64, testSize: 16 };
}

describe('onnx and tfjs runtimes agree (max abs error ≤ 1e-4)', () => {
  for (const kind of kinds) {
    it(`original ${kind.name} block`, async () => {
      const model = kind.make();
      expect(await maxDiff(model, inputs(kind.shape, 9, 1), 9)).toBeLessThanOrEqual(1e-4);
    });
  }

  for (const reducer of ['deim', 'qdeim', 'odeim', 'svd', 'apoz']) {
    for (const kind of kinds) {
      it(`${reducer} on the ${kind.name} model`, async () => {
        const reduced = await reduce(kind, reducer);
        expect(reduced.block.kind).toBe('reduced');
        expect(await maxDiff(reduced, inputs(kind.shape, 9, 2), 9)).toBeLessThanOrEqual(1e-4);
      });
    }
  }
});

// fine-tuning caches the block's outputs from an onnx executable of blockFeatureModel(model): they must be
// what the tfjs forward pass feeds the post layers, in the same order
describe('block features: onnx blockFeatureModel matches the tfjs blockFeatures the post layers see', () => {
  for (const kind of kinds) {
    for (const reducer of [undefined, 'deim', 'svd']) {
      it(`${reducer ?? 'original'} ${kind.name} block`, async () => {
        const model = reducer ? await reduce(kind, reducer) : kind.make();
        const solver = solvers[model.solver.use]!;
        const batch = 7;
        const x = inputs(kind.shape, batch, 3);
        const params = createParams(model);
        const h = blockFeatures(model, params, inputTensor(model, x, batch), solver); // a few small intermediates leak: a test
        const want = (await h.data()) as Float32Array;
        h.dispose();
        disposeParams(params);
        const ort = await new OnnxRuntime({ threads: 1 }).build(blockFeatureModel(model), { solver });
        try {
          const got = await ort.predict(x, batch);
          expect(got.length).toBe(want.length);
          let d = 0;
          for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
          expect(d).toBeLessThanOrEqual(1e-4);
        } finally {
          await ort.dispose();
        }
      });
    }
  }
});

async function reduce(kind: (typeof kinds)[number], reducer: string): Promise<ModelIR> {
  const model = kind.make();
  const solver = solvers[model.solver.use]!;
  const snap = exp.factory('Snapshotter', 'stream')({});
  snap.begin(model.block.n);
  const rt = new TfjsRuntime();
  const batch = 32;
  snap.consume(await rt.snapshotBatch(model, inputs(kind.shape, batch, 7), batch, { every: 1, solver }));
  const snapshots = snap.finish();
  const r = exp.factory('Reducer', reducer)({});
  await r.fit({ model, ...(r.needsSnapshots ? { snapshots } : {}), seed: 1 });
  const k = Math.min(6, snapshots.stateSingularValues.filter((s) => s > 1e-6 * snapshots.stateSingularValues[0]!).length);
  return r.reduce({ k }).model;
}

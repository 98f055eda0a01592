/**
 * Taylor-Lagrange on the onnx runtime: step programs unrolled with the block's exact time derivatives (closed forms
 * up to x⁽³⁾) and the midpoint network as graph nodes — against a float64 Taylor step (core's float64Algebra, the
 * solver plugin's step, exact derivatives of the same block in float64) and against runtime-tfjs's forward; the
 * remainder output; the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  float64Algebra,
  sequenceIndex,
  solveWith,
  type Activation,
  type Layer,
  type MidpointNet,
  type ModelIR,
  type Solver,
} from '@odemor/core';
import { inputSize, runtimeModelCases, runtimeModels, signalInput, uniformInput, uniformTensor } from '@odemor/conformance';
import { TaylorLagrangeSolver, taylorSolver } from '@odemor/solver-taylor-lagrange';
import { createParams, disposeParams, forward, initTfjs, inputTensor, signalTensor } from '@odemor/runtime-tfjs';
import { GRAPH_NAMES, OnnxExecutable, OnnxRuntime, compileModel, createSession } from '../src/index.js';

const runtime = new OnnxRuntime({ threads: 1 });
afterAll(() => runtime.dispose());
beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

/** max over entries of |a − b| / (1 + |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

/** A small midpoint network s → 5 → s (dense, tanh, dense), weights uniform ±scale from `seed`. */
function midpointNet(s: number, seed: number, scale = 0.3): MidpointNet {
  const r = (() => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  })();
  const u = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((p, v) => p * v, 1) }, () => (2 * r() - 1) * scale) });
  const layers: Layer[] = [
    { type: 'dense', weight: u([5, s]), bias: u([5]) },
    { type: 'tanh' },
    { type: 'dense', weight: u([s, 5]), bias: u([s]) },
  ];
  return { layers };
}

const stateSize = (m: ModelIR) => (m.block.kind === 'reduced' ? m.block.k : m.block.n);

/** runtime-tfjs's forward pass of `model` with `solver` (cpu backend). */
function tfjsForward(model: ModelIR, x: Float32Array, batch: number, solver: Solver, u?: Float32Array): Float32Array {
  const params = createParams(model);
  try {
    const out = tf.tidy(() => {
      const ut = signalTensor(model, u, batch);
      return forward(model, params, inputTensor(model, x, batch), solver, ut ? { u: ut } : {});
    });
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return Float32Array.from(v);
  } finally {
    disposeParams(params);
  }
}

async function onnxForward(model: ModelIR, x: Float32Array, batch: number, solver: Solver, u?: Float32Array): Promise<Float32Array> {
  const exe = await runtime.build(model, { solver });
  try {
    expect(exe).toBeInstanceOf(OnnxExecutable);
    return await exe.predict(x, batch, u ? { u } : undefined);
  } finally {
    await exe.dispose();
  }
}

describe('compiled Taylor-Lagrange steps against runtime-tfjs (every runtime model of the conformance kit)', () => {
  const BATCH = 3;
  for (const { name, model: make } of runtimeModelCases()) {
    it(`${name}: taylor-lagrange p = 2 with a midpoint network, p = 1 with Γ = 0, taylor p = 3 — within 1e-4 of tfjs`, async () => {
      // large steps (dt 1, a readout segment's last step shortened) so that the higher Taylor terms and Γ matter
      const made = make();
      const base: ModelIR = { ...made, solver: { ...made.solver, dt: 1 } };
      const x = uniformInput(11, BATCH * inputSize(base));
      const u = signalInput(base, BATCH, 12);
      const cases: [ModelIR, Solver][] = [
        [{ ...base, midpoint: midpointNet(stateSize(base), 5, 1) }, new TaylorLagrangeSolver({ order: 2 })],
        [base, new TaylorLagrangeSolver({ order: 1 })],
        [base, taylorSolver({ order: 3 })],
      ];
      const outs: Float32Array[] = [];
      for (const [model, solver] of cases) {
        const got = await onnxForward(model, x, BATCH, solver, u);
        const want = tfjsForward(model, x, BATCH, solver, u);
        expect(got.length).toBe(BATCH * base.outputs);
        expect(relErr(got, want), `${solver.name} order ${(solver as TaylorLagrangeSolver).taylorOrder}`).toBeLessThan(1e-4);
        outs.push(got);
      }
      // the cases differ from each other (the midpoint and the orders matter)
      expect(relErr(outs[0]!, outs[1]!)).toBeGreaterThan(3e-4);
      expect(relErr(outs[1]!, outs[2]!)).toBeGreaterThan(3e-4);
    });
  }
});

import { afterAll, describe, expect, it } from 'vitest';
import type { ButcherTableau, ModelIR } from '@odemor/core';
import { OnnxRuntime, compileModel, inputShapeOf, solverSteps } from '../src/index.js';
import { onnx } from '../src/graph.js';
import { REFERENCE_TABLEAUX, maxAbsDiff, referenceForward, runtimeModels, uniformInput as randomInput } from '@odemor/conformance';

const { euler: EULER, rk4: RK4 } = REFERENCE_TABLEAUX;
const { antisymmetricSeq, apozReduced, apozScatterLayer, convNode, convSame, deimReduced, denseNode, seqReduced, svdReduced } = runtimeModels;

const runtime = new OnnxRuntime({ threads: 1 });
afterAll(() => runtime.dispose());

const BATCH = 5;

function inputFor(model: ModelIR, batch = BATCH, seed = 11): Float32Array {
  return randomInput(seed, batch * inputShapeOf(model).reduce((p, v) => p * v, 1));
}

async function compare(model: ModelIR, tableau: ButcherTableau, options: { convAsDense?: boolean; opset?: number } = {}): Promise<Float32Array> {
  const x = inputFor(model);
  const exe = await runtime.build(model, { tableau, ...options });
  try {
    const logits = await exe.predict(x, BATCH);
    const ref = referenceForward(model, x, BATCH, tableau);
    expect(logits.length).toBe(BATCH * model.outputs);
    expect(maxAbsDiff(logits, ref.logits)).toBeLessThanOrEqual(1e-4);
    // the reference is not trivially constant: logits differ across samples
    expect(maxAbsDiff(logits.subarray(0, model.outputs), logits.subarray(model.outputs, 2 * model.outputs))).toBeGreaterThan(1e-3);
    return logits;
  } finally {
    await exe.dispose();
  }
}

const cases: [string, () => ModelIR][] = [
  ['dense-node', () => denseNode()],
  ['dense-node relu', () => denseNode(12, 'relu')],
  ['conv-node (valid conv, maxpool, conv block)', () => convNode()],
  ['conv-same (same padding, stride 2, softplus)', () => convSame()],
  ['antisymmetric block with sequence input', () => antisymmetricSeq()],
  ['reduced: POD-DEIM-like (dense E, M, N, D)', () => deimReduced()],
  ['reduced: SVD-like (factored M, identity maps)', () => svdReduced()],
  ['reduced: APoZ-like (select / scatter)', () => apozReduced()],
  ['reduced: APoZ with a post scatter layer', () => apozScatterLayer()],
  ['reduced: sequence input with Zr', () => seqReduced()],
];

describe('ONNX output matches the float64 reference (max abs error ≤ 1e-4)', () => {
  for (const [name, make] of cases) {
    it(`${name}, RK4`, async () => {
      await compare(make(), RK4);
    });
  }
  it('Euler with a shortened last step (dt = 0.3 on [0, 1])', async () => {
    const model = { ...denseNode(), solver: { use: 'euler', dt: 0.3, t0: 0, t1: 1 } };
    expect(solverSteps(0, 1, 0.3)).toBe(4);
    await compare(model, EULER);
    // the shortened step matters: 3 full steps (t1 = 0.9) give a different answer
    const x = inputFor(model);
    const three = referenceForward({ ...model, solver: { ...model.solver, t1: 0.9 } }, x, BATCH, EULER).logits;
    expect(maxAbsDiff(three, referenceForward(model, x, BATCH, EULER).logits)).toBeGreaterThan(1e-3);
  });
  it('sequence input with Euler steps on the u(t) boundaries (dt = 0.25, stepDuration 0.2)', async () => {
    const model = { ...antisymmetricSeq(), solver: { use: 'euler', dt: 0.25, t0: 0, t1: 1 } };
    await compare(model, EULER);
  });
  it('opset 13 and 21 compile and agree', async () => {
    const a = await compare(denseNode(), RK4, { opset: 13 });
    const b = await compare(denseNode(), RK4, { opset: 21 });
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-6);
  });
  it('keeps no tableau table of its own: without { tableau } or { solver } it says how to give one', async () => {
    const model = denseNode();
    await expect(runtime.build(model)).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringMatching(/tableau of solver 'rk4'.*\{ solver \}/) });
    const exe = await new OnnxRuntime({ threads: 1, tableau: RK4 }).build(model);
    expect(exe.info).toEqual({ runtime: 'onnx', backend: 'cpu', threads: 1 });
    const x = inputFor(model);
    expect(maxAbsDiff(await exe.predict(x, BATCH), referenceForward(model, x, BATCH, RK4).logits)).toBeLessThanOrEqual(1e-4);
    await exe.dispose();
  });
  it('accepts a Solver object and reads its tableau', async () => {
    const model = convSame();
    const x = inputFor(model);
    const exe = await runtime.build(model, { solver: { name: 'euler', adaptive: false, tableau: EULER } });
    expect(maxAbsDiff(await exe.predict(x, BATCH), referenceForward(model, x, BATCH, EULER).logits)).toBeLessThanOrEqual(1e-4);
    await exe.dispose();
  });
  it('works with a batch of 1 and a larger batch on the same executable (symbolic batch)', async () => {
    const model = convNode();
    const exe = await runtime.build(model, { tableau: RK4 });
    for (const b of [1, 17]) {
      const x = inputFor(model, b, 3);
      expect(maxAbsDiff(await exe.predict(x, b), referenceForward(model, x, b, RK4).logits)).toBeLessThanOrEqual(1e-4);
    }
    await exe.dispose();
  });
});

describe('convolutional block', () => {
  it('Conv and convAsDense (Toeplitz MatMul) give the same logits', async () => {
    const a = await compare(convNode(), RK4);
    const b = await compare(convNode(), RK4, { convAsDense: true });
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5);
    const c = await compare(convSame(), EULER);
    const d = await compare(convSame(), EULER, { convAsDense: true });
    expect(maxAbsDiff(c, d)).toBeLessThanOrEqual(1e-5);
  });
});

describe('graph structure', () => {
  it('has input x [batch, ...] and output logits [batch, outputs], weights shared across unrolled steps', () => {
    const model = denseNode();
    const bytes = compileModel(model, { tableau: RK4 });
    const proto = onnx.ModelProto.decode(bytes);
    const g = proto.graph!;
    expect(g.input.map((i) => i.name)).toEqual(['x']);
    expect(g.output.map((o) => o.name)).toEqual(['logits']);
    const inDims = g.input[0]!.type!.tensorType!.shape!.dim!;
    expect(inDims[0]!.dimParam).toBe('batch');
    expect(Number(inDims[1]!.dimValue)).toBe(4);
    const outDims = g.output[0]!.type!.tensorType!.shape!.dim!;
    expect(outDims[0]!.dimParam).toBe('batch');
    expect(Number(outDims[1]!.dimValue)).toBe(3);
    // one [8, 8] initializer for A, though 10 steps × 4 stages use it
    const square = g.initializer.filter((t) => t.dims!.length === 2 && Number(t.dims![0]) === 8 && Number(t.dims![1]) === 8);
    expect(square).toHaveLength(1);
    const uses = g.node.filter((nd) => nd.input.includes(square[0]!.name!));
    expect(uses).toHaveLength(10 * 4);
  });
});

describe('snapshot outputs', () => {
  it('states / nonlinear / final match the reference at every 3rd RK4 step', async () => {
    const model = denseNode();
    const x = inputFor(model);
    const snap = await runtime.snapshotBatch(model, x, BATCH, { every: 3, tableau: RK4 });
    const ref = referenceForward(model, x, BATCH, RK4, 3);
    expect(ref.states).toHaveLength(3); // steps 3, 6, 9 of 10
    expect(snap.n).toBe(8);
    expect(snap.count).toBe(3 * BATCH);
    expect(snap.samples).toBe(BATCH);
    expect(snap.states.length).toBe(3 * BATCH * 8);
    const concat = (arrs: Float64Array[]): Float64Array => Float64Array.from(arrs.flatMap((a) => [...a]));
    expect(maxAbsDiff(snap.states, concat(ref.states))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(snap.nonlinear, concat(ref.nonlinear))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(snap.final, ref.final)).toBeLessThanOrEqual(1e-4);
    // sampled states are not the final state (they are taken at the right steps, not the end)
    expect(maxAbsDiff(snap.states.subarray(2 * BATCH * 8), snap.final)).toBeGreaterThan(1e-4);
  });
  it('conv block snapshots are NHWC-flattened, with Conv and with convAsDense', async () => {
    const model = convNode();
    const x = inputFor(model);
    const ref = referenceForward(model, x, BATCH, EULER, 2);
    const concat = (arrs: Float64Array[]): Float64Array => Float64Array.from(arrs.flatMap((a) => [...a]));
    for (const convAsDense of [false, true]) {
      const snap = await runtime.snapshotBatch({ ...model, solver: { use: 'euler', dt: 0.1, t0: 0, t1: 1 } }, x, BATCH, { every: 2, tableau: EULER, convAsDense });
      const ref10 = referenceForward({ ...model, solver: { use: 'euler', dt: 0.1, t0: 0, t1: 1 } }, x, BATCH, EULER, 2);
      expect(snap.count).toBe(5 * BATCH);
      expect(maxAbsDiff(snap.states, concat(ref10.states))).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(snap.nonlinear, concat(ref10.nonlinear))).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(snap.final, ref10.final)).toBeLessThanOrEqual(1e-4);
    }
    expect(ref.states).toHaveLength(5);
  });
  it('sequence-input snapshots include u(t) in the dynamics', async () => {
    const model = antisymmetricSeq();
    const x = inputFor(model);
    const snap = await runtime.snapshotBatch(model, x, BATCH, { every: 5, tableau: RK4 });
    const ref = referenceForward(model, x, BATCH, RK4, 5);
    expect(snap.count).toBe(2 * BATCH);
    expect(maxAbsDiff(snap.states, Float64Array.from(ref.states.flatMap((a) => [...a])))).toBeLessThanOrEqual(1e-4);
  });
  it('every > steps gives no sampled states but the final states', async () => {
    const model = denseNode();
    const x = inputFor(model);
    const snap = await runtime.snapshotBatch(model, x, BATCH, { every: 50, tableau: RK4 });
    expect(snap.count).toBe(0);
    expect(snap.states.length).toBe(0);
    expect(maxAbsDiff(snap.final, referenceForward(model, x, BATCH, RK4).final)).toBeLessThanOrEqual(1e-4);
  });
  it('refuses snapshots of a reduced block', async () => {
    const model = deimReduced();
    await expect(runtime.snapshotBatch(model, inputFor(model), BATCH, { every: 1, tableau: RK4 })).rejects.toMatchObject({ code: 'MODEL' });
    expect(() => compileModel(model, { tableau: RK4, snapshot: { every: 1 } })).toThrow(/full ODE block/);
  });
});

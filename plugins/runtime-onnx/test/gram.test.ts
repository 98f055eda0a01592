import { afterAll, describe, expect, it } from 'vitest';
import type { ModelIR, SnapshotBatch } from '@odemor/core';
import { OnnxRuntime, compileModel, inputShapeOf } from '../src/index.js';
import { onnx } from '../src/graph.js';
import { REFERENCE_TABLEAUX, runtimeModels, uniformInput as randomInput } from '@odemor/conformance';

const { euler: EULER, rk4: RK4 } = REFERENCE_TABLEAUX;
const { convNode, denseNode } = runtimeModels;

const runtime = new OnnxRuntime({ threads: 1 });
afterAll(() => runtime.dispose());

const BATCH = 7;

function inputFor(model: ModelIR, batch = BATCH, seed = 5): Float32Array {
  return randomInput(seed, batch * inputShapeOf(model).reduce((p, v) => p * v, 1));
}

/** Σ_rows x xᵀ of `count` row-major rows of length n, in float64. */
function gramOf(rows: Float32Array, count: number, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let r = 0; r < count; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      const xi = rows[o + i]!;
      for (let j = 0; j < n; j++) g[i * n + j] += xi * rows[o + j]!;
    }
  }
  return g;
}

/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

function checkGram(snap: SnapshotBatch): void {
  const { n, count } = snap;
  expect(snap.gram).toBeDefined();
  expect(snap.gram!.states).toBeInstanceOf(Float32Array);
  expect(snap.gram!.states.length).toBe(n * n);
  expect(snap.gram!.nonlinear.length).toBe(n * n);
  expect(relErr(snap.gram!.states, gramOf(snap.states, count, n))).toBeLessThanOrEqual(1e-4);
  expect(relErr(snap.gram!.nonlinear, gramOf(snap.nonlinear, count, n))).toBeLessThanOrEqual(1e-4);
}

describe('native Gram matrices of the snapshot pass', () => {
  it('dense block: stateGram / nonlinearGram equal XᵀX of the raw rows (RK4, every 3rd step)', async () => {
    const model = denseNode();
    const x = inputFor(model);
    const snap = await runtime.snapshotBatch(model, x, BATCH, { every: 3, tableau: RK4, gram: true, raw: true });
    expect(snap.count).toBe(3 * BATCH);
    expect(snap.states.length).toBe(3 * BATCH * 8);
    checkGram(snap);
    // the raw rows are the same as those of a plain snapshot pass
    const plain = await runtime.snapshotBatch(model, x, BATCH, { every: 3, tableau: RK4 });
    expect(plain.gram).toBeUndefined();
    expect(Array.from(snap.states)).toEqual(Array.from(plain.states));
    expect(Array.from(snap.final)).toEqual(Array.from(plain.final));
  });

  it('conv block (NHWC-flattened rows), with Conv and with convAsDense', async () => {
    const model = { ...convNode(), solver: { use: 'euler', dt: 0.1, t0: 0, t1: 1 } };
    const x = inputFor(model);
    for (const convAsDense of [false, true]) {
      const snap = await runtime.snapshotBatch(model, x, BATCH, { every: 2, tableau: EULER, convAsDense, gram: true, raw: true });
      expect(snap.n).toBe(18);
      expect(snap.count).toBe(5 * BATCH);
      checkGram(snap);
    }
  });

  it('a single sampled step (no Concat) works too', async () => {
    const model = denseNode();
    const snap = await runtime.snapshotBatch(model, inputFor(model), BATCH, { every: 10, tableau: RK4, gram: true, raw: true });
    expect(snap.count).toBe(BATCH);
    checkGram(snap);
  });

  it('gram without raw: empty rows, count of the sampled columns, same Grams and final states', async () => {
    const model = convNode();
    const x = inputFor(model);
    const both = await runtime.snapshotBatch(model, x, BATCH, { every: 3, tableau: RK4, gram: true, raw: true });
    const lean = await runtime.snapshotBatch(model, x, BATCH, { every: 3, tableau: RK4, gram: true });
    expect(lean.states.length).toBe(0);
    expect(lean.nonlinear.length).toBe(0);
    expect(lean.count).toBe(3 * BATCH);
    expect(lean.samples).toBe(BATCH);
    expect(relErr(lean.gram!.states, both.gram!.states)).toBeLessThanOrEqual(1e-6);
    expect(relErr(lean.gram!.nonlinear, both.gram!.nonlinear)).toBeLessThanOrEqual(1e-6);
    expect(relErr(lean.final, both.final)).toBeLessThanOrEqual(1e-6);
  });

  it('every > steps: zero Grams, no rows, the final states', async () => {
    const model = denseNode();
    const snap = await runtime.snapshotBatch(model, inputFor(model), BATCH, { every: 50, tableau: RK4, gram: true });
    expect(snap.count).toBe(0);
    expect(snap.gram!.states.length).toBe(64);
    expect(snap.gram!.states.every((v) => v === 0)).toBe(true);
    expect(snap.final.length).toBe(BATCH * 8);
  });

  it('graph outputs: Grams [n, n] and no raw rows unless asked', () => {
    const outputs = (snapshot: { every: number; gram?: boolean; raw?: boolean }) =>
      onnx.ModelProto.decode(compileModel(denseNode(), { tableau: RK4, snapshot })).graph!.output.map((o) => o.name);
    expect(outputs({ every: 2, gram: true })).toEqual(['logits', 'stateGram', 'nonlinearGram', 'final']);
    expect(outputs({ every: 2, gram: true, raw: true })).toEqual(['logits', 'states', 'nonlinear', 'stateGram', 'nonlinearGram', 'final']);
    expect(outputs({ every: 2 })).toEqual(['logits', 'states', 'nonlinear', 'final']);
    const g = onnx.ModelProto.decode(compileModel(denseNode(), { tableau: RK4, snapshot: { every: 2, gram: true } })).graph!;
    const dims = g.output.find((o) => o.name === 'stateGram')!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
    expect(dims).toEqual([8, 8]);
  });
});

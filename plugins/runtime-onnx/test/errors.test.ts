import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OdemorError, mulberry32 as rng, type ModelIR, type Layer } from '@odemor/core';
import plugin, { OnnxRuntime, compileModel, loadOnnxFile, runOnnxFile, saveOnnx } from '../src/index.js';
import { REFERENCE_TABLEAUX, maxAbsDiff, referenceForward, runtimeModels, uniformInput as randomInput, uniformTensor as tensor } from '@odemor/conformance';

const RK4 = REFERENCE_TABLEAUX.rk4;
const { denseNode } = runtimeModels;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'odemor-onnx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const runtime = new OnnxRuntime({ threads: 1 });

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(OdemorError);
    return `${(err as OdemorError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected an OdemorError');
}

describe('the runtime', () => {
  it("names its library and version: 'onnxruntime-node x.y.z' (results.json's environment.runtimeVersions)", async () => {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string };
    expect(runtime.version).toBe(`onnxruntime-node ${pkg.version}`);
  });
});

describe('files', () => {
  it('saveOnnx writes atomically; runOnnxFile runs the file without odemor models', async () => {
    const model = denseNode();
    const file = path.join(dir, 'sub', 'dense.onnx');
    const bytes = compileModel(model, { tableau: RK4 });
    await saveOnnx(file, bytes);
    expect(Buffer.compare(await readFile(file), bytes)).toBe(0);
    expect((await readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const x = randomInput(5, 3 * 4);
    const logits = await runOnnxFile(file, x, 3, { threads: 1 });
    expect(maxAbsDiff(logits, referenceForward(model, x, 3, RK4).logits)).toBeLessThanOrEqual(1e-4);
    const loaded = await loadOnnxFile(file, { threads: 1 });
    expect(loaded).toMatchObject({ inputName: 'x', outputName: 'logits', sampleShape: [4], producer: 'odemor' });
    await loaded.dispose();
    expect(await code(runOnnxFile(file, x, 2, { threads: 1 }))).toMatch(/^SHAPE/);
  });
  it('a truncated file is an IO error', async () => {
    const bytes = compileModel(denseNode(), { tableau: RK4 });
    const file = path.join(dir, 'truncated.onnx');
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const msg = await code(loadOnnxFile(file, { threads: 1 }));
    expect(msg).toMatch(/^IO: file .*truncated\.onnx is not a valid ONNX model: /);
  });
  it('random bytes are an IO error', async () => {
    const r = rng(99);
    const file = path.join(dir, 'random.onnx');
    await writeFile(file, Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
    expect(await code(runOnnxFile(file, new Float32Array(4), 1, { threads: 1 }))).toMatch(/^IO: file .*random\.onnx is not a valid ONNX model: /);
  });
  it('a missing file and an empty file are IO errors', async () => {
    expect(await code(loadOnnxFile(path.join(dir, 'nope.onnx')))).toMatch(/^IO: cannot read file/);
    const empty = path.join(dir, 'empty.onnx');
    await writeFile(empty, new Uint8Array(0));
    expect(await code(loadOnnxFile(empty))).toMatch(/^IO: .*not a valid ONNX model: the file is empty/);
  });
  it('the executable can save its compiled model', async () => {
    const exe = await runtime.build(denseNode(), { tableau: RK4 });
    const file = path.join(dir, 'exe.onnx');
    await exe.save(file);
    const x = randomInput(8, 2 * 4);
    expect(maxAbsDiff(await runOnnxFile(file, x, 2, { threads: 1 }), await exe.predict(x, 2))).toBe(0);
    await exe.dispose();
  });
});

describe('errors', () => {
  it('a wrong-size batch is a SHAPE error', async () => {
    const exe = await runtime.build(denseNode(), { tableau: RK4 });
    expect(await code(exe.predict(new Float32Array(4 * 3 - 1), 3))).toMatch(/^SHAPE: input has 11 values but batch 3 × \[4\] needs 12/);
    expect(await code(exe.predict(new Float32Array(4), 0))).toMatch(/^SHAPE/);
    await exe.dispose();
    const model = denseNode();
    expect(await code(runtime.snapshotBatch(model, new Float32Array(5), 1, { every: 1, tableau: RK4 }))).toMatch(/^SHAPE/);
  });
  it('an adaptive solver without a tableau is refused; by name alone it is supported and build asks for the tableau', async () => {
    const dopri: ModelIR = { ...denseNode(), solver: { use: 'dopri5', dt: 0.1, t0: 0, t1: 1, rtol: 1e-3, atol: 1e-6 } };
    const expected = 'dopri5 is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver';
    // the step loop runs dopri5 given its tableau at build time (adaptive.test.ts)
    expect(runtime.supports(dopri)).toEqual({ ok: true });
    expect(runtime.supports(denseNode())).toEqual({ ok: true });
    expect(await code(runtime.build(dopri))).toMatch(/^RUNTIME: the onnx runtime needs the Butcher tableau of solver 'dopri5': pass \{ solver \}/);
    const solver = { name: 'dopri5', adaptive: true };
    expect(await code(runtime.build(denseNode(), { solver }))).toBe(`RUNTIME: ${expected}`);
    expect(new OnnxRuntime({ solver }).supports(denseNode())).toEqual({ ok: false, reason: expected });
    expect(await code(runtime.snapshotBatch(dopri, new Float32Array(4), 1, { every: 1, solver }))).toBe(`RUNTIME: ${expected}`);
    expect(await code(runtime.snapshotBatch(dopri, new Float32Array(4), 1, { every: 1 }))).toMatch(/^RUNTIME: the onnx runtime needs the Butcher tableau/);
    expect(await code(() => compileModel(denseNode(), {} as never))).toMatch(/^RUNTIME: compileModel needs the Butcher tableau/);
  });
  it('an unknown solver name without a tableau is a RUNTIME error asking for one', async () => {
    expect(await code(runtime.build({ ...denseNode(), solver: { use: 'bosh3', dt: 0.1, t0: 0, t1: 1 } }))).toMatch(/^RUNTIME: .*tableau/);
  });
  it('an unknown layer type is a MODEL error naming its index and type', async () => {
    const model = denseNode();
    const bad = { ...model, post: [...model.post.slice(0, 1), { type: 'softmax' } as unknown as Layer] };
    expect(await code(() => compileModel(bad, { tableau: RK4 }))).toBe("MODEL: post layer 1 has unknown type 'softmax'");
    expect(runtime.supports(bad)).toEqual({ ok: false, reason: "post layer 1 has unknown type 'softmax'" });
    const badPre = { ...model, pre: [{ type: 'dropout' } as unknown as Layer, ...model.pre] };
    expect(await code(runtime.build(badPre, { tableau: RK4 }))).toBe("MODEL: pre layer 0 has unknown type 'dropout'");
  });
  it('shape mismatches in the IR are MODEL errors', async () => {
    const model = denseNode();
    const wrongN = { ...model, block: { ...model.block, n: 9 } };
    expect(await code(() => compileModel(wrongN, { tableau: RK4 }))).toBe('MODEL: block matrix A has shape [8, 8]; expected [9, 9]');
    const r = rng(3);
    const narrowPre = { ...model, pre: [{ type: 'dense', weight: tensor(r, [7, 4]) } as Layer] };
    expect(await code(() => compileModel(narrowPre, { tableau: RK4 }))).toMatch(/^MODEL: the ODE block has state size 8 but the layers before it produce \[7\]/);
    expect(await code(() => compileModel({ ...model, outputs: 4 }, { tableau: RK4 }))).toMatch(/^MODEL: .*outputs = 4/);
  });
  it('bad tableaux and options are ARGUMENT errors', async () => {
    const implicit = { a: [[0.5]], b: [1], c: [0.5], order: 2 };
    expect(await code(() => compileModel(denseNode(), { tableau: implicit }))).toMatch(/^ARGUMENT: .*implicit/);
    expect(await code(() => compileModel(denseNode(), { tableau: RK4, opset: 9 }))).toMatch(/^ARGUMENT: opset/);
    expect(await code(() => compileModel(denseNode(), { tableau: RK4, snapshot: { every: 0 } }))).toMatch(/^ARGUMENT: snapshot.every/);
  });
});

describe('plugin', () => {
  it("provides Runtime 'onnx'", async () => {
    const provided: { point: string; name: string; factory: (o?: Record<string, unknown>) => unknown; description?: string }[] = [];
    await plugin.register({
      provide: (point: string, name: string, factory: (o?: Record<string, unknown>) => unknown, description?: string) =>
        provided.push({ point, name, factory, ...(description ? { description } : {}) }),
    } as never);
    expect(plugin.name).toBe('@odemor/runtime-onnx');
    // Runtime 'onnx', then Trainer 'backprop-onnx' (issue 10; its own test: train-options.test.ts)
    expect(provided.map((p) => [p.point, p.name])).toEqual([['Runtime', 'onnx'], ['Trainer', 'backprop-onnx']]);
    expect(provided[0]).toMatchObject({ point: 'Runtime', name: 'onnx', description: 'onnxruntime-node, unrolled fixed-step solver or adaptive step graph' });
    const rt = provided[0]!.factory({ threads: 1 }) as OnnxRuntime;
    expect(rt).toBeInstanceOf(OnnxRuntime);
    expect(rt.name).toBe('onnx');
    const exe = await rt.build(denseNode(), { tableau: REFERENCE_TABLEAUX.rk4 });
    expect(exe.info.threads).toBe(1);
    await exe.dispose();
  });
});

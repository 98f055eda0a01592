/**
 * `odemor import`'s conversion against PyTorch: each fixture of test/fixtures/torch was written by
 * scripts/torch-reference.py (torch 1.13) — a reference nn.Module of a built-in model, its weights (safetensors:
 * F32, F64, F16 or BF16) and its float64 logits on fixed inputs. The imported model's float64 reference forward
 * (@odemor/conformance's `referenceForward`, classical RK4) must reproduce them to 1e-5 (absolute, logits of order
 * one; measured: see the log lines). No PyTorch is needed here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_TABLEAUX, referenceForward } from '@odemor/conformance';
import { decodeSafetensors, importDatasetInfo, importTorchModel, listTensors, type ModelIR, type SafetensorsFile } from '../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));

interface Fixture {
  name: string;
  weights: string;
  dtype: string;
  as: string;
  input?: number[];
  times?: number[];
  signal?: { steps: number; channels: number; stepDuration: number };
  solver: { use: string; dt: number; t0: number; t1: number };
  options: Record<string, unknown>;
  batch: number;
  x: number[];
  u?: number[];
  logits: number[];
}

const NAMES = ['conv-node', 'dense-node', 'dense-node-antisymmetric', 'ode-rnn', 'mlp-node', 'mlp-node-trajectory'];

function load(name: string): { f: Fixture; file: SafetensorsFile } {
  const f = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Fixture;
  return { f, file: decodeSafetensors(fs.readFileSync(path.join(dir, f.weights)), f.weights) };
}

/** The fixture's model imported as the CLI does it (dataset description from the weights and the shape settings). */
export function importFixture(f: Fixture, file: SafetensorsFile): ModelIR {
  const shape = { ...(f.input ? { input: f.input } : {}), ...(f.times ? { times: f.times } : {}), ...(f.signal ? { signal: f.signal } : {}), t0: f.solver.t0 };
  const dataset = importDatasetInfo(file, f.as as 'conv-node', shape);
  return importTorchModel(file, f.as, { dataset, seed: 0, solver: f.solver }, { options: f.options }).model;
}

function logitsOf(model: ModelIR, f: Fixture): Float64Array {
  return referenceForward(model, Float32Array.from(f.x), f.batch, REFERENCE_TABLEAUX.rk4, 0, f.u ? { u: Float32Array.from(f.u) } : {}).logits;
}

function diffs(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number; scale: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { abs, rel: abs / scale, scale };
}

describe('importing the PyTorch reference models (scripts/torch-reference.py)', () => {
  for (const name of NAMES) {
    it(`${name}: the imported model reproduces PyTorch's logits to 1e-5`, () => {
      const { f, file } = load(name);
      const model = importFixture(f, file);
      const got = logitsOf(model, f);
      expect(got.length).toBe(f.logits.length);
      const d = diffs(got, f.logits);
      console.log(`${name} (${f.dtype}): max |Δlogit| = ${d.abs.toExponential(2)} (max |logit| ${d.scale.toFixed(3)}, relative ${d.rel.toExponential(2)})`);
      expect(d.abs).toBeLessThan(1e-5);
      // the logits are not trivial: they differ between samples
      expect(new Set(f.logits.map((v) => v.toFixed(3))).size).toBeGreaterThan(f.logits.length / 2);
      expect(model.meta?.imported).toMatchObject({ from: f.weights, format: 'safetensors', convention: f.as });
    });
  }

  it('the layout conversion matters: the raw PyTorch layouts (no OIHW → HWIO, no CHW → HWC) miss by far more than 1e-5', () => {
    const { f, file } = load('conv-node');
    const model = importFixture(f, file);
    const ok = diffs(logitsOf(model, f), f.logits).abs;
    const raw = (irPath: string, torchName: string) => {
      const replaced = structuredClone(model);
      const t = listTensors(replaced).find((x) => x.path === irPath)!.tensor;
      t.data.set(Float32Array.from(file.values(torchName)));
      return diffs(logitsOf(replaced, f), f.logits).abs;
    };
    for (const [irPath, torchName] of [['pre.0.kernel', 'downsample.0.weight'], ['block.A.kernel', 'odefunc.conv.weight'], ['post.3.weight', 'fc.weight']] as const) {
      expect(raw(irPath, torchName)).toBeGreaterThan(1e-3);
    }
    expect(ok).toBeLessThan(1e-5);
    // and the encoder of a dense-node on [H, W, c] images reads PyTorch's (c, h, w) flattening
    const a = load('dense-node-antisymmetric');
    const m = importFixture(a.f, a.file);
    const swapped = structuredClone(m);
    listTensors(swapped).find((x) => x.path === 'pre.1.weight')!.tensor.data.set(Float32Array.from(a.file.values('encoder.weight')));
    expect(diffs(logitsOf(swapped, a.f), a.f.logits).abs).toBeGreaterThan(1e-3);
  });

  it('the IR layouts: conv kernels HWIO [kh, kw, in, out], states and images NHWC, Linear weights [out, in] as in PyTorch', () => {
    const { f, file } = load('conv-node');
    const model = importFixture(f, file);
    const kernel = listTensors(model).find((x) => x.path === 'pre.0.kernel')!.tensor;
    const torch = file.values('downsample.0.weight'); // [C=4, cin=2, 3, 3]
    expect(kernel.shape).toEqual([3, 3, 2, 4]);
    // K_ir[dh, dw, ci, co] = K_torch[co, ci, dh, dw]
    expect(kernel.data[((1 * 3 + 2) * 2 + 1) * 4 + 3]).toBe(Math.fround(torch[((3 * 2 + 1) * 3 + 1) * 3 + 2]!));
    const fc = listTensors(model).find((x) => x.path === 'post.3.weight')!.tensor;
    const fcTorch = file.values('fc.weight'); // [5, C·2·3] columns (c, i, j)
    // W_ir[o, (i·3 + j)·C + c] = W_torch[o, (c·2 + i)·3 + j]
    expect(fc.data[2 * 24 + (1 * 3 + 2) * 4 + 3]).toBe(Math.fround(fcTorch[2 * 24 + (3 * 2 + 1) * 3 + 2]!));
    const d = load('dense-node');
    const dm = importFixture(d.f, d.file);
    const w = listTensors(dm).find((x) => x.path === 'block.A.weight')!.tensor;
    expect(Array.from(w.data)).toEqual(Array.from(d.file.values('odefunc.linear.weight'), Math.fround));
  });
});

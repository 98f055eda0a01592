import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment, coreModelsPlugin, loadModel, type ModelIR } from '@odemor/core';
import { TfjsRuntime, initTfjs } from '@odemor/runtime-tfjs';
import rk4Plugin from '@odemor/solver-rk4';
import { runOnnxFile } from '@odemor/runtime-onnx';
import { cli, tmpDir, writeConfig } from './helpers.js';

async function tfjsLogits(model: ModelIR, x: Float32Array, batch: number): Promise<Float32Array> {
  await initTfjs();
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  await exp.use(rk4Plugin);
  const solver = exp.factory('Solver', 'rk4')({});
  const exec = await new TfjsRuntime().build(model, { solver });
  try {
    return await exec.predict(x, batch);
  } finally {
    await exec.dispose();
  }
}

describe('odemor export', () => {
  it('writes ONNX files for the original and a reduced model that onnxruntime runs with the same outputs as tfjs', async () => {
    const cfg = writeConfig(`name: exp
seed: 4
dataset: { use: spirals, classes: 3, train: 200, test: 50 }
model: { use: dense-node, hidden: 10, solver: { use: rk4, dt: 0.25 } }
train: { epochs: 2, batch: 50 }
reducers: [ { use: deim, dims: [5] }, { use: apoz, dims: [4] } ]
evaluate: { repeats: 1 }
output: { saveModels: true }
`);
    const out = tmpDir();
    expect((await cli(['run', cfg, '--out', out, '--quiet'])).code).toBe(0);
    expect(fs.readdirSync(path.join(out, 'models')).sort()).toEqual(['apoz-4.odemor', 'deim-5.odemor']);
    const batch = 7;
    const x = Float32Array.from({ length: batch * 2 }, (_, i) => Math.sin(i * 1.7));
    for (const file of [path.join(out, 'model.odemor'), path.join(out, 'models', 'deim-5.odemor'), path.join(out, 'models', 'apoz-4.odemor')]) {
      const onnxFile = path.join(out, path.basename(file, '.odemor') + '.onnx');
      const r = await cli(['export', file, '--out', onnxFile]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/wrote .*\.onnx .*input 'x' \[batch, 2\], output 'logits' \[batch, 3\]/);
      const ort = await runOnnxFile(onnxFile, x, batch);
      const ref = await tfjsLogits(await loadModel(file), x, batch);
      expect(ort.length).toBe(batch * 3);
      let err = 0;
      for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ort[i]! - ref[i]!));
      expect(err, path.basename(file)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('refuses an adaptive solver and a file that is not a model', async () => {
    const bad = path.join(tmpDir(), 'bad.odemor');
    fs.writeFileSync(bad, 'not a model');
    const r = await cli(['export', bad, '--out', path.join(tmpDir(), 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.odemor/);
    const usage = await cli(['export', bad]);
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/usage: odemor export/);
  });
});

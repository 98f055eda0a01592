/**
 * `odemor validate` plans the run: it builds the dataset, the model (or reads the checkpoint) and every
 * reducer, so what `run` would reject late is rejected up front, and it prints the work to be done.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinModels, saveModel } from '@odemor/core';
import { cli, tmpDir, writeConfig } from './helpers.js';

const base = `name: plan
dataset: { use: spirals, classes: 2, train: 100, test: 50 }
model: { use: dense-node, hidden: 16, solver: { use: euler, dt: 0.25 } }
evaluate: { repeats: 1 }
`;

describe('odemor validate plans the run', () => {
  it('prints the plan: training, snapshot columns, the models to evaluate and the results folder', async () => {
    const cfg = writeConfig(base + 'train: { epochs: 2 }\nreducers: [ { use: deim, dims: [4, 8] } ]\nfinetune: { epochs: 1 }\n');
    const out = path.join(tmpDir(), 'r');
    const r = await cli(['validate', cfg, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model: n = 16, 4 solver steps per sample \(euler\)/);
    expect(r.out).toMatch(/train: 2 epochs × 100 samples \(backprop-onnx\)/);
    expect(r.out).toMatch(/snapshots: 100 samples → 200 columns/);
    expect(r.out).toMatch(/reduce: deim at k = 4, 8/);
    expect(r.out).toMatch(/evaluate: 5 models on onnx \(2 fine-tuned\)/);
    expect(r.out).toContain(`results: ${out}`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('rejects a dimension above the checkpoint’s n before any work, as run does', async () => {
    const dir = tmpDir();
    const model = builtinModels['dense-node']!({ hidden: 16 }, { dataset: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 1, testSize: 1 }, seed: 1, solver: { use: 'euler', dt: 0.25, t0: 0, t1: 1 } });
    await saveModel(path.join(dir, 'm.odemor'), model);
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(
      cfg,
      base.replace('model: { use: dense-node, hidden: 16, solver: { use: euler, dt: 0.25 } }', 'model: { use: dense-node, checkpoint: ./m.odemor }') +
        'reducers:\n  - { use: deim, dims: [4, 8] }\n  - { use: qdeim, dims: [4] }\n  - { use: apoz, dims: [17] }\n',
    );
    for (const cmd of ['validate', 'run']) {
      const r = await cli([cmd, cfg, '--out', path.join(dir, 'out'), ...(cmd === 'run' ? ['--quiet'] : [])]);
      expect(r.code, cmd).toBe(2);
      expect(r.err, cmd).toMatch(/reducer 'apoz': dimension 17 exceeds the ODE state dimension n = 16/);
    }
    expect(fs.existsSync(path.join(dir, 'out', 'results.json'))).toBe(false);
  });

  it('rejects snapshots that sample nothing, and k above the snapshot columns', async () => {
    const none = await cli(['validate', writeConfig(base + 'snapshots: { every: 8 }\nreducers: [ { use: deim, dims: [4] } ]\n')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/4 solver steps with every = 8 sample no state: no snapshots/);
    const few = await cli(['validate', writeConfig(base.replace('train: 100', 'train: 2') + 'snapshots: { every: 4 }\nreducers: [ { use: deim, dims: [4] } ]\n')]);
    expect(few.code).toBe(2);
    expect(few.err).toMatch(/reducer 'deim': dimension 4 exceeds the 2 snapshot columns/);
  });

  it('refuses a results folder that is a file, the working directory or the config’s folder, before training', async () => {
    const dir = tmpDir();
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(cfg, base + 'train: { epochs: 50 }\n');
    fs.writeFileSync(path.join(dir, 'afile'), 'x');
    // (run checks --out as a flag first: an unusable folder is then an ARGUMENT error, exit 1)
    const cases: [string, RegExp][] = [
      [path.join(dir, 'afile'), /afile.* (is )?(a file|not a folder)/],
      [path.join(dir, 'afile', 'sub'), /afile is a file/],
      [dir, /is the config's own folder/],
      [process.cwd(), /is the working directory/],
    ];
    for (const [out, pattern] of cases) {
      for (const cmd of ['validate', 'run']) {
        const t0 = Date.now();
        const r = await cli([cmd, cfg, '--out', out, ...(cmd === 'run' ? ['--quiet'] : [])]);
        expect(r.code, `${cmd} --out ${out}`).not.toBe(0);
        expect(r.err, `${cmd} --out ${out}`).toMatch(pattern);
        expect(Date.now() - t0, 'fails before training').toBeLessThan(5000);
      }
    }
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, loadModel, saveModel, type ModelIR } from '@odemor/core';
import { cli, tmpDir } from './helpers.js';

function tinyModel(): ModelIR {
  const rng = createRng(3);
  const t = (shape: number[]) => ({ shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1)) });
  return {
    format: 'odemor-model',
    version: 1,
    name: 'tiny',
    input: { kind: 'tensor', shape: [2] },
    pre: [{ type: 'dense', weight: t([4, 2]), bias: t([4]) }],
    block: { kind: 'ode', n: 4, A: { type: 'dense', weight: t([4, 4]) }, b: t([4]), activation: 'tanh' },
    post: [{ type: 'dense', weight: t([3, 4]), bias: t([3]) }],
    solver: { use: 'rk4', dt: 0.25, t0: 0, t1: 1 },
    outputs: 3,
  };
}

/** A folder holding m.odemor; returns the folder, the model path and its bytes. */
async function setup(): Promise<{ dir: string; model: string; bytes: Buffer }> {
  const dir = tmpDir('odemor-export-');
  const model = path.join(dir, 'm.odemor');
  await saveModel(model, tinyModel());
  return { dir, model, bytes: fs.readFileSync(model) };
}

describe('odemor export is safe', () => {
  it('refuses to overwrite an existing file without --force, overwrites it with --force', async () => {
    const { dir, model } = await setup();
    const out = path.join(dir, 'm.onnx');
    expect((await cli(['export', model, '--out', out])).code).toBe(0);
    const first = fs.readFileSync(out);
    fs.writeFileSync(out, 'precious');
    const again = await cli(['export', model, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(`odemor: --out ${out} already exists; pass --force to overwrite it, or choose another --out\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe('precious');
    // a dangling link counts as existing too
    const dangling = path.join(dir, 'dangling.onnx');
    fs.symlinkSync(path.join(dir, 'nowhere'), dangling);
    expect((await cli(['export', model, '--out', dangling])).err).toMatch(/dangling\.onnx already exists; pass --force/);
    const forced = await cli(['export', model, '--out', out, '--force']);
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(out).equals(first)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['dangling.onnx', 'm.odemor', 'm.onnx']);
  });

  it('always refuses to overwrite its input: the same path, spelled differently, a symlink, a hard link, a linked folder', async () => {
    const { dir, model, bytes } = await setup();
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync(model, path.join(dir, 'link.onnx'));
    fs.linkSync(model, path.join(dir, 'hard.onnx'));
    fs.symlinkSync(dir, path.join(dir, 'again'));
    const targets = [
      model,
      `${dir}/./m.odemor`,
      `${dir}/sub/../m.odemor`,
      path.join(dir, 'link.onnx'),
      path.join(dir, 'hard.onnx'),
      path.join(dir, 'again', 'm.odemor'),
      path.relative(process.cwd(), model),
    ];
    for (const target of targets) {
      for (const force of [[], ['--force']]) {
        const r = await cli(['export', model, '--out', target, ...force]);
        expect(r.code, target).toBe(1);
        expect(r.err, target).toMatch(/^odemor: --out .* is the input model .*m\.odemor itself; export never overwrites its input \(not even with --force\): choose another --out, e\.g\. --out .*m\.onnx\n$/);
      }
    }
    // the input given as a relative path and --out as an absolute one (and the reverse)
    const rel = path.relative(process.cwd(), model);
    expect((await cli(['export', rel, '--out', model])).err).toMatch(/is the input model/);
    expect((await cli(['export', model, '--out', rel, '--force'])).err).toMatch(/is the input model/);
    expect(fs.readFileSync(model).equals(bytes)).toBe(true);
    await loadModel(model);
  });

  it('refuses a folder as --out, naming a file to write instead', async () => {
    const { dir, model } = await setup();
    const r = await cli(['export', model, '--out', dir, '--force']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`odemor: --out ${dir} is a folder; give the path of the ONNX file to write, e.g. --out ${path.join(dir, 'm.onnx')}\n`);
  });
});

/**
 * `odemor import` (core/src/cli/import.ts) and the config keys `model.weights` / `model.weightsMap`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REFERENCE_TABLEAUX, referenceForward } from '@odemor/conformance';
import { main } from '../src/cli/main.js';
import { decodeSafetensors, listTensors, loadConfig, loadModel, runExperiment } from '../src/index.js';
import { safetensors } from './safetensors-writer.js';

const fixtures = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  return { code, out: o, err: e };
}

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-import-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as { x: number[]; u?: number[]; batch: number; logits: number[] };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('odemor import', () => {
  it('writes a conv-node from PyTorch weights that reproduces their logits; refuses to overwrite without --force', async () => {
    const dir = tmp();
    const out = path.join(dir, 'conv.odemor');
    const w = path.join(fixtures, 'conv-node.safetensors');
    const r = await cli(['import', w, '--as', 'conv-node', '--input', '20,23,2', '--dt', '0.25', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*conv\.odemor \(conv-node from .*conv-node\.safetensors: 7 tensors, 517 values; input \[20, 23, 2\], 5 outputs; rk4, dt 0\.25 on \[0, 1\]\)\n$/);
    const model = await loadModel(out);
    const f = fixture('conv-node');
    expect(maxDiff(referenceForward(model, Float32Array.from(f.x), f.batch, REFERENCE_TABLEAUX.rk4).logits, f.logits)).toBeLessThan(1e-5);
    const again = await cli(['import', w, '--as', 'conv-node', '--input', '20,23,2', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists; pass --force/);
    expect((await cli(['import', w, '--as', 'conv-node', '--input', '20,23,2', '--out', out, '--force'])).code).toBe(0);
    const self = await cli(['import', w, '--as', 'conv-node', '--input', '20,23,2', '--out', w, '--force']);
    expect(self.err).toMatch(/is the weights file itself/);
  });

  it('--config gives the shape settings, the solver and the model options (an mlp-node trajectory model with a signal), --map renames', async () => {
    const dir = tmp();
    const src = decodeSafetensors(fs.readFileSync(path.join(fixtures, 'mlp-node-trajectory.safetensors')));
    // the same weights under other names
    const renamed = safetensors(Object.fromEntries([...src.entries.keys()].map((k) => [k.replace('odefunc.', 'f.'), { dtype: 'F64', shape: src.entries.get(k)!.shape, data: Array.from(src.values(k)) }])));
    fs.writeFileSync(path.join(dir, 'w.safetensors'), renamed);
    fs.writeFileSync(path.join(dir, 'map.yaml'), [...src.entries.keys()].map((k) => `${k.replace('odefunc.', 'f.')}: ${k}`).join('\n') + '\n');
    fs.writeFileSync(
      path.join(dir, 'opts.yaml'),
      'times: [0.25, 0.5, 0.75, 1.0]\nsignal: { steps: 10, channels: 2, stepDuration: 0.1 }\nsolver: { use: rk4, dt: 0.05 }\nactivation: tanh\n',
    );
    const out = path.join(dir, 'm.odemor');
    const r = await cli(['import', path.join(dir, 'w.safetensors'), '--as', 'mlp-node', '--config', path.join(dir, 'opts.yaml'), '--map', path.join(dir, 'map.yaml'), '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const model = await loadModel(out);
    expect(model.readout?.times).toEqual([0.25, 0.5, 0.75, 1]);
    const f = fixture('mlp-node-trajectory');
    const got = referenceForward(model, Float32Array.from(f.x), f.batch, REFERENCE_TABLEAUX.rk4, 0, { u: Float32Array.from(f.u!) }).logits;
    expect(maxDiff(got, f.logits)).toBeLessThan(1e-5);
  });

  it('bad flags, options and weights: a clear message, a non-zero exit and no file', async () => {
    const dir = tmp();
    const out = path.join(dir, 'x.odemor');
    const w = path.join(fixtures, 'ode-rnn.safetensors');
    const cases: [string[], RegExp][] = [
      [['import', w, '--out', out], /usage: odemor import/],
      [['import', w, '--as', 'resnet', '--out', out], /--as resnet: weights can be imported into the built-in models conv-node, dense-node, ode-rnn, mlp-node/],
      [['import', w, '--as', 'ode-rnn', '--out', out], /ode-rnn\.safetensors: the weights of a ode-rnn do not give the sequence length/],
      [['import', w, '--as', 'ode-rnn', '--input', '5,a', '--out', out], /--input must be a comma-separated list of positive integers, got '5,a'/],
      [['import', w, '--as', 'ode-rnn', '--input', '5,4', '--out', out], /tensor 'odefunc\.Z\.weight' has shape \[8, 3\], expected \[8, 4\]/],
      [['import', w, '--as', 'ode-rnn', '--input', '5,3', '--dt', '0', '--out', out], /--dt must be a positive number/],
      [['import', w, '--as', 'ode-rnn', '--input', '5,3', '--solver', 'rk5', '--out', out], /rk5/],
      [['import', w, '--as', 'ode-rnn', '--input', '5,3', '--activation', 'gelu', '--out', out], /--activation must be one of/],
      [['import', w, '--as', 'dense-node', '--out', out], /the weights of a dense-node do not give the input size: the file has no 'encoder\.weight' \[n, d\]; give --input/],
      [['import', w, '--as', 'dense-node', '--input', '3', '--out', out], /tensor 'odefunc\.Z\.weight' is not part of this dense-node \(its tensors: encoder\.weight, encoder\.bias, odefunc\.W/],
      [['import', path.join(dir, 'none.safetensors'), '--as', 'ode-rnn', '--input', '5,3', '--out', out], /none\.safetensors: cannot read the weights file/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toMatch(message);
    }
    fs.writeFileSync(path.join(dir, 'opts.yaml'), 'input: [5, 3]\nchanels: 4\n');
    const r = await cli(['import', w, '--as', 'ode-rnn', '--config', path.join(dir, 'opts.yaml'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/opts\.yaml: unknown key 'chanels': not an option of ode-rnn \(hidden, gamma, activation, scale, stepDuration\)/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('model.weights in a config', () => {
  /** a dense-node for spirals (inputs [2], 2 classes), n = 3, under other names (a map renames them) */
  function write(dir: string, extra = ''): string {
    const range = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.cos(i * 1.7 + s) * 0.5);
    fs.writeFileSync(
      path.join(dir, 'w.safetensors'),
      safetensors({
        'enc.weight': { shape: [3, 2], data: range(6, 1) },
        'enc.bias': { shape: [3], data: range(3, 2) },
        'odefunc.linear.weight': { shape: [3, 3], data: range(9, 3) },
        'fc.weight': { shape: [2, 3], data: range(6, 4) },
        'fc.bias': { shape: [2], data: range(2, 5) },
      }),
    );
    fs.mkdirSync(path.join(dir, 'maps'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'maps', 'm.yaml'), 'enc.weight: encoder.weight\nenc.bias: encoder.bias\n');
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(
      file,
      `name: weights
dataset: { use: spirals, classes: 2, train: 20, test: 20 }
model: { use: dense-node, weights: w.safetensors, weightsMap: maps/m.yaml, solver: { use: rk4, dt: 0.5 }${extra} }
evaluate: { runtime: tfjs, repeats: 1, topk: [1] }
`,
    );
    return file;
  }

  it('builds the built-in model from its options and fills it from the weights (paths from the config folder); no training', async () => {
    const dir = tmp();
    const file = write(dir);
    const v = await cli(['validate', file]);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/model dense-node/);
    expect(v.out).not.toMatch(/train/i);
    const run = await runExperiment(loadConfig(file), { outDir: path.join(dir, 'out'), log: () => {} });
    expect(run.results.rows.length).toBeGreaterThan(0);
    expect(run.results.training).toBeUndefined();
    // the model the stages build (as run and validate do), through the pipeline API
    const { prepare } = await import('../src/pipeline/run.js');
    const { setupStage } = await import('../src/pipeline/stages/setup.js');
    const { modelStage } = await import('../src/pipeline/stages/model.js');
    const { Experiment, coreModelsPlugin } = await import('../src/index.js');
    const exp = new Experiment();
    await exp.use(coreModelsPlugin);
    const state = { exp, loaded: loadConfig(file), options: { write: false }, log: () => {}, runtimes: new Map(), rows: [], analysis: {}, written: [], failures: [] } as never as Parameters<typeof prepare>[0];
    await prepare(state);
    await setupStage.run(state);
    await modelStage.run(state);
    const model = state.model;
    const w = decodeSafetensors(fs.readFileSync(path.join(dir, 'w.safetensors')));
    const t = (p: string) => Array.from(listTensors(model!).find((x) => x.path === p)!.tensor.data);
    expect(t('pre.0.weight')).toEqual(Array.from(w.values('enc.weight'), Math.fround));
    expect(t('block.A.weight')).toEqual(Array.from(w.values('odefunc.linear.weight'), Math.fround));
    expect(t('block.b')).toEqual([0, 0, 0]);
    expect(t('post.0.bias')).toEqual(Array.from(w.values('fc.bias'), Math.fround));
    expect(model!.solver).toMatchObject({ use: 'rk4', dt: 0.5 });
  });

  it('errors name the config file and the key', async () => {
    const dir = tmp();
    const file = write(dir);
    const edit = (from: string, to: string) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(from, to));
    const expectError = async (message: RegExp) => {
      const r = await cli(['validate', file]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    };
    edit('weightsMap: maps/m.yaml', 'weightsMap: maps/none.yaml');
    await expectError(/exp\.yaml: model\.weightsMap: .*none\.yaml: cannot read the tensor name map/);
    edit('weightsMap: maps/none.yaml', 'weightsMap: maps/m.yaml');
    edit('weights: w.safetensors', 'weights: v.safetensors');
    await expectError(/exp\.yaml: model\.weights: .*v\.safetensors: cannot read the weights file/);
    edit('weights: v.safetensors', 'weights: w.safetensors, hidden: 4');
    await expectError(/exp\.yaml: model\.weights: .*w\.safetensors: tensor 'encoder\.weight' \(tensor 'enc\.weight' of the file\) has shape \[3, 2\], expected \[4, 2\]/);
    edit('hidden: 4', 'checkpoint: m.odemor');
    await expectError(/model\.weights.*give model\.weights \(PyTorch weights\) or model\.checkpoint/);
    edit('weights: w.safetensors, checkpoint: m.odemor, ', '');
    await expectError(/model\.weightsMap.*applies to model\.weights, which is not given/);
  });
});

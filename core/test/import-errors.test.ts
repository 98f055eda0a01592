/**
 * The safetensors reader's checks and the import's errors (missing, extra, mis-shaped tensors, the name map),
 * each an OdemorError naming the file and the tensor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectOdemorError } from '@odemor/conformance';
import { safetensors, type Spec } from './safetensors-writer.js';
import { decodeSafetensors, importDatasetInfo, importTorchModel, listTensors, parseTensorNameMap, type SafetensorsFile } from '../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));

const range = (n: number, scale = 0.1) => Array.from({ length: n }, (_, i) => Math.sin(i + 1) * scale);

describe('safetensors reader', () => {
  it('reads F32, F64, F16 and BF16 values, the metadata, and entries in any header order', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff]).buffer); // 1, −2, 0.333…, 2^−24, 65504
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x3eab]).buffer); // 1, −3, 0.333984375
    const bytes = safetensors(
      { a: { shape: [2], data: [1.5, -0.25] }, b: { dtype: 'F64', shape: [1, 1], data: [0.1] }, c: { dtype: 'F16', shape: [5], bytes: f16 }, d: { dtype: 'BF16', shape: [3], bytes: bf16 } },
      { metadata: { format: 'pt' } },
    );
    const f = decodeSafetensors(bytes, 'w.safetensors');
    expect([...f.entries.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(f.values('a'))).toEqual([1.5, -0.25]);
    expect(Array.from(f.values('b'))).toEqual([0.1]);
    expect(Array.from(f.values('c'))).toEqual([1, -2, 0.333251953125, 2 ** -24, 65504]);
    expect(Array.from(f.values('d'))).toEqual([1, -3, 0.333984375]);
    expect(f.metadata).toEqual({ format: 'pt' });
    // a header listing the entries out of their byte order
    const swapped = safetensors({ a: { shape: [1], data: [1] }, b: { shape: [1], data: [2] } }, { header: (h) => ({ b: h.b, a: h.a }) });
    expect(Array.from(decodeSafetensors(swapped).values('b'))).toEqual([2]);
    // PyTorch's empty tensors and a 0-d scalar
    const e = decodeSafetensors(safetensors({ s: { shape: [], data: [3] }, z: { shape: [0, 4], data: [] } }));
    expect(Array.from(e.values('s'))).toEqual([3]);
    expect(e.values('z').length).toBe(0);
  });

  it('refuses broken files, naming the file and the tensor', () => {
    const ok = () => safetensors({ w: { shape: [2, 2], data: [1, 2, 3, 4] } });
    const bad = (bytes: Uint8Array, ...m: (string | RegExp)[]) => expectOdemorError(expect, () => decodeSafetensors(bytes, 'w.safetensors'), 'IO', 'w.safetensors', ...m);
    bad(new Uint8Array(5), '5 bytes', '8-byte header length');
    const long = ok();
    new DataView(long.buffer).setBigUint64(0, 1n << 40n, true);
    bad(long, 'above the limit');
    const past = ok();
    new DataView(past.buffer).setBigUint64(0, BigInt(past.length), true);
    bad(past, 'truncated');
    bad(ok().subarray(0, ok().length - 3), "tensor 'w'", 'run past the end');
    bad(safetensors({ w: { shape: [2, 2], data: [1, 2, 3, 4] } }, { tail: 4 }), '4 bytes after the last tensor');
    bad(safetensors({ w: { shape: [3], data: [1, 2, 3, 4] } }), "tensor 'w'", 'needs 3 × 4 = 12 bytes', 'hold 16');
    bad(safetensors({ w: { dtype: 'F31', shape: [1], data: [1] } }), "tensor 'w'", 'unknown dtype "F31"');
    bad(safetensors({ w: { shape: [-1], data: [1] } }), "tensor 'w'", 'non-negative integers');
    bad(safetensors({ w: { shape: [1.5], data: [1] } }), "tensor 'w'", 'non-negative integers');
    bad(safetensors({ a: { shape: [1], data: [1], offsets: [0, 4] }, b: { shape: [1], data: [2], offsets: [0, 4] } }), "tensor 'b'", 'overlap');
    bad(safetensors({ a: { shape: [1], data: [1], offsets: [4, 8] }, b: { shape: [1], data: [2], offsets: [8, 12] } }, { tail: 4 }), "tensor 'a'", 'hole of 4 bytes');
    bad(safetensors({ w: { shape: [1], data: [1], offsets: [4, 0] } }), 'end before they begin');
    bad(safetensors({ w: { shape: [1], data: [1] } }, { header: (h) => ({ w: { ...(h.w as object), extra: 1 } }) }), 'exactly the keys');
    bad(safetensors({ w: { shape: [1], data: [1] } }, { header: (h) => ({ w: { ...(h.w as object), data_offsets: [0] } }) }), 'data_offsets [0] must be [begin, end]');
    bad(safetensors({ w: { shape: [1], data: [1] } }, { header: () => [1] }), 'not a safetensors file');
    bad(safetensors({ w: { shape: [1], data: [1] } }, { metadata: { a: 1 } }), '__metadata__.a must be a string');
    const broken = ok();
    broken[9] = 0x7b; // '{' where the first quote was
    bad(broken, 'not valid JSON');
  });

  it('reads only floating-point values and refuses NaN and infinities, naming the tensor and the index', () => {
    const f = decodeSafetensors(
      safetensors({ n: { dtype: 'I64', shape: [1], bytes: new Uint8Array(8) }, x: { shape: [3], data: [0, NaN, 1] } }),
      'w.safetensors',
    );
    expectOdemorError(expect, () => f.values('n'), 'IO', 'w.safetensors', "tensor 'n' has dtype I64", 'F64, F32, F16, BF16');
    expectOdemorError(expect, () => f.values('x'), 'IO', "tensor 'x' holds NaN at flat index 1");
    expectOdemorError(expect, () => f.values('y'), 'IO', "no tensor 'y'");
  });
});

/** The dense-node of a [2]-input, 2-class dataset, n = 3, under the convention's names (or `rename`d / changed). */
function denseWeights(change: (t: Record<string, Spec>) => void = () => {}): SafetensorsFile {
  const t: Record<string, Spec> = {
    'encoder.weight': { shape: [3, 2], data: range(6) },
    'encoder.bias': { shape: [3], data: range(3) },
    'odefunc.linear.weight': { shape: [3, 3], data: range(9) },
    'odefunc.linear.bias': { shape: [3], data: range(3) },
    'fc.weight': { shape: [2, 3], data: range(6) },
    'fc.bias': { shape: [2], data: range(2) },
  };
  change(t);
  return decodeSafetensors(safetensors(t), 'w.safetensors');
}
const solver = { use: 'rk4', dt: 0.5, t0: 0, t1: 1 };
const dataset = { kind: 'vector' as const, inputShape: [2], numClasses: 2, trainSize: 0, testSize: 0 };
const imp = (file: SafetensorsFile, map?: Map<string, string | null>, options: Record<string, unknown> = {}) =>
  importTorchModel(file, 'dense-node', { dataset, seed: 0, solver }, { options, ...(map ? { map, mapSource: 'map.yaml' } : {}) });

describe('importing: missing, extra and mis-shaped tensors', () => {
  it('fills every IR tensor; a missing bias is zero and reported', () => {
    const r = imp(denseWeights((t) => delete t['fc.bias']));
    expect(r.zeroed).toEqual(['fc.bias']);
    expect(Array.from(listTensors(r.model).find((x) => x.path === 'post.0.bias')!.tensor.data)).toEqual([0, 0]);
    expect(Array.from(listTensors(r.model).find((x) => x.path === 'pre.0.weight')!.tensor.data)).toEqual(range(6).map(Math.fround));
    expect(r.options.hidden).toBe(3);
  });

  it('a missing weight names the tensor and its expected shape', () => {
    expectOdemorError(expect, () => imp(denseWeights((t) => delete t['odefunc.linear.weight'])), 'ARGUMENT', 'w.safetensors', "missing 'odefunc.linear.weight' [3, 3]", 'docs/import.md#dense-node');
  });

  it('an extra tensor is named, with the tensors the model has', () => {
    expectOdemorError(expect, () => imp(denseWeights((t) => (t['odefunc.linear.scale'] = { shape: [1], data: [1] }))), 'ARGUMENT', "tensor 'odefunc.linear.scale' is not part of this dense-node", 'its tensors: encoder.weight');
  });

  it('a mis-shaped tensor names the tensor, its shape and the expected one', () => {
    expectOdemorError(expect, () => imp(denseWeights((t) => (t['fc.weight'] = { shape: [3, 3], data: range(9) }))), 'SHAPE', "tensor 'fc.weight' has shape [3, 3], expected [2, 3]");
    expectOdemorError(expect, () => imp(denseWeights((t) => (t['encoder.bias'] = { shape: [1, 3], data: range(3) }))), 'SHAPE', "'encoder.bias' has shape [1, 3], expected [3]");
    // a given option the weights contradict
    expectOdemorError(expect, () => imp(denseWeights(), undefined, { hidden: 4 }), 'SHAPE', "'encoder.weight' has shape [3, 2], expected [4, 2]");
  });

  it("the weights give hidden, the classes, the input size and (from 'odefunc.W') antisymmetric", () => {
    const file = denseWeights((t) => {
      t['odefunc.W'] = t['odefunc.linear.weight']!;
      t['odefunc.b'] = t['odefunc.linear.bias']!;
      delete t['odefunc.linear.weight'];
      delete t['odefunc.linear.bias'];
    });
    const info = importDatasetInfo(file, 'dense-node');
    expect(info).toMatchObject({ inputShape: [2], numClasses: 2 });
    const r = importTorchModel(file, 'dense-node', { dataset: info, seed: 0, solver }, { options: { antisymmetric: { gamma: 0.2 } } });
    expect(r.model.block.kind === 'ode' && r.model.block.A).toMatchObject({ type: 'antisymmetric', gamma: 0.2 });
    expect(importTorchModel(file, 'dense-node', { dataset: info, seed: 0, solver }).model.block).toMatchObject({ A: { type: 'antisymmetric', gamma: 0.01 } });
  });

  it('a conv-node needs the image size, an ode-rnn the sequence length, a weights-less model its outputs', () => {
    const conv = decodeSafetensors(fs.readFileSync(path.join(dir, 'conv-node.safetensors')), 'c.safetensors');
    expectOdemorError(expect, () => importDatasetInfo(conv, 'conv-node'), 'ARGUMENT', 'c.safetensors', 'the image size', '--input');
    expect(importDatasetInfo(conv, 'conv-node', { input: [20, 23] }).inputShape).toEqual([20, 23, 2]); // c from the weights
    // a wrong image size shows as the readout's shape
    expectOdemorError(expect, () => importTorchModel(conv, 'conv-node', { dataset: importDatasetInfo(conv, 'conv-node', { input: [28, 28, 2] }), seed: 0, solver }), 'SHAPE', "'odefunc.bias' has shape [4, 6, 7], expected [4, 8, 8] = [C, h, w]");
    const rnn = decodeSafetensors(fs.readFileSync(path.join(dir, 'ode-rnn.safetensors')), 'r.safetensors');
    expectOdemorError(expect, () => importDatasetInfo(rnn, 'ode-rnn'), 'ARGUMENT', 'the sequence length');
    const traj = decodeSafetensors(fs.readFileSync(path.join(dir, 'mlp-node-trajectory.safetensors')), 't.safetensors');
    expectOdemorError(expect, () => importDatasetInfo(traj, 'mlp-node'), 'ARGUMENT', 'observation times');
    const info = importDatasetInfo(traj, 'mlp-node', { times: [0.5, 1] });
    expectOdemorError(expect, () => importTorchModel(traj, 'mlp-node', { dataset: info, seed: 0, solver }), 'ARGUMENT', "'odefunc.input.weight' is not part", 'give signal');
    expectOdemorError(expect, () => importTorchModel(traj, 'spiral-net', { dataset: info, seed: 0, solver }), 'ARGUMENT', "not 'spiral-net'");
  });
});

describe('the tensor name map', () => {
  const renamed = () =>
    denseWeights((t) => {
      t['head.weight'] = t['fc.weight']!;
      t['head.bias'] = t['fc.bias']!;
      t['num_batches_tracked'] = { dtype: 'I64', shape: [], bytes: new Uint8Array(8) };
      delete t['fc.weight'];
      delete t['fc.bias'];
    });
  const map = parseTensorNameMap('head.weight: fc.weight\nhead.bias: fc.bias\nnum_batches_tracked: ~\n', 'map.yaml');

  it('maps other names onto the convention and ignores the tensors mapped to null', () => {
    const a = imp(renamed(), map as Map<string, string | null>).model;
    const b = imp(denseWeights()).model;
    expect(listTensors(a).map((t) => Array.from(t.tensor.data))).toEqual(listTensors(b).map((t) => Array.from(t.tensor.data)));
  });

  it('errors name the map file and the entry', () => {
    const m = (text: string) => parseTensorNameMap(text, 'map.yaml') as Map<string, string | null>;
    expectOdemorError(expect, () => imp(renamed()), 'ARGUMENT', "tensors 'head.weight', 'head.bias', 'num_batches_tracked' are not part");
    expectOdemorError(expect, () => imp(renamed(), m('head.weight: fc.weight\nhead.bias: fc.bias\nnum_batches_tracked: ~\nmissing.weight: fc.weight\n')), 'ARGUMENT', "map.yaml: 'missing.weight' names no tensor of w.safetensors");
    expectOdemorError(expect, () => imp(renamed(), m('head.weight: fc.weights\n')), 'ARGUMENT', "map.yaml: 'head.weight' maps to 'fc.weights', which is not a name of the dense-node convention");
    expectOdemorError(expect, () => imp(renamed(), m('head.weight: fc.weight\nhead.bias: fc.weight\n')), 'ARGUMENT', "'head.weight' and 'head.bias' both map to 'fc.weight'");
    expectOdemorError(expect, () => imp(denseWeights((t) => (t['head.weight'] = t['fc.weight']!)), m('head.weight: fc.weight\n')), 'ARGUMENT', "has a tensor 'fc.weight' of its own");
    // a renamed tensor of the wrong shape is named both ways
    expectOdemorError(expect, () => imp(renamed(), m('head.weight: encoder.weight\nhead.bias: fc.bias\nnum_batches_tracked: ~\nencoder.weight: fc.weight\n')), 'SHAPE', "'encoder.weight' (tensor 'head.weight' of the file) has shape [2, 3], expected [3, 2]");
    expectOdemorError(expect, () => parseTensorNameMap('- a\n- b\n', 'map.yaml'), 'ARGUMENT', 'map.yaml', 'a YAML mapping');
    expectOdemorError(expect, () => parseTensorNameMap('a: 3\n', 'map.yaml'), 'ARGUMENT', 'map.yaml: a: expected a tensor name');
    expectOdemorError(expect, () => parseTensorNameMap('a: [\n', 'map.yaml'), 'ARGUMENT', 'map.yaml: malformed YAML');
  });
});

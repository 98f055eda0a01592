import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OdemorError } from '../src/errors.js';
import type { ModelIR } from '../src/ir/types.js';
import { decodeModel, encodeModel, loadModel, saveModel } from '../src/ir/io.js';
import { validateModel } from '../src/ir/validate.js';
import { listTensors } from '../src/model/params.js';
import { createRng } from '../src/util/rng.js';
import { buildV1, buildV2, resign, splitFile, toV1 } from './ir-fixtures.js';

const rng = createRng(42);
const t = (shape: number[]) => ({ shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1)) });

function denseModel(): ModelIR {
  return {
    format: 'odemor-model',
    version: 1,
    name: 'tiny',
    input: { kind: 'tensor', shape: [3] },
    pre: [{ type: 'dense', weight: t([4, 3]), bias: t([4]) }, { type: 'tanh' }],
    block: { kind: 'ode', n: 4, A: { type: 'dense', weight: t([4, 4]) }, b: t([4]), activation: 'tanh' },
    post: [{ type: 'dense', weight: t([2, 4]), bias: t([2]) }],
    solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 },
    outputs: 2,
    meta: { note: 'hello', nested: { a: [1, 2] } },
  };
}

function reducedModel(): ModelIR {
  return {
    format: 'odemor-model',
    version: 1,
    input: { kind: 'sequence', steps: 3, features: 2, stepDuration: 0.5 },
    pre: [],
    block: {
      kind: 'reduced',
      method: 'deim',
      n: 5,
      k: 2,
      m: 3,
      E: { type: 'dense', weight: t([2, 5]) },
      M: { type: 'factored', left: t([3, 1]), right: t([1, 2]) },
      c: t([3]),
      N: { type: 'dense', weight: t([2, 3]) },
      Zr: t([2, 2]),
      D: { type: 'dense', weight: t([5, 2]) },
      activation: 'softplus',
    },
    post: [{ type: 'dense', weight: t([3, 5]) }],
    solver: { use: 'euler', dt: 0.25, t0: 0, t1: 1.5 },
    outputs: 3,
  };
}

function expectBitEqual(a: ModelIR, b: ModelIR) {
  const ta = listTensors(a);
  const tb = listTensors(b);
  expect(tb.map((x) => x.path)).toEqual(ta.map((x) => x.path));
  ta.forEach((x, i) => {
    expect(tb[i]!.tensor.shape).toEqual(x.tensor.shape);
    expect(tb[i]!.tensor.data).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(tb[i]!.tensor.data.buffer, tb[i]!.tensor.data.byteOffset, x.tensor.data.length)).toEqual(
      new Uint32Array(x.tensor.data.buffer, x.tensor.data.byteOffset, x.tensor.data.length),
    );
  });
}

function ioError(fn: () => unknown): OdemorError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    expect((e as OdemorError).code).toBe('IO');
    return e as OdemorError;
  }
  throw new Error('expected an IO error');
}

describe('model io', () => {
  it('round-trips bit-exactly through bytes and files (dense and reduced/factored)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'odemor-io-'));
    for (const m of [denseModel(), reducedModel()]) {
      validateModel(m);
      const bytes = encodeModel(m);
      expect(Array.from(bytes.subarray(0, 8))).toEqual([0x4f, 0x44, 0x45, 0x4d, 0x4f, 0x52, 0, 2]);
      const back = decodeModel(bytes);
      expectBitEqual(m, back);
      const { pre: _p, block: _b, post: _q, ...rest } = back;
      const { pre: _p2, block: _b2, post: _q2, ...restIn } = m;
      expect(rest).toEqual(restIn);
      validateModel(back);
      const file = path.join(dir, 'm.odemor');
      await saveModel(file, m);
      expectBitEqual(m, await loadModel(file));
      // atomic write leaves no temporary file behind
      expect(readdirSync(dir)).toEqual(['m.odemor']);
    }
  });

  it('keeps special float values and the 4-byte payload alignment', () => {
    const m = denseModel();
    m.block.b.data.set([-0, 1e-45, 3.4028234663852886e38, -1.5]);
    const bytes = encodeModel(m);
    const hlen = new DataView(bytes.buffer).getUint32(8, true);
    expect((bytes.length - ((12 + hlen + 3) & ~3)) % 4).toBe(0);
    const back = decodeModel(bytes);
    expect(Object.is(back.block.b.data[0], -0)).toBe(true);
    expect(Array.from(back.block.b.data)).toEqual(Array.from(m.block.b.data));
  });

  it('reports truncated files, wrong magic, versions, broken headers and bad lengths', async () => {
    const bytes = encodeModel(denseModel());
    expect(ioError(() => decodeModel(bytes.subarray(0, bytes.length - 4), 'x.odemor')).message).toMatch(/x\.odemor.*truncated/);
    expect(ioError(() => decodeModel(bytes.subarray(0, 6), 'x.odemor')).message).toMatch(/truncated/);
    expect(ioError(() => decodeModel(bytes.subarray(0, 40), 'x.odemor')).message).toMatch(/truncated/);
    const wrong = bytes.slice();
    wrong[0] = 0x50;
    expect(ioError(() => decodeModel(wrong, 'y.bin')).message).toMatch(/y\.bin.*magic/);
    const ver = bytes.slice();
    ver[7] = 3;
    expect(ioError(() => decodeModel(ver)).message).toMatch(/version 3/);
    // a damaged header: version 2 notices it by its checksum; a re-signed (or version-1) file by its JSON
    const broken = bytes.slice();
    broken[52] = 0x7d; // '}' instead of '{'
    expect(ioError(() => decodeModel(broken)).message).toMatch(/checksum mismatch/);
    expect(ioError(() => decodeModel(resign(broken))).message).toMatch(/header JSON/);
    expect(ioError(() => decodeModel(toV1(broken))).message).toMatch(/header JSON/);
    const extra = new Uint8Array(bytes.length + 4);
    extra.set(bytes);
    expect(ioError(() => decodeModel(extra)).message).toMatch(/trailing/);
    expect(ioError(() => decodeModel(toV1(extra))).message).toMatch(/trailing/);
    // a tensor whose table length does not match its shape (both versions, validly signed)
    const { header: text, payload } = splitFile(bytes);
    const header = JSON.parse(text);
    header.model.block.b.shape = [5];
    for (const bad of [buildV1(JSON.stringify(header), payload), buildV2(JSON.stringify(header), payload)]) {
      expect(ioError(() => decodeModel(bad)).message).toMatch(/block\.b.*\[5\]/);
    }

    const dir = mkdtempSync(path.join(tmpdir(), 'odemor-io-'));
    const file = path.join(dir, 'cut.odemor');
    writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    await expect(loadModel(file)).rejects.toThrow(/cut\.odemor.*truncated/);
    await expect(loadModel(path.join(dir, 'missing.odemor'))).rejects.toMatchObject({ code: 'IO' });
    expect(readFileSync(file).length).toBe(bytes.length - 8);
  });
});

describe('validateModel', () => {
  const code = (fn: () => void) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return `${(e as OdemorError).code}: ${(e as Error).message}`;
    }
  };

  it('accepts consistent models', () => {
    expect(code(() => validateModel(denseModel()))).toBe('ok');
    expect(code(() => validateModel(reducedModel()))).toBe('ok');
  });

  it('names the tensor holding NaN or infinity', () => {
    const m = denseModel();
    (m.block as { A: { weight: { data: Float32Array } } }).A.weight.data[5] = NaN;
    expect(code(() => validateModel(m))).toMatch(/^NUMERIC: block\.A\.weight contains NaN at flat index 5/);
    const m2 = denseModel();
    (m2.post[0] as { bias: { data: Float32Array } }).bias.data[1] = -Infinity;
    expect(code(() => validateModel(m2))).toMatch(/^NUMERIC: post\.0\.bias contains an infinite/);
  });

  it('reports shape mismatches with the layer index and the shapes', () => {
    const m = denseModel();
    m.pre[0] = { type: 'dense', weight: t([4, 2]) };
    expect(code(() => validateModel(m))).toMatch(/^SHAPE: pre\[0\] \(dense\).*\[4, 2\].*\[3\]/);
    const m2 = denseModel();
    (m2.block as { A: unknown }).A = { type: 'dense', weight: t([4, 3]) };
    expect(code(() => validateModel(m2))).toMatch(/^SHAPE: block\.A\.weight has shape \[4, 3\], expected \[4, 4\]/);
    const m3 = denseModel();
    m3.post = [{ type: 'dense', weight: t([2, 5]) }];
    expect(code(() => validateModel(m3))).toMatch(/^SHAPE: post\[0\]/);
    const m4 = denseModel();
    m4.outputs = 3;
    expect(code(() => validateModel(m4))).toMatch(/^SHAPE: .*outputs = 3/);
    const m5 = reducedModel();
    (m5.block as { c: unknown }).c = t([2]);
    expect(code(() => validateModel(m5))).toMatch(/^SHAPE: block\.c has shape \[2\], expected \[3\]/);
    const m6 = reducedModel();
    (m6.block as { Zr: unknown }).Zr = t([2, 3]);
    expect(code(() => validateModel(m6))).toMatch(/^SHAPE: block\.Zr/);
    const m7 = denseModel();
    m7.block.b = { shape: [4], data: new Float32Array(3) };
    expect(code(() => validateModel(m7))).toMatch(/^SHAPE: block\.b has shape \[4\] .* holds 3/);
  });

  it('checks the solver span', () => {
    const m = denseModel();
    m.solver.dt = 0;
    expect(code(() => validateModel(m))).toMatch(/dt/);
    const m2 = denseModel();
    m2.solver.t1 = -1;
    expect(code(() => validateModel(m2))).toMatch(/t1/);
  });
});

describe('saveModel refuses models it could not load back', () => {
  const saveError = async (m: ModelIR, file: string) => {
    try {
      await saveModel(file, m);
    } catch (e) {
      expect(OdemorError.is(e), String(e)).toBe(true);
      return `${(e as OdemorError).code}: ${(e as Error).message}`;
    }
    return 'saved';
  };

  it('names the file, the tensor path and the problem for NaN, infinities and wrong shapes; the old file stays', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'odemor-io-'));
    const file = path.join(dir, 'm.odemor');
    await saveModel(file, denseModel());
    const before = readFileSync(file);
    const nan = denseModel();
    (nan.post[0] as { weight: { data: Float32Array } }).weight.data[3] = NaN;
    expect(await saveError(nan, file)).toBe(`NUMERIC: ${file}: cannot save the model: post.0.weight contains NaN at flat index 3`);
    const inf = denseModel();
    inf.post.push({ type: 'tanh' }, { type: 'dense', weight: t([2, 2]), bias: t([2]) });
    (inf.post[2] as { bias: { data: Float32Array } }).bias.data[1] = Infinity;
    expect(await saveError(inf, file)).toMatch(/^NUMERIC: .*m\.odemor: cannot save the model: post\.2\.bias contains an infinite value at flat index 1$/);
    const shape = denseModel();
    shape.post.unshift({ type: 'tanh' });
    shape.post[1] = { type: 'dense', weight: t([2, 5]) };
    expect(await saveError(shape, file)).toMatch(/^SHAPE: .*m\.odemor: cannot save the model: post\[1\] \(dense\): weight post\.1\.weight \[2, 5\] expects input \[5\] but the input is \[4\]/);
    const holds = denseModel();
    (holds.post[0] as { weight: unknown }).weight = { shape: [2, 4], data: new Float32Array(7) };
    expect(await saveError(holds, file)).toMatch(/^SHAPE: .*post\.0\.weight has shape \[2, 4\] \(8 values\) but holds 7/);
    const meta = denseModel();
    meta.meta = { score: NaN };
    expect(await saveError(meta, file)).toMatch(/^NUMERIC: .*cannot save the model: meta\.score is NaN/);
    const big = denseModel();
    big.meta = { n: 1n };
    expect(await saveError(big, file)).toMatch(/^MODEL: .*meta\.n is a bigint/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['m.odemor']);
  });
});

describe('decoding hostile files (valid checksum, malformed contents)', () => {
  const bytes = encodeModel(denseModel());
  const { header, payload } = splitFile(bytes);
  const edit = (f: (h: { model: Record<string, unknown>; tensors: unknown[]; [k: string]: unknown }) => void) => {
    const h = JSON.parse(header);
    f(h);
    return buildV2(JSON.stringify(h), payload);
  };
  const message = (b: Uint8Array) => {
    try {
      decodeModel(b, 'h.odemor');
    } catch (e) {
      expect(OdemorError.is(e), String(e)).toBe(true);
      return (e as Error).message;
    }
    return 'loaded';
  };

  it('names the file and the field', () => {
    expect(message(edit((h) => ((h.model.pre as { type: string }[])[0]!.type = 'dunse')))).toMatch(/^h\.odemor: malformed model: pre\.0\.type: unknown value "dunse" \(expected 'dense', 'conv2d'/);
    expect(message(edit((h) => delete (h.model.block as Record<string, unknown>).activation))).toMatch(/^h\.odemor: malformed model: block\.activation: /);
    expect(message(edit((h) => ((h.model.input as Record<string, unknown>).shape = 'x')))).toMatch(/^h\.odemor: malformed model: input\.shape: /);
    expect(message(edit((h) => ((h.model.solver as Record<string, unknown>).dt = -1)))).toMatch(/^h\.odemor: solver\.dt = -1 must be > 0/);
    expect(message(edit((h) => (h.model.outputs = 3)))).toMatch(/^h\.odemor: post layers produce \[2\] but the model has outputs = 3/);
    expect(message(edit((h) => ((h.model.block as { b: { shape: unknown } }).b.shape = [-4])))).toMatch(/^h\.odemor: tensor block\.b: shape \[-4\] must be non-negative integers/);
    expect(message(edit((h) => ((h.model.block as { b: { $tensor: unknown } }).b.$tensor = 0)))).toMatch(/^h\.odemor: tensor block\.b refers to tensor table entry 0, expected 3/);
    expect(message(edit((h) => (h.tensors[1] = { offset: 48 })))).toMatch(/^h\.odemor: header field tensors\.1 must be \{ offset, length \}/);
    expect(message(edit((h) => (h.extra = 1)))).toMatch(/^h\.odemor: header has unknown key 'extra'/);
    expect(message(edit((h) => (h.model = [])))).toMatch(/^h\.odemor: header field model is missing or not an object/);
    expect(message(edit((h) => (h.payloadBytes = 'x')))).toMatch(/^h\.odemor: header field payloadBytes is "x"/);
    expect(message(edit((h) => ((h.model.meta as Record<string, unknown>).deep = JSON.parse('['.repeat(100) + ']'.repeat(100)))))).toMatch(/nested more than 64 levels/);
    expect(message(buildV2('[1]', payload))).toMatch(/^h\.odemor: header is not a JSON object/);
    expect(message(buildV2(JSON.stringify(JSON.parse(header)), payload))).toBe('loaded');
  });
});

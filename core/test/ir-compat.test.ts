import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OdemorError } from '../src/errors.js';
import { MODEL_FILE_VERSION, decodeModel, encodeModel, loadModel, saveModel } from '../src/ir/io.js';
import { listTensors } from '../src/model/params.js';
import { buildV1, denseModel, fingerprint, splitFile, toV1 } from './ir-fixtures.js';

const checkpoints = fileURLToPath(new URL('../../checkpoints/', import.meta.url));

function rejection(fn: () => unknown): OdemorError {
  try {
    fn();
  } catch (e) {
    expect(OdemorError.is(e), String(e)).toBe(true);
    return e as OdemorError;
  }
  throw new Error('expected an OdemorError');
}

describe('version-1 model files (the committed checkpoints)', () => {
  for (const name of ['conv-mnist-v1.odemor', 'ode-rnn-quick-v1.odemor']) {
    it(`${name} is version 1 and loads with bit-identical tensors; re-saved it is version 2 and the same model`, async () => {
      const file = path.join(checkpoints, name);
      const bytes = readFileSync(file);
      expect(bytes[7]).toBe(1);
      const model = await loadModel(file);
      // read the file's tensors independently of decodeModel: header table + raw little-endian payload
      const { header, payload } = splitFile(bytes);
      const table = (JSON.parse(header) as { tensors: { offset: number; length: number }[] }).tensors;
      const tensors = listTensors(model);
      expect(tensors.length).toBe(table.length);
      tensors.forEach(({ path: p, tensor }, i) => {
        const raw = payload.subarray(table[i]!.offset, table[i]!.offset + table[i]!.length);
        const bits = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
        expect(Buffer.from(bits).equals(Buffer.from(raw)), p).toBe(true);
      });
      // re-saved: version 2, same header JSON and payload bytes, the same model back
      const dir = mkdtempSync(path.join(tmpdir(), 'odemor-compat-'));
      const out = path.join(dir, name);
      await saveModel(out, model);
      const v2 = readFileSync(out);
      expect(v2[7]).toBe(MODEL_FILE_VERSION);
      expect(splitFile(v2).header).toBe(header);
      expect(Buffer.from(splitFile(v2).payload).equals(Buffer.from(payload))).toBe(true);
      expect(fingerprint(await loadModel(out))).toEqual(fingerprint(model));
      // and converted back to version 1 it is the committed file, byte for byte
      expect(Buffer.from(toV1(v2)).equals(bytes)).toBe(true);
    });
  }
});

describe('damage the issue found in version-1 files', () => {
  const v2 = encodeModel(denseModel());
  const { header, payload } = splitFile(v2);

  it('"bias" turned into "cias" is refused (unknown key), naming the file and the field', () => {
    const text = header.replace('"bias"', '"cias"');
    expect(text).not.toBe(header);
    const e = rejection(() => decodeModel(buildV1(text, payload), 'old.odemor'));
    expect(e.message).toMatch(/^old\.odemor: malformed model: pre\.0: unknown key 'cias'/);
    expect(e.code).toBe('MODEL');
    // in version 2 the same flip never gets that far
    const flipped = v2.slice();
    const at = Buffer.from(flipped).indexOf('"bias"') + 1;
    flipped[at] ^= 0x01; // 'b' 0x62 → 'c' 0x63
    expect(rejection(() => decodeModel(flipped, 'new.odemor')).message).toMatch(/^new\.odemor: checksum mismatch/);
  });

  it('a tensor offset changed is refused: tensors lie back to back in table order', () => {
    const h = JSON.parse(header) as { tensors: { offset: number }[] };
    h.tensors[2]!.offset = 0;
    const e = rejection(() => decodeModel(buildV1(JSON.stringify(h), payload), 'old.odemor'));
    expect(e.message).toMatch(/^old\.odemor: header field tensors\.2\.offset is 0, expected 64/);
  });

  it('dt 0.1 → 1.1 still loads from a version-1 file (it has no checksum), never from version 2', () => {
    const text = header.replace('"dt":0.1', '"dt":1.1');
    expect(text).not.toBe(header);
    expect(decodeModel(buildV1(text, payload)).solver.dt).toBe(1.1);
    const flipped = v2.slice();
    const at = Buffer.from(flipped).indexOf('"dt":0.1') + 5;
    flipped[at] ^= 0x01; // '0' 0x30 → '1' 0x31
    expect(rejection(() => decodeModel(flipped, 'new.odemor')).message).toMatch(/checksum mismatch.*damaged/);
  });

  it('a model file on disk with a damaged byte names the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'odemor-compat-'));
    const file = path.join(dir, 'damaged.odemor');
    const bad = v2.slice();
    bad[bad.length - 3] ^= 0x10;
    writeFileSync(file, bad);
    await expect(loadModel(file)).rejects.toThrow(/damaged\.odemor: checksum mismatch/);
  });
});

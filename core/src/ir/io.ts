import { promises as fsp } from 'node:fs';
import { OdemorError } from '../errors.js';
import { isTensor32 } from '../model/params.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ModelIR, Tensor32 } from './types.js';

/**
 * The odemor model file: one binary file.
 *
 * ```
 * bytes 0..7    magic  "ODEMOR" 0x00 <version byte = 1>
 * bytes 8..11   uint32 little-endian: header length H in bytes
 * bytes 12..    UTF-8 JSON header (H bytes), zero-padded to a multiple of 4
 * payload       float32 little-endian tensors, each at a 4-byte-aligned offset
 * ```
 *
 * The header is `{ model, tensors: [{ offset, length }], payloadBytes }` where `model` is the IR with every
 * {@link Tensor32} replaced by `{ "$tensor": i, "shape": [...] }`; offsets/lengths are in bytes relative
 * to the payload start, and `payloadBytes` is the payload's total length (the file ends there).
 */
export const MODEL_MAGIC = new Uint8Array([0x4f, 0x44, 0x45, 0x4d, 0x4f, 0x52, 0x00, 0x01]);
/** Version of the binary container (the last magic byte). */
export const MODEL_FILE_VERSION = 1;

interface TensorRef {
  $tensor: number;
  shape: number[];
}
interface Header {
  model: unknown;
  tensors: { offset: number; length: number }[];
  payloadBytes: number;
}

const align4 = (n: number) => (n + 3) & ~3;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encode a model into the one-file binary format. */
export function encodeModel(model: ModelIR): Uint8Array {
  const tensors: Tensor32[] = [];
  const strip = (v: unknown): unknown => {
    if (isTensor32(v)) {
      tensors.push(v);
      return { $tensor: tensors.length - 1, shape: [...v.shape] } satisfies TensorRef;
    }
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === 'object' && v !== null) {
      if (ArrayBuffer.isView(v)) throw new OdemorError('IO', 'model contains a typed array that is not a Float32 tensor');
      const o: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) if (item !== undefined) o[k] = strip(item);
      return o;
    }
    return v;
  };
  const json = strip(model);
  let offset = 0;
  const table = tensors.map((t) => {
    const e = { offset, length: t.data.length * 4 };
    offset += align4(e.length);
    return e;
  });
  const header: Header = { model: json, tensors: table, payloadBytes: offset };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const payloadStart = align4(12 + headerBytes.length);
  const out = new Uint8Array(payloadStart + offset);
  out.set(MODEL_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  tensors.forEach((t, i) => {
    const start = payloadStart + table[i]!.offset;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), start);
    else {
      const dv = new DataView(out.buffer, start);
      t.data.forEach((x, j) => dv.setFloat32(j * 4, x, true));
    }
  });
  return out;
}

/**
 * Decode a model from the binary format. `source` names the file in error messages.
 * @throws OdemorError 'IO' on a truncated buffer, wrong magic, unsupported version, broken header JSON or
 *   tensor lengths that do not match.
 */
export function decodeModel(bytes: Uint8Array, source = '<buffer>'): ModelIR {
  const fail = (what: string): never => {
    throw new OdemorError('IO', `${source}: ${what}`);
  };
  if (bytes.length < 12) fail(`file is truncated (${bytes.length} bytes, the fixed header alone needs 12)`);
  for (let i = 0; i < 7; i++) if (bytes[i] !== MODEL_MAGIC[i]) fail('not an odemor model file (wrong magic bytes)');
  if (bytes[7] !== MODEL_FILE_VERSION) fail(`unsupported model file version ${bytes[7]} (this odemor reads version ${MODEL_FILE_VERSION})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > bytes.length) fail(`file is truncated: header of ${hlen} bytes but only ${bytes.length - 12} bytes follow`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + hlen))) as Header;
  } catch (e) {
    return fail(`header JSON is broken (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || !Array.isArray(header.tensors) || typeof header.payloadBytes !== 'number' || !header.model) {
    fail('header lacks model, tensors or payloadBytes');
  }
  const payloadStart = align4(12 + hlen);
  const expected = payloadStart + header.payloadBytes;
  if (bytes.length < expected) fail(`file is truncated: expected ${expected} bytes, found ${bytes.length}`);
  if (bytes.length > expected) fail(`file has ${bytes.length - expected} unexpected trailing bytes (expected ${expected} bytes)`);
  const used = new Set<number>();
  const restore = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => restore(item, `${path}.${i}`));
    if (typeof v === 'object' && v !== null) {
      if ('$tensor' in v) {
        const ref = v as TensorRef;
        const entry = header.tensors[ref.$tensor];
        if (!entry || !Array.isArray(ref.shape)) fail(`tensor ${path} refers to missing tensor table entry ${String(ref.$tensor)}`);
        const { offset, length } = entry!;
        const count = ref.shape.reduce((a, b) => a * b, 1);
        if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || offset % 4 !== 0) fail(`tensor ${path}: bad offset ${offset}`);
        if (length !== count * 4) fail(`tensor ${path}: shape [${ref.shape.join(', ')}] needs ${count * 4} bytes but the table says ${length}`);
        if (offset + length > header.payloadBytes) fail(`tensor ${path}: bytes ${offset}..${offset + length} lie beyond the payload (${header.payloadBytes} bytes)`);
        used.add(ref.$tensor);
        const start = payloadStart + offset;
        let data: Float32Array;
        data = new Float32Array(count);
        // copy (never view): Node Buffers may be slices of a shared pool
        if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes.subarray(start, start + length));
        else {
          for (let j = 0; j < count; j++) data[j] = dv.getFloat32(start + j * 4, true);
        }
        return { shape: [...ref.shape], data } satisfies Tensor32;
      }
      const o: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) o[k] = restore(item, path ? `${path}.${k}` : k);
      return o;
    }
    return v;
  };
  const model = restore(header.model, '') as ModelIR;
  if (used.size !== header.tensors.length) fail(`tensor table has ${header.tensors.length} entries but the model uses ${used.size}`);
  if (model.format !== 'odemor-model') fail(`header model.format is '${String(model.format)}', expected 'odemor-model'`);
  return model;
}

/** Write the model to `file` atomically (temporary file in the same folder, then rename). */
export async function saveModel(file: string, model: ModelIR): Promise<void> {
  try {
    await writeFileAtomic(file, encodeModel(model));
  } catch (e) {
    if (OdemorError.is(e)) throw e;
    throw new OdemorError('IO', `${file}: cannot write model (${(e as Error).message})`, { cause: e });
  }
}

/** Read a model file written by {@link saveModel}. Errors are OdemorError 'IO' naming the file. */
export async function loadModel(file: string): Promise<ModelIR> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new OdemorError('IO', `${file}: cannot read model (${(e as Error).message})`, { cause: e });
  }
  return decodeModel(bytes, file);
}

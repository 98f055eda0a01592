import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { OdemorError } from '../errors.js';
import { isTensor32 } from '../model/params.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ModelIR, Tensor32 } from './types.js';
import { validateModel } from './validate.js';

/**
 * The odemor model file: one binary file (docs/architecture.md, "File format").
 *
 * Version 2 (written by {@link encodeModel} / {@link saveModel}):
 * ```
 * bytes 0..7    magic  "ODEMOR" 0x00 <version byte = 2>
 * bytes 8..11   uint32 little-endian: header length H in bytes
 * bytes 12..19  uint64 little-endian: payload length P in bytes
 * bytes 20..51  SHA-256 of every other byte of the file (bytes 0..19, then 52 to the end)
 * bytes 52..    UTF-8 JSON header (H bytes), zero-padded to a multiple of 4
 * payload       P bytes: float32 little-endian tensors, each at a 4-byte-aligned offset
 * ```
 *
 * Version 1 (still read; it has no checksum, so damage to its tensors cannot be detected):
 * ```
 * bytes 0..7    magic  "ODEMOR" 0x00 <version byte = 1>
 * bytes 8..11   uint32 little-endian: header length H in bytes
 * bytes 12..    UTF-8 JSON header (H bytes), zero-padded to a multiple of 4
 * payload       float32 little-endian tensors, each at a 4-byte-aligned offset
 * ```
 *
 * In both, the header is `{ model, tensors: [{ offset, length }], payloadBytes }` where `model` is the IR with
 * every {@link Tensor32} replaced by `{ "$tensor": i, "shape": [...] }` (i counting up in the order the tensors
 * appear); offsets/lengths are in bytes relative to the payload start, the tensors lie back to back in table
 * order, and `payloadBytes` is the payload's total length (the file ends there).
 */
export const MODEL_MAGIC = new Uint8Array([0x4f, 0x44, 0x45, 0x4d, 0x4f, 0x52, 0x00, 0x02]);
/** Version of the binary container written (the last magic byte). */
export const MODEL_FILE_VERSION = 2;
/** Versions of the binary container this odemor reads. */
export const MODEL_FILE_VERSIONS_READ: readonly number[] = [1, 2];

interface TensorRef {
  $tensor: number;
  shape: number[];
}
interface TableEntry {
  offset: number;
  length: number;
}
interface Header {
  model: unknown;
  tensors: TableEntry[];
  payloadBytes: number;
}

/** Byte layout of the fixed part of each version. */
const V1_PREFIX = 12;
const V2_PREFIX = 52;
const V2_DIGEST = 20;
const DIGEST_BYTES = 32;
/** Deepest nesting of arrays and objects accepted in a header (the IR itself needs 5; meta may add some). */
const MAX_DEPTH = 64;

const align4 = (n: number) => (n + 3) & ~3;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** SHA-256 of a version-2 file's bytes, leaving out the digest field itself. */
function fileDigest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes.subarray(0, V2_DIGEST)).update(bytes.subarray(V2_DIGEST + DIGEST_BYTES)).digest();
}

/** Options of {@link encodeModel}. */
export interface EncodeOptions {
  /**
   * Check the model with {@link validateModel} first (default true). `false` encodes it as it is: only for
   * tests of what loaders do with bad models (such a file is refused by {@link decodeModel}).
   */
  validate?: boolean;
}

/**
 * Encode a model into the one-file binary format (version {@link MODEL_FILE_VERSION}, with its SHA-256).
 * The model is checked first with {@link validateModel}: a model that could not be loaded back is refused.
 * @throws OdemorError 'NUMERIC' for a NaN or infinity (naming the tensor path, e.g. `post.1.weight`, or the
 *   field), 'SHAPE' / 'MODEL' for wrong shapes or a malformed model, 'MODEL' for a value JSON cannot hold.
 */
export function encodeModel(model: ModelIR, options: EncodeOptions = {}): Uint8Array {
  if (options.validate !== false) validateModel(model);
  const tensors: Tensor32[] = [];
  const strip = (v: unknown, path: string): unknown => {
    if (isTensor32(v)) {
      tensors.push(v);
      return { $tensor: tensors.length - 1, shape: [...v.shape] } satisfies TensorRef;
    }
    if (Array.isArray(v)) return v.map((item, i) => strip(item === undefined ? null : item, `${path}.${i}`));
    if (typeof v === 'number' && !Number.isFinite(v)) throw new OdemorError('NUMERIC', `${path} is ${v}, which a model file cannot hold`);
    if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') throw new OdemorError('MODEL', `${path} is a ${typeof v}, which a model file cannot hold`);
    if (typeof v === 'object' && v !== null) {
      if (ArrayBuffer.isView(v)) throw new OdemorError('MODEL', `${path}: model contains a typed array that is not a Float32 tensor`);
      if (Object.hasOwn(v, '$tensor')) throw new OdemorError('MODEL', `${path}: the key '$tensor' is reserved for the model file's tensor references`);
      const o: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) if (item !== undefined) o[k] = strip(item, path ? `${path}.${k}` : k);
      return o;
    }
    return v;
  };
  const json = strip(model, '');
  let offset = 0;
  const table = tensors.map((t) => {
    const e = { offset, length: t.data.length * 4 };
    offset += align4(e.length);
    return e;
  });
  const header: Header = { model: json, tensors: table, payloadBytes: offset };
  let text: string;
  try {
    text = JSON.stringify(header);
  } catch (e) {
    throw new OdemorError('MODEL', `cannot encode the model header (${(e as Error).message})`, { cause: e });
  }
  const headerBytes = new TextEncoder().encode(text);
  const payloadStart = align4(V2_PREFIX + headerBytes.length);
  const out = new Uint8Array(payloadStart + offset);
  const dv = new DataView(out.buffer);
  out.set(MODEL_MAGIC, 0);
  dv.setUint32(8, headerBytes.length, true);
  dv.setBigUint64(12, BigInt(offset), true);
  out.set(headerBytes, V2_PREFIX);
  tensors.forEach((t, i) => {
    const start = payloadStart + table[i]!.offset;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), start);
    else t.data.forEach((x, j) => dv.setFloat32(start + j * 4, x, true));
  });
  out.set(fileDigest(out), V2_DIGEST);
  return out;
}

/** Re-throw an OdemorError from `fn` with `source: ` in front of its message (same code). */
function namingSource<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (OdemorError.is(e)) throw new OdemorError(e.code, `${source}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Decode a model from the binary format (version 2, or version 1 without a checksum) and check it with
 * {@link validateModel}. `source` names the file in error messages.
 *
 * @throws OdemorError naming `source` — 'IO' on a truncated file, wrong magic, unsupported version, checksum
 *   mismatch (version 2), broken header JSON, or a tensor table that does not match the model; 'MODEL' /
 *   'SHAPE' / 'NUMERIC' (from {@link validateModel}) naming the field of a decoded model that is not valid.
 *   Never a raw TypeError, whatever the bytes.
 */
export function decodeModel(bytes: Uint8Array, source = '<buffer>'): ModelIR {
  let model: unknown;
  try {
    model = decodeContainer(bytes, source);
  } catch (e) {
    if (OdemorError.is(e)) throw e;
    // a safety net: the checks below should leave nothing for it
    throw new OdemorError('IO', `${source}: cannot decode the model file (${(e as Error).message})`, { cause: e });
  }
  namingSource(source, () => validateModel(model));
  return model as ModelIR;
}

function decodeContainer(bytes: Uint8Array, source: string): unknown {
  const fail = (what: string): never => {
    throw new OdemorError('IO', `${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is truncated (${bytes.length} bytes; a model file starts with 8 magic bytes)`);
  for (let i = 0; i < 7; i++) if (bytes[i] !== MODEL_MAGIC[i]) fail('not an odemor model file (wrong magic bytes)');
  const version = bytes[7]!;
  if (!MODEL_FILE_VERSIONS_READ.includes(version)) {
    fail(`unsupported model file version ${version} (this odemor reads versions ${MODEL_FILE_VERSIONS_READ.join(' and ')})`);
  }
  const prefix = version === 1 ? V1_PREFIX : V2_PREFIX;
  if (bytes.length < prefix) fail(`file is truncated (${bytes.length} bytes, the fixed header of version ${version} alone needs ${prefix})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  const payloadStart = align4(prefix + hlen);
  if (version === 2) {
    const p = dv.getBigUint64(12, true);
    const expected = BigInt(payloadStart) + p;
    if (BigInt(bytes.length) < expected) fail(`file is truncated: its fixed header promises ${expected} bytes (header ${hlen}, payload ${p}), found ${bytes.length}`);
    if (BigInt(bytes.length) > expected) fail(`file has ${BigInt(bytes.length) - expected} unexpected trailing bytes (its fixed header promises ${expected} bytes)`);
    const recorded = bytes.subarray(V2_DIGEST, V2_DIGEST + DIGEST_BYTES);
    const actual = fileDigest(bytes);
    if (!actual.equals(recorded)) {
      fail(
        `checksum mismatch: the SHA-256 of the file is ${actual.toString('hex').slice(0, 16)}…, the file records ` +
          `${Buffer.from(recorded).toString('hex').slice(0, 16)}…; the file is damaged (re-create it or restore a copy)`,
      );
    }
  } else if (prefix + hlen > bytes.length) {
    fail(`file is truncated: header of ${hlen} bytes but only ${bytes.length - prefix} bytes follow`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(prefix, prefix + hlen)));
  } catch (e) {
    return fail(`header JSON is broken (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('header is not a JSON object');
  const extra = Object.keys(parsed).filter((k) => !['model', 'tensors', 'payloadBytes'].includes(k));
  if (extra.length) fail(`header has unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
  const header = parsed as Partial<Header>;
  if (typeof header.model !== 'object' || header.model === null || Array.isArray(header.model)) fail('header field model is missing or not an object');
  if (!Array.isArray(header.tensors)) fail('header field tensors is missing or not an array');
  const payloadBytes = header.payloadBytes;
  if (typeof payloadBytes !== 'number' || !Number.isSafeInteger(payloadBytes) || payloadBytes < 0 || payloadBytes % 4 !== 0) {
    fail(`header field payloadBytes is ${JSON.stringify(payloadBytes)}, expected a non-negative multiple of 4`);
  }
  const expected = payloadStart + payloadBytes!;
  if (version === 2 && expected !== bytes.length) fail(`header field payloadBytes = ${payloadBytes} does not match the fixed header's payload length`);
  if (bytes.length < expected) fail(`file is truncated: expected ${expected} bytes, found ${bytes.length}`);
  if (bytes.length > expected) fail(`file has ${bytes.length - expected} unexpected trailing bytes (expected ${expected} bytes)`);
  for (let i = prefix + hlen; i < payloadStart; i++) if (bytes[i] !== 0) fail(`header padding byte ${i} is ${bytes[i]}, expected 0`);

  // the table: entries back to back in order, exactly filling the payload
  const table = header.tensors!;
  let next = 0;
  table.forEach((entry: unknown, i) => {
    const e = entry as Partial<TableEntry> | null;
    if (typeof e !== 'object' || e === null || Array.isArray(e) || Object.keys(e).length !== 2) fail(`header field tensors.${i} must be { offset, length }`);
    const { offset, length } = e as Partial<TableEntry>;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length! < 0 || length! % 4 !== 0) {
      fail(`header field tensors.${i}: offset ${JSON.stringify(offset)} and length ${JSON.stringify(length)} must be integers, the length a non-negative multiple of 4`);
    }
    if (offset !== next) fail(`header field tensors.${i}.offset is ${offset}, expected ${next} (tensors lie back to back in table order)`);
    next += length!;
  });
  if (next !== payloadBytes) fail(`header field tensors: the table covers ${next} bytes but payloadBytes = ${payloadBytes}`);

  let used = 0;
  const restore = (v: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`header field model.${path}: nested more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(v)) return v.map((item, i) => restore(item, path ? `${path}.${i}` : String(i), depth + 1));
    if (typeof v !== 'object' || v === null) return v;
    if (Object.hasOwn(v, '$tensor')) {
      const ref = v as Partial<TensorRef>;
      const at = path || 'model';
      if (Object.keys(ref).length !== 2 || !Array.isArray(ref.shape)) fail(`tensor ${at}: a tensor reference must be { $tensor, shape: [...] }`);
      if (ref.$tensor !== used) fail(`tensor ${at} refers to tensor table entry ${JSON.stringify(ref.$tensor)}, expected ${used} (entries are used once, in order)`);
      const shape = ref.shape!;
      if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) fail(`tensor ${at}: shape ${JSON.stringify(shape)} must be non-negative integers`);
      const entry = table[used];
      if (!entry) return fail(`tensor ${at} refers to missing tensor table entry ${used} (the table has ${table.length})`);
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (count * 4 !== entry.length) fail(`tensor ${at}: shape [${shape.join(', ')}] needs ${count * 4} bytes but the table says ${entry.length}`);
      used++;
      const start = payloadStart + entry.offset;
      const data = new Float32Array(count);
      // copy (never view): Node Buffers may be slices of a shared pool
      if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes.subarray(start, start + entry.length));
      else for (let j = 0; j < count; j++) data[j] = dv.getFloat32(start + j * 4, true);
      return { shape: [...(shape as number[])], data } satisfies Tensor32;
    }
    // Object.fromEntries defines own properties, so a key like "__proto__" stays a plain (and later rejected) key
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, restore(item, path ? `${path}.${k}` : k, depth + 1)]));
  };
  const model = restore(header.model, '', 0);
  if (used !== table.length) fail(`tensor table has ${table.length} entries but the model uses ${used}`);
  return model;
}

/**
 * Write the model to `file` atomically (temporary file in the same folder, then rename), always in the current
 * version ({@link MODEL_FILE_VERSION}, with its checksum). The model is validated first: NaN, infinities and
 * wrong shapes are refused, and the file is left as it was.
 * @throws OdemorError naming the file and the problem, e.g. `m.odemor: cannot save the model: post.1.weight
 *   contains NaN at flat index 3` ('NUMERIC' / 'SHAPE' / 'MODEL'), or 'IO' when the file cannot be written.
 */
export async function saveModel(file: string, model: ModelIR): Promise<void> {
  const bytes = namingSource(`${file}: cannot save the model`, () => encodeModel(model));
  try {
    await writeFileAtomic(file, bytes);
  } catch (e) {
    if (OdemorError.is(e)) throw e;
    throw new OdemorError('IO', `${file}: cannot write model (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Read a model file written by {@link saveModel} (version 2, checksum verified) or by an older odemor
 * (version 1, which has no checksum), and validate it. Errors are OdemorErrors naming the file (see
 * {@link decodeModel}).
 */
export async function loadModel(file: string): Promise<ModelIR> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new OdemorError('IO', `${file}: cannot read model (${(e as Error).message})`, { cause: e });
  }
  return decodeModel(bytes, file);
}

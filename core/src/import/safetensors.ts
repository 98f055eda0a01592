/**
 * A strict reader of the safetensors format (docs/import.md#safetensors), the weight files PyTorch writes with
 * `safetensors.torch.save_file`:
 * ```
 * bytes 0..7     uint64 little-endian: header length N
 * bytes 8..8+N   UTF-8 JSON header { "<name>": { "dtype", "shape", "data_offsets": [begin, end] }, …,
 *                "__metadata__"?: { "<key>": "<string>" } }, possibly padded with spaces
 * the rest       the byte buffer: every tensor row-major little-endian at [begin, end) relative to its start
 * ```
 * Everything is checked before a value is read: the header length against the file, the JSON, each entry's keys,
 * dtype and shape, shape × element size = byte length, and that the entries cover the byte buffer exactly (back
 * to back from 0, no holes, no overlaps, nothing after the last). Values are read on demand
 * ({@link SafetensorsFile.values}), converted to float64; the floating-point dtypes F64, F32, F16 and BF16 are read.
 */
import { promises as fsp } from 'node:fs';
import { OdemorError } from '../errors.js';

/** Bytes per element of every dtype the safetensors format defines (checked for all; {@link READ_DTYPES} are read). */
const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
});

/** The dtypes whose values {@link SafetensorsFile.values} reads. */
export const READ_DTYPES: readonly string[] = ['F64', 'F32', 'F16', 'BF16'];

/** The largest header accepted (the safetensors reference implementation's limit: 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** One tensor entry of a safetensors header. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** byte range relative to the start of the byte buffer */
  begin: number;
  end: number;
}

/** A decoded safetensors file: its entries (header order) and metadata; values are read on demand. */
export interface SafetensorsFile {
  /** the file name used in messages */
  source: string;
  /** tensor entries by name, in header order */
  entries: ReadonlyMap<string, SafetensorsEntry>;
  /** `__metadata__` (string values), or undefined */
  metadata?: Record<string, string>;
  /**
   * The values of tensor `name` as float64, row-major.
   * @throws OdemorError 'IO' naming the file and tensor: no such tensor, a dtype that is not read, or a value that
   *   is NaN or infinite (flat index given)
   */
  values(name: string): Float64Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 half precision (binary16) to a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decode the bytes of a safetensors file (see the module comment). `source` names the file in messages.
 * @throws OdemorError 'IO' naming `source` (and the tensor, where one is at fault): a file shorter than its header
 *   length says, a header over {@link MAX_SAFETENSORS_HEADER}, broken JSON, a header that is not an object, an
 *   entry with unknown or missing keys, an unknown dtype, a shape that is not a list of non-negative integers, a
 *   byte length that is not shape × element size, entries that leave holes in, overlap or run past the byte
 *   buffer, or bytes after the last tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new OdemorError('IO', `${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, but the format starts with an 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 < 2n) fail(`safetensors header length is ${n64}; the smallest header, {}, has 2 bytes`);
  if (n64 > BigInt(MAX_SAFETENSORS_HEADER)) fail(`safetensors header length ${n64} is above the limit of ${MAX_SAFETENSORS_HEADER} bytes (is it a safetensors file?)`);
  const headerLength = Number(n64);
  if (8 + headerLength > bytes.length) fail(`file is truncated: the header length says ${headerLength} bytes, but only ${bytes.length - 8} follow the first 8`);
  if (bytes[8] !== 0x7b) fail(`not a safetensors file: the header does not start with '{'`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    return fail(`safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('safetensors header is not a JSON object');
  const bufferStart = 8 + headerLength;
  const bufferLength = bytes.length - bufferStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> | undefined;
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as object)) if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    const at = `tensor '${name}'`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${at}: the header entry must be { dtype, shape, data_offsets }`);
    const e = raw as Record<string, unknown>;
    const keys = Object.keys(e).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') fail(`${at}: the header entry must have exactly the keys dtype, shape, data_offsets (has ${Object.keys(e).join(', ') || 'none'})`);
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) fail(`${at}: unknown dtype ${JSON.stringify(dtype)} (the format defines ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) fail(`${at}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`${at}: data_offsets ${JSON.stringify(offsets)} must be [begin, end], non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufferLength) fail(`${at}: data_offsets [${begin}, ${end}] run past the end of the byte buffer (${bufferLength} bytes; is the file truncated?)`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = DTYPE_BYTES[dtype as string]!;
    if (count * size !== end - begin) {
      fail(`${at}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${count} × ${size} = ${count * size} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.set(name, { name, dtype: dtype as string, shape: [...(shape as number[])], begin, end });
  }
  // the entries must cover the byte buffer exactly: back to back from 0, in some order
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let next = 0;
  for (const e of sorted) {
    if (e.begin < next) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the tensor before it (which ends at ${next})`);
    if (e.begin > next) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a hole of ${e.begin - next} bytes before it (the byte buffer must be fully covered)`);
    next = e.end;
  }
  if (next !== bufferLength) fail(`${bufferLength - next} bytes after the last tensor (the tensors cover ${next} of the byte buffer's ${bufferLength} bytes)`);

  const values = (name: string): Float64Array => {
    const e = entries.get(name);
    if (!e) return fail(`no tensor '${name}' in the file`);
    if (!READ_DTYPES.includes(e.dtype)) fail(`tensor '${name}' has dtype ${e.dtype}; odemor reads the floating-point dtypes ${READ_DTYPES.join(', ')}`);
    const start = bufferStart + e.begin;
    const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype]!;
    const out = new Float64Array(count);
    switch (e.dtype) {
      case 'F64':
        for (let i = 0; i < count; i++) out[i] = dv.getFloat64(start + 8 * i, true);
        break;
      case 'F32':
        if (LITTLE_ENDIAN && (bytes.byteOffset + start) % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset + start, count));
        else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(start + 4 * i, true);
        break;
      case 'F16':
        for (let i = 0; i < count; i++) out[i] = halfToNumber(dv.getUint16(start + 2 * i, true));
        break;
      case 'BF16': {
        const f = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < count; i++) {
          f.setUint32(0, dv.getUint16(start + 2 * i, true) << 16, false);
          out[i] = f.getFloat32(0, false);
        }
        break;
      }
    }
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`tensor '${name}' holds ${out[bad]} at flat index ${bad}`);
    return out;
  };
  return { source, entries, ...(metadata ? { metadata } : {}), values };
}

/**
 * Read and decode a safetensors file ({@link decodeSafetensors}).
 * @throws OdemorError 'IO' naming the file when it cannot be read or is not a valid safetensors file
 */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new OdemorError('IO', `${file}: cannot read the weights file (${(e as Error).message})`, { cause: e });
  }
  return decodeSafetensors(bytes, file);
}

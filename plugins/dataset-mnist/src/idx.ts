import fs from 'node:fs';
import { OdemorError } from '@odemor/core';

/** An IDX array (LeCun's MNIST format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parse an IDX file of unsigned bytes (type code 0x08). Validates the magic number (two zero bytes,
 * the type code, the number of dimensions), the dimensions, and that the payload has exactly
 * `prod(dims)` bytes; `expectDims` (the number of dimensions) guards against a file of the wrong kind.
 */
export function parseIdx(bytes: Uint8Array, name: string, expectDims?: number): IdxArray {
  if (bytes.length < 4) throw new OdemorError('DATA', `${name}: not an IDX file (only ${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new OdemorError('DATA', `${name}: not an IDX file (bad magic number ${hex(bytes, 4)})`);
  if (bytes[2] !== 0x08) throw new OdemorError('DATA', `${name}: unsupported IDX element type 0x${bytes[2]!.toString(16)} (only unsigned bytes, 0x08, are supported)`);
  const ndim = bytes[3]!;
  if (ndim < 1 || ndim > 4) throw new OdemorError('DATA', `${name}: implausible number of IDX dimensions ${ndim}`);
  if (expectDims !== undefined && ndim !== expectDims) throw new OdemorError('DATA', `${name}: expected ${expectDims} dimensions, the file has ${ndim}`);
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) throw new OdemorError('DATA', `${name}: truncated IDX header (${bytes.length} of ${headerLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual < expected) throw new OdemorError('DATA', `${name}: truncated: dimensions [${dims.join(', ')}] need ${expected} bytes of data, the file has ${actual}`);
  if (actual > expected) throw new OdemorError('DATA', `${name}: ${actual - expected} unexpected bytes after the data of dimensions [${dims.join(', ')}]`);
  return { dims, data: bytes.subarray(headerLength) };
}

export function readIdxFile(file: string, expectDims?: number): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new OdemorError('IO', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, expectDims);
}

/** Encode bytes as an IDX file (used by tests and to write subsets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(bytes: Uint8Array, n: number): string {
  return '0x' + [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

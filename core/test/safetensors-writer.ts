/** The tests' own safetensors writer (the format: core/src/import/safetensors.ts). */

export interface Spec {
  dtype?: string;
  shape: number[];
  data?: number[];
  /** raw bytes instead of data */
  bytes?: Uint8Array;
  offsets?: [number, number];
}

/** A safetensors file from specs (F32 unless told), with optional header overrides; the tests' own writer. */
export function safetensors(tensors: Record<string, Spec>, opts: { metadata?: unknown; header?: (h: Record<string, unknown>) => unknown; tail?: number } = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, s] of Object.entries(tensors)) {
    const dtype = s.dtype ?? 'F32';
    let b: Uint8Array;
    if (s.bytes) b = s.bytes;
    else if (dtype === 'F64') b = new Uint8Array(Float64Array.from(s.data ?? []).buffer);
    else b = new Uint8Array(Float32Array.from(s.data ?? []).buffer);
    header[name] = { dtype, shape: s.shape, data_offsets: s.offsets ?? [offset, offset + b.length] };
    blobs.push(b);
    offset += b.length;
  }
  if (opts.metadata !== undefined) header.__metadata__ = opts.metadata;
  const text = new TextEncoder().encode(JSON.stringify(opts.header ? opts.header(header) : header));
  const out = new Uint8Array(8 + text.length + offset + (opts.tail ?? 0));
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

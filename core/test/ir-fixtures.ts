/** Byte-level helpers for the model-file tests: convert, re-sign and rebuild files of either version. */
import { createHash } from 'node:crypto';
import type { ModelIR } from '../src/ir/types.js';
import { listTensors } from '../src/model/params.js';
import { createRng } from '../src/util/rng.js';

const align4 = (n: number) => (n + 3) & ~3;

/** The small dense model of the io tests (58 weights), from a fixed seed. */
export function denseModel(seed = 42): ModelIR {
  const rng = createRng(seed);
  const t = (shape: number[]) => ({ shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1)) });
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

/** The parts of a file of either version: its header JSON text and its payload bytes. */
export function splitFile(bytes: Uint8Array): { version: number; header: string; payload: Uint8Array } {
  const version = bytes[7]!;
  const prefix = version === 1 ? 12 : 52;
  const hlen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return {
    version,
    header: new TextDecoder().decode(bytes.subarray(prefix, prefix + hlen)),
    payload: bytes.subarray(align4(prefix + hlen)),
  };
}

/** A version-1 file (as odemor wrote before the checksum) from a header text and payload. */
export function buildV1(header: string, payload: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const start = align4(12 + h.length);
  const out = new Uint8Array(start + payload.length);
  out.set([0x4f, 0x44, 0x45, 0x4d, 0x4f, 0x52, 0x00, 0x01]);
  new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, 12);
  out.set(payload, start);
  return out;
}

/** Recompute the SHA-256 of a version-2 file in place (forges a "valid" file after an edit). */
export function resign(bytes: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(bytes.subarray(0, 20)).update(bytes.subarray(52)).digest();
  bytes.set(d, 20);
  return bytes;
}

/** A correctly signed version-2 file from a header text and payload. */
export function buildV2(header: string, payload: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const start = align4(52 + h.length);
  const out = new Uint8Array(start + payload.length);
  out.set([0x4f, 0x44, 0x45, 0x4d, 0x4f, 0x52, 0x00, 0x02]);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, h.length, true);
  dv.setBigUint64(12, BigInt(payload.length), true);
  out.set(h, 52);
  out.set(payload, start);
  return resign(out);
}

/** The version-1 file of the same model (header and payload moved, no checksum). */
export function toV1(v2: Uint8Array): Uint8Array {
  const { header, payload } = splitFile(v2);
  return buildV1(header, payload);
}

/** Everything of a model except its tensors' data, and the tensors' data as raw bits, for exact comparison. */
export function fingerprint(m: ModelIR): { json: string; bits: { path: string; shape: number[]; bits: number[] }[] } {
  const json = JSON.stringify(m, (_k, v: unknown) => (v instanceof Float32Array ? `f32[${v.length}]` : v));
  const bits = listTensors(m).map(({ path, tensor }) => ({
    path,
    shape: tensor.shape,
    bits: Array.from(new Uint32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length)),
  }));
  return { json, bits };
}

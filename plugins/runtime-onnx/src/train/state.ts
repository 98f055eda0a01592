/**
 * The training state file written next to a checkpoint, `<checkpoint>.train`: everything a resumed run
 * needs to continue bit for bit — the trained parameter values, the optimizer's step count, running powers
 * and slot buffers, the epochs done with their history, the options fingerprint. Self-contained: it holds
 * the trained tensors itself, so it never has to agree with the model file next to it (the trainer writes
 * it before the model; a kill between the two leaves a state one epoch ahead of the model, and resuming
 * from the state alone is still exact).
 *
 * Layout (little-endian): the 4 bytes `ODTS`, u32 header length, UTF-8 JSON header, zero padding to a
 * multiple of 4, then the float32 payload (tensor table in the header: name, offset, length). A Taylor-Lagrange
 * run with the midpoint schedule also keeps the midpoint network's optimizer (`midpointOptimizer` in the header,
 * its slot buffers as `mslot:` tensors); the network's values are among the `param:` tensors.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { OdemorError, listTensors, writeFileAtomic, type EpochInfo, type ModelIR } from '@odemor/core';
import type { OptimizerKind, OptimizerState } from './optimizer.js';

const MAGIC = [0x4f, 0x44, 0x54, 0x53]; // 'ODTS'
const FORMAT = 'odemor-train-state';
const VERSION = 1;

/** The state after `epoch` finished epochs. */
export interface TrainState {
  /** epochs done */
  epoch: number;
  /** sha-256 of the options fingerprint (see {@link fingerprint}) */
  fingerprint: string;
  /** what the fingerprint was computed from, to name what changed */
  fingerprintOf: Record<string, unknown>;
  /** learning rate of the last finished epoch */
  lr: number;
  history: EpochInfo[];
  /** the randomness of the run: shuffling and augmentation are seeded per epoch with seed + epoch, so no generator state is carried */
  rng: { scheme: 'seed+epoch'; seed: number };
  optimizer: OptimizerState;
  /** the trained tensors (IR path → IR-layout values; with the midpoint schedule also the midpoint network's) */
  params: Map<string, Float32Array>;
  /** the Adam state of the midpoint network φ (a Taylor-Lagrange run with the midpoint schedule) */
  midpointOptimizer?: OptimizerState;
}

interface Header {
  format: string;
  version: number;
  epoch: number;
  fingerprint: string;
  fingerprintOf: Record<string, unknown>;
  lr: number;
  history: EpochInfo[];
  rng: TrainState['rng'];
  optimizer: { kind: OptimizerKind; iterations: number; accBeta1: number; accBeta2: number };
  midpointOptimizer?: { kind: OptimizerKind; iterations: number; accBeta1: number; accBeta2: number };
  tensors: { name: string; offset: number; length: number }[];
  payloadBytes: number;
  payloadSha256: string;
}

/** The state file of a checkpoint: `<checkpoint>.train`. */
export function statePath(checkpoint: string): string {
  return `${checkpoint}.train`;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Serialize a training state (see the module comment for the layout). */
export function encodeTrainState(s: TrainState): Uint8Array {
  const entries: [string, Float32Array][] = [
    ...[...s.params].map(([p, v]) => [`param:${p}`, v] as [string, Float32Array]),
    ...[...s.optimizer.slots].map(([k, v]) => [`slot:${k}`, v] as [string, Float32Array]),
    ...[...(s.midpointOptimizer?.slots ?? [])].map(([k, v]) => [`mslot:${k}`, v] as [string, Float32Array]),
  ];
  let offset = 0;
  const tensors = entries.map(([name, v]) => {
    const e = { name, offset, length: v.length };
    offset += v.length * 4;
    return e;
  });
  const payload = new Uint8Array(offset);
  for (const [i, [, v]] of entries.entries()) {
    payload.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), tensors[i]!.offset);
  }
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    epoch: s.epoch,
    fingerprint: s.fingerprint,
    fingerprintOf: s.fingerprintOf,
    lr: s.lr,
    history: s.history,
    rng: s.rng,
    optimizer: { kind: s.optimizer.kind, iterations: s.optimizer.iterations, accBeta1: s.optimizer.accBeta1, accBeta2: s.optimizer.accBeta2 },
    ...(s.midpointOptimizer
      ? { midpointOptimizer: { kind: s.midpointOptimizer.kind, iterations: s.midpointOptimizer.iterations, accBeta1: s.midpointOptimizer.accBeta1, accBeta2: s.midpointOptimizer.accBeta2 } }
      : {}),
    tensors,
    payloadBytes: payload.length,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(8 + json.length);
  const out = new Uint8Array(start + payload.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(payload, start);
  return out;
}

/** Parse a training state file; an IO error naming `file` when it is not one or is damaged. */
export function decodeTrainState(bytes: Uint8Array, file = '<bytes>'): TrainState {
  const fail = (why: string): never => {
    throw new OdemorError('IO', `${file}: not a valid training state file (${why})`);
  };
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) fail('missing the ODTS signature');
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + hlen > bytes.length) fail('header is truncated');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Header;
  } catch (e) {
    return fail(`header is not JSON: ${(e as Error).message}`);
  }
  if (header.format !== FORMAT) fail(`format is '${String(header.format)}', expected '${FORMAT}'`);
  if (header.version !== VERSION) fail(`version ${String(header.version)} is not supported (expected ${VERSION})`);
  if (!Number.isInteger(header.epoch) || header.epoch < 0 || !Array.isArray(header.tensors) || !header.optimizer) fail('header lacks epoch, tensors or optimizer');
  const start = align4(8 + hlen);
  if (bytes.length !== start + header.payloadBytes) fail(`expected ${start + header.payloadBytes} bytes, found ${bytes.length}`);
  const payload = bytes.subarray(start);
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) fail('payload checksum does not match');
  const params = new Map<string, Float32Array>();
  const slots = new Map<string, Float32Array>();
  const mslots = new Map<string, Float32Array>();
  for (const t of header.tensors) {
    if (!Number.isInteger(t.offset) || !Number.isInteger(t.length) || t.offset < 0 || t.offset + t.length * 4 > payload.length) fail(`tensor '${t.name}' lies outside the payload`);
    const v = new Float32Array(t.length);
    new Uint8Array(v.buffer).set(payload.subarray(t.offset, t.offset + t.length * 4));
    if (t.name.startsWith('param:')) params.set(t.name.slice(6), v);
    else if (t.name.startsWith('slot:')) slots.set(t.name.slice(5), v);
    else if (t.name.startsWith('mslot:') && header.midpointOptimizer) mslots.set(t.name.slice(6), v);
    else fail(`unknown tensor '${t.name}'`);
  }
  return {
    epoch: header.epoch,
    fingerprint: header.fingerprint,
    fingerprintOf: header.fingerprintOf ?? {},
    lr: header.lr,
    history: header.history ?? [],
    rng: header.rng,
    optimizer: { ...header.optimizer, slots },
    params,
    ...(header.midpointOptimizer ? { midpointOptimizer: { ...header.midpointOptimizer, slots: mslots } } : {}),
  };
}

/** Write the state atomically (temporary file, flush, rename). */
export async function writeTrainState(file: string, s: TrainState): Promise<void> {
  try {
    await writeFileAtomic(file, encodeTrainState(s));
  } catch (e) {
    throw new OdemorError('IO', `${file}: cannot write the training state (${(e as Error).message})`, { cause: e });
  }
}

/** Read the state file, or `undefined` when there is none. */
export async function readTrainState(file: string): Promise<TrainState | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OdemorError('IO', `${file}: cannot read the training state (${(e as Error).message})`, { cause: e });
  }
  return decodeTrainState(bytes, file);
}

/** JSON with object keys sorted at every level (a canonical form to hash). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return value;
  });
}

/** sha-256 (hex) of the canonical JSON of `of`. */
export function fingerprint(of: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(of)).digest('hex');
}

/**
 * The model's part of a fingerprint: its structure with every tensor replaced by its shape, and a sha-256
 * over the paths and values of the tensors that do not train (a resumed run must start from the same
 * frozen weights; the trained ones come from the state file).
 */
export function modelFingerprint(model: ModelIR, trainable: (path: string) => boolean): { structure: unknown; frozen: string } {
  const hash = createHash('sha256');
  for (const { path, tensor } of listTensors(model)) {
    if (trainable(path)) continue;
    hash.update(path);
    hash.update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  }
  const { meta: _meta, name: _name, ...rest } = model;
  const structure = JSON.parse(
    JSON.stringify(rest, (_k, value: unknown) => (value instanceof Float32Array ? `f32[${value.length}]` : value)),
  ) as unknown;
  return { structure, frozen: hash.digest('hex') };
}

/** The top-level keys on which two fingerprint sources differ, as `key: old → new` lines. */
export function fingerprintChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const show = (v: unknown) => {
    const s = v === undefined || v === null ? 'none' : canonicalJson(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  };
  return keys.filter((k) => canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null)).map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`);
}

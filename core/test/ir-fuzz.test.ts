/**
 * Fuzzing the model file decoder: every truncation and single-bit flip of a small model file (and a seeded
 * sample of them for a real checkpoint) is either rejected with an OdemorError naming the file, or loads to
 * a model identical to the original (every field, every tensor bit for bit). Version 2 files must reject
 * every change (their SHA-256 covers every byte); version-1 files (no checksum) must at least never throw
 * anything but an OdemorError naming the file.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OdemorError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/ir/io.js';
import type { ModelIR } from '../src/ir/types.js';
import { createRng } from '../src/util/rng.js';
import { denseModel, fingerprint, splitFile, toV1 } from './ir-fixtures.js';

const SOURCE = 'fuzz.odemor';

interface Tally {
  cases: number;
  rejected: number;
  identical: number;
  /** loaded, but not the same model (only possible without a checksum) */
  different: number;
  /** rejected with something else than an OdemorError naming the file (must stay empty) */
  bad: string[];
  /** distinct messages, with the file name taken out */
  kinds: Map<string, number>;
}

function tally(): Tally {
  return { cases: 0, rejected: 0, identical: 0, different: 0, bad: [], kinds: new Map() };
}

function attempt(t: Tally, bytes: Uint8Array, ref: string, what: string): void {
  t.cases++;
  let model: ModelIR;
  try {
    model = decodeModel(bytes, SOURCE);
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    if (!OdemorError.is(e) || !msg.startsWith(`${SOURCE}: `) || msg.length > 600) {
      if (t.bad.length < 10) t.bad.push(`${what}: ${(e as Error)?.name}: ${msg}`);
    } else t.rejected++;
    const kind = msg.slice(SOURCE.length + 2).replace(/[0-9a-f]{16}…/g, 'H').replace(/\d+/g, 'N').slice(0, 48);
    t.kinds.set(kind, (t.kinds.get(kind) ?? 0) + 1);
    return;
  }
  if (JSON.stringify(fingerprint(model)) === ref) t.identical++;
  else t.different++;
}

/** Flip bit `bit` of `bytes` in place, run, flip it back. */
function flipAndTry(t: Tally, bytes: Uint8Array, bit: number, ref: string): void {
  const i = bit >> 3;
  const mask = 1 << (bit & 7);
  bytes[i]! ^= mask;
  try {
    attempt(t, bytes, ref, `bit ${bit} (byte ${i})`);
  } finally {
    bytes[i]! ^= mask;
  }
}

function report(name: string, t: Tally): void {
  const top = [...t.kinds].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${n}× ${k}`);
  console.log(`${name}: ${t.cases} cases, ${t.rejected} rejected, ${t.identical} identical, ${t.different} loaded different; ${top.join(' | ')}`);
}

describe('model file fuzzing', () => {
  const model = denseModel();
  const v2 = encodeModel(model);
  const v1 = toV1(v2);
  const ref = JSON.stringify(fingerprint(model));

  it(`version 2, a small model (${v2.length} bytes): every truncation and every single-bit flip is rejected`, () => {
    const cut = tally();
    for (let len = 0; len < v2.length; len++) attempt(cut, v2.subarray(0, len), ref, `truncated to ${len}`);
    const flips = tally();
    const bytes = v2.slice();
    for (let bit = 0; bit < bytes.length * 8; bit++) flipAndTry(flips, bytes, bit, ref);
    report('v2 truncations', cut);
    report('v2 bit flips', flips);
    expect(cut.bad).toEqual([]);
    expect(flips.bad).toEqual([]);
    expect(cut.rejected).toBe(v2.length);
    expect(flips.rejected).toBe(v2.length * 8);
    // the untouched bytes still load to the same model
    attempt(flips, bytes, ref, 'untouched');
    expect(flips.identical).toBe(1);
  });

  it(`version 1, the same model (${v1.length} bytes, no checksum): every truncation is rejected, no flip ends in a raw error`, () => {
    const cut = tally();
    for (let len = 0; len < v1.length; len++) attempt(cut, v1.subarray(0, len), ref, `truncated to ${len}`);
    const flips = tally();
    const bytes = v1.slice();
    const payloadAt = v1.length - splitFile(v1).payload.length;
    for (let bit = 0; bit < payloadAt * 8; bit++) flipAndTry(flips, bytes, bit, ref);
    const inPayload = tally();
    for (let bit = payloadAt * 8; bit < bytes.length * 8; bit++) flipAndTry(inPayload, bytes, bit, ref);
    report('v1 truncations', cut);
    report('v1 bit flips in the fixed header and JSON header', flips);
    report('v1 bit flips in the payload', inPayload);
    expect(cut.bad).toEqual([]);
    expect(cut.rejected).toBe(v1.length);
    expect(flips.bad).toEqual([]);
    expect(inPayload.bad).toEqual([]);
    expect(flips.cases + inPayload.cases).toBe(v1.length * 8);
    // a payload flip either makes a NaN/infinity (rejected, naming the tensor) or silently changes a weight
    expect(inPayload.rejected + inPayload.different).toBe(inPayload.cases);
    // a flip in the fixed header or the tensor table can never go unnoticed
    const hlen = new DataView(v1.buffer).getUint32(8, true);
    const headerText = new TextDecoder().decode(v1.subarray(12, 12 + hlen));
    const tableAt = 12 + new TextEncoder().encode(headerText.slice(0, headerText.indexOf('"tensors"'))).length;
    const tableEnd = 12 + new TextEncoder().encode(headerText.slice(0, headerText.indexOf(',"payloadBytes"'))).length;
    const guarded = tally();
    for (let bit = 0; bit < tableEnd * 8; bit++) if (bit < 12 * 8 || bit >= tableAt * 8) flipAndTry(guarded, bytes, bit, ref);
    expect(guarded.rejected + guarded.identical).toBe(guarded.cases);
  });

  it('a real checkpoint (conv-mnist, seeded samples): version 2 rejects every change, version 1 never throws raw errors', () => {
    const file = fileURLToPath(new URL('../../checkpoints/conv-mnist-v1.odemor', import.meta.url));
    const committed = new Uint8Array(readFileSync(file));
    const ckpt = decodeModel(committed, file);
    const ckptRef = JSON.stringify(fingerprint(ckpt));
    const rng = createRng(11);
    const bytes2 = encodeModel(ckpt);
    const cut = tally();
    // every length up to the end of the header, then every 13th
    const hlen = new DataView(bytes2.buffer).getUint32(8, true);
    for (let len = 0; len < bytes2.length; len += len < 52 + hlen + 8 ? 1 : 13) attempt(cut, bytes2.subarray(0, len), ckptRef, `truncated to ${len}`);
    const flips2 = tally();
    const flips1 = tally();
    const b2 = bytes2.slice();
    const b1 = committed.slice();
    // seeded samples (all 166k flips of version 2 take ~15 s): every bit of the fixed header, then random bits
    for (let bit = 0; bit < 52 * 8; bit++) flipAndTry(flips2, b2, bit, ckptRef);
    for (let i = 0; i < 12000; i++) flipAndTry(flips2, b2, Math.floor(rng.next() * b2.length * 8), ckptRef);
    for (let i = 0; i < 3000; i++) flipAndTry(flips1, b1, Math.floor(rng.next() * b1.length * 8), ckptRef);
    report('conv-mnist v2 truncations', cut);
    report('conv-mnist v2 bit flips', flips2);
    report('conv-mnist v1 bit flips', flips1);
    expect(cut.bad).toEqual([]);
    expect(cut.rejected).toBe(cut.cases);
    expect(flips2.bad).toEqual([]);
    expect(flips2.rejected).toBe(flips2.cases);
    expect(flips1.bad).toEqual([]);
  });
});

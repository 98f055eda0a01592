/**
 * Peak RSS of a Gram-mode snapshot pass for 10k vs 100k synthetic samples at n = 1024: each size runs in its
 * own child process; synthetic snapshot batches (1000 samples × 5 sampled columns, like every 2nd of 10 RK4
 * steps) get their batch Gram matrices computed natively by onnxruntime (Gemm with transA on the raw rows)
 * and are fed, with empty raw rows, to `StreamSnapshotter` (mode 'gram') from @odemor/snapshotter-stream.
 * When that snapshotter does not accept native Grams (`SnapshotBatch.gram`) yet, the Grams are summed with
 * core's `GramAccumulator.addGram` directly, and the result says so. Writes bench/results/snapshot-memory.md.
 *
 *   npm run bench:snapshots
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GramAccumulator, type SnapshotBatch } from '@odemor/core';
import { StreamSnapshotter } from '@odemor/snapshotter-stream';
import { fmt, gramGraph, mib, runEntry, runOne, session, table, writeAtomic } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const N = 1024;
const BATCH = 1000;
/** sampled columns per sample */
const COLUMNS = 5;
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);

interface ChildResult {
  samples: number;
  columns: number;
  wallSeconds: number;
  maxRssKiB: number;
  consumer: string;
  retainedBytes?: number;
}

/** Fill `out` with uniform values in [−1, 1) from a xorshift32 state; returns the new state. */
function fill(out: Float32Array, state: number): number {
  let s = state | 0;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) * (2 / 4294967296) - 1;
  }
  return s;
}

async function child(samples: number): Promise<ChildResult> {
  const n = N;
  const gram = await session(gramGraph(n), os.availableParallelism());
  const rows = new Float32Array(BATCH * COLUMNS * n);
  const final = new Float32Array(BATCH * n);
  const empty = new Float32Array(0);
  const snapshotter = new StreamSnapshotter({ mode: 'gram' });
  snapshotter.begin(n);
  let fallback: { states: GramAccumulator; nonlinear: GramAccumulator; g64: Float64Array } | undefined;
  let why = '';
  let state = 12345;
  let columns = 0;
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < samples; off += BATCH) {
    const b = Math.min(BATCH, samples - off);
    const count = b * COLUMNS;
    state = fill(rows.subarray(0, count * n), state);
    state = fill(final.subarray(0, b * n), state);
    const out = await runOne(gram, rows.subarray(0, count * n), [count, n]);
    const batch: SnapshotBatch = {
      n,
      states: empty,
      nonlinear: empty,
      count,
      final: final.subarray(0, b * n),
      samples: b,
      gram: { states: out.stateGram!.data as Float32Array, nonlinear: out.nonlinearGram!.data as Float32Array },
    };
    if (!fallback) {
      try {
        snapshotter.consume(batch);
      } catch (e) {
        why = (e as Error).message;
        fallback = { states: new GramAccumulator(n), nonlinear: new GramAccumulator(n), g64: new Float64Array(n * n) };
      }
    }
    if (fallback) {
      fallback.g64.set(batch.gram!.states);
      fallback.states.addGram(fallback.g64, count);
      fallback.g64.set(batch.gram!.nonlinear);
      fallback.nonlinear.addGram(fallback.g64, count);
    }
    columns += count;
  }
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await gram.release();
  return {
    samples,
    columns,
    wallSeconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    consumer: fallback
      ? `GramAccumulator.addGram (StreamSnapshotter refused a batch with native Grams and no raw rows: ${why.slice(0, 120)})`
      : 'StreamSnapshotter (gram mode, native batch Grams)',
    ...(fallback ? {} : { retainedBytes: snapshotter.retainedBytes }),
  };
}

function runChild(samples: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['--child', String(samples)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | undefined;
    c.on('message', (m) => (result = m as ChildResult));
    c.on('error', reject);
    c.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const results: ChildResult[] = [];
  for (const s of SIZES) {
    console.error(`[bench] ${s} samples …`);
    results.push(await runChild(s));
  }
  const base = results[0]!;
  const rows = results.map((r) => [
    String(r.samples),
    String(r.columns),
    `${fmt(r.wallSeconds, 1)} s`,
    mib(r.maxRssKiB),
    `${fmt(r.maxRssKiB / base.maxRssKiB, 2)}×`,
    r.retainedBytes !== undefined ? `${fmt(r.retainedBytes / 2 ** 20, 1)} MiB` : '—',
  ]);
  const grows = results.some((r) => r.maxRssKiB > base.maxRssKiB * 1.25 + 64 * 1024);
  const out = [
    '# Snapshot pass memory (Gram mode)',
    '',
    `${new Date().toISOString()} · node ${process.version} · ${os.availableParallelism()} CPUs (shared) · n = ${N}, batches of ${BATCH} samples × ${COLUMNS} sampled columns`,
    '',
    `Consumer: ${results[0]!.consumer}. One child process per size; peak RSS = process.resourceUsage().maxRSS of the child.`,
    'Batch Grams (float32 [n, n]) come from an onnxruntime Gemm (transA) over the batch\'s synthetic raw rows; only the Grams and the final states reach the consumer.',
    '',
    table(['samples', 'snapshot columns', 'wall', 'peak RSS', 'RSS vs first', 'retained by snapshotter'], rows),
    '',
    `Peak RSS ${grows ? 'GROWS' : 'does not grow'} with the number of samples (${results.map((r) => mib(r.maxRssKiB)).join(' vs ')}).`,
    '',
  ].join('\n');
  console.log(out);
  await writeAtomic(path.join(here, 'results', 'snapshot-memory.md'), out);
}

runEntry(main, '--child', (args) => child(Number(args[0])));

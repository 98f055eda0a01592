/**
 * Inference benchmark of odemor runtimes on a dense ODE block (n = 1024, tanh, RK4 dt = 0.1 on [0, 1]):
 * ORT GEMM roofline, the full block through onnxruntime and through tfjs-wasm, POD-DEIM reduced blocks at
 * k = m ∈ {50, 150, 350}, and a 60,000-input snapshot pass with native Gram matrices (in a child process,
 * so that its peak RSS is its own). Prints a table and writes bench/results/inference.md (atomically).
 *
 *   npm run bench:inference
 *
 * Environment knobs (for quick checks; the defaults are the benchmark): BENCH_INPUTS (10000), BENCH_REPS (5),
 * BENCH_BATCHES ("500,1000,2000"), BENCH_TFJS_INPUTS (200), BENCH_SNAPSHOT_INPUTS (60000),
 * BENCH_THREADS (ORT intra-op threads, default os.availableParallelism()), BENCH_SKIP ("tfjs,reduced,snapshot").
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GramAccumulator, type Executable, type ModelIR } from '@odemor/core';
import { TfjsRuntime, initTfjs } from '@odemor/runtime-tfjs';
import { OnnxRuntime } from '@odemor/runtime-onnx';
import { RK4_TABLEAU, Rk4Solver } from '@odemor/solver-rk4';
import { fmt, matmulGraph, median, mib, rng, runEntry, runOne, session, table, timeRuns, uniform, writeAtomic } from './lib.js';
import { N, STAGES, STEPS, fullModel, reducedModel } from './models.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (k: string, d: string): string => process.env[k] ?? d;
const INPUTS = Number(env('BENCH_INPUTS', '10000'));
const REPS = Number(env('BENCH_REPS', '5'));
const BATCHES = env('BENCH_BATCHES', '500,1000,2000').split(',').map(Number);
const TFJS_INPUTS = Number(env('BENCH_TFJS_INPUTS', '200'));
const SNAP_INPUTS = Number(env('BENCH_SNAPSHOT_INPUTS', '60000'));
const THREADS = Number(env('BENCH_THREADS', String(os.availableParallelism())));
const SKIP = new Set(env('BENCH_SKIP', '').split(',').filter(Boolean));
const GEMM_B = 1000;
const SNAP_EVERY = 2;

/** FLOPs of the block matmuls of one pass over `inputs`: 2·n²·stages·steps·inputs. */
const blockFlops = (n: number, inputs: number): number => 2 * n * n * STAGES * STEPS * inputs;

async function passOver(exe: Executable, x: Float32Array, inputs: number, batch: number, n: number): Promise<void> {
  for (let off = 0; off < inputs; off += batch) {
    const b = Math.min(batch, inputs - off);
    await exe.predict(x.subarray(off * n, (off + b) * n), b);
  }
}

// ───────────── snapshot pass (child process) ─────────────

interface SnapshotChildResult {
  wallSeconds: number;
  maxRssKiB: number;
  columns: number;
  samples: number;
  batch: number;
  traceG: number;
}

async function snapshotChild(inputs: number, batch: number, threads: number): Promise<SnapshotChildResult> {
  const model = fullModel();
  const n = model.block.n;
  const runtime = new OnnxRuntime({ threads });
  const states = new GramAccumulator(n);
  const nonlinear = new GramAccumulator(n);
  const g64 = new Float64Array(n * n);
  const x = new Float32Array(batch * n);
  const r = rng(99);
  const t0 = process.hrtime.bigint();
  let columns = 0;
  for (let off = 0; off < inputs; off += batch) {
    const b = Math.min(batch, inputs - off);
    const xb = uniform(r, b * n, 1, x.subarray(0, b * n));
    const snap = await runtime.snapshotBatch(model, xb, b, { every: SNAP_EVERY, tableau: RK4_TABLEAU, gram: true });
    g64.set(snap.gram!.states);
    states.addGram(g64, snap.count);
    g64.set(snap.gram!.nonlinear);
    nonlinear.addGram(g64, snap.count);
    columns += snap.count;
  }
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let traceG = 0;
  const G = states.gram();
  for (let i = 0; i < n; i++) traceG += G[i * n + i]!;
  await runtime.dispose();
  return { wallSeconds, maxRssKiB: process.resourceUsage().maxRSS, columns, samples: inputs, batch, traceG };
}

function runSnapshotChild(inputs: number, batch: number, threads: number): Promise<SnapshotChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--snapshot-child', String(inputs), String(batch), String(threads)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: SnapshotChildResult | undefined;
    child.on('message', (m) => (result = m as SnapshotChildResult));
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`snapshot child exited with ${code}`))));
  });
}

// ───────────── main ─────────────

async function main(): Promise<void> {
  const n = N;
  const rows: string[][] = [];
  const log = (s: string) => console.error(`[bench] ${s}`);
  log(`ORT threads ${THREADS}, ${os.availableParallelism()} CPUs, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);

  // 1. GEMM roofline: [B, n] × [n, n], CHAIN MatMuls per graph call. The machine is shared, so the roofline is
  //    measured again right before every timed run of the full block and each run is compared with its own
  //    roofline (paired ratio); the roofline row gives the median over all of those measurements.
  const CHAIN = 8;
  const gemm = await session(matmulGraph(n, CHAIN), THREADS);
  const gx = uniform(rng(1), GEMM_B * n);
  const gemmFlops = 2 * n * n * GEMM_B * CHAIN;
  const rooflineNow = async (): Promise<number> => {
    const t = median(await timeRuns(() => runOne(gemm, gx, [GEMM_B, n]), 2, 0));
    return gemmFlops / t / 1e9;
  };
  await rooflineNow(); // warm-up
  const roofs: number[] = [];

  // 2. full block through ORT, several batch sizes
  const model = fullModel();
  const x = uniform(rng(2), INPUTS * n);
  const ort = new OnnxRuntime({ threads: THREADS });
  const flops = blockFlops(n, INPUTS);
  const full = await ort.build(model, { tableau: RK4_TABLEAU });
  let best = { batch: 0, t: Infinity, pct: 0 };
  const fullRows: string[][] = [];
  for (const batch of BATCHES) {
    await passOver(full, x, INPUTS, batch, n); // warm-up
    const times: number[] = [];
    const pcts: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const roof = await rooflineNow();
      roofs.push(roof);
      const t = (await timeRuns(() => passOver(full, x, INPUTS, batch, n), 1, 0))[0]!;
      times.push(t);
      pcts.push((100 * flops) / t / 1e9 / roof);
    }
    const t = median(times);
    const pct = median(pcts);
    log(`full block, batch ${batch}: ${t.toFixed(2)} s, ${(flops / t / 1e9).toFixed(1)} GFLOP/s, ${pct.toFixed(0)}% of the paired roofline`);
    fullRows.push([`full block, onnx`, `batch ${batch}`, `${fmt(t)} s`, fmt(flops / t / 1e9, 1), `${fmt(pct, 0)}% of roofline (paired)`, '']);
    if (t < best.t) best = { batch, t, pct };
  }
  const roofline = median(roofs);
  rows.push([
    'ORT GEMM roofline',
    `MatMul [${GEMM_B}, ${n}]×[${n}, ${n}], ${CHAIN} chained per call`,
    `${fmt(((2 * n * n * GEMM_B) / roofline / 1e9) * 1e3, 1)} ms/MatMul`,
    fmt(roofline, 1),
    '100%',
    `median of ${roofs.length}, range ${fmt(Math.min(...roofs), 0)}–${fmt(Math.max(...roofs), 0)}`,
  ]);
  rows.push(...fullRows);
  log(`roofline ${roofline.toFixed(1)} GFLOP/s`);
  const fullT = best.t;
  const fullPct = best.pct;
  // reference logits for a sanity check of the other runtimes
  const ref = await full.predict(x.subarray(0, 8 * n), 8);
  await full.dispose();

  // 3. tfjs on wasm, a subset scaled to INPUTS
  let tfjsT = NaN;
  let tfjsNote = 'skipped';
  if (!SKIP.has('tfjs')) {
    const backend = await initTfjs('wasm');
    const tfjs = await new TfjsRuntime({ backend: 'wasm' }).build(model, { solver: new Rk4Solver() });
    const sub = Math.min(TFJS_INPUTS, INPUTS);
    const tb = Math.min(500, sub);
    const check = await tfjs.predict(x.subarray(0, 8 * n), 8);
    const diff = Math.max(...Array.from(check, (v, i) => Math.abs(v - ref[i]!)));
    const t = median(await timeRuns(() => passOver(tfjs, x, sub, tb, n), REPS, 1));
    tfjsT = (t * INPUTS) / sub;
    tfjsNote = `${backend}; ${sub} inputs timed (${fmt(t)} s), scaled ×${INPUTS / sub}; max |Δlogits| vs onnx ${diff.toExponential(1)}`;
    rows.push(['full block, tfjs', `batch ${tb}`, `${fmt(tfjsT)} s`, fmt(flops / tfjsT / 1e9, 1), `onnx ${fmt(tfjsT / fullT, 1)}× faster`, tfjsNote]);
    await tfjs.dispose();
    log(`tfjs: ${tfjsT.toFixed(2)} s (scaled)`);
  }

  // 4. POD-DEIM reduced blocks through ORT (batch of the best full run)
  const speedups = new Map<number, number>();
  if (!SKIP.has('reduced')) {
    for (const k of [50, 150, 350]) {
      const red: ModelIR = reducedModel(model, k);
      const exe = await ort.build(red, { tableau: RK4_TABLEAU });
      const t = median(await timeRuns(() => passOver(exe, x, INPUTS, best.batch, n), REPS, 1));
      await exe.dispose();
      speedups.set(k, fullT / t);
      // E, D: 2·n·k each per input; per stage M, N: 2·k·m each
      const rf = INPUTS * (4 * n * k + STAGES * STEPS * 4 * k * k);
      rows.push([`POD-DEIM k = m = ${k}`, `batch ${best.batch}`, `${fmt(t, 3)} s`, fmt(rf / t / 1e9, 1), `${fmt(fullT / t, 1)}× vs full`, '']);
      log(`k = ${k}: ${t.toFixed(3)} s, ${(fullT / t).toFixed(1)}×`);
    }
  }
  await ort.dispose();

  // 5. snapshot pass with Gram matrices, in a child process
  let snap: SnapshotChildResult | undefined;
  let snapRoof = NaN;
  let snapAtRoof = NaN;
  if (!SKIP.has('snapshot')) {
    const before = await rooflineNow();
    snap = await runSnapshotChild(SNAP_INPUTS, best.batch, THREADS);
    const after = await rooflineNow();
    const sf = blockFlops(n, SNAP_INPUTS) + 2 * 2 * n * n * snap.columns;
    snapRoof = (before + after) / 2;
    snapAtRoof = sf / (snapRoof * 1e9);
    rows.push([
      `snapshot pass + Gram`,
      `${SNAP_INPUTS} inputs, every ${SNAP_EVERY}, batch ${snap.batch}`,
      `${fmt(snap.wallSeconds, 1)} s`,
      fmt(sf / snap.wallSeconds / 1e9, 1),
      `peak RSS ${mib(snap.maxRssKiB)}`,
      `${snap.columns} columns; Grams summed in float64 (GramAccumulator.addGram); ${fmt((100 * sf) / snap.wallSeconds / 1e9 / snapRoof, 0)}% of the roofline measured around it (${fmt(snapRoof, 1)} GFLOP/s: ${fmt(snapAtRoof, 0)} s at that rate)`,
    ]);
  }

  await gemm.release();
  const targets: string[][] = [];
  const verdict = (ok: boolean) => (Number.isNaN(ok as unknown as number) ? 'n/a' : ok ? 'PASS' : 'MISS');
  targets.push(['full block ≥ 60% of GEMM roofline', `${fmt(fullPct, 0)}%`, verdict(fullPct >= 60)]);
  targets.push(['onnx ≥ 5× faster than tfjs-wasm', Number.isNaN(tfjsT) ? 'skipped' : `${fmt(tfjsT / fullT, 1)}×`, Number.isNaN(tfjsT) ? 'n/a' : verdict(tfjsT / fullT >= 5)]);
  const s50 = speedups.get(50);
  targets.push(['POD-DEIM k = 50 ≥ 8× faster than full', s50 ? `${fmt(s50, 1)}×` : 'skipped', s50 ? verdict(s50 >= 8) : 'n/a']);
  targets.push(['60k snapshot pass < 120 s', snap ? `${fmt(snap.wallSeconds, 1)} s` : 'skipped', snap ? verdict(snap.wallSeconds < 120) : 'n/a']);
  targets.push(['60k snapshot pass peak RSS < 2 GiB', snap ? mib(snap.maxRssKiB) : 'skipped', snap ? verdict(snap.maxRssKiB < 2 * 1024 * 1024) : 'n/a']);

  const header = [
    `# Inference benchmark`,
    ``,
    `${new Date().toISOString()} · node ${process.version} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} CPUs (shared; load at start ${os.loadavg()[0]!.toFixed(1)}) · ORT intra-op threads ${THREADS}`,
    ``,
    `Model: input [${n}] → ODE block x' = tanh(A x + b), A dense ${n}×${n} → dense ${n}→10; RK4, dt = 0.1 on [0, 1] (${STEPS} steps × ${STAGES} stages); ${INPUTS} inputs.`,
    `Times are medians of ${REPS} runs after one warm-up run. The full block's % of roofline is the median of per-run ratios to a GEMM roofline measured right before each run (the CPUs are shared, so load varies between runs). Full-block GFLOP/s = 2·n²·4 stages·10 steps·inputs / wall time (block matmuls only; wall time includes everything).`,
    `Reduced GFLOP/s = inputs·(4·n·k + 40·4·k·m) / wall time (E, D and the per-stage M, N products). Snapshot GFLOP/s adds 2·2·n²·columns for the two Grams.`,
    ``,
  ].join('\n');
  const out = [
    header,
    table(['measurement', 'configuration', 'median wall', 'GFLOP/s', 'ratio', 'notes'], rows),
    '',
    table(['target', 'measured', 'result'], targets),
    '',
  ].join('\n');
  console.log(out);
  await writeAtomic(path.join(here, 'results', 'inference.md'), out);
}

runEntry(main, '--snapshot-child', (args) => {
  const [inputs, batch, threads] = args.map(Number) as [number, number, number];
  return snapshotChild(inputs, batch, threads);
});

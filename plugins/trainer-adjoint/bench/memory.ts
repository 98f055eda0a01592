/**
 * Peak RSS of the adjoint program vs backprop-onnx's gradient program at 100 and 1000 Euler steps (a dense-node of
 * the runtime suite, batch 16, one compile and 3 runs each), every measurement in its own child process.
 * Run: npx tsx plugins/trainer-adjoint/bench/memory.ts   (prints one JSON line per case, then a summary, and writes
 * bench/results/adjoint-memory.md and .json at the repository root)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, type ButcherTableau, type ModelIR, type Tensor32 } from '@odemor/core';
import { compileGradientProgram } from '@odemor/runtime-onnx';
import { compileAdjointProgram } from '../src/index.js';

const self = fileURLToPath(import.meta.url);
const EULER: ButcherTableau = { a: [[0]], b: [1], c: [0], order: 1 };
const rand = mulberry32(1);
const uniform = (shape: number[], scale: number): Tensor32 => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (2 * rand() - 1) * scale) });

/** dense 4→8, tanh block n = 8, dense 8→3 (the runtime suite's dense-node shape), Euler over [0, 1]. */
const denseNode = (steps: number): ModelIR => ({
  format: 'odemor-model',
  version: 1,
  name: 'dense-node',
  input: { kind: 'tensor', shape: [4] },
  pre: [{ type: 'dense', weight: uniform([8, 4], 0.8), bias: uniform([8], 0.2) }],
  block: { kind: 'ode', n: 8, A: { type: 'dense', weight: uniform([8, 8], 0.6) }, b: uniform([8], 0.3), activation: 'tanh' },
  post: [{ type: 'dense', weight: uniform([3, 8], 0.8), bias: uniform([3], 0.1) }],
  solver: { use: 'euler', dt: 1 / steps, t0: 0, t1: 1 },
  outputs: 3,
});

async function child(kind: string, steps: number): Promise<void> {
  const model = denseNode(steps);
  const batch = 16;
  const x = Float32Array.from({ length: batch * 4 }, () => 2 * rand() - 1);
  const y = Int32Array.from({ length: batch }, (_, i) => i % model.outputs);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const base = peak;
  const options = { tableau: EULER, trainable: () => true, threads: 1 };
  const program = kind === 'adjoint' ? await compileAdjointProgram(model, options) : await compileGradientProgram(model, options);
  for (let i = 0; i < 3; i++) await program.run(new Map(), x, y, batch);
  await program.dispose();
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(timer);
  console.log(JSON.stringify({ kind, steps, baseMiB: +(base / 2 ** 20).toFixed(1), peakMiB: +(peak / 2 ** 20).toFixed(1), growthMiB: +((peak - base) / 2 ** 20).toFixed(1) }));
}

async function main(): Promise<void> {
  const [kind, steps] = process.argv.slice(2);
  if (kind) return child(kind, Number(steps));
  const rows: { kind: string; steps: number; growthMiB: number }[] = [];
  for (const k of ['adjoint', 'backprop-onnx']) {
    for (const s of [100, 1000]) {
      const out = execFileSync(process.execPath, [...process.execArgv, self, k, String(s)], { encoding: 'utf8' });
      const row = JSON.parse(out.trim().split('\n').at(-1)!);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
  const growth = (k: string) => rows.find((r) => r.kind === k && r.steps === 1000)!.growthMiB - rows.find((r) => r.kind === k && r.steps === 100)!.growthMiB;
  const summary = `peak RSS growth from 100 to 1000 steps: adjoint ${growth('adjoint').toFixed(1)} MiB, backprop-onnx ${growth('backprop-onnx').toFixed(1)} MiB`;
  console.log(summary);
  const dir = path.resolve(path.dirname(self), '..', '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'adjoint-memory.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n');
  const md = [
    '# Peak RSS: the adjoint against backprop-onnx',
    '',
    'A dense-node (dense 4→8, tanh block n = 8, dense 8→3), batch 16, Euler over [0, 1]; each case in its own child process, one compile and 3 gradient runs; peak RSS growth over the process\'s RSS before the compile (`plugins/trainer-adjoint/bench/memory.ts`).',
    '',
    '| trainer | steps | peak RSS growth MiB |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.kind} | ${r.steps} | ${r.growthMiB} |`),
    '',
    summary + '.',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'adjoint-memory.md'), md);
}

await main();

/**
 * Peak RSS of the adjoint program vs backprop-onnx's gradient program at 100 and 1000 Euler steps (a dense-node of
 * the runtime suite, batch 16, one compile and 3 runs each), every measurement in its own child process.
 * Run: npx tsx plugins/trainer-adjoint/bench/memory.ts   (prints one JSON line per case, then a summary)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelIR } from '@odemor/core';
import { REFERENCE_TABLEAUX, inputSize, runtimeModels, uniformInput } from '@odemor/conformance';
import { compileGradientProgram } from '@odemor/runtime-onnx';
import { compileAdjointProgram } from '../src/index.js';

const self = fileURLToPath(import.meta.url);

async function child(kind: string, steps: number): Promise<void> {
  const model: ModelIR = { ...runtimeModels.denseNode(), solver: { use: 'euler', dt: 1 / steps, t0: 0, t1: 1 } };
  const batch = 16;
  const x = uniformInput(1, batch * inputSize(model));
  const y = Int32Array.from({ length: batch }, (_, i) => i % model.outputs);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const base = peak;
  const options = { tableau: REFERENCE_TABLEAUX.euler, trainable: () => true, threads: 1 };
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
  console.log(`peak RSS growth from 100 to 1000 steps: adjoint ${growth('adjoint').toFixed(1)} MiB, backprop-onnx ${growth('backprop-onnx').toFixed(1)} MiB`);
}

await main();

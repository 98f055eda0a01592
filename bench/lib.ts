/**
 * Shared helpers of the benchmarks: timing (medians), seeded random data, tiny hand-built ONNX graphs
 * (GEMM roofline, batch Gram matrices), table formatting and atomic result files.
 */
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';

const onnx = onnxProto.onnx;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Run `fn` `warmup` times untimed, then `reps` times timed; returns the seconds of each timed run. */
export async function timeRuns(fn: () => Promise<unknown>, reps = 5, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return out;
}

/** mulberry32 from core: a small seeded uniform generator in [0, 1). */
import { mulberry32 as rng, writeFileAtomic } from '@odemor/core';
import { createSession } from '@odemor/runtime-onnx';
export { rng };

/** Uniform values in [−scale, scale). */
export function uniform(r: () => number, size: number, scale = 1, out = new Float32Array(size)): Float32Array {
  for (let i = 0; i < size; i++) out[i] = (2 * r() - 1) * scale;
  return out;
}

/** Approximately normal N(0, std²) values (sum of 4 uniforms, rescaled). */
export function normalish(r: () => number, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  const k = std * Math.sqrt(3); // var of a sum of 4 U(−1, 1) is 4/3
  for (let i = 0; i < size; i++) out[i] = ((2 * r() - 1 + 2 * r() - 1 + 2 * r() - 1 + 2 * r() - 1) * k) / 2;
  return out;
}

// ───────────── hand-built ONNX graphs ─────────────

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function encode(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, producerName: 'odemor-bench', opsetImport: [{ domain: '', version: 17 }], graph }),
  ).finish();
}

/**
 * `y = x W W … W` (`chain` MatMuls) with x [batch, n] (input) and one random constant W [n, n] (variance-
 * preserving scale): the GEMM shape of one block stage, repeated so that the graph's input/output copies
 * and the per-call overhead do not count against the roofline.
 */
export function matmulGraph(n: number, chain = 1, seed = 1): Uint8Array {
  const W = uniform(rng(seed), n * n, Math.sqrt(3 / n));
  const node: onnxProto.onnx.INodeProto[] = [];
  for (let i = 0; i < chain; i++) {
    node.push({ opType: 'MatMul', input: [i === 0 ? 'x' : `h${i}`, 'W'], output: [i === chain - 1 ? 'y' : `h${i + 1}`], name: `mm${i}` });
  }
  return encode({
    name: 'gemm-roofline',
    node,
    initializer: [{ name: 'W', dataType: FLOAT, dims: [n, n], rawData: new Uint8Array(W.buffer) }],
    input: [valueInfo('x', ['batch', n])],
    output: [valueInfo('y', ['batch', n])],
  });
}

/** Batch Gram matrices of rows x [rows, n]: `stateGram = xᵀx`, `nonlinearGram = tanh(x)ᵀ tanh(x)` (Gemm, transA). */
export function gramGraph(n: number): Uint8Array {
  return encode({
    name: 'batch-gram',
    node: [
      { opType: 'Tanh', input: ['x'], output: ['f'], name: 'tanh' },
      { opType: 'Gemm', input: ['x', 'x'], output: ['stateGram'], name: 'gx', attribute: [{ name: 'transA', type: 2, i: 1 }] },
      { opType: 'Gemm', input: ['f', 'f'], output: ['nonlinearGram'], name: 'gf', attribute: [{ name: 'transA', type: 2, i: 1 }] },
    ],
    input: [valueInfo('x', ['rows', n])],
    output: [valueInfo('stateGram', [n, n]), valueInfo('nonlinearGram', [n, n])],
  });
}

/** A session with the runtime's own options (so the roofline is measured the way models run). */
export function session(bytes: Uint8Array, threads: number): Promise<InferenceSession> {
  return createSession(bytes, threads);
}

export async function runOne(s: InferenceSession, x: Float32Array, dims: number[]): Promise<InferenceSession.OnnxValueMapType> {
  return s.run({ [s.inputNames[0]!]: new Tensor('float32', x, dims) });
}

// ───────────── output ─────────────

/** A plain-text table (also valid Markdown). */
export function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Write `text` to `file` atomically (temporary file in the same folder, then rename). */
export const writeAtomic = (file: string, text: string): Promise<void> => writeFileAtomic(file, text);

/**
 * Entry point of a bench script: with `childFlag` as the first argument, run `child` (a measurement in
 * its own process, for an unshared peak RSS) and send its result to the parent; otherwise run `main`.
 */
export function runEntry<T>(main: () => Promise<void>, childFlag: string, child: (args: string[]) => Promise<T>): void {
  const fail = (e: unknown) => {
    console.error(e);
    process.exit(1);
  };
  if (process.argv[2] === childFlag) child(process.argv.slice(3)).then((r) => process.send!(r, () => process.exit(0)), fail);
  else main().catch(fail);
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
export const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

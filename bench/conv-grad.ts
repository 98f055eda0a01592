/**
 * Formulations of the convolution and max-pool gradients (plugins/runtime-onnx/src/grad/conv.ts) on
 * onnxruntime-node, at the conv Neural ODE's shapes (checkpoints/conv-mnist.odemor), batch 128:
 * - the block's conv: [B, 16, 8, 8], 3×3, pads 1, stride 1 (40 evaluations per training step);
 * - the pre layer's conv: [B, 1, 28, 28] → [B, 16, 26, 26], 3×3 valid, with a bias;
 * - the pre layer's max-pool: [B, 16, 26, 26] → [B, 16, 8, 8], 3×3 stride 3 valid;
 * - the post layer's max-pool: [B, 16, 8, 8] → [B, 16, 3, 3], 3×3 stride 3 same (pads [0, 0, 1, 1]).
 * Each graph evaluates its formulation R times on R distinct inputs (chained where the shapes allow), so
 * the per-call overhead is shared; times are per evaluation, medians over rounds that interleave all the
 * variants (the machine is shared). Prints a table and writes bench/results/conv-grad.md and .json.
 *
 *   npm run bench:conv-grad
 *
 * Knobs: BENCH_REPS (rounds, default 15), BENCH_THREADS (ORT intra-op threads, default 2), BENCH_BATCH (128).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { GraphBuilder } from '../plugins/runtime-onnx/src/graph.js';
import {
  DEFAULT_FORMULATIONS,
  FORMULATIONS,
  emitConvBiasGrad,
  emitConvFilterGrad,
  emitConvInputGrad,
  emitMaxPoolGrad,
  type ConvAttrs,
  type ConvShapes,
} from '../plugins/runtime-onnx/src/grad/conv.js';
import { fmt, median, rng, session, table, uniform, writeAtomic } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (k: string, d: string): string => process.env[k] ?? d;
const REPS = Number(env('BENCH_REPS', '15'));
const THREADS = Number(env('BENCH_THREADS', '2'));
const B = Number(env('BENCH_BATCH', '128'));

interface Layer {
  key: string;
  title: string;
  attrs: ConvAttrs;
  shapes: ConvShapes;
  /** evaluations per graph */
  R: number;
}

const blockConv: Layer = { key: 'blockConv', title: 'block conv [B,16,8,8] 3×3 same', attrs: { kernel: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, shapes: { x: [16, 8, 8], y: [16, 8, 8] }, R: 16 };
const preConv: Layer = { key: 'preConv', title: 'pre conv [B,1,28,28]→[B,16,26,26] 3×3 valid', attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [1, 1] }, shapes: { x: [1, 28, 28], y: [16, 26, 26] }, R: 4 };
const prePool: Layer = { key: 'prePool', title: 'pre max-pool [B,16,26,26]→[B,16,8,8] 3×3/3 valid', attrs: { kernel: [3, 3], pads: [0, 0, 0, 0], strides: [3, 3] }, shapes: { x: [16, 26, 26], y: [16, 8, 8] }, R: 4 };
const postPool: Layer = { key: 'postPool', title: 'post max-pool [B,16,8,8]→[B,16,3,3] 3×3/3 same', attrs: { kernel: [3, 3], pads: [0, 0, 1, 1], strides: [3, 3] }, shapes: { x: [16, 8, 8], y: [16, 3, 3] }, R: 16 };

interface Variant {
  layer: Layer;
  name: string;
  /** the reference of its layer (the forward op) */
  reference?: boolean;
  note?: string;
  session: InferenceSession;
  feeds: Record<string, Tensor>;
  times: number[];
}

const prod = (a: readonly number[]) => a.reduce((p, v) => p * v, 1);
const r = rng(20261201);
const data = (dims: number[]) => new Tensor('float32', uniform(r, prod(dims)), dims);

/** A graph over inputs `names` (dims each) with one output `out` of `outDims`. */
async function build(
  inputs: { name: string; dims: number[] }[],
  body: (g: GraphBuilder) => string,
  outDims: (number | string)[],
): Promise<{ session: InferenceSession; feeds: Record<string, Tensor> }> {
  const g = new GraphBuilder();
  g.node('Identity', [body(g)], {}, 'out');
  const bytes = g.encode({
    name: 'conv-grad-bench',
    opset: 17,
    inputs: inputs.map((i) => ({ name: i.name, dims: i.name.startsWith('w') ? i.dims : ['B', ...i.dims.slice(1)] })),
    outputs: [{ name: 'out', dims: outDims }],
  });
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, data(i.dims)]));
  return { session: await session(bytes, THREADS), feeds };
}

const names = (prefix: string, R: number) => Array.from({ length: R }, (_, i) => `${prefix}${i}`);
const sumOf = (g: GraphBuilder, vs: string[]) => (vs.length === 1 ? vs[0]! : g.node('Sum', vs));
/** a big result reduced to a scalar, so that it is not copied out */
const total = (g: GraphBuilder, v: string) => g.node('ReduceSum', [v], { keepdims: 0 });

async function convVariants(L: Layer): Promise<Variant[]> {
  const { attrs, shapes, R } = L;
  const [ci, H, W] = shapes.x;
  const [co, Hy, Wy] = shapes.y;
  const [kh, kw] = attrs.kernel;
  const xDims = [B, ci, H, W];
  const yDims = [B, co, Hy, Wy];
  const wIn = { name: 'w', dims: [co, ci, kh, kw] };
  const xs = names('x', R);
  const dys = names('dy', R);
  const out: Variant[] = [];
  const add = async (name: string, v: Promise<{ session: InferenceSession; feeds: Record<string, Tensor> }>, extra: Partial<Variant> = {}) =>
    out.push({ layer: L, name, times: [], ...(await v), ...extra });
  const convAttrs = { kernel_shape: attrs.kernel, pads: attrs.pads, strides: attrs.strides };
  const chain = ci === co && Hy === H && Wy === W;

  // forward reference: chained (block) or R inputs reduced to a scalar (pre)
  if (chain) {
    await add('forward Conv', build([{ name: 'x0', dims: xDims }, wIn], (g) => {
      let v = 'x0';
      for (let i = 0; i < R; i++) v = g.node('Conv', [v, 'w'], convAttrs);
      return total(g, v);
    }, []), { reference: true });
    for (const f of FORMULATIONS.input) {
      await add(`input grad: ${f}`, build([{ name: 'dy0', dims: yDims }, wIn], (g) => {
        let v = 'dy0';
        for (let i = 0; i < R; i++) v = emitConvInputGrad(g, v, 'w', attrs, shapes, { formulation: f });
        return total(g, v);
      }, []));
    }
  } else {
    await add('forward Conv', build([...xs.map((name) => ({ name, dims: xDims })), wIn], (g) => sumOf(g, xs.map((x) => total(g, g.node('Conv', [x, 'w'], convAttrs)))), []), {
      reference: true,
      note: 'each output reduced to a scalar (ReduceSum)',
    });
  }
  const pairs = [...xs.map((name) => ({ name, dims: xDims })), ...dys.map((name) => ({ name, dims: yDims }))];
  for (const f of FORMULATIONS.filter) {
    await add(`filter grad: ${f}`, build(pairs, (g) => sumOf(g, xs.map((x, i) => emitConvFilterGrad(g, x, dys[i]!, attrs, shapes, { formulation: f }))), [co, ci, kh, kw]));
  }
  await add('filter grad: default (auto)', build(pairs, (g) => sumOf(g, xs.map((x, i) => emitConvFilterGrad(g, x, dys[i]!, attrs, shapes))), [co, ci, kh, kw]));
  for (const f of ['shift-gemm', 'shift-matmul', 'slices-matmul', 'unfold-matmul'] as const) {
    await add(`filter grad: ${f}, ${R} evaluations in one`, build(pairs, (g) => emitConvFilterGrad(g, xs, dys, attrs, shapes, { formulation: f }), [co, ci, kh, kw]), {
      note: 'x and dy of all evaluations concatenated along the batch',
    });
  }
  if (L === preConv) {
    await add('bias grad (ReduceSum)', build(dys.map((name) => ({ name, dims: yDims })), (g) => sumOf(g, dys.map((d) => emitConvBiasGrad(g, d))), [co]));
  }
  return out;
}

async function poolVariants(L: Layer): Promise<Variant[]> {
  const { attrs, shapes, R } = L;
  const [c, H, W] = shapes.x;
  const [, Hy, Wy] = shapes.y;
  const xDims = [B, c, H, W];
  const yDims = [B, c, Hy, Wy];
  const xs = names('x', R);
  const dys = names('dy', R);
  const out: Variant[] = [];
  const poolAttrs = { kernel_shape: attrs.kernel, pads: attrs.pads, strides: attrs.strides };
  const add = async (name: string, v: Promise<{ session: InferenceSession; feeds: Record<string, Tensor> }>, extra: Partial<Variant> = {}) =>
    out.push({ layer: L, name, times: [], ...(await v), ...extra });
  await add('forward MaxPool', build(xs.map((name) => ({ name, dims: xDims })), (g) => sumOf(g, xs.map((x) => total(g, g.node('MaxPool', [x], poolAttrs)))), []), { reference: true });
  await add('ReduceSum of an x-sized input (overhead)', build(xs.map((name) => ({ name, dims: xDims })), (g) => sumOf(g, xs.map((x) => total(g, x))), []), {
    note: 'the cost of reducing each gradient to a scalar, included in the rows below',
  });
  // the forward output y is computed outside the timed gradient: fed as an input (random, so 'equal' finds few maxima — same cost)
  const ys = names('y', R);
  const inputs = [...xs.map((name) => ({ name, dims: xDims })), ...ys.map((name) => ({ name, dims: yDims })), ...dys.map((name) => ({ name, dims: yDims }))];
  for (const f of FORMULATIONS.maxPool) {
    await add(`max-pool grad: ${f}`, build(inputs, (g) => sumOf(g, xs.map((x, i) => total(g, emitMaxPoolGrad(g, x, ys[i]!, dys[i]!, attrs, shapes, { formulation: f })))), []));
  }
  return out;
}

async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const loadStart = os.loadavg()[0]!;
  log(`conv-grad bench: batch ${B}, ORT threads ${THREADS}, ${REPS} rounds, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const variants = [...(await convVariants(blockConv)), ...(await convVariants(preConv)), ...(await poolVariants(prePool)), ...(await poolVariants(postPool))];
  const run = async (v: Variant) => {
    const t = process.hrtime.bigint();
    await v.session.run(v.feeds);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  for (const v of variants) for (let i = 0; i < 2; i++) await run(v); // warm-up
  for (let rep = 0; rep < REPS; rep++) {
    for (const v of variants) v.times.push(await run(v));
    log(`round ${rep + 1}/${REPS}`);
  }
  for (const v of variants) await v.session.release();

  const perEval = (v: Variant) => (median(v.times) / v.layer.R) * 1e3; // ms
  const rows: string[][] = [];
  const json: Record<string, { reference: string; referenceMs: number; variants: Record<string, { msPerEvaluation: number; vsReference: number; minMs: number; maxMs: number }> }> = {};
  for (const L of [blockConv, preConv, prePool, postPool]) {
    const vs = variants.filter((v) => v.layer === L);
    const ref = vs.find((v) => v.reference)!;
    const refMs = perEval(ref);
    json[L.key] = { reference: ref.name, referenceMs: refMs, variants: {} };
    for (const v of vs) {
      const ms = perEval(v);
      const lo = (Math.min(...v.times) / L.R) * 1e3;
      const hi = (Math.max(...v.times) / L.R) * 1e3;
      json[L.key]!.variants[v.name] = { msPerEvaluation: ms, vsReference: ms / refMs, minMs: lo, maxMs: hi };
      rows.push([L.title, v.name, `${fmt(ms, 3)} ms`, v.reference ? '1.00×' : `${fmt(ms / refMs)}×`, `${fmt(lo, 3)}–${fmt(hi, 3)}`, v.note ?? '']);
    }
  }
  const header = [
    '# Convolution and max-pool gradients on onnxruntime-node',
    '',
    `${new Date().toISOString()} · node ${process.version} · ${os.cpus()[0]?.model ?? 'cpu'} · ${os.availableParallelism()} CPUs (shared; 1-min load ${loadStart.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at the end) · ORT intra-op threads ${THREADS} · batch ${B}`,
    '',
    `Formulations of plugins/runtime-onnx/src/grad/conv.ts at the conv Neural ODE's shapes. Each graph runs its formulation R times (block conv and post pool R = ${blockConv.R}, pre conv and pre pool R = ${preConv.R}) on distinct inputs or chained; times are per evaluation (median run time / R) over ${REPS} rounds that interleave all variants, after 2 warm-up runs each; the range is min–max per evaluation. Ratios are against the layer's forward op in the same harness.`,
    `Defaults: input grad '${DEFAULT_FORMULATIONS.input}', filter grad '${DEFAULT_FORMULATIONS.filter}', max-pool grad '${DEFAULT_FORMULATIONS.maxPool}'.`,
    '',
  ].join('\n');
  const md = [header, table(['layer', 'formulation', 'per evaluation', 'vs forward', 'range (ms)', 'notes'], rows), ''].join('\n');
  console.log(md);
  await writeAtomic(path.join(here, 'results', 'conv-grad.md'), md);
  await writeAtomic(
    path.join(here, 'results', 'conv-grad.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? 'cpu', threads: THREADS, batch: B, rounds: REPS, defaults: DEFAULT_FORMULATIONS, layers: json }, null, 2)}\n`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

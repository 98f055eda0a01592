/**
 * Paired timing (`evaluate.timing`): the baseline's executable stays open for the run and every later model
 * is timed beside it; rows carry `speedupRange` and `baselineSeconds`, results.json a `timing` object and the
 * fuller environment. A fake runtime counts builds and disposals and can slow the baseline down (drift).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Batch, Dataset, Executable, ExperimentResults, ModelIR, OdemorPlugin, ResultRow, Runtime } from '../src/index.js';
import { runExperiment, STAGING_DIR } from '../src/index.js';
import { DRIFT_THRESHOLD, driftWarning, pairedSpeedup, timingDrift, timingSummary } from '../src/pipeline/evaluate.js';
import { resultsMarkdown, speedupCell } from '../src/pipeline/results.js';

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-timing-'));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Built {
  id: number;
  model: ModelIR;
  disposed: boolean;
  calls: number;
}

/**
 * Runtime 'fake': executables answering zero logits, recorded in `built`. `slowAfter(b)` > 0 makes every
 * predict call of executable `b` after its first `slowAfter` calls sleep `delayMs`.
 */
function fakeRuntimePlugin(opts: { slowAfter?: (b: Built) => number; delayMs?: number } = {}): OdemorPlugin & { built: Built[] } {
  const built: Built[] = [];
  const runtime: Runtime = {
    name: 'fake',
    version: 'fakert 9.9.9',
    capabilities: { snapshots: false, gram: false, adaptive: true, train: false },
    supports: () => ({ ok: true }),
    async build(model: ModelIR, o?: Record<string, unknown>): Promise<Executable> {
      const b: Built = { id: built.length, model, disposed: false, calls: 0 };
      built.push(b);
      return {
        info: { runtime: 'fake', backend: 'js', threads: (o?.threads as number | undefined) ?? 3 },
        async predict(_x: Float32Array, batch: number): Promise<Float32Array> {
          if (b.disposed) throw new Error(`executable ${b.id} used after dispose`);
          const after = opts.slowAfter?.(b) ?? 0;
          if (after > 0 && b.calls++ >= after) await sleep(opts.delayMs ?? 10);
          return new Float32Array(batch * model.outputs);
        },
        dispose() {
          b.disposed = true;
        },
      };
    },
  };
  return { name: 'fake-runtime', built, register: (ctx) => ctx.provide('Runtime', 'fake', () => runtime) };
}

/** Dataset 'tiny-images': 8×8×1 images, 3 classes, 12 train and 12 test samples. */
const imagesPlugin: OdemorPlugin = {
  name: 'tiny-images',
  register(ctx) {
    ctx.provide('Dataset', 'tiny-images', () => {
      const ds: Dataset = {
        name: 'tiny-images',
        info: { inputShape: [8, 8, 1], kind: 'image', numClasses: 3, trainSize: 12, testSize: 12 },
        async *batches(_split, batchSize): AsyncGenerator<Batch> {
          for (let s = 0; s < 12; s += batchSize) {
            const size = Math.min(batchSize, 12 - s);
            yield { x: new Float32Array(size * 64).fill(0.5), y: Int32Array.from({ length: size }, (_, i) => (s + i) % 3), size };
          }
        },
      };
      return ds;
    });
  },
};

const spirals = (evaluate: string, extra = '') => `name: timing
seed: 3
dataset: { use: spirals, classes: 2, train: 60, test: 40 }
model: { use: dense-node, hidden: 6, solver: { use: euler, dt: 0.5 } }
train: false
reducers:
  - { use: svd, dims: [2, 4] }
evaluate: ${evaluate}
${extra}`;

function config(text: string): string {
  const file = path.join(tmp(), 'c.yaml');
  fs.writeFileSync(file, text);
  return file;
}
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;

function expectPaired(rows: ResultRow[]): void {
  const [baseline, ...rest] = rows;
  expect(baseline!.speedup).toBe(1);
  expect(baseline!.speedupRange).toEqual([1, 1]);
  expect(baseline!.baselineSeconds).toBe(baseline!.wallSeconds);
  expect(rest.length).toBeGreaterThan(0);
  for (const r of rest) {
    const [lo, hi] = r.speedupRange!;
    expect(lo).toBeLessThanOrEqual(r.speedup);
    expect(r.speedup).toBeLessThanOrEqual(hi);
    expect(r.baselineSeconds).toBeGreaterThan(0);
  }
}

describe('paired timing: pure parts', () => {
  it('pairedSpeedup: median, range of the ratios and the median reference time', () => {
    expect(pairedSpeedup([1, 2, 4], [4, 4, 4])).toEqual({ speedup: 2, speedupRange: [1, 4], baselineSeconds: 4 });
    expect(pairedSpeedup([1, 1], [2, 3])).toEqual({ speedup: 2.5, speedupRange: [2, 3], baselineSeconds: 2.5 });
    expect(() => pairedSpeedup([1, 2], [1])).toThrow(/as many reference passes as model passes/);
    expect(() => pairedSpeedup([], [])).toThrow(/at least one/);
  });

  it('drift: relative deviation, a warning only beyond 10 %', () => {
    expect(DRIFT_THRESHOLD).toBe(0.1);
    expect(timingDrift(2, 2.5)).toBeCloseTo(0.25, 12);
    expect(timingDrift(2, 1.5)).toBeCloseTo(0.25, 12);
    expect(driftWarning(2, 2.19)).toBeUndefined();
    expect(driftWarning(2, 1.81)).toBeUndefined();
    expect(driftWarning(2, 2.5)).toBe(
      "the original's time drifted by 25.0 % within this run (2.00 s → 2.50 s): absolute times are not comparable; paired speedups compensate",
    );
    expect(driftWarning(0.0123, 0.0101)).toMatch(/drifted by 17\.9 % within this run \(0\.0123 s → 0\.0101 s\)/);
  });

  it('timingSummary: the range and largest deviation of the rows’ baseline times', () => {
    const rows = [{ baselineSeconds: 2 }, { baselineSeconds: 2.2 }, { baselineSeconds: 1.7 }, {}] as ResultRow[];
    const s = timingSummary('paired', 2, rows, ['w']);
    expect(s).toEqual({ mode: 'paired', baselineSeconds: 2, referenceRange: [1.7, 2.2], drift: expect.closeTo(0.15, 12), warnings: ['w', driftWarning(2, 1.7)] });
    expect(timingSummary('single', 2, [{}] as ResultRow[], [])).toEqual({ mode: 'single', baselineSeconds: 2, referenceRange: [2, 2], drift: 0, warnings: [] });
  });

  it('timingSummary: the drift warning is that of the rows kept (a resumed run that redid the rows that drifted says so no more)', () => {
    const stale = driftWarning(2, 6)!;
    expect(stale).toMatch(/drifted by 200\.0 %/);
    // the rows kept are within 10 %: the warning said while the run went is dropped, other warnings stay
    expect(timingSummary('paired', 2, [{ baselineSeconds: 2.1 }, { baselineSeconds: 1.9 }] as ResultRow[], [stale, 'other']).warnings).toEqual(['other']);
    // they drift by 30 %: one warning, for the largest drift, in place of the stale one
    expect(timingSummary('paired', 2, [{ baselineSeconds: 2.4 }, { baselineSeconds: 2.6 }] as ResultRow[], [stale]).warnings).toEqual([driftWarning(2, 2.6)]);
    // a comparison names its first entry
    expect(timingSummary('paired', 2, [{ baselineSeconds: 2.6 }] as ResultRow[], [], "the first entry's time").warnings[0]).toMatch(/^the first entry's time drifted by 30\.0 %/);
  });

  it('speedupCell: the paired spread when present', () => {
    expect(speedupCell({ speedup: 4.0234, speedupRange: [3.912, 4.1] })).toBe('4.02× (3.91–4.10)');
    expect(speedupCell({ speedup: 4.0234 })).toBe('4.02×');
    expect(speedupCell({ speedup: 1, speedupRange: [1, 1] })).toBe('1.00×');
  });
});

describe('paired timing through the pipeline', () => {
  it('tfjs: every row pairs with the original; results.json has timing and the environment; results.md shows both', async () => {
    const out = tmp();
    const { results } = await runExperiment(config(spirals('{ runtime: tfjs, repeats: 3, topk: [1] }')), { outDir: out, log: () => {} });
    expect(results.rows.map((r) => `${r.method}@${r.dim}`)).toEqual(['original@6', 'svd@2', 'svd@4']);
    expectPaired(results.rows);
    const saved = read(out);
    expect(saved.timing).toMatchObject({ mode: 'paired', baselineSeconds: results.rows[0]!.wallSeconds, warnings: expect.any(Array) });
    const refs = saved.rows.map((r) => r.baselineSeconds!);
    expect(saved.timing!.referenceRange).toEqual([Math.min(...refs), Math.max(...refs)]);
    expect(saved.timing!.drift).toBeGreaterThanOrEqual(0);
    const env = saved.environment;
    expect(env.cpuModel).toBe(os.cpus()[0]!.model.trim());
    expect(env.loadAverage!.start).toHaveLength(3);
    expect(env.loadAverage!.end).toHaveLength(3);
    expect(env.runtimeVersions).toEqual({ tfjs: expect.stringMatching(/^tfjs-core \d+\.\d+\.\d+/) });
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain(`CPU ${env.cpuModel}`);
    expect(md).toMatch(/load average \(1 \/ 5 \/ 15 min\) [\d.]+ \/ [\d.]+ \/ [\d.]+ at the start, [\d.]+ \/ [\d.]+ \/ [\d.]+ at the end/);
    expect(md).toMatch(/tfjs-core \d/);
    expect(md).toMatch(/timing paired \(baseline [\d.]+ s; beside the models [\d.]+–[\d.]+ s\)/);
    expect(md).toMatch(/\| svd \| 2 \| reduced \|.*\| [\d.]+× \([\d.]+–[\d.]+\) \|/);
  }, 60_000);

  it('keeps one executable open as the reference, disposes every executable by the end, and reports threads and versions', async () => {
    const fake = fakeRuntimePlugin();
    const open: number[] = [];
    const { results } = await runExperiment(config(spirals('{ runtime: fake, repeats: 2, topk: [1], threads: 2 }')), {
      write: false,
      outDir: tmp(),
      plugins: [fake],
      log: () => {},
      setup: (exp) => exp.hooks.beforeStage.tap('count', (stage) => void (stage === 'report' && open.push(...fake.built.filter((b) => !b.disposed).map((b) => b.id)))),
    });
    expectPaired(results.rows);
    // before the report stage only the baseline's executable (the first built) is still open
    expect(open).toEqual([0]);
    expect(fake.built).toHaveLength(3);
    expect(fake.built.every((b) => b.disposed)).toBe(true);
    expect(results.environment.threads).toBe(2);
    expect(results.environment.runtimeVersions).toEqual({ fake: 'fakert 9.9.9' });
    expect(results.timing?.mode).toBe('paired');
  });

  it('disposes the reference when the run fails', async () => {
    const fake = fakeRuntimePlugin();
    await expect(
      runExperiment(config(spirals('{ runtime: fake, repeats: 1, topk: [1] }')), {
        write: false,
        outDir: tmp(),
        plugins: [fake],
        log: () => {},
        setup: (exp) =>
          exp.hooks.beforeStage.tapPromise('fail', async (stage) => {
            if (stage === 'reduce') throw new Error('stop before reducing');
          }),
      }),
    ).rejects.toThrow(/stop before reducing/);
    expect(fake.built).toHaveLength(1);
    expect(fake.built[0]!.disposed).toBe(true);
  });

  it('a conv model: the dense Toeplitz original is the reference, the conv original pairs with it', async () => {
    const fake = fakeRuntimePlugin();
    const cfg = `name: conv
dataset: { use: tiny-images }
model: { use: conv-node, channels: 1, solver: { use: euler, dt: 0.5 } }
train: false
reducers:
  - { use: svd, dims: [2] }
evaluate: { runtime: fake, repeats: 2, topk: [1] }
`;
    const { results } = await runExperiment(config(cfg), { write: false, outDir: tmp(), plugins: [fake, imagesPlugin], log: () => {} });
    expect(results.rows.map((r) => r.method)).toEqual(['original', 'original-conv', 'svd']);
    expectPaired(results.rows);
    expect(fake.built[0]!.model.block.kind === 'ode' && fake.built[0]!.model.block.A.type).toBe('dense');
    for (const r of results.rows) expect(r.speedupVsConv).toBeCloseTo(results.rows[1]!.wallSeconds / r.wallSeconds, 9);
  });

  it('a baseline slowing down during the run: one drift warning, logged and recorded; paired speedups still sane', async () => {
    // the baseline executable answers at once in its own evaluation (1 warm-up + 3 passes), then sleeps 15 ms a call
    const fake = fakeRuntimePlugin({ slowAfter: (b) => (b.id === 0 ? 4 : 0), delayMs: 15 });
    const log: string[] = [];
    const { results } = await runExperiment(config(spirals('{ runtime: fake, repeats: 3, topk: [1] }')), { write: false, outDir: tmp(), plugins: [fake], log: (l) => log.push(l) });
    const warnings = log.filter((l) => l.startsWith('odemor: warning: '));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^odemor: warning: the original's time drifted by [\d.]+ % within this run \([\d.e-]+ s → [\d.e-]+ s\): absolute times are not comparable; paired speedups compensate$/);
    // recorded: the warning of the largest drift among the rows kept (the log said the first one past the threshold)
    expect(results.timing!.warnings).toEqual([driftWarning(results.timing!.baselineSeconds, results.timing!.referenceRange[1])!]);
    expect(results.timing!.drift).toBeGreaterThan(0.1);
    expect(results.timing!.referenceRange[1]).toBeGreaterThanOrEqual(0.014);
    // the slow reference beside fast models: paired speedups see it, every pass
    for (const r of results.rows.slice(1)) expect(r.speedupRange![0]).toBeGreaterThan(1);
    expect(resultsMarkdown(results)).toContain(`> **Warning:** ${results.timing!.warnings[0]}`);
  });

  it('timing: single behaves as before: speedup = baseline / median, no speedupRange, no reference kept', async () => {
    const fake = fakeRuntimePlugin();
    const { results } = await runExperiment(config(spirals('{ runtime: fake, repeats: 2, topk: [1], timing: single }')), { write: false, outDir: tmp(), plugins: [fake], log: () => {} });
    const base = results.rows[0]!;
    for (const r of results.rows) {
      expect(r).not.toHaveProperty('speedupRange');
      expect(r).not.toHaveProperty('baselineSeconds');
      expect(r.speedup).toBe(base.wallSeconds / r.wallSeconds);
    }
    // each executable is built, evaluated alone and disposed: predict calls = warm-up + repeats
    expect(fake.built.map((b) => b.disposed)).toEqual([true, true, true]);
    expect(results.timing).toEqual({ mode: 'single', baselineSeconds: base.wallSeconds, referenceRange: [base.wallSeconds, base.wallSeconds], drift: 0, warnings: [] });
    expect(resultsMarkdown(results)).toContain('timing single (the baseline timed once)');
  });

  it('--resume: the baseline row comes from the unfinished run and its executable is built again for the remaining rows', async () => {
    const out = tmp();
    const cfg = config(spirals('{ runtime: fake, repeats: 2, topk: [1] }'));
    const first = fakeRuntimePlugin();
    await expect(
      runExperiment(cfg, {
        outDir: out,
        plugins: [first],
        log: () => {},
        setup: (exp) =>
          exp.hooks.beforeStage.tapPromise('kill', async (stage) => {
            if (stage === 'reduce') throw new Error('killed');
          }),
      }),
    ).rejects.toThrow(/killed/);
    const partial = JSON.parse(fs.readFileSync(path.join(out, STAGING_DIR, 'results.json'), 'utf8')) as ExperimentResults;
    expect(partial.rows.map((r) => r.method)).toEqual(['original']);
    expect(first.built.every((b) => b.disposed)).toBe(true);

    const second = fakeRuntimePlugin();
    const log: string[] = [];
    const { results } = await runExperiment(cfg, { outDir: out, resume: true, plugins: [second], log: (l) => log.push(l) });
    expect(log.join('\n')).toMatch(/resuming the unfinished run/);
    expect(results.rows[0]).toEqual(partial.rows[0]);
    expectPaired(results.rows);
    // the reference (built again from the model) and the two reduced models; all disposed
    expect(second.built).toHaveLength(3);
    expect(second.built[0]!.model.block.kind).toBe('ode');
    expect(second.built.every((b) => b.disposed)).toBe(true);
    expect(read(out).timing).toMatchObject({ mode: 'paired', baselineSeconds: partial.rows[0]!.wallSeconds });
  });
});

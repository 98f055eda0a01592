/**
 * `odemor tune` on the quickstart config (with fewer timed passes, to keep the test short): it chooses a model
 * whose measured drop is within the budget, the front is non-dominated, chosen.onnx runs in onnxruntime with the
 * chosen model's accuracy, a stopped tune resumes without measuring a finished candidate again, and bad
 * arguments exit with 2.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment, STAGING_DIR, coreModelsPlugin, dominates, loadConfig, readTestSplit, resolveUse, runTune, type Dataset, type ExperimentResults, type TuneResults } from '@odemor/core';
import { runOnnxFile } from '@odemor/runtime-onnx';
import { cli, repoRoot, tmpDir } from './helpers.js';

// the file as written (not the validated config with its defaults)
const quickstart = loadConfig(path.join(repoRoot, 'configs', 'quickstart.yaml')).source!.doc.toJS() as Record<string, any>;

/** The quickstart config with 5 timed passes per model (20 in the file) and `change` applied, written to a temp folder (JSON is YAML). */
function quickstartConfig(change: (c: Record<string, any>) => void = () => {}): string {
  const c = structuredClone(quickstart);
  c.evaluate = { ...c.evaluate, repeats: 5 };
  delete c.report;
  change(c);
  const file = path.join(tmpDir('odemor-tune-'), 'quickstart.yaml');
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
  return file;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

describe('odemor tune on the quickstart', () => {
  let out: string;
  let tune: TuneResults;
  let results: ExperimentResults;
  let stdout: string;

  beforeAll(async () => {
    out = path.join(tmpDir('odemor-tune-out-'), 'tune');
    // with evaluate.adaptive in the config, which tune leaves out (no row has `adaptive`; it does not enter the choice)
    const r = await cli(['tune', quickstartConfig((c) => (c.evaluate.adaptive = { use: 'dopri5', rtol: [1e-3] })), '--max-drop', '0.01', '--out', out, '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    stdout = r.out;
    tune = readJson<TuneResults>(path.join(out, 'tune.json'));
    results = readJson<ExperimentResults>(path.join(out, 'results.json'));
  }, 600_000);

  it('chooses the fastest measured model whose measured drop is within the budget', () => {
    expect(tune.status).toBe('complete');
    expect(tune.metric).toBe('top1');
    const c = tune.chosen!;
    expect(c).toBeDefined();
    expect(c.drop).toBeLessThanOrEqual(0.01 + 1e-12);
    // the drop is the measured one: the chosen model's own row, against the original's row
    const original = results.rows.find((r) => r.stage === 'original')!;
    const row = results.rows.find((r) => r.method === c.method && r.dim === c.k && r.stage === c.stage)!;
    expect(row).toBeDefined();
    expect(c.value).toBe(row.top1);
    expect(c.drop).toBeCloseTo(original.top1! - row.top1!, 12);
    expect(c.speedup).toBe(row.speedup);
    // every candidate is a row; the chosen one is the fastest within the budget
    expect(tune.candidates).toHaveLength(results.rows.length);
    expect(results.rows.filter((r) => r.adaptive || r.stiffness)).toEqual([]);
    const within = tune.candidates.filter((x) => x.drop <= 0.01 + 1e-12);
    expect(c.speedup).toBe(Math.max(...within.map((x) => x.speedup)));
    // each method's search: its coarse dims come from the config, and its result was measured passing
    expect(tune.searches.map((s) => s.method)).toEqual(['deim', 'qdeim', 'odeim', 'svd', 'apoz']);
    for (const s of tune.searches) {
      expect(s.coarse).toEqual([4, 8, 16, 32]);
      if (s.smallest !== undefined) expect(s.probes.find((p) => p.k === s.smallest)?.pass).toBe(true);
    }
    expect(stdout).toMatch(/chosen: /);
    for (const f of ['tune.json', 'tune.md', 'pareto.svg', 'chosen.odemor', 'chosen.onnx', 'model.odemor', 'results.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.existsSync(path.join(out, 'candidates'))).toBe(false);
    expect(fs.existsSync(path.join(out, STAGING_DIR))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'pareto.svg'), 'utf8')).toMatch(/^<svg[\s\S]*Pareto front/);
    expect(fs.readFileSync(path.join(out, 'tune.md'), 'utf8')).toMatch(/## Pareto front/);
  });

  it('writes a non-dominated Pareto front over every measured candidate', () => {
    const front = tune.candidates.filter((x) => x.onFront);
    expect(front.length).toBeGreaterThan(0);
    expect(tune.front).toHaveLength(front.length);
    for (const a of front) for (const b of tune.candidates) expect(dominates(b, a), `${b.method}@${b.k} dominates ${a.method}@${a.k}`).toBe(false);
    for (const x of tune.candidates) if (!x.onFront) expect(tune.candidates.some((y) => dominates(y, x))).toBe(true);
    expect(tune.chosen!.onFront).toBe(true);
  });

  it('chosen.onnx runs in onnxruntime and reproduces the chosen model’s accuracy', async () => {
    const exp = new Experiment();
    await exp.use(coreModelsPlugin);
    const { use: _u, ...options } = quickstart.dataset;
    const dataset = exp.factory('Dataset', await resolveUse(exp, 'Dataset', 'spirals', repoRoot))({ ...options, seed: quickstart.seed, baseDir: repoRoot }) as Dataset;
    let correct = 0;
    let total = 0;
    for (const b of await readTestSplit(dataset, 500)) {
      const logits = await runOnnxFile(path.join(out, 'chosen.onnx'), b.x, b.size);
      const classes = logits.length / b.size;
      for (let i = 0; i < b.size; i++) {
        let arg = 0;
        for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + arg]!) arg = j;
        if (arg === b.y[i]) correct++;
      }
      total += b.size;
    }
    expect(total).toBe(quickstart.dataset.test);
    // the same samples as the evaluation: at most one sample may flip on float rounding
    expect(Math.abs(correct / total - tune.chosen!.value)).toBeLessThanOrEqual(1 / total + 1e-12);
  });

  it('resumes a stopped tune without measuring a finished candidate again, and refuses another config', async () => {
    // the quickstart's trained model as a checkpoint (no training), two methods
    const model = path.join(out, 'model.odemor');
    const change = (extra: (c: Record<string, any>) => void) => (c: Record<string, any>) => {
      delete c.train;
      c.model = { ...c.model, checkpoint: model };
      c.reducers = c.reducers.filter((r: { use: string }) => r.use === 'qdeim' || r.use === 'svd');
      extra(c);
    };
    const cfg = quickstartConfig(change(() => {}));
    const dir = path.join(tmpDir('odemor-tune-resume-'), 'tune');
    const child = spawn(process.execPath, [path.join(repoRoot, 'core', 'bin', 'odemor.js'), 'tune', cfg, '--max-drop', '0.01', '--out', dir, '--quiet'], { stdio: 'ignore' });
    const partialFile = path.join(dir, STAGING_DIR, 'results.json');
    const reducedRows = (r: ExperimentResults) => r.rows.filter((row) => row.stage === 'reduced');
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        let n = 0;
        try {
          n = reducedRows(readJson<ExperimentResults>(partialFile)).length;
        } catch {
          /* not there yet */
        }
        if (n >= 3) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 25);
      child.on('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`the tune ended (code ${code}) before it could be stopped`));
      });
    });
    await new Promise((r) => child.once('close', r));
    const before = reducedRows(readJson<ExperimentResults>(partialFile));
    expect(before.length).toBeGreaterThanOrEqual(3);

    // another config: refused, the staging folder kept
    const other = quickstartConfig(change((c) => (c.evaluate.repeats = 4)));
    const refused = await cli(['tune', other, '--max-drop', '0.01', '--out', dir, '--resume', '--quiet']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/cannot resume .* another config/);
    const refusedFt = await cli(['tune', cfg, '--max-drop', '0.01', '--out', dir, '--resume', '--finetune', '--quiet']);
    expect(refusedFt.code).toBe(2);
    expect(refusedFt.err).toMatch(/it was started with --metric \(default\) without --finetune, not --metric \(default\) --finetune/);
    expect(fs.existsSync(partialFile)).toBe(true);
    // without --resume or --restart: refused
    expect((await cli(['tune', cfg, '--max-drop', '0.01', '--out', dir, '--quiet'])).err).toMatch(/--resume/);

    let evaluated = 0;
    const lines: string[] = [];
    const res = await runTune(cfg, { maxDrop: 0.01, outDir: dir, resume: true, log: (l) => lines.push(l), setup: (exp) => void exp.hooks.evaluated.tap('count', async () => void evaluated++) });
    expect(lines.join('\n')).toMatch(/resuming the unfinished run/);
    const final = readJson<ExperimentResults>(path.join(dir, 'results.json'));
    // the rows measured before the kill are kept as they were (their timings included), not measured again
    for (const row of before) {
      const same = final.rows.find((r) => r.method === row.method && r.dim === row.dim && r.stage === 'reduced')!;
      expect(same.timings).toEqual(row.timings);
      expect(same.top1).toBe(row.top1);
    }
    expect(evaluated).toBe(reducedRows(final).length - before.length);
    expect(res.tune.candidates).toHaveLength(final.rows.length);
    expect(res.tune.chosen!.drop).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(fs.existsSync(path.join(dir, 'chosen.onnx'))).toBe(true);
  }, 600_000);
});

describe('odemor tune: bad arguments', () => {
  it('exits with 2 and says what is wrong', async () => {
    const cfg = path.join(repoRoot, 'configs', 'quickstart.yaml');
    const cases: [string[], RegExp][] = [
      [['--max-drop', '-0.01'], /--max-drop must be ≥ 0, got -0.01/],
      [['--max-drop', 'abc'], /--max-drop must be a number .*got 'abc'/],
      [['--max-drop', ''], /--max-drop must be a number/],
      [['--max-drop', 'Infinity'], /--max-drop must be a number/],
      [[], /--max-drop is required/],
      [['--max-drop', '0.01', '--metric', 'top5'], /--metric must be one of top1, mse, got 'top5'/],
      [['--max-drop', '0.01', '--resume', '--restart'], /--resume and --restart exclude each other/],
      [['--max-drop', '0.01', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['tune', cfg, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
    }
    const none = await cli(['tune', '--max-drop', '0.01']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/usage: odemor tune <config.yaml> --max-drop D/);
    // a metric the dataset has not: a config error (2) before any training
    const out = tmpDir();
    const wrong = await cli(['tune', quickstartConfig(), '--max-drop', '0.01', '--metric', 'mse', '--out', path.join(out, 't'), '--quiet']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--metric mse: dataset \S*spirals is a classification dataset .*use --metric top1/);
    expect(fs.existsSync(path.join(out, 't', 'model.odemor'))).toBe(false);
  });
});

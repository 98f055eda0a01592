/**
 * `odemor tune <config> --max-drop D [--metric top1|mse] [--finetune] [--out DIR] [--resume | --restart] [--quiet]`:
 * the fastest reduced model whose accuracy drop against the original stays within D (core/src/tune). A bad
 * argument exits with 2 before anything is read.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { STAGING_DIR, releaseAllLocks } from '../pipeline/persist.js';
import { unwritableFolderReason } from '../util/atomic.js';
import { TUNE_METRICS, type TuneMetric } from '../tune/search.js';
import { candidateLabel, formatDrop } from '../tune/files.js';
import { defaultTuneDir, runTune, type TuneResults } from '../tune/run.js';
import { ProgressReporter } from './progress.js';

const TUNE_USAGE = 'usage: odemor tune <config.yaml> --max-drop D [--metric top1|mse] [--finetune] [--out DIR] [--resume | --restart] [--quiet]';

/** The parsed arguments of `odemor tune`. */
export interface TuneArgs {
  config: string;
  maxDrop: number;
  metric?: TuneMetric;
  finetune: boolean;
  out?: string;
  resume: boolean;
  restart: boolean;
  quiet: boolean;
}

/**
 * Parse and check the arguments of `odemor tune`.
 * @throws OdemorError 'ARGUMENT' naming the flag and the value at fault
 */
export function parseTuneArgs(rest: string[]): TuneArgs {
  // `--max-drop -0.01` is a (negative) value, not a flag: it reaches the range check below
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--max-drop' && /^-[\d.]/.test(rest[i + 1] ?? '')) args.push(`--max-drop=${rest[++i]}`);
    else args.push(rest[i]!);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        'max-drop': { type: 'string' },
        metric: { type: 'string' },
        finetune: { type: 'boolean' },
        out: { type: 'string' },
        resume: { type: 'boolean' },
        restart: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new OdemorError('ARGUMENT', `${(e as Error).message}; ${TUNE_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new OdemorError('ARGUMENT', TUNE_USAGE);
  const text = values['max-drop'];
  if (text === undefined) throw new OdemorError('ARGUMENT', `--max-drop is required (e.g. --max-drop 0.01: at most one percentage point of top-1 lost); ${TUNE_USAGE}`);
  const maxDrop = Number(text);
  if (text.trim() === '' || !Number.isFinite(maxDrop)) throw new OdemorError('ARGUMENT', `--max-drop must be a number (a fraction: 0.01 = one percentage point of top-1, or 1 % more MSE), got '${text}'`);
  if (maxDrop < 0) throw new OdemorError('ARGUMENT', `--max-drop must be ≥ 0, got ${text}`);
  const metric = values.metric;
  if (metric !== undefined && !(TUNE_METRICS as readonly string[]).includes(metric)) {
    throw new OdemorError('ARGUMENT', `--metric must be one of ${TUNE_METRICS.join(', ')}, got '${metric}'`);
  }
  if (values.resume && values.restart) throw new OdemorError('ARGUMENT', '--resume and --restart exclude each other: continue the unfinished tune, or discard it');
  return {
    config: positionals[0]!,
    maxDrop,
    ...(metric !== undefined ? { metric: metric as TuneMetric } : {}),
    finetune: values.finetune === true,
    ...(values.out !== undefined ? { out: path.resolve(values.out) } : {}),
    resume: values.resume === true,
    restart: values.restart === true,
    quiet: values.quiet === true,
  };
}

/** `odemor tune`. Returns the exit code (2 for a bad argument). */
export async function cmdTune(rest: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream }): Promise<number> {
  let args: TuneArgs;
  try {
    args = parseTuneArgs(rest);
  } catch (e) {
    if (!(OdemorError.is(e) && e.code === 'ARGUMENT')) throw e;
    io.err.write(`odemor: ${e.message}\n`);
    return 2;
  }
  const loaded = loadConfig(args.config);
  const outDir = args.out ?? defaultTuneDir(loaded);
  const why = unwritableFolderReason(outDir);
  if (why !== undefined) throw new OdemorError('ARGUMENT', `${args.out ? '--out' : 'the tune folder'}: cannot use ${outDir}: ${why}`);
  const reporter = args.quiet ? undefined : new ProgressReporter(io.err);
  const t0 = performance.now();
  // Ctrl-C or a TERM: every measured candidate is in the staging folder; --resume continues
  const stop = (signal: NodeJS.Signals) => {
    reporter?.stop();
    releaseAllLocks();
    io.err.write(`\nodemor: stopped by ${signal}; every measured candidate is kept in ${path.join(outDir, STAGING_DIR)}: continue with --resume\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let result: Awaited<ReturnType<typeof runTune>>;
  try {
    result = await runTune(loaded, {
      maxDrop: args.maxDrop,
      ...(args.metric ? { metric: args.metric } : {}),
      finetune: args.finetune,
      outDir,
      ...(args.resume ? { resume: true } : {}),
      ...(args.restart ? { restart: true } : {}),
      setup: (exp: Experiment) => reporter?.apply(exp.hooks),
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    reporter?.stop();
  }
  const t = result.tune;
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  io.out.write(`\n${t.name}: ${t.candidates.length - 1} candidates measured in ${seconds} s; budget: ${t.metric === 'top1' ? 'top-1' : 'test MSE'} drop ≤ ${formatDrop(t.metric, t.maxDrop)}\n`);
  io.out.write(`${chosenLine(t)}\n\n${frontTable(t)}\n\n`);
  const rel = (f: string) => path.relative(result.outDir, f).split(path.sep).join('/');
  const shown = result.written.map(rel).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  io.out.write(`results written to ${path.relative(process.cwd(), result.outDir) || '.'}/ (${shown.join(', ')})\n`);
  return 0;
}

const ORDER = ['tune.md', 'tune.json', 'pareto.svg', 'chosen.odemor', 'chosen.onnx'];
const rank = (f: string) => (ORDER.includes(f) ? ORDER.indexOf(f) : ORDER.length);

function chosenLine(t: TuneResults): string {
  const c = t.chosen;
  if (!c) return 'no model is within the budget';
  const metric = t.metric === 'top1' ? `top-1 ${(c.value * 100).toFixed(2)} %` : `test MSE ${c.value.toPrecision(4)}`;
  if (c.phase === 'original') return `chosen: the original (${metric}): no reduced model measured is faster within the budget`;
  return `chosen: ${candidateLabel(c)} (${c.stage}): ${metric}, drop ${formatDrop(t.metric, c.drop)}, speedup ${c.speedup.toFixed(2)}×`;
}

function frontTable(t: TuneResults): string {
  const rows = t.candidates.filter((c) => c.onFront).sort((a, b) => a.speedup - b.speedup);
  const head = ['model', 'drop', 'speedup', 'budget'];
  const body = rows.map((c) => [`${c.chosen ? '* ' : '  '}${candidateLabel(c)}`, formatDrop(t.metric, c.drop), `${c.speedup.toFixed(2)}×`, c.withinBudget ? 'within' : 'over']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return ['Pareto front (speedup against drop; * chosen):', line(head), ...body.map(line)].join('\n');
}

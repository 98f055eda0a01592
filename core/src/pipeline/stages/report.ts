/**
 * Stage 'report': the final results object, results.json and results.md (atomically) and the Report plugin's
 * files, all in the staging folder; the `report` hook; then the staging folder replaces the previous run's
 * files in the results folder. While the sweep runs, {@link persistPartial} rewrites the partial results after
 * every finished row, so a killed run loses nothing and `--resume` continues it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExperimentResults } from '../../hooks.js';
import { blockSvd } from '../../reduce/index.js';
import { writeFileAtomic } from '../../util/index.js';
import { FIRST_ENTRY, timingSummary } from '../evaluate.js';
import { commitRun, previousRunFiles } from '../persist.js';
import { resultsMarkdown } from '../results.js';
import type { ExperimentState, Stage } from '../state.js';

/** The results object of the run so far. */
export function buildResults(state: ExperimentState, status: 'partial' | 'complete'): ExperimentResults {
  const { snapshots, analysis, config } = state;
  return {
    format: 'odemor-results',
    version: 1,
    name: config.name,
    seed: state.seed,
    startedAt: state.resumed?.startedAt ?? state.startedAt,
    ...(state.resumed ? { resumedAt: state.startedAt } : {}),
    finishedAt: new Date().toISOString(),
    config,
    environment: environment(state),
    ...(state.baseline
      ? { timing: timingSummary(config.evaluate.timing, state.baseline.seconds, state.rows, state.timingWarnings, config.compare ? FIRST_ENTRY : undefined) }
      : {}),
    ...(state.training ? { training: state.training } : {}),
    ...(snapshots
      ? {
          snapshots: {
            n: snapshots.n,
            snapshots: snapshots.snapshots,
            samples: snapshots.samples,
            stateSingularValues: snapshots.stateSingularValues,
            nonlinearSingularValues: snapshots.nonlinearSingularValues,
          },
        }
      : {}),
    ...(Object.keys(analysis).length ? { analysis } : {}),
    ...(state.regression ? { task: 'regression' as const } : {}),
    ...(state.observed ? { regression: state.observed } : {}),
    ...(state.distributed ? { distributed: state.distributed } : {}),
    rows: state.rows,
    ...(state.failures.length ? { failures: state.failures } : {}),
    status,
    fingerprint: state.fingerprint,
    outDir: state.outDir,
  };
}

/** Rewrite the staging folder's partial results.json and results.md (after every finished row). */
export async function persistPartial(state: ExperimentState): Promise<void> {
  if (state.options.write === false) return;
  const results = buildResults(state, 'partial');
  await writeFileAtomic(path.join(state.workDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFileAtomic(path.join(state.workDir, 'results.md'), resultsMarkdown(results));
}

export const reportStage: Stage = {
  name: 'report',
  async run(state) {
    const { model, analysis, config } = state;
    // (a solver comparison's state.model is the untrained initial model: no singular values of it)
    if (!config.compare && !analysis.weightSingularValues && model.block.kind === 'ode' && model.block.n <= 256) analysis.weightSingularValues = blockSvd(model.block).singularValues;
    const results = buildResults(state, 'complete');
    state.results = results;
    const write = state.options.write !== false;
    if (!write) {
      await state.exp.hooks.report.promise(results);
      return;
    }
    const work = state.workDir;
    fs.mkdirSync(work, { recursive: true });
    if (state.resolved.report) {
      const { use: _r, ...ropts } = config.report!;
      state.exp.factory('Report', state.resolved.report)(ropts).apply(state.exp.hooks);
    }
    // during the hook the report's folder is the staging folder, whose files replace the results folder's next
    await state.exp.hooks.report.promise({ ...results, outDir: work });
    const files = listFiles(work).filter((f) => f !== 'results.json' && f !== 'results.md');
    results.files = ['results.json', 'results.md', ...files];
    await writeFileAtomic(path.join(work, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    await writeFileAtomic(path.join(work, 'results.md'), resultsMarkdown(results));
    state.written = commitRun(work, state.outDir, previousRunFiles(state.outDir));
  },
};

/** Files under `dir`, relative to it, skipping dot-files (temporary files, state). */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      if (e.name.startsWith('.') || e.name === 'snapshots.bin') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/**
 * Where the run happened: Node, platform, CPUs (count and model), the load average at the start and now,
 * the evaluation threads, every runtime (with its backend) that did work and the versions of the runtimes created.
 */
function environment(state: ExperimentState): ExperimentResults['environment'] {
  const runtimes: Record<string, string> = {};
  // the run's training, and each entry's of a solver comparison
  for (const backend of [state.training?.backend, ...state.rows.map((r) => r.training?.backend)]) if (backend) runtimes[backend.split('/')[0]!] ??= backend.split('/')[1] ?? '';
  for (const r of state.rows) runtimes[r.runtime] ??= r.backend;
  const runtimeVersions: Record<string, string> = {};
  for (const rt of [...(state.runtime ? [state.runtime] : []), ...state.runtimes.values()]) if (rt.version) runtimeVersions[rt.name] ??= rt.version;
  const threads = state.config.evaluate.threads ?? state.rows.find((r) => r.threads !== undefined)?.threads;
  const cpuModel = os.cpus()[0]?.model.trim();
  const round = (xs: number[]) => xs.map((v) => Math.round(v * 100) / 100);
  return {
    node: process.version,
    ...(runtimes.tfjs !== undefined ? { tfjsBackend: runtimes.tfjs } : {}),
    runtimes,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    ...(cpuModel ? { cpuModel } : {}),
    loadAverage: { start: round(state.loadAverageStart ?? os.loadavg()), end: round(os.loadavg()) },
    ...(threads !== undefined ? { threads } : {}),
    ...(Object.keys(runtimeVersions).length ? { runtimeVersions } : {}),
  };
}

/**
 * Stage 'report': the results object, results.json and results.md (atomically), the Report plugin, then the
 * `report` hook with the final results.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExperimentResults } from '../../hooks.js';
import { blockSvd } from '../../reduce/index.js';
import { writeFileAtomic } from '../../util/index.js';
import { resultsMarkdown } from '../results.js';
import type { ExperimentState, Stage } from '../state.js';

export const reportStage: Stage = {
  name: 'report',
  async run(state) {
    const { model, snapshots, analysis, config } = state;
    if (!analysis.weightSingularValues && model.block.kind === 'ode' && model.block.n <= 256) analysis.weightSingularValues = blockSvd(model.block).singularValues;
    const results: ExperimentResults = {
      format: 'odemor-results',
      version: 1,
      name: config.name,
      seed: state.seed,
      startedAt: state.startedAt,
      finishedAt: new Date().toISOString(),
      config,
      environment: environment(state),
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
      rows: state.rows,
      outDir: state.outDir,
    };
    state.results = results;
    const write = state.options.write !== false;
    if (write) {
      for (const [file, text] of [
        ['results.json', JSON.stringify(results, null, 2) + '\n'],
        ['results.md', resultsMarkdown(results)],
      ] as const) {
        await writeFileAtomic(path.join(state.outDir, file), text);
        state.written.push(path.join(state.outDir, file));
      }
    }
    if (state.resolved.report && write) {
      const { use: _r, ...ropts } = config.report!;
      state.exp.factory('Report', state.resolved.report)(ropts).apply(state.exp.hooks);
    }
    await state.exp.hooks.report.promise(results);
    // a report plugin writes its own files (report.html, plots/…): listed when written by this run
    const since = Date.parse(state.startedAt);
    const walk = (dir: string): void => {
      for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
        const file = path.join(dir, e.name);
        if (e.isDirectory()) walk(file);
        else if (e.isFile() && !state.written.includes(file) && fs.statSync(file).mtimeMs >= since) state.written.push(file);
      }
    };
    walk(state.outDir);
  },
};

/** Where the run happened: Node, platform, CPUs and every runtime (with its backend) that did work. */
function environment(state: ExperimentState): ExperimentResults['environment'] {
  const runtimes: Record<string, string> = {};
  if (state.training?.backend) runtimes[state.training.backend.split('/')[0]!] = state.training.backend.split('/')[1] ?? '';
  for (const r of state.rows) runtimes[r.runtime] ??= r.backend;
  return {
    node: process.version,
    ...(runtimes.tfjs !== undefined ? { tfjsBackend: runtimes.tfjs } : {}),
    runtimes,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
  };
}

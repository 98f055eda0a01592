import type { ExperimentResults, ResultRow } from '../hooks.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(2)}%`);
const fmt = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

/** A method × dimension table in Markdown. */
export function resultsTable(rows: ResultRow[]): string {
  const head = ['method', 'dim', 'stage', 'top-1', 'top-3', 'rel. top-1', 'wall s', 'speedup', 'activations', 'params', 'MACs/rhs', 'runtime'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i < 3 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    out.push(
      `| ${[
        r.method,
        r.points !== undefined && r.points !== r.dim ? `${r.dim} (m=${r.points})` : String(r.dim),
        r.stage,
        pct(r.top1),
        pct(r.top3),
        fmt(r.relativeTop1, 3),
        fmt(r.wallSeconds, 4),
        `${fmt(r.speedup, 2)}×`,
        int(r.activations),
        int(r.params),
        int(r.macsPerRhs),
        `${r.runtime}/${r.backend}${r.threads ? `×${r.threads}` : ''}`,
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

export function resultsMarkdown(res: ExperimentResults): string {
  const lines = [
    `# ${res.name}`,
    '',
    `Seed ${res.seed}; started ${res.startedAt}, finished ${res.finishedAt}; Node ${res.environment.node}, tfjs backend ${res.environment.tfjsBackend}, ${res.environment.cpus} CPUs.`,
    '',
  ];
  if (res.training) {
    lines.push(
      `Training: ${res.training.epochs} epochs in ${res.training.seconds.toFixed(1)} s, final loss ${res.training.finalLoss.toFixed(4)}, training accuracy ${pct(res.training.finalAccuracy)}.`,
      '',
    );
  }
  if (res.snapshots) {
    lines.push(`Snapshots: ${res.snapshots.snapshots.toLocaleString('en-US')} state snapshots from ${res.snapshots.samples.toLocaleString('en-US')} samples, n = ${res.snapshots.n}.`, '');
  }
  lines.push(
    'Wall time is the median of the timed full passes over the test set; speedup and relative top-1 are against the original model.',
    '',
    resultsTable(res.rows),
    '',
  );
  return lines.join('\n');
}

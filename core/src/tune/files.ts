/**
 * What `odemor tune` writes besides tune.json: tune.md (the choice, the Pareto front, every candidate and each
 * method's search) and pareto.svg (speedup against drop, drawn with the report plugin's Vega-Lite renderer).
 */
import type { TuneCandidate, TuneResults } from './run.js';
import type { TuneMetric } from './search.js';

/** A drop for messages: percentage points (top-1) or percent (MSE). */
export function formatDrop(metric: TuneMetric, drop: number): string {
  // (a drop that rounds to zero shows as 0.00, not -0.00)
  const v = (drop * 100).toFixed(2).replace(/^-(0\.0+)$/, '$1');
  return metric === 'top1' ? `${v} pp` : `${v} %`;
}

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

/** A drop as the table shows it: percentage points (top-1) or percent (MSE). */
function drop(t: Pick<TuneResults, 'metric'>, d: number): string {
  return formatDrop(t.metric, d);
}

function value(t: Pick<TuneResults, 'metric'>, v: number): string {
  return t.metric === 'top1' ? pct(v) : v.toPrecision(4);
}

function speedup(c: TuneCandidate): string {
  const r = c.speedupRange;
  return `${c.speedup.toFixed(2)}×${r && c.phase !== 'original' ? ` (${r[0].toFixed(2)}–${r[1].toFixed(2)})` : ''}`;
}

/** `deim@12`, `deim@12 (m = 14)`, `original`. */
export function candidateLabel(c: Pick<TuneCandidate, 'method' | 'k' | 'points' | 'phase'>): string {
  if (c.phase === 'original') return c.method;
  return `${c.method}@${c.k}${c.points !== undefined ? ` (m = ${c.points})` : ''}`;
}

/** tune.md: the budget and its definition, the choice, the Pareto front, every candidate, each method's search. */
export function tuneMarkdown(t: TuneResults): string {
  const metricName = t.metric === 'top1' ? 'top-1' : 'test MSE';
  const lines = [
    `# ${t.name}: tune`,
    '',
    `Budget: ${metricName} drop ≤ ${drop(t, t.maxDrop)} (${t.definition}). Original: ${metricName} ${value(t, t.original.value)}, ${t.original.wallSeconds.toPrecision(3)} s per timed pass.`,
    t.finetune ? `Every candidate was fine-tuned before it was evaluated (${t.finetune.stage}, ${t.finetune.epochs} epochs; ${t.finetune.source === 'config' ? "the config's first finetune stage" : 'the default readout fine-tune'}).` : 'Candidates were evaluated directly after reduction (no fine-tuning).',
    'Speedup: paired timing against the original (the median over pairs of passes of its time / the model’s, the range of the ratios in parentheses). Every drop below was measured; none is inferred.',
    '',
  ];
  const c = t.chosen;
  if (c) {
    lines.push(
      c.phase === 'original'
        ? `**Chosen: the original** — no reduced model measured is faster within the budget.`
        : `**Chosen: ${candidateLabel(c)}** (${c.stage}) — ${metricName} ${value(t, c.value)}, drop ${drop(t, c.drop)}, speedup ${speedup(c)}.`,
      '',
    );
  } else lines.push('**No model within the budget.**', '');
  const header = `| model | stage | ${metricName} | drop | speedup | within budget | front |`;
  const sep = '|---|---|---:|---:|---:|:---:|:---:|';
  const row = (x: TuneCandidate) =>
    `| ${x.chosen ? `**${candidateLabel(x)}**` : candidateLabel(x)} | ${x.stage} | ${value(t, x.value)} | ${drop(t, x.drop)} | ${speedup(x)} | ${x.withinBudget ? 'yes' : 'no'} | ${x.onFront ? '●' : ''} |`;
  const front = t.candidates.filter((x) => x.onFront).sort((a, b) => a.speedup - b.speedup);
  lines.push('## Pareto front (speedup against drop)', '', header, sep, ...front.map(row), '');
  const all = [...t.candidates].sort((a, b) => a.method.localeCompare(b.method) || a.k - b.k);
  lines.push(`## Every measured candidate (${t.candidates.length})`, '', header, sep, ...all.map(row), '');
  lines.push('## Search', '');
  for (const s of t.searches) {
    const steps = s.probes.map((p) => `${p.k}${p.failed ? ' (failed)' : p.pass ? ' ✓' : ' ✗'}${p.phase === 'coarse' ? '' : ` [${p.phase}]`}`).join(', ');
    const result = s.smallest !== undefined ? `smallest k within the budget: ${s.smallest}${s.fragile ? ' (its neighbour k + 1 is not)' : ''}` : 'no k within the budget';
    lines.push(`- **${s.method}**: ${steps} → ${result}${s.bracket ? `; bisection in (${s.bracket[0]}, ${s.bracket[1]})` : ''}${s.notes.length ? `. ${s.notes.join('; ')}` : ''}.`);
  }
  lines.push('');
  if (t.failures?.length) {
    lines.push('## Failures', '', ...t.failures.map((f) => `- ${f.method}@${f.dim} (${f.stage}): ${f.error}`), '');
  }
  if (t.onnx) {
    const o = t.onnx;
    lines.push(o.file !== undefined ? `The chosen model: chosen.odemor, compiled to ${o.file}.` : `The chosen model: chosen.odemor (chosen.onnx not written: ${o.reason}).`, '');
  }
  return lines.join('\n');
}

/** The Vega-Lite spec of pareto.svg: every candidate, the front as a line, the budget as a rule, the choice ringed. */
export function paretoSpec(t: TuneResults): Record<string, unknown> {
  const values = t.candidates.map((c) => ({
    model: candidateLabel(c),
    method: c.phase === 'original' ? 'original' : c.method,
    speedup: c.speedup,
    drop: c.drop * 100,
    front: c.onFront,
    chosen: c.chosen,
  }));
  const finite = values.filter((v) => Number.isFinite(v.speedup) && Number.isFinite(v.drop) && v.speedup > 0);
  const yTitle = t.metric === 'top1' ? 'top-1 drop (percentage points)' : 'test MSE increase (%)';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Pareto front: speedup against drop (budget ${drop(t, t.maxDrop)})`,
    width: 420,
    height: 280,
    data: { values: finite },
    layer: [
      { data: { values: [{ budget: t.maxDrop * 100 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#d62728' }, encoding: { y: { field: 'budget', type: 'quantitative' } } },
      {
        transform: [{ filter: 'datum.front' }],
        mark: { type: 'line', color: '#555', strokeWidth: 1, interpolate: 'step-after' },
        encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'drop', type: 'quantitative' }, order: { field: 'speedup', type: 'quantitative' } },
      },
      {
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x: { field: 'speedup', type: 'quantitative', title: 'speedup (×, paired against the original)', scale: { type: 'log' } },
          y: { field: 'drop', type: 'quantitative', title: yTitle },
          color: { field: 'method', type: 'nominal' },
          tooltip: [{ field: 'model' }, { field: 'speedup', format: '.2f' }, { field: 'drop', format: '.3f' }],
        },
      },
      {
        transform: [{ filter: 'datum.chosen' }],
        mark: { type: 'point', shape: 'circle', size: 220, strokeWidth: 2, color: 'black', filled: false },
        encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'drop', type: 'quantitative' } },
      },
    ],
  };
}

/** pareto.svg drawn by @odemor/report-html's renderer, or why it cannot be (the plugin is not installed). */
export async function paretoSvg(t: TuneResults): Promise<{ svg: string; reason?: undefined } | { svg?: undefined; reason: string }> {
  const name = '@odemor/report-html';
  let render: (spec: unknown) => Promise<string>;
  try {
    render = ((await import(name)) as { renderSvg: (spec: unknown) => Promise<string> }).renderSvg;
  } catch (e) {
    return { reason: `drawing it needs ${name} installed (${e instanceof Error ? e.message : String(e)})` };
  }
  return { svg: await render(paretoSpec(t)) };
}

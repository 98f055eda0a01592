import path from 'node:path';
import { OdemorError, adaptiveTable, compareTable, trainerCompareTable, resultsTable, runtimesLine, z, writeFileAtomic, type ExperimentResults, type OdemorHooks, type OdemorPlugin } from '@odemor/core';
import { apozSpec, nfeRatioSpec, spectralRadiusSpec, compareErrorNfeSpec, compareLossSpec, comparedRows, isTrainerComparison, errorByTimeSpec, isRegressionResults, renderSvg, singularValueSpec, tradeoffSpec, trainingSpec, trajectorySpec } from './plots.js';

export {
  renderSvg,
  singularValueSpec,
  apozSpec,
  tradeoffSpec,
  trainingSpec,
  trajectorySpec,
  errorByTimeSpec,
  bestRegressionRows,
  rowLabel,
  isRegressionResults,
  comparedRows,
  compareLossSpec,
  compareErrorNfeSpec,
  nfeRatioSpec,
  spectralRadiusSpec,
} from './plots.js';

export interface HtmlReportOptions {
  /** file name of the page inside the results folder */
  file?: string;
  /** how many DEIM points to mark on the APoZ histogram */
  markPoints?: number;
}

/** The option schema of `html` (the `report:` keys besides `use`), checked before any work. */
export const htmlReportOptionsSchema = z.strictObject({
  file: z.string().min(1).optional(),
  markPoints: z.number().int().min(0).optional(),
});

export interface WrittenReport {
  html: string;
  plots: string[];
}

/** Write the SVG plots and `report.html` (self-contained, opens from disk) for one experiment. */
export async function writeReport(res: ExperimentResults, options: HtmlReportOptions = {}): Promise<WrittenReport> {
  const dir = res.outDir;
  const plotDir = path.join(dir, 'plots');
  const regression = isRegressionResults(res);
  const specs: [string, string, ReturnType<typeof singularValueSpec>][] = [
    [
      'compare-loss-time',
      isTrainerComparison(res)
        ? 'A trainer comparison’s training: the rollout MSE on the training subset after each epoch (the model’s solver) against the training time so far, one line per trainer (dashed: compare.target).'
        : 'A solver comparison’s training: the mean training loss of each epoch against the training time so far, one line per solver (dashed: compare.target).',
      compareLossSpec(res),
    ],
    [
      'compare-error-nfe',
      `A solver comparison’s cost and accuracy: each solver’s ${regression ? 'test MSE' : 'test error (1 − top-1)'} against its right-hand-side evaluations per test sample.`,
      compareErrorNfeSpec(res),
    ],
    ['training', regression ? 'The training curve: loss per epoch.' : 'The training curve: loss and training accuracy per epoch.', trainingSpec(res)],
    ...(regression
      ? ([
          [
            'trajectories',
            'Predicted against observed trajectories of the first test samples, one panel per state: the observed states as points, the original’s and each method’s best model’s predictions as lines.',
            trajectorySpec(res),
          ],
          ['error-by-time', 'The rollout error: RMSE over the test samples and states at each observation time, for the original and each method’s best model.', errorByTimeSpec(res)],
        ] as [string, string, ReturnType<typeof singularValueSpec>][])
      : []),
    ['singular-values', 'Singular value decay of the snapshots and of the weight matrix (the paper’s Figs. 3/5, left).', singularValueSpec(res)],
    ['apoz-scores', 'APoZ scores of the ODE block’s neurons with the first DEIM points marked (Figs. 3/5, right).', apozSpec(res, options.markPoints ?? 10)],
    [
      'tradeoff-reduced',
      regression ? 'The test MSE relative to the original’s against speedup directly after reduction.' : 'Relative top-1 accuracy against speedup directly after reduction (Figs. 4/6).',
      tradeoffSpec(res, 'reduced'),
    ],
    ['tradeoff-finetuned', 'The same after fine-tuning the layers after the ODE block.', tradeoffSpec(res, 'finetuned')],
    ['tradeoff-finetuned-block', 'The same after fine-tuning the reduced block’s own tensors and the layers after it.', tradeoffSpec(res, 'finetuned-block')],
    ['tradeoff-retrained', 'The same after the longer fine-tuning of the layers after the block (the paper’s third column).', tradeoffSpec(res, 'retrained')],
    [
      'nfe-ratio',
      'Each reduced model integrated by the adaptive solver (evaluate.adaptive): its right-hand-side evaluations per test sample relative to the original’s at the same rtol, against k, one line per method, dashed by rtol.',
      nfeRatioSpec(res),
    ],
    ['spectral-radius', 'The median spectral radius of the reduced block’s Jacobian along test trajectories against k (dashed: the original’s).', spectralRadiusSpec(res)],
  ];
  const sections: string[] = [];
  const plots: string[] = [];
  for (const [name, caption, spec] of specs) {
    if (!spec) continue;
    const svg = await renderSvg(spec);
    const file = path.join(plotDir, `${name}.svg`);
    await writeFileAtomic(file, svg);
    plots.push(file);
    sections.push(`<figure>${svg}<figcaption>${escape(caption)} <a href="plots/${name}.svg">SVG</a></figcaption></figure>`);
  }
  const html = page(res, sections);
  const htmlFile = path.join(dir, options.file ?? 'report.html');
  await writeFileAtomic(htmlFile, html);
  return { html: htmlFile, plots };
}

function page(res: ExperimentResults, figures: string[]): string {
  const regression = isRegressionResults(res);
  const table = markdownTableToHtml(resultsTable(res.rows, res.task));
  const compared = comparedRows(res);
  const comparison = isTrainerComparison(res)
    ? `<h2>Trainer comparison</h2>
<p>Each trainer trained a copy of the same initial model on its own runtime, with its training solver; every trained model was evaluated with the model's solver on one runtime. The loss-against-time plot shows the common training-loss curve: after every epoch, the rollout MSE on a fixed subset of the training trajectories, integrated with the model's solver and measured outside the timed training. Speedup is against the first entry (${escape(compared[0]!.method)}), ≈ 1 for models of one architecture. Peak RSS is sampled in-process (a lower bound).</p>
${markdownTableToHtml(trainerCompareTable(res.rows, res.task))}
`
    : compared.length
    ? `<h2>Solver comparison</h2>
<p>Each solver trained a copy of the same initial model and was evaluated with it; speedup and ${regression ? 'MSE ratio' : 'relative top-1'} are against the first entry (${escape(compared[0]!.method)}). NFE marked * is counted from the solver, not by the runtime.</p>
${markdownTableToHtml(compareTable(res.rows, res.task))}
`
    : '';
  const against = compared.length ? `the first entry (${escape(compared[0]!.method)})` : 'the original model';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>odemor — ${escape(res.name)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
table{border-collapse:collapse;font-size:.85rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:right}
td.t,th.t{text-align:left}.tw{overflow-x:auto;max-width:100%}figure{display:inline-block;margin:1rem;vertical-align:top}
figcaption{font-size:.85rem;max-width:460px;color:#555}code{background:#f4f4f4;padding:0 .2rem}
</style></head><body>
<h1>${escape(res.name)}</h1>
<p>Seed ${res.seed}; ${escape(res.startedAt)} → ${escape(res.finishedAt)}; Node ${escape(res.environment.node)}, ${escape(runtimesLine(res.environment))}, ${res.environment.cpus} CPUs.
${res.training ? `Training: ${res.training.epochs} epochs, final loss ${res.training.finalLoss.toFixed(4)}.` : ''}
${res.snapshots ? `Snapshots: ${res.snapshots.snapshots} from ${res.snapshots.samples} samples, n = ${res.snapshots.n}.` : ''}</p>
${figures.join('\n')}
${comparison}${stiffnessSection(res)}<h2>Results</h2>
<p>Wall time: median of the timed full passes over the test set. ${
    regression
      ? `Test MSE: the mean over test trajectories, observation times and states of the squared error of the predicted states. Speedup and MSE ratio (test MSE / ${compared.length ? 'the first entry’s' : 'the original’s'}) against ${against}, measured in the same run.`
      : `Speedup and relative top-1 against ${against}, measured in the same run.`
  }</p>
${table}
</body></html>
`;
}

/** The stiffness section (`evaluate.adaptive`): what was measured, and the adaptive table. */
function stiffnessSection(res: ExperimentResults): string {
  const table = adaptiveTable(res.rows, res.task);
  if (!table) return '';
  const a = res.rows.flatMap((r) => r.adaptive ?? []).find((e) => !e.error);
  const s = res.rows.find((r) => r.stiffness)?.stiffness;
  const solve = a
    ? `Every model was also integrated by ${escape(a.solver)} at each rtol on the first ${a.samples} test samples (batches of ${a.batch}, one step-size sequence per batch; the error norm is over the block's own state, z for a reduced block), on ${escape(a.runtime)}. NFE and rejected steps are per sample; the NFE ratio is against the original under the same solver and rtol. Stiffness shows up as more evaluations and rejected steps at the same tolerance.`
    : 'The adaptive solves failed (see the rows’ <code>adaptive[].error</code>).';
  const stiff = s
    ? ` ρ(J) is the spectral radius of the block's Jacobian J = N diag(σ′(M z + c)) M and the stiffness ratio max |Re λ| / min |Re λ| over its eigenvalues with Re λ &lt; 0, at ${s.times.length} times along each of ${s.trajectories} test trajectories (median and max over the points): every eigenvalue of the dense J up to the state dimension evaluate.adaptive.stiffness.exactMaxDim (J = exact), ρ alone by power iteration on Jacobian-vector products above it (J = power). An explicit fixed step h is stable only while h·λ lies in the method's stability region (RK4: about −2.785 on the negative real axis).`
    : '';
  return `<h2>Adaptive solver and stiffness</h2>
<p>${solve}${stiff}</p>
${markdownTableToHtml(table)}
`;
}

function markdownTableToHtml(md: string): string {
  const lines = md.split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string) => l.slice(1, -1).split('|').map((c) => escape(c.trim()));
  const [head, , ...body] = lines;
  if (!head) return '';
  const rows = body.map(cells);
  // a column is text (left-aligned) unless every cell in it reads as a figure ("98.75%", "1.00× (0.9–1.1)", "—")
  const figure = /^(?:[-+−]?[\d.,]+(?:e[-+]?\d+)?\s*(?:%|×|s|MiB)?(?:\s*\(.*\))?|—|-|)$/i;
  const text = cells(head).map((_, j) => rows.some((r) => !figure.test(r[j] ?? '')));
  const cls = (j: number) => (text[j] ? ' class="t"' : '');
  // a table wider than the page scrolls inside its own box, so the page keeps the window's width
  return `<div class="tw"><table><thead><tr>${cells(head).map((c, j) => `<th${cls(j)}>${c}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, j) => `<td${cls(j)}>${c}</td>`).join('')}</tr>`)
    .join('\n')}</tbody></table></div>`;
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The report as a tapable plugin: taps `hooks.report` and writes the page. */
export class HtmlReportPlugin {
  static readonly PLUGIN_NAME = 'HtmlReportPlugin';
  constructor(private readonly options: HtmlReportOptions = {}) {
    const known = new Set(['file', 'markPoints']);
    for (const k of Object.keys(options)) if (!known.has(k)) throw new OdemorError('CONFIG', `report: unknown option '${k}' for html (known: file, markPoints)`);
  }
  apply(hooks: OdemorHooks): void {
    hooks.report.tapPromise(HtmlReportPlugin.PLUGIN_NAME, async (res) => {
      await writeReport(res, this.options);
    });
  }
}

const plugin: OdemorPlugin = {
  name: '@odemor/report-html',
  register(ctx) {
    ctx.provide('Report', 'html', (options) => new HtmlReportPlugin(options as HtmlReportOptions), {
      description: 'results.md-style table and SVG plots in report.html',
      options: htmlReportOptionsSchema,
    });
  },
};
export default plugin;

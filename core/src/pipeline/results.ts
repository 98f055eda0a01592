import type { ExperimentResults, ResultRow } from '../hooks.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(2)}%`);
const fmt = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
/** An error value for a table: 4 significant digits, in exponent form outside [1e-3, 1e4) (`1.234e-5`). */
export const errorCell = (v: number | null | undefined): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? v.toPrecision(4) : v.toExponential(3);
};
const nfeCell = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Whether rows are regression rows (they carry `testMse`; classification rows carry `top1`). */
export function isRegression(rows: readonly ResultRow[], task?: ExperimentResults['task']): boolean {
  return task === 'regression' || rows.some((r) => r.testMse !== undefined);
}

const dimCell = (r: ResultRow) => (r.points !== undefined && r.points !== r.dim ? `${r.dim} (m=${r.points})` : String(r.dim));
const runtimeCell = (r: ResultRow) => `${r.runtime}/${r.backend}${r.threads ? `×${r.threads}` : ''}`;

/**
 * A row's speedup for a table: `4.02×`, with the spread of the paired ratios when it has one,
 * `4.02× (3.91–4.10)` (a degenerate range, the baseline's [1, 1], is left out).
 */
export function speedupCell(r: Pick<ResultRow, 'speedup' | 'speedupRange'>): string {
  const s = `${fmt(r.speedup, 2)}×`;
  const range = r.speedupRange;
  if (!range || range[0] === range[1]) return s;
  return `${s} (${fmt(range[0], 2)}–${fmt(range[1], 2)})`;
}

/**
 * A method × dimension table in Markdown. Regression rows (see {@link isRegression}) show the test MSE, RMSE,
 * relative error, MSE ratio against the original and NFE per sample instead of top-k.
 */
export function resultsTable(rows: ResultRow[], task?: ExperimentResults['task']): string {
  if (isRegression(rows, task)) return regressionTable(rows);
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
        speedupCell(r),
        int(r.activations),
        int(r.params),
        int(r.macsPerRhs),
        `${r.runtime}/${r.backend}${r.threads ? `×${r.threads}` : ''}`,
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

/** {@link resultsTable} for regression rows. */
function regressionTable(rows: ResultRow[]): string {
  const head = ['method', 'dim', 'stage', 'test MSE', 'RMSE', 'rel. error', 'MSE ratio', 'NFE/sample', 'wall s', 'speedup', 'activations', 'params', 'MACs/rhs', 'runtime'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i < 3 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    out.push(
      `| ${[
        r.method,
        dimCell(r),
        r.stage,
        errorCell(r.testMse),
        errorCell(r.rmse),
        errorCell(r.relativeError),
        fmt(r.mseRatio, 3),
        nfeCell(r.nfePerSample),
        fmt(r.wallSeconds, 4),
        speedupCell(r),
        int(r.activations),
        int(r.params),
        int(r.macsPerRhs),
        runtimeCell(r),
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

const METHOD_TITLES: Record<string, string> = {
  deim: 'POD-DEIM',
  qdeim: 'POD + Q-DEIM',
  odeim: 'POD + oversampled DEIM',
  svd: 'SVD weight truncation',
  apoz: 'APoZ neuron pruning',
};

/** Fine-tuning stages beyond the paper's 3 epochs, with their column titles. */
const EXTRA_STAGES: [ResultRow['stage'], string][] = [
  ['finetuned-block', 'top-1 block fine-tuned'],
  ['retrained', 'top-1 retrained'],
];

/**
 * One table per method laid out like the paper's Tables II and III: a row per reduced dimension with
 * accuracy and speedup directly after reduction and after fine-tuning (3 epochs of the layers after the block;
 * then, when the run has them, with the block's own tensors fine-tuned too, and after 30 epochs: `retrained`).
 */
export function paperTables(all: ResultRow[], task?: ExperimentResults['task']): string {
  // a solver comparison's rows have a table of their own (compareTable)
  const rows = all.filter((r) => r.stage !== 'compared');
  if (isRegression(all, task)) return regressionPaperTables(rows);
  const originals = rows.filter((r) => r.stage === 'original');
  const methods = [...new Set(rows.filter((r) => r.stage !== 'original').map((r) => r.method))];
  const out: string[] = [];
  if (originals.length) {
    out.push('| original | top-1 | top-3 | wall s | speedup | params | activations |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const o of originals) {
      out.push(`| ${o.method === 'original-conv' ? 'convolutional' : o.method === 'original' && originals.length > 1 ? 'dense Toeplitz (baseline)' : 'original'} | ${pct(o.top1)} | ${pct(o.top3)} | ${fmt(o.wallSeconds, 4)} | ${speedupCell(o)} | ${int(o.params)} | ${int(o.activations)} |`);
    }
    out.push('');
  }
  const hasFt = rows.some((r) => r.stage === 'finetuned');
  // the further fine-tuning stages get a top-1 column each when the run has them
  const extra = EXTRA_STAGES.filter(([st]) => rows.some((r) => r.stage === st));
  const hasConv = rows.some((r) => r.speedupVsConv !== undefined);
  for (const m of methods) {
    out.push(`### ${METHOD_TITLES[m] ?? m}`, '');
    const head = ['dim', 'top-1', 'top-3', 'rel. top-1', 'speedup', ...(hasConv ? ['vs conv'] : []), ...(hasFt ? ['top-1 fine-tuned', 'top-3 fine-tuned'] : []), ...extra.map(([, title]) => title), 'activations', 'params'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => ' ---: ').join('|')}|`);
    for (const r of rows.filter((x) => x.method === m && x.stage === 'reduced')) {
      const ft = rows.find((x) => x.method === m && x.stage === 'finetuned' && x.dim === r.dim);
      out.push(
        `| ${[
          r.points !== undefined && r.points !== r.dim ? `${r.dim} (m=${r.points})` : String(r.dim),
          pct(r.top1),
          pct(r.top3),
          fmt(r.relativeTop1, 3),
          speedupCell(r),
          ...(hasConv ? [`${fmt(r.speedupVsConv, 2)}×`] : []),
          ...(hasFt ? [pct(ft?.top1), pct(ft?.top3)] : []),
          ...extra.map(([st]) => pct(rows.find((x) => x.method === m && x.stage === st && x.dim === r.dim)?.top1)),
          int(r.activations),
          int(r.params),
        ].join(' | ')} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * {@link paperTables} for regression rows: the original's errors, then per method a row per reduced dimension
 * with the test MSE and MSE ratio directly after reduction and the test MSE after each fine-tuning stage of the run.
 */
function regressionPaperTables(rows: ResultRow[]): string {
  const originals = rows.filter((r) => r.stage === 'original');
  const methods = [...new Set(rows.filter((r) => r.stage !== 'original').map((r) => r.method))];
  const out: string[] = [];
  const hasNfe = rows.some((r) => r.nfePerSample !== undefined);
  if (originals.length) {
    const head = ['original', 'test MSE', 'RMSE', 'rel. error', ...(hasNfe ? ['NFE/sample'] : []), 'wall s', 'speedup', 'params', 'activations'];
    out.push(`| ${head.join(' | ')} |`, `| --- |${head.slice(1).map(() => ' ---: ').join('|')}|`);
    for (const o of originals) {
      const name = o.method === 'original-conv' ? 'convolutional' : o.method === 'original' && originals.length > 1 ? 'dense Toeplitz (baseline)' : 'original';
      out.push(
        `| ${[name, errorCell(o.testMse), errorCell(o.rmse), errorCell(o.relativeError), ...(hasNfe ? [nfeCell(o.nfePerSample)] : []), fmt(o.wallSeconds, 4), speedupCell(o), int(o.params), int(o.activations)].join(' | ')} |`,
      );
    }
    out.push('');
  }
  const stages = FINETUNE_TITLES.filter(([st]) => rows.some((r) => r.stage === st));
  const hasConv = rows.some((r) => r.speedupVsConv !== undefined);
  for (const m of methods) {
    out.push(`### ${METHOD_TITLES[m] ?? m}`, '');
    const head = ['dim', 'test MSE', 'MSE ratio', 'rel. error', ...(hasNfe ? ['NFE/sample'] : []), 'speedup', ...(hasConv ? ['vs conv'] : []), ...stages.map(([, title]) => title), 'activations', 'params'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => ' ---: ').join('|')}|`);
    for (const r of rows.filter((x) => x.method === m && x.stage === 'reduced')) {
      out.push(
        `| ${[
          dimCell(r),
          errorCell(r.testMse),
          fmt(r.mseRatio, 3),
          errorCell(r.relativeError),
          ...(hasNfe ? [nfeCell(r.nfePerSample)] : []),
          speedupCell(r),
          ...(hasConv ? [`${fmt(r.speedupVsConv, 2)}×`] : []),
          ...stages.map(([st]) => errorCell(rows.find((x) => x.method === m && x.stage === st && x.dim === r.dim)?.testMse)),
          int(r.activations),
          int(r.params),
        ].join(' | ')} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/** A solver spec for a table: `rk4 (dt 0.1)`, `taylor (order 2, dt 0.1)`, `dopri5 (dt 0.1, rtol 0.001)`; the span is left out. */
export function solverCell(spec: ResultRow['solver']): string {
  if (!spec) return '–';
  const keys = Object.entries(spec).filter(([k, v]) => k !== 'use' && k !== 't0' && k !== 't1' && v !== undefined);
  // the solver's own keys first, then the step and the tolerances
  const core = ['dt', 'rtol', 'atol', 'maxSteps'];
  keys.sort(([a], [b]) => Number(core.includes(a)) - Number(core.includes(b)) || core.indexOf(a) - core.indexOf(b));
  const parts = keys.map(([k, v]) => `${k} ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  return parts.length ? `${spec.use} (${parts.join(', ')})` : spec.use;
}

const secondsCell = (v: number | null | undefined) => (v === null ? 'not reached' : v === undefined || !Number.isFinite(v) ? '–' : v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v.toPrecision(3));

/**
 * The table of a solver comparison (rows with `stage: 'compared'`), one row per entry in the config's order: method
 * (the label), solver, test MSE (regression) or top-1, NFE per sample (`*`: counted from the solver, not by the
 * runtime), training seconds, time to the loss target (when `compare.target` was given), wall seconds and speedup
 * against the first entry. Empty when there are no such rows; the rows of a trainer comparison get
 * {@link trainerCompareTable}.
 */
export function compareTable(rows: readonly ResultRow[], task?: ExperimentResults['task']): string {
  const cmp = rows.filter((r) => r.stage === 'compared');
  if (!cmp.length) return '';
  // a trainer comparison's rows have their own columns (the CLI prints whichever table the run has)
  if (cmp.some(isTrainerRow)) return trainerCompareTable(rows, task);
  const regression = isRegression(rows, task);
  const target = cmp.some((r) => r.timeToTarget !== undefined);
  const head = ['method', 'solver', regression ? 'test MSE' : 'top-1', 'NFE/sample', 'train s', ...(target ? ['time to target s'] : []), 'wall s', 'speedup'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of cmp) {
    const nfe = nfeCell(r.nfePerSample);
    out.push(
      `| ${[
        r.method,
        solverCell(r.solver),
        regression ? errorCell(r.testMse) : pct(r.top1),
        r.nfeSource === 'solver' && nfe !== '–' ? `${nfe}*` : nfe,
        secondsCell(r.trainSeconds),
        ...(target ? [secondsCell(r.timeToTarget)] : []),
        fmt(r.wallSeconds, 4),
        speedupCell(r),
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

/** A row of a trainer comparison (it names its trainer). */
const isTrainerRow = (r: ResultRow) => r.stage === 'compared' && r.trainer !== undefined;

const mibCell = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v >= 100 ? v.toFixed(0) : v.toPrecision(3));

/**
 * The table of a trainer comparison (rows with `stage: 'compared'` and a `trainer`), one row per entry in the
 * config's order: method (the label), trainer, where it trained (`training.backend`), the training solver, test
 * MSE (regression) or top-1, the last epoch's rollout MSE on the training subset, training seconds, seconds to the
 * target (when `compare.target` was given), peak RSS and the speedup against the first entry. Empty without such rows.
 */
export function trainerCompareTable(rows: readonly ResultRow[], task?: ExperimentResults['task']): string {
  const cmp = rows.filter(isTrainerRow);
  if (!cmp.length) return '';
  const regression = isRegression(rows, task);
  const target = cmp.some((r) => r.secondsToTarget !== undefined);
  const head = ['method', 'trainer', 'trained on', 'training solver', regression ? 'test MSE' : 'top-1', 'train MSE', 'train s', ...(target ? ['s to target'] : []), 'peak RSS MiB', 'speedup'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 4 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of cmp) {
    const last = r.training?.history[r.training.history.length - 1];
    out.push(
      `| ${[
        r.method,
        r.trainer!,
        r.training?.backend ?? '–',
        solverCell(r.solver),
        regression ? errorCell(r.testMse) : pct(r.top1),
        errorCell(last?.trainMse),
        secondsCell(r.trainSeconds),
        ...(target ? [secondsCell(r.secondsToTarget)] : []),
        mibCell(r.peakRssMiB),
        speedupCell(r),
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}

/** The text around the trainer comparison's table in results.md. */
function trainerCompareSection(res: ExperimentResults): string[] {
  const table = trainerCompareTable(res.rows, res.task);
  if (!table) return [];
  const cmp = res.rows.filter(isTrainerRow);
  const cfg = (res.config as { compare?: { target?: number; trainLossSamples?: number }; model?: { solver?: { use?: string } } } | undefined) ?? {};
  const target = cfg.compare?.target;
  const notes = [
    `Each entry trained a copy of the same initial model (seed ${res.seed}) with its trainer, on that trainer's own runtime (trained on), and its training solver; every trained model was evaluated with the model's solver on one evaluation runtime (${cmp[0]!.runtime}); speedup is against the first entry (${cmp[0]!.method}) and is ≈ 1 (the models share one architecture).`,
    `Train MSE: the rollout MSE after the last epoch on the first ${cfg.compare?.trainLossSamples ?? 64} (at most) training trajectories, integrated with the model's solver — the common training-loss curve, measured after every epoch outside the timed training (its time is subtracted).`,
    'Train s: the wall time of the entry’s training without those measurements.',
    ...(target !== undefined ? [`S to target: the training seconds until the first epoch whose rollout MSE was below ${target}.`] : []),
    'Peak RSS: the largest resident set size sampled during the training (at progress callbacks and epoch ends) minus the RSS before it, in-process: a lower bound, memory the garbage collector has not returned included.',
  ];
  return ['## Trainer comparison', '', notes.join(' '), '', table, ''];
}

/** The text around the comparison table in results.md. */
function compareSection(res: ExperimentResults): string[] {
  if (res.rows.some(isTrainerRow)) return trainerCompareSection(res);
  const table = compareTable(res.rows, res.task);
  if (!table) return [];
  const cmp = res.rows.filter((r) => r.stage === 'compared');
  const target = (res.config as { compare?: { target?: number } } | undefined)?.compare?.target;
  const regression = isRegression(res.rows, res.task);
  const notes = [
    `Each entry trained a copy of the same initial model (seed ${res.seed}) with its solver and was evaluated with it; speedup${regression ? ', MSE ratio' : ', relative top-1'} are against the first entry (${cmp[0]!.method}).`,
    'Train s: the wall time of the entry’s training.',
    ...(target !== undefined ? [`Time to target: the training time until the first epoch whose mean loss was below ${target}.`] : []),
    ...(cmp.some((r) => r.nfeSource === 'solver') ? ['NFE marked * is counted from the solver (steps × stages or derivatives per step), the runtime did not count it.'] : []),
  ];
  return ['## Solver comparison', '', notes.join(' '), '', table, ''];
}

/** A tolerance for a column title: `1e-3`, `2.5e-4`. */
export const rtolLabel = (v: number): string => v.toExponential().replace('e+', 'e');
const ratioCell = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toPrecision(3)}×`);
const sig = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(2) : v.toPrecision(3));

/**
 * The table of `evaluate.adaptive` (rows with `adaptive` or `stiffness`), one line per row: method, dim, stage; per
 * tolerance the NFE per sample with its ratio to the original's, the rejected steps per sample, and top-1 (test MSE)
 * under the adaptive solver; then the block's spectral radius and stiffness ratio along the test trajectories (median /
 * max; `power`: ρ by power iteration, no stiffness ratio). Empty without such rows.
 */
export function adaptiveTable(rows: readonly ResultRow[], task?: ExperimentResults['task']): string {
  const measured = rows.filter((r) => r.adaptive?.length || r.stiffness);
  if (!measured.length) return '';
  const regression = isRegression(rows, task);
  const rtols = [...new Set(measured.flatMap((r) => (r.adaptive ?? []).map((a) => a.rtol)))];
  const stiff = measured.some((r) => r.stiffness);
  const head = [
    'method',
    'dim',
    'stage',
    ...rtols.map(rtolLabel).flatMap((t) => [`NFE/sample @${t}`, `NFE ratio @${t}`, `rejected/sample @${t}`, `${regression ? 'test MSE' : 'top-1'} @${t}`]),
    ...(stiff ? ['ρ(J) median', 'ρ(J) max', 'stiffness ratio median', 'stiffness ratio max', 'J'] : []),
  ];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of measured) {
    const cells = rtols.flatMap((t) => {
      const a = r.adaptive?.find((e) => e.rtol === t);
      if (!a) return ['–', '–', '–', '–'];
      if (a.error) return ['failed', '–', '–', '–'];
      return [nfeCell(a.nfePerSample), ratioCell(a.nfeRatio), nfeCell(a.rejectedPerSample), regression ? errorCell(a.testMse) : pct(a.top1)];
    });
    const s = r.stiffness;
    const stiffCells = stiff
      ? s
        ? [sig(s.spectralRadius.median), sig(s.spectralRadius.max), sig(s.stiffnessRatio?.median), sig(s.stiffnessRatio?.max), `${s.method} (${s.dim})`]
        : ['–', '–', '–', '–', '–']
      : [];
    out.push(`| ${[r.method, dimCell(r), r.stage, ...cells, ...stiffCells].join(' | ')} |`);
  }
  return out.join('\n');
}

/** The text around the adaptive table in results.md. */
function adaptiveSection(res: ExperimentResults): string[] {
  const table = adaptiveTable(res.rows, res.task);
  if (!table) return [];
  const first = res.rows.find((r) => r.adaptive?.some((a) => !a.error));
  const a = first?.adaptive?.find((e) => !e.error);
  const s = res.rows.find((r) => r.stiffness)?.stiffness;
  const notes = [
    a
      ? `Each model was also integrated by ${a.solver} at each rtol${a.atol !== undefined ? ` (atol ${a.atol})` : ''} on the first ${a.samples.toLocaleString('en-US')} test samples, in batches of ${a.batch} (one step-size sequence per batch, the error norm over the block's own state: z for a reduced block), on ${a.runtime}; NFE and rejected steps are per sample, the NFE ratio is against the original under the same solver and rtol.`
      : 'The adaptive solves failed (see the rows’ adaptive.error).',
    ...(s
      ? [
          `ρ(J) and the stiffness ratio (max |Re λ| / min |Re λ| over the eigenvalues with Re λ < 0) of the block's Jacobian J = N diag(σ′(M z + c)) M, at ${s.times.length} times along each of ${s.trajectories} test trajectories (median and max over the points); J = exact: every eigenvalue of the dense J; power: ρ by power iteration on Jacobian-vector products, no stiffness ratio.`,
        ]
      : []),
  ];
  return ['## Adaptive solver and stiffness', '', notes.join(' '), '', table, ''];
}

/** The fine-tuning stages with the column titles of their test MSE in the regression tables. */
const FINETUNE_TITLES: [ResultRow['stage'], string][] = [
  ['finetuned', 'MSE fine-tuned'],
  ['finetuned-block', 'MSE block fine-tuned'],
  ['retrained', 'MSE retrained'],
];

export function resultsMarkdown(res: ExperimentResults): string {
  const regression = isRegression(res.rows, res.task);
  const lines = [
    `# ${res.name}`,
    '',
    `Seed ${res.seed}; started ${res.startedAt}, ${res.resumedAt ? `resumed ${res.resumedAt}, ` : ''}finished ${res.finishedAt}; Node ${res.environment.node}, ${runtimesLine(res.environment)}, ${res.environment.cpus} CPUs.`,
    '',
    ...machineLines(res),
  ];
  if (res.training) {
    lines.push(
      `Training: ${res.training.epochs} epochs in ${res.training.seconds.toFixed(1)} s, final loss ${res.training.finalLoss.toFixed(4)}${regression ? '' : `, training accuracy ${pct(res.training.finalAccuracy)}`}.`,
      '',
    );
  }
  if (res.snapshots) {
    lines.push(`Snapshots: ${res.snapshots.snapshots.toLocaleString('en-US')} state snapshots from ${res.snapshots.samples.toLocaleString('en-US')} samples, n = ${res.snapshots.n}.`, '');
  }
  const relative = regression ? 'the MSE ratio (test MSE / the original’s)' : 'relative top-1';
  const timingLine = `${passesLine(res.rows, regression)}${
    res.timing?.mode === 'paired'
      ? ` Speedup is against the original model, timed pass by pass beside each model: the median over pairs of passes of the original's time / the model's, with the range of those ratios in parentheses; ${relative} is against the original model.`
      : regression
        ? ' Speedup and the MSE ratio (test MSE / the original’s) are against the original model.'
        : ' Speedup and relative top-1 are against the original model.'
  }${regression ? ' Test MSE: the mean over test trajectories, observation times and states of the squared error of the predicted states; rel. error: ‖pred − true‖ / ‖true‖.' : ''}`;
  // a solver comparison has no original: its baseline is the first entry
  const first = res.rows.find((r) => r.stage === 'compared');
  lines.push(
    first ? timingLine.replace(/the original model/g, `the first entry (${first.method})`).replace(/the original(’s|'s)/g, 'the first entry$1') : timingLine,
    '',
    ...compareSection(res),
    paperTables(res.rows, res.task),
    ...adaptiveSection(res),
    '## All rows',
    '',
    resultsTable(res.rows, res.task),
    '',
  );
  return lines.join('\n');
}

/**
 * The header lines about the machine and the timing: CPU model, load average at the start and end, threads,
 * runtime versions and the timing mode (each part only when the results record it), then the timing
 * warnings as a blockquote.
 */
function machineLines(res: ExperimentResults): string[] {
  const env = res.environment;
  const secs = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '–');
  const load = (xs: number[]) => xs.map((v) => v.toFixed(2)).join(' / ');
  const parts = [
    ...(env.cpuModel ? [`CPU ${env.cpuModel}`] : []),
    ...(env.loadAverage ? [`load average (1 / 5 / 15 min) ${load(env.loadAverage.start)} at the start, ${load(env.loadAverage.end)} at the end`] : []),
    ...(env.threads !== undefined ? [`${env.threads} evaluation thread${env.threads === 1 ? '' : 's'}`] : []),
    ...(env.runtimeVersions && Object.keys(env.runtimeVersions).length ? [Object.values(env.runtimeVersions).join(', ')] : []),
    ...(res.timing
      ? [res.timing.mode === 'paired' ? `timing paired (baseline ${secs(res.timing.baselineSeconds)} s; beside the models ${res.timing.referenceRange.map(secs).join('–')} s)` : 'timing single (the baseline timed once)']
      : []),
  ];
  const out = parts.length ? [`${parts.join('; ')}.`, ''] : [];
  for (const w of res.timing?.warnings ?? []) out.push(`> **Warning:** ${w}`, '');
  return out;
}

/** What a row's wall time is: the median of the timed passes over the test set, or over its first samples (`evaluate.timingLimit`). */
function passesLine(rows: readonly ResultRow[], regression = false): string {
  const timed = rows.find((r) => r.timedSamples !== undefined);
  if (!timed) return 'Wall time is the median of the timed full passes over the test set.';
  return `Wall time is the median of the timed passes over the first ${timed.timedSamples!.toLocaleString('en-US')} test samples (${regression ? 'errors' : 'accuracy'}: all ${timed.samples.toLocaleString('en-US')}).`;
}

/** "runtimes onnx (cpu), tfjs (wasm)"; older results name only the tfjs backend. */
export function runtimesLine(env: ExperimentResults['environment']): string {
  const rts = Object.entries(env.runtimes ?? {});
  if (rts.length) return `runtimes ${rts.map(([r, b]) => `${r} (${b})`).join(', ')}`;
  return `tfjs backend ${env.tfjsBackend ?? 'unused'}`;
}

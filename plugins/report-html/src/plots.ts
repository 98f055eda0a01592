import * as vega from 'vega';
import * as vl from 'vega-lite';
import { rtolLabel, type ExperimentResults, type ResultRow } from '@odemor/core';

/** Render a Vega-Lite spec to an SVG string, headless. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 420;
const HEIGHT = 280;

/** Normalised singular values σ_i/σ_1 of the state snapshots, nonlinear snapshots and the weight matrix (log scale). */
export function singularValueSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const series: [string, number[] | undefined][] = [
    ['state snapshots', res.snapshots?.stateSingularValues],
    ['nonlinear snapshots', res.snapshots?.nonlinearSingularValues],
    ['weight matrix A', res.analysis?.weightSingularValues],
  ];
  const values: { i: number; s: number; series: string }[] = [];
  for (const [name, sv] of series) {
    if (!sv || sv.length === 0 || !(sv[0]! > 0)) continue;
    const floor = sv[0]! * 1e-12;
    sv.forEach((s, i) => values.push({ i: i + 1, s: Math.max(s, floor) / sv[0]!, series: name }));
  }
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Singular value decay',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'i', type: 'quantitative', title: 'index i' },
      y: { field: 's', type: 'quantitative', title: 'σᵢ / σ₁', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Histogram of the APoZ neuron scores with the scores of the first DEIM points marked. */
export function apozSpec(res: ExperimentResults, marked = 10): vl.TopLevelSpec | undefined {
  const scores = res.analysis?.apozScores;
  if (!scores || scores.length === 0) return undefined;
  const points = (res.analysis?.deimPoints ?? []).slice(0, marked);
  const layers: any[] = [
    {
      data: { values: scores.map((s) => ({ score: s })) },
      mark: { type: 'bar', color: '#8da0cb' },
      encoding: {
        x: { field: 'score', type: 'quantitative', bin: { maxbins: 40 }, title: 'APoZ score (mean |x_c(t_end)|)' },
        y: { aggregate: 'count', type: 'quantitative', title: 'neurons' },
      },
    },
  ];
  if (points.length) {
    layers.push({
      data: { values: points.map((p, i) => ({ score: scores[p], rank: i + 1, neuron: p })) },
      mark: { type: 'rule', color: '#e41a1c', strokeWidth: 1.5 },
      encoding: { x: { field: 'score', type: 'quantitative' }, tooltip: [{ field: 'rank' }, { field: 'neuron' }] },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: points.length ? `APoZ scores; red: the first ${points.length} DEIM points` : 'APoZ scores',
    width: WIDTH,
    height: HEIGHT,
    layer: layers,
  };
}

/** The training curve: loss and training accuracy per epoch (results.json's `training.history`). */
export function trainingSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const history = res.training?.history ?? [];
  if (history.length === 0) return undefined;
  // a regression run has no training accuracy: the loss only
  const accuracy = !isRegressionResults(res);
  const values = history.flatMap((h) => [
    { epoch: h.epoch, measure: 'loss', value: h.loss },
    ...(accuracy ? [{ epoch: h.epoch, measure: 'training accuracy', value: h.accuracy }] : []),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Training: ${res.training!.trainer ?? 'trainer'} on ${res.training!.backend ?? '?'}, ${res.training!.seconds.toFixed(1)} s`,
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    spec: {
      width: WIDTH / 2,
      height: HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        tooltip: [{ field: 'epoch' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

const TRADEOFF_TITLES = {
  reduced: 'directly after reduction',
  finetuned: 'after fine-tuning',
  'finetuned-block': 'after fine-tuning the block too',
  retrained: 'after 30 epochs of fine-tuning',
} as const;

/**
 * Relative top-1 accuracy against speedup, one line per method, for one stage; for regression results the MSE
 * ratio (test MSE / the original's, log scale) against speedup.
 */
export function tradeoffSpec(res: ExperimentResults, stage: Exclude<ExperimentResults['rows'][number]['stage'], 'original' | 'compared'>): vl.TopLevelSpec | undefined {
  if (isRegressionResults(res)) return mseTradeoffSpec(res, stage);
  const values = res.rows
    .filter((r) => r.stage === stage)
    .map((r) => ({ method: r.method, dim: r.dim, speedup: r.speedup, relativeTop1: r.relativeTop1 }));
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Relative accuracy vs speedup, ${TRADEOFF_TITLES[stage]}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: 1 } } },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'speedup', type: 'quantitative', title: 'speedup (×)', scale: { type: 'log' } },
          y: { field: 'relativeTop1', type: 'quantitative', title: 'top-1 relative to the original', scale: { zero: false } },
          color: { field: 'method', type: 'nominal' },
          order: { field: 'dim', type: 'quantitative' },
          tooltip: [{ field: 'method' }, { field: 'dim' }, { field: 'speedup', format: '.2f' }, { field: 'relativeTop1', format: '.3f' }],
        },
      },
    ],
  };
}

/** vega-lite's default categorical colours (tableau10). */
const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** Whether `res` holds regression rows (`task: 'regression'`, or rows with `testMse`). */
export function isRegressionResults(res: ExperimentResults): boolean {
  return res.task === 'regression' || res.rows.some((r) => r.testMse !== undefined);
}

function mseTradeoffSpec(res: ExperimentResults, stage: Exclude<ResultRow['stage'], 'original' | 'compared'>): vl.TopLevelSpec | undefined {
  const values = res.rows
    .filter((r) => r.stage === stage && typeof r.mseRatio === 'number' && r.mseRatio > 0 && Number.isFinite(r.mseRatio))
    .map((r) => ({ method: r.method, dim: r.dim, speedup: r.speedup, mseRatio: r.mseRatio!, testMse: r.testMse }));
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `MSE ratio vs speedup, ${TRADEOFF_TITLES[stage]}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: 1 } } },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'speedup', type: 'quantitative', title: 'speedup (×)', scale: { type: 'log' } },
          y: { field: 'mseRatio', type: 'quantitative', title: 'test MSE relative to the original', scale: { type: 'log' } },
          color: { field: 'method', type: 'nominal' },
          order: { field: 'dim', type: 'quantitative' },
          tooltip: [{ field: 'method' }, { field: 'dim' }, { field: 'speedup', format: '.2f' }, { field: 'mseRatio', format: '.3g' }, { field: 'testMse', format: '.3e' }],
        },
      },
    ],
  };
}

/** A row's name in the regression plots: `original`, a solver comparison's label, or `deim@4` with its stage when it is not `reduced`. */
export function rowLabel(r: ResultRow): string {
  // an original, or an entry of a solver comparison (its label)
  if (r.stage === 'original' || r.stage === 'compared') return r.method;
  return `${r.method}@${r.dim}${r.stage === 'reduced' ? '' : ` (${r.stage})`}`;
}

/**
 * The rows the regression plots show: the original(s), then for each method its row with the lowest test MSE
 * (over all its dimensions and stages), in the order of the rows. Only rows with `testMse`.
 */
export function bestRegressionRows(res: ExperimentResults): ResultRow[] {
  const rows = res.rows.filter((r) => typeof r.testMse === 'number' && Number.isFinite(r.testMse));
  const best = new Map<string, ResultRow>();
  for (const r of rows) {
    if (r.stage === 'original') continue;
    const b = best.get(r.method);
    if (!b || r.testMse! < b.testMse!) best.set(r.method, r);
  }
  const keep = new Set<ResultRow>([...rows.filter((r) => r.stage === 'original'), ...best.values()]);
  return rows.filter((r) => keep.has(r));
}

/**
 * Predicted against observed trajectories (results' `regression.truth` and the rows' `trajectories`): one panel
 * per state, the observed states as points (joined by a faint dashed line per sample), each shown model's prediction as a line per sample (the original
 * and each method's best row, see {@link bestRegressionRows}).
 */
export function trajectorySpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const obs = res.regression;
  if (!obs || !obs.truth.length || !obs.times.length) return undefined;
  const values: { series: string; sample: number; state: string; t: number; value: number }[] = [];
  const stateName = (s: number) => `state ${s + 1}`;
  const push = (series: string, samples: readonly number[], traj: readonly (readonly (readonly number[])[])[]) => {
    traj.forEach((rows, i) =>
      rows.forEach((states, k) => {
        const t = obs.times[k];
        if (t === undefined) return;
        states.forEach((v, s) => {
          if (Number.isFinite(v)) values.push({ series, sample: samples[i] ?? i, state: stateName(s), t, value: v });
        });
      }),
    );
  };
  push('observed', obs.samples, obs.truth);
  const shown = bestRegressionRows(res).filter((r) => r.trajectories?.predicted.length);
  for (const r of shown) push(rowLabel(r), r.trajectories!.samples, r.trajectories!.predicted);
  if (!shown.length) return undefined;
  const states = Math.max(1, obs.states || (obs.truth[0]?.[0]?.length ?? 1));
  const x = { field: 't', type: 'quantitative' as const, title: 't' };
  const y = { field: 'value', type: 'quantitative' as const, title: null, scale: { zero: false } };
  // observed in black, the models in the default (tableau10) colours
  const domain = ['observed', ...shown.map(rowLabel)];
  const color = { field: 'series', type: 'nominal' as const, title: 'model', scale: { domain, range: ['#222222', ...TABLEAU10] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Predicted vs observed trajectories (test samples ${obs.samples.join(', ')})`,
    data: { values },
    facet: { field: 'state', type: 'nominal', title: null, sort: Array.from({ length: states }, (_, s) => stateName(s)) },
    columns: Math.min(states, 3),
    spec: {
      width: states > 1 ? WIDTH / 2 : WIDTH,
      height: (HEIGHT * 2) / 3,
      layer: [
        {
          transform: [{ filter: "datum.series !== 'observed'" }],
          mark: { type: 'line', strokeWidth: 1.3 },
          encoding: { x, y, color, detail: { field: 'sample', type: 'nominal' }, tooltip: [{ field: 'series' }, { field: 'sample' }, { field: 't' }, { field: 'value', format: '.4g' }] },
        },
        {
          // the observed samples joined faintly, so that each point's trajectory can be followed
          transform: [{ filter: "datum.series === 'observed'" }],
          mark: { type: 'line', strokeWidth: 0.8, strokeDash: [3, 3], opacity: 0.6 },
          encoding: { x, y, color, detail: { field: 'sample', type: 'nominal' } },
        },
        {
          transform: [{ filter: "datum.series === 'observed'" }],
          mark: { type: 'point', filled: true, size: 22 },
          encoding: { x, y, color, detail: { field: 'sample', type: 'nominal' }, tooltip: [{ field: 'series' }, { field: 'sample' }, { field: 't' }, { field: 'value', format: '.4g' }] },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * The rollout error against time: the RMSE per observation time (the rows' `errorByTime`) of the original and
 * each method's best row, one line each (log scale when every value is positive).
 */
export function errorByTimeSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const shown = bestRegressionRows(res).filter((r) => r.errorByTime?.rmse.length);
  const values = shown.flatMap((r) =>
    r.errorByTime!.rmse.flatMap((v, k) => {
      const t = r.errorByTime!.times[k];
      return t !== undefined && Number.isFinite(v) ? [{ series: rowLabel(r), t, rmse: v }] : [];
    }),
  );
  if (values.length === 0) return undefined;
  const log = values.every((v) => v.rmse > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Rollout error: RMSE at each observation time',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 't' },
      y: { field: 'rmse', type: 'quantitative', title: 'RMSE over samples and states', scale: log ? { type: 'log' } : { zero: true } },
      color: { field: 'series', type: 'nominal', title: 'model', sort: shown.map(rowLabel) },
      tooltip: [{ field: 'series' }, { field: 't' }, { field: 'rmse', format: '.3e' }],
    },
  };
}

/** The rows of a solver comparison (`stage: 'compared'`), in the config's order. */
export function comparedRows(res: ExperimentResults): ResultRow[] {
  return res.rows.filter((r) => r.stage === 'compared');
}

/** A trainer comparison (`compare.trainers`): its rows name their trainer. */
export function isTrainerComparison(res: ExperimentResults): boolean {
  return comparedRows(res).some((r) => r.trainer !== undefined);
}

/**
 * A solver comparison's training: the mean training loss at the end of each epoch against the wall seconds of
 * training so far (the rows' `training.history[].elapsed`), one line per entry (log loss when every value is
 * positive). A trainer comparison plots the common curve instead, the rollout MSE on the training subset
 * (`history[].trainMse`): the trainers' own losses are not comparable.
 */
export function compareLossSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const trainers = isTrainerComparison(res);
  const rows = comparedRows(res).filter((r) => r.training?.history.length);
  const values = rows.flatMap((r) =>
    r.training!.history.flatMap((h) => {
      const loss = trainers ? h.trainMse : h.loss;
      return loss !== undefined && Number.isFinite(loss) && Number.isFinite(h.elapsed) ? [{ method: r.method, epoch: h.epoch, seconds: h.elapsed, loss }] : [];
    }),
  );
  if (values.length === 0) return undefined;
  const log = values.every((v) => v.loss > 0);
  const target = (res.config as { compare?: { target?: number } } | undefined)?.compare?.target;
  const x = { field: 'seconds', type: 'quantitative' as const, title: 'training time (s)' };
  const lines = {
    mark: { type: 'line' as const, point: true },
    encoding: {
      x,
      y: {
        field: 'loss',
        type: 'quantitative' as const,
        title: trainers ? 'rollout MSE on training trajectories' : 'training loss (epoch mean)',
        scale: log ? { type: 'log' as const } : { zero: false },
      },
      color: { field: 'method', type: 'nominal' as const, title: trainers ? 'trainer' : 'solver', sort: rows.map((r) => r.method) },
      order: { field: 'epoch', type: 'quantitative' as const },
      tooltip: [{ field: 'method' }, { field: 'epoch' }, { field: 'seconds', format: '.3f' }, { field: 'loss', format: '.4g' }],
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: trainers ? 'Rollout MSE (training trajectories) against training time' : 'Training loss against training time',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      ...(target !== undefined && (!log || target > 0) ? [{ mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: target } } }] : []),
      lines,
    ],
  };
}

/**
 * A solver comparison's accuracy against cost: each entry's test error — the test MSE (regression, log scale when
 * positive) or 1 − top-1 — against its NFE per sample, one labelled point per entry (entries without an NFE count
 * are left out).
 */
export function compareErrorNfeSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const regression = isRegressionResults(res);
  const rows = comparedRows(res);
  const values = rows.flatMap((r) => {
    const error = regression ? r.testMse : r.top1 === undefined ? undefined : 1 - r.top1;
    if (error === undefined || !Number.isFinite(error) || r.nfePerSample === undefined || !Number.isFinite(r.nfePerSample)) return [];
    return [{ method: r.method, nfe: r.nfePerSample, error, source: r.nfeSource ?? 'runtime', speedup: r.speedup }];
  });
  if (values.length === 0) return undefined;
  const log = values.every((v) => v.error > 0);
  const title = regression ? 'test MSE' : 'test error (1 − top-1)';
  const x = { field: 'nfe', type: 'quantitative' as const, title: 'NFE per sample', scale: { zero: true } };
  const y = { field: 'error', type: 'quantitative' as const, title, scale: log ? { type: 'log' as const } : { zero: true } };
  const color = { field: 'method', type: 'nominal' as const, title: 'solver', sort: rows.map((r) => r.method) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${regression ? 'Test MSE' : 'Test error'} against NFE per sample`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y,
          color,
          tooltip: [{ field: 'method' }, { field: 'nfe' }, { field: 'source', title: 'NFE from' }, { field: 'error', format: '.4g' }, { field: 'speedup', format: '.2f' }],
        },
      },
      { mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11 }, encoding: { x, y, text: { field: 'method' }, color } },
    ],
  };
}

/** The rows `evaluate.adaptive` measured, of the reduced models (`stage: 'reduced'`), with an NFE ratio at some rtol. */
function adaptiveValues(res: ExperimentResults): { method: string; dim: number; rtol: string; nfeRatio: number; nfePerSample?: number; rejectedPerSample?: number }[] {
  return res.rows
    .filter((r) => r.stage === 'reduced')
    .flatMap((r) =>
      (r.adaptive ?? [])
        .filter((a) => !a.error && typeof a.nfeRatio === 'number' && a.nfeRatio > 0 && Number.isFinite(a.nfeRatio))
        .map((a) => ({
          method: r.method,
          dim: r.dim,
          rtol: `rtol ${rtolLabel(a.rtol)}`,
          nfeRatio: a.nfeRatio!,
          ...(a.nfePerSample !== undefined ? { nfePerSample: a.nfePerSample } : {}),
          ...(a.rejectedPerSample !== undefined ? { rejectedPerSample: a.rejectedPerSample } : {}),
        })),
    );
}

/**
 * `evaluate.adaptive`: the NFE ratio (the reduced model's right-hand-side evaluations per sample under the adaptive
 * solver / the original's at the same rtol, log scale) against the reduced dimension k, one line per method, dashed
 * per tolerance; the dashed rule at 1 is the original.
 */
export function nfeRatioSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const values = adaptiveValues(res);
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'NFE under the adaptive solver, relative to the original',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: 1 } } },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'dim', type: 'quantitative', title: 'reduced dimension k' },
          y: { field: 'nfeRatio', type: 'quantitative', title: 'NFE per sample / the original’s', scale: { type: 'log' } },
          color: { field: 'method', type: 'nominal' },
          strokeDash: { field: 'rtol', type: 'nominal', title: null },
          detail: { field: 'rtol', type: 'nominal' },
          order: { field: 'dim', type: 'quantitative' },
          tooltip: [{ field: 'method' }, { field: 'dim' }, { field: 'rtol' }, { field: 'nfeRatio', format: '.3f' }, { field: 'nfePerSample', format: '.1f' }, { field: 'rejectedPerSample', format: '.2f' }],
        },
      },
    ],
  };
}

/**
 * `evaluate.adaptive.stiffness`: the median spectral radius of the block's Jacobian along the test trajectories against
 * the reduced dimension k, one line per method (log scale); the dashed rule is the original's.
 */
export function spectralRadiusSpec(res: ExperimentResults): vl.TopLevelSpec | undefined {
  const values = res.rows
    .filter((r) => r.stage === 'reduced' && r.stiffness && Number.isFinite(r.stiffness.spectralRadius.median) && r.stiffness.spectralRadius.median > 0)
    .map((r) => ({ method: r.method, dim: r.dim, rho: r.stiffness!.spectralRadius.median, rhoMax: r.stiffness!.spectralRadius.max, how: r.stiffness!.method }));
  if (values.length === 0) return undefined;
  const original = res.rows.find((r) => r.stage === 'original' && r.stiffness)?.stiffness?.spectralRadius.median;
  const layers: any[] = [];
  if (original !== undefined && Number.isFinite(original) && original > 0) layers.push({ mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: original } } });
  layers.push({
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'dim', type: 'quantitative', title: 'reduced dimension k' },
      y: { field: 'rho', type: 'quantitative', title: 'median ρ(J) along test trajectories', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal' },
      order: { field: 'dim', type: 'quantitative' },
      tooltip: [{ field: 'method' }, { field: 'dim' }, { field: 'rho', format: '.4g' }, { field: 'rhoMax', format: '.4g' }, { field: 'how' }],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: original !== undefined ? 'Spectral radius of the block’s Jacobian (dashed: the original)' : 'Spectral radius of the block’s Jacobian',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: layers,
  };
}

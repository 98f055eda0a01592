import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { ExperimentResults } from '@odemor/core';

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
  const values = history.flatMap((h) => [
    { epoch: h.epoch, measure: 'loss', value: h.loss },
    { epoch: h.epoch, measure: 'training accuracy', value: h.accuracy },
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

/** Relative top-1 accuracy against speedup, one line per method, for one stage. */
export function tradeoffSpec(res: ExperimentResults, stage: Exclude<ExperimentResults['rows'][number]['stage'], 'original'>): vl.TopLevelSpec | undefined {
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

/**
 * The POD + interpolation reducer shared by DEIM, Q-DEIM, ODEIM and third-party point selections.
 */
import type { Matrix } from 'ml-matrix';
import { OdemorError, check } from '../errors.js';
import type { OdeBlock, ModelIR } from '../ir/types.js';
import type { ReduceDims, ReducedModel, Reducer, ReducerCapabilities, ReducerFitContext, SnapshotSet } from '../extension-points.js';
import { interpolationOperator, type InterpolationOperator } from '../interpolation/ei.js';
import { reducedDiagnostics } from './cost.js';
import { buildInterpolatedBlock } from './interpolated.js';
import { checkDim, relativePodError, requireOdeBlock, requireSnapshots, withReducedBlock } from './model.js';

/**
 * A point selection: `count` distinct row indices of the `n × m` basis `U` (`count = m` for DEIM and
 * Q-DEIM, `m + o` for oversampled DEIM). `seed` is the fit context's seed, for randomised selections.
 */
export type PointSelection = (U: Matrix, count: number, info: { seed: number }) => number[];

/** Options shared by the interpolation reducers (the `reducers:` entry of a config, less `use` and `dims`). */
export interface InterpolationReducerOptions {
  /** fixed number of nonlinear basis columns m, used when `dims.m` is not given */
  m?: number;
  /** m = max(1, round(pointsRatio · k)) when neither `dims.m` nor `m` is given (default: m = k) */
  pointsRatio?: number;
  /** extra points o beyond m (least squares, pseudo-inverse); capped at n − m. Default 0 (ODEIM: 1) */
  oversample?: number;
}

interface PointCache {
  U: Matrix;
  points: number[];
  operator: InterpolationOperator;
}

/**
 * POD + interpolation reducer: `fit` takes the state basis V and nonlinear basis U from the snapshot
 * set; `reduce({ k, m })` selects `m + o` points on `U[:, :m]` (cached by m) and builds the unified
 * reduced block `E = V_kᵀ, M = PᵀAV_k, c = Pᵀb, N = V_kᵀU_m(PᵀU_m)⁺, Zr = V_kᵀZ, D = V_k`
 * ({@link buildInterpolatedBlock}). Diagnostics add `errorConstant` (‖(PᵀU_m)⁺‖₂), `podError`
 * (relative, from the state singular values), `nonlinearPodError`, `points`, `m` and `oversample`.
 * Capabilities: `points` and `oversampling` (m may differ from k either way).
 */
export class InterpolationReducer implements Reducer {
  /** m comes from `dims.m` (a config's `points`), independent of k: below or above it */
  readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };
  readonly needsSnapshots = true;
  private readonly options: Required<Pick<InterpolationReducerOptions, 'oversample'>> & InterpolationReducerOptions;
  private model?: ModelIR;
  private block?: OdeBlock;
  private snapshots?: SnapshotSet;
  private seed = 0;
  private readonly cache = new Map<number, PointCache>();

  constructor(
    readonly name: string,
    private readonly select: PointSelection,
    options: InterpolationReducerOptions = {},
    /** `oversample`: the default number of extra points; when absent, the option is refused (DEIM, Q-DEIM) */
    defaults: { oversample?: number } = {},
  ) {
    const { m, pointsRatio } = options;
    if (defaults.oversample === undefined && options.oversample !== undefined && options.oversample !== 0) {
      throw new OdemorError('CONFIG', `reducer '${name}' does not oversample (option oversample = ${String(options.oversample)}); use odeim for m + o points`);
    }
    const oversample = options.oversample ?? defaults.oversample ?? 0;
    if (m !== undefined) check(Number.isInteger(m) && m >= 1, `reducer '${name}': option m must be a positive integer, got ${String(m)}`, 'CONFIG');
    if (pointsRatio !== undefined) {
      check(typeof pointsRatio === 'number' && pointsRatio > 0 && Number.isFinite(pointsRatio),
        `reducer '${name}': option pointsRatio must be a positive number, got ${String(pointsRatio)}`, 'CONFIG');
    }
    check(m === undefined || pointsRatio === undefined, `reducer '${name}': give either option m or option pointsRatio, not both`, 'CONFIG');
    check(Number.isInteger(oversample) && oversample >= 0, `reducer '${name}': option oversample must be a non-negative integer, got ${String(oversample)}`, 'CONFIG');
    this.options = { ...options, oversample };
  }

  fit(context: ReducerFitContext): void {
    const block = requireOdeBlock(context.model, this.name);
    this.snapshots = requireSnapshots(context, this.name, block.n);
    check(this.snapshots.stateBasis.columns >= 1 && this.snapshots.nonlinearBasis.columns >= 1, `reducer '${this.name}': the snapshot bases are empty`, 'REDUCER');
    this.model = context.model;
    this.block = block;
    this.seed = context.seed;
    this.cache.clear();
  }

  reduce(dims: ReduceDims): ReducedModel {
    const { model, block, snapshots } = this;
    if (!model || !block || !snapshots) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const n = block.n;
    const V = snapshots.stateBasis;
    const k = checkDim(this.name, 'k', dims?.k, n, V.columns, 'the rank of the state basis');
    const mReq = dims.m ?? this.options.m ?? (this.options.pointsRatio !== undefined ? Math.max(1, Math.round(this.options.pointsRatio * k)) : k);
    const m = checkDim(this.name, 'm (interpolation points)', mReq, n, snapshots.nonlinearBasis.columns, 'the rank of the nonlinear basis');
    const entry = this.points(m, n);
    const Vk = V.subMatrix(0, n - 1, 0, k - 1);
    const reduced = buildInterpolatedBlock({ block, V: Vk, U: entry.U, points: entry.points, method: this.name, operator: entry.operator });
    return {
      method: this.name,
      dims: { k, m },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        errorConstant: entry.operator.errorConstant,
        podError: relativePodError(snapshots.stateSingularValues, k),
        nonlinearPodError: relativePodError(snapshots.nonlinearSingularValues, m),
        points: [...entry.points],
        m,
        oversample: entry.points.length - m,
      }),
    };
  }

  private points(m: number, n: number): PointCache {
    const hit = this.cache.get(m);
    if (hit) return hit;
    const U = this.snapshots!.nonlinearBasis.subMatrix(0, n - 1, 0, m - 1);
    const count = Math.min(m + this.options.oversample, n);
    const points = this.select(U, count, { seed: this.seed });
    if (!Array.isArray(points) || points.length !== count) {
      throw new OdemorError('REDUCER', `reducer '${this.name}': the point selection returned ${Array.isArray(points) ? points.length : 'no'} points, expected ${count}`);
    }
    const entry: PointCache = { U, points: [...points], operator: interpolationOperator(U, points) };
    this.cache.set(m, entry);
    return entry;
  }
}

/**
 * The POD + interpolation reducer shared by DEIM, Q-DEIM, ODEIM and third-party point selections.
 */
import type { Matrix } from 'ml-matrix';
import { z } from 'zod';
import { OdemorError, check } from '../errors.js';
import type { MlpBlock, OdeBlock, ModelIR } from '../ir/types.js';
import type { ReduceDims, ReducedModel, Reducer, ReducerCapabilities, ReducerFitContext, SnapshotSet } from '../extension-points.js';
import { interpolationOperator, type InterpolationOperator } from '../interpolation/ei.js';
import { reducedDiagnostics } from './cost.js';
import { buildInterpolatedBlock } from './interpolated.js';
import { matmul } from './dense.js';
import { buildMlpReducedBlock, checkHiddenDim, requireMlpBlock } from './mlp.js';
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

/**
 * The option schema of an interpolation reducer plugin ({@link InterpolationReducerOptions}): its config entry less
 * the core keys (`use`, `dims`, `points`, `energy`), plus the `seed` the pipeline passes (ignored by deterministic
 * selections). `oversample: true` adds the `oversample` key (ODEIM, S-OPT). `m` and `pointsRatio` exclude each other.
 */
export function interpolationReducerOptionsSchema(options: { oversample: boolean }) {
  const keys = {
    /** fixed number of nonlinear basis columns m, when the config gives no `points` */
    m: z.number().int().min(1).optional(),
    /** m = max(1, round(pointsRatio · k)) */
    pointsRatio: z.number().positive().optional(),
    /** extra points o beyond m (default 1), capped at n − m (oversampling reducers only) */
    ...(options.oversample ? { oversample: z.number().int().min(0).optional() } : {}),
    /** the experiment's seed (deterministic point selections ignore it) */
    seed: z.number().int().min(0).optional(),
  };
  return z
    .strictObject(keys)
    .refine((o) => o.m === undefined || o.pointsRatio === undefined, { message: 'give either option m or option pointsRatio, not both', path: ['pointsRatio'] });
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
 *
 * On an mlp block (docs/algorithms.md#mlp-reduction) it acts on the hidden layer: `reduce({ k: r })` takes the
 * first r POD modes `U_r` of the hidden activations (m × r), selects q points on them (q = r; a reducer that
 * oversamples: `dims.m` if given, else r + o, at most m) and returns `z' = N U_r(PᵀU_r)⁺ σ(PᵀM z + Pᵀc + PᵀZin u)
 * + bias` with E = D = I_n ({@link buildMlpReducedBlock}). Diagnostics: `errorConstant`, `nonlinearPodError`
 * (the hidden snapshots at r), `points`, `modes` (r), `oversample` (q − r).
 */
export class InterpolationReducer implements Reducer {
  /** m comes from `dims.m` (a config's `points`), independent of k: below or above it */
  readonly capabilities: ReducerCapabilities = { points: true, oversampling: true };
  readonly needsSnapshots = true;
  private readonly options: Required<Pick<InterpolationReducerOptions, 'oversample'>> & InterpolationReducerOptions;
  private model?: ModelIR;
  private block?: OdeBlock;
  private mlp?: MlpBlock;
  private snapshots?: SnapshotSet;
  private seed = 0;
  private readonly cache = new Map<number, PointCache>();
  /** whether the reducer takes more points than basis columns (ODEIM): given a default `oversample` */
  private readonly oversamples: boolean;

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
    this.oversamples = defaults.oversample !== undefined;
  }

  fit(context: ReducerFitContext): void {
    this.cache.clear();
    if (context?.model?.block?.kind === 'mlp') {
      const mlp = requireMlpBlock(context.model, this.name);
      for (const key of ['m', 'pointsRatio'] as const) {
        if (this.options[key] !== undefined) {
          throw new OdemorError('CONFIG',
            `reducer '${this.name}': option ${key} = ${String(this.options[key])} sets the nonlinear basis of a full ODE block; on an mlp block k is the number of ` +
              `hidden modes r${this.oversamples ? ' and points (dims.m) the number of hidden units evaluated' : ', the hidden units evaluated'}; remove ${key}`);
        }
      }
      this.snapshots = requireSnapshots(context, this.name, mlp.n, mlp.m);
      check(this.snapshots.nonlinearBasis.columns >= 1, `reducer '${this.name}': the hidden-activation basis is empty`, 'REDUCER');
      this.model = context.model;
      this.mlp = mlp;
      this.block = undefined;
      this.seed = context.seed;
      return;
    }
    const block = requireOdeBlock(context.model, this.name);
    this.snapshots = requireSnapshots(context, this.name, block.n);
    check(this.snapshots.stateBasis.columns >= 1 && this.snapshots.nonlinearBasis.columns >= 1, `reducer '${this.name}': the snapshot bases are empty`, 'REDUCER');
    this.model = context.model;
    this.block = block;
    this.mlp = undefined;
    this.seed = context.seed;
  }

  reduce(dims: ReduceDims): ReducedModel {
    if (this.mlp) return this.reduceMlp(dims);
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

  /** The hidden layer of an mlp block: r POD modes of the hidden activations, q ≥ r points (class doc). */
  private reduceMlp(dims: ReduceDims): ReducedModel {
    const { model, mlp: block, snapshots } = this;
    if (!model || !block || !snapshots) throw new OdemorError('REDUCER', `reducer '${this.name}': call fit() before reduce()`);
    const m = block.m;
    const r = checkHiddenDim(this.name, 'k (hidden modes r)', dims?.k, m, snapshots.nonlinearBasis.columns, 'the rank of the hidden-activation basis');
    let q: number;
    if (this.oversamples) {
      q = dims.m ?? Math.min(r + this.options.oversample, m);
      if (!Number.isInteger(q) || q < r) {
        throw new OdemorError('ARGUMENT', `reducer '${this.name}': m = ${String(dims.m)} (points, the hidden units evaluated) must be an integer ≥ k = ${r} (the hidden modes)`);
      }
      if (q > m) throw new OdemorError('ARGUMENT', `reducer '${this.name}': m = ${q} (points) exceeds the mlp block's m = ${m} hidden units`);
    } else {
      if (dims.m !== undefined && dims.m !== r) {
        throw new OdemorError('ARGUMENT',
          `reducer '${this.name}': on an mlp block it evaluates k = ${r} hidden units at k interpolation points; m = ${String(dims.m)} (a config's points) differs from k — remove points, or use odeim for more points than modes`);
      }
      q = r;
    }
    const entry = this.points(r, m, q);
    const n = block.n;
    // N U_r (PᵀU_r)⁺: [n, m] · [m, q]
    const Nout = matmul(block.N.data, entry.operator.projector, n, m, q);
    const reduced = buildMlpReducedBlock({ block, method: this.name, units: entry.points, N: Nout });
    return {
      method: this.name,
      dims: { k: r, m: q },
      model: withReducedBlock(model, reduced),
      diagnostics: reducedDiagnostics(reduced, {
        errorConstant: entry.operator.errorConstant,
        nonlinearPodError: relativePodError(snapshots.nonlinearSingularValues, r),
        points: [...entry.points],
        modes: r,
        oversample: q - r,
      }),
    };
  }

  /** Points on the first `m` columns of the nonlinear basis (`rows` rows), `count` of them (default m + o, at most rows); cached. */
  private points(m: number, rows: number, count = Math.min(m + this.options.oversample, rows)): PointCache {
    const key = this.mlp ? m * (rows + 1) + count : m;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const n = rows;
    const U = this.snapshots!.nonlinearBasis.subMatrix(0, n - 1, 0, m - 1);
    const points = this.select(U, count, { seed: this.seed });
    if (!Array.isArray(points) || points.length !== count) {
      throw new OdemorError('REDUCER', `reducer '${this.name}': the point selection returned ${Array.isArray(points) ? points.length : 'no'} points, expected ${count}`);
    }
    const entry: PointCache = { U, points: [...points], operator: interpolationOperator(U, points) };
    this.cache.set(key, entry);
    return entry;
  }
}

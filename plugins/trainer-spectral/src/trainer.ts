/**
 * Trainer 'spectral': SNODE (Quaglino, Gallieri, Masci & Koutník, ICLR 2020; docs/algorithms.md#snode) for an
 * mlp block on a trajectory dataset. Every training trajectory is a spectral-element series (its node values,
 * `elements.ts`); coordinate descent alternates (b) θ with the series fixed, minibatch steps on the collocation
 * residual, and (a) the series of all trajectories with θ fixed, on J = data + λ · residual — no ODE solve anywhere
 * while training.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  OdemorError,
  createRng,
  describeIssues,
  listTensors,
  paramSelector,
  saveModel,
  validateModel,
  withTensors,
  z,
  type Dataset,
  type EpochInfo,
  type ModelIR,
  type Solver,
  type Trainer,
  type TrainContext,
  type TrainOptions,
  type TrainResult,
  type TrainSummary,
} from '@odemor/core';
import { createParams, disposeParams, ensureGradients, initTfjs, tfActivation, type TfjsBackendName, type TfParams } from '@odemor/runtime-tfjs';
import { evaluationMatrix, leastSquaresFit, signalIndices, spectralGrid, type SpectralGrid } from './elements.js';
import type { Mat64 } from './legendre.js';

/** Options of Trainer 'spectral' (its own keys; core's `train` keys come as {@link TrainOptions}). */
export interface SpectralOptions {
  /** p, the degree of the Legendre series on each element (default 6) */
  order: number;
  /** E, equal elements per trajectory, continuous at their common ends (default 1) */
  elements: number;
  /** λ, the weight of the collocation residual in J (default 1) */
  lambda: number;
  /**
   * per outer iteration (epoch): `weights` passes of (b) over the training trajectories in minibatches of `batch`,
   * one θ step each (default 1), then `coefficients` optimizer steps of (a) on all trajectories at once (default 10;
   * 0 keeps the least-squares fit: plain two-stage collocation)
   */
  innerSteps: { coefficients: number; weights: number };
  /** optimizer of the node values in (a) (default 'adam'); θ's is core's `optimizer` */
  coefficientOptimizer: 'adam' | 'sgd';
  /** its learning rate (default 0.01, constant; θ's is core's `lr` with `lrDecay`) */
  coefficientLr: number;
  /** ε of the least-squares initialisation's derivative penalty, relative (default 1e-6; see `leastSquaresFit`) */
  smoothing: number;
  /** preferred tfjs backend (default: `initTfjs`'s choice) */
  backend?: TfjsBackendName;
}

/** The defaults of {@link SpectralOptions}. */
export const SPECTRAL_DEFAULTS: Readonly<Omit<SpectralOptions, 'backend'>> = Object.freeze({
  order: 6,
  elements: 1,
  lambda: 1,
  innerSteps: Object.freeze({ coefficients: 10, weights: 1 }),
  coefficientOptimizer: 'adam' as const,
  coefficientLr: 0.01,
  smoothing: 1e-6,
});

const positiveFinite = z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a finite number > 0');

/** Option schema of Trainer 'spectral' (every key optional, unknown keys refused). */
export const spectralOptionsSchema = z.strictObject({
  order: z.number().int('must be an integer').min(1, 'must be an integer from 1 to 64').max(64, 'must be an integer from 1 to 64').optional(),
  elements: z.number().int('must be an integer').min(1, 'must be an integer ≥ 1').max(10_000, 'must be at most 10000').optional(),
  lambda: positiveFinite.optional(),
  innerSteps: z
    .strictObject({
      coefficients: z.number().int('must be an integer').min(0, 'must be an integer ≥ 0').optional(),
      weights: z.number().int('must be an integer').min(1, 'must be an integer ≥ 1').optional(),
    })
    .optional(),
  coefficientOptimizer: z.enum(['adam', 'sgd']).optional(),
  coefficientLr: positiveFinite.optional(),
  smoothing: positiveFinite.optional(),
  backend: z.enum(['tensorflow', 'wasm', 'cpu']).optional(),
});

/** The keys of {@link spectralOptionsSchema}. */
export const SPECTRAL_KEYS = Object.freeze(Object.keys(spectralOptionsSchema.shape)) as readonly (keyof SpectralOptions)[];

/**
 * The full options from a raw object (defaults filled in; `innerSteps` merged key by key).
 * @throws OdemorError 'CONFIG' naming each key and value at fault (`option innerSteps.weights: must be an integer ≥ 1`)
 */
export function resolveSpectralOptions(raw: unknown, owner = "trainer 'spectral'"): SpectralOptions {
  const value = raw ?? {};
  const parsed = spectralOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues, value, { schema: spectralOptionsSchema, owner });
    throw new OdemorError('CONFIG', `${owner}: ${problems.map((p) => `option ${p.key}: ${p.message}`).join('; ')}`);
  }
  const d = parsed.data;
  return {
    order: d.order ?? SPECTRAL_DEFAULTS.order,
    elements: d.elements ?? SPECTRAL_DEFAULTS.elements,
    lambda: d.lambda ?? SPECTRAL_DEFAULTS.lambda,
    innerSteps: {
      coefficients: d.innerSteps?.coefficients ?? SPECTRAL_DEFAULTS.innerSteps.coefficients,
      weights: d.innerSteps?.weights ?? SPECTRAL_DEFAULTS.innerSteps.weights,
    },
    coefficientOptimizer: d.coefficientOptimizer ?? SPECTRAL_DEFAULTS.coefficientOptimizer,
    coefficientLr: d.coefficientLr ?? SPECTRAL_DEFAULTS.coefficientLr,
    smoothing: d.smoothing ?? SPECTRAL_DEFAULTS.smoothing,
    ...(d.backend ? { backend: d.backend } : {}),
  };
}

/** An epoch of spectral training: core's {@link EpochInfo} (loss = J) plus its two terms, after the epoch's steps. */
export interface SpectralEpochInfo extends EpochInfo {
  /** mean over trajectories, fitted points (x(t0) and the T targets) and states of (x(t_j) − y_j)² */
  dataLoss: number;
  /** the time-averaged squared collocation residual ‖ẋ − f(x, u)‖² per state, mean over trajectories */
  residualLoss: number;
}

/**
 * Why the spectral trainer cannot train `model`, or undefined when it can: an mlp block with input kind 'state'
 * and a trajectory readout, no pre or post layers.
 */
export function unsupportedReason(model: ModelIR): string | undefined {
  if (model.block.kind !== 'mlp') return `it trains mlp blocks (model 'mlp-node'), not a '${model.block.kind}' block`;
  if (model.input.kind !== 'state') return `it trains trajectory models (input kind 'state'), not input kind '${model.input.kind}'`;
  if (model.readout?.kind !== 'trajectory') return 'it trains trajectory models (a trajectory readout), but the model reads out logits';
  if (model.pre.length || model.post.length) return `a trajectory model has no pre or post layers, this one has ${model.pre.length} and ${model.post.length}`;
  return undefined;
}

/** The dataset facts the trainer uses, checked against the model. */
interface TrajectoryData {
  t0: number;
  times: number[];
  d: number;
  signal?: { steps: number; channels: number; dt: number };
}

function checkDataset(model: ModelIR, dataset: Dataset): TrajectoryData {
  const info = dataset.info;
  const name = `dataset '${dataset.name}'`;
  if (info.kind !== 'trajectory') throw new OdemorError('ARGUMENT', `trainer 'spectral': it fits trajectories, but ${name} has kind '${info.kind}' (use a trajectory dataset such as 'dynamics')`);
  const times = info.times;
  if (!times?.length) throw new OdemorError('ARGUMENT', `trainer 'spectral': ${name} gives no observation times (info.times)`);
  const t0 = info.t0 ?? 0;
  const d = info.inputShape.reduce((a, b) => a * b, 1);
  const block = model.block;
  if (block.kind !== 'mlp' || model.input.kind !== 'state') throw new OdemorError('ARGUMENT', `trainer 'spectral': ${unsupportedReason(model)}`);
  if (block.n !== d) throw new OdemorError('ARGUMENT', `trainer 'spectral': the model's state has ${block.n} entries, ${name}'s ${d}`);
  if (Math.abs(model.solver.t0 - t0) > 1e-12 * Math.max(1, Math.abs(t0))) {
    throw new OdemorError('ARGUMENT', `trainer 'spectral': the model starts at solver.t0 = ${model.solver.t0}, ${name}'s trajectories at t0 = ${t0}`);
  }
  for (let i = 0; i < times.length; i++) {
    const prev = i ? times[i - 1]! : t0;
    if (!(times[i]! > prev)) throw new OdemorError('ARGUMENT', `trainer 'spectral': ${name}'s times must increase after t0 = ${t0}, got times[${i}] = ${times[i]}`);
  }
  const sig = info.signal;
  const msig = model.input.signal;
  if (!!sig !== !!msig || !!block.Zin !== !!msig) {
    throw new OdemorError(
      'ARGUMENT',
      `trainer 'spectral': ${name} ${sig ? `has an input signal (${sig.channels} channels)` : 'has no input signal'}, the model ${msig ? 'reads one' : 'reads none'}${block.Zin ? ' (block.Zin)' : ''}`,
    );
  }
  if (sig && msig && (sig.steps !== msig.steps || sig.channels !== msig.channels || Math.abs(sig.dt - msig.stepDuration) > 1e-12 * sig.dt)) {
    throw new OdemorError(
      'ARGUMENT',
      `trainer 'spectral': ${name}'s signal (steps ${sig.steps}, channels ${sig.channels}, dt ${sig.dt}) differs from the model's (steps ${msig.steps}, channels ${msig.channels}, stepDuration ${msig.stepDuration})`,
    );
  }
  return { t0, times: [...times], d, ...(sig ? { signal: { ...sig } } : {}) };
}

/** Every training trajectory (the first `count`) in memory: x0 [N, d], targets [N, T, d], u [N, steps, ch]. */
async function loadTrajectories(dataset: Dataset, count: number, data: TrajectoryData): Promise<{ x: Float32Array; targets: Float32Array; u?: Float32Array; size: number }> {
  const T = data.times.length;
  const x = new Float32Array(count * data.d);
  const targets = new Float32Array(count * T * data.d);
  const u = data.signal ? new Float32Array(count * data.signal.steps * data.signal.channels) : undefined;
  let n = 0;
  for await (const b of dataset.batches('train', count, { shuffle: false, limit: count })) {
    const take = Math.min(b.size, count - n);
    if (take <= 0) break;
    if (!b.targets || b.targets.length < take * T * data.d) throw new OdemorError('ARGUMENT', `trainer 'spectral': dataset '${dataset.name}' gave a training batch without targets [${b.size}, ${T}, ${data.d}]`);
    x.set(b.x.subarray(0, take * data.d), n * data.d);
    targets.set(b.targets.subarray(0, take * T * data.d), n * T * data.d);
    if (u) {
      const per = data.signal!.steps * data.signal!.channels;
      if (!b.u || b.u.length < take * per) throw new OdemorError('ARGUMENT', `trainer 'spectral': dataset '${dataset.name}' gave a training batch without its input signal u`);
      u.set(b.u.subarray(0, take * per), n * per);
    }
    n += take;
  }
  if (n < count) throw new OdemorError('ARGUMENT', `trainer 'spectral': dataset '${dataset.name}' gave ${n} training trajectories, expected ${count}`);
  return { x, targets, ...(u ? { u } : {}), size: count };
}

function tensorOf(m: Mat64): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols], 'float32');
}

function optimizerOf(kind: 'sgd' | 'momentum' | 'adam', lr: number, momentum = 0.9): { opt: tf.Optimizer; setLr(lr: number): void } {
  switch (kind) {
    case 'sgd':
    case 'momentum': {
      const opt = kind === 'sgd' ? tf.train.sgd(lr) : tf.train.momentum(lr, momentum);
      return { opt, setLr: (v) => opt.setLearningRate(v) };
    }
    case 'adam': {
      const opt = tf.train.adam(lr);
      return { opt, setLr: (v) => ((opt as unknown as { learningRate: number }).learningRate = v) };
    }
    default:
      throw new OdemorError('ARGUMENT', `trainer 'spectral': unknown optimizer '${String(kind)}' (sgd, momentum, adam)`);
  }
}

/**
 * The block's vector field at R states with their inputs: f(X, U) = σ(X Mᵀ + c + U Zinᵀ) Nᵀ + bias, X [R, n],
 * U [R, channels] — one batched evaluation for every collocation point of every trajectory.
 */
export function mlpField(model: ModelIR, params: TfParams): (x: tf.Tensor2D, u?: tf.Tensor2D) => tf.Tensor2D {
  const block = model.block;
  if (block.kind !== 'mlp') throw new OdemorError('MODEL', `mlpField: an mlp block is needed, got '${block.kind}'`);
  const get = (p: string) => {
    const t = params.get(p);
    if (!t) throw new OdemorError('RUNTIME', `parameter ${p} is missing from the parameter map`);
    return t;
  };
  const M = get('block.M') as tf.Tensor2D;
  const c = get('block.c');
  const N = get('block.N') as tf.Tensor2D;
  const bias = get('block.bias');
  const Zin = block.Zin ? (get('block.Zin') as tf.Tensor2D) : undefined;
  return (x, u) => {
    let a = tf.add(tf.matMul(x, M, false, true), c) as tf.Tensor2D;
    if (Zin) {
      if (!u) throw new OdemorError('ARGUMENT', 'mlpField: the block reads an input (block.Zin) but no u was given');
      a = tf.add(a, tf.matMul(u, Zin, false, true));
    }
    return tf.add(tf.matMul(tfActivation(a, block.activation) as tf.Tensor2D, N, false, true), bias) as tf.Tensor2D;
  };
}

/**
 * Trainer 'spectral' (docs/algorithms.md#snode). Per training trajectory the node values Z [S = E·p + 1, d] of
 * E continuous elements of degree p ({@link spectralGrid}); initialised by least squares on x(t0) and the targets;
 * then per epoch first (b) `innerSteps.weights` passes over the trajectories (shuffled by `createRng(seed + epoch ·
 * weights + pass)`) in minibatches of `batch`, each one step of core's optimizer on the minibatch's residual, Z fixed,
 * the field evaluated at [batch · E·(p+1), d] collocation states in one call; then (a) `innerSteps.coefficients` steps
 * of the coefficient optimizer on J(Z, θ) = data(Z) + λ · residual(Z, θ) for all trajectories at once, θ fixed
 * (θ first: the first series step then sees a field fitted to the data's series, not the random initial one). Gradients
 * by tfjs autodiff. The solver plays no part in training (the returned ordinary mlp-node model is integrated by any
 * solver at evaluation). Keeps its state (Z, the optimizers) in memory only: `context.resume` is ignored, the
 * per-epoch checkpoint holds the model.
 */
export class SpectralTrainer implements Trainer {
  readonly name = 'spectral';
  private readonly defaults: Record<string, unknown>;

  /** @throws OdemorError 'CONFIG' for bad options (checked here, and again merged with a train call's own keys) */
  constructor(defaults: Record<string, unknown> = {}) {
    resolveSpectralOptions(defaults);
    this.defaults = { ...defaults };
  }

  supports(model: ModelIR, _solver?: Solver): { ok: true } | { ok: false; reason: string } {
    const reason = unsupportedReason(model);
    return reason ? { ok: false, reason } : { ok: true };
  }

  async train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult> {
    if (!options || typeof options !== 'object') throw new OdemorError('ARGUMENT', `trainer 'spectral': options are required`);
    const own: Record<string, unknown> = { ...this.defaults };
    for (const k of SPECTRAL_KEYS) if (options[k] !== undefined) own[k] = options[k];
    if (options.innerSteps !== undefined && this.defaults.innerSteps !== undefined && typeof options.innerSteps === 'object') {
      own.innerSteps = { ...(this.defaults.innerSteps as object), ...(options.innerSteps as object) };
    }
    const so = resolveSpectralOptions(own);
    const o = options;
    if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw new OdemorError('ARGUMENT', `trainer 'spectral': epochs must be a non-negative integer, got ${String(o.epochs)}`);
    if (!(Number.isInteger(o.batch) && o.batch >= 1)) throw new OdemorError('ARGUMENT', `trainer 'spectral': batch must be a positive integer, got ${String(o.batch)}`);
    if (!(typeof o.lr === 'number' && Number.isFinite(o.lr) && o.lr > 0)) throw new OdemorError('ARGUMENT', `trainer 'spectral': lr must be a finite number > 0, got ${String(o.lr)}`);
    if (!['sgd', 'momentum', 'adam'].includes(o.optimizer)) throw new OdemorError('ARGUMENT', `trainer 'spectral': unknown optimizer '${String(o.optimizer)}' (sgd, momentum, adam)`);
    if (!Number.isInteger(o.seed)) throw new OdemorError('ARGUMENT', `trainer 'spectral': seed must be an integer, got ${String(o.seed)}`);
    if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new OdemorError('ARGUMENT', `trainer 'spectral': weightDecay must be >= 0, got ${o.weightDecay}`);
    if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new OdemorError('ARGUMENT', `trainer 'spectral': clipNorm must be > 0, got ${o.clipNorm}`);
    if (o.augment) throw new OdemorError('ARGUMENT', "trainer 'spectral': augment is not supported (the series fit fixed observed trajectories); drop train.augment");
    if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 1)) throw new OdemorError('ARGUMENT', `trainer 'spectral': limit must be a positive integer, got ${String(o.limit)}`);
    validateModel(model);
    const reason = unsupportedReason(model);
    if (reason) throw new OdemorError('ARGUMENT', `trainer 'spectral' cannot train this model: ${reason}`);
    const data = checkDataset(model, context.dataset);
    const pick = paramSelector(model, o.params ?? 'all');
    const blockPaths = ['block.M', 'block.c', 'block.N', 'block.bias', 'block.Zin'];
    const trainable = (p: string) => blockPaths.includes(p) && pick(p);
    if (!listTensors(model).some(({ path }) => trainable(path))) {
      throw new OdemorError('ARGUMENT', `trainer 'spectral': nothing to train (params = ${JSON.stringify(o.params)} selects none of ${blockPaths.join(', ')})`);
    }
    const N = o.limit !== undefined ? Math.min(o.limit, context.dataset.info.trainSize) : context.dataset.info.trainSize;
    if (!(N >= 1)) throw new OdemorError('ARGUMENT', `trainer 'spectral': dataset '${context.dataset.name}' has no training trajectories`);

    await initTfjs(so.backend);
    await ensureGradients();
    const start = performance.now();
    const phase = context.phase;
    const traj = await loadTrajectories(context.dataset, N, data);
    const { d } = data;
    const T = data.times.length;
    const grid: SpectralGrid = spectralGrid(data.t0, data.times[T - 1]!, so.order, so.elements);
    const S = grid.nodes;
    const Q = grid.points;
    const P = T + 1;
    // the fitted points: x(t0) (known exactly) and the T targets
    const phi = evaluationMatrix(grid, [data.t0, ...data.times]);
    const fit = leastSquaresFit(grid, phi, so.smoothing);
    // observations Y [P, N, d] and the least-squares node values Z0 = fit · Y [S, N, d], in float64
    const Y = new Float64Array(P * N * d);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < d; k++) {
        Y[n * d + k] = traj.x[n * d + k]!;
        for (let j = 0; j < T; j++) Y[((j + 1) * N + n) * d + k] = traj.targets[(n * T + j) * d + k]!;
      }
    }
    const Z0 = new Float32Array(S * N * d);
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < P; j++) {
        const w = fit.data[s * P + j]!;
        if (w === 0) continue;
        for (let i = 0; i < N * d; i++) Z0[s * N * d + i]! += w * Y[j * N * d + i]!;
      }
    }
    // the signal at every collocation point of every trajectory [Q, N, ch]
    let Ucol: tf.Tensor3D | undefined;
    const ch = data.signal?.channels ?? 0;
    const params = createParams(model, trainable);
    const thetaVars = [...params.entries()].filter(([p]) => trainable(p)).map(([, t]) => t as tf.Variable);
    const phiT = tensorOf(phi);
    const derivT = tensorOf(grid.derivative);
    // the states at the collocation points as a 0/1 matrix [Q × S] (a matMul: its gradient exists on every backend,
    // unlike gather's UnsortedSegmentSum on wasm)
    const select = new Float32Array(Q * S);
    grid.collocationNodes.forEach((node, r) => (select[r * S + node] = 1));
    const selectT = tf.tensor2d(select, [Q, S], 'float32');
    const weightsT = tf.tensor1d(Float32Array.from(grid.pointWeights), 'float32');
    const Yt = tf.tensor3d(Float32Array.from(Y), [P, N, d], 'float32');
    const Z = tf.variable(tf.tensor3d(Z0, [S, N, d], 'float32'), true, undefined, 'float32');
    if (data.signal) {
      const idx = signalIndices(grid, data.signal.dt, data.signal.steps);
      const host = new Float32Array(Q * N * ch);
      const steps = data.signal.steps;
      for (let r = 0; r < Q; r++) for (let n = 0; n < N; n++) for (let c = 0; c < ch; c++) host[(r * N + n) * ch + c] = traj.u![(n * steps + idx[r]!) * ch + c]!;
      Ucol = tf.tensor3d(host, [Q, N, ch], 'float32');
    }
    const field = mlpField(model, params);
    const dataLoss = (Zs: tf.Tensor3D, Ys: tf.Tensor3D): tf.Scalar => {
      const n = Zs.shape[1];
      const X = tf.matMul(phiT, tf.reshape(Zs, [S, n * d]) as tf.Tensor2D);
      return tf.mean(tf.squaredDifference(X, tf.reshape(Ys, [P, n * d])));
    };
    const residualLoss = (Zs: tf.Tensor3D, Us: tf.Tensor3D | undefined): tf.Scalar => {
      const n = Zs.shape[1];
      const flat = tf.reshape(Zs, [S, n * d]) as tf.Tensor2D;
      const X = tf.reshape(tf.matMul(selectT, flat), [Q * n, d]) as tf.Tensor2D;
      const Xdot = tf.reshape(tf.matMul(derivT, flat), [Q * n, d]);
      const F = field(X, Us ? (tf.reshape(Us, [Q * n, ch]) as tf.Tensor2D) : undefined);
      const perPoint = tf.mean(tf.reshape(tf.squaredDifference(Xdot, F), [Q, n * d]), 1);
      return tf.sum(tf.mul(perPoint, weightsT));
    };
    const coef = so.coefficientOptimizer === 'adam' ? tf.train.adam(so.coefficientLr) : tf.train.sgd(so.coefficientLr);
    const { opt, setLr } = optimizerOf(o.optimizer, o.lr, o.momentum);
    const decay = o.lrDecay ?? 1;
    const perPass = Math.ceil(N / o.batch);
    const total = o.epochs * so.innerSteps.weights * perPass;
    let done = 0;
    const emit = (detail: string) => {
      const e = { task: phase, label: phase === 'train' ? 'Training' : 'Fine-tuning', done, total, detail };
      if (context.onProgress) context.onProgress(done, total, detail);
      else context.hooks?.progress?.call(e);
    };
    const read = async (t: tf.Scalar): Promise<number> => {
      const v = (await t.data())[0]!;
      t.dispose();
      return v;
    };
    const history: SpectralEpochInfo[] = [];
    const snapshot = (): ModelIR => {
      const values = new Map<string, Float32Array>();
      for (const [p, t] of params) if (trainable(p)) values.set(p, t.dataSync() as Float32Array);
      return withTensors(model, values);
    };
    let current = model;
    try {
      await context.hooks?.beforeTrain?.promise(model, phase);
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        const t0 = performance.now();
        const lr = o.lr * decay ** epoch;
        setLr(lr);
        // (b) θ on minibatches of trajectories, the series fixed
        for (let pass = 0; pass < so.innerSteps.weights; pass++) {
          const order = createRng(o.seed + epoch * so.innerSteps.weights + pass).shuffle(Array.from({ length: N }, (_, i) => i));
          for (let b = 0; b < perPass; b++) {
            const idx = order.slice(b * o.batch, (b + 1) * o.batch);
            const cost = tf.tidy(() => {
              const it = tf.tensor1d(idx, 'int32');
              const Zs = tf.gather(Z, it, 1) as tf.Tensor3D;
              const Us = Ucol ? (tf.gather(Ucol, it, 1) as tf.Tensor3D) : undefined;
              const { value, grads } = tf.variableGrads(() => residualLoss(Zs, Us), thetaVars);
              let g: tf.NamedTensorMap = grads;
              if (o.clipNorm !== undefined) {
                const norm = tf.sqrt(tf.addN(Object.values(grads).map((x) => tf.sum(tf.square(x)))));
                const scale = tf.minimum(1, tf.div(o.clipNorm, tf.maximum(norm, 1e-12)));
                g = Object.fromEntries(Object.entries(grads).map(([k, x]) => [k, tf.mul(x, scale)]));
              }
              opt.applyGradients(g);
              if (o.weightDecay) for (const v of thetaVars) v.assign(tf.sub(v, tf.mul(v, lr * o.weightDecay)));
              return value;
            });
            const v = await read(cost);
            if (!Number.isFinite(v)) throw new OdemorError('NUMERIC', `${phase}: the residual became ${v} in epoch ${epoch + 1}, batch ${b + 1} (try a smaller lr)`);
            done++;
            emit(`epoch ${epoch + 1}/${o.epochs} residual ${v.toFixed(4)}`);
          }
        }
        // (a) the series of every trajectory, θ fixed
        for (let k = 0; k < so.innerSteps.coefficients; k++) {
          const cost = tf.tidy(() => coef.minimize(() => tf.add(dataLoss(Z, Yt), tf.mul(so.lambda, residualLoss(Z, Ucol))) as tf.Scalar, true, [Z])!);
          const v = await read(cost);
          if (!Number.isFinite(v)) throw new OdemorError('NUMERIC', `${phase}: the objective became ${v} in epoch ${epoch + 1}, coefficient step ${k + 1} (try a smaller coefficientLr)`);
        }
        const [dl, rl] = tf.tidy(() => [dataLoss(Z, Yt), residualLoss(Z, Ucol)]);
        const dataValue = await read(dl!);
        const residualValue = await read(rl!);
        const info: SpectralEpochInfo = {
          epoch: epoch + 1,
          epochs: o.epochs,
          loss: dataValue + so.lambda * residualValue,
          accuracy: NaN,
          lr,
          seconds: (performance.now() - t0) / 1000,
          phase,
          dataLoss: dataValue,
          residualLoss: residualValue,
        };
        if (!Number.isFinite(info.loss)) throw new OdemorError('NUMERIC', `${phase}: the objective became ${info.loss} in epoch ${epoch + 1} (try smaller learning rates)`);
        history.push(info);
        await context.hooks?.epoch?.promise(info);
        if (context.checkpoint) {
          current = snapshot();
          await saveModel(context.checkpoint, current);
        }
      }
      current = snapshot();
    } finally {
      disposeParams(params);
      for (const t of [phiT, derivT, selectT, weightsT, Yt, Z, ...(Ucol ? [Ucol] : [])]) t.dispose();
      opt.dispose();
      coef.dispose();
    }
    const last = history[history.length - 1];
    const summary: TrainSummary = {
      epochs: o.epochs,
      finalLoss: last?.loss ?? NaN,
      finalAccuracy: NaN,
      seconds: (performance.now() - start) / 1000,
      phase,
      trainer: 'spectral',
      backend: `tfjs/${tf.getBackend()}`,
    };
    await context.hooks?.afterTrain?.promise(current, summary);
    return { model: current, summary, history };
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { cachedBatches, describeIssues, listTensors, z } from '@odemor/core';
import { EpochMeter } from '@odemor/core';
import { DOPRI5_TABLEAU, ExplicitRungeKuttaSolver, OdemorError, isSolver } from '@odemor/core';
import type { Dataset, Solver, TrainResult } from '@odemor/core';
import type { EpochInfo, OdemorHooks, ProgressEvent, TrainSummary } from '@odemor/core';
import { saveModel } from '@odemor/core';
import type { ModelIR } from '@odemor/core';
import { validateModel } from '@odemor/core';
import { paramSelector, withMidpointNetwork, withTensors, type ParamSelection } from '@odemor/core';
import { ensureGradients, initTfjs, type TfjsBackendName } from './backend.js';
import { blockFeatures, createParams, disposeParams, forward, forwardPost, inputTensor, signalTensor, type ForwardOptions, type TfParams } from './forward.js';
import { blockOutputShape } from '@odemor/core';

/** Which tensors stay fixed: none; the pre layers; everything but the post layers (fine-tuning). */
export type FreezeMode = 'none' | 'before-block' | 'all-but-post';

/**
 * The alternating midpoint schedule of Taylor-Lagrange training (Djeumou et al. 2022; docs/algorithms.md#taylor-lagrange):
 * every `every` iterations (a global counter over all epochs), after that iteration's step of the dynamics, the
 * midpoint network Γ_φ takes `steps` Adam steps (its own Adam state, learning rate `lr`) on
 * mean over the batch of ‖x_TL − x_ref‖₁ (summed over the outputs of a sample), with the dynamics frozen; x_ref is
 * the same quantity from an adaptive Dormand–Prince solve of the current dynamics at `rtol`/`atol`. A model without
 * a midpoint network gets one of `hidden` ReLU units (weights uniform ±`init`, zero biases, seeded from the train seed).
 */
export interface MidpointSchedule {
  /** K: a midpoint update after every K-th iteration (default 10) */
  every: number;
  /** Adam steps of φ per update (default 1) */
  steps: number;
  /** learning rate of φ's Adam (default 1e-3) */
  lr: number;
  /** relative tolerance of the Dormand–Prince reference solve (default 1e-7) */
  rtol: number;
  /** absolute tolerance of the reference solve (default 1e-9) */
  atol: number;
  /** hidden units of the midpoint network the trainer adds when the model has none (default 16) */
  hidden: number;
  /** its weights are drawn uniformly from [−init, init] (default 1e-2) */
  init: number;
}

/** The defaults of {@link MidpointSchedule} (the same in runtime-onnx's trainer). */
export const MIDPOINT_SCHEDULE_DEFAULTS: Readonly<MidpointSchedule> = Object.freeze({ every: 10, steps: 1, lr: 1e-3, rtol: 1e-7, atol: 1e-9, hidden: 16, init: 1e-2 });

const positiveFinite = z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a finite number > 0');
const positiveInteger = z.number().int('must be an integer').min(1, 'must be an integer ≥ 1');

/** Option schema of the trainer option `midpoint` ({@link MidpointSchedule}; every key optional, unknown keys refused). */
export const midpointScheduleSchema = z.strictObject({
  every: positiveInteger.optional(),
  steps: positiveInteger.optional(),
  lr: positiveFinite.optional(),
  rtol: positiveFinite.optional(),
  atol: positiveFinite.optional(),
  hidden: positiveInteger.optional(),
  init: positiveFinite.optional(),
});

/** What a caller gives as `midpoint`: any subset of {@link MidpointSchedule} (`{}`: every default). */
export type MidpointScheduleOptions = Partial<MidpointSchedule>;

/**
 * The full schedule from the option `midpoint` (defaults filled in).
 * @param owner who owns the option, for messages (`train`, `trainer 'backprop'`)
 * @throws OdemorError 'CONFIG' naming the key and the value at fault (`option midpoint.every: must be an integer ≥ 1`)
 */
export function resolveMidpointSchedule(raw: unknown, owner = 'train'): MidpointSchedule {
  const value = raw;
  const parsed = midpointScheduleSchema.safeParse(value);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues, value, { prefix: ['midpoint'], schema: midpointScheduleSchema, owner: `${owner}'s midpoint schedule` });
    throw new OdemorError('CONFIG', `${owner}: ${problems.map((p) => `option ${p.key}: ${p.message}`).join('; ')}`);
  }
  const out: MidpointSchedule = { ...MIDPOINT_SCHEDULE_DEFAULTS };
  for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) out[k as keyof MidpointSchedule] = v;
  return out;
}

/**
 * Whether `solver` is the Taylor-Lagrange method with its Lagrange remainder (`@odemor/solver-taylor-lagrange`'s
 * 'taylor-lagrange', not the truncated 'taylor' variant): a step program that asks for derivatives and evaluates the
 * remainder at the midpoint, the only solver the midpoint network changes.
 */
export function isTaylorLagrangeRemainder(solver: Solver): boolean {
  const s = solver as Solver & { remainder?: unknown };
  return solver.name === 'taylor-lagrange' && s.remainder !== false && typeof solver.step === 'function' && (solver.derivatives ?? 0) >= 1;
}

/** The Dormand–Prince 5(4) solver of the midpoint schedule's reference solves: core's `DOPRI5_TABLEAU`, adaptive. */
function dormandPrince(): Solver {
  return new ExplicitRungeKuttaSolver('dopri5', DOPRI5_TABLEAU, true);
}

/**
 * An epoch's record with the midpoint schedule: core's {@link EpochInfo} plus `midpointLoss` (the mean of the
 * midpoint losses of the updates made in that epoch, each the loss at the start of its update; null when the epoch
 * had none) and `referenceSeconds` (wall time of that epoch's Dormand–Prince reference solves).
 */
export interface MidpointEpochInfo extends EpochInfo {
  midpointLoss: number | null;
  referenceSeconds: number;
}

/** Options of {@link train}. */
export interface TfjsTrainOptions {
  epochs: number;
  batch: number;
  optimizer: 'sgd' | 'adam' | 'momentum';
  lr: number;
  /** multiplicative learning-rate decay per epoch (lr_e = lr · lrDecay^e), default 1 */
  lrDecay?: number;
  /** momentum of the 'momentum' optimizer, default 0.9 */
  momentum?: number;
  /** seeds the per-epoch shuffling (epoch e uses seed + e) */
  seed: number;
  /** use only the first `limit` training samples */
  limit?: number;
  /** apply the dataset's training augmentation */
  augment?: boolean;
  /**
   * default 'none' for a full or mlp block, 'all-but-post' for a reduced block ('before-block' for a reduced
   * trajectory model, which has no post layers); `params` replaces it when given
   */
  freeze?: FreezeMode;
  /**
   * which tensors train, by IR path (core's `paramSelector`); takes precedence over `freeze`. The midpoint
   * network (`midpoint.`) trains only when a list names it (never under `freeze` or a named selection such as `all`)
   */
  params?: ParamSelection;
  /**
   * λ of the Taylor-Lagrange remainder penalty (default 0): when the solver's steps return remainders, the loss
   * gets λ · mean|R| over the entries of every accepted step's remainder R
   */
  remainderWeight?: number;
  /**
   * the alternating midpoint schedule ({@link MidpointSchedule}; `{}`: every default); needs the
   * 'taylor-lagrange' solver with its remainder. The midpoint network trains only in its own steps then (a `params`
   * list may not name it), the dynamics only in theirs; the history's epochs carry `midpointLoss` and `referenceSeconds`
   */
  midpoint?: MidpointScheduleOptions;
  /** the reference solver of the midpoint schedule (default: Dormand–Prince, core's `DOPRI5_TABLEAU`, at the schedule's tolerances) */
  midpointReference?: Solver;
  /** decoupled weight decay: after each step w ← w − lr · weightDecay · w (default 0) */
  weightDecay?: number;
  /** scale the gradients so that their global L2 norm is at most this (default off) */
  clipNorm?: number;
  /** 'train' or 'finetune' (hooks and progress task id); default 'finetune' when anything is frozen by default */
  phase?: 'train' | 'finetune';
  solver: Solver;
  hooks?: Partial<Pick<OdemorHooks, 'beforeTrain' | 'epoch' | 'afterTrain' | 'progress'>>;
  /**
   * progress callback, once per batch (done/total batches over all epochs, detail with the loss); when
   * given it replaces the `hooks.progress` event (so a caller that forwards to that hook itself does not
   * see every event twice)
   */
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** write the model (atomically) to this path after every epoch */
  checkpoint?: string;
  /** preferred tfjs backend (see `initTfjs`) */
  backend?: TfjsBackendName;
  /** the trainer's name, recorded in the summary (default 'backprop-tfjs') */
  trainer?: string;
  /**
   * When only the post layers train and inputs are not augmented, the block's outputs are fixed: compute
   * them once and train the post layers on those cached features (same gradients, one forward pass
   * through the ODE block instead of one per epoch). Default true; the order of samples within an epoch
   * then comes from a seeded permutation of the cache rather than from the dataset.
   */
  cacheFeatures?: boolean;
  /**
   * Computes the block's outputs for a batch of raw training inputs when features are cached, flattened
   * per sample in `blockOutputShape` order (e.g. an executable of `blockFeatureModel(model)` on a faster
   * runtime); default: the tfjs forward pass. Only the post layers train on them, so any runtime that
   * matches tfjs to rounding gives the same fine-tuning.
   */
  blockFeatures?: (x: Float32Array, batch: number) => Promise<Float32Array>;
}

/** Block outputs of the (first `limit`) training samples, computed once, with their labels. */
interface FeatureCache {
  features: Float32Array;
  labels: Int32Array;
  shape: number[];
  count: number;
}

async function cacheBlockFeatures(model: ModelIR, params: TfParams, dataset: Dataset, o: TfjsTrainOptions): Promise<FeatureCache> {
  const shape = blockOutputShape(model);
  const per = shape.reduce((a, b) => a * b, 1);
  const count = o.limit !== undefined ? Math.min(o.limit, dataset.info.trainSize) : dataset.info.trainSize;
  const features = new Float32Array(count * per);
  const labels = new Int32Array(count);
  let row = 0;
  const batch = o.blockFeatures ? Math.max(o.batch, 1000) : Math.max(o.batch, 256);
  for await (const b of dataset.batches('train', batch, { limit: count })) {
    if (o.blockFeatures) {
      const h = await o.blockFeatures(b.x, b.size);
      if (h.length !== b.size * per) {
        throw new OdemorError('RUNTIME', `train: blockFeatures returned ${h.length} values for ${b.size} samples of ${per} features`);
      }
      features.set(h, row * per);
    } else {
      const h = tf.tidy(() => {
        const u = signalTensor(model, b.u, b.size);
        return blockFeatures(model, params, inputTensor(model, b.x, b.size), o.solver, u ? { u } : {});
      });
      features.set(await h.data(), row * per);
      h.dispose();
    }
    labels.set(b.y, row);
    row += b.size;
  }
  return { features: features.subarray(0, row * per), labels: labels.subarray(0, row), shape, count: row };
}


/**
 * Whether the tensor at `path` is trained under `freeze` (layers with `trainable: false` never are, nor the
 * midpoint network's tensors `midpoint.…`, which the Taylor-Lagrange schedule trains on their own).
 */
export function isTrainable(model: ModelIR, path: string, freeze: FreezeMode): boolean {
  const [part, idx] = path.split('.');
  if (part === 'midpoint') return false;
  if (part === 'pre' || part === 'post') {
    const layer = (part === 'pre' ? model.pre : model.post)[Number(idx)] as { trainable?: boolean } | undefined;
    if (layer?.trainable === false) return false;
  }
  if (freeze === 'none') return true;
  if (freeze === 'before-block') return part !== 'pre';
  return part === 'post';
}

const OPTIMIZERS: readonly TfjsTrainOptions['optimizer'][] = ['sgd', 'momentum', 'adam'];

function makeOptimizer(o: TfjsTrainOptions): { opt: tf.Optimizer; setLr(lr: number): void } {
  switch (o.optimizer) {
    case 'sgd':
    case 'momentum': {
      const opt = o.optimizer === 'sgd' ? tf.train.sgd(o.lr) : tf.train.momentum(o.lr, o.momentum ?? 0.9);
      return { opt, setLr: (lr) => opt.setLearningRate(lr) };
    }
    case 'adam': {
      const opt = tf.train.adam(o.lr);
      return { opt, setLr: (lr) => ((opt as unknown as { learningRate: number }).learningRate = lr) };
    }
    default:
      throw new OdemorError('ARGUMENT', `unknown optimizer '${String(o.optimizer)}' (sgd, momentum, adam)`);
  }
}

/**
 * One optimizer step with gradient clipping by global norm (`clipNorm`) and decoupled weight decay
 * (docs/algorithms.md#training): g ← g · min(1, clipNorm / ‖g‖₂); optimizer update; w ← w − lr · wd · w.
 */
function step(opt: tf.Optimizer, lossFn: () => tf.Scalar, vars: tf.Variable[], lr: number, weightDecay: number, clipNorm?: number): tf.Scalar {
  const { value, grads } = tf.variableGrads(lossFn, vars);
  let scaled: tf.NamedTensorMap = grads;
  if (clipNorm !== undefined) {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-12)));
    scaled = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
  }
  opt.applyGradients(scaled);
  if (weightDecay > 0) for (const v of vars) v.assign(tf.sub(v, tf.mul(v, lr * weightDecay)));
  return value;
}


/** The regression targets of a batch as [size, outputs], checked against the model's outputs. */
function targetTensor(model: ModelIR, dataset: Dataset, targets: Float32Array | undefined, size: number): tf.Tensor2D {
  if (!targets) throw new OdemorError('DATA', `train: dataset '${dataset.name}' is a regression dataset but a batch has no targets`);
  if (targets.length !== size * model.outputs) {
    const shape = dataset.info.targetShape ? ` (targetShape [${dataset.info.targetShape.join(', ')}])` : '';
    throw new OdemorError(
      'SHAPE',
      `train: a batch of ${size} samples has ${targets.length} target values${shape}, but the model outputs ${size} × ${model.outputs} = ${size * model.outputs}${model.readout ? ` (${model.readout.times.length} readout times × the state)` : ''}`,
    );
  }
  return tf.tensor2d(targets, [size, model.outputs], 'float32');
}

/** Read the current parameter values into a new model. */
export function modelFromParams(model: ModelIR, params: TfParams, only?: (path: string) => boolean): ModelIR {
  const values = new Map<string, Float32Array>();
  for (const [path, t] of params) if (!only || only(path)) values.set(path, t.dataSync() as Float32Array);
  return withTensors(model, values);
}

/**
 * The predicate "this IR path trains" of a training run: {@link isTrainable} under `freeze`, or core's
 * `paramSelector` for `params`; the midpoint network (`midpoint.…`) only when `params` is a list that names it.
 */
export function trainableSelector(model: ModelIR, freeze: FreezeMode, params?: ParamSelection): (path: string) => boolean {
  if (params === undefined) return (path) => isTrainable(model, path, freeze);
  const pick = paramSelector(model, params);
  const named = Array.isArray(params);
  return (path) => (path.startsWith('midpoint.') ? named && pick(path) : pick(path));
}

/**
 * Train (or fine-tune) a model with the tfjs runtime, mini-batches shuffled by the dataset with `seed + epoch`,
 * gradients by tfjs autodiff through the ODE solve. The loss: softmax cross-entropy on the logits for a
 * classification dataset; for a regression dataset (`info.task === 'regression'`, e.g. trajectories) the mean
 * squared error between the outputs and `batch.targets` (mean over batch, times and states; a trajectory model
 * gets the batch's input signal `u`), and the per-epoch history carries the loss only (accuracy NaN). With
 * `remainderWeight` λ > 0 and a solver whose steps return remainders, λ · mean|R| is added (the epoch loss is
 * then the whole objective). With `midpoint` (the 'taylor-lagrange' solver only) the alternating schedule of
 * {@link MidpointSchedule} runs: every iteration the dynamics step with the midpoint network frozen, every K-th
 * iteration the midpoint network then steps on its own (the dynamics frozen) towards a Dormand–Prince reference of
 * the current dynamics; a model without a midpoint network gets one ({@link withMidpointNetwork}), and the trained
 * network is part of the returned (and checkpointed) model. Deterministic for a fixed seed on the same backend.
 * Works for full, mlp and reduced blocks; frozen tensors come back bit-identical.
 * Fires `hooks.beforeTrain`, `hooks.epoch` (and `onProgress`/`hooks.progress` once per batch, task
 * 'train' or 'finetune'), `hooks.afterTrain`.
 */
export async function train(input: ModelIR, dataset: Dataset, options: TfjsTrainOptions): Promise<TrainResult> {
  const o = options;
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw new OdemorError('ARGUMENT', `train: epochs must be a non-negative integer, got ${o.epochs}`);
  if (!(Number.isInteger(o.batch) && o.batch >= 1)) throw new OdemorError('ARGUMENT', `train: batch must be a positive integer, got ${o.batch}`);
  if (!(o.lr > 0)) throw new OdemorError('ARGUMENT', `train: lr must be > 0, got ${o.lr}`);
  // before the parameters become tf variables (an unknown optimizer found later would leak them)
  if (!OPTIMIZERS.includes(o.optimizer)) throw new OdemorError('ARGUMENT', `train: unknown optimizer '${String(o.optimizer)}' (${OPTIMIZERS.join(', ')})`);
  if (!isSolver(o.solver)) throw new OdemorError('ARGUMENT', 'train: options.solver must be a Solver instance');
  const lambda = o.remainderWeight ?? 0;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new OdemorError('ARGUMENT', `train: remainderWeight must be a finite number >= 0, got ${String(o.remainderWeight)}`);
  const schedule = o.midpoint !== undefined ? resolveMidpointSchedule(o.midpoint) : undefined;
  if (schedule && !isTaylorLagrangeRemainder(o.solver)) {
    const why = o.solver.name === 'taylor' || (o.solver as { remainder?: unknown }).remainder === false ? ' (the truncated Taylor series has no remainder, so no midpoint)' : '';
    throw new OdemorError(
      'CONFIG',
      `train: the midpoint schedule (option midpoint) trains the midpoint network of the Taylor-Lagrange solver with its remainder ('taylor-lagrange'), but the solver is '${o.solver.name}'${why}; drop midpoint or use solver 'taylor-lagrange'`,
    );
  }
  if (o.midpointReference !== undefined && !isSolver(o.midpointReference)) throw new OdemorError('ARGUMENT', 'train: options.midpointReference must be a Solver instance');
  validateModel(input);
  // the schedule trains a midpoint network: the model's own, or one added here
  const model = schedule ? withMidpointNetwork(input, { hidden: schedule.hidden, init: schedule.init, seed: o.seed }) : input;
  if (model !== input) validateModel(model);
  const regression = dataset.info.task === 'regression';
  if (model.readout && !regression) {
    throw new OdemorError('ARGUMENT', `train: the model reads out a trajectory (outputs = ${model.outputs} states); it trains on a regression dataset, but dataset '${dataset.name}' has task '${dataset.info.task ?? 'classification'}'`);
  }
  await initTfjs(o.backend);
  await ensureGradients();

  const freeze: FreezeMode = o.freeze ?? (model.block.kind === 'reduced' ? (model.readout ? 'before-block' : 'all-but-post') : 'none');
  const trainable = trainableSelector(model, freeze, o.params);
  const isMidpoint = (path: string) => path.startsWith('midpoint.');
  if (schedule) {
    const named = listTensors(model).find(({ path }) => isMidpoint(path) && trainable(path));
    if (named) {
      throw new OdemorError(
        'ARGUMENT',
        `train: params ${JSON.stringify(o.params)} names the midpoint network (${named.path}), but with the midpoint schedule it trains in its own steps on the distance to the reference solve; drop the midpoint paths from params`,
      );
    }
  }
  /** the tensors a training run writes back: the trained ones, and the midpoint network under the schedule */
  const written = (path: string) => trainable(path) || (schedule !== undefined && isMidpoint(path));
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new OdemorError('ARGUMENT', `train: weightDecay must be >= 0, got ${o.weightDecay}`);
  if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new OdemorError('ARGUMENT', `train: clipNorm must be > 0, got ${o.clipNorm}`);
  const params = createParams(model, written);
  const varList = [...params.entries()].filter(([p]) => trainable(p)).map(([, t]) => t as tf.Variable);
  const midVars = schedule ? [...params.entries()].filter(([p]) => isMidpoint(p)).map(([, t]) => t as tf.Variable) : [];
  if (schedule && !midVars.length) {
    disposeParams(params);
    throw new OdemorError('ARGUMENT', "train: the midpoint schedule has nothing to train: the model's midpoint network has no tensors (midpoint.layers without dense layers)");
  }
  if (!varList.length) {
    disposeParams(params);
    const what = o.params !== undefined ? `params = ${JSON.stringify(o.params)} selects no trainable tensor` : `freeze = '${freeze}' freezes every tensor`;
    throw new OdemorError('ARGUMENT', `train: nothing to train (${what})`);
  }
  // only the post layers train: the block's outputs are fixed and can be cached
  const postOnly = [...params.keys()].filter(trainable).every((p) => p.startsWith('post.'));
  const phase = o.phase ?? (postOnly && (o.params !== undefined || freeze === 'all-but-post') ? 'finetune' : 'train');
  const plain = !o.weightDecay && o.clipNorm === undefined;
  const { opt, setLr } = makeOptimizer(o);
  // φ's own Adam (its moments are never mixed with the dynamics' optimizer state)
  const midOpt = schedule ? tf.train.adam(schedule.lr) : undefined;
  const classes = model.outputs;
  const decay = o.lrDecay ?? 1;
  const available = dataset.info.trainSize;
  const samples = o.limit !== undefined ? Math.min(o.limit, available) : available;
  const perEpoch = Math.max(1, Math.ceil(samples / o.batch));
  const total = perEpoch * o.epochs;
  const label = phase === 'train' ? 'Training' : 'Fine-tuning';
  const emit = (e: ProgressEvent) => {
    if (o.onProgress) o.onProgress(e.done, e.total, e.detail);
    else o.hooks?.progress?.call(e);
  };
  const history: EpochInfo[] = [];
  const start = performance.now();
  const meter = new EpochMeter(phase, o.epochs, total);
  let current = model;
  let cache: FeatureCache | undefined;
  try {
    const reference = schedule && o.epochs > 0 ? (o.midpointReference ?? dormandPrince()) : undefined;
    // the reference solve: the same model (and parameters) integrated by the adaptive solver at the schedule's tolerances
    const refModel: ModelIR | undefined = schedule && reference ? { ...model, solver: { ...model.solver, use: reference.name, rtol: schedule.rtol, atol: schedule.atol } } : undefined;
    /**
     * One midpoint update on a batch: x_ref without gradient (φ plays no part in it), then `steps` Adam steps of φ
     * alone on mean_b Σ_j |x_TL − x_ref|; returns the loss at the update's start and the reference's wall time.
     */
    const midpointUpdate = async (b: { x: Float32Array; u?: Float32Array; size: number }, epoch: number): Promise<{ loss: number; seconds: number }> => {
      const x = inputTensor(model, b.x, b.size);
      const u = signalTensor(model, b.u, b.size);
      const fo: ForwardOptions = u ? { u } : {};
      // what the midpoint changes: the outputs of a trajectory model, the block's final state (the post layers' input) otherwise
      const quantity = (m: ModelIR, solver: Solver): tf.Tensor2D =>
        m.readout ? forward(m, params, x, solver, fo) : (tf.reshape(blockFeatures(m, params, x, solver, fo), [b.size, -1]) as tf.Tensor2D);
      try {
        const t0 = performance.now();
        const ref = tf.tidy(() => quantity(refModel!, reference!));
        await ref.data();
        const seconds = (performance.now() - t0) / 1000;
        let first = NaN;
        try {
          for (let i = 0; i < schedule!.steps; i++) {
            const cost = tf.tidy(() => midOpt!.minimize(() => tf.mean(tf.sum(tf.abs(tf.sub(quantity(model, o.solver), ref)), 1)) as tf.Scalar, true, midVars)!);
            const v = (await cost.data())[0]!;
            cost.dispose();
            if (!Number.isFinite(v)) {
              throw new OdemorError('NUMERIC', `${phase}: the midpoint loss became ${v} in epoch ${epoch + 1}, after iteration ${meter.done} (try a smaller midpoint.lr)`);
            }
            if (i === 0) first = v;
          }
        } finally {
          ref.dispose();
        }
        return { loss: first, seconds };
      } finally {
        x.dispose();
        u?.dispose();
      }
    };
    await o.hooks?.beforeTrain?.promise(model, phase);
    // the schedule changes the block's outputs (the solve through the midpoint): nothing to cache then
    if (postOnly && !regression && !o.augment && o.cacheFeatures !== false && o.epochs > 0 && !schedule) {
      cache = await cacheBlockFeatures(model, params, dataset, o);
    }
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const lr = o.lr * decay ** epoch;
      setLr(lr);
      meter.begin(epoch, lr);
      const midLosses: number[] = [];
      let referenceSeconds = 0;
      const batchOpts: { shuffle: boolean; seed: number; augment?: boolean; limit?: number } = { shuffle: true, seed: o.seed + epoch };
      if (o.augment !== undefined) batchOpts.augment = o.augment;
      if (o.limit !== undefined) batchOpts.limit = o.limit;
      for await (const b of cache ? cachedBatches(cache, o.batch, o.seed + epoch) : dataset.batches('train', o.batch, batchOpts)) {
        let hits: tf.Scalar | undefined;
        const cost = tf.tidy((): tf.Scalar => {
          const x = cache ? tf.tensor(b.x, [b.size, ...cache.shape], 'float32') : inputTensor(model, b.x, b.size);
          const u = cache ? undefined : signalTensor(model, b.u, b.size);
          const targets = regression ? targetTensor(model, dataset, b.targets, b.size) : undefined;
          const labels = regression ? undefined : tf.tensor1d(b.y, 'int32');
          const lossFn = () => {
            const remainders: tf.Tensor2D[] = [];
            const fo: ForwardOptions = {
              ...(u ? { u } : {}),
              ...(lambda > 0 ? { onRemainder: (r: tf.Tensor2D) => void remainders.push(r) } : {}),
            };
            const logits = cache ? forwardPost(model, params, x) : forward(model, params, x, o.solver, fo);
            let loss: tf.Scalar;
            if (targets) loss = tf.mean(tf.squaredDifference(logits, targets));
            else {
              hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels!), 'float32')) as tf.Scalar);
              loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels!, classes), logits) as tf.Scalar;
            }
            if (remainders.length) loss = tf.add(loss, tf.mul(lambda, tf.mean(tf.abs(tf.stack(remainders)))));
            return loss;
          };
          if (plain) return opt.minimize(lossFn, true, varList)!;
          return step(opt, lossFn, varList, lr, o.weightDecay ?? 0, o.clipNorm);
        });
        const loss = (await cost.data())[0]!;
        // a regression batch has no accuracy: NaN, not a made-up number
        const hit = hits ? (await hits.data())[0]! : NaN;
        cost.dispose();
        hits?.dispose();
        if (!Number.isFinite(loss)) {
          throw new OdemorError('NUMERIC', `${phase}: the loss became ${loss} in epoch ${epoch + 1}, batch ${meter.done % perEpoch + 1} (try a smaller lr)`);
        }
        const detail = meter.batch(loss, hit, b.size);
        emit({ task: phase, label, done: meter.done, total, detail: regression ? detail.replace(' acc NaN%', '') : detail });
        // the midpoint update follows the dynamics' step of every K-th iteration, on the same batch (as TayLaNets)
        if (schedule && meter.done % schedule.every === 0) {
          const r = await midpointUpdate(b, epoch);
          midLosses.push(r.loss);
          referenceSeconds += r.seconds;
        }
      }
      const base = meter.end();
      const info: EpochInfo | MidpointEpochInfo = schedule
        ? { ...base, midpointLoss: midLosses.length ? midLosses.reduce((a, v) => a + v, 0) / midLosses.length : null, referenceSeconds }
        : base;
      history.push(info);
      await o.hooks?.epoch?.promise(info);
      if (o.checkpoint) {
        current = modelFromParams(model, params, written);
        await saveModel(o.checkpoint, current);
      }
    }
    current = modelFromParams(model, params, written);
  } finally {
    disposeParams(params);
    opt.dispose();
    midOpt?.dispose();
  }
  const last = history[history.length - 1];
  const summary: TrainSummary = {
    epochs: o.epochs,
    finalLoss: last?.loss ?? NaN,
    finalAccuracy: last?.accuracy ?? NaN,
    seconds: (performance.now() - start) / 1000,
    phase,
    trainer: o.trainer ?? 'backprop-tfjs',
    backend: `tfjs/${tf.getBackend()}`,
  };
  await o.hooks?.afterTrain?.promise(current, summary);
  return { model: current, summary, history };
}

import * as tf from '@tensorflow/tfjs-core';
import { cachedBatches } from '@odemor/core';
import { EpochMeter } from '@odemor/core';
import { OdemorError, isSolver } from '@odemor/core';
import type { Dataset, Solver, TrainResult } from '@odemor/core';
import type { EpochInfo, OdemorHooks, ProgressEvent, TrainSummary } from '@odemor/core';
import { saveModel } from '@odemor/core';
import type { ModelIR } from '@odemor/core';
import { validateModel } from '@odemor/core';
import { paramSelector, withTensors, type ParamSelection } from '@odemor/core';
import { ensureGradients, initTfjs, type TfjsBackendName } from './backend.js';
import { blockFeatures, createParams, disposeParams, forward, forwardPost, inputTensor, signalTensor, type ForwardOptions, type TfParams } from './forward.js';
import { blockOutputShape } from '@odemor/core';

/** Which tensors stay fixed: none; the pre layers; everything but the post layers (fine-tuning). */
export type FreezeMode = 'none' | 'before-block' | 'all-but-post';

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
 * then the whole objective). Deterministic for a fixed seed on the same backend. Works for full, mlp and
 * reduced blocks; frozen tensors come back bit-identical.
 * Fires `hooks.beforeTrain`, `hooks.epoch` (and `onProgress`/`hooks.progress` once per batch, task
 * 'train' or 'finetune'), `hooks.afterTrain`.
 */
export async function train(model: ModelIR, dataset: Dataset, options: TfjsTrainOptions): Promise<TrainResult> {
  const o = options;
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw new OdemorError('ARGUMENT', `train: epochs must be a non-negative integer, got ${o.epochs}`);
  if (!(Number.isInteger(o.batch) && o.batch >= 1)) throw new OdemorError('ARGUMENT', `train: batch must be a positive integer, got ${o.batch}`);
  if (!(o.lr > 0)) throw new OdemorError('ARGUMENT', `train: lr must be > 0, got ${o.lr}`);
  if (!isSolver(o.solver)) throw new OdemorError('ARGUMENT', 'train: options.solver must be a Solver instance');
  const lambda = o.remainderWeight ?? 0;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new OdemorError('ARGUMENT', `train: remainderWeight must be a finite number >= 0, got ${String(o.remainderWeight)}`);
  validateModel(model);
  const regression = dataset.info.task === 'regression';
  if (model.readout && !regression) {
    throw new OdemorError('ARGUMENT', `train: the model reads out a trajectory (outputs = ${model.outputs} states); it trains on a regression dataset, but dataset '${dataset.name}' has task '${dataset.info.task ?? 'classification'}'`);
  }
  await initTfjs(o.backend);
  await ensureGradients();

  const freeze: FreezeMode = o.freeze ?? (model.block.kind === 'reduced' ? (model.readout ? 'before-block' : 'all-but-post') : 'none');
  const trainable = trainableSelector(model, freeze, o.params);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new OdemorError('ARGUMENT', `train: weightDecay must be >= 0, got ${o.weightDecay}`);
  if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new OdemorError('ARGUMENT', `train: clipNorm must be > 0, got ${o.clipNorm}`);
  const params = createParams(model, trainable);
  const varList = [...params.entries()].filter(([p]) => trainable(p)).map(([, t]) => t as tf.Variable);
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
    await o.hooks?.beforeTrain?.promise(model, phase);
    if (postOnly && !regression && !o.augment && o.cacheFeatures !== false && o.epochs > 0) {
      cache = await cacheBlockFeatures(model, params, dataset, o);
    }
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const lr = o.lr * decay ** epoch;
      setLr(lr);
      meter.begin(epoch, lr);
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
      }
      const info: EpochInfo = meter.end();
      history.push(info);
      await o.hooks?.epoch?.promise(info);
      if (o.checkpoint) {
        current = modelFromParams(model, params, trainable);
        await saveModel(o.checkpoint, current);
      }
    }
    current = modelFromParams(model, params, trainable);
  } finally {
    disposeParams(params);
    opt.dispose();
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

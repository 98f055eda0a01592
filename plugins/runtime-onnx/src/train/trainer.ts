import { promises as fsp } from 'node:fs';
import { cachedBatches } from '@odemor/core';
import { EpochMeter } from '@odemor/core';
import {
  OdemorError,
  RK_DEFAULTS,
  antisymmetricRadius,
  blockFeatureModel,
  blockOutputShape,
  clipAntisymmetricSpectrum,
  withMidpointNetwork as coreWithMidpointNetwork,
  isSolver,
  listTensors,
  paramSelector,
  saveModel,
  validateModel,
  withTensors,
  type Batch,
  type ButcherTableau,
  type Dataset,
  type EpochInfo,
  type ModelIR,
  type ProgressEvent,
  type ReducedBlock,
  type Solver,
  type TrainContext,
  type TrainOptions,
  type TrainResult,
  type TrainSummary,
  type Trainer,
} from '@odemor/core';
import { adaptiveSettings, buildAdaptive } from '../adaptive.js';
import { DOPRI5 } from '../dopri5.js';
import type { CompileGradientProgram, GradientProgram } from '../grad/types.js';
import { OnnxRuntime } from '../runtime.js';
import { defaultThreads } from '../session.js';
import { adaptiveMessage, noEmbeddedMessage, programFields, resolveProgram, resolveSolver, resolveTableau, type SolverLike, type StepProgram } from '../tableau.js';
import { defaultCompileGradientProgram } from './default-compile.js';
import { OWN_KEYS, midpointSchedule, parseOwnOptions, type MidpointSchedule, type OnnxBackpropTrainerOptions } from './options.js';
import { ParamOptimizer, applyWeightDecay, clipByGlobalNorm, globalNorm } from './optimizer.js';
import { checkSchedule, learningRate } from './schedule.js';
import { fingerprint, fingerprintChanges, modelFingerprint, readTrainState, statePath, writeTrainState, type TrainState } from './state.js';

/** What the trainer is built on besides its options: the gradient compiler (tests inject one). */
export interface OnnxTrainerDeps {
  /** compiles one GradientProgram per model; default runtime-onnx's `compileGradientProgram` */
  compile?: CompileGradientProgram;
  /** the `backend` reported in the summary; default 'onnx/cpu' */
  backend?: string;
}

/** The runtime check of {@link OnnxBackpropTrainer.supports}. */
export type Support = { ok: true } | { ok: false; reason: string };

/** Explicit Euler: the post-only program integrates a zero right-hand side, one step is enough. */
const EULER: ButcherTableau = { a: [[0]], b: [1], c: [0], order: 1 };

/**
 * One epoch's record in the history of Trainer 'backprop-onnx': core's `EpochInfo`; with an adaptive solver the
 * epoch's `nfe`, `accepted` and `rejected` (core's counts of the forward solves, summed over the batches); for Taylor-Lagrange runs
 * `remainderAbsMean` (mean|R| over the epoch's batches, weighted by their sizes), and with the midpoint schedule
 * `midpointLoss` (the mean, over the epoch's midpoint updates, of mean_b ‖x_TL − x_ref‖₁ at the start of each
 * update), `midpointUpdates` and `referenceSeconds` (the wall time of the Dormand–Prince reference solves, which
 * `seconds` leaves out).
 */
export type OnnxEpochInfo = EpochInfo & {
  /** adaptive solvers: core's function evaluations of the epoch's forward solves, summed over its batches */
  nfe?: number;
  /** adaptive solvers: accepted steps of the epoch's forward solves (summed over its batches) */
  accepted?: number;
  /** adaptive solvers: rejected step attempts of the epoch's forward solves (summed over its batches) */
  rejected?: number;
  remainderAbsMean?: number;
  midpointLoss?: number;
  midpointUpdates?: number;
  referenceSeconds?: number;
};

/** Block outputs of the (first `limit`) training samples, computed once, with their labels. */
interface FeatureCache {
  features: Float32Array;
  labels: Int32Array;
  shape: number[];
  count: number;
}

/**
 * Trainer 'backprop-onnx': backprop through the unrolled fixed-step solver on onnxruntime-node. One
 * GradientProgram per model gives the loss and the gradient of every trained IR path per batch; the batch
 * loop, the optimizer step on the parameter buffers (SGD, momentum, Adam with tfjs's formulas), gradient
 * clipping, decoupled weight decay and the learning-rate schedule run in JS (docs/algorithms.md#training).
 * Deterministic for a seed: epoch e shuffles (and augments) with seed + e. With `context.checkpoint` it
 * writes, after every epoch, the training state (`<checkpoint>.train`) and then the model, each atomically;
 * `context.resume` continues from that state. An adaptive solver with a tableau that has `bHat` (Dopri5) trains
 * by backprop through the accepted steps of the onnx step loop at the model's tolerances, the step sizes held
 * constant (docs/algorithms.md#onnx-adaptive-training); each epoch's record adds the summed `nfe`, `accepted` and
 * `rejected` of its forward solves. Adaptive step programs (no tableau) are refused (use 'backprop-tfjs').
 *
 * On a regression dataset (`dataset.info.task === 'regression'`, e.g. a trajectory dataset of
 * `@odemor/dataset-dynamics`) the loss is the mean squared error between the model's outputs (a trajectory
 * model's states at the readout times) and `batch.targets`, the mean over batch, times and states; the input signal
 * `batch.u` is fed to models that read one. The history then reports the training loss only (`accuracy` NaN).
 *
 * Taylor-Lagrange (a fixed-step step program): the step is unrolled with the block's exact derivatives and the
 * midpoint network; `remainderWeight` λ adds λ · mean|R|; the midpoint network is frozen in the task loss unless a
 * params list names it; the option `midpoint` runs the alternating midpoint schedule (every K iterations Adam steps
 * on φ alone against an adaptive Dormand–Prince solve of the current dynamics; README "The midpoint schedule").
 */
export class OnnxBackpropTrainer implements Trainer {
  readonly name = 'backprop-onnx';
  private readonly compile: CompileGradientProgram;
  private readonly backend: string;
  private readonly defaults: OnnxBackpropTrainerOptions;

  constructor(defaults: OnnxBackpropTrainerOptions = {}, deps: OnnxTrainerDeps = {}) {
    this.defaults = parseOwnOptions(defaults as Record<string, unknown>);
    this.compile = deps.compile ?? defaultCompileGradientProgram;
    this.backend = deps.backend ?? 'onnx/cpu';
  }

  /**
   * Whether this trainer can train `model` with `solver`: explicit Runge–Kutta solvers (their tableau is unrolled
   * into the graph), fixed-step step programs (unrolled with their step: Taylor-Lagrange, with up to 3 time
   * derivatives) and adaptive solvers with a tableau that has embedded weights `bHat` (Dopri5: backprop through the
   * accepted steps of the step loop); not adaptive step programs (no tableau); and the models the onnx compiler
   * knows (full, reduced and mlp blocks, state inputs, trajectory readouts, midpoint networks).
   */
  supports(model: ModelIR, solver?: SolverLike): Support {
    if (solver && !solver.adaptive && !solver.tableau && typeof solver.step !== 'function') {
      return { ok: false, reason: `solver '${solver.name}' has neither a Butcher tableau nor a step program; the onnx trainer unrolls one of them (use train.runtime: tfjs)` };
    }
    // adaptive: backprop through the accepted steps of the step loop, which needs a tableau with embedded weights
    if (solver?.adaptive && !solver.tableau) return { ok: false, reason: adaptiveMessage(solver.name) };
    if (solver?.adaptive && !solver.tableau!.bHat) return { ok: false, reason: noEmbeddedMessage(solver.name) };
    return new OnnxRuntime(solver ? { solver } : {}).supports(model);
  }

  async train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult> {
    const o = options;
    if (!o || typeof o !== 'object') throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': options are required`);
    if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw new OdemorError('ARGUMENT', `train: epochs must be a non-negative integer, got ${o.epochs}`);
    if (!(Number.isInteger(o.batch) && o.batch >= 1)) throw new OdemorError('ARGUMENT', `train: batch must be a positive integer, got ${o.batch}`);
    if (!(o.lr > 0)) throw new OdemorError('ARGUMENT', `train: lr must be > 0, got ${o.lr}`);
    if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new OdemorError('ARGUMENT', `train: weightDecay must be >= 0, got ${o.weightDecay}`);
    if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new OdemorError('ARGUMENT', `train: clipNorm must be > 0, got ${o.clipNorm}`);
    if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 1)) throw new OdemorError('ARGUMENT', `train: limit must be a positive integer, got ${o.limit}`);
    if (!context || !isSolver(context.solver)) throw new OdemorError('ARGUMENT', 'train: context.solver must be a Solver instance');
    const given = Object.fromEntries(OWN_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    const own = parseOwnOptions({ ...this.defaults, ...given });
    checkSchedule({ lr: o.lr, lrDecay: o.lrDecay, schedule: own.schedule, epochs: o.epochs });
    validateModel(model);
    const support = this.supports(model, context.solver);
    if (!support.ok) throw new OdemorError('RUNTIME', `trainer 'backprop-onnx': ${support.reason}`);
    // a fixed-step step program (Taylor-Lagrange) is unrolled with its step, any other solver from its tableau
    const stepProgram = resolveProgram({ solver: context.solver });
    // an adaptive solver (its tableau has bHat, checked by supports): the adaptive gradient program, the model's tolerances
    const adaptive = context.solver.adaptive ? adaptiveSettings(model, resolveSolver(model, { solver: context.solver }).tableau, context.solver) : undefined;
    const tableau = stepProgram ? undefined : adaptive ? adaptive.tableau : resolveTableau(model, { solver: context.solver });
    const integrator: { tableau: ButcherTableau; solver?: Solver } | { solver: StepProgram } = stepProgram
      ? { solver: stepProgram }
      : adaptive
        ? { tableau: tableau!, solver: context.solver }
        : { tableau: tableau! };
    if (context.resume && !context.checkpoint) throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': resume needs a checkpoint (context.checkpoint is not set)`);
    const lambda = own.remainderWeight ?? 0;
    const mp = midpointSchedule(own.midpoint);
    if (mp) {
      const why = notTaylorLagrange(context.solver);
      if (why) throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': option midpoint (the Taylor-Lagrange midpoint schedule) needs a taylor-lagrange solver with the remainder; solver '${context.solver.name}' ${why}`);
    }
    // the schedule trains a midpoint network: the model's, or one the trainer adds (seeded from the train seed)
    const work = mp && !model.midpoint ? withMidpointNetwork(model, mp, o.seed) : model;

    const dataset = context.dataset;
    // a regression dataset (a trajectory dataset): mean squared error against batch.targets, no accuracy
    const regression = dataset.info.task === 'regression';
    checkTask(model, dataset);
    // a reduced model fine-tunes its post layers; a trajectory model has none, so its reduced block's tensors
    const selection = o.params ?? (model.block.kind === 'reduced' ? (model.readout ? 'block' : 'after-block') : 'all');
    // the midpoint network (midpoint.…) trains in the task loss only when a list names it (as on tfjs)
    const pick = paramSelector(work, selection);
    const trainable = (path: string): boolean => (path.startsWith('midpoint.') ? Array.isArray(selection) && pick(path) : pick(path));
    const tensors = listTensors(work).filter((t) => trainable(t.path));
    if (!tensors.length) throw new OdemorError('ARGUMENT', `train: nothing to train (params = ${JSON.stringify(selection)} selects no trainable tensor)`);
    const paths = tensors.map((t) => t.path);
    // the midpoint network's tensors under the schedule: fed to the task program, trained by their own Adam
    const mpTensors = mp ? listTensors(work).filter((t) => t.path.startsWith('midpoint.')) : [];
    const mpPaths = mpTensors.map((t) => t.path);
    const clip = spectralClipOf(own, work, paths);
    // an antisymmetric A that trains: its ρ(W − Wᵀ) goes into each epoch's record (clipped or not)
    const watched = clip ?? antisymmetricWeight(work, paths);
    const postOnly = paths.every((p) => p.startsWith('post.'));
    const useCache = postOnly && !regression && !o.augment && own.cacheFeatures !== false && !mp;
    const phase = context.phase;
    const schedule = { lr: o.lr, epochs: o.epochs, ...(o.lrDecay !== undefined ? { lrDecay: o.lrDecay } : {}), ...(own.schedule ? { schedule: own.schedule } : {}) };

    const updated = (path: string): boolean => trainable(path) || mpPaths.includes(path);
    const fpOf = {
      ...this.fingerprintSource(model, o, own, context, tableau, updated, selection, useCache),
      ...(regression ? { loss: 'mse' } : {}),
      ...(stepProgram ? { tableau: null, solver: programFields(stepProgram) } : {}),
      ...(lambda > 0 ? { remainderWeight: lambda } : {}),
      ...(mp ? { midpoint: { ...mp, added: !model.midpoint } } : {}),
      ...(clip ? { spectralClip: { max: clip.max, every: clip.every } } : {}),
      ...(adaptive ? { tableau: { a: adaptive.tableau.a, b: adaptive.tableau.b, c: adaptive.tableau.c, bHat: adaptive.tableau.bHat }, adaptive: { rtol: adaptive.rtol, atol: adaptive.atol, maxSteps: adaptive.maxSteps } } : {}),
    };
    const fp = fingerprint(fpOf);
    const stateFile = context.checkpoint ? statePath(context.checkpoint) : undefined;

    // parameter buffers and optimizer, from the state file when resuming
    const params = new Map<string, Float32Array>([...tensors, ...mpTensors].map((t) => [t.path, new Float32Array(t.tensor.data)]));
    const mpOptimizer = mp ? new ParamOptimizer({ kind: 'adam' }, new Map(mpTensors.map((t) => [t.path, t.tensor.data.length]))) : undefined;
    const optimizer = new ParamOptimizer(
      {
        kind: o.optimizer,
        ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
        ...(own.beta1 !== undefined ? { beta1: own.beta1 } : {}),
        ...(own.beta2 !== undefined ? { beta2: own.beta2 } : {}),
        ...(own.epsilon !== undefined ? { epsilon: own.epsilon } : {}),
      },
      new Map(tensors.map((t) => [t.path, t.tensor.data.length])),
    );
    const history: EpochInfo[] = [];
    let startEpoch = 0;
    if (context.resume && stateFile) {
      const saved = await readTrainState(stateFile);
      if (saved) {
        this.checkResumable(saved, fp, fpOf, stateFile, o.epochs);
        for (const [p, buf] of params) {
          const v = saved.params.get(p);
          if (!v || v.length !== buf.length) throw new OdemorError('ARGUMENT', `${stateFile}: the state has no values for '${p}' (${buf.length} values)`);
          buf.set(v);
        }
        optimizer.restore(saved.optimizer);
        if (mpOptimizer) {
          if (!saved.midpointOptimizer) throw new OdemorError('ARGUMENT', `${stateFile}: the state has no midpoint optimizer (option midpoint)`);
          mpOptimizer.restore(saved.midpointOptimizer);
        }
        // (a regression run's NaN accuracy is stored as null)
        history.push(...saved.history.map((h) => ({ ...h, accuracy: typeof h.accuracy === 'number' ? h.accuracy : NaN, epochs: o.epochs })));
        startEpoch = saved.epoch;
      }
    } else if (stateFile) {
      // a fresh run: a state left by an earlier run must not be resumed into this one's checkpoint
      await fsp.rm(stateFile, { force: true });
    }

    const available = dataset.info.trainSize;
    const samples = o.limit !== undefined ? Math.min(o.limit, available) : available;
    const perEpoch = Math.max(1, Math.ceil(samples / o.batch));
    const total = perEpoch * o.epochs;
    const label = phase === 'train' ? 'Training' : 'Fine-tuning';
    const emit = (e: ProgressEvent) => {
      if (context.onProgress) context.onProgress(e.done, e.total, e.detail);
      else context.hooks?.progress?.call(e);
    };
    const current = () => withTensors(work, params);
    const start = performance.now();
    const meter = new EpochMeter(phase, o.epochs, total, startEpoch * perEpoch);
    let program: GradientProgram | undefined;
    let mpProgram: GradientProgram | undefined;
    // iterations (batches) done: the midpoint schedule counts on across epochs (and a resumed run)
    let iteration = startEpoch * perEpoch;
    let referenceSeconds = 0;
    const threads = own.threads;
    // the midpoint loss compares the block's outputs: the trajectory of a readout model, else the post layers' input
    const mpModel = work.readout ? work : blockFeatureModel(work);
    const mpFeeds = mp ? listTensors(mpModel).map((t) => t.path).filter((p) => mpPaths.includes(p) || paths.includes(p)) : [];
    const view = (keys: readonly string[]) => new Map(keys.map((k) => [k, params.get(k)!]));
    const taskFeeds = [...paths, ...mpPaths.filter((p) => !paths.includes(p))];
    await context.hooks?.beforeTrain?.promise(model, phase);
    try {
      let cache: FeatureCache | undefined;
      if (startEpoch < o.epochs) {
        if (useCache) {
          cache = await cacheBlockFeatures(model, dataset, o.batch, o.limit, context, own.threads);
          // the identity block's own tensors never train
          const post = (path: string) => path.startsWith('post.') && trainable(path);
          program = await this.compile(postOnlyModel(model), { tableau: EULER, trainable: post, ...(own.threads ? { threads: own.threads } : {}) });
        } else {
          program = await this.compile(work, {
            ...integrator,
            trainable,
            ...(mp ? { fed: (p: string) => mpPaths.includes(p) } : {}),
            ...(regression ? { loss: 'mse' as const } : {}),
            ...(lambda > 0 ? { remainderWeight: lambda } : {}),
            ...(threads ? { threads } : {}),
          });
        }
        const missing = paths.filter((p) => !program!.paths.includes(p));
        if (missing.length) throw new OdemorError('RUNTIME', `trainer 'backprop-onnx': the gradient program gives no gradient for ${missing.join(', ')}`);
        if (mp) {
          // φ alone against the reference: the ℓ1 loss, the trained tensors fed (they change every iteration)
          mpProgram = await this.compile(mpModel, {
            ...integrator,
            trainable: (p) => mpPaths.includes(p),
            fed: (p) => paths.includes(p),
            loss: 'l1',
            ...(threads ? { threads } : {}),
          });
        }
      }
      // a fresh run starts from clipped weights
      if (clip && iteration === 0) clipAntisymmetricSpectrum(params.get(clip.path)!, clip.n, clip.max);
      for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
        const lr = learningRate(epoch, schedule);
        meter.begin(epoch, lr);
        let batchIndex = 0;
        const epochMp = { losses: [] as number[], seconds: 0, remainder: 0, seen: 0 };
        const solves = { nfe: 0, accepted: 0, rejected: 0, batches: 0 };
        const batchOpts: { shuffle: boolean; seed: number; augment?: boolean; limit?: number } = { shuffle: true, seed: o.seed + epoch };
        if (o.augment !== undefined) batchOpts.augment = o.augment;
        if (o.limit !== undefined) batchOpts.limit = o.limit;
        const batches = cache ? cachedBatches(cache, o.batch, o.seed + epoch) : dataset.batches('train', o.batch, batchOpts);
        for await (const b of batches) {
          batchIndex++;
          const where = `epoch ${epoch + 1}, batch ${batchIndex}`;
          let r: Awaited<ReturnType<GradientProgram['run']>>;
          const kept = stateFile ? (epoch > 0 ? `; the checkpoint of epoch ${epoch} is kept` : '; no checkpoint was written') : '';
          if (regression && !b.targets) throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': the regression dataset '${dataset.name}' gives no targets in ${where} (batch.targets)`);
          try {
            r = await program!.run(view(taskFeeds), b.x, regression ? b.targets! : b.y, b.size, b.u ? { u: b.u } : undefined);
          } catch (e) {
            // an adaptive solve that diverged (non-finite state, step size underflow, maxSteps): as a NaN loss
            if (adaptive && !cache && e instanceof OdemorError && (e.code === 'NUMERIC' || e.code === 'ARGUMENT') && /solver '/.test(e.message)) {
              throw new OdemorError('NUMERIC', `${phase}: the adaptive solve failed in ${where} (try a smaller lr, or other tolerances): ${e.message}${kept}`, { cause: e });
            }
            throw e;
          }
          if (r.stats) (solves.nfe += r.stats.nfe), (solves.accepted += r.stats.accepted), (solves.rejected += r.stats.rejected), solves.batches++;
          if (!Number.isFinite(r.loss)) {
            throw new OdemorError('NUMERIC', `${phase}: the loss became ${r.loss} in ${where} (try a smaller lr)${kept}`);
          }
          for (const p of paths) {
            const g = r.grads.get(p);
            if (!g || g.length !== params.get(p)!.length) {
              throw new OdemorError('RUNTIME', `trainer 'backprop-onnx': the gradient of '${p}' has ${g ? g.length : 'no'} values, expected ${params.get(p)!.length}`);
            }
          }
          const grads = new Map(paths.map((p) => [p, r.grads.get(p)!]));
          const norm = o.clipNorm !== undefined ? clipByGlobalNorm(grads, o.clipNorm) : globalNorm(grads.values());
          if (!Number.isFinite(norm)) {
            const bad = paths.find((p) => grads.get(p)!.some((v) => !Number.isFinite(v)));
            throw new OdemorError('NUMERIC', `${phase}: the gradient of '${bad ?? '?'}' is not finite in ${where} (try a smaller lr or clipNorm)${kept}`);
          }
          optimizer.step(params, grads, lr);
          applyWeightDecay(paths.map((p) => params.get(p)!), lr, o.weightDecay ?? 0);
          if (clip && (iteration + 1) % clip.every === 0) clipAntisymmetricSpectrum(params.get(clip.path)!, clip.n, clip.max);
          if (r.remainderAbsMean !== undefined) (epochMp.remainder += r.remainderAbsMean * b.size), (epochMp.seen += b.size);
          iteration++;
          if (mp && iteration % mp.every === 0) {
            const update = await this.midpointUpdate(mpProgram!, mpModel, mp, mpOptimizer!, params, mpFeeds, b, threads, `${where} (iteration ${iteration})${kept}`);
            epochMp.losses.push(update.loss);
            epochMp.seconds += update.referenceSeconds;
          }
          const detail = meter.batch(r.loss, r.correct, b.size);
          // regression: the loss alone (no accuracy in the progress line)
          emit({ task: phase, label, done: meter.done, total, detail: regression ? detail.replace(/ acc [^ ]*%/, '') : detail });
        }
        // the epoch's model (and its checkpoint) meets the clip even when its last step was not a clipping one
        const clipped = clip ? clipAntisymmetricSpectrum(params.get(clip.path)!, clip.n, clip.max) : undefined;
        // regression has no accuracy: NaN (null in JSON), never a made-up number
        const ended = meter.end();
        referenceSeconds += epochMp.seconds;
        const info: OnnxEpochInfo = {
          ...ended,
          ...(regression ? { accuracy: NaN } : {}),
          ...(solves.batches ? { nfe: solves.nfe, accepted: solves.accepted, rejected: solves.rejected } : {}),
          ...(epochMp.seen ? { remainderAbsMean: epochMp.remainder / epochMp.seen } : {}),
          // after the epoch-end clip the radius is min(before, max) (up to rounding): no second decomposition
          ...(clipped && clip ? { spectralRadius: Math.min(clipped.radius, clip.max) } : watched ? { spectralRadius: antisymmetricRadius(params.get(watched.path)!, watched.n) } : {}),
          ...(mp
            ? {
                // the reference solves are counted apart from the training time
                seconds: Math.max(0, ended.seconds - epochMp.seconds),
                referenceSeconds: epochMp.seconds,
                midpointUpdates: epochMp.losses.length,
                ...(epochMp.losses.length ? { midpointLoss: epochMp.losses.reduce((a, v) => a + v, 0) / epochMp.losses.length } : {}),
              }
            : {}),
        };
        history.push(info);
        await context.hooks?.epoch?.promise(info);
        if (context.checkpoint && stateFile) {
          // the state first: it holds the trained tensors itself, so a kill before the model is written loses nothing
          await writeTrainState(stateFile, this.stateOf(epoch + 1, fp, fpOf, lr, history, o.seed, optimizer, params, mpOptimizer));
          await saveModel(context.checkpoint, current());
        }
      }
      if (startEpoch >= o.epochs && startEpoch > 0 && context.checkpoint) {
        // resumed after the last epoch: the model file may lag the state by that epoch
        await saveModel(context.checkpoint, current());
      }
    } finally {
      await program?.dispose();
      await mpProgram?.dispose();
    }
    const result = current();
    const last = history[history.length - 1];
    const summary: TrainSummary & { referenceSeconds?: number } = {
      epochs: o.epochs,
      finalLoss: last?.loss ?? NaN,
      finalAccuracy: last?.accuracy ?? NaN,
      // the midpoint schedule's reference solves are counted apart (referenceSeconds)
      seconds: (performance.now() - start) / 1000 - referenceSeconds,
      phase,
      backend: this.backend,
      ...(mp ? { referenceSeconds } : {}),
    };
    await context.hooks?.afterTrain?.promise(result, summary);
    return { model: result, summary, history };
  }

  private stateOf(
    epoch: number,
    fp: string,
    fpOf: Record<string, unknown>,
    lr: number,
    history: EpochInfo[],
    seed: number,
    optimizer: ParamOptimizer,
    params: Map<string, Float32Array>,
    mpOptimizer?: ParamOptimizer,
  ): TrainState {
    return {
      epoch,
      fingerprint: fp,
      fingerprintOf: fpOf,
      lr,
      history: [...history],
      rng: { scheme: 'seed+epoch', seed },
      optimizer: optimizer.state(),
      params,
      ...(mpOptimizer ? { midpointOptimizer: mpOptimizer.state() } : {}),
    };
  }

  /**
   * One update of the midpoint schedule on batch `b`: the reference x_ref of the current dynamics (an adaptive
   * Dormand–Prince solve at the schedule's rtol / atol on the onnx step loop, no gradient), then `mp.steps` Adam
   * steps on φ for mean_b ‖x_TL − x_ref‖₁ over the block's outputs. Returns the loss before the first step and the
   * reference's wall time.
   */
  private async midpointUpdate(
    mpProgram: GradientProgram,
    mpModel: ModelIR,
    mp: MidpointSchedule,
    mpOptimizer: ParamOptimizer,
    params: Map<string, Float32Array>,
    feeds: readonly string[],
    b: Batch,
    threads: number | undefined,
    where: string,
  ): Promise<{ loss: number; referenceSeconds: number }> {
    const t0 = performance.now();
    const target = await referenceOutputs(withTensors(mpModel, params), mp, b, threads ?? defaultThreads());
    const referenceSeconds = (performance.now() - t0) / 1000;
    let first = NaN;
    for (let s = 0; s < mp.steps; s++) {
      const r = await mpProgram.run(new Map(feeds.map((k) => [k, params.get(k)!])), b.x, target, b.size, b.u ? { u: b.u } : undefined);
      if (!Number.isFinite(r.loss)) throw new OdemorError('NUMERIC', `the midpoint loss became ${r.loss} in ${where} (try a smaller midpoint.lr)`);
      if (s === 0) first = r.loss;
      mpOptimizer.step(params, r.grads, mp.lr);
    }
    return { loss: first, referenceSeconds };
  }

  private checkResumable(saved: TrainState, fp: string, fpOf: Record<string, unknown>, file: string, epochs: number): void {
    if (saved.fingerprint !== fp) {
      const changes = fingerprintChanges(saved.fingerprintOf, fpOf);
      throw new OdemorError(
        'ARGUMENT',
        `${file}: cannot resume, the training options differ from the checkpoint's (${changes.length ? changes.join('; ') : 'fingerprint mismatch'}); run without resume to start over`,
      );
    }
    if (saved.epoch > epochs) {
      throw new OdemorError('ARGUMENT', `${file}: cannot resume, the checkpoint has ${saved.epoch} epochs done but epochs = ${epochs}`);
    }
  }

  /**
   * What a resumed run must share with the run that wrote the state: every option that changes the
   * weights (not `epochs`, so a finished run can be continued for more epochs, unless a cosine schedule
   * depends on it; not `threads`), the solver's tableau, the dataset, the model's structure and frozen tensors.
   */
  private fingerprintSource(
    model: ModelIR,
    o: TrainOptions,
    own: OnnxBackpropTrainerOptions,
    context: TrainContext,
    tableau: ButcherTableau | undefined,
    trainable: (path: string) => boolean,
    selection: unknown,
    useCache: boolean,
  ): Record<string, unknown> {
    const adam = o.optimizer === 'adam';
    return {
      trainer: this.name,
      phase: context.phase,
      batch: o.batch,
      optimizer: o.optimizer,
      lr: o.lr,
      lrDecay: o.lrDecay ?? 1,
      momentum: o.optimizer === 'momentum' ? (o.momentum ?? 0.9) : null,
      adam: adam ? { beta1: own.beta1 ?? 0.9, beta2: own.beta2 ?? 0.999, epsilon: own.epsilon ?? null } : null,
      weightDecay: o.weightDecay ?? 0,
      clipNorm: o.clipNorm ?? null,
      limit: o.limit ?? null,
      augment: o.augment ?? false,
      params: selection,
      seed: o.seed,
      schedule: own.schedule ?? null,
      epochs: own.schedule?.kind === 'cosine' ? o.epochs : null,
      cachedFeatures: useCache,
      tableau: tableau ? { a: tableau.a, b: tableau.b, c: tableau.c } : null,
      dataset: { name: context.dataset.name, trainSize: context.dataset.info.trainSize, inputShape: context.dataset.info.inputShape },
      model: modelFingerprint(model, trainable),
    };
  }
}

/** `block.A.weight` and n when the block's A is antisymmetric and that tensor trains, else undefined. */
function antisymmetricWeight(model: ModelIR, paths: readonly string[]): { path: string; n: number } | undefined {
  const block = model.block;
  return block.kind === 'ode' && block.A.type === 'antisymmetric' && paths.includes('block.A.weight') ? { path: 'block.A.weight', n: block.n } : undefined;
}

/**
 * The option `spectralClip` resolved against the model: the tensor it clips (`block.A.weight` of an antisymmetric
 * A, which must train), n and the defaults; undefined without the option. An ARGUMENT error when the model has no
 * such A or it does not train.
 */
function spectralClipOf(own: OnnxBackpropTrainerOptions, model: ModelIR, paths: readonly string[]): { path: string; n: number; max: number; every: number } | undefined {
  const o = own.spectralClip;
  if (!o) return undefined;
  const block = model.block;
  const why =
    block.kind !== 'ode'
      ? `the model's block is '${block.kind}'`
      : block.A.type !== 'antisymmetric'
        ? `the block's A is '${block.A.type}'`
        : !paths.includes('block.A.weight')
          ? 'block.A.weight does not train (train.params leaves it out)'
          : undefined;
  if (why) throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': option spectralClip clips the spectrum of an antisymmetric A = W − Wᵀ − γI (model 'ode-rnn'), but ${why}`);
  return { path: 'block.A.weight', n: block.n, max: o.max, every: o.every ?? 1 };
}

/**
 * Why `solver` cannot run the midpoint schedule (undefined: it can): it must be a step program that returns the
 * Lagrange remainder at ξ = x + Γ ⊙ f — a solver named 'taylor-lagrange', or one with `remainder: true`, not the
 * truncated series (`remainder: false`).
 */
function notTaylorLagrange(solver: SolverLike): string | undefined {
  if (solver.tableau || typeof solver.step !== 'function') return 'is a Runge–Kutta tableau, which has no midpoint';
  const remainder = (solver as { remainder?: unknown }).remainder;
  if (remainder === false) return 'is the truncated Taylor series (remainder: false), which has no midpoint';
  if (remainder !== true && solver.name !== 'taylor-lagrange') return 'is no Taylor-Lagrange step program';
  return undefined;
}

/**
 * `model` with the midpoint network the schedule trains when the model has none: core's
 * `withMidpointNetwork` (the same network the tfjs trainer adds for the same seed).
 */
export function withMidpointNetwork(model: ModelIR, mp: Pick<MidpointSchedule, 'hidden' | 'init'>, seed: number): ModelIR {
  return coreWithMidpointNetwork(model, { hidden: mp.hidden, init: mp.init, seed });
}

/**
 * The reference outputs of the current dynamics on a batch: `model` (its logits: the block's outputs) solved by an
 * adaptive Dormand–Prince loop at `mp.rtol` / `mp.atol` (the onnx runtime's step loop; a fresh compile, since the
 * weights changed), [batch, outputs].
 */
async function referenceOutputs(model: ModelIR, mp: MidpointSchedule, b: Batch, threads: number): Promise<Float32Array> {
  const ref: ModelIR = { ...model, solver: { ...model.solver, use: 'dopri5', rtol: mp.rtol, atol: mp.atol } };
  const exe = await buildAdaptive(ref, adaptiveSettings(ref, DOPRI5, { name: 'dopri5', maxSteps: RK_DEFAULTS.maxSteps }), { threads, convAsDense: false });
  try {
    return await exe.predict(b.x, b.size, b.u ? { u: b.u } : undefined);
  } finally {
    await exe.dispose();
  }
}

/**
 * The model's outputs must fit the dataset's task: a regression (trajectory) dataset's targets are
 * `prod(targetShape)` values per sample, the model's outputs (a trajectory readout: T · size); a classification
 * dataset needs a model without a trajectory readout. ARGUMENT errors name both sides.
 */
function checkTask(model: ModelIR, dataset: Dataset): void {
  const info = dataset.info;
  if (info.task === 'regression') {
    const shape = info.targetShape;
    if (shape && shape.reduce((a, b) => a * b, 1) !== model.outputs) {
      throw new OdemorError(
        'ARGUMENT',
        `trainer 'backprop-onnx': the regression dataset '${dataset.name}' has targets [${shape.join(', ')}] (${shape.reduce((a, b) => a * b, 1)} values per sample) but the model has outputs = ${model.outputs}`,
      );
    }
  } else if (model.readout) {
    throw new OdemorError('ARGUMENT', `trainer 'backprop-onnx': the model has a trajectory readout but the dataset '${dataset.name}' is a classification dataset (its task is not 'regression')`);
  }
}

/**
 * A model whose input is the block's output (`blockOutputShape(model)`) and whose block is the identity
 * (a reduced block with zero dynamics, E = D = identity), followed by the model's post layers under their own
 * IR paths: the post layers' gradients on cached features, through the same GradientProgram contract.
 */
export function postOnlyModel(model: ModelIR): ModelIR {
  const shape = blockOutputShape(model);
  const n = shape.reduce((a, b) => a * b, 1);
  const block: ReducedBlock = {
    kind: 'reduced',
    method: 'identity',
    n,
    k: n,
    m: 1,
    E: { type: 'identity', size: n },
    M: { type: 'dense', weight: { shape: [1, n], data: new Float32Array(n) } },
    c: { shape: [1], data: new Float32Array(1) },
    N: { type: 'dense', weight: { shape: [n, 1], data: new Float32Array(n) } },
    D: { type: 'identity', size: n },
    activation: 'identity',
  };
  return {
    format: model.format,
    version: model.version,
    ...(model.name ? { name: `${model.name} (post layers)` } : {}),
    input: { kind: 'tensor', shape: [...shape] },
    pre: [],
    block,
    post: model.post,
    solver: { use: 'euler', dt: 1, t0: 0, t1: 1 },
    outputs: model.outputs,
  };
}

/**
 * The block outputs of the training samples: `context.blockFeatures` when given, else an onnx executable of
 * `blockFeatureModel(model)`; read in dataset order, as the tfjs trainer caches them.
 */
async function cacheBlockFeatures(
  model: ModelIR,
  dataset: Dataset,
  batchSize: number,
  limit: number | undefined,
  context: TrainContext,
  threads: number | undefined,
): Promise<FeatureCache> {
  const shape = blockOutputShape(model);
  const per = shape.reduce((a, b) => a * b, 1);
  const count = limit !== undefined ? Math.min(limit, dataset.info.trainSize) : dataset.info.trainSize;
  const features = new Float32Array(count * per);
  const labels = new Int32Array(count);
  let compute = context.blockFeatures;
  let release: (() => Promise<void>) | undefined;
  if (!compute) {
    const exec = await new OnnxRuntime({ solver: context.solver, ...(threads ? { threads } : {}) }).build(blockFeatureModel(model));
    compute = (x, b) => exec.predict(x, b);
    release = () => exec.dispose();
  }
  let row = 0;
  try {
    for await (const b of dataset.batches('train', Math.max(batchSize, 1000), { limit: count })) {
      const h = await compute(b.x, b.size);
      if (h.length !== b.size * per) throw new OdemorError('RUNTIME', `train: blockFeatures returned ${h.length} values for ${b.size} samples of ${per} features`);
      features.set(h, row * per);
      labels.set(b.y, row);
      row += b.size;
    }
  } finally {
    await release?.();
  }
  return { features: features.subarray(0, row * per), labels: labels.subarray(0, row), shape, count: row };
}


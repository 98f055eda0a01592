import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { ReducedModel, SnapshotBatch, StepInfo, ReduceDims } from './extension-points.js';
import type { ModelIR } from './ir/types.js';
import type { FinetuneStage } from './config/schema.js';
import type { StiffnessSummary } from './stiffness/indicators.js';

/** Progress of a long stage; the CLI's progress bars tap this. */
export interface ProgressEvent {
  /** stable id of the task, e.g. 'train', 'evaluate:deim@50' */
  task: string;
  label: string;
  done: number;
  total: number;
  /** extra text to show, e.g. 'loss 0.31' */
  detail?: string;
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  lr: number;
  seconds: number;
  /** 'train' or 'finetune'; `compare:<label>` while an entry of a solver comparison trains */
  phase: string;
  /** ρ(W − Wᵀ) of the block's antisymmetric A after the epoch, when W trains (backprop-onnx; ≤ max under its `spectralClip`) */
  spectralRadius?: number;
}

export interface TrainSummary {
  epochs: number;
  finalLoss: number;
  finalAccuracy: number;
  seconds: number;
  phase: string;
  /** the trainer and where it ran, e.g. 'backprop-onnx' on 'onnx/cpu' */
  trainer?: string;
  backend?: string;
  /** per-epoch loss, accuracy, lr and seconds (results.json's training curve) */
  history?: EpochInfo[];
}

/** One evaluated model, as it appears in results.json. */
export interface ResultRow {
  /** 'original', 'original-conv', 'deim', 'svd', … */
  method: string;
  /** reduced dimension k (n for the original) */
  dim: number;
  /** interpolation points m when they differ from k */
  points?: number;
  /**
   * 'original', 'reduced', a fine-tuning stage ('finetuned', 'finetuned-block', 'retrained'), or 'compared': one
   * entry of a solver comparison (`compare`), trained and evaluated with its solver
   */
  stage: 'original' | 'reduced' | FinetuneStage | 'compared';
  /** classification: top-1 accuracy in [0, 1] (absent on a regression row) */
  top1?: number;
  /** classification: top-3 accuracy, null when not evaluated (absent on a regression row) */
  top3?: number | null;
  /** classification: every top-k accuracy, `{ top1: …, top3: … }` (absent on a regression row) */
  topk?: Record<string, number>;
  /**
   * regression: the mean squared error of the predicted states at the observation times over the test samples
   * (mean over samples, times and states; the evaluator's `mse`)
   */
  testMse?: number;
  /** regression: √testMse */
  rmse?: number;
  /** regression: ‖pred − true‖ / ‖true‖ over the test samples */
  relativeError?: number;
  /** regression: testMse / the original's testMse (1 on the original's row; absent when the original's MSE is 0) */
  mseRatio?: number;
  /** the solver's right-hand-side evaluations per test sample, when the runtime counts them (`Executable.lastStats`) */
  nfePerSample?: number;
  /** regression on trajectories: the rollout error, the RMSE over samples and states at each observation time */
  errorByTime?: { times: number[]; rmse: number[] };
  /**
   * regression on trajectories: this model's predicted states `[sample][time][state]` of the test samples
   * `samples`, beside the observed ones in the results' `regression.truth` (for plots)
   */
  trajectories?: { samples: number[]; predicted: number[][][] };
  wallSeconds: number;
  timings: number[];
  throughput: number;
  /**
   * against the baseline (the first original evaluated). Paired timing (`evaluate.timing: paired`): the median
   * over pairs of passes of (baseline time / this model's time), the baseline timed alternately with the model;
   * single timing: the baseline's median time (timed once, at the start) / `wallSeconds`
   */
  speedup: number;
  /** paired timing: [min, max] of the paired ratios `speedup` is the median of ([1, 1] for the baseline itself) */
  speedupRange?: [number, number];
  /** paired timing: the median of the baseline's passes timed beside this model (its own median for the baseline) */
  baselineSeconds?: number;
  /** for convolutional blocks: speedup against the convolutional original (`speedup` is against its Toeplitz form, the paper's baseline) */
  speedupVsConv?: number;
  /** classification: top-1 relative to the original's (absent on a regression row) */
  relativeTop1?: number;
  activations: number;
  params: number;
  macsPerRhs: number;
  stateDim: number;
  errorConstant?: number;
  podError?: number;
  runtime: string;
  backend: string;
  threads?: number;
  samples: number;
  /** the test samples each timed pass covered, when `evaluate.timingLimit` made them fewer than `samples` */
  timedSamples?: number;
  /** a solver comparison (`stage: 'compared'`): the solver the entry's model trained and was evaluated with */
  solver?: CompareSolver;
  /**
   * a solver comparison: where `nfePerSample` comes from — 'runtime' (the executable counted its evaluations,
   * `lastStats`), 'solver' (a fixed-step solver's count: steps × stages of its tableau, or steps × the time
   * derivatives a derivative solver declares)
   */
  nfeSource?: 'runtime' | 'solver';
  /** a solver comparison: the wall seconds of the entry's training (the trainer's whole `train` call; 0 without training) */
  trainSeconds?: number;
  /**
   * a solver comparison with `compare.target`: the wall seconds of training until the end of the first epoch whose
   * loss was below the target; null when no epoch reached it
   */
  timeToTarget?: number | null;
  /** a solver or trainer comparison: the entry's training (absent when it did not train) */
  training?: CompareTraining;
  /** a trainer comparison (`compare.trainers`): the Trainer the entry's `use` resolved to ('backprop-onnx', 'spectral') */
  trainer?: string;
  /**
   * a trainer comparison with `compare.target`: the training seconds (measurement paused) until the end of the first
   * epoch whose rollout MSE on the training subset (`training.history[].trainMse`) was below the target; null when
   * no epoch reached it
   */
  secondsToTarget?: number | null;
  /**
   * a trainer comparison: the peak resident set size sampled during the entry's training (at progress callbacks
   * and epoch ends) minus the RSS before it started, in MiB. In-process: a lower bound between samples, and memory
   * the garbage collector has not yet returned is included
   */
  peakRssMiB?: number;
  /**
   * a distributed sweep (`odemor run --queue`): the host (`os.hostname()`) that evaluated and timed the row — a
   * worker's for a reduced or fine-tuned model, whose paired speedup is against the original timed on that same
   * host; the coordinator's for the originals
   */
  host?: string;
  /**
   * `evaluate.adaptive`: the model integrated by the adaptive solver at each tolerance, on the first test samples,
   * with its ratios against the original under the same solver (docs/architecture.md#adaptive)
   */
  adaptive?: AdaptiveResult[];
  /** `evaluate.adaptive.stiffness`: the block's spectral radius and stiffness ratio along test trajectories (docs/algorithms.md#stiffness) */
  stiffness?: StiffnessSummary;
}

/**
 * One tolerance of a row's `adaptive`: the model integrated by the adaptive solver on the first `samples` test
 * samples, in batches of `batch` (one step-size sequence per batch). The ratios are against the original's entry at
 * the same tolerance (1 on the original's own row) and are absent where either value is missing or not positive.
 */
export interface AdaptiveResult {
  /** the adaptive Solver */
  solver: string;
  rtol: number;
  /** the absolute tolerance the solver used */
  atol?: number;
  /** test samples integrated (0 when the solve failed) */
  samples: number;
  batch: number;
  /** right-hand-side evaluations per sample: Σ over batches of the batch solve's NFE · its size, over the samples */
  nfePerSample?: number;
  /** accepted steps per sample (as NFE) */
  acceptedPerSample?: number;
  /** rejected steps per sample (as NFE) */
  rejectedPerSample?: number;
  /** median wall seconds of a timed pass over the samples */
  wallSeconds: number;
  /** classification: top-1 accuracy on the samples */
  top1?: number;
  /** regression: the test MSE on the samples */
  testMse?: number;
  /** nfePerSample / the original's */
  nfeRatio?: number;
  /** rejectedPerSample / the original's (absent when the original rejected none) */
  rejectedRatio?: number;
  /** wallSeconds / the original's */
  timeRatio?: number;
  /** classification: top1 / the original's */
  relativeTop1?: number;
  /** regression: testMse / the original's */
  mseRatio?: number;
  runtime: string;
  backend: string;
  /** wall seconds of the whole measurement: compile, the passes, the metrics */
  seconds: number;
  /** why the solve failed (maxSteps reached, a non-finite state): the other fields are then empty */
  error?: string;
}

/** The solver of a row of a solver comparison: the model's solver spec with the entry's own solver keys. */
export interface CompareSolver {
  use: string;
  dt: number;
  t0: number;
  t1: number;
  rtol?: number;
  atol?: number;
  maxSteps?: number;
  /** the solver's own keys (taylor-lagrange's `order`, `remainder`) */
  [key: string]: unknown;
}

/** One entry's training in a solver comparison (its row's `training`). */
export interface CompareTraining {
  /** the trainer and where it ran: 'backprop-tfjs', 'tfjs/wasm' */
  trainer: string;
  backend?: string;
  epochs: number;
  finalLoss: number;
  /** the trainer's own measure of its run (`TrainSummary.seconds`) */
  seconds: number;
  /**
   * per epoch: the mean training loss, the training accuracy (classification), the epoch's own seconds and
   * `elapsed`, the wall seconds since the entry's training started at the end of the epoch (report.html plots
   * loss against it)
   */
  history: {
    epoch: number;
    loss: number;
    accuracy?: number;
    seconds: number;
    elapsed: number;
    /**
     * a trainer comparison: the rollout MSE of the model at the end of the epoch on the first `compare.trainLossSamples`
     * training trajectories, integrated with `model.solver` on the evaluation runtime (the common training-loss curve;
     * `elapsed` then excludes the time this measurement took)
     */
    trainMse?: number;
  }[];
}

export interface ExperimentResults {
  format: 'odemor-results';
  version: 1;
  name: string;
  seed: number;
  /** when the run started (a resumed run keeps its first start) */
  startedAt: string;
  /** when the last `--resume` of the run started (absent: it ran in one go) */
  resumedAt?: string;
  finishedAt: string;
  config: unknown;
  environment: {
    node: string;
    /** the tfjs backend, when the tfjs runtime ran something (training or evaluation) */
    tfjsBackend?: string;
    /** every runtime that produced a row or trained, with its backend: { onnx: 'cpu', tfjs: 'wasm' } */
    runtimes?: Record<string, string>;
    platform: string;
    cpus: number;
    /** `os.cpus()[0].model` */
    cpuModel?: string;
    /** `os.loadavg()` (1, 5, 15 minutes) when the run started and when these results were written */
    loadAverage?: { start: number[]; end: number[] };
    /** the evaluation runtime's threads: `evaluate.threads`, else what the rows ran with */
    threads?: number;
    /** the library version of every runtime the run created: { onnx: 'onnxruntime-node 1.22.0', tfjs: 'tfjs-core 4.22.0' } */
    runtimeVersions?: Record<string, string>;
  };
  /** how the speedups were timed (absent in results written before paired timing) */
  timing?: TimingSummary;
  training?: TrainSummary;
  snapshots?: { n: number; snapshots: number; samples: number; stateSingularValues: number[]; nonlinearSingularValues: number[] };
  /** data for plots: APoZ scores per neuron, the first interpolation points, weight singular values */
  analysis?: { apozScores?: number[]; deimPoints?: number[]; weightSingularValues?: number[] };
  /** what the rows measure: 'regression' on a regression dataset (rows with `testMse`); absent: classification (rows with `top1`) */
  task?: 'classification' | 'regression';
  /**
   * regression on trajectories: the observed states `[sample][time][state]` of the test samples whose predictions
   * the rows keep (`rows[i].trajectories`), at the observation `times`, with `states` states
   */
  regression?: { times: number[]; states: number; samples: number[]; truth: number[][][] };
  /**
   * a distributed sweep (`odemor run --queue`): the queue, the coordinator's host (which timed the originals), the
   * snapshot pass's shards (absent when the pass was not sharded) and the worker hosts that ran jobs
   */
  distributed?: { queue: string; coordinator: string; shards?: number; hosts: string[] };
  rows: ResultRow[];
  /** models whose reduction, evaluation or fine-tuning failed: the sweep went on without them */
  failures?: RowFailure[];
  /** 'partial' while a run is in progress (the staging folder's results.json), 'complete' at the end */
  status?: 'partial' | 'complete';
  /** fingerprint of the validated config: `--resume` continues only a run of the same config */
  fingerprint?: string;
  /** the files of the run, relative to its results folder */
  files?: string[];
  outDir: string;
}

/** How the speedups of a run were timed, and how steady the baseline's time was. */
export interface TimingSummary {
  /** `evaluate.timing` */
  mode: 'paired' | 'single';
  /** the baseline row's median wall time */
  baselineSeconds: number;
  /** [min, max] of the rows' `baselineSeconds` (the baseline's times beside each model; paired timing) */
  referenceRange: [number, number];
  /** max relative deviation of a row's `baselineSeconds` from the baseline row's (0 with single timing) */
  drift: number;
  /** e.g. that the baseline's time drifted by more than 10 % within the run */
  warnings: string[];
}

/** A model of a sweep that failed, and why. */
export interface RowFailure {
  method: string;
  dim: number;
  stage: 'reduced' | FinetuneStage | 'compared';
  error: string;
}

/** Create the frozen, typed hooks object of one experiment. */
export function createHooks() {
  return Object.freeze({
    /** transform the validated config before anything runs */
    configLoaded: new AsyncSeriesWaterfallHook<[config: any]>(['config']),
    beforeTrain: new AsyncSeriesHook<[model: ModelIR, phase: string]>(['model', 'phase']),
    epoch: new AsyncSeriesHook<[info: EpochInfo]>(['info']),
    afterTrain: new AsyncSeriesHook<[model: ModelIR, summary: TrainSummary]>(['model', 'summary']),
    /** once per accepted solver step (eager runtime) */
    step: new SyncHook<[info: StepInfo]>(['info']),
    snapshotBatch: new AsyncSeriesHook<[batch: SnapshotBatch]>(['batch']),
    beforeReduce: new AsyncSeriesHook<[method: string, dims: ReduceDims[]]>(['method', 'dims']),
    /** transform each reduced model before it is evaluated */
    reduced: new AsyncSeriesWaterfallHook<[reduced: ReducedModel]>(['reduced']),
    /** veto: a tap that returns false skips evaluating (and fine-tuning) this reduced model */
    shouldEvaluate: new AsyncSeriesBailHook<[reduced: ReducedModel], boolean | undefined>(['reduced']),
    evaluated: new AsyncSeriesHook<[row: ResultRow]>(['row']),
    report: new AsyncSeriesHook<[results: ExperimentResults]>(['results']),
    /** the experiment failed: fired once with the error before it propagates (runtimes are still disposed) */
    failed: new AsyncSeriesHook<[error: Error]>(['error']),
    /** a pipeline stage is about to run / has run (name from the stage list) */
    beforeStage: new AsyncSeriesHook<[stage: string]>(['stage']),
    afterStage: new AsyncSeriesHook<[stage: string]>(['stage']),
    progress: new SyncHook<[event: ProgressEvent]>(['event']),
  });
}

export type OdemorHooks = ReturnType<typeof createHooks>;

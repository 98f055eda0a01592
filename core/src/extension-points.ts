/**
 * The extension points of odemor. A plugin binds implementations of these under their token
 * (see `tokens.ts`) with a name; the pipeline resolves them by the names used in the config.
 */
import type { Matrix } from 'ml-matrix';
import type { ModelIR, ReducedBlock } from './ir/types.js';

// ───────────────────────────── Solver ─────────────────────────────

/** Explicit Runge–Kutta Butcher tableau. `bHat` is the embedded lower-order weights (adaptive). */
export interface ButcherTableau {
  a: number[][]; // s×s, strictly lower triangular
  b: number[]; // s
  c: number[]; // s
  bHat?: number[];
  order: number;
  /** order of the embedded solution, when `bHat` is given */
  embeddedOrder?: number;
}

/** One accepted solver step, as the `step` hook reports it. `S` is the runtime's state type. */
export interface StepInfo<S = unknown> {
  /** time at the start of the accepted step */
  t: number;
  /** step size taken */
  h: number;
  /** index of the accepted step, from 0 */
  index: number;
  /** state after the step, in the runtime's representation (valid only during the call; clone to keep) */
  state: S;
}

export interface SolveStats {
  /** right-hand-side evaluations */
  nfe: number;
  accepted: number;
  rejected: number;
}

/**
 * The operations a step program needs from a runtime's state type `T` (batched tensors, ONNX graph values,
 * float64 arrays). Each runtime supplies one; the solver code is written once over it (docs/architecture.md#solvers).
 */
export interface SolverAlgebra<T> {
  /** Run `fn` in a scope that frees everything it allocates except what it returns (tf.tidy for tensors). */
  scope<R extends StepOutput<T>>(fn: () => R): R;
  /** `y + Σ w_j k_j` over the first `w.length` stages, skipping zero weights; always a new value. */
  axpy(y: T, w: readonly number[], k: readonly T[]): T;
  /** `Σ w_j k_j`. */
  combine(w: readonly number[], k: readonly T[]): T;
  /** RMS over all entries of `err / (atol + rtol · max(|y0|, |y1|))` (adaptive solvers; a CPU sync for tensors). */
  errorRatio(err: T, y0: T, y1: T, rtol: number, atol: number): number;
  /** true when every entry is finite; `undefined` when the runtime cannot know before running (a graph). */
  allFinite(y: T): boolean | undefined;
  clone(y: T): T;
  dispose(y: T): void;
  /** elementwise product `a ⊙ b` (needed by step programs that scale a state, e.g. the Taylor-Lagrange midpoint) */
  mul?(a: T, b: T): T;
}

/** Result of one step attempt of a step program. */
export interface StepOutput<T> {
  y1: T;
  /** derivative at (t + h, y1), for first-same-as-last methods */
  kLast?: T;
  /** error ratio, for adaptive steps */
  ratio?: number;
  /** the step's remainder term (Taylor-Lagrange: Δt^{p+1}/(p+1)! · x^{(p+1)}(ξ)), for a loss to penalise */
  remainder?: T;
}

/** What a step program gets besides the algebra, the right-hand side and (t, y, h). */
export interface StepContext<T> {
  /** f(t, y), when already known (adaptive retries, FSAL): not evaluated again */
  k1?: T;
  /** return `kLast` (first-same-as-last) */
  fsal: boolean;
  /** estimate the error ratio with these tolerances (adaptive) */
  error?: { rtol: number; atol: number };
  /** called once per right-hand-side evaluation (NFE counting) */
  onEval?: () => void;
  /**
   * Time derivatives of the solution through (t, y): `[x⁽¹⁾, …, x⁽ᵖ⁾]` with x⁽¹⁾ = f(t, y), x⁽²⁾ = J_f f, …,
   * computed exactly by the runtime (Jacobian-vector products of the block, never finite differences). Present
   * when the solver declares `derivatives` and the runtime provides them; the caller counts one evaluation per
   * derivative order in NFE.
   */
  derivatives?: (t: number, y: T, order: number) => T[];
  /** The learned midpoint scale Γ_φ(y) of a Taylor-Lagrange step (the model's midpoint network); absent: Γ = 0. */
  midpoint?: (t: number, y: T) => T;
}

/**
 * A solver, independent of any runtime: an explicit Runge–Kutta method is its Butcher `tableau`; a more
 * general method gives a `step` program over the runtime's algebra. The step count, last-step shortening,
 * stage times, input sampling and the adaptive controller live once in core's driver (`solveWith`).
 */
export interface Solver {
  readonly name: string;
  /** order of accuracy */
  readonly order: number;
  readonly adaptive: boolean;
  /** present for explicit Runge–Kutta methods; lets a runtime unroll them into a static graph */
  readonly tableau?: ButcherTableau;
  /** one step from (t, y) of size h; default: the Runge–Kutta step of `tableau` */
  step?<T>(alg: SolverAlgebra<T>, f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>): StepOutput<T>;
  /**
   * The highest time derivative the step program asks for through `context.derivatives` (Taylor methods); a
   * runtime that cannot provide them refuses the solver. Absent: none.
   */
  readonly derivatives?: number;
  /** default tolerances and step limit of the adaptive controller */
  readonly rtol?: number;
  readonly atol?: number;
  readonly maxSteps?: number;
}

export type SolverFactory = (options?: Record<string, unknown>) => Solver;

// ───────────────────────────── Dataset ─────────────────────────────

export type Split = 'train' | 'test';

export interface Batch {
  /** row-major [size, ...inputShape] (a trajectory dataset: the initial states x(t0), [size, d]) */
  x: Float32Array;
  /** class labels [size] (a regression dataset: empty) */
  y: Int32Array;
  size: number;
  /** regression targets, row-major [size, ...targetShape] (a trajectory dataset: the observed states, [size, T, d]) */
  targets?: Float32Array;
  /** input signals u(t) of a trajectory dataset with inputs, row-major [size, signal.steps, signal.channels] */
  u?: Float32Array;
}

export interface DatasetInfo {
  /** per-sample input shape, e.g. [28, 28, 1], [2] or [steps, features] for sequences */
  inputShape: number[];
  /** 'sequence' inputs feed the ODE block as u(t); 'trajectory': x is the initial state x(t0), the targets the states observed at `times` */
  kind: 'vector' | 'image' | 'sequence' | 'trajectory';
  /** classes of a classification dataset (0 for regression) */
  numClasses: number;
  /** what the targets are: class labels in `y` (default) or real values in `targets` */
  task?: 'classification' | 'regression';
  /** regression: the shape of one sample's target, e.g. [T, d] (states at T observation times) */
  targetShape?: number[];
  /** trajectory datasets: the observation times t_1 < … < t_T of the targets (shared by all samples), after t0 */
  times?: number[];
  /** trajectory datasets: the start time t0 of every trajectory */
  t0?: number;
  /** trajectory datasets with inputs: u(t) sampled at t0 + i·dt, i = 0 … steps − 1, held constant in between */
  signal?: { steps: number; channels: number; dt: number };
  trainSize: number;
  testSize: number;
}

export interface BatchOptions {
  shuffle?: boolean;
  seed?: number;
  /** apply the dataset's training augmentation */
  augment?: boolean;
  /** use only the first `limit` samples */
  limit?: number;
}

export interface Dataset {
  readonly name: string;
  readonly info: DatasetInfo;
  batches(split: Split, batchSize: number, options?: BatchOptions): AsyncIterable<Batch>;
}

export type DatasetFactory = (options: Record<string, unknown> & { seed: number }) => Dataset | Promise<Dataset>;

// ───────────────────────────── Runtime ─────────────────────────────

export interface ExecutableInfo {
  runtime: string;
  /** e.g. the tfjs backend ('wasm') or the onnxruntime execution provider */
  backend: string;
  threads?: number;
}

/** A model made runnable by a runtime. */
export interface Executable {
  readonly info: ExecutableInfo;
  /**
   * logits [batch, outputs] for inputs [batch, ...inputShape]; a trajectory model (`readout`) returns its states
   * at the readout times, [batch, T, size]. `inputs.u` is the input signal [batch, steps, channels] of a model
   * with input kind 'state' and a signal.
   */
  predict(x: Float32Array, batch: number, inputs?: { u?: Float32Array }): Promise<Float32Array>;
  /**
   * Solver statistics of the last completed `predict` (right-hand-side evaluations, accepted and rejected
   * steps), when the runtime counts them (the onnx runtime's adaptive step loop does); undefined otherwise.
   */
  readonly lastStats?: SolveStats;
  dispose(): void | Promise<void>;
}

export interface SnapshotPassOptions {
  /** sample the state every `every`-th accepted step */
  every: number;
  /** the solver to integrate with (its tableau, for runtimes that unroll it) */
  solver?: Solver;
  tableau?: ButcherTableau;
  /** compute the batch Gram matrices natively (see `SnapshotBatch.gram`) */
  gram?: boolean;
  /** with `gram`, also return the raw sampled rows (needed by exact-mode snapshotters) */
  raw?: boolean;
  /**
   * The input signal u of the batch, [batch, steps, channels] row-major (a dataset batch's `u`), for a model
   * with input kind 'state' and a `signal` — what `Executable.predict` gets as `inputs.u`. Required by such a
   * model, refused by any other.
   */
  u?: Float32Array;
}

/**
 * What a runtime can do, declared by the implementation (conformance suites read it from the instance):
 * `snapshots` — `snapshotBatch` runs the full block and samples states; `gram` — it can compute the batch
 * Gram matrices natively; `adaptive` — it integrates with adaptive solvers; `train` — it provides a Trainer.
 */
export interface RuntimeCapabilities {
  snapshots: boolean;
  gram: boolean;
  adaptive: boolean;
  train: boolean;
}

export interface Runtime {
  readonly name: string;
  /** the library and version it runs on, for results.json's environment, e.g. 'onnxruntime-node 1.22.0' */
  readonly version?: string;
  /** what this runtime implements (see {@link RuntimeCapabilities}) */
  readonly capabilities: RuntimeCapabilities;
  /**
   * false when the runtime cannot run this model (e.g. a solver it cannot compile); the reason says why. With
   * `purpose: 'snapshots'`: whether its `snapshotBatch` can sample this model's block.
   */
  supports(model: ModelIR, purpose?: 'run' | 'snapshots'): { ok: true } | { ok: false; reason: string };
  build(model: ModelIR, options?: Record<string, unknown>): Promise<Executable>;
  /**
   * Run the model's ODE block on a batch and return the snapshot batch (states, nonlinear terms, final
   * states). Optional: the pipeline falls back to the tfjs runtime.
   */
  snapshotBatch?(model: ModelIR, x: Float32Array, batch: number, options: SnapshotPassOptions): Promise<SnapshotBatch>;
  /** release what the runtime holds (cached sessions, tensors); the pipeline calls it in a `finally` */
  dispose?(): void | Promise<void>;
}

export type RuntimeFactory = (options?: Record<string, unknown>) => Runtime | Promise<Runtime>;

// ───────────────────────────── Snapshotter ─────────────────────────────

/**
 * One batch of snapshots from a pass over data. All arrays row-major float32.
 *
 * The nonlinear snapshots are what a reducer interpolates: for a full ODE block the nonlinear terms
 * σ(A x + b) (width n); for an mlp block the hidden activations h = σ(M x + c + Zin u(t)) (width m, the hidden
 * units; docs/algorithms.md#mlp-reduction). `nonlinearDim` gives that width; absent, it is n.
 */
export interface SnapshotBatch {
  n: number;
  /** width of the nonlinear snapshots: n for a full ODE block, m (hidden units) for an mlp block; absent: n */
  nonlinearDim?: number;
  /** sampled states x(t_j), [count, n] */
  states: Float32Array;
  /**
   * nonlinear snapshots at the sampled states, [count, nonlinearDim]: σ(A x(t_j) + b) for a full ODE block, the
   * hidden activations σ(M x(t_j) + c + Zin u(t_j)) for an mlp block
   */
  nonlinear: Float32Array;
  count: number;
  /** final states x(t_end) of each sample, [samples, n] */
  final: Float32Array;
  samples: number;
  /**
   * Gram matrices Σ x xᵀ of this batch's sampled states (float32 [n, n]) and nonlinear snapshots (float32
   * [nonlinearDim, nonlinearDim]), when the runtime computed them natively. A snapshotter in Gram mode then sums
   * these (in float64) instead of the raw rows, and `states`/`nonlinear` may be empty (count still gives the
   * number of columns).
   */
  gram?: { states: Float32Array; nonlinear: Float32Array };
  /**
   * Per-unit sums over this batch's `count` nonlinear snapshot rows, [nonlinearDim] each: `absSum_i = Σ |h_i|`
   * and `zeroCount_i` = the number of rows with `|h_i| < 1e-6`. Only needed from a runtime that sends native
   * Grams without the raw rows (a snapshotter computes them from the rows otherwise); they give
   * `SnapshotSet.hidden`.
   */
  hidden?: { absSum: Float32Array | Float64Array; zeroCount: Float32Array | Float64Array };
}

export interface SnapshotSet {
  n: number;
  /**
   * width of the nonlinear snapshots, the rows of `nonlinearBasis`: n for a full ODE block, m (hidden units)
   * for an mlp block; absent: n
   */
  nonlinearDim?: number;
  /** POD basis of the states, n×r, columns sorted by singular value */
  stateBasis: Matrix;
  stateSingularValues: number[];
  /** POD basis of the nonlinear snapshots, nonlinearDim×r (an mlp block: of its hidden activations) */
  nonlinearBasis: Matrix;
  nonlinearSingularValues: number[];
  /** number of snapshot columns and of samples seen */
  snapshots: number;
  samples: number;
  /** per-neuron statistics of x(t_end) over the samples */
  final: { meanAbs: Float64Array; zeroFraction: Float64Array };
  /**
   * per-unit statistics of all sampled nonlinear snapshots (an mlp block: its hidden activations h, for APoZ on
   * the hidden layer), [nonlinearDim] each: `meanAbs_i` = mean |h_i| over the snapshot rows, `zeroFraction_i` =
   * the fraction of rows with |h_i| < 1e-6. Absent when the snapshotter did not see every row (native Grams
   * without `SnapshotBatch.hidden`) or does not compute them.
   */
  hidden?: { meanAbs: Float64Array; zeroFraction: Float64Array };
}

export interface Snapshotter {
  readonly name: string;
  /**
   * true when the snapshotter only needs batch Gram matrices (`SnapshotBatch.gram`): the pipeline then
   * asks the runtime for natively computed Grams and no raw rows.
   */
  readonly prefersGram?: boolean;
  /** `nonlinearDim`: the width of the nonlinear snapshots when it differs from n (an mlp block's hidden width m) */
  begin(n: number, nonlinearDim?: number): void;
  consume(batch: SnapshotBatch): void;
  finish(): SnapshotSet;
  /**
   * A sharded snapshot pass (docs/architecture.md#scale-out): what this pass has accumulated since `begin` — the
   * sums its `finish` would be computed from (Gram matrices, counts, per-unit sums), as plain data. Optional: a
   * snapshotter without it is not sharded (the coordinator takes the whole pass).
   */
  partial?(): SnapshotPartial;
  /**
   * Add a {@link SnapshotPartial} of another pass over a slice of the same data (after `begin`, with the same n):
   * merging the shards' partials in shard order gives what one pass over all slices gives, up to float64 rounding
   * of the sums (their order differs). Present exactly when `partial` is.
   */
  merge?(partial: SnapshotPartial): void;
}

/**
 * What a snapshotter accumulated over one shard of a snapshot pass: `snapshotter` names who wrote it (a
 * snapshotter refuses another's), `meta` holds JSON-able counts and settings, `arrays` the sums (float64 Gram
 * matrices, per-unit sums) or raw rows (float32).
 */
export interface SnapshotPartial {
  snapshotter: string;
  meta: Record<string, number | string | boolean | null>;
  arrays: Record<string, Float64Array | Float32Array>;
}

export type SnapshotterFactory = (options?: Record<string, unknown>) => Snapshotter;

// ───────────────────────────── Reducer ─────────────────────────────

export interface ReducerFitContext {
  /** the trained model with its full ODE block */
  model: ModelIR;
  /** present when `needsSnapshots` is true */
  snapshots?: SnapshotSet;
  seed: number;
}

/** Requested dimensions of one reduced model: state dimension k and, for interpolation methods, m points. */
export interface ReduceDims {
  k: number;
  m?: number;
}

export interface ReducedDiagnostics {
  stateDim: number;
  activations: number;
  /** parameters of the ODE block (and adjusted neighbouring layers where counted) */
  params: number;
  /** multiply-adds per right-hand-side evaluation, per sample */
  macsPerRhs: number;
  /** ‖(PᵀU)⁻¹‖₂ (pseudo-inverse for ODEIM) for interpolation methods */
  errorConstant?: number;
  /** relative POD projection error of the state snapshots at this k */
  podError?: number;
  /** selected interpolation points or kept neurons */
  points?: number[];
  [key: string]: unknown;
}

export interface ReducedModel {
  method: string;
  dims: ReduceDims;
  model: ModelIR & { block: ReducedBlock };
  diagnostics: ReducedDiagnostics;
}

/** What a fitted reducer can tell a report: the weight matrix's singular values, per-neuron scores. */
export interface ReducerAnalysis {
  weightSingularValues?: number[];
  /** per-neuron scores (APoZ): plotted as the neuron-score histogram */
  neuronScores?: number[];
  /** mark this reducer's selected points (of its largest reduction) on the neuron-score plot */
  markPoints?: boolean;
}

/**
 * The core reducer keys a reducer understands, declared by the implementation: `points` — it takes the
 * number of interpolation points m from the config's `points` (m ≠ k); `oversampling` — m may exceed k.
 * A config that gives `points` to a reducer without `points` is rejected before any work.
 */
export interface ReducerCapabilities {
  points: boolean;
  oversampling: boolean;
}

export interface Reducer {
  readonly name: string;
  /** the core keys it understands; absent means none */
  readonly capabilities?: ReducerCapabilities;
  readonly needsSnapshots: boolean;
  /** after `fit`: data for plots (optional) */
  analysis?(): ReducerAnalysis;
  /** the expensive, once-per-experiment part: bases, points, scores */
  fit(context: ReducerFitContext): void | Promise<void>;
  /** cheap, once per dimension of a sweep */
  reduce(dims: ReduceDims): ReducedModel;
}

export type ReducerFactory = (options?: Record<string, unknown>) => Reducer;

// ───────────────────────────── Evaluator ─────────────────────────────

export interface EvaluateOptions {
  /** timed full passes over the test split; the median is reported */
  repeats: number;
  /** k values of top-k accuracy (empty for a regression evaluator) */
  topk: number[];
  batch: number;
  /** use only the first `limit` test samples */
  limit?: number;
  /**
   * time the passes over the first `timingLimit` of those samples only (default all); the accuracy still comes
   * from all of them. For models whose full pass takes long: throughput is the same over a few full batches.
   */
  timingLimit?: number;
  /** wall time of the baseline model, for `speedup` (ignored when `reference` is given) */
  baselineSeconds?: number;
  /**
   * The baseline model, already built. When given, every timed pass of `executable` is paired with a timed
   * pass of `reference` over the same batches, alternating the order from pair to pair (reference first on
   * even passes, the model first on odd ones) so that load changes hit both; the reference gets an untimed
   * warm-up pass too. Its times come back as `referenceTimings`. The evaluator does not dispose it.
   */
  reference?: Executable;
  /** called after every pass (warm-up and timed, the reference's included): `done` of `total` passes */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Predicted against observed trajectories of the first test samples (a regression evaluator keeps a few, for
 * plots): `[sample][time][state]`, the times those of `errorByTime`.
 */
export interface TrajectorySamples {
  /** indices of the samples in the test split */
  samples: number[];
  /** the observation times */
  times: number[];
  /** the observed states (the dataset's targets) */
  truth: number[][][];
  /** the model's states */
  predicted: number[][][];
}

export interface EvaluationResult {
  /** top-k accuracy by k, fractions in [0, 1] (`{}` from a regression evaluator) */
  topk: Record<number, number>;
  /** median wall time of one full pass over the test samples */
  wallSeconds: number;
  /** all timed passes */
  timings: number[];
  /**
   * with `reference`: the reference's timed passes, index-aligned with `timings` (pass i of both ran back to
   * back, over the same batches)
   */
  referenceTimings?: number[];
  /** samples per second at the median (of the timed samples) */
  throughput: number;
  /**
   * with `reference`: the median over pairs of referenceTimings[i] / timings[i]; else
   * baselineSeconds / wallSeconds when a baseline was given
   */
  speedup?: number;
  samples: number;
  /** the samples each timed pass covered, when `timingLimit` made them fewer than `samples` */
  timedSamples?: number;
  /**
   * regression: the mean squared error of the predictions at the observation times over the test samples (the
   * mean over samples, times and states)
   */
  mse?: number;
  /** regression: √mse */
  rmse?: number;
  /** regression: ‖pred − true‖ / ‖true‖, Frobenius norms over all samples, times and states */
  relativeError?: number;
  /**
   * regression on trajectories: the rollout error, the RMSE over samples and states at each observation time
   * (`rmse[i]` at `times[i]`, aligned with the dataset's `times`)
   */
  errorByTime?: { times: number[]; rmse: number[] };
  /** right-hand-side evaluations of the metrics' pass (the sum of `executable.lastStats.nfe` over its batches), when the runtime counts them */
  nfe?: number;
  /**
   * the solver's right-hand-side evaluations per sample, when the runtime counts them: the mean over samples of
   * the NFE of the (batched) solve that integrated it, Σ_batches nfe · size / samples
   */
  nfePerSample?: number;
  /** regression on trajectories: a few predicted against observed trajectories of the first test samples, for plots */
  trajectories?: TrajectorySamples;
}

export interface Evaluator {
  readonly name: string;
  evaluate(executable: Executable, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationResult>;
}

export type EvaluatorFactory = (options?: Record<string, unknown>) => Evaluator;

// ───────────────────────────── Trainer ─────────────────────────────

/**
 * Which tensors of a model train, by IR path: `all`; `block` (the ODE block only); `after-block` (the post
 * layers: fine-tuning); `before-block` (pre layers); or a list of IR paths (`block.M`, `post.1.weight`)
 * or path prefixes ending in `.` (`post.`). Layers with `trainable: false` never train.
 */
export type ParamSelection = 'all' | 'block' | 'after-block' | 'before-block' | string[];

/** Options every Trainer understands; a trainer's own options come through its option schema. */
export interface TrainOptions {
  epochs: number;
  batch: number;
  optimizer: 'sgd' | 'momentum' | 'adam';
  lr: number;
  /** multiplicative learning-rate decay per epoch (lr_e = lr · lrDecay^e), default 1 */
  lrDecay?: number;
  /** momentum of the 'momentum' optimizer, default 0.9 */
  momentum?: number;
  /** decoupled L2 weight decay per step (w ← w − lr · weightDecay · w), default 0 */
  weightDecay?: number;
  /** clip the global gradient norm to this value, default off */
  clipNorm?: number;
  /** use only the first `limit` training samples */
  limit?: number;
  /** apply the dataset's training augmentation */
  augment?: boolean;
  /** which tensors train (default `all` for a full block, `after-block` for a reduced one) */
  params?: ParamSelection;
  /** seeds initialisation-free randomness: per-epoch shuffling (epoch e uses seed + e) */
  seed: number;
  /** other trainer-specific options */
  [key: string]: unknown;
}

/** What a Trainer gets besides the model and its options. */
export interface TrainContext {
  dataset: Dataset;
  /** the solver that integrates the block during training */
  solver: Solver;
  /** 'train' or 'finetune': hook payloads and progress task ids */
  phase: 'train' | 'finetune';
  hooks?: Partial<Pick<import('./hooks.js').OdemorHooks, 'beforeTrain' | 'epoch' | 'afterTrain' | 'progress'>>;
  /** progress once per batch: done/total batches over all epochs, detail with the loss */
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** write the model (atomically) to this path after every epoch */
  checkpoint?: string;
  /**
   * Continue from `checkpoint` and the training state saved with it when present (a trainer that keeps
   * one; without it the run starts afresh); a trainer refuses when the state was written with other
   * options (its options fingerprint differs).
   */
  resume?: boolean;
  /**
   * Block outputs of raw inputs, flattened per sample, from a faster runtime (e.g. an executable of
   * `blockFeatureModel(model)`); a trainer that trains only the post layers may cache and use them.
   */
  blockFeatures?: (x: Float32Array, batch: number) => Promise<Float32Array>;
}

/** A new model (the input is untouched), the run's summary and its per-epoch metrics. */
export interface TrainResult {
  model: ModelIR;
  summary: import('./hooks.js').TrainSummary;
  history: import('./hooks.js').EpochInfo[];
}

/** Trains a model: backprop through the solver (runtime-tfjs, runtime-onnx), adjoint, spectral, … */
export interface Trainer {
  readonly name: string;
  /** false when it cannot train this model with this solver (an adaptive solver in a compiled graph); the reason says why */
  supports?(model: ModelIR, solver?: Solver): { ok: true } | { ok: false; reason: string };
  train(model: ModelIR, options: TrainOptions, context: TrainContext): Promise<TrainResult>;
}

export type TrainerFactory = (options?: Record<string, unknown>) => Trainer;

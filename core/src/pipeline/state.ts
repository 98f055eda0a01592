/**
 * The typed state one experiment's stages share (docs/architecture.md#stages). Each stage reads what earlier
 * stages set and sets its own fields; nothing else is shared between stages.
 */
import type { Experiment, OdemorPlugin } from '../container.js';
import type { LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { Dataset, Executable, Runtime, SnapshotSet, Solver } from '../extension-points.js';
import type { ExperimentResults, ResultRow, RowFailure, TrainSummary } from '../hooks.js';
import type { ModelIR, SolverSpec } from '../ir/types.js';
import type { SafetensorsFile } from '../import/safetensors.js';
import type { TensorNameMap } from '../import/torch.js';

export interface RunOptions {
  /** results folder (default: config output.dir, else results/<name> under the working directory) */
  outDir?: string;
  /** override the config's seed */
  seed?: number;
  /** plugins to register before the config's (used by tests and embedders) */
  plugins?: OdemorPlugin[];
  /** called with the experiment before anything runs, e.g. to tap hooks (the CLI's progress bars) */
  setup?: (exp: Experiment) => void | Promise<void>;
  /** write results files (default true) */
  write?: boolean;
  /** where notices go (default: standard error) */
  log?: (line: string) => void;
  /** continue the unfinished run of the same config in the results folder (its staging folder) */
  resume?: boolean;
  /** discard an unfinished run found in the results folder instead of refusing to start */
  restart?: boolean;
  /** told the results folder as soon as it is known (before any work) */
  onOutDir?: (dir: string) => void;
  /**
   * run the snapshot pass (in shards) and the sweep's (method, dim) jobs on this job queue, processed by
   * `odemor worker`s (docs/architecture.md#scale-out); default: in-process
   */
  queue?: import('./distributed.js').SweepQueue;
  /** shards of the snapshot pass on the queue (default {@link import('./distributed.js').DEFAULT_SHARDS}, at most one per batch) */
  shards?: number;
}

/** The implementation names a config's `use:` keys resolved to. */
export interface Resolved {
  dataset: string;
  model: string;
  solver: string;
  evaluator: string;
  runtime: string;
  snapshotter?: string;
  reducers: string[];
  report?: string;
  /** the Trainer of `train` (absent when nothing trains) */
  trainer?: string;
  /** the Trainer of the first fine-tuning stage (absent without fine-tuning) */
  finetuner?: string;
  /** the Trainer of each entry of `finetune`, by index (a sparse array: 0-epoch entries have none) */
  finetuners?: string[];
  /** the Solver of each entry of `compare.solvers`, by index */
  compare?: string[];
  /** the Trainer and the training Solver of each entry of `compare.trainers`, by index */
  compareTrainers?: { trainer: string; solver: string }[];
  /** the adaptive Solver of `evaluate.adaptive` */
  adaptive?: string;
}

/** One reducer of the config, instantiated before any work (so its options fail early). */
export interface ReducerJob {
  config: ExperimentConfig['reducers'][number];
  name: string;
  reducer: import('../extension-points.js').Reducer;
}

export interface ExperimentState {
  readonly exp: Experiment;
  readonly loaded: LoadedConfig;
  readonly options: RunOptions;
  readonly log: (line: string) => void;
  config: ExperimentConfig;
  seed: number;
  /** the results folder */
  outDir: string;
  /** where the run writes until it ends: `<outDir>/.odemor-run` (the results folder's files are replaced at the end) */
  workDir: string;
  /** what an unfinished run of this config left in the staging folder (`--resume`) */
  resumed?: ExperimentResults;
  /** fingerprint of the validated config */
  fingerprint: string;
  /** models of the sweep that failed (the sweep goes on) */
  failures: RowFailure[];
  startedAt: string;
  resolved: Resolved;
  /** `model.solver` merged: defaults, then the checkpoint's, then the config's, key by key */
  solverConfig: SolverSpec & { maxSteps?: number };
  /** the solver as the model IR records it (`use` resolved) */
  solverSpec: SolverSpec;
  /** the loaded checkpoint, if any */
  checkpoint?: ModelIR;
  /** `model.weights` read (and `model.weightsMap`), if given: the model is built and filled from them (docs/import.md) */
  weights?: { file: SafetensorsFile; map?: TensorNameMap; mapSource?: string };
  /** `train` after defaults: false when nothing trains */
  train: Exclude<ExperimentConfig['train'], undefined>;
  dataset: Dataset;
  solver: Solver;
  /** the evaluation runtime (`evaluate.runtime`) */
  runtime: Runtime;
  /** runtimes created by name, disposed when the experiment ends */
  runtimes: Map<string, Runtime>;
  reducers: ReducerJob[];
  model: ModelIR;
  training?: TrainSummary;
  /** top-k values that make sense for the dataset (empty for a regression dataset) */
  topk: number[];
  /** the dataset is a regression dataset (`info.task: 'regression'`): rows carry `testMse` instead of top-k */
  regression: boolean;
  /**
   * the baseline every speedup is against (the first original evaluated), with its top-1 (classification) or
   * its test MSE (regression), which the rows' `relativeTop1` / `mseRatio` are relative to
   */
  baseline?: { seconds: number; top1?: number; mse?: number };
  /** regression: the observed test trajectories the rows' `trajectories` are compared with (results' `regression`) */
  observed?: NonNullable<ExperimentResults['regression']>;
  /**
   * paired timing: the baseline model's executable, kept open from its evaluation (or, on `--resume`, built
   * again) to the end of the run and timed beside every later model; disposed in the run's `finally`
   */
  reference?: Executable;
  /** timing warnings of the run (the baseline's time drifting), for results.json's `timing` */
  timingWarnings: string[];
  /** `os.loadavg()` when the run started (set by the setup stage) */
  loadAverageStart?: number[];
  /** the convolutional original's time, for `speedupVsConv` */
  convSeconds?: number;
  rows: ResultRow[];
  /** a solver comparison (`compare`): its entries, prepared before any of them trains (`prepareCompare`) */
  compare?: import('./stages/compare.js').CompareJob[];
  /** a trainer comparison (`compare.trainers`): its entries, prepared before any of them trains (`prepareTrainerCompare`) */
  compareTrainers?: import('./stages/compare-trainers.js').TrainerCompareJob[];
  snapshots?: SnapshotSet;
  analysis: NonNullable<ExperimentResults['analysis']>;
  /** every file the run wrote, absolute paths, in order */
  written: string[];
  results?: ExperimentResults;
  /** a distributed sweep (`RunOptions.queue`): results.json's `distributed` */
  distributed?: ExperimentResults['distributed'];
}

/** One stage of the pipeline: a name (for hooks and messages) and what it does to the state. */
export interface Stage {
  name: string;
  run(state: ExperimentState): Promise<void>;
}

export * from './run.js';
export * from './results.js';
export { releaseAllLocks, STAGING_DIR, LOCK_FILE, encodeSnapshots, decodeSnapshots } from './persist.js';
export * from './plan.js';
export { finetuneJobs, jobApplies, type FinetuneJob } from './stages/finetune.js';
export { prepareCompare, solverNfePerSample, stepsPerSample, type CompareJob } from './stages/compare.js';
export { prepareTrainerCompare, DEFAULT_TRAIN_LOSS_SAMPLES, type TrainerCompareJob } from './stages/compare-trainers.js';
export { checkEvaluateOptions, readTestSplit, timedBatches, timedEvaluation, type CheckedEvaluateOptions, type EvaluationTiming, type PassProtocol } from './passes.js';
export {
  DEFAULT_SHARDS,
  SweepWorker,
  decodeSnapshotPartial,
  encodeSnapshotPartial,
  shardRanges,
  type ArtifactStore,
  type JobOutcome,
  type QueueJob,
  type QueueJobSpec,
  type SweepQueue,
  type SweepWorkerOptions,
} from './distributed.js';
export { checkAdaptive, adaptiveFields } from './adaptive.js';

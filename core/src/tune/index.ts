export { runTune, checkTuneOptions, defaultTuneDir, formatDrop, DEFAULT_TUNE_FINETUNE, type TuneOptions, type TuneResult, type TuneResults, type TuneCandidate } from './run.js';
export * from './search.js';
export { tuneMarkdown, paretoSpec, candidateLabel } from './files.js';

export { runTune, checkTuneOptions, defaultTuneDir, DEFAULT_TUNE_FINETUNE, type TuneOptions, type TuneResult, type TuneResults, type TuneCandidate } from './run.js';
export * from './search.js';
export { tuneMarkdown, paretoSpec, candidateLabel, formatDrop } from './files.js';

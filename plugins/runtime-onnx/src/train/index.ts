/** Trainer 'backprop-onnx' and its parts: optimizers on parameter buffers, schedules, the training state file. */
export { OnnxBackpropTrainer, postOnlyModel, withMidpointNetwork, type OnnxEpochInfo, type OnnxTrainerDeps, type Support } from './trainer.js';
export { MIDPOINT_DEFAULTS, backpropOnnxOptionsSchema, midpointSchedule, parseOwnOptions, type MidpointSchedule, type MidpointScheduleOptions, type OnnxBackpropTrainerOptions } from './options.js';
export { ADAM_EPSILON, ParamOptimizer, applyWeightDecay, clipByGlobalNorm, globalNorm, type OptimizerKind, type OptimizerSettings, type OptimizerState } from './optimizer.js';
export { checkSchedule, learningRate, type LrSchedule, type ScheduleSettings } from './schedule.js';
export { decodeTrainState, encodeTrainState, readTrainState, statePath, writeTrainState, type TrainState } from './state.js';
export { defaultCompileGradientProgram, lazyCompileGradientProgram } from './default-compile.js';

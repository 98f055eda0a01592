/**
 * Child process of the SIGKILL test (train-resume.test.ts): trains the tiny model with a checkpoint, slowly
 * (each epoch hook waits), so that the parent can kill it after the first checkpoint appears.
 * Usage: node --import tsx train-child.ts <checkpoint> <epochs> <resume: 0|1>
 */
import { createHooks } from '@odemor/core';
import { initTfjs } from '@odemor/runtime-tfjs';
import { OnnxBackpropTrainer } from '../src/train/trainer.js';
import { childOptions, dataset, euler, tfjsCompile, tinyModel } from './train-fixtures.js';

const [checkpoint, epochs, resume] = process.argv.slice(2);
await initTfjs('cpu');
const hooks = createHooks();
hooks.epoch.tapPromise('slow', () => new Promise((r) => setTimeout(r, 400)));
await new OnnxBackpropTrainer({}, { compile: tfjsCompile }).train(tinyModel(), { ...childOptions, epochs: Number(epochs) }, {
  dataset,
  solver: euler,
  phase: 'train',
  hooks,
  checkpoint: checkpoint!,
  resume: resume === '1',
});
process.stdout.write('done\n');

/**
 * Trainer 'backprop-tfjs' on the trainer conformance kit (cpu backend). It keeps no training state: the per-epoch
 * checkpoint holds the model only, not the optimizer's moments, and `context.resume` is ignored, so the kit checks
 * with `resume: false` that a resumed run starts afresh (TrainContext.resume) rather than continuing exactly. It
 * has no supports() (it trains every model and solver the eager runtime runs), so there is no unsupported case.
 */
import { it } from 'vitest';
import { trainerConformance } from '@odemor/conformance';
import { BackpropTrainer } from '../src/index.js';

trainerConformance(it, () => new BackpropTrainer({ backend: 'cpu' }), { supports: { resume: false } });

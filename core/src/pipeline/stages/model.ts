/**
 * Stage 'model': the checkpoint (with the config's solver settings), the built-in model filled with `model.weights`
 * (PyTorch weights, docs/import.md) or a fresh model from the Model plugin;
 * validated, and every fixed reducer dimension checked against its state size before any training.
 * Stage 'train': the Trainer named by `train.use` trains it and the model is saved at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TRAIN_CORE_KEYS as TRAIN_KEYS } from '../../config/schema.js';
import { OdemorError } from '../../errors.js';
import { loadModel, saveModel } from '../../ir/io.js';
import { IMPORTABLE_MODELS, importTorchModel } from '../../import/torch.js';
import { persistPartial } from './report.js';
import { validateModel } from '../../ir/validate.js';
import type { ModelIR } from '../../ir/types.js';
import type { Trainer } from '../../extension-points.js';
import { resolveUse } from '../../plugins/resolve.js';
import type { ExperimentState, Stage } from '../state.js';
import { fallbackNotice, progress } from '../evaluate.js';
import { trainOptionsOf } from './train-options.js';
import { reducibleSize } from './reduce.js';

export const modelStage: Stage = {
  name: 'model',
  async run(state) {
    const { exp, config, resolved } = state;
    let model: ModelIR;
    const trained = state.resumed?.training ? path.join(state.workDir, 'model.odemor') : undefined;
    if (trained && fs.existsSync(trained)) {
      // --resume after training: the model the unfinished run trained
      model = await loadModel(trained);
      state.training = state.resumed!.training!;
    } else if (state.checkpoint) {
      model = { ...state.checkpoint, solver: state.solverSpec };
    } else {
      const { use: _m, checkpoint: _c, weights: _w, weightsMap: _wm, solver: _so, ...modelOptions } = config.model;
      const context = { dataset: state.dataset.info, seed: state.seed, solver: state.solverSpec };
      if (state.weights) {
        // PyTorch weights for a built-in model (docs/import.md): errors name the key
        const w = state.weights;
        const at = (message: string) => `${state.loaded.file}: model.weights: ${message}`;
        if (!(IMPORTABLE_MODELS as readonly string[]).includes(resolved.model)) {
          throw new OdemorError('CONFIG', at(`weights can be imported into the built-in models ${IMPORTABLE_MODELS.join(', ')}; model.use is '${config.model.use}'`));
        }
        try {
          model = importTorchModel(w.file, resolved.model, context, { options: modelOptions, ...(w.map ? { map: w.map } : {}), ...(w.mapSource ? { mapSource: w.mapSource } : {}) }).model;
        } catch (e) {
          if (OdemorError.is(e)) throw new OdemorError('CONFIG', at(e.message), { cause: e });
          throw e;
        }
      } else {
        model = exp.factory('Model', resolved.model)(modelOptions, context);
      }
    }
    validateModel(model);
    const n = reducibleSize(model.block);
    for (const job of state.reducers) {
      if (job.config.dims === 'auto') continue;
      const over = job.config.dims.find((k) => k > n);
      if (over !== undefined) {
        throw new OdemorError('CONFIG', model.block.kind === 'mlp'
          ? `reducer '${job.config.use}': dimension ${over} exceeds the mlp block's hidden width m = ${n} (on an mlp block, dims count hidden units)`
          : `reducer '${job.config.use}': dimension ${over} exceeds the ODE state dimension n = ${n}`);
      }
    }
    state.model = model;
  },
};

export const trainStage: Stage = {
  name: 'train',
  async run(state) {
    const t = state.train;
    // a solver comparison trains a copy of the model per solver (stage 'compare')
    if (t === false || t.epochs <= 0 || state.training || state.config.compare) return;
    const write = state.options.write !== false;
    const file = path.join(state.workDir, 'model.odemor');
    const trainer = await trainerFor(state, state.resolved.trainer!, t.use, t.runtime, trainerOwnOptions(t), state.model);
    // the partial results mark the staging folder as this config's run before the first epoch, so a run killed
    // while training is resumable (the trainer continues from its checkpoint and state)
    await persistPartial(state);
    const out = await trainer.train(state.model, trainOptionsOf(t, state.seed), {
      dataset: state.dataset,
      solver: state.solver,
      phase: 'train',
      hooks: state.exp.hooks,
      ...(t.checkpoint && write ? { checkpoint: file } : {}),
      // --resume of a run killed while training: a trainer that keeps its state (backprop-onnx) continues it
      ...(t.checkpoint && write && state.options.resume ? { resume: true } : {}),
      onProgress: (done, total, detail) => progress(state, 'train', 'train', done, total, detail),
    });
    state.model = out.model;
    state.training = { trainer: trainer.name, ...out.summary, history: out.history };
    // saved now (atomically), so a failure in a later stage does not lose a long training run
    if (write) {
      await saveModel(file, state.model);
      // a trainer's resume state (backprop-onnx's <checkpoint>.train) is not part of the results once training is done
      fs.rmSync(`${file}.train`, { force: true });
      await persistPartial(state);
    }
  },
};

/**
 * The trainer `name`, or — when it cannot train `model` (an adaptive solver in a compiled graph) and the
 * config did not pin `runtime` — the eager `<use>-tfjs`, saying so once.
 */
export async function trainerFor(state: ExperimentState, name: string, use: string, runtime: string | undefined, own: Record<string, unknown>, model: ModelIR): Promise<Trainer> {
  const trainer = state.exp.factory('Trainer', name)(own);
  const ok = trainer.supports?.(model, state.solver) ?? { ok: true as const };
  if (ok.ok) return trainer;
  if (runtime !== undefined) throw new OdemorError('RUNTIME', `trainer '${name}' cannot train this model: ${ok.reason}`);
  const eager = await resolveUse(state.exp, 'Trainer', `${use}-tfjs`, state.loaded.baseDir);
  fallbackNotice(state, ok.reason);
  return state.exp.factory('Trainer', eager)(own);
}

/** The trainer's own options: `train` minus the keys core owns. */
export function trainerOwnOptions(t: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).filter(([k]) => !(TRAIN_KEYS as readonly string[]).includes(k)));
}

/**
 * Trainer 'spectral' (SNODE) on the trainer conformance kit: regression only (it trains mlp blocks on trajectory
 * datasets: the kit's van-der-pol mlp-node); it keeps no training state (the checkpoint is the model), so a resumed
 * run starts afresh; the unsupported case is the kit's classification model (a dense ode block on a vector
 * dataset), which `supports()` refuses.
 */
import { it } from 'vitest';
import { denseNode } from '@odemor/core';
import { trainerConformance } from '@odemor/conformance';
import { SpectralTrainer } from '../src/index.js';

trainerConformance(it, () => new SpectralTrainer({ order: 4, lambda: 0.1 }), {
  supports: { classification: false, resume: false },
  unsupported: ({ solver, dataset }) => ({
    model: denseNode({ hidden: 4 }, { dataset: { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: 8, testSize: 8 }, seed: 1, solver: { use: solver.name, dt: 0.25, t0: 0, t1: 1 } }),
    solver,
    dataset,
  }),
});

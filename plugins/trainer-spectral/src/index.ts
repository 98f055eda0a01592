/**
 * @odemor/trainer-spectral — spectral-element training of Neural ODEs (SNODE, Quaglino et al., ICLR 2020;
 * docs/algorithms.md#snode): Trainer 'spectral' for mlp blocks on trajectory datasets, and the float64 Legendre /
 * Gauss–Lobatto numerics it is built on.
 */
import type { OdemorPlugin, TrainerFactory } from '@odemor/core';
import { SpectralTrainer, spectralOptionsSchema } from './trainer.js';

export * from './legendre.js';
export * from './elements.js';
export * from './trainer.js';

/** The plugin: Trainer 'spectral' (`train: { use: spectral }`). */
const plugin: OdemorPlugin = {
  name: '@odemor/trainer-spectral',
  register(ctx) {
    const spectral: TrainerFactory = (options) => new SpectralTrainer(options ?? {});
    ctx.provide('Trainer', 'spectral', spectral, {
      description: 'SNODE: spectral-element (Legendre) trajectories and collocation residuals, no ODE solve while training (mlp blocks, trajectory datasets)',
      options: spectralOptionsSchema,
    });
  },
};

export default plugin;

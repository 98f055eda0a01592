/** Trainer 'spectral' on the wasm backend (the pipeline's default): every gradient kernel it needs exists there. */
import { describe, expect, it } from 'vitest';
import { ExplicitRungeKuttaSolver, mlpNode } from '@odemor/core';
import { createDynamicsDataset } from '@odemor/dataset-dynamics';
import { initTfjs, setTfjsBackend } from '@odemor/runtime-tfjs';
import { SpectralTrainer, type SpectralEpochInfo } from '../src/index.js';

const rk4 = new ExplicitRungeKuttaSolver('rk4', { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 }, false);

describe("trainer 'spectral' on wasm", () => {
  it('trains (both steps) on wasm and agrees with cpu', async () => {
    expect(await initTfjs('wasm')).toBe('wasm');
    const car = createDynamicsDataset({ seed: 4, system: 'vehicle', trajectories: 6, test: 2, samples: 4, horizon: 0.4 });
    const model = mlpNode({ hidden: 6 }, { dataset: car.info, seed: 3, solver: { use: 'rk4', dt: 0.05, t0: 0, t1: 0.4 } });
    const trainer = new SpectralTrainer({ order: 3, elements: 2, innerSteps: { coefficients: 3, weights: 1 } });
    const opts = { epochs: 3, batch: 3, optimizer: 'adam' as const, lr: 0.01, seed: 1 };
    const ctx = { dataset: car, solver: rk4, phase: 'train' as const };
    const wasm = (await trainer.train(model, opts, ctx)).history as SpectralEpochInfo[];
    expect(wasm.every((e) => Number.isFinite(e.loss))).toBe(true);
    await setTfjsBackend('cpu');
    const cpu = (await trainer.train(model, opts, ctx)).history as SpectralEpochInfo[];
    cpu.forEach((e, i) => expect(Math.abs(wasm[i]!.loss - e.loss)).toBeLessThan(1e-3 * Math.max(1, e.loss)));
  });
});

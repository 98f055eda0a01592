/**
 * Trainer 'adjoint' on the trainer conformance kit. It wraps backprop-onnx's training loop (optimizers, schedules,
 * checkpoints and the resumable training state) with the adjoint gradient program, so it resumes exactly too; the
 * unsupported case is a Taylor-Lagrange-like step program (no Butcher tableau to integrate the adjoint with).
 */
import { it } from 'vitest';
import type { Solver } from '@odemor/core';
import { trainerConformance } from '@odemor/conformance';
import { AdjointTrainer } from '../src/index.js';

const stepProgram: Solver = {
  name: 'step-program',
  order: 1,
  adaptive: false,
  step(alg, f, t, y, h, context) {
    context.onEval?.();
    return { y1: alg.axpy(y, [h], [f(t, y)]) };
  },
};

trainerConformance(it, () => new AdjointTrainer(), {
  supports: { resume: 'exact' },
  unsupported: ({ model }) => ({ model, solver: stepProgram, label: 'a step program without a tableau' }),
});

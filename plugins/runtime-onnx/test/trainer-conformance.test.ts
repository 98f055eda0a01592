/**
 * Trainer 'backprop-onnx' on the trainer conformance kit: it keeps a training state with each checkpoint and
 * resumes from it bit for bit, so every check runs, resume as 'exact'. Its supports() refuses adaptive step
 * programs (no tableau to unroll into the graph), the kit's unsupported case.
 */
import { it } from 'vitest';
import type { Solver } from '@odemor/core';
import { trainerConformance } from '@odemor/conformance';
import { OnnxBackpropTrainer } from '../src/index.js';

const adaptiveProgram = { name: 'adaptive-program', order: 2, adaptive: true, step: () => ({ y1: undefined as never }) } as unknown as Solver;

trainerConformance(it, () => new OnnxBackpropTrainer({ threads: 1 }), {
  supports: { resume: 'exact' },
  unsupported: ({ model }) => ({ model, solver: adaptiveProgram, label: 'an adaptive step program' }),
});

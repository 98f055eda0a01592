/**
 * The gradient compiler the trainer uses when none is injected: runtime-onnx's `compileGradientProgram`
 * (`../grad/program.ts`, reverse-mode gradients over the compiled graph), loaded on first use.
 */
import { OdemorError } from '@odemor/core';
import type { CompileGradientProgram } from '../grad/types.js';

// A variable specifier, so that this package builds while grad/program.ts is not yet part of it.
const PROGRAM_MODULE = '../grad/program.js';

/** Imports `compileGradientProgram` from grad/program.js on first call; a RUNTIME error when that module is absent. */
export const lazyCompileGradientProgram: CompileGradientProgram = async (model, options) => {
  let mod: { compileGradientProgram?: CompileGradientProgram };
  try {
    mod = (await import(/* @vite-ignore */ PROGRAM_MODULE)) as typeof mod;
  } catch (e) {
    throw new OdemorError('RUNTIME', `trainer 'backprop-onnx': the gradient compiler (${PROGRAM_MODULE}) cannot be loaded: ${(e as Error).message}`, { cause: e });
  }
  if (typeof mod.compileGradientProgram !== 'function') {
    throw new OdemorError('RUNTIME', `trainer 'backprop-onnx': ${PROGRAM_MODULE} does not export compileGradientProgram`);
  }
  return mod.compileGradientProgram(model, options);
};

/**
 * The default gradient compiler of Trainer 'backprop-onnx'. To wire the real one statically once
 * grad/program.ts is merged, replace this line by
 * `export { compileGradientProgram as defaultCompileGradientProgram } from '../grad/program.js';`
 */
export const defaultCompileGradientProgram: CompileGradientProgram = lazyCompileGradientProgram;

/**
 * Which Trainer a `train` config names: `<use>-<runtime>` (a trainer several runtimes implement, 'backprop-onnx')
 * or `use` itself (a runtime-independent trainer), and the order in which runtimes are tried when `train.runtime`
 * is not given.
 */
import type { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { resolveUse } from '../plugins/resolve.js';

/** The runtimes a runtime-specific trainer is looked up on when `train.runtime` is not given, in order. */
export const DEFAULT_TRAIN_RUNTIMES = ['onnx', 'tfjs'] as const;

/**
 * A trainer that several runtimes implement is named `<use>-<runtime>` ('backprop-tfjs'): that name is tried
 * first, then `use` itself (a runtime-independent trainer such as a plugin's 'adjoint').
 */
export async function resolveTrainer(exp: Experiment, use: string, runtime: string | undefined, base: string): Promise<string> {
  if (runtime === undefined) {
    // the compiled trainer when installed, else the eager one
    for (const rt of DEFAULT_TRAIN_RUNTIMES) {
      try {
        return await resolveUse(exp, 'Trainer', `${use}-${rt}`, base);
      } catch (e) {
        if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
      }
    }
    return resolveUse(exp, 'Trainer', use, base);
  }
  try {
    return await resolveUse(exp, 'Trainer', `${use}-${runtime}`, base);
  } catch (e) {
    if (!(OdemorError.is(e) && e.code === 'PLUGIN')) throw e;
    try {
      return await resolveUse(exp, 'Trainer', use, base);
    } catch (e2) {
      if (OdemorError.is(e2) && e2.code === 'PLUGIN') {
        throw new OdemorError('PLUGIN', `no trainer '${use}-${runtime}' (runtime ${runtime}) nor '${use}': ${e2.message}`, { cause: e2 });
      }
      throw e2;
    }
  }
}


import * as tf from '@tensorflow/tfjs-core';
import { OdemorError } from '@odemor/core';
import { registerWasmConv2DBackpropFilter } from './wasm-kernels.js';

/** The tfjs backends odemor knows, fastest first. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

const ORDER: TfjsBackendName[] = ['tensorflow', 'wasm', 'cpu'];
let chosen: Promise<string> | undefined;
let gradients: Promise<void> | undefined;

/**
 * Register tfjs-core's kernel gradients unless something (tfjs-node) already did: tfjs-core's Node
 * bundle lacks them, so without this no model can be trained. Loading the `@tensorflow/tfjs` union
 * package registers them all on the shared tfjs-core engine.
 */
export function ensureGradients(): Promise<void> {
  if (!gradients) {
    gradients = tf.getGradient('BatchMatMul') && tf.getGradient('RealDiv') ? Promise.resolve() : import('@tensorflow/tfjs').then(() => undefined);
  }
  return gradients;
}

async function tryBackend(name: TfjsBackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // optional dependency: usually not installed (it downloads a native library at install time)
      const pkg = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ pkg);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
    if (!tf.findBackendFactory(name)) return false;
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    if (name === 'wasm') registerWasmConv2DBackpropFilter();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Pick and initialise the tfjs backend: `prefer` first when given, then `tensorflow` (tfjs-node, an
 * optional dependency), `wasm`, `cpu`. Returns the backend's name. Idempotent: later calls return the
 * backend chosen by the first call (call {@link setTfjsBackend} to switch explicitly).
 *
 * On `wasm`, odemor registers its own `Conv2DBackpropFilter` kernel (im2col + the wasm matMul), which
 * the wasm backend lacks, so convolutional models train on wasm too.
 */
export function initTfjs(prefer?: TfjsBackendName): Promise<string> {
  if (!chosen) {
    chosen = (async () => {
      await ensureGradients();
      const order = prefer ? [prefer, ...ORDER.filter((b) => b !== prefer)] : ORDER;
      for (const name of order) if (await tryBackend(name)) return name;
      chosen = undefined;
      throw new OdemorError('RUNTIME', `no tfjs backend could be initialised (tried ${order.join(', ')})`);
    })();
  }
  return chosen;
}

/** Switch to a specific backend now (loading it if needed); a RUNTIME error when it cannot be used. */
export async function setTfjsBackend(name: TfjsBackendName): Promise<string> {
  if (!(await tryBackend(name))) throw new OdemorError('RUNTIME', `tfjs backend '${name}' is not available`);
  chosen = Promise.resolve(name);
  return name;
}

/** The name of the active tfjs backend (initialising the default one if none is yet). */
export async function tfjsBackend(): Promise<string> {
  await initTfjs();
  return tf.getBackend();
}

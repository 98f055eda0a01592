import os from 'node:os';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OdemorError } from '@odemor/core';

/** Default intra-op thread count: `os.availableParallelism()`. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Create an onnxruntime-node CPU session with full graph optimisation and `threads` intra-op threads. */
export async function createSession(bytes: Uint8Array, threads: number): Promise<InferenceSession> {
  if (!Number.isInteger(threads) || threads < 1) throw new OdemorError('ARGUMENT', `threads must be a positive integer; got ${threads}`);
  return InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
}

/** Check that `x` holds `batch` samples of `sampleShape`; SHAPE error otherwise. */
export function checkInput(x: Float32Array, batch: number, sampleShape: number[], what = 'input'): void {
  if (!Number.isInteger(batch) || batch < 1) throw new OdemorError('SHAPE', `${what}: batch must be a positive integer; got ${batch}`);
  if (!(x instanceof Float32Array)) throw new OdemorError('SHAPE', `${what} must be a Float32Array`);
  const per = sampleShape.reduce((p, v) => p * v, 1);
  if (x.length !== batch * per) {
    throw new OdemorError(
      'SHAPE',
      `${what} has ${x.length} values but batch ${batch} × [${sampleShape.join(', ')}] needs ${batch * per}`,
    );
  }
}

/** Run `session` on `x` [batch, ...sampleShape] fed as `inputName`; returns the named outputs as Float32Arrays. */
export async function runSession(
  session: InferenceSession,
  inputName: string,
  x: Float32Array,
  batch: number,
  sampleShape: number[],
  outputs: string[],
): Promise<Record<string, Float32Array>> {
  const feeds = { [inputName]: new Tensor('float32', x, [batch, ...sampleShape]) };
  let result: InferenceSession.OnnxValueMapType;
  try {
    // fetch everything: onnxruntime-node 1.22 maps an explicit fetch list of several names onto the wrong outputs
    result = await session.run(feeds);
  } catch (err) {
    throw new OdemorError('RUNTIME', `onnxruntime failed to run the model: ${(err as Error).message}`, { cause: err });
  }
  const out: Record<string, Float32Array> = {};
  for (const name of outputs) {
    const t = result[name] as Tensor | undefined;
    if (!t) throw new OdemorError('RUNTIME', `onnxruntime returned no output '${name}'`);
    out[name] = t.data as Float32Array;
  }
  return out;
}

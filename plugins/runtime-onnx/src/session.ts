import os from 'node:os';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OdemorError, type ModelIR } from '@odemor/core';

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

/**
 * The input signal `inputs.u` of a predict call on `model`, checked: a model with input kind 'state' and a
 * `signal` needs u [batch, steps, channels] (returned as a tensor); any other model takes none (a sequence model's
 * signal is its input x). SHAPE errors name `inputs.u`, the expected and the given length.
 */
export function signalTensor(model: ModelIR, batch: number, inputs: { u?: Float32Array } | undefined): Tensor | undefined {
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  const u = inputs?.u;
  if (!sig) {
    if (u !== undefined) {
      throw new OdemorError('SHAPE', `inputs.u is given (${u?.length} values) but the model has no input signal (input kind '${model.input.kind}'${model.input.kind === 'sequence' ? ': its signal is the input x' : ' without a signal'})`);
    }
    return undefined;
  }
  const need = batch * sig.steps * sig.channels;
  if (u === undefined) {
    throw new OdemorError('SHAPE', `the model reads an input signal u(t): pass inputs.u, [batch ${batch}, steps ${sig.steps}, channels ${sig.channels}] = ${need} values`);
  }
  if (!(u instanceof Float32Array)) throw new OdemorError('SHAPE', `inputs.u must be a Float32Array of ${need} values`);
  if (u.length !== need) {
    throw new OdemorError('SHAPE', `inputs.u has ${u.length} values but batch ${batch} × [steps ${sig.steps}, channels ${sig.channels}] needs ${need}`);
  }
  return new Tensor('float32', u, [batch, sig.steps, sig.channels]);
}

/**
 * Run `session` on `x` [batch, ...sampleShape] fed as `inputName` (and the `extra` feeds, e.g. the input signal
 * `u`); returns the named outputs as Float32Arrays.
 */
export async function runSession(
  session: InferenceSession,
  inputName: string,
  x: Float32Array,
  batch: number,
  sampleShape: number[],
  outputs: string[],
  extra: Record<string, Tensor> = {},
): Promise<Record<string, Float32Array>> {
  const feeds = { [inputName]: new Tensor('float32', x, [batch, ...sampleShape]), ...extra };
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

/** `session.run(feeds)`; a failure is a RUNTIME error naming the graph (`what`). */
export async function runGraph(session: InferenceSession, feeds: Record<string, Tensor>, what: string): Promise<InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds);
  } catch (err) {
    throw new OdemorError('RUNTIME', `onnxruntime failed to run the ${what} graph: ${(err as Error).message}`, { cause: err });
  }
}

/** The output `name` of a run of the `what` graph; a RUNTIME error when onnxruntime returned none. */
export function graphOutput(result: InferenceSession.OnnxValueMapType, name: string, what: string): Tensor {
  const t = result[name] as Tensor | undefined;
  if (!t) throw new OdemorError('RUNTIME', `onnxruntime returned no output '${name}' from the ${what} graph`);
  return t;
}

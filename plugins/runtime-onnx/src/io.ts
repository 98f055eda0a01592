import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { OdemorError, writeFileAtomic } from '@odemor/core';
import { onnx } from './graph.js';
import { checkInput, createSession, defaultThreads, runSession } from './session.js';

/** A validated ONNX file loaded into an onnxruntime session. */
export interface OnnxFile {
  path: string;
  session: InferenceSession;
  /** the graph's first input (odemor graphs: `x`) */
  inputName: string;
  /** per-sample input dims (the graph input's shape without its first, batch dimension) */
  sampleShape: number[];
  /** per-sample dims [steps, channels] of the input signal `u`, when the graph has that input (a state input with a signal) */
  signalShape?: number[];
  /** `logits` when present, else the graph's first output */
  outputName: string;
  outputNames: string[];
  /** producer recorded in the file, e.g. 'odemor' */
  producer: string;
  dispose(): Promise<void>;
}

function invalid(file: string, why: string, cause?: unknown): OdemorError {
  return new OdemorError('IO', `file ${file} is not a valid ONNX model: ${why}`, cause === undefined ? undefined : { cause });
}

/**
 * Read and validate an ONNX file, and open it in onnxruntime-node. IO errors: unreadable file, or bytes that
 * are not an ONNX ModelProto (truncated, foreign) — "file … is not a valid ONNX model: …".
 */
export async function loadOnnxFile(file: string, options: { threads?: number } = {}): Promise<OnnxFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new OdemorError('IO', `cannot read file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.length === 0) throw invalid(file, 'the file is empty');
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw invalid(file, (err as Error).message, err);
  }
  const graph = model.graph;
  if (!graph?.node?.length || !graph.input?.length || !graph.output?.length) throw invalid(file, 'no graph with nodes, inputs and outputs');
  if (!model.opsetImport?.length) throw invalid(file, 'no opset import');
  const input = graph.input[0]!;
  if (!input.name) throw invalid(file, 'the graph input has no name');
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const sampleShape = dims.slice(1).map((d) => Number(d.dimValue ?? 0));
  if (sampleShape.some((d) => !(d > 0))) throw invalid(file, `input '${input.name}' has a symbolic or unknown non-batch dimension`);
  const signal = graph.input.find((v, i) => i > 0 && v.name === 'u');
  const signalShape = signal ? (signal.type?.tensorType?.shape?.dim ?? []).slice(1).map((d) => Number(d.dimValue ?? 0)) : undefined;
  if (signalShape?.some((d) => !(d > 0))) throw invalid(file, `input 'u' has a symbolic or unknown non-batch dimension`);
  let session: InferenceSession;
  try {
    session = await createSession(bytes, options.threads ?? defaultThreads());
  } catch (err) {
    throw invalid(file, (err as Error).message, err);
  }
  const outputNames = [...session.outputNames];
  return {
    path: file,
    session,
    inputName: input.name,
    sampleShape,
    ...(signalShape ? { signalShape } : {}),
    outputName: outputNames.includes('logits') ? 'logits' : outputNames[0]!,
    outputNames,
    producer: model.producerName ?? '',
    dispose: () => session.release(),
  };
}

/**
 * Load `file`, run it on `x` [batch, ...sampleShape] (and, for a graph with the input signal `u`, on `options.u`
 * [batch, steps, channels]) and return its logits (SHAPE error on a size mismatch or a missing u).
 */
export async function runOnnxFile(file: string, x: Float32Array, batch: number, options: { threads?: number; u?: Float32Array } = {}): Promise<Float32Array> {
  const loaded = await loadOnnxFile(file, options);
  try {
    checkInput(x, batch, loaded.sampleShape, `input for ${file}`);
    const extra: Record<string, Tensor> = {};
    if (loaded.signalShape) {
      if (!options.u) throw new OdemorError('SHAPE', `${file} reads an input signal u [batch, ${loaded.signalShape.join(', ')}]: pass options.u`);
      checkInput(options.u, batch, loaded.signalShape, `input signal u for ${file}`);
      extra.u = new Tensor('float32', options.u, [batch, ...loaded.signalShape]);
    } else if (options.u) {
      throw new OdemorError('SHAPE', `${file} has no input signal u, but options.u is given`);
    }
    const out = await runSession(loaded.session, loaded.inputName, x, batch, loaded.sampleShape, [loaded.outputName], extra);
    return out[loaded.outputName]!;
  } finally {
    await loaded.dispose();
  }
}

/** Write `bytes` to `file` atomically (temporary file in the same folder, then rename); creates the folder. */
export async function saveOnnx(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path.resolve(file), bytes);
  } catch (err) {
    throw new OdemorError('IO', `cannot write ONNX model to ${file}: ${(err as Error).message}`, { cause: err });
  }
}

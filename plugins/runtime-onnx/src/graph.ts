/**
 * A small builder for ONNX graphs on top of the protobufjs definitions in `onnx-proto`.
 * Internal to the package: the compiler in `compile.ts` is its only user.
 */
import onnxProto from 'onnx-proto';

/** The protobufjs-generated ONNX namespace (onnx-proto is CommonJS; its only ESM export is `default`). */
export const onnx = onnxProto.onnx;

/** A node attribute as the builder takes it: INT (integer number), FLOAT, INTS, STRING or TENSOR. */
export type AttrValue = number | number[] | string | { tensor: onnxProto.onnx.ITensorProto };

/** One recorded node of a {@link GraphBuilder} (its tape): op, inputs, single output and raw attributes. */
export interface TapeNode {
  op: string;
  inputs: string[];
  output: string;
  attrs: Readonly<Record<string, AttrValue>>;
}

/** An initializer's dims and, for int64 ones, values (what the gradient engine needs to know of constants). */
export interface ConstantInfo {
  dims: number[];
  /** int64 values; undefined for float initializers */
  ints?: number[];
}

/** One graph input or output: name and dims, where a string is a symbolic dimension. */
export interface ValueSpec {
  name: string;
  dims: (number | string)[];
  /** element type; default 'float' (float32) */
  type?: 'float' | 'int64';
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.type === 'int64' ? INT64 : FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function floatBytes(data: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(data as ArrayLike<number>);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** A float32 tensor proto with little-endian raw data (the ONNX convention). */
export function floatTensor(name: string, data: ArrayLike<number>, dims: number[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: FLOAT, dims, rawData: floatBytes(data) };
}

/**
 * Accumulates nodes and initializers; names are made unique with a counter. Float constants are shared
 * by value, so the unrolled solver steps reference one initializer per weight and per coefficient.
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly tapeNodes: TapeNode[] = [];
  private readonly constants = new Map<string, ConstantInfo>();
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly scalarCache = new Map<number, string>();
  private readonly intCache = new Map<string, string>();
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh, unused value name starting with `prefix`. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.names.has(name)) name = `${prefix}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** A float32 initializer; returns its name. */
  float(prefix: string, data: ArrayLike<number>, dims: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push(floatTensor(name, data, dims));
    this.constants.set(name, { dims: [...dims] });
    return name;
  }

  /** A float32 scalar initializer (rank 0), shared by value (as float32). */
  scalar(value: number): string {
    const key = Math.fround(value);
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.float('c', [key], []);
    this.scalarCache.set(key, name);
    return name;
  }

  /** An int64 initializer (rank 0 when `dims` is []), shared by value. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const key = `${dims.join('x')}:${values.join(',')}`;
    const hit = this.intCache.get(key);
    if (hit) return hit;
    const name = this.fresh('i');
    this.initializers.push({ name, dataType: INT64, dims, int64Data: values });
    this.constants.set(name, { dims: [...dims], ints: [...values] });
    this.intCache.set(key, name);
    return name;
  }

  /** Append a node; returns the name of its (single) output, or `output` when given. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    if (output) this.names.add(output);
    const attribute: onnxProto.onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      const A = onnx.AttributeProto.AttributeType;
      if (typeof v === 'number') {
        return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
      }
      if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
      return { name, type: A.TENSOR, t: v.tensor };
    });
    this.nodes.push({ opType, input: inputs, output: [out], name: `${opType}_${this.nodes.length}`, attribute });
    this.tapeNodes.push({ op: opType, inputs: [...inputs], output: out, attrs });
    return out;
  }

  /** Serialize the graph into a ModelProto. */
  encode(options: { inputs: ValueSpec[]; outputs: ValueSpec[]; opset: number; name: string; doc?: string }): Uint8Array {
    const graph: onnxProto.onnx.IGraphProto = {
      name: options.name,
      node: this.nodes,
      initializer: this.initializers,
      input: options.inputs.map(valueInfo),
      output: options.outputs.map(valueInfo),
    };
    const model: onnxProto.onnx.IModelProto = {
      irVersion: irVersionFor(options.opset),
      producerName: 'odemor',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: options.opset }],
      graph,
      ...(options.doc ? { docString: options.doc } : {}),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }

  /** The nodes appended so far, in order (the tape the gradient engine reverses; see `grad/engine.ts`). */
  get tape(): readonly TapeNode[] {
    return this.tapeNodes;
  }

  /** Dims (and int64 values) of the initializer `name`, or undefined when `name` is no initializer. */
  constant(name: string): ConstantInfo | undefined {
    return this.constants.get(name);
  }

  /** Number of nodes so far (for tests and diagnostics). */
  get nodeCount(): number {
    return this.nodes.length;
  }
}

/** The ONNX IR version that goes with an opset (IR 8: opsets ≤ 18, IR 9: 19–20, IR 10: 21+). */
function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

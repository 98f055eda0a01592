import { Matrix } from 'ml-matrix';
import { OdemorError } from '../errors.js';

export { Matrix };

/** Row-major `rows×cols` data (float32 or float64) as an ml-matrix `Matrix` (float64). */
export function toMatrix(data: Float32Array | Float64Array, rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new OdemorError('ARGUMENT', `toMatrix: rows and cols must be non-negative integers; got ${rows}×${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new OdemorError('SHAPE', `toMatrix: ${rows}×${cols} needs ${rows * cols} values; got ${data.length}`);
  }
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) m.set(i, j, data[off + j]!);
  }
  return m;
}

/** A `Matrix` as row-major float64 data. */
export function fromMatrix(m: Matrix): Float64Array {
  const rows = m.rows;
  const cols = m.columns;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) out[off + j] = m.get(i, j);
  }
  return out;
}

/** Throw a NUMERIC error naming `what` unless every entry of `m` is finite. */
export function assertFiniteMatrix(m: Matrix, what: string): void {
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.columns; j++) {
      const v = m.get(i, j);
      if (!Number.isFinite(v)) {
        throw new OdemorError('NUMERIC', `${what} contains ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} at (${i}, ${j})`);
      }
    }
  }
}

/** Column-major float64 copy of `m` (column j at offset j·rows), for kernels that walk columns. */
export function columnMajor(m: Matrix): Float64Array {
  const rows = m.rows;
  const cols = m.columns;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = m.get(i, j);
  }
  return out;
}

/** A `Matrix` from column-major float64 data (column j at offset j·rows). */
export function fromColumnMajor(data: Float64Array, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let j = 0; j < cols; j++) {
    const off = j * rows;
    for (let i = 0; i < rows; i++) m.set(i, j, data[off + i]!);
  }
  return m;
}

import { Matrix } from 'ml-matrix';
import { OdemorError } from '../errors.js';

/** Rows of a batch packed into the float64 panel at a time (the panel is ⌈n/4⌉·4 × BLOCK_ROWS). */
const BLOCK_ROWS = 256;

/**
 * Streaming Gram matrix `G = Σ x xᵀ` (n×n, float64) of snapshot rows `x` (length n), the input of
 * Gram-matrix POD (see docs/algorithms.md#gram). Memory is O(n²) whatever the number of snapshots.
 *
 * `add` is a blocked SYRK: up to 256 rows at a time are packed, converted to float64, into a panel
 * laid out in groups of four neurons (`panel[((i>>2)·rows + k)·4 + (i&3)]`), and a 4×4 register-blocked
 * kernel adds their products to the upper triangle of G only (blocks `jb ≥ ib`). The lower triangle is
 * filled in by mirroring when the matrix is read. `addGram` adds a precomputed batch Gram matrix (e.g.
 * from a native matrix product) instead.
 */
export class GramAccumulator {
  readonly n: number;
  /** n rounded up to a multiple of 4; the padding rows of the panel stay zero */
  private readonly n4: number;
  /** n4×n4 row-major; entries (i, j) with ⌊i/4⌋ ≤ ⌊j/4⌋ are accumulated */
  private readonly g: Float64Array;
  private panel: Float64Array | undefined;
  private rows = 0;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new OdemorError('ARGUMENT', `GramAccumulator: n must be a positive integer; got ${n}`);
    this.n = n;
    this.n4 = Math.ceil(n / 4) * 4;
    this.g = new Float64Array(this.n4 * this.n4);
  }

  /** Number of snapshot rows added so far (including the `count` given to `addGram`). */
  get count(): number {
    return this.rows;
  }

  /**
   * Add `count` row-major snapshot rows of length n (`data.length ≥ count·n`) to G.
   * The data are not checked for NaN here (the caller checks once per batch).
   */
  add(data: Float32Array | Float64Array, count: number): void {
    const n = this.n;
    if (!Number.isInteger(count) || count < 0) throw new OdemorError('ARGUMENT', `GramAccumulator.add: count must be a non-negative integer; got ${count}`);
    if (data.length < count * n) {
      throw new OdemorError('SHAPE', `GramAccumulator.add: ${count} rows of length ${n} need ${count * n} values; got ${data.length}`);
    }
    if (count === 0) return;
    const n4 = this.n4;
    const kc = BLOCK_ROWS;
    const panel = (this.panel ??= new Float64Array(n4 * kc));
    const g = this.g;
    for (let r0 = 0; r0 < count; r0 += kc) {
      const kk = Math.min(kc, count - r0);
      // pack: panel[((i >> 2) * kc + k) * 4 + (i & 3)] = x_{r0+k}[i]
      for (let k = 0; k < kk; k++) {
        const src = (r0 + k) * n;
        for (let i = 0; i < n; i++) panel[((i >> 2) * kc + k) * 4 + (i & 3)] = data[src + i]!;
      }
      // 4×4 register-blocked kernel over the upper block triangle
      for (let ib = 0; ib < n4; ib += 4) {
        const a = ib * kc;
        const end = a + kk * 4;
        for (let jb = ib; jb < n4; jb += 4) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          for (let p = a, q = jb * kc; p < end; p += 4, q += 4) {
            const x0 = panel[p]!, x1 = panel[p + 1]!, x2 = panel[p + 2]!, x3 = panel[p + 3]!;
            let y = panel[q]!;
            c00 += x0 * y; c10 += x1 * y; c20 += x2 * y; c30 += x3 * y;
            y = panel[q + 1]!;
            c01 += x0 * y; c11 += x1 * y; c21 += x2 * y; c31 += x3 * y;
            y = panel[q + 2]!;
            c02 += x0 * y; c12 += x1 * y; c22 += x2 * y; c32 += x3 * y;
            y = panel[q + 3]!;
            c03 += x0 * y; c13 += x1 * y; c23 += x2 * y; c33 += x3 * y;
          }
          let o = ib * n4 + jb;
          g[o] += c00; g[o + 1] += c01; g[o + 2] += c02; g[o + 3] += c03;
          o += n4;
          g[o] += c10; g[o + 1] += c11; g[o + 2] += c12; g[o + 3] += c13;
          o += n4;
          g[o] += c20; g[o + 1] += c21; g[o + 2] += c22; g[o + 3] += c23;
          o += n4;
          g[o] += c30; g[o + 1] += c31; g[o + 2] += c32; g[o + 3] += c33;
        }
      }
    }
    this.rows += count;
  }

  /**
   * Add a precomputed batch Gram matrix `Σ_batch x xᵀ` (n×n row-major, symmetric; only its upper
   * triangle is read). `count` is the number of snapshot rows it summarizes, for bookkeeping.
   */
  addGram(gram: Float32Array | Float64Array, count = 0): void {
    const n = this.n;
    if (gram.length !== n * n) throw new OdemorError('SHAPE', `GramAccumulator.addGram: expected ${n}×${n} = ${n * n} values; got ${gram.length}`);
    const n4 = this.n4;
    const g = this.g;
    for (let i = 0; i < n; i++) {
      const src = i * n;
      const dst = i * n4;
      for (let j = i; j < n; j++) g[dst + j] += gram[src + j]!;
    }
    this.rows += count;
  }

  /** G as a full symmetric n×n row-major float64 array (a copy). */
  gram(): Float64Array {
    const n = this.n;
    const n4 = this.n4;
    const g = this.g;
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = g[i * n4 + j]!;
        out[i * n + j] = v;
        out[j * n + i] = v;
      }
    }
    return out;
  }

  /** G as an ml-matrix `Matrix`. */
  toMatrix(): Matrix {
    return Matrix.from1DArray(this.n, this.n, this.gram());
  }

  /** Drop everything accumulated. */
  reset(): void {
    this.g.fill(0);
    this.rows = 0;
  }
}

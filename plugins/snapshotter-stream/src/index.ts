/**
 * @odemor/snapshotter-stream — collects the snapshots of a pass over data and returns the POD bases
 * of the states and of the nonlinear snapshots, plus per-neuron statistics of the final states and
 * per-unit statistics of the nonlinear snapshots.
 *
 * The nonlinear snapshots have their own width w (`SnapshotBatch.nonlinearDim`, default n): n for a full
 * ODE block (σ(A x + b)), the m hidden units for an mlp block (its hidden activations).
 *
 * In `gram` mode (default) it keeps an n×n and a w×w float64 Gram matrix and takes their symmetric
 * eigendecomposition at the end: memory O(n² + w²) whatever the number of snapshots. In `exact` mode it
 * keeps every snapshot and takes a direct SVD (small problems, tests).
 *
 * A sharded pass (`odemor run --queue`): each shard's `partial()` holds its sums (Gram matrices, counts,
 * per-unit sums; in exact mode its raw rows), and `merge()` adds them in shard order on the coordinator.
 */
import {
  GramAccumulator,
  Matrix,
  OdemorError,
  podExact,
  podFromGram,
  rankByEnergy,
  type OdemorPlugin,
  type PodResult,
  type SnapshotBatch,
  type SnapshotPartial,
  type SnapshotSet,
  type Snapshotter,
  z,
} from '@odemor/core';

export const PLUGIN_NAME = '@odemor/snapshotter-stream';

/** |x| below this counts as a zero in the final-state zero fraction (APoZ statistics). */
export const ZERO_THRESHOLD = 1e-6;

export interface StreamSnapshotterOptions {
  /** 'gram' (default): stream into Gram matrices, O(n²) memory; 'exact': keep all snapshots, direct SVD */
  mode?: 'gram' | 'exact';
  /** keep this many basis vectors (both bases); default: all of them */
  rank?: number;
  /** 'auto': truncate each basis by `energy`; 'full' (default without `rank`): keep all vectors */
  dims?: 'auto' | 'full';
  /** captured energy for `dims: 'auto'`, in (0, 1]; default 0.9999 */
  energy?: number;
  /** exact mode refuses to keep more snapshot rows than this (default 20000) */
  maxExactSnapshots?: number;
}

/**
 * The option schema of `stream` (the `snapshots:` keys besides core's `use`, `every`, `limit`, `batch`),
 * checked before any work; the same rules as the constructor's own checks.
 */
export const streamOptionsSchema = z
  .strictObject({
    mode: z.enum(['gram', 'exact']).optional(),
    rank: z.number().int().min(1).optional(),
    dims: z.enum(['auto', 'full']).optional(),
    energy: z.number().gt(0).max(1).optional(),
    maxExactSnapshots: z.number().int().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.rank === undefined) return;
    if (o.dims === 'auto' || o.energy !== undefined) ctx.addIssue({ code: 'custom', path: ['rank'], message: `give either rank or dims: 'auto' with energy, not both` });
    if (o.dims === 'full') ctx.addIssue({ code: 'custom', path: ['dims'], message: `dims: 'full' keeps every vector; it cannot go with rank` });
  });

interface Resolved {
  mode: 'gram' | 'exact';
  rank: number | undefined;
  dims: 'auto' | 'full';
  energy: number;
  maxExactSnapshots: number;
}

/** Validate every option at once; one CONFIG error lists all problems. Keys it does not know are left to the pipeline. */
function resolveOptions(options: Record<string, unknown>): Resolved {
  const problems: string[] = [];
  const { mode = 'gram', rank, dims, energy, maxExactSnapshots = 20000 } = options;
  if (mode !== 'gram' && mode !== 'exact') problems.push(`mode must be 'gram' or 'exact'; got ${JSON.stringify(mode)}`);
  if (rank !== undefined && !(typeof rank === 'number' && Number.isInteger(rank) && rank >= 1)) {
    problems.push(`rank must be a positive integer; got ${JSON.stringify(rank)}`);
  }
  if (dims !== undefined && dims !== 'auto' && dims !== 'full') problems.push(`dims must be 'auto' or 'full'; got ${JSON.stringify(dims)}`);
  if (energy !== undefined && !(typeof energy === 'number' && energy > 0 && energy <= 1)) {
    problems.push(`energy must be a number in (0, 1]; got ${JSON.stringify(energy)}`);
  }
  if (!(typeof maxExactSnapshots === 'number' && Number.isInteger(maxExactSnapshots) && maxExactSnapshots >= 1)) {
    problems.push(`maxExactSnapshots must be a positive integer; got ${JSON.stringify(maxExactSnapshots)}`);
  }
  if (rank !== undefined && (dims === 'auto' || energy !== undefined)) {
    problems.push(`give either rank or dims: 'auto' with energy, not both`);
  }
  if (rank !== undefined && dims === 'full') problems.push(`dims: 'full' keeps every vector; it cannot go with rank`);
  if (problems.length) {
    throw new OdemorError('CONFIG', `snapshotter 'stream': ${problems.length === 1 ? problems[0] : '\n  - ' + problems.join('\n  - ')}`);
  }
  return {
    mode: mode as 'gram' | 'exact',
    rank: rank as number | undefined,
    dims: dims === 'auto' || energy !== undefined ? 'auto' : 'full',
    energy: (energy as number | undefined) ?? 0.9999,
    maxExactSnapshots: maxExactSnapshots as number,
  };
}

/** First non-finite entry of a row-major [rows, n] array (n its width), or undefined. */
function findNonFinite(data: Float32Array | Float64Array, n: number): { row: number; col: number; value: number } | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) return { row: Math.floor(i / n), col: i % n, value: v };
  }
  return undefined;
}

/** Streaming snapshotter: Gram-matrix POD (or exact SVD) of states and nonlinear snapshots. */
export class StreamSnapshotter implements Snapshotter {
  readonly name = 'stream';
  readonly options: Readonly<Resolved>;
  /** in gram mode, natively computed batch Grams (`SnapshotBatch.gram`) are all it needs */
  get prefersGram(): boolean {
    return this.options.mode === 'gram';
  }
  private n = 0;
  /** width of the nonlinear snapshots: fixed by `begin(n, nonlinearDim)` or by the first batch */
  private w: number | undefined;
  private started = false;
  private batches = 0;
  private snapshots = 0;
  private samples = 0;
  private stateGram: GramAccumulator | undefined;
  private nonlinearGram: GramAccumulator | undefined;
  private stateRows: Float32Array[] = [];
  private nonlinearRows: Float32Array[] = [];
  private absSum = new Float64Array(0);
  private zeroCount = new Float64Array(0);
  private hiddenAbsSum = new Float64Array(0);
  private hiddenZeroCount = new Float64Array(0);
  /** false once a batch with snapshot rows carried neither the rows nor `hidden` sums */
  private hiddenComplete = true;
  /** partials merged since `begin` (for messages) */
  private merged = 0;

  constructor(options: StreamSnapshotterOptions | Record<string, unknown> = {}) {
    this.options = Object.freeze(resolveOptions(options as Record<string, unknown>));
  }

  /**
   * Start a pass over data with ODE dimension n; drops anything collected before. `nonlinearDim` is the width
   * of the nonlinear snapshots (an mlp block: its hidden units m); without it the first batch's
   * `nonlinearDim` (default n) fixes it.
   */
  begin(n: number, nonlinearDim?: number): void {
    if (!Number.isInteger(n) || n < 1) throw new OdemorError('ARGUMENT', `snapshotter 'stream': begin(n) needs a positive integer n; got ${n}`);
    if (nonlinearDim !== undefined && !(Number.isInteger(nonlinearDim) && nonlinearDim >= 1)) {
      throw new OdemorError('ARGUMENT', `snapshotter 'stream': begin(n, nonlinearDim) needs a positive integer nonlinearDim; got ${nonlinearDim}`);
    }
    this.n = n;
    this.started = true;
    this.batches = 0;
    this.snapshots = 0;
    this.samples = 0;
    this.stateRows = [];
    this.nonlinearRows = [];
    this.stateGram = this.options.mode === 'gram' ? new GramAccumulator(n) : undefined;
    this.nonlinearGram = undefined;
    this.absSum = new Float64Array(n);
    this.zeroCount = new Float64Array(n);
    this.hiddenComplete = true;
    this.merged = 0;
    this.w = undefined;
    if (nonlinearDim !== undefined) this.setWidth(nonlinearDim);
  }

  /** Fix the width of the nonlinear snapshots (once per pass). */
  private setWidth(w: number): void {
    this.w = w;
    this.nonlinearGram = this.options.mode === 'gram' ? new GramAccumulator(w) : undefined;
    this.hiddenAbsSum = new Float64Array(w);
    this.hiddenZeroCount = new Float64Array(w);
  }

  /** Add one batch. The batch is fully validated before anything is accumulated. */
  consume(batch: SnapshotBatch): void {
    if (!this.started) throw new OdemorError('ARGUMENT', `snapshotter 'stream': call begin(n) before consume()`);
    const index = this.batches;
    const n = this.n;
    const where = `snapshot batch ${index}`;
    if (batch.n !== n) throw new OdemorError('SHAPE', `${where} has n = ${batch.n}, but begin() was called with n = ${n}`);
    const bw = batch.nonlinearDim ?? n;
    if (!(Number.isInteger(bw) && bw >= 1)) throw new OdemorError('SHAPE', `${where}: nonlinearDim must be a positive integer; got ${bw}`);
    if (this.w !== undefined && bw !== this.w) {
      throw new OdemorError('SHAPE', `${where} has nonlinear snapshots of width nonlinearDim = ${bw}, but the pass has nonlinearDim = ${this.w}` +
        `${batch.nonlinearDim === undefined ? ' (absent means n)' : ''}`);
    }
    const w = bw;
    const { count, samples } = batch;
    if (!Number.isInteger(count) || count < 0) throw new OdemorError('SHAPE', `${where}: count must be a non-negative integer; got ${count}`);
    if (!Number.isInteger(samples) || samples < 0) throw new OdemorError('SHAPE', `${where}: samples must be a non-negative integer; got ${samples}`);
    const gram = batch.gram;
    if (gram && this.options.mode === 'exact' && count > 0 && batch.states.length === 0) {
      throw new OdemorError('ARGUMENT', `${where}: exact mode needs the raw snapshot rows, but the batch carries only Gram matrices`);
    }
    // [key, data, rows, width]
    const checks: (readonly [string, Float32Array | Float64Array, number, number])[] = [['final', batch.final, samples, n]];
    // with native Grams the raw rows may be absent
    const rowsGiven = !gram || batch.states.length > 0;
    if (rowsGiven) checks.push(['states', batch.states, count, n], ['nonlinear', batch.nonlinear, count, w]);
    if (gram && this.options.mode === 'gram') checks.push(['gram.states', gram.states, n, n], ['gram.nonlinear', gram.nonlinear, w, w]);
    const hs = batch.hidden;
    if (hs) checks.push(['hidden.absSum', hs.absSum, 1, w], ['hidden.zeroCount', hs.zeroCount, 1, w]);
    for (const [key, arr, rows, width] of checks) {
      if (arr.length !== rows * width) {
        throw new OdemorError('SHAPE', `${where}: ${key} has ${arr.length} values; expected [${rows}, ${width}] = ${rows * width}`);
      }
      const bad = findNonFinite(arr, width);
      if (bad) {
        throw new OdemorError(
          'NUMERIC',
          `${where}: ${key} contains ${Number.isNaN(bad.value) ? 'NaN' : 'an infinite value'} at row ${bad.row}, ${key.startsWith('hidden') ? 'unit' : 'neuron'} ${bad.col}`,
        );
      }
    }
    if (this.options.mode === 'exact' && this.snapshots + count > this.options.maxExactSnapshots) {
      throw new OdemorError(
        'ARGUMENT',
        `${where}: exact mode keeps every snapshot and would hold ${this.snapshots + count} > maxExactSnapshots = ` +
          `${this.options.maxExactSnapshots}; use mode: gram (memory O(n²)) or raise maxExactSnapshots`,
      );
    }

    if (this.w === undefined) this.setWidth(w);
    if (count > 0) {
      if (this.options.mode === 'gram' && gram) {
        this.stateGram!.addGram(gram.states, count);
        this.nonlinearGram!.addGram(gram.nonlinear, count);
      } else if (this.options.mode === 'gram') {
        this.stateGram!.add(batch.states, count);
        this.nonlinearGram!.add(batch.nonlinear, count);
      } else {
        this.stateRows.push(batch.states.slice());
        this.nonlinearRows.push(batch.nonlinear.slice());
      }
    }
    if (count > 0) {
      const hAbs = this.hiddenAbsSum;
      const hZero = this.hiddenZeroCount;
      if (hs) {
        for (let i = 0; i < w; i++) {
          hAbs[i] += hs.absSum[i]!;
          hZero[i] += hs.zeroCount[i]!;
        }
      } else if (rowsGiven) {
        const rows = batch.nonlinear;
        for (let r = 0; r < count; r++) {
          const off = r * w;
          for (let i = 0; i < w; i++) {
            const a = Math.abs(rows[off + i]!);
            hAbs[i] += a;
            if (a < ZERO_THRESHOLD) hZero[i] += 1;
          }
        }
      } else this.hiddenComplete = false;
    }
    const absSum = this.absSum;
    const zeroCount = this.zeroCount;
    const final = batch.final;
    for (let s = 0; s < samples; s++) {
      const off = s * n;
      for (let c = 0; c < n; c++) {
        const a = Math.abs(final[off + c]!);
        absSum[c] += a;
        if (a < ZERO_THRESHOLD) zeroCount[c] += 1;
      }
    }
    this.snapshots += count;
    this.samples += samples;
    this.batches++;
  }

  /**
   * What this pass accumulated since `begin`, as plain data (see {@link StreamSnapshotter.merge}): in gram mode
   * the two float64 Gram matrices (full, symmetric), in exact mode the raw float32 rows; the counts and the
   * per-unit sums of both modes.
   */
  partial(): SnapshotPartial {
    if (!this.started) throw new OdemorError('ARGUMENT', `snapshotter 'stream': partial() called before begin(n)`);
    const concat = (chunks: Float32Array[]) => {
      const out = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
      let off = 0;
      for (const c of chunks) {
        out.set(c, off);
        off += c.length;
      }
      return out;
    };
    const arrays: SnapshotPartial['arrays'] = { absSum: this.absSum.slice(), zeroCount: this.zeroCount.slice() };
    if (this.w !== undefined) {
      arrays.hiddenAbsSum = this.hiddenAbsSum.slice();
      arrays.hiddenZeroCount = this.hiddenZeroCount.slice();
    }
    if (this.options.mode === 'gram') {
      arrays.stateGram = this.stateGram!.gram();
      if (this.nonlinearGram) arrays.nonlinearGram = this.nonlinearGram.gram();
    } else {
      arrays.stateRows = concat(this.stateRows);
      arrays.nonlinearRows = concat(this.nonlinearRows);
    }
    return {
      snapshotter: this.name,
      meta: { mode: this.options.mode, n: this.n, w: this.w ?? null, batches: this.batches, snapshots: this.snapshots, samples: this.samples, hiddenComplete: this.hiddenComplete },
      arrays,
    };
  }

  /**
   * Add the {@link StreamSnapshotter.partial} of a pass over another slice of the same data (after `begin`, same
   * n and mode): the Gram matrices and per-unit sums add in float64, exact mode's rows are appended, the counts
   * add. Merging the shards in order gives one pass's result up to the rounding of the sums' order.
   *
   * @throws OdemorError `ARGUMENT` for a partial of another snapshotter or mode, `SHAPE` for another n or
   *   nonlinear width or arrays of the wrong length
   */
  merge(p: SnapshotPartial): void {
    if (!this.started) throw new OdemorError('ARGUMENT', `snapshotter 'stream': call begin(n) before merge()`);
    const where = `snapshot shard (partial ${this.merged})`;
    if (p.snapshotter !== this.name) throw new OdemorError('ARGUMENT', `snapshotter 'stream': ${where} was written by snapshotter '${p.snapshotter}'`);
    const m = p.meta;
    if (m.mode !== this.options.mode) throw new OdemorError('ARGUMENT', `snapshotter 'stream': ${where} was taken in mode '${String(m.mode)}', this pass is in mode '${this.options.mode}'`);
    if (m.n !== this.n) throw new OdemorError('SHAPE', `snapshotter 'stream': ${where} has n = ${String(m.n)}, but begin() was called with n = ${this.n}`);
    const counts = ['batches', 'snapshots', 'samples'] as const;
    for (const k of counts) {
      if (!(typeof m[k] === 'number' && Number.isInteger(m[k]) && (m[k] as number) >= 0)) throw new OdemorError('SHAPE', `snapshotter 'stream': ${where}: ${k} must be a non-negative integer; got ${String(m[k])}`);
    }
    const w = m.w;
    if (w !== null) {
      if (!(typeof w === 'number' && Number.isInteger(w) && w >= 1)) throw new OdemorError('SHAPE', `snapshotter 'stream': ${where}: w must be a positive integer or null; got ${String(w)}`);
      if (this.w !== undefined && this.w !== w) throw new OdemorError('SHAPE', `snapshotter 'stream': ${where} has nonlinear snapshots of width ${w}, but the pass has nonlinearDim = ${this.w}`);
    }
    const n = this.n;
    const a = p.arrays;
    const need = (key: string, length: number): Float64Array | Float32Array => {
      const arr = a[key];
      if (!arr || arr.length !== length) throw new OdemorError('SHAPE', `snapshotter 'stream': ${where}: ${key} has ${arr?.length ?? 'no'} values; expected ${length}`);
      return arr;
    };
    const snapshots = m.snapshots as number;
    const checked: [Float64Array, Float64Array | Float32Array][] = [
      [this.absSum, need('absSum', n)],
      [this.zeroCount, need('zeroCount', n)],
    ];
    let stateGram: Float64Array | Float32Array | undefined;
    let nonlinearGram: Float64Array | Float32Array | undefined;
    let stateRows: Float32Array | undefined;
    let nonlinearRows: Float32Array | undefined;
    if (typeof w === 'number') {
      if (this.options.mode === 'gram') {
        stateGram = need('stateGram', n * n);
        nonlinearGram = need('nonlinearGram', w * w);
      } else {
        stateRows = Float32Array.from(need('stateRows', snapshots * n));
        nonlinearRows = Float32Array.from(need('nonlinearRows', snapshots * w));
        if (this.snapshots + snapshots > this.options.maxExactSnapshots) {
          throw new OdemorError('ARGUMENT', `snapshotter 'stream': exact mode would hold ${this.snapshots + snapshots} > maxExactSnapshots = ${this.options.maxExactSnapshots} snapshots; use mode: gram or raise maxExactSnapshots`);
        }
      }
    }
    const hidden = typeof w === 'number' ? [need('hiddenAbsSum', w), need('hiddenZeroCount', w)] : undefined;
    // everything checked: now accumulate (the width is fixed only by a partial that saw nonlinear rows)
    if (typeof w === 'number' && this.w === undefined) this.setWidth(w);
    if (hidden) checked.push([this.hiddenAbsSum, hidden[0]!], [this.hiddenZeroCount, hidden[1]!]);
    for (const [into, from] of checked) for (let i = 0; i < into.length; i++) into[i] += from[i]!;
    if (stateGram && nonlinearGram) {
      this.stateGram!.addGram(stateGram, snapshots);
      this.nonlinearGram!.addGram(nonlinearGram, snapshots);
    }
    if (stateRows && nonlinearRows && snapshots > 0) {
      this.stateRows.push(stateRows);
      this.nonlinearRows.push(nonlinearRows);
    }
    this.snapshots += snapshots;
    this.samples += m.samples as number;
    this.batches += m.batches as number;
    if (m.hiddenComplete === false) this.hiddenComplete = false;
    this.merged++;
  }

  /** Bytes held for accumulation now (Gram matrices or stored snapshots, plus statistics). */
  get retainedBytes(): number {
    const size = (d: number) => {
      const d4 = Math.ceil(d / 4) * 4;
      return d4 * d4 * 8 + d4 * 256 * 8;
    };
    const gram = (this.stateGram ? size(this.n) : 0) + (this.nonlinearGram ? size(this.w ?? this.n) : 0);
    const rows = [...this.stateRows, ...this.nonlinearRows].reduce((acc, a) => acc + a.byteLength, 0);
    const stats = this.absSum.byteLength + this.zeroCount.byteLength + this.hiddenAbsSum.byteLength + this.hiddenZeroCount.byteLength;
    return gram + rows + stats;
  }

  /**
   * The POD bases (all singular values listed), the final-state statistics and (when every snapshot row was
   * seen, or its sums were given) the per-unit statistics of the nonlinear snapshots of everything consumed.
   */
  finish(): SnapshotSet {
    if (!this.started) throw new OdemorError('ARGUMENT', `snapshotter 'stream': finish() called before begin(n)`);
    const n = this.n;
    if (this.snapshots === 0) {
      throw new OdemorError(
        'DATA',
        `snapshotter 'stream': no snapshots to build a basis from (${this.batches} batches, ${this.samples} samples consumed); ` +
          'check that the snapshot pass ran over at least one sample and that every accepted step is not skipped',
      );
    }
    if (this.samples === 0) {
      throw new OdemorError('DATA', `snapshotter 'stream': no final states were consumed (${this.snapshots} snapshots, 0 samples)`);
    }
    const w = this.w ?? n;
    const availableStates = Math.min(n, this.snapshots);
    const availableNonlinear = Math.min(w, this.snapshots);
    // `rank` is an error only when neither basis can have that many vectors (with w = n: when both cannot, as
    // before); a basis of the other width keeps what it has (an mlp block's n states next to m hidden units)
    const rankLimit = this.options.rank !== undefined && this.options.rank > Math.min(availableStates, availableNonlinear) && this.options.rank <= Math.max(availableStates, availableNonlinear);
    const podStates = () => this.pod('states', this.stateGram, this.stateRows, n, availableStates, rankLimit);
    const podNonlinear = () => this.pod('nonlinear', this.nonlinearGram, this.nonlinearRows, w, availableNonlinear, rankLimit);
    // a `rank` too large for both: the error names the wider basis (the states first when they are as wide)
    let states: PodResult;
    let nonlinear: PodResult;
    if (availableNonlinear > availableStates) {
      nonlinear = podNonlinear();
      states = podStates();
    } else {
      states = podStates();
      nonlinear = podNonlinear();
    }
    const meanAbs = new Float64Array(n);
    const zeroFraction = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      meanAbs[c] = this.absSum[c]! / this.samples;
      zeroFraction[c] = this.zeroCount[c]! / this.samples;
    }
    const set: SnapshotSet = {
      n,
      nonlinearDim: w,
      stateBasis: states.basis,
      stateSingularValues: states.singularValues,
      nonlinearBasis: nonlinear.basis,
      nonlinearSingularValues: nonlinear.singularValues,
      snapshots: this.snapshots,
      samples: this.samples,
      final: { meanAbs, zeroFraction },
    };
    if (this.hiddenComplete) {
      set.hidden = {
        meanAbs: Float64Array.from(this.hiddenAbsSum, (a) => a / this.snapshots),
        zeroFraction: Float64Array.from(this.hiddenZeroCount, (z) => z / this.snapshots),
      };
    }
    return set;
  }

  /**
   * POD of one kind of snapshot of width `n`. `capRank`: the requested `rank` exceeds this basis's
   * `available` vectors only because its width is smaller than the other basis's; keep `available`.
   */
  private pod(what: string, gram: GramAccumulator | undefined, rows: Float32Array[], n: number, available: number, capRank: boolean): PodResult {
    let full: PodResult;
    if (gram) {
      full = podFromGram(gram.gram(), n);
      full.singularValues = full.singularValues.slice(0, available);
    } else {
      const X = new Matrix(n, this.snapshots);
      let j = 0;
      for (const chunk of rows) {
        const count = chunk.length / n;
        for (let r = 0; r < count; r++, j++) for (let i = 0; i < n; i++) X.set(i, j, chunk[r * n + i]!);
      }
      full = podExact(X);
    }
    const sv = full.singularValues;
    if (!(sv[0]! > 0)) throw new OdemorError('NUMERIC', `snapshotter 'stream': all ${what} snapshots are zero; there is no basis to build`);
    let r: number;
    if (this.options.rank !== undefined) {
      r = capRank ? Math.min(this.options.rank, available) : this.options.rank;
      if (r > available) {
        throw new OdemorError(
          'REDUCER',
          `snapshotter 'stream': rank ${r} requested but the ${what} snapshots give only ${available} basis vectors ` +
            `(${n === this.n ? 'n' : 'nonlinearDim'} = ${n}, ${this.snapshots} snapshots)`,
        );
      }
    } else if (this.options.dims === 'auto') {
      r = Math.max(1, rankByEnergy(sv, this.options.energy));
    } else {
      r = available;
    }
    const basis = full.basis.columns === r ? full.basis : full.basis.subMatrix(0, n - 1, 0, r - 1);
    return { basis, singularValues: sv };
  }
}

const plugin: OdemorPlugin = {
  name: PLUGIN_NAME,
  register(ctx) {
    ctx.provide(
      'Snapshotter',
      'stream',
      (options) => new StreamSnapshotter(options ?? {}),
      { description: 'streaming POD of states and nonlinear snapshots (Gram matrix, O(n²) memory; or exact SVD)', options: streamOptionsSchema },
    );
  },
};

export default plugin;

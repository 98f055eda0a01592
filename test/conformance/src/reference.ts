/**
 * A plain-JS float64 reference forward pass of a model IR, written independently of every runtime's layers and
 * blocks: per-sample loops, direct convolutions; the explicit Runge–Kutta integration is core's one driver
 * (`solveWith`) over the float64 algebra, as every runtime's is (`ceil((t1 − t0)/dt − 1e-9)` steps, the last
 * one shortened to land on t1). It runs every block kind (dense, convolutional, antisymmetric full blocks,
 * with or without an input u(t)), the unified reduced form (E, M dense or factored, c, N, Zr, Zin inside σ, bias,
 * D) and mlp blocks (x' = N σ(M x + c + Zin u) + bias); tensor, sequence and state inputs (with an input signal
 * passed as `inputs.u`); trajectory readouts (the states at every readout time, integrated segment by segment);
 * and the layers `dense`, `conv2d`, `relu`, `tanh`, `maxpool2d`, `flatten`, `scatter`. The runtime conformance suite
 * ({@link runtimeConformance}) compares runtimes against it; runtime packages use it in their own tests.
 *
 * Conventions it fixes (docs/architecture.md, "Model IR"): images and conv states are NHWC; a sequence input
 * `[steps, features]` is fed as `u(t) = seq[j]` for `t ∈ [t0 + j·d, t0 + (j+1)·d)` (clamped) and the block starts
 * from `x(0) = 0`; a state input is the block's initial state and its signal `u` [batch, steps, channels] is fed
 * the same way; a trajectory readout integrates [t0, times[0]], [times[0], times[1]], … in turn (core's driver per
 * segment, the last step of each shortened) and outputs the block's output (D z for a reduced block) at each time,
 * `[T, size]` per sample; sampled snapshot rows are ordered step-major (row `s·batch + i` is sample `i` at the
 * `s`-th sampled step).
 */
import { ExplicitRungeKuttaSolver, OdemorError, float64Algebra, sequenceIndex, solveWith } from '@odemor/core';
import { EULER_TABLEAU } from '@odemor/solver-euler';
import { RK4_TABLEAU } from '@odemor/solver-rk4';
import { DOPRI5_TABLEAU } from '@odemor/solver-dopri5';
import type { Activation, ButcherTableau, Layer, LinearMap, MlpBlock, ModelIR, OdeBlock, ReducedBlock, Tensor32 } from '@odemor/core';

/**
 * The Butcher tableaux the kit integrates with, from the solver plugins themselves (a Solver is its tableau;
 * there is one copy of each): explicit Euler, classical RK4, and the Dormand–Prince 5(4) pair for adaptive
 * runtimes.
 */
export const REFERENCE_TABLEAUX: Readonly<Record<'euler' | 'rk4' | 'dopri5', ButcherTableau>> = Object.freeze({
  euler: EULER_TABLEAU,
  rk4: RK4_TABLEAU,
  dopri5: DOPRI5_TABLEAU,
});

/** A per-sample value: logical shape (images [h, w, c]) and row-major data. */
interface V {
  shape: number[];
  data: Float64Array;
}

/** What {@link referenceForward} returns, all float64. */
export interface ReferenceResult {
  /** [batch, outputs] */
  logits: Float64Array;
  /** per sampled step (every `every`-th step), the states [batch, n] (full blocks only) */
  states: Float64Array[];
  /** per sampled step, σ(A x + b) [batch, n] */
  nonlinear: Float64Array[];
  /** block state at the end [batch, n] */
  final: Float64Array;
}

const act = (a: Activation, v: number): number =>
  a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : a === 'softplus' ? Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0) : v;

/** y = W x for W stored [rows, cols]. */
function matvec(W: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

function pad1(size: number, k: number, stride: number, mode: 'same' | 'valid'): [number, number] {
  if (mode === 'valid') return [Math.floor((size - k) / stride) + 1, 0];
  const out = Math.ceil(size / stride);
  return [out, Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2)];
}

/** Direct NHWC convolution (cross-correlation), kernel [kh, kw, ci, co]. */
function conv(x: V, kernel: Tensor32, stride: number, mode: 'same' | 'valid', bias?: Tensor32): V {
  const [h, w, ci] = x.shape as [number, number, number];
  const [kh, kw, , co] = kernel.shape as [number, number, number, number];
  const [oh, pt] = pad1(h, kh, stride, mode);
  const [ow, pl] = pad1(w, kw, stride, mode);
  const out = new Float64Array(oh * ow * co);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let o = 0; o < co; o++) {
        let s = bias ? bias.data[o]! : 0;
        for (let dy = 0; dy < kh; dy++)
          for (let dx = 0; dx < kw; dx++) {
            const iy = y * stride + dy - pt;
            const ix = xx * stride + dx - pl;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let i = 0; i < ci; i++) s += kernel.data[((dy * kw + dx) * ci + i) * co + o]! * x.data[(iy * w + ix) * ci + i]!;
          }
        out[(y * ow + xx) * co + o] = s;
      }
  return { shape: [oh, ow, co], data: out };
}

function maxpool(x: V, size: number, stride: number, mode: 'same' | 'valid'): V {
  const [h, w, c] = x.shape as [number, number, number];
  const [oh, pt] = pad1(h, size, stride, mode);
  const [ow, pl] = pad1(w, size, stride, mode);
  const out = new Float64Array(oh * ow * c);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let ch = 0; ch < c; ch++) {
        let m = -Infinity;
        for (let dy = 0; dy < size; dy++)
          for (let dx = 0; dx < size; dx++) {
            const iy = y * stride + dy - pt;
            const ix = xx * stride + dx - pl;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.max(m, x.data[(iy * w + ix) * c + ch]!);
          }
        out[(y * ow + xx) * c + ch] = m;
      }
  return { shape: [oh, ow, c], data: out };
}

function layer(x: V, l: Layer): V {
  switch (l.type) {
    case 'dense': {
      const [o, i] = l.weight.shape as [number, number];
      const y = matvec(l.weight.data, o, i, x.data);
      if (l.bias) for (let r = 0; r < o; r++) y[r]! += l.bias.data[r]!;
      return { shape: [o], data: y };
    }
    case 'conv2d':
      return conv(x, l.kernel, l.stride, l.padding, l.bias);
    case 'relu':
      return { shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
    case 'tanh':
      return { shape: x.shape, data: x.data.map(Math.tanh) };
    case 'maxpool2d':
      return maxpool(x, l.size, l.stride, l.padding);
    case 'flatten':
      return { shape: [x.data.length], data: x.data };
    case 'scatter': {
      const y = new Float64Array(l.size);
      l.indices.forEach((idx, i) => (y[idx] = x.data[i]!));
      return { shape: [l.size], data: y };
    }
  }
}

function applyMap(map: LinearMap, x: Float64Array, rows: number, cols: number): Float64Array {
  switch (map.type) {
    case 'identity':
      return x.slice();
    case 'dense':
      return matvec(map.weight.data, rows, cols, x);
    case 'select':
      return Float64Array.from(map.indices, (i) => x[i]!);
    case 'scatter': {
      const y = new Float64Array(map.to);
      map.indices.forEach((idx, i) => (y[idx] = x[i]!));
      return y;
    }
  }
}

/** A x for the full block's matrix. */
function blockLinear(block: OdeBlock, x: Float64Array): Float64Array {
  const A = block.A;
  const n = block.n;
  if (A.type === 'dense') return matvec(A.weight.data, n, n, x);
  if (A.type === 'antisymmetric') {
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s = -A.gamma * x[r]!;
      for (let c = 0; c < n; c++) s += (A.weight.data[r * n + c]! - A.weight.data[c * n + r]!) * x[c]!;
      y[r] = s;
    }
    return y;
  }
  return conv({ shape: [A.height, A.width, A.channels], data: x }, A.kernel, 1, 'same').data;
}

/** The nonlinear term σ(A x + b) of a full block at the state `x` (float64). */
export function referenceNonlinear(block: OdeBlock, x: Float64Array): Float64Array {
  const y = blockLinear(block, x);
  for (let i = 0; i < block.n; i++) y[i] = act(block.activation, y[i]! + block.b.data[i]!);
  return y;
}

/** `y += W u` for W stored [y.length, u.length]. */
function addInput(y: Float64Array, W: Tensor32, u: Float64Array): void {
  const wu = matvec(W.data, y.length, u.length, u);
  for (let i = 0; i < y.length; i++) y[i]! += wu[i]!;
}

/** N σ(M z + c + Zin u) + Zr u + bias of the unified reduced form (`u` undefined: no input). */
function rhsReduced(block: ReducedBlock, z: Float64Array, u: Float64Array | undefined): Float64Array {
  let inner: Float64Array;
  if (block.M.type === 'dense') inner = matvec(block.M.weight.data, block.m, block.k, z);
  else {
    const r = block.M.left.shape[1]!;
    inner = matvec(block.M.left.data, block.m, r, matvec(block.M.right.data, r, block.k, z));
  }
  for (let i = 0; i < block.m; i++) inner[i]! += block.c.data[i]!;
  if (block.Zin && u) addInput(inner, block.Zin, u);
  for (let i = 0; i < block.m; i++) inner[i] = act(block.activation, inner[i]!);
  const r = block.N.type === 'identity' ? inner : matvec(block.N.weight.data, block.k, block.m, inner);
  if (block.Zr && u) addInput(r, block.Zr, u);
  if (block.bias) for (let i = 0; i < block.k; i++) r[i]! += block.bias.data[i]!;
  return r;
}

/** N σ(M x + c + Zin u) + bias of an mlp block. */
function rhsMlp(block: MlpBlock, x: Float64Array, u: Float64Array | undefined): Float64Array {
  const { n, m } = block;
  const inner = matvec(block.M.data, m, n, x);
  for (let i = 0; i < m; i++) inner[i]! += block.c.data[i]!;
  if (block.Zin && u) addInput(inner, block.Zin, u);
  for (let i = 0; i < m; i++) inner[i] = act(block.activation, inner[i]!);
  const r = matvec(block.N.data, n, m, inner);
  for (let i = 0; i < n; i++) r[i]! += block.bias.data[i]!;
  return r;
}

/** Inputs of {@link referenceForward} besides `x`. */
export interface ReferenceInputs {
  /** the input signal [batch, steps, channels] of a model with input kind 'state' and a signal */
  u?: Float32Array;
}

/**
 * Run the model on `x` [batch, ...inputShape] in float64 with the explicit RK method `tableau` (its `b` weights;
 * `bHat` is ignored) and fixed steps of `model.solver.dt`. With `every > 0` and a full block without a readout,
 * also sample the states and nonlinear terms after every `every`-th step. `inputs.u` is the input signal of a
 * state input with a signal ([batch, steps, channels]; an ARGUMENT error when it is missing or has another length).
 * A trajectory model's `logits` are its states at the readout times, [batch, T·size].
 */
export function referenceForward(model: ModelIR, x: Float32Array, batch: number, tableau: ButcherTableau, every = 0, inputs: ReferenceInputs = {}): ReferenceResult {
  const per = x.length / batch;
  const { t0, t1, dt } = model.solver;
  const solver = new ExplicitRungeKuttaSolver('reference', tableau, false);
  const block = model.block;
  if (model.midpoint) throw new OdemorError('MODEL', 'referenceForward: midpoint networks (Taylor-Lagrange) are not supported');
  const inp = model.input;
  const signal = inp.kind === 'state' ? inp.signal : undefined;
  if (signal) {
    const need = batch * signal.steps * signal.channels;
    if (!inputs.u || inputs.u.length !== need) {
      throw new OdemorError('ARGUMENT', `referenceForward: the model reads an input signal; inputs.u must have batch ${batch} × ${signal.steps} × ${signal.channels} = ${need} values, got ${inputs.u ? inputs.u.length : 'none'}`);
    }
  }
  const n = block.n;
  // segment ends: the readout times, or t1
  const ends = model.readout ? model.readout.times : [t1];
  const logitsAll: number[] = [];
  const states: number[][] = [];
  const nonlinear: number[][] = [];
  const final: number[] = [];
  for (let bi = 0; bi < batch; bi++) {
    const sample = Float64Array.from(x.subarray(bi * per, (bi + 1) * per));
    let v: V;
    let u: ((t: number) => Float64Array) | undefined;
    if (inp.kind === 'sequence') {
      const { steps: L, features: p, stepDuration } = inp;
      v = { shape: [n], data: new Float64Array(n) };
      u = (t) => {
        const j = sequenceIndex(t, t0, stepDuration, L);
        return sample.slice(j * p, (j + 1) * p);
      };
    } else if (inp.kind === 'state') {
      v = { shape: [inp.size], data: sample };
      if (signal) {
        const { steps: L, channels: p, stepDuration } = signal;
        const own = Float64Array.from(inputs.u!.subarray(bi * L * p, (bi + 1) * L * p));
        u = (t) => {
          const j = sequenceIndex(t, t0, stepDuration, L);
          return own.slice(j * p, (j + 1) * p);
        };
      }
    } else {
      v = { shape: inp.shape, data: sample };
      for (const l of model.pre) v = layer(v, l);
    }
    const entryShape = v.shape;
    // state, right-hand side and the block's output from a state
    let y: Float64Array;
    let f: (t: number, y: Float64Array) => Float64Array;
    let output: (y: Float64Array) => Float64Array;
    if (block.kind === 'ode') {
      y = v.data.slice();
      f = (t, s) => {
        const r = referenceNonlinear(block, s);
        if (block.Z && u) addInput(r, block.Z, u(t));
        return r;
      };
      output = (s) => s;
    } else if (block.kind === 'mlp') {
      y = v.data.slice();
      f = (t, s) => rhsMlp(block, s, u?.(t));
      output = (s) => s;
    } else {
      y = applyMap(block.E, v.data, block.k, n);
      f = (t, s) => rhsReduced(block, s, u?.(t));
      output = (s) => applyMap(block.D, s, n, block.k);
    }
    // integrated by core's one driver over the float64 algebra (the same step count, last-step shortening and
    // stage times as every runtime), segment by segment for a readout; what is independent here is the
    // right-hand side
    const sampled = every > 0 && block.kind === 'ode' && !model.readout;
    const outs: Float64Array[] = [];
    let from = t0;
    for (const end of ends) {
      y = solveWith(float64Algebra, solver, (t, s) => f(t, s), y, {
        t0: from,
        t1: end,
        dt,
        ...(sampled
          ? {
              onStep: (_t: number, _h: number, index: number, state: Float64Array) => {
                if ((index + 1) % every !== 0) return;
                const sIdx = (index + 1) / every - 1;
                (states[sIdx] ??= []).push(...state);
                (nonlinear[sIdx] ??= []).push(...referenceNonlinear(block as OdeBlock, state));
              },
            }
          : {}),
      }).y;
      outs.push(output(y));
      from = end;
    }
    if (block.kind !== 'reduced') final.push(...y);
    if (model.readout) {
      for (const o of outs) logitsAll.push(...o);
      continue;
    }
    const xEnd = outs[0]!;
    let out: V = { shape: xEnd.length === n && entryShape.reduce((p, d) => p * d, 1) === n ? entryShape : [xEnd.length], data: xEnd };
    for (const l of model.post) out = layer(out, l);
    logitsAll.push(...out.data);
  }
  return {
    logits: Float64Array.from(logitsAll),
    states: states.map((s) => Float64Array.from(s)),
    nonlinear: nonlinear.map((s) => Float64Array.from(s)),
    final: Float64Array.from(final),
  };
}

/** max |a − b| over two equally long arrays (fails loudly on a length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

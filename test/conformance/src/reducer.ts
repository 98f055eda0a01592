/**
 * Conformance suite for odemor `Reducer` implementations, in the style of keyv's `@keyv/test-suite`:
 * a package's own test file is two lines,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { reducerConformance } from '@odemor/conformance';
 * import { DeimReducer } from '../src/index.js';
 * reducerConformance(it, () => new DeimReducer());
 * ```
 *
 * The suite never imports a global `expect`: every test uses the test context's. It builds its own
 * synthetic fixtures (n = 24, tanh blocks with an input u(t), a dense layer before and after the block),
 * integrates them with the core's plain float64 RK4 reference ({@link simulateModel}), takes the POD of
 * the sampled states and nonlinear terms with `podExact` and assembles the `SnapshotSet` itself:
 *
 * - **generic**: a random dense A; the snapshot bases have full rank n, so every method must be exact at
 *   k = n (with all points);
 * - **structured**: the dynamics live on a 4-dimensional subspace spanned by ±1 patterns on 4 disjoint
 *   groups of 3 neurons (12 active neurons, 12 idle). tanh maps that subspace into itself, so the states
 *   and the nonlinear terms have rank 4 exactly, A = Q Λ Qᵀ has rank 4, and only 12 neurons ever move:
 *   POD-interpolation methods and SVD truncation are exact at k = 4, neuron pruning at k = 12.
 *
 * Tests switch on and off with the flags in {@link ReducerCapabilities} (all on by default) and with the
 * capabilities the reducer itself declares (`reducer.capabilities`, read from a `factory()` instance as
 * abstract-level's suite reads `supports`, so a test file cannot claim what the code does not do):
 * `points` runs the m ≠ k tests, `oversampling` the m > k ones, and a reducer without `points` must
 * reject an m ≠ k request. Accuracy thresholds sit well above float32 round-off (weights are stored as float32).
 *
 * **mlp blocks** (`supports.mlp`, on by default; `./reducer-mlp.ts`): on an mlp block `x' = N σ(M x + c + Zin u)
 * + bias` with n = 3 states and m = 40 hidden tanh units, with and without an input Zin, the reducer acts on
 * the hidden layer: every reduction has E = D = I_n and k = n, the shapes and costs agree, the full model is
 * reproduced at r = m (or at `mlpMaxRank`, SVD truncation's min(m, n) − 1, on a fixture whose M has that
 * rank), the error falls as r grows on a decaying hidden spectrum, and r out of range is a clear error.
 */
import { describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import {
  Matrix,
  OdemorError,
  applyLayer,
  blockCost,
  denseA,
  mulberry32,
  podExact,
  simulateBlock,
  simulateModel,
  toMatrix,
  type Layer,
  type ModelIR,
  type OdeBlock,
  type ReducedBlock,
  type ReducedModel,
  type Reducer,
  type ReducerFitContext,
  type SnapshotSet,
  type Tensor32,
} from '@odemor/core';
import { checker } from './check.js';
import { mlpReducerChecks } from './reducer-mlp.js';

/** The part of vitest's `it` the suite uses: a name and a test function that receives `{ expect }`. */
export type ReducerConformanceIt = (name: string, fn: (context: { expect: ExpectStatic }) => unknown, timeout?: number) => void;

/** What the reducer under test can do; every flag defaults to on. */
export interface ReducerCapabilities {
  /** at k = n (and all n interpolation points) the reduced model reproduces the original (≤ 1e-4) */
  fullReconstruction?: boolean;
  /**
   * on dynamics of rank 4, the error does not grow over k = 1, 2, 4 and is ≤ 1e-4 at k = 4
   * (POD-interpolation methods, SVD truncation)
   */
  lowRankConvergence?: boolean;
  /**
   * on dynamics where only 12 of 24 neurons move, the error does not grow over k = 4, 8, 12 and is
   * ≤ 1e-4 at k = 12 (neuron pruning; also POD and SVD methods)
   */
  sparseConvergence?: boolean;
  /** same seed → identical reduced models (fresh instances and repeated calls) */
  determinism?: boolean;
  /** rejects bad dimensions, missing snapshots and NaN input with clear errors */
  validation?: boolean;
  /** reduces the hidden layer of an mlp block (`./reducer-mlp.ts`) */
  mlp?: boolean;
}

/** Options of {@link reducerConformance}. */
export interface ReducerConformanceOptions {
  /** expected `needsSnapshots`; default true */
  needsSnapshots?: boolean;
  supports?: ReducerCapabilities;
  /** title of the `describe` block; default `reducer '<name>' conformance` */
  title?: string;
  /**
   * the largest r (`dims.k`) the reducer takes on an mlp block of m hidden units and n states; default m (all
   * hidden units). SVD truncation: `(m, n) => Math.min(m, n) - 1`.
   */
  mlpMaxRank?: (m: number, n: number) => number;
}

// ───────────────────────────── fixtures ─────────────────────────────

const N = 24;
const P = 2; // input u(t) features
const IN = 3; // model input features
const OUT = 3; // model outputs
const T1 = 1;
const DT = 0.05;
const SEED = 7;
const TRAIN = 16;
const TEST = 6;

/** A synthetic model with its snapshot set and test inputs. */
export interface ReducerFixture {
  model: ModelIR & { block: OdeBlock };
  snapshots: SnapshotSet;
  /** fit context (seeded) */
  context: ReducerFitContext;
  testInputs: Float64Array[];
  /** the forcing u(t) of sample s */
  input: (t: number, sample: number) => number[];
  /** outputs of the original model on `testInputs` */
  reference: Float64Array[];
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const t32 = (data: ArrayLike<number>, shape: number[]): Tensor32 => ({ shape, data: Float32Array.from(data) });

function randn(rand: () => number, size: number, scale: number): Float64Array {
  return Float64Array.from({ length: size }, () => scale * normal(rand));
}

/** row-major (r×s)(s×c) */
function mm(A: ArrayLike<number>, B: ArrayLike<number>, r: number, s: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let l = 0; l < s; l++) for (let j = 0; j < c; j++) C[i * c + j] = C[i * c + j]! + A[i * s + l]! * B[l * c + j]!;
  return C;
}

function tr(A: ArrayLike<number>, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

const forcing = (t: number, s: number): number[] => [Math.sin(2 * t + 0.7 * s), 0.5 * Math.cos(3 * t + 0.3 * s)];

/** Build one of the kit's fixtures (deterministic). */
export function reducerFixture(kind: 'generic' | 'structured'): ReducerFixture {
  const rand = mulberry32(kind === 'generic' ? 1234 : 4321);
  let A: Float64Array;
  let b: Float64Array;
  let Z: Float64Array;
  let preW: Float64Array;
  let preB: Float64Array;
  if (kind === 'generic') {
    A = randn(rand, N * N, 1.2 / Math.sqrt(N));
    b = randn(rand, N, 0.2);
    Z = randn(rand, N * P, 0.5);
    preW = randn(rand, N * IN, 0.7);
    preB = randn(rand, N, 0.3);
  } else {
    // 4 groups of 3 neurons with random signs on a random half of the neurons: Q is n×4, orthonormal
    const r = 4;
    const order = Array.from({ length: N }, (_, i) => i);
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const Q = new Float64Array(N * r);
    for (let g = 0; g < r; g++) for (let e = 0; e < 3; e++) Q[order[g * 3 + e]! * r + g] = (rand() < 0.5 ? -1 : 1) / Math.sqrt(3);
    const Lambda = randn(rand, r * r, 0.9);
    for (let i = 0; i < r; i++) Lambda[i * r + i] = Lambda[i * r + i]! - 0.5;
    A = mm(mm(Q, Lambda, N, r, r), tr(Q, N, r), N, r, N);
    b = mm(Q, randn(rand, r, 0.3), N, r, 1);
    Z = mm(Q, randn(rand, r * P, 0.6), N, r, P);
    preW = mm(Q, randn(rand, r * IN, 1.5), N, r, IN);
    preB = mm(Q, randn(rand, r, 0.5), N, r, 1);
  }
  const postW = randn(rand, OUT * N, 0.4);
  const pre: Layer[] = [{ type: 'dense', weight: t32(preW, [N, IN]), bias: t32(preB, [N]) }];
  const post: Layer[] = [{ type: 'dense', weight: t32(postW, [OUT, N]), bias: t32(randn(rand, OUT, 0.1), [OUT]) }];
  const block: OdeBlock = { kind: 'ode', n: N, A: { type: 'dense', weight: t32(A, [N, N]) }, b: t32(b, [N]), Z: t32(Z, [N, P]), activation: 'tanh' };
  const model: ModelIR & { block: OdeBlock } = {
    format: 'odemor-model',
    version: 1,
    name: `conformance-${kind}`,
    input: { kind: 'tensor', shape: [IN] },
    pre,
    block,
    post,
    solver: { use: 'rk4', dt: DT, t0: 0, t1: T1 },
    outputs: OUT,
  };

  // snapshots: states and nonlinear terms at every step of the training trajectories
  const trainInputs = Array.from({ length: TRAIN }, () => randn(rand, IN, 1));
  const Ad = denseA(block);
  const steps = Math.round(T1 / DT);
  const cols = TRAIN * (steps + 1);
  const X = new Float64Array(N * cols);
  const F = new Float64Array(N * cols);
  const finals: Float64Array[] = [];
  let col = 0;
  trainInputs.forEach((u0, s) => {
    let x = pre.reduce<Float64Array>((v, l) => applyLayer(l, v), u0);
    for (let j = 0; j <= steps; j++) {
      const t = j * DT;
      for (let i = 0; i < N; i++) {
        let acc = block.b.data[i]!;
        for (let l = 0; l < N; l++) acc += Ad[i * N + l]! * x[l]!;
        X[i * cols + col] = x[i]!;
        F[i * cols + col] = Math.tanh(acc);
      }
      col++;
      if (j < steps) x = simulateBlock(block, [x], { t0: t, t1: t + DT, dt: DT, input: (tt) => forcing(tt, s) })[0]!;
    }
    finals.push(x);
  });
  const podX = podExact(toMatrix(X, N, cols));
  const podF = podExact(toMatrix(F, N, cols));
  const meanAbs = new Float64Array(N);
  const zeroFraction = new Float64Array(N);
  for (const x of finals) {
    for (let i = 0; i < N; i++) {
      meanAbs[i] = meanAbs[i]! + Math.abs(x[i]!) / finals.length;
      if (Math.abs(x[i]!) < 1e-6) zeroFraction[i] = zeroFraction[i]! + 1 / finals.length;
    }
  }
  const snapshots: SnapshotSet = {
    n: N,
    stateBasis: podX.basis,
    stateSingularValues: podX.singularValues,
    nonlinearBasis: podF.basis,
    nonlinearSingularValues: podF.singularValues,
    snapshots: cols,
    samples: TRAIN,
    final: { meanAbs, zeroFraction },
  };
  const testInputs = Array.from({ length: TEST }, () => randn(rand, IN, 1));
  const reference = simulateModel(model, testInputs, { input: forcing });
  return { model, snapshots, context: { model, snapshots, seed: SEED }, testInputs, input: forcing, reference };
}

const fixtures = new Map<string, ReducerFixture>();
function fixture(kind: 'generic' | 'structured'): ReducerFixture {
  let f = fixtures.get(kind);
  if (!f) fixtures.set(kind, (f = reducerFixture(kind)));
  return f;
}

/** Max abs difference between the reduced model's outputs and the original's on the fixture's test inputs. */
export function reducedModelError(f: ReducerFixture, reduced: ReducedModel): number {
  const out = simulateModel(reduced.model, f.testInputs, { input: f.input });
  let err = 0;
  out.forEach((y, s) => {
    const ref = f.reference[s]!;
    if (y.length !== ref.length) throw new OdemorError('SHAPE', `reduced model output has length ${y.length}, expected ${ref.length}`);
    for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(y[i]! - ref[i]!));
  });
  return Number.isNaN(err) ? Infinity : err;
}

async function fittedAsync(factory: () => Reducer, f: ReducerFixture, context?: ReducerFitContext): Promise<Reducer> {
  const r = factory();
  await r.fit(context ?? f.context);
  return r;
}

function mapShape(map: ReducedBlock['E']): [number, number] {
  switch (map.type) {
    case 'identity':
      return [map.size, map.size];
    case 'dense':
      return [map.weight.shape[0]!, map.weight.shape[1]!];
    case 'select':
      return [map.indices.length, map.from];
    case 'scatter':
      return [map.to, map.indices.length];
  }
}

function checksum(model: ModelIR): number {
  let s = 0;
  const add = (t?: Tensor32) => t?.data.forEach((v, i) => (s += v * ((i % 7) + 1)));
  for (const l of [...model.pre, ...model.post]) if (l.type === 'dense') (add(l.weight), add(l.bias));
  if (model.block.kind === 'ode') {
    const A = model.block.A;
    add(A.type === 'conv' ? A.kernel : A.weight);
    add(model.block.b);
    add(model.block.Z);
  }
  return s;
}

function poisoned(s: SnapshotSet): SnapshotSet {
  const V = s.stateBasis.clone();
  V.set(3, 0, NaN);
  const U = s.nonlinearBasis.clone();
  U.set(5, 0, NaN);
  const meanAbs = Float64Array.from(s.final.meanAbs);
  meanAbs[2] = NaN;
  const zeroFraction = Float64Array.from(s.final.zeroFraction);
  zeroFraction[2] = NaN;
  return { ...s, stateBasis: V, nonlinearBasis: U, final: { meanAbs, zeroFraction } };
}

function errorOf(fn: () => unknown): Promise<unknown> {
  return (async () => {
    try {
      await fn();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
}

/** reduce at (k, m) on the generic fixture: dims, shapes, costs and outputs consistent, at least m activations */
async function expectPoints(expect: ExpectStatic, factory: () => Reducer, k: number, m: number): Promise<void> {
  const f = fixture('generic');
  const r = await fittedAsync(factory, f);
  const res = r.reduce({ k, m });
  const blk = res.model.block;
  expect(res.dims).toEqual({ k, m });
  expect(blk.k).toBe(k);
  expect(blk.m).toBeGreaterThanOrEqual(m);
  if (res.diagnostics.points) expect(res.diagnostics.points.length).toBe(blk.m);
  const cost = blockCost(blk);
  expect(res.diagnostics.stateDim).toBe(cost.stateDim);
  expect(res.diagnostics.activations).toBe(cost.activations);
  expect(res.diagnostics.activations).not.toBe(r.reduce({ k }).diagnostics.activations);
  const out = simulateModel(res.model, f.testInputs.slice(0, 2), { input: f.input });
  expect(out.every((y) => y.length === OUT && y.every(Number.isFinite))).toBe(true);
}

// ───────────────────────────── the suite ─────────────────────────────

/**
 * Register the reducer conformance tests. `it` is the runner's `it`; `factory` returns a fresh, unfitted
 * reducer; `options.supports` switches capabilities off (all on by default).
 */
export function reducerConformance(it: ReducerConformanceIt, factory: () => Reducer, options: ReducerConformanceOptions = {}): void {
  const needsSnapshots = options.needsSnapshots ?? true;
  const sup: Required<ReducerCapabilities> = {
    fullReconstruction: true,
    lowRankConvergence: true,
    sparseConvergence: true,
    determinism: true,
    validation: true,
    mlp: true,
    ...options.supports,
  };
  const declared = factory().capabilities;
  const caps = { points: declared?.points === true, oversampling: declared?.oversampling === true };
  const title = options.title ?? `reducer '${factory().name}' conformance`;

  describe(title, () => {
    it('has a name and declares whether it needs snapshots', ({ expect }) => {
      const r = factory();
      const c = checker(expect, 'reducer');
      c.is('typeof name', typeof r.name, 'string');
      c.above('name.length', r.name.length, 0);
      c.is('needsSnapshots', r.needsSnapshots, needsSnapshots);
      c.is('typeof fit', typeof r.fit, 'function');
      c.is('typeof reduce', typeof r.reduce, 'function');
    });

    it('returns a full model whose block has the unified reduced form, with consistent shapes and costs', async ({ expect }) => {
      const f = fixture('generic');
      const before = checksum(f.model);
      const r = await fittedAsync(factory, f);
      for (const k of [1, 3, 6, N]) {
        const res = r.reduce({ k });
        const m = res.model;
        const blk = m.block;
        const c = checker(expect, `reduce({ k: ${k} })`);
        c.is('method', res.method, r.name);
        c.is('dims.k', res.dims.k, k);
        c.is('model.format', m.format, 'odemor-model');
        c.is('model.version', m.version, 1);
        c.is('model.outputs', m.outputs, f.model.outputs);
        c.equal('model.solver', m.solver, f.model.solver);
        c.equal('model.input', m.input, f.model.input);
        c.is('model.pre.length', m.pre.length, f.model.pre.length);
        c.is('model.post.length', m.post.length, f.model.post.length);
        c.is('model.block.kind', blk.kind, 'reduced');
        c.is('model.block.method', blk.method, res.method);
        c.is('model.block.n', blk.n, N);
        c.is('model.block.activation', blk.activation, f.model.block.activation);
        const K = blk.k;
        const M = blk.m;
        // E: n → K (or K → K when folded into the preceding layer); D: K → n (or folded)
        const [eo, ei] = mapShape(blk.E);
        c.is(`model.block.E (${blk.E.type}) rows, = block.k`, eo, K);
        c.ok(`model.block.E (${blk.E.type}) columns`, ei === N || (blk.E.type === 'identity' && ei === K), `expected n = ${N} (or k = ${K} for a folded identity), got ${ei}`);
        const [dout, din] = mapShape(blk.D);
        c.is(`model.block.D (${blk.D.type}) columns, = block.k`, din, K);
        c.ok(`model.block.D (${blk.D.type}) rows`, dout === N || (blk.D.type === 'identity' && dout === K), `expected n = ${N} (or k = ${K} for a folded identity), got ${dout}`);
        if (blk.M.type === 'dense') c.equal('model.block.M.weight.shape, [block.m, block.k]', blk.M.weight.shape, [M, K]);
        else {
          c.is('model.block.M.left.shape[0], = block.m', blk.M.left.shape[0], M);
          c.is('model.block.M.right.shape[1], = block.k', blk.M.right.shape[1], K);
          c.is('model.block.M.left.shape[1], = M.right.shape[0]', blk.M.left.shape[1], blk.M.right.shape[0]);
        }
        c.equal('model.block.c.shape, [block.m]', blk.c.shape, [M]);
        if (blk.N.type === 'dense') c.equal('model.block.N.weight.shape, [block.k, block.m]', blk.N.weight.shape, [K, M]);
        else c.equal('model.block.N (identity) [size, block.k], = [block.m, block.m]', [blk.N.size, K], [M, M]);
        c.equal('model.block.Zr.shape, [block.k, inputs]', blk.Zr?.shape, [K, P]);
        for (const [tn, t] of [['c', blk.c], [blk.M.type === 'dense' ? 'M.weight' : 'M.left', blk.M.type === 'dense' ? blk.M.weight : blk.M.left], ['Zr', blk.Zr!]] as const) {
          c.is(`model.block.${tn}.data.length, = product of shape ${JSON.stringify(t.shape)}`, t.data.length, t.shape.reduce((a, b) => a * b, 1));
          c.ok(`model.block.${tn}.data`, t.data.every(Number.isFinite), 'expected finite values only');
        }
        const cost = blockCost(blk);
        c.is('diagnostics.stateDim', res.diagnostics.stateDim, cost.stateDim);
        c.is('diagnostics.activations', res.diagnostics.activations, cost.activations);
        c.is('diagnostics.params', res.diagnostics.params, cost.params);
        c.is('diagnostics.macsPerRhs', res.diagnostics.macsPerRhs, cost.macsPerRhs);
        // the reduced model runs end to end and gives one output per class
        const out = simulateModel(m, f.testInputs.slice(0, 1), { input: f.input });
        c.is('reduced model output length', out[0]!.length, OUT);
        c.ok('reduced model output', out[0]!.every(Number.isFinite), 'expected finite values only');
      }
      checker(expect).is('original model weights checksum (reduce must not modify the model it was fitted on)', checksum(f.model), before);
    });

    it('declares its capabilities as booleans (oversampling only with points)', ({ expect }) => {
      const c = factory().capabilities;
      if (c === undefined) return;
      expect(typeof c.points).toBe('boolean');
      expect(typeof c.oversampling).toBe('boolean');
      if (c.oversampling) expect(c.points).toBe(true);
    });

    if (caps.points) {
      it('capabilities.points: takes m from dims.m independently of k (m < k)', async ({ expect }) => {
        await expectPoints(expect, factory, 6, 3);
      });
    }

    if (caps.points && caps.oversampling) {
      it('capabilities.oversampling: takes m > k interpolation points', async ({ expect }) => {
        await expectPoints(expect, factory, 3, 8);
      });
    }

    if (caps.points && !caps.oversampling) {
      it('without capabilities.oversampling: rejects m > k, naming m', async ({ expect }) => {
        const r = await fittedAsync(factory, fixture('generic'));
        expect(() => r.reduce({ k: 3, m: 8 })).toThrow(/\b8\b/);
      });
    }

    if (!caps.points) {
      it('without capabilities.points: rejects m ≠ k with an error naming m and the reducer', async ({ expect }) => {
        const r = await fittedAsync(factory, fixture('generic'));
        for (const m of [2, 8]) {
          const e = (await errorOf(() => r.reduce({ k: 4, m }))) as Error | undefined;
          expect(e).toBeInstanceOf(Error);
          expect(e!.message).toContain(r.name);
          expect(e!.message).toMatch(new RegExp(`\\bm = ${m}\\b`));
          expect(e!.message).toMatch(/point/i);
        }
      });
    }

    if (sup.fullReconstruction) {
      it('reproduces the original model at full dimension (k = n, all points)', async ({ expect }) => {
        const f = fixture('generic');
        const r = await fittedAsync(factory, f);
        const res = r.reduce({ k: N });
        checker(expect, `reduce({ k: ${N} })`).atMost('max output error against the original', reducedModelError(f, res), 1e-4);
      });
    }

    if (sup.lowRankConvergence) {
      it('converges on rank-4 dynamics: the error does not grow over k = 1, 2, 4 and is small at k = 4', async ({ expect }) => {
        const f = fixture('structured');
        const r = await fittedAsync(factory, f);
        const ks = [1, 2, 4];
        const errs = ks.map((k) => reducedModelError(f, r.reduce({ k })));
        const c = checker(expect, 'rank-4 fixture');
        for (let i = 1; i < errs.length; i++) c.atMost(`output error at k = ${ks[i]} (≤ 1.05 × the error at k = ${ks[i - 1]} + 1e-6)`, errs[i]!, errs[i - 1]! * 1.05 + 1e-6);
        c.above('output error at k = 1 (the fixture does exercise the reducer)', errs[0]!, 1e-3);
        c.atMost('output error at k = 4', errs[2]!, 1e-4);
      });
    }

    if (sup.sparseConvergence) {
      it('converges when 12 of 24 neurons move: the error does not grow over k = 4, 8, 12 and is small at k = 12', async ({ expect }) => {
        const f = fixture('structured');
        const r = await fittedAsync(factory, f);
        const ks = [4, 8, 12];
        const errs = ks.map((k) => reducedModelError(f, r.reduce({ k })));
        const c = checker(expect, '12-active-neurons fixture');
        for (let i = 1; i < errs.length; i++) c.atMost(`output error at k = ${ks[i]} (≤ 1.05 × the error at k = ${ks[i - 1]} + 1e-6)`, errs[i]!, errs[i - 1]! * 1.05 + 1e-6);
        c.atMost('output error at k = 12', errs[2]!, 1e-4);
      });
    }

    if (sup.determinism) {
      it('gives identical results for the same seed (fresh instances and repeated calls)', async ({ expect }) => {
        const f = fixture('generic');
        const a = await fittedAsync(factory, f);
        const b = await fittedAsync(factory, f);
        for (const k of [2, 5]) {
          const ra = a.reduce({ k });
          const rb = b.reduce({ k });
          const again = a.reduce({ k });
          for (const [which, other] of [['a fresh instance', rb], ['a repeated call', again]] as const) {
            const c = checker(expect, `reduce({ k: ${k} }) from ${which}`);
            c.equal('model.block (same seed, same result)', plain(other.model.block), plain(ra.model.block));
            c.equal('model.pre (same seed, same result)', plain(other.model.pre), plain(ra.model.pre));
            c.equal('model.post (same seed, same result)', plain(other.model.post), plain(ra.model.post));
            c.equal('diagnostics.points (same seed, same result)', other.diagnostics.points, ra.diagnostics.points);
          }
        }
      });
    }

    if (sup.validation) {
      it('rejects k ≤ 0, non-integer k and k > n with errors naming the value and the limit', async ({ expect }) => {
        const f = fixture('generic');
        const r = await fittedAsync(factory, f);
        for (const k of [0, -3]) expect(() => r.reduce({ k }), `reduce({ k: ${k} }) must throw an error naming ${k}`).toThrow(new RegExp(`${k}\\b`));
        expect(() => r.reduce({ k: 2.5 }), 'reduce({ k: 2.5 }) must throw an error naming 2.5').toThrow(/2\.5/);
        const e = (await errorOf(() => r.reduce({ k: N + 1 }))) as Error | undefined;
        expect(e, `reduce({ k: ${N + 1} }) (k > n = ${N}) must throw`).toBeInstanceOf(Error);
        expect(e!.message, `reduce({ k: ${N + 1} }): the error must name the value ${N + 1}`).toContain(String(N + 1));
        expect(e!.message, `reduce({ k: ${N + 1} }): the error must name the limit n = ${N}`).toContain(String(N));
      });

      it('refuses a reduce() before fit()', ({ expect }) => {
        expect(() => factory().reduce({ k: 2 }), 'reduce({ k: 2 }) on an unfitted reducer must throw').toThrow();
      });

      if (caps.points) {
        it('rejects more interpolation points than rows', async ({ expect }) => {
          const f = fixture('generic');
          const r = await fittedAsync(factory, f);
          expect(() => r.reduce({ k: 2, m: N + 1 }), `reduce({ k: 2, m: ${N + 1} }) (more points than n = ${N} rows) must throw an error naming ${N + 1}`).toThrow(String(N + 1));
        });
      }

      it('rejects NaN in the block weights with a NUMERIC error', async ({ expect }) => {
        const f = fixture('generic');
        const data = Float32Array.from((f.model.block.A as { weight: Tensor32 }).weight.data);
        data[7] = NaN;
        const model = { ...f.model, block: { ...f.model.block, A: { type: 'dense' as const, weight: { shape: [N, N], data } } } };
        const e = (await errorOf(async () => {
          const r = factory();
          await r.fit({ model, snapshots: f.snapshots, seed: SEED });
          r.reduce({ k: 3 });
        })) as Error | undefined;
        expect(e, 'fit() + reduce() with NaN in the block matrix A must throw').toBeInstanceOf(Error);
        expect(e!.message, 'the error for NaN in A must say NaN or finite').toMatch(/NaN|finite/i);
      });

      if (needsSnapshots) {
        it('fails clearly, naming the reducer, when fit() gets no snapshots', async ({ expect }) => {
          const r = factory();
          const e = (await errorOf(() => r.fit({ model: fixture('generic').model, seed: SEED }))) as Error | undefined;
          expect(e, 'fit() without snapshots must throw').toBeInstanceOf(Error);
          expect(e!.message, `the error for missing snapshots must name the reducer '${r.name}'`).toContain(r.name);
          expect(e!.message, 'the error for missing snapshots must say snapshot').toMatch(/snapshot/i);
        });

        it('rejects snapshot data holding NaN with a NUMERIC error', async ({ expect }) => {
          const f = fixture('generic');
          const e = (await errorOf(async () => {
            const r = factory();
            await r.fit({ ...f.context, snapshots: poisoned(f.snapshots) });
            r.reduce({ k: 3 });
          })) as Error | undefined;
          expect(e, 'fit() + reduce() with NaN in the snapshot data must throw').toBeInstanceOf(Error);
          expect(e!.message, 'the error for NaN snapshot data must say NaN').toMatch(/NaN/);
          if (e instanceof OdemorError) expect(e.code, 'the OdemorError code for NaN snapshot data').toBe('NUMERIC');
        });
      }
    }

    if (sup.mlp) mlpReducerChecks(it, factory, { needsSnapshots, maxRank: options.mlpMaxRank ?? ((m) => m), validation: sup.validation, convergence: sup.lowRankConvergence });
  });
}

/** Tensors as plain arrays, for deep equality. */
function plain(v: unknown): unknown {
  if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v);
  if (v instanceof Matrix) return v.to2DArray();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

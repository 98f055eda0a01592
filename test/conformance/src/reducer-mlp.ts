/**
 * The mlp part of the reducer conformance kit ({@link reducerConformance} runs it): reducers act on the hidden
 * layer of an mlp block `x' = N σ(M x + c + Zin u(t)) + bias` (docs/algorithms.md#mlp-reduction) — `dims.k` is
 * the number of hidden units (or modes, or the rank of M) r, the state x ∈ Rⁿ is kept: the reduced block has
 * E = D = I_n and k = n.
 *
 * Fixtures (deterministic): n = 3 states, m = 40 hidden tanh units, a trajectory model (input kind 'state',
 * readout at t = 0.25, 0.5, 0.75, 1; RK4, dt = 0.05), with an input signal u [20 steps, 2 channels] fed
 * through Zin (`zin: true`) or without one. W₁ = M has rank 2 = n − 1, so SVD truncation at its largest
 * allowed rank min(m, n) − 1 = 2 is exact:
 *
 * - **generic**: random M, c, N, Zin of moderate scale;
 * - **decaying**: unit j's row of M, c and Zin and its column of N are scaled by 0.7^π(j) (π a random
 *   permutation), so a few units carry the field and the hidden activations have a decaying spectrum.
 *
 * Snapshots: states and hidden activations h = tanh(M x + c + Zin u(t)) at every step of 16 training
 * trajectories (float64 reference RK4), their POD by `podExact` (`nonlinearDim` = m), the per-unit statistics
 * of h and of the final states. The error of a reduced model is the max abs difference of its states from the
 * full model's at the readout times, on 6 test trajectories (core's float64 `simulateBlock`).
 */
import type { ExpectStatic } from 'vitest';
import {
  OdemorError,
  blockCost,
  mulberry32,
  podExact,
  sequenceIndex,
  simulateBlock,
  toMatrix,
  validateModel,
  type Block,
  type MlpBlock,
  type ModelIR,
  type ReducedModel,
  type Reducer,
  type ReducerFitContext,
  type SnapshotSet,
  type Tensor32,
} from '@odemor/core';
import { checker } from './check.js';

/** n, the state dimension of the mlp fixtures */
export const MLP_N = 3;
/** m, the hidden units of the mlp fixtures */
export const MLP_M = 40;
const P = 2;
const STEPS = 20;
const DT = 0.05;
const T1 = 1;
const TIMES = [0.25, 0.5, 0.75, 1];
const TRAIN = 16;
const TEST = 6;
const SEED = 7;

/** A synthetic mlp model with its snapshot set and test trajectories. */
export interface MlpReducerFixture {
  model: ModelIR & { block: MlpBlock };
  snapshots: SnapshotSet;
  context: ReducerFitContext;
  /** initial states of the test trajectories */
  testInputs: Float64Array[];
  /** u(t) of test sample s (undefined without Zin) */
  input: ((t: number, sample: number) => number[]) | undefined;
  /** the full model's states at the readout times, per test sample: [T][n] */
  reference: Float64Array[][];
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function randn(rand: () => number, size: number, scale: number): Float64Array {
  return Float64Array.from({ length: size }, () => scale * normal(rand));
}

const t32 = (data: ArrayLike<number>, shape: number[]): Tensor32 => ({ shape, data: Float32Array.from(data) });

/** The states of `block` at the readout times from each initial state: [sample][T][n]. */
function trajectories(block: Block, x0: readonly Float64Array[], input: MlpReducerFixture['input']): Float64Array[][] {
  const out: Float64Array[][] = x0.map(() => []);
  for (const t of TIMES) {
    const xt = simulateBlock(block, x0, { t0: 0, t1: t, dt: DT, ...(input ? { input } : {}) });
    xt.forEach((x, s) => out[s]!.push(x));
  }
  return out;
}

/** Build one of the kit's mlp fixtures (deterministic). */
export function mlpReducerFixture(kind: 'generic' | 'decaying', zin: boolean): MlpReducerFixture {
  const rand = mulberry32((kind === 'generic' ? 2024 : 4202) + (zin ? 1 : 0));
  const n = MLP_N;
  const m = MLP_M;
  // M = G Hᵀ of rank n − 1
  const G = randn(rand, m * (n - 1), 1.4);
  const H = randn(rand, n * (n - 1), 1 / Math.sqrt(n - 1));
  const M = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let l = 0; l < n - 1; l++) M[i * n + j] = M[i * n + j]! + G[i * (n - 1) + l]! * H[j * (n - 1) + l]!;
  const c = randn(rand, m, 0.4);
  const N = randn(rand, n * m, 1.5 / Math.sqrt(m));
  const bias = randn(rand, n, 0.1);
  const Zin = zin ? randn(rand, m * P, 0.8) : undefined;
  if (kind === 'decaying') {
    const order = Array.from({ length: m }, (_, i) => i);
    for (let i = m - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((unit, rank) => {
      const g = 0.7 ** rank;
      for (let j = 0; j < n; j++) M[unit * n + j] = M[unit * n + j]! * g * 2;
      c[unit] = c[unit]! * g;
      for (let i = 0; i < n; i++) N[i * m + unit] = N[i * m + unit]! * g * 2;
      if (Zin) for (let j = 0; j < P; j++) Zin[unit * P + j] = Zin[unit * P + j]! * g * 2;
    });
  }
  const block: MlpBlock = {
    kind: 'mlp',
    n,
    m,
    M: t32(M, [m, n]),
    c: t32(c, [m]),
    N: t32(N, [n, m]),
    bias: t32(bias, [n]),
    ...(Zin ? { Zin: t32(Zin, [m, P]) } : {}),
    activation: 'tanh',
  };
  const model: ModelIR & { block: MlpBlock } = {
    format: 'odemor-model',
    version: 1,
    name: `conformance-mlp-${kind}${zin ? '-zin' : ''}`,
    input: { kind: 'state', size: n, ...(zin ? { signal: { steps: STEPS, channels: P, stepDuration: DT } } : {}) },
    pre: [],
    block,
    post: [],
    solver: { use: 'rk4', dt: DT, t0: 0, t1: T1 },
    readout: { kind: 'trajectory', times: [...TIMES] },
    outputs: TIMES.length * n,
  };
  validateModel(model);

  const signals = (count: number) => Array.from({ length: count }, () => randn(rand, STEPS * P, 1));
  const inputOf = (sig: Float64Array[]) =>
    zin
      ? (t: number, s: number): number[] => {
          const j = sequenceIndex(t, 0, DT, STEPS);
          return [sig[s]![j * P]!, sig[s]![j * P + 1]!];
        }
      : undefined;

  // snapshots: states and hidden activations at every step of the training trajectories
  const trainX0 = Array.from({ length: TRAIN }, () => randn(rand, n, 1));
  const trainInput = inputOf(signals(TRAIN));
  const cols = TRAIN * (STEPS + 1);
  const X = new Float64Array(n * cols);
  const Hd = new Float64Array(m * cols);
  const absSum = new Float64Array(m);
  const zeros = new Float64Array(m);
  const finals: Float64Array[] = [];
  let col = 0;
  trainX0.forEach((x0, s) => {
    let x: Float64Array = Float64Array.from(x0);
    for (let j = 0; j <= STEPS; j++) {
      const t = j * DT;
      const u = trainInput?.(t, s);
      for (let i = 0; i < n; i++) X[i * cols + col] = x[i]!;
      for (let i = 0; i < m; i++) {
        let a = block.c.data[i]!;
        for (let l = 0; l < n; l++) a += block.M.data[i * n + l]! * x[l]!;
        if (u && block.Zin) for (let l = 0; l < P; l++) a += block.Zin.data[i * P + l]! * u[l]!;
        const h = Math.tanh(a);
        Hd[i * cols + col] = h;
        absSum[i] = absSum[i]! + Math.abs(h);
        if (Math.abs(h) < 1e-6) zeros[i] = zeros[i]! + 1;
      }
      col++;
      if (j < STEPS) x = simulateBlock(block, [x], { t0: t, t1: t + DT, dt: DT, ...(trainInput ? { input: (tt: number) => trainInput(tt, s) } : {}) })[0]!;
    }
    finals.push(x);
  });
  const podX = podExact(toMatrix(X, n, cols));
  const podH = podExact(toMatrix(Hd, m, cols));
  const meanAbs = new Float64Array(n);
  const zeroFraction = new Float64Array(n);
  for (const x of finals) {
    for (let i = 0; i < n; i++) {
      meanAbs[i] = meanAbs[i]! + Math.abs(x[i]!) / finals.length;
      if (Math.abs(x[i]!) < 1e-6) zeroFraction[i] = zeroFraction[i]! + 1 / finals.length;
    }
  }
  const snapshots: SnapshotSet = {
    n,
    nonlinearDim: m,
    stateBasis: podX.basis,
    stateSingularValues: podX.singularValues,
    nonlinearBasis: podH.basis,
    nonlinearSingularValues: podH.singularValues,
    snapshots: cols,
    samples: TRAIN,
    final: { meanAbs, zeroFraction },
    hidden: { meanAbs: absSum.map((a) => a / cols), zeroFraction: zeros.map((z) => z / cols) },
  };
  const testInputs = Array.from({ length: TEST }, () => randn(rand, n, 1));
  const input = inputOf(signals(TEST));
  return { model, snapshots, context: { model, snapshots, seed: SEED }, testInputs, input, reference: trajectories(block, testInputs, input) };
}

const cache = new Map<string, MlpReducerFixture>();
function fixture(kind: 'generic' | 'decaying', zin: boolean): MlpReducerFixture {
  const key = `${kind}:${zin}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = mlpReducerFixture(kind, zin)));
  return f;
}

/** Max abs difference of the reduced model's states from the full model's at the readout times (test trajectories). */
export function mlpReducedError(f: MlpReducerFixture, reduced: ReducedModel): number {
  const got = trajectories(reduced.model.block, f.testInputs, f.input);
  let err = 0;
  got.forEach((traj, s) =>
    traj.forEach((x, t) => {
      const ref = f.reference[s]![t]!;
      if (x.length !== ref.length) throw new OdemorError('SHAPE', `the reduced model's state has length ${x.length}, expected ${ref.length}`);
      for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i]! - ref[i]!));
    }),
  );
  return Number.isNaN(err) ? Infinity : err;
}

/** The part of vitest's `it` the checks use. */
type It = (name: string, fn: (context: { expect: ExpectStatic }) => unknown, timeout?: number) => void;

async function fitted(factory: () => Reducer, context: ReducerFitContext): Promise<Reducer> {
  const r = factory();
  await r.fit(context);
  return r;
}

async function errorOf(fn: () => unknown): Promise<Error | undefined> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

function sumData(t?: Tensor32): number {
  let s = 0;
  t?.data.forEach((v, i) => (s += v * ((i % 7) + 1)));
  return s;
}

/** The r values a test sweeps: 1 … maxRank, a few of them, increasing. */
function sweep(maxRank: number): number[] {
  const rs = [1, 2, 5, 10, 20].filter((r) => r < maxRank);
  return [...rs, maxRank];
}

/**
 * Register the mlp checks (inside the kit's `describe`). `maxRank(m, n)` is the largest r the reducer takes on
 * an mlp block (m: all hidden units; SVD truncation: min(m, n) − 1).
 */
export function mlpReducerChecks(
  it: It,
  factory: () => Reducer,
  options: { needsSnapshots: boolean; maxRank: (m: number, n: number) => number; validation: boolean; convergence?: boolean },
): void {
  const maxRank = options.maxRank(MLP_M, MLP_N);

  it('mlp block: reduces the hidden layer — E = D = I_n, k = n, consistent shapes and costs, Zin and bias carried', async ({ expect }) => {
    for (const zin of [true, false]) {
      const f = fixture('generic', zin);
      const before = sumData(f.model.block.M) + sumData(f.model.block.N) + sumData(f.model.block.c) + sumData(f.model.block.Zin);
      const r = await fitted(factory, f.context);
      for (const k of sweep(maxRank)) {
        const res = r.reduce({ k });
        const c = checker(expect, `mlp fixture${zin ? ' with Zin' : ''}: reduce({ k: ${k} })`);
        const m = res.model;
        const blk = m.block;
        c.is('method', res.method, r.name);
        c.is('dims.k', res.dims.k, k);
        c.is('model.block.kind', blk.kind, 'reduced');
        c.is('model.block.method', blk.method, res.method);
        c.is('model.block.n', blk.n, MLP_N);
        c.is('model.block.k (the state is kept)', blk.k, MLP_N);
        c.equal('model.block.E', blk.E, { type: 'identity', size: MLP_N });
        c.equal('model.block.D', blk.D, { type: 'identity', size: MLP_N });
        c.is('model.block.activation', blk.activation, 'tanh');
        c.equal('model.input', m.input, f.model.input);
        c.equal('model.readout', m.readout, f.model.readout);
        c.equal('model.solver', m.solver, f.model.solver);
        c.is('model.outputs', m.outputs, f.model.outputs);
        const q = blk.m;
        c.ok('model.block.m (hidden units evaluated)', Number.isInteger(q) && q >= 1 && q <= MLP_M, `expected an integer in 1..${MLP_M}, got ${q}`);
        if (blk.M.type === 'dense') c.equal('model.block.M.weight.shape, [block.m, n]', blk.M.weight.shape, [q, MLP_N]);
        else {
          c.is('model.block.M.left.shape[0], = block.m', blk.M.left.shape[0], q);
          c.is('model.block.M.right.shape[1], = n', blk.M.right.shape[1], MLP_N);
          c.is('model.block.M.left.shape[1], = M.right.shape[0]', blk.M.left.shape[1], blk.M.right.shape[0]);
        }
        c.equal('model.block.c.shape, [block.m]', blk.c.shape, [q]);
        c.is('model.block.N.type', blk.N.type, 'dense');
        if (blk.N.type === 'dense') c.equal('model.block.N.weight.shape, [n, block.m]', blk.N.weight.shape, [MLP_N, q]);
        c.equal('model.block.bias.shape, [n]', blk.bias?.shape, [MLP_N]);
        c.equal('model.block.Zin.shape', blk.Zin?.shape, zin ? [q, P] : undefined);
        c.is('model.block.Zr (none: the input enters inside σ)', blk.Zr, undefined);
        const cost = blockCost(blk);
        c.is('diagnostics.stateDim', res.diagnostics.stateDim, cost.stateDim);
        c.is('diagnostics.activations', res.diagnostics.activations, cost.activations);
        c.is('diagnostics.params', res.diagnostics.params, cost.params);
        c.is('diagnostics.macsPerRhs', res.diagnostics.macsPerRhs, cost.macsPerRhs);
        let valid: unknown;
        try {
          validateModel(m);
        } catch (e) {
          valid = e;
        }
        c.ok('validateModel(reduced model)', valid === undefined, `expected a valid model, got ${(valid as Error | undefined)?.message}`);
        c.ok('reduced model error', Number.isFinite(mlpReducedError(f, res)), 'expected finite states at the readout times');
      }
      const after = sumData(f.model.block.M) + sumData(f.model.block.N) + sumData(f.model.block.c) + sumData(f.model.block.Zin);
      checker(expect).is('the mlp block weights (reduce must not modify the model it was fitted on)', after, before);
    }
  });

  it(`mlp block: reproduces the full model at r = ${maxRank === MLP_M ? 'm (all hidden units)' : `${maxRank}, the largest allowed rank (M has rank ${MLP_N - 1})`}`, async ({ expect }) => {
    for (const zin of [true, false]) {
      const f = fixture('generic', zin);
      const r = await fitted(factory, f.context);
      const res = r.reduce({ k: maxRank });
      checker(expect, `mlp fixture${zin ? ' with Zin' : ''}: reduce({ k: ${maxRank} })`).atMost('max state error against the full model', mlpReducedError(f, res), 1e-4);
    }
  });

  // like the full-block convergence checks, only for a reducer that claims it (`supports.lowRankConvergence`)
  if (options.convergence !== false) it('mlp block: on a decaying hidden spectrum the error falls as r grows', async ({ expect }) => {
    const f = fixture('decaying', true);
    const r = await fitted(factory, f.context);
    const rs = sweep(maxRank);
    const errs = rs.map((k) => mlpReducedError(f, r.reduce({ k })));
    const c = checker(expect, `decaying mlp fixture, errors ${JSON.stringify(Object.fromEntries(rs.map((k, i) => [k, Number(errs[i]!.toPrecision(3))])))}`);
    c.above(`error at r = ${rs[0]} (the fixture exercises the reducer)`, errs[0]!, 1e-3);
    for (let i = 1; i < rs.length; i++) {
      c.atMost(`error at r = ${rs[i]} (≤ the error at r = ${rs[0]})`, errs[i]!, errs[0]!);
      c.atMost(`error at r = ${rs[i]} (≤ 1.5 × the error at r = ${rs[i - 1]} + 1e-6)`, errs[i]!, 1.5 * errs[i - 1]! + 1e-6);
    }
    c.atMost(`error at r = ${rs[rs.length - 1]} (≤ 1e-4)`, errs[errs.length - 1]!, 1e-4);
    if (rs.length > 2) c.atMost(`error at r = ${rs[rs.length - 2]} (≤ 0.1 × the error at r = ${rs[0]})`, errs[rs.length - 2]!, 0.1 * errs[0]!);
  });

  if (!options.validation) return;

  it('mlp block: rejects r ≤ 0, non-integer r and r beyond its limit with errors naming the value and m', async ({ expect }) => {
    const r = await fitted(factory, fixture('generic', true).context);
    for (const k of [0, -2]) expect(() => r.reduce({ k }), `reduce({ k: ${k} }) on the mlp block must throw an error naming ${k}`).toThrow(new RegExp(`${k}\\b`));
    expect(() => r.reduce({ k: 2.5 }), 'reduce({ k: 2.5 }) on the mlp block must throw an error naming 2.5').toThrow(/2\.5/);
    const over = maxRank + 1;
    const e = await errorOf(() => r.reduce({ k: over }));
    expect(e, `reduce({ k: ${over} }) (beyond the largest allowed ${maxRank}) must throw`).toBeInstanceOf(Error);
    expect(e!.message, `reduce({ k: ${over} }): the error must name the value`).toMatch(new RegExp(`\\b${over}\\b`));
    expect(e!.message, `reduce({ k: ${over} }): the error must name m = ${MLP_M}`).toMatch(new RegExp(`\\b${MLP_M}\\b`));
    if (e instanceof OdemorError) expect(e.code, `reduce({ k: ${over} }): the OdemorError code`).toBe('ARGUMENT');
  });

  it('mlp block: rejects NaN in the block weights with a NUMERIC error', async ({ expect }) => {
    const f = fixture('generic', true);
    const data = Float32Array.from(f.model.block.M.data);
    data[5] = NaN;
    const model = { ...f.model, block: { ...f.model.block, M: { shape: [MLP_M, MLP_N], data } } };
    const e = await errorOf(async () => {
      const r = factory();
      await r.fit({ ...f.context, model });
      r.reduce({ k: 2 });
    });
    expect(e, 'fit() + reduce() with NaN in the mlp block matrix M must throw').toBeInstanceOf(Error);
    expect(e!.message, 'the error for NaN in M must say NaN or finite').toMatch(/NaN|finite/i);
    if (e instanceof OdemorError) expect(e.code).toBe('NUMERIC');
  });

  if (!options.needsSnapshots) return;

  it('mlp block: refuses snapshots that are not of the hidden activations (nonlinear width n, not m), naming m', async ({ expect }) => {
    const f = fixture('generic', true);
    const s = f.snapshots;
    const narrow: SnapshotSet = { ...s, nonlinearDim: MLP_N, nonlinearBasis: s.stateBasis, nonlinearSingularValues: s.stateSingularValues };
    delete (narrow as { hidden?: unknown }).hidden;
    const e = await errorOf(async () => {
      const r = factory();
      await r.fit({ ...f.context, snapshots: narrow });
      r.reduce({ k: 2 });
    });
    expect(e, 'fit() + reduce() on an mlp block with state-width nonlinear snapshots must throw').toBeInstanceOf(Error);
    expect(e!.message, `the error must name m = ${MLP_M}`).toMatch(new RegExp(`\\b${MLP_M}\\b`));
  });

  it('mlp block: rejects hidden snapshot data holding NaN with a NUMERIC error', async ({ expect }) => {
    const f = fixture('generic', true);
    const s = f.snapshots;
    const U = s.nonlinearBasis.clone();
    U.set(4, 0, NaN);
    const meanAbs = Float64Array.from(s.hidden!.meanAbs);
    meanAbs[3] = NaN;
    const zeroFraction = Float64Array.from(s.hidden!.zeroFraction);
    zeroFraction[3] = NaN;
    const e = await errorOf(async () => {
      const r = factory();
      await r.fit({ ...f.context, snapshots: { ...s, nonlinearBasis: U, hidden: { meanAbs, zeroFraction } } });
      r.reduce({ k: 2 });
    });
    expect(e, 'fit() + reduce() with NaN in the hidden snapshot data must throw').toBeInstanceOf(Error);
    expect(e!.message, 'the error for NaN hidden snapshot data must say NaN').toMatch(/NaN/);
    if (e instanceof OdemorError) expect(e.code).toBe('NUMERIC');
  });
}

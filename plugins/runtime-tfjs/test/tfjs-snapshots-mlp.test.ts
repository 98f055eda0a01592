/**
 * The snapshot pass of an mlp block on the tfjs runtime: the nonlinear snapshots are the hidden activations
 * h = σ(M x + c + Zin u(t)) at the sampled states and their times (`nonlinearDim` = m), and a model with a state
 * input and a signal takes the batch's signal as `options.u`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ExplicitRungeKuttaSolver, OdemorError, createRng, scalarActivation, sequenceIndex, simulateBlock, validateModel, type Rng, type Solver } from '@odemor/core';
import type { Activation, Block, MlpBlock, ModelIR, OdeBlock, Tensor32 } from '@odemor/core';
import { initTfjs } from '../src/backend.js';
import { TfjsRuntime } from '../src/runtime.js';

const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4-test',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);

const tensor = (rng: Rng, shape: number[], scale: number): Tensor32 => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()),
});

const DT = 0.05;
const T1 = 1;
const EVERY = 2;
// signal steps of 0.07: no sampled time (a multiple of 0.1) lies near a step boundary
const SIGNAL = { steps: 15, channels: 2, stepDuration: 0.07 };

function mlpBlock(rng: Rng, n: number, m: number, activation: Activation, p?: number): MlpBlock {
  return {
    kind: 'mlp',
    n,
    m,
    M: tensor(rng, [m, n], 1 / Math.sqrt(n)),
    c: tensor(rng, [m], 0.3),
    N: tensor(rng, [n, m], 1 / Math.sqrt(m)),
    bias: tensor(rng, [n], 0.2),
    ...(p ? { Zin: tensor(rng, [m, p], 0.7) } : {}),
    activation,
  };
}

function trajectoryModel(block: Block, n: number, signal?: typeof SIGNAL): ModelIR {
  const model: ModelIR = {
    format: 'odemor-model',
    version: 1,
    name: 'mlp-snapshots',
    input: { kind: 'state', size: n, ...(signal ? { signal } : {}) },
    pre: [],
    block,
    post: [],
    solver: { use: 'rk4', dt: DT, t0: 0, t1: T1 },
    readout: { kind: 'trajectory', times: [0.5, T1] },
    outputs: 2 * n,
  };
  validateModel(model);
  return model;
}

/** σ(M x + c + Zin u) in float64 from a float32 state row */
function hiddenOf(block: MlpBlock, x: ArrayLike<number>, u: ArrayLike<number> | undefined): number[] {
  const { n, m } = block;
  const p = block.Zin?.shape[1] ?? 0;
  return Array.from({ length: m }, (_, i) => {
    let a = block.c.data[i]!;
    for (let j = 0; j < n; j++) a += block.M.data[i * n + j]! * x[j]!;
    if (block.Zin && u) for (let j = 0; j < p; j++) a += block.Zin.data[i * p + j]! * u[j]!;
    return scalarActivation(block.activation, a);
  });
}

describe('tfjs snapshotBatch on mlp blocks', () => {
  beforeAll(async () => {
    await initTfjs('cpu');
  });
  const runtime = new TfjsRuntime({ backend: 'cpu' });

  for (const [label, activation, withSignal] of [['tanh with Zin u(t)', 'tanh', true], ['relu without an input', 'relu', false]] as const) {
    it(`${label}: hidden activations at the sampled steps equal σ(M x + c + Zin u) of the sampled states`, async () => {
      const rng = createRng(withSignal ? 5 : 6);
      const n = 3;
      const m = 16;
      const batch = 4;
      const block = mlpBlock(rng, n, m, activation, withSignal ? SIGNAL.channels : undefined);
      const model = trajectoryModel(block, n, withSignal ? SIGNAL : undefined);
      const x0 = Float32Array.from({ length: batch * n }, () => rng.normal());
      const u = withSignal ? Float32Array.from({ length: batch * SIGNAL.steps * SIGNAL.channels }, () => rng.normal()) : undefined;
      const sb = await runtime.snapshotBatch(model, x0, batch, { every: EVERY, solver: rk4, ...(u ? { u } : {}) });
      const saved = Math.round(T1 / DT) / EVERY;
      expect(sb.n).toBe(n);
      expect(sb.nonlinearDim).toBe(m);
      expect(sb.samples).toBe(batch);
      expect(sb.count).toBe(saved * batch);
      expect(sb.states).toHaveLength(sb.count * n);
      expect(sb.nonlinear).toHaveLength(sb.count * m);
      expect(sb.final).toHaveLength(batch * n);
      const uAt = (t: number, s: number): number[] | undefined => {
        if (!u) return undefined;
        const j = sequenceIndex(t, 0, SIGNAL.stepDuration, SIGNAL.steps);
        const off = (s * SIGNAL.steps + j) * SIGNAL.channels;
        return Array.from(u.subarray(off, off + SIGNAL.channels));
      };
      let worstHidden = 0;
      let worstState = 0;
      let zeros = 0;
      for (let step = 0; step < saved; step++) {
        const t = (step + 1) * EVERY * DT;
        for (let s = 0; s < batch; s++) {
          const row = step * batch + s; // step-major
          const x = sb.states.subarray(row * n, (row + 1) * n);
          const want = hiddenOf(block, x, uAt(t, s));
          for (let i = 0; i < m; i++) {
            const got = sb.nonlinear[row * m + i]!;
            worstHidden = Math.max(worstHidden, Math.abs(got - want[i]!));
            if (got === 0) zeros++;
          }
          // the sampled state is the float64 reference's x(t)
          const ref = simulateBlock(block, [x0.subarray(s * n, (s + 1) * n)], { t0: 0, t1: t, dt: DT, ...(u ? { input: (tt: number) => uAt(tt, s) } : {}) })[0]!;
          for (let i = 0; i < n; i++) worstState = Math.max(worstState, Math.abs(x[i]! - ref[i]!));
        }
      }
      expect(worstHidden).toBeLessThan(1e-5);
      expect(worstState).toBeLessThan(1e-4);
      if (activation === 'relu') expect(zeros).toBeGreaterThan(0); // the zeros APoZ counts are exact
      // the final states are the last saved ones (t1 is a sampled step)
      expect(Array.from(sb.final)).toEqual(Array.from(sb.states.subarray((saved - 1) * batch * n)));
    });
  }

  it('a model with a signal needs options.u; a model without one refuses it (ARGUMENT errors naming inputs.u)', async () => {
    const rng = createRng(9);
    const withSig = trajectoryModel(mlpBlock(rng, 2, 8, 'tanh', SIGNAL.channels), 2, SIGNAL);
    const without = trajectoryModel(mlpBlock(rng, 2, 8, 'tanh'), 2);
    const x0 = new Float32Array(2 * 2).fill(0.1);
    for (const [model, u] of [[withSig, undefined], [without, new Float32Array(2 * SIGNAL.steps * SIGNAL.channels)]] as const) {
      const e = await runtime.snapshotBatch(model, x0, 2, { every: 1, solver: rk4, ...(u ? { u } : {}) }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(OdemorError);
      expect((e as OdemorError).code).toBe('ARGUMENT');
      expect((e as OdemorError).message).toContain('inputs.u');
    }
    const short = await runtime.snapshotBatch(withSig, x0, 2, { every: 1, solver: rk4, u: new Float32Array(5) }).catch((err: unknown) => err);
    expect((short as OdemorError).code).toBe('SHAPE');
  });

  it('a full ODE block keeps its snapshots: σ(A x + b), no nonlinearDim; a reduced block is refused', async () => {
    const rng = createRng(3);
    const n = 4;
    const block: OdeBlock = { kind: 'ode', n, A: { type: 'dense', weight: tensor(rng, [n, n], 0.5) }, b: tensor(rng, [n], 0.2), activation: 'tanh' };
    const model: ModelIR = {
      format: 'odemor-model',
      version: 1,
      name: 'ode-snapshots',
      input: { kind: 'tensor', shape: [n] },
      pre: [],
      block,
      post: [],
      solver: { use: 'rk4', dt: 0.1, t0: 0, t1: 1 },
      outputs: n,
    };
    validateModel(model);
    const sb = await runtime.snapshotBatch(model, Float32Array.from({ length: 2 * n }, () => rng.normal()), 2, { every: 1, solver: rk4 });
    expect('nonlinearDim' in sb).toBe(false);
    expect(sb.nonlinear).toHaveLength(sb.count * n);
    for (let r = 0; r < sb.count; r++) {
      for (let i = 0; i < n; i++) {
        let a = block.b.data[i]!;
        for (let j = 0; j < n; j++) a += block.A.type === 'dense' ? block.A.weight.data[i * n + j]! * sb.states[r * n + j]! : 0;
        expect(Math.abs(sb.nonlinear[r * n + i]! - Math.tanh(a))).toBeLessThan(1e-5);
      }
    }
    const reduced: ModelIR = {
      ...model,
      block: { kind: 'reduced', method: 'x', n, k: n, m: n, E: { type: 'identity', size: n }, M: { type: 'dense', weight: block.A.type === 'dense' ? block.A.weight : tensor(rng, [n, n], 1) }, c: block.b, N: { type: 'identity', size: n }, D: { type: 'identity', size: n }, activation: 'tanh' },
    };
    const e = await runtime.snapshotBatch(reduced, new Float32Array(2 * n), 2, { every: 1, solver: rk4 }).catch((err: unknown) => err);
    expect((e as OdemorError).code).toBe('MODEL');
  });
});

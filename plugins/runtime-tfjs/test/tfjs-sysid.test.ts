/**
 * System-identification forms on the tfjs runtime: mlp blocks, reduced blocks with Zin and bias, state inputs with
 * signals, trajectory readouts, midpoint networks, and the exact time derivatives a Taylor solver asks for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { DOPRI5_TABLEAU, ExplicitRungeKuttaSolver, OdemorError, createRng, sequenceIndex, simulateBlock, validateModel, type Rng, type Solver, type SolverAlgebra, type StepContext, type StepOutput } from '@odemor/core';
import type { Activation, Block, MlpBlock, ModelIR, OdeBlock, ReducedBlock, Tensor32 } from '@odemor/core';
import { blockOutputSize } from '@odemor/core';
import { initTfjs } from '../src/backend.js';
import { blockDerivatives, createParams, disposeParams, forward, MAX_DERIVATIVE_ORDER } from '../src/forward.js';
import { TfjsRuntime } from '../src/runtime.js';

const rk4: Solver = new ExplicitRungeKuttaSolver(
  'rk4-test',
  { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 },
  false,
);
const dopri5: Solver = new ExplicitRungeKuttaSolver('dopri5-test', DOPRI5_TABLEAU, true, { rtol: 1e-7, atol: 1e-9 });

const tensor = (rng: Rng, shape: number[], scale: number): Tensor32 => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()),
});

const TIMES = [0.25, 0.5, 0.75, 1];
const DT = 0.05;

/** A trajectory model around `block`: a sample is the block's initial state (E's input for a reduced block). */
function stateModel(block: Block, size: number, signal?: { steps: number; channels: number; stepDuration: number }, times = TIMES): ModelIR {
  const model: ModelIR = {
    format: 'odemor-model',
    version: 1,
    name: 'sysid-test',
    input: { kind: 'state', size, ...(signal ? { signal } : {}) },
    pre: [],
    block,
    post: [],
    solver: { use: 'rk4', dt: DT, t0: 0, t1: times[times.length - 1]! },
    outputs: times.length * blockOutputSize(block),
    readout: { kind: 'trajectory', times: [...times] },
  };
  validateModel(model);
  return model;
}

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

/** k = 3 state, m = 5 activations, n = 4 outer state, p inputs: every optional part present. */
function reducedBlock(rng: Rng, activation: Activation, p: number): ReducedBlock {
  const n = 4;
  const k = 3;
  const m = 5;
  return {
    kind: 'reduced',
    method: 'test',
    n,
    k,
    m,
    E: { type: 'dense', weight: tensor(rng, [k, n], 0.5) },
    M: { type: 'factored', left: tensor(rng, [m, 2], 0.8), right: tensor(rng, [2, k], 0.8) },
    c: tensor(rng, [m], 0.3),
    N: { type: 'dense', weight: tensor(rng, [k, m], 0.5) },
    Zr: tensor(rng, [k, p], 0.4),
    Zin: tensor(rng, [m, p], 0.6),
    bias: tensor(rng, [k], 0.2),
    D: { type: 'dense', weight: tensor(rng, [n, k], 0.5) },
    activation,
  };
}

function odeBlock(rng: Rng, n: number, activation: Activation, p?: number): OdeBlock {
  return {
    kind: 'ode',
    n,
    A: { type: 'dense', weight: tensor(rng, [n, n], 0.8 / Math.sqrt(n)) },
    b: tensor(rng, [n], 0.3),
    ...(p ? { Z: tensor(rng, [n, p], 0.5) } : {}),
    activation,
  } as OdeBlock;
}

/** a piecewise-constant signal [B, steps, channels] */
function signalData(rng: Rng, B: number, steps: number, channels: number): Float32Array {
  return Float32Array.from({ length: B * steps * channels }, () => rng.normal());
}

/** core's float64 RK4 reference at every readout time (each from t0 on its own), [B, T·size] */
function reference(model: ModelIR, x0: Float32Array, B: number, u?: Float32Array): Float64Array {
  const size = blockOutputSize(model.block);
  const d = model.input.kind === 'state' ? model.input.size : 0;
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  const starts = Array.from({ length: B }, (_, b) => Array.from(x0.subarray(b * d, (b + 1) * d)));
  const input = sig
    ? (t: number, sample: number) => {
        const j = sequenceIndex(t, model.solver.t0, sig.stepDuration, sig.steps);
        const o = (sample * sig.steps + j) * sig.channels;
        return Array.from(u!.subarray(o, o + sig.channels));
      }
    : undefined;
  const times = model.readout!.times;
  const out = new Float64Array(B * times.length * size);
  times.forEach((t1, k) => {
    const res = simulateBlock(model.block, starts, { t0: model.solver.t0, t1, dt: model.solver.dt, ...(input ? { input } : {}) });
    res.forEach((r, b) => out.set(r, (b * times.length + k) * size));
  });
  return out;
}

function expectRelClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  expect(worst, `${label}: worst relative error at ${at} (got ${got[at]}, want ${want[at]})`).toBeLessThan(rel);
}

beforeAll(async () => {
  await initTfjs('cpu');
});

describe('tfjs runtime: trajectory models against core float64 simulateBlock (rk4)', () => {
  const B = 3;

  it('an mlp block (no input) at every readout time', async () => {
    const rng = createRng(11);
    const model = stateModel(mlpBlock(rng, 2, 8, 'tanh'), 2);
    const rt = new TfjsRuntime({ backend: 'cpu' });
    expect(rt.supports(model)).toEqual({ ok: true });
    const x0 = Float32Array.from({ length: B * 2 }, () => rng.normal());
    const exe = await rt.build(model, { solver: rk4 });
    const out = await exe.predict(x0, B);
    expect(out).toHaveLength(B * TIMES.length * 2);
    expectRelClose(out, reference(model, x0, B), 1e-4, 'mlp tanh');
    // statistics summed over the segments: 4 segments of 5 rk4 steps
    expect((exe as { lastStats?: { accepted: number; nfe: number } }).lastStats).toMatchObject({ accepted: 20, nfe: 80 });
    await exe.dispose();
  });

  it('an mlp block with a signal inside σ (Zin), softplus, readout times off the step grid', async () => {
    const rng = createRng(12);
    const sig = { steps: 10, channels: 2, stepDuration: 0.1 };
    const times = [0.3, 0.5, 0.8, 1];
    const model = stateModel(mlpBlock(rng, 3, 6, 'softplus', 2), 3, sig, times);
    const x0 = Float32Array.from({ length: B * 3 }, () => rng.normal());
    const u = signalData(rng, B, sig.steps, sig.channels);
    const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: rk4 });
    const out = await exe.predict(x0, B, { u });
    expectRelClose(out, reference(model, x0, B, u), 1e-4, 'mlp softplus + Zin');
    // the signal matters
    const other = await exe.predict(x0, B, { u: u.map((v) => -v) });
    expect(Math.max(...other.map((v, i) => Math.abs(v - out[i]!)))).toBeGreaterThan(1e-2);
    await exe.dispose();
  });

  it('a reduced block with Zin, Zr, bias, E and D (relu, factored M = L R)', async () => {
    const rng = createRng(13);
    const sig = { steps: 20, channels: 2, stepDuration: 0.05 };
    const model = stateModel(reducedBlock(rng, 'relu', 2), 4, sig);
    const x0 = Float32Array.from({ length: B * 4 }, () => rng.normal());
    const u = signalData(rng, B, sig.steps, sig.channels);
    const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: rk4 });
    const out = await exe.predict(x0, B, { u });
    expect(out).toHaveLength(B * TIMES.length * 4);
    expectRelClose(out, reference(model, x0, B, u), 1e-4, 'reduced relu + Zin + Zr + bias');
    await exe.dispose();
  });

  it('a full ode block with a state signal (Z outside σ)', async () => {
    const rng = createRng(14);
    const sig = { steps: 4, channels: 1, stepDuration: 0.25 };
    const model = stateModel(odeBlock(rng, 3, 'tanh', 1), 3, sig);
    const x0 = Float32Array.from({ length: B * 3 }, () => rng.normal());
    const u = signalData(rng, B, sig.steps, sig.channels);
    const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: rk4 });
    expectRelClose(await exe.predict(x0, B, { u }), reference(model, x0, B, u), 1e-4, 'ode tanh + Z');
    await exe.dispose();
  });

  it('an adaptive solver lands on every readout time (dopri5 vs the rk4 reference)', async () => {
    const rng = createRng(15);
    const model = stateModel(mlpBlock(rng, 2, 8, 'tanh'), 2);
    const x0 = Float32Array.from({ length: B * 2 }, () => rng.normal());
    const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: dopri5 });
    expectRelClose(await exe.predict(x0, B), reference(model, x0, B), 1e-4, 'mlp dopri5');
    await exe.dispose();
  });

  it('refuses a missing or wrong-sized inputs.u, and a u given to a model without a signal, naming inputs.u', async () => {
    const rng = createRng(16);
    const sig = { steps: 10, channels: 2, stepDuration: 0.1 };
    const model = stateModel(mlpBlock(rng, 2, 4, 'tanh', 2), 2, sig);
    const exe = await new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: rk4 });
    const x0 = new Float32Array(2 * 2);
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as OdemorError;
      }
      throw new Error('expected an error');
    };
    const missing = await err(exe.predict(x0, 2));
    expect(OdemorError.is(missing)).toBe(true);
    expect(missing.code).toBe('ARGUMENT');
    expect(missing.message).toMatch(/inputs\.u is missing/);
    expect(missing.message).toMatch(/\[batch 2, steps 10, channels 2\]/);
    const short = await err(exe.predict(x0, 2, { u: new Float32Array(39) }));
    expect(short.code).toBe('SHAPE');
    expect(short.message).toMatch(/inputs\.u has 39 values, expected batch 2 × \[steps 10, channels 2\] = 40/);
    await exe.dispose();
    const plain = await new TfjsRuntime({ backend: 'cpu' }).build(stateModel(mlpBlock(rng, 2, 4, 'tanh'), 2), { solver: rk4 });
    const extra = await err(plain.predict(x0, 2, { u: new Float32Array(40) }));
    expect(extra.code).toBe('ARGUMENT');
    expect(extra.message).toMatch(/inputs\.u was given .* but the model has no input signal/);
    await plain.dispose();
    // the forward pass itself, without predict: the same message
    const params = createParams(model);
    try {
      expect(() => tf.tidy(() => forward(model, params, tf.zeros([2, 2]), rk4))).toThrow(/inputs\.u is missing/);
    } finally {
      disposeParams(params);
    }
  });
});

// ───── exact time derivatives ─────

/** float64 right-hand side of the unified form z' = N σ(M z + c + Zin u) + Zr u + bias, from the IR */
function f64Field(block: Block): { dim: number; f: (z: Float64Array, u: number[] | undefined) => Float64Array; pre: (z: Float64Array, u: number[] | undefined) => Float64Array } {
  const mv = (W: Tensor32, x: ArrayLike<number>): Float64Array => {
    const [r, c] = W.shape as [number, number];
    const y = new Float64Array(r);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[i] = y[i]! + W.data[i * c + j]! * x[j]!;
    return y;
  };
  const act = (a: Activation, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : a === 'softplus' ? Math.log1p(Math.exp(v)) : v);
  let Mz: (z: Float64Array) => Float64Array;
  let N: Tensor32 | undefined;
  let c: Tensor32;
  let Zin: Tensor32 | undefined;
  let Zr: Tensor32 | undefined;
  let bias: Tensor32 | undefined;
  let dim: number;
  if (block.kind === 'ode') {
    if (block.A.type !== 'dense') throw new Error('dense A only');
    const A = block.A.weight;
    Mz = (z) => mv(A, z);
    c = block.b;
    Zr = block.Z;
    dim = block.n;
  } else if (block.kind === 'mlp') {
    const M = block.M;
    Mz = (z) => mv(M, z);
    N = block.N;
    c = block.c;
    Zin = block.Zin;
    bias = block.bias;
    dim = block.n;
  } else {
    if (block.M.type !== 'factored') throw new Error('factored M only');
    const { left, right } = block.M;
    Mz = (z) => mv(left, mv(right, z));
    N = block.N.type === 'dense' ? block.N.weight : undefined;
    c = block.c;
    Zin = block.Zin;
    Zr = block.Zr;
    bias = block.bias;
    dim = block.k;
  }
  const pre = (z: Float64Array, u: number[] | undefined) => {
    const a = Mz(z);
    for (let i = 0; i < a.length; i++) a[i] = a[i]! + c.data[i]!;
    if (Zin && u) mv(Zin, u).forEach((v, i) => (a[i] = a[i]! + v));
    return a;
  };
  const f = (z: Float64Array, u: number[] | undefined) => {
    const s = pre(z, u).map((v) => act(block.activation, v));
    const out = N ? mv(N, s) : s;
    if (Zr && u) mv(Zr, u).forEach((v, i) => (out[i] = out[i]! + v));
    if (bias) for (let i = 0; i < out.length; i++) out[i] = out[i]! + bias.data[i]!;
    return out;
  };
  return { dim, f, pre };
}

/**
 * Reference derivatives in float64, independent of the closed forms: integrate z' = f(z) from z to t ± h (u held
 * fixed) with small RK4 steps and take central differences of f along the solution:
 * x⁽²⁾ ≈ (f₊ − f₋) / 2h, x⁽³⁾ ≈ (f₊ − 2 f₀ + f₋) / h².
 */
function referenceDerivatives(field: ReturnType<typeof f64Field>, z: Float64Array, u: number[] | undefined, h: number): Float64Array[] {
  const flow = (z0: Float64Array, span: number): Float64Array => {
    const steps = 64;
    const dt = span / steps;
    let y = Float64Array.from(z0);
    const axpy = (a: Float64Array, s: number, b: Float64Array) => a.map((v, i) => v + s * b[i]!);
    for (let i = 0; i < steps; i++) {
      const k1 = field.f(y, u);
      const k2 = field.f(axpy(y, dt / 2, k1), u);
      const k3 = field.f(axpy(y, dt / 2, k2), u);
      const k4 = field.f(axpy(y, dt, k3), u);
      y = y.map((v, j) => v + (dt / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!));
    }
    return y;
  };
  const f0 = field.f(z, u);
  const fp = field.f(flow(z, h), u);
  const fm = field.f(flow(z, -h), u);
  return [f0, fp.map((v, i) => (v - fm[i]!) / (2 * h)), fp.map((v, i) => (v - 2 * f0[i]! + fm[i]!) / (h * h))];
}

describe('blockDerivatives: exact x⁽¹⁾, x⁽²⁾, x⁽³⁾ in closed form', () => {
  const B = 4;
  const kinds = ['ode', 'mlp', 'reduced'] as const;
  const activations: Activation[] = ['tanh', 'softplus', 'relu'];
  for (const kind of kinds) {
    for (const activation of activations) {
      it(`${kind} block, ${activation}: matches float64 central differences along the flow`, () => {
        const rng = createRng(100 + kinds.indexOf(kind) * 10 + activations.indexOf(activation));
        const p = 2;
        const sig = { steps: 4, channels: p, stepDuration: 0.25 };
        const block = kind === 'ode' ? odeBlock(rng, 3, activation, p) : kind === 'mlp' ? mlpBlock(rng, 3, 6, activation, p) : reducedBlock(rng, activation, p);
        const model = stateModel(block, kind === 'reduced' ? 4 : 3, sig);
        const field = f64Field(block);
        const dim = field.dim;
        const u = signalData(rng, B, sig.steps, sig.channels);
        const t = 0.6; // inside signal step 2: u is constant on [0.5, 0.75)
        const j = sequenceIndex(t, 0, sig.stepDuration, sig.steps);
        const z = Float32Array.from({ length: B * dim }, () => rng.normal());
        const params = createParams(model);
        try {
          const got = tf.tidy(() => {
            const d = blockDerivatives(model, params, tf.tensor3d(u, [B, sig.steps, sig.channels]));
            return d(t, tf.tensor2d(z, [B, dim]), 3).map((x) => x.arraySync() as number[][]);
          });
          expect(got).toHaveLength(3);
          for (let b = 0; b < B; b++) {
            const zb = Float64Array.from(z.subarray(b * dim, (b + 1) * dim));
            const ub = Array.from(u.subarray((b * sig.steps + j) * p, (b * sig.steps + j + 1) * p));
            if (activation === 'relu') {
              // relu is smooth only away from a = 0: the flow over ±h must not cross a kink
              const a = field.pre(zb, ub);
              expect(Math.min(...a.map(Math.abs)), `sample ${b}: a pre-activation is too close to the relu kink for the check`).toBeGreaterThan(1e-2);
            }
            const ref = referenceDerivatives(field, zb, ub, 1e-3);
            for (let o = 0; o < 3; o++) {
              const scale = Math.max(1, ...ref[o]!.map(Math.abs));
              for (let i = 0; i < dim; i++) {
                // float32 closed forms (~1e-6) against central differences (O(h²) ≈ 1e-6, rounding ≈ 1e-10)
                expect(Math.abs(got[o]![b]![i]! - ref[o]![i]!), `x⁽${o + 1}⁾[${b}, ${i}]: got ${got[o]![b]![i]}, want ${ref[o]![i]}`).toBeLessThan(2e-4 * scale);
              }
            }
          }
          // order 1 alone, and the solver's first derivative is the right-hand side
          const first = tf.tidy(() => blockDerivatives(model, params, tf.tensor3d(u, [B, sig.steps, sig.channels]))(t, tf.tensor2d(z, [B, dim]), 1).map((x) => x.arraySync()));
          expect(first).toHaveLength(1);
        } finally {
          disposeParams(params);
        }
      });
    }
  }

  it('x⁽²⁾ of the identity activation is N M f exactly and x⁽³⁾ = N M x⁽²⁾', () => {
    const rng = createRng(7);
    const block = mlpBlock(rng, 2, 3, 'identity');
    const model = stateModel(block, 2);
    const params = createParams(model);
    try {
      const [x1, x2, x3] = tf.tidy(() => blockDerivatives(model, params)(0, tf.tensor2d([[0.3, -0.7]]), 3).map((x) => Array.from(x.dataSync())));
      const field = f64Field(block);
      const NM = (v: number[]) => {
        const a = [0, 1, 2].map((i) => block.M.data[2 * i]! * v[0]! + block.M.data[2 * i + 1]! * v[1]!);
        return [0, 1].map((r) => a.reduce((s, ai, i) => s + block.N.data[r * 3 + i]! * ai, 0));
      };
      const f = Array.from(field.f(Float64Array.from([0.3, -0.7]), undefined));
      expectRelClose(x1!, f, 1e-6, 'x1');
      expectRelClose(x2!, NM(f), 1e-6, 'x2');
      expectRelClose(x3!, NM(NM(f)), 1e-6, 'x3');
    } finally {
      disposeParams(params);
    }
  });

  it('refuses orders outside 1–3 and a missing signal', () => {
    const rng = createRng(8);
    const sig = { steps: 4, channels: 1, stepDuration: 0.25 };
    const model = stateModel(mlpBlock(rng, 2, 3, 'tanh', 1), 2, sig);
    const params = createParams(model);
    try {
      const d = blockDerivatives(model, params, tf.zeros([1, 4, 1]));
      expect(MAX_DERIVATIVE_ORDER).toBe(3);
      expect(() => tf.tidy(() => d(0, tf.zeros([1, 2]), 4))).toThrow(/order must be an integer from 1 to 3 .*got 4/);
      expect(() => tf.tidy(() => d(0, tf.zeros([1, 2]), 0))).toThrow(/got 0/);
      expect(() => blockDerivatives(model, params)).toThrow(/inputs\.u is missing/);
    } finally {
      disposeParams(params);
    }
  });
});

// ───── solvers that ask for derivatives and a midpoint ─────

/**
 * A second-order Taylor step with a Lagrange-style remainder, as a test step program: y₁ = y + h x⁽¹⁾ + h²/2 x⁽²⁾
 * + h³/6 x⁽³⁾(ξ), ξ = y + Γ(y) ⊙ x⁽¹⁾; remainder = h³/6 x⁽³⁾(ξ).
 */
const taylor2: Solver = {
  name: 'taylor2-test',
  order: 3,
  adaptive: false,
  derivatives: 3,
  step<T>(alg: SolverAlgebra<T>, _f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>): StepOutput<T> {
    const [x1, x2] = context.derivatives!(t, y, 2);
    const xi = context.midpoint ? alg.axpy(y, [1], [alg.mul!(context.midpoint(t, y), x1!)]) : y;
    const x3 = context.derivatives!(t, xi, 3)[2]!;
    for (let i = 0; i < 3; i++) context.onEval?.();
    const remainder = alg.combine([h ** 3 / 6], [x3]);
    return { y1: alg.axpy(y, [h, (h * h) / 2, 1], [x1!, x2!, remainder]), remainder: alg.clone(remainder) };
  },
};

describe('solvers that declare derivatives get exact derivatives and the model midpoint', () => {
  it('a third-order Taylor step through the runtime matches rk4 closely; the midpoint network is applied', async () => {
    const rng = createRng(21);
    const model = stateModel(mlpBlock(rng, 2, 6, 'tanh'), 2);
    const B = 2;
    const x0 = Float32Array.from({ length: B * 2 }, () => rng.normal());
    const ref = reference(model, x0, B);
    const rt = new TfjsRuntime({ backend: 'cpu' });
    const exe = await rt.build(model, { solver: taylor2 });
    const out = await exe.predict(x0, B);
    // a third-order method with dt = 0.05: close to the rk4 reference, not equal
    expectRelClose(out, ref, 1e-3, 'taylor2 without midpoint');
    await exe.dispose();
    // with a midpoint network Γ(z) = W z (dense, no bias): ξ moves, the result changes a little
    const withMid: ModelIR = { ...model, midpoint: { layers: [{ type: 'dense', weight: { shape: [2, 2], data: Float32Array.from([0.5, 0, 0, 0.5]) } }] } };
    expect(rt.supports(withMid)).toEqual({ ok: true });
    const exe2 = await rt.build(withMid, { solver: taylor2 });
    const out2 = await exe2.predict(x0, B);
    expectRelClose(out2, ref, 1e-3, 'taylor2 with midpoint');
    expect(Math.max(...out2.map((v, i) => Math.abs(v - out[i]!)))).toBeGreaterThan(0);
    await exe2.dispose();
  });

  it('refuses a solver asking for more derivatives than the runtime computes', async () => {
    const model = stateModel(mlpBlock(createRng(1), 2, 2, 'tanh'), 2);
    const greedy = { ...taylor2, derivatives: 4 } as Solver;
    await expect(new TfjsRuntime({ backend: 'cpu' }).build(model, { solver: greedy })).rejects.toThrow(/up to order 4; the tfjs runtime computes them up to order 3/);
  });
});

/**
 * Taylor-Lagrange on the onnx runtime: step programs unrolled with the block's exact time derivatives (closed forms
 * up to x⁽³⁾) and the midpoint network as graph nodes — against a float64 Taylor step (core's float64Algebra, the
 * solver plugin's step, exact derivatives of the same block in float64) and against runtime-tfjs's forward; the
 * remainder output; the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  float64Algebra,
  listTensors,
  sequenceIndex,
  withTensors,
  solveWith,
  type Activation,
  type Layer,
  type MidpointNet,
  type ModelIR,
  type Solver,
} from '@odemor/core';
import { inputSize, runtimeModelCases, runtimeModels, signalInput, uniformInput, uniformTensor } from '@odemor/conformance';
import { TaylorLagrangeSolver, taylorSolver } from '@odemor/solver-taylor-lagrange';
import { createParams, disposeParams, forward, initTfjs, inputTensor, signalTensor } from '@odemor/runtime-tfjs';
import { GRAPH_NAMES, OnnxExecutable, OnnxRuntime, compileModel, createSession, lossAndGradients } from '../src/index.js';

const runtime = new OnnxRuntime({ threads: 1 });
afterAll(() => runtime.dispose());
beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});

/** max over entries of |a − b| / (1 + |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

/** A small midpoint network s → 5 → s (dense, tanh, dense), weights uniform ±scale from `seed`. */
function midpointNet(s: number, seed: number, scale = 0.3): MidpointNet {
  const r = (() => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  })();
  const u = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((p, v) => p * v, 1) }, () => (2 * r() - 1) * scale) });
  const layers: Layer[] = [
    { type: 'dense', weight: u([5, s]), bias: u([5]) },
    { type: 'tanh' },
    { type: 'dense', weight: u([s, 5]), bias: u([s]) },
  ];
  return { layers };
}

const stateSize = (m: ModelIR) => (m.block.kind === 'reduced' ? m.block.k : m.block.n);

/** runtime-tfjs's forward pass of `model` with `solver` (cpu backend). */
function tfjsForward(model: ModelIR, x: Float32Array, batch: number, solver: Solver, u?: Float32Array): Float32Array {
  const params = createParams(model);
  try {
    const out = tf.tidy(() => {
      const ut = signalTensor(model, u, batch);
      return forward(model, params, inputTensor(model, x, batch), solver, ut ? { u: ut } : {});
    });
    const v = out.dataSync() as Float32Array;
    out.dispose();
    return Float32Array.from(v);
  } finally {
    disposeParams(params);
  }
}

async function onnxForward(model: ModelIR, x: Float32Array, batch: number, solver: Solver, u?: Float32Array): Promise<Float32Array> {
  const exe = await runtime.build(model, { solver });
  try {
    expect(exe).toBeInstanceOf(OnnxExecutable);
    return await exe.predict(x, batch, u ? { u } : undefined);
  } finally {
    await exe.dispose();
  }
}

describe('compiled Taylor-Lagrange steps against runtime-tfjs (every runtime model of the conformance kit)', () => {
  const BATCH = 3;
  for (const { name, model: make } of runtimeModelCases()) {
    it(`${name}: taylor-lagrange p = 2 with a midpoint network, p = 1 with Γ = 0, taylor p = 3 — within 1e-4 of tfjs`, async () => {
      // large steps (dt 1, a readout segment's last step shortened) so that the higher Taylor terms and Γ matter
      const made = make();
      const base: ModelIR = { ...made, solver: { ...made.solver, dt: 1 } };
      const x = uniformInput(11, BATCH * inputSize(base));
      const u = signalInput(base, BATCH, 12);
      const cases: [ModelIR, Solver][] = [
        [{ ...base, midpoint: midpointNet(stateSize(base), 5, 1) }, new TaylorLagrangeSolver({ order: 2 })],
        [base, new TaylorLagrangeSolver({ order: 1 })],
        [base, taylorSolver({ order: 3 })],
      ];
      const outs: Float32Array[] = [];
      for (const [model, solver] of cases) {
        const got = await onnxForward(model, x, BATCH, solver, u);
        const want = tfjsForward(model, x, BATCH, solver, u);
        expect(got.length).toBe(BATCH * base.outputs);
        expect(relErr(got, want), `${solver.name} order ${(solver as TaylorLagrangeSolver).taylorOrder}`).toBeLessThan(1e-4);
        outs.push(got);
      }
      // the cases differ from each other (the midpoint and the orders matter)
      expect(relErr(outs[0]!, outs[1]!)).toBeGreaterThan(3e-4);
      expect(relErr(outs[1]!, outs[2]!)).toBeGreaterThan(3e-4);
    });
  }
});

// ───────────── float64 reference: the solver plugin's step with exact derivatives of the same block ─────────────

type Vec = Float64Array;
/** y = W x (+ b) for W [rows, cols] row-major */
function matVec(W: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>, b?: ArrayLike<number>): Vec {
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = b ? b[i]! : 0;
    for (let j = 0; j < cols; j++) s += W[i * cols + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}
function sigma64(a: Activation, v: number): { s: number; d1: number; d2: number } {
  switch (a) {
    case 'tanh': {
      const s = Math.tanh(v);
      return { s, d1: 1 - s * s, d2: -2 * s * (1 - s * s) };
    }
    case 'relu':
      return { s: Math.max(v, 0), d1: v > 0 ? 1 : 0, d2: 0 };
    case 'softplus': {
      const g = 1 / (1 + Math.exp(-v));
      return { s: Math.log1p(Math.exp(v)), d1: g, d2: g * (1 - g) };
    }
    default:
      return { s: v, d1: 1, d2: 0 };
  }
}

/** The block of `model` (dense full, mlp, or reduced with dense M/N) as f = N σ(M z + c + Zin u) + Zr u + bias in float64. */
function field64(model: ModelIR) {
  const b = model.block;
  if (b.kind === 'ode') {
    if (b.A.type !== 'dense') throw new Error('field64: dense full blocks only');
    const n = b.n;
    return { s: n, m: n, M: b.A.weight.data, c: b.b.data, N: undefined, Zin: undefined, Zr: b.Z?.data, bias: undefined, act: b.activation, p: b.Z ? b.Z.shape[1]! : 0 };
  }
  if (b.kind === 'mlp') {
    return { s: b.n, m: b.m, M: b.M.data, c: b.c.data, N: b.N.data, Zin: b.Zin?.data, Zr: undefined, bias: b.bias.data, act: b.activation, p: b.Zin ? b.Zin.shape[1]! : 0 };
  }
  if (b.M.type !== 'dense') throw new Error('field64: dense M only');
  const p = b.Zin?.shape[1] ?? b.Zr?.shape[1] ?? 0;
  return { s: b.k, m: b.m, M: b.M.weight.data, c: b.c.data, N: b.N.type === 'dense' ? b.N.weight.data : undefined, Zin: b.Zin?.data, Zr: b.Zr?.data, bias: b.bias?.data, act: b.activation, p };
}

/**
 * x⁽¹⁾ … x⁽ᵒʳᵈᵉʳ⁾ of the block in float64 at (z, u): x⁽¹⁾ = f, x⁽²⁾ = N(σ'(a) ⊙ M x⁽¹⁾),
 * x⁽³⁾ = N(σ''(a) ⊙ (M x⁽¹⁾)² + σ'(a) ⊙ M x⁽²⁾) (u constant inside a step).
 */
function derivatives64(F: ReturnType<typeof field64>, z: Vec, u: ArrayLike<number> | undefined, order: number): Vec[] {
  const { s, m } = F;
  const a = matVec(F.M, m, s, z, F.c);
  if (F.Zin && u) {
    const zu = matVec(F.Zin, m, F.p, u);
    for (let i = 0; i < m; i++) a[i] += zu[i]!;
  }
  const sg = Array.from(a, (v) => sigma64(F.act, v));
  const N = (h: Vec): Vec => (F.N ? matVec(F.N, s, m, h) : h);
  const x1 = N(Float64Array.from(sg, (q) => q.s));
  if (F.Zr && u) {
    const r = matVec(F.Zr, s, F.p, u);
    for (let i = 0; i < s; i++) x1[i] += r[i]!;
  }
  if (F.bias) for (let i = 0; i < s; i++) x1[i] += F.bias[i]!;
  const out = [x1];
  if (order >= 2) {
    const v1 = matVec(F.M, m, s, x1);
    out.push(N(Float64Array.from(v1, (v, i) => sg[i]!.d1 * v)));
    if (order >= 3) {
      const v2 = matVec(F.M, m, s, out[1]!);
      out.push(N(Float64Array.from(v2, (v, i) => sg[i]!.d1 * v + sg[i]!.d2 * v1[i]! * v1[i]!)));
    }
  }
  return out.slice(0, order);
}

/** dense / relu / tanh / flatten layers in float64 */
function layers64(layers: readonly Layer[], x: Vec): Vec {
  let h = x;
  for (const l of layers) {
    if (l.type === 'dense') h = matVec(l.weight.data, l.weight.shape[0]!, l.weight.shape[1]!, h, l.bias?.data);
    else if (l.type === 'relu') h = h.map((v) => Math.max(v, 0));
    else if (l.type === 'tanh') h = h.map(Math.tanh);
    else if (l.type !== 'flatten') throw new Error(`layers64: ${l.type}`);
  }
  return h;
}

/**
 * The model's forward pass in float64, one sample at a time: pre layers, E, the solver's own step program through
 * core's `solveWith` over `float64Algebra` (segment by segment for a readout) with {@link derivatives64} and the
 * midpoint network in float64, D, post layers.
 */
function reference64(model: ModelIR, x: Float32Array, batch: number, solver: Solver, u?: Float32Array, onRemainder?: (r: Vec) => void): Float64Array {
  const F = field64(model);
  const b = model.block;
  const inSize = inputSize(model);
  const sig = model.input.kind === 'state' ? model.input.signal : undefined;
  const { t0, dt } = model.solver;
  const out = new Float64Array(batch * model.outputs);
  for (let i = 0; i < batch; i++) {
    const uAt = (t: number) => {
      if (!sig || !u) return undefined;
      const j = sequenceIndex(t, t0, sig.stepDuration, sig.steps);
      return u.subarray((i * sig.steps + j) * sig.channels, (i * sig.steps + j + 1) * sig.channels);
    };
    let z = layers64(model.pre, Float64Array.from(x.subarray(i * inSize, (i + 1) * inSize)));
    if (b.kind === 'reduced' && b.E.type === 'dense') z = matVec(b.E.weight.data, b.k, b.n, z);
    const readout = (y: Vec): Vec => (b.kind === 'reduced' && b.D.type === 'dense' ? matVec(b.D.weight.data, b.n, b.k, y) : y);
    const opts = {
      dt,
      derivatives: (t: number, y: Vec, order: number) => derivatives64(F, y, uAt(t), order),
      ...(model.midpoint ? { midpoint: (_t: number, y: Vec) => layers64(model.midpoint!.layers, y) } : {}),
      ...(onRemainder ? { onRemainder } : {}),
    };
    const f = (t: number, y: Vec) => derivatives64(F, y, uAt(t), 1)[0]!;
    if (model.readout) {
      let from = t0;
      const states: Vec[] = [];
      for (const to of model.readout.times) {
        z = solveWith(float64Algebra, solver, f, z, { ...opts, t0: from, t1: to }).y;
        states.push(readout(z));
        from = to;
      }
      states.forEach((s, k) => out.set(s, i * model.outputs + k * s.length));
    } else {
      z = solveWith(float64Algebra, solver, f, z, { ...opts, t0, t1: model.solver.t1 }).y;
      out.set(layers64(model.post, readout(z)), i * model.outputs);
    }
  }
  return out;
}

describe('compiled Taylor-Lagrange steps against a float64 Taylor step of the same block', () => {
  const BATCH = 4;
  const withDt = (m: ModelIR, dt: number): ModelIR => ({ ...m, solver: { ...m.solver, dt } });
  const cases: [string, () => ModelIR][] = [
    ['mlp trajectory (tanh, readout segments with shortened last steps)', () => withDt(runtimeModels.mlpTrajectory(), 0.2)],
    ['dense full block with dense pre / post layers (tanh)', () => withDt(runtimeModels.denseNode(), 0.25)],
    ['dense full block (relu)', () => withDt(runtimeModels.denseNode(1, 'relu'), 0.25)],
    ['mlp block with an input signal through Zin (softplus)', () => withDt(runtimeModels.mlpSignal(), 0.25)],
    ['reduced block with E, D, Zin, Zr and bias on a signal (tanh)', () => withDt(runtimeModels.reducedMlpSignal(), 0.25)],
  ];
  for (const [label, make] of cases) {
    it(`${label}: order 1 and 2, Γ = 0 and a midpoint network, within 1e-4`, async () => {
      const base = make();
      const x = uniformInput(21, BATCH * inputSize(base));
      const u = signalInput(base, BATCH, 22);
      const net = { ...base, midpoint: midpointNet(stateSize(base), 9, 0.8) };
      for (const model of [base, net]) {
        for (const order of [1, 2]) {
          const solver = new TaylorLagrangeSolver({ order });
          const got = await onnxForward(model, x, BATCH, solver, u);
          const want = reference64(model, x, BATCH, solver, u);
          expect(relErr(got, want), `order ${order}${model.midpoint ? ' with Γ' : ''}`).toBeLessThan(1e-4);
        }
      }
      // the truncated series of order 3 (x⁽³⁾ in the polynomial) too
      const t3 = taylorSolver({ order: 3 });
      expect(relErr(await onnxForward(base, x, BATCH, t3, u), reference64(base, x, BATCH, t3, u))).toBeLessThan(1e-4);
    });
  }

  it('the reference is not trivial: Γ, the order and the step size change the float64 result', () => {
    const base = withDt(runtimeModels.mlpTrajectory(), 0.2);
    const x = uniformInput(21, BATCH * inputSize(base));
    const one = reference64(base, x, BATCH, new TaylorLagrangeSolver({ order: 1 }));
    const two = reference64(base, x, BATCH, new TaylorLagrangeSolver({ order: 2 }));
    const net = reference64({ ...base, midpoint: midpointNet(2, 9, 0.8) }, x, BATCH, new TaylorLagrangeSolver({ order: 1 }));
    expect(relErr(one, two)).toBeGreaterThan(1e-3);
    expect(relErr(one, net)).toBeGreaterThan(1e-3);
  });
});

describe('remainders, other step programs, refusals', () => {
  it('remainderAbsMean = mean over steps, batch and state of |R|, as tfjs collects the remainders', async () => {
    const model: ModelIR = { ...runtimeModels.mlpSignal(), solver: { ...runtimeModels.mlpSignal().solver, dt: 0.25 }, midpoint: midpointNet(3, 4, 0.5) };
    const x = uniformInput(31, 2 * inputSize(model));
    const u = signalInput(model, 2, 32)!;
    const solver = new TaylorLagrangeSolver({ order: 2 });
    const bytes = compileModel(model, { solver, remainderOutput: true });
    const session = await createSession(bytes, 1);
    const { Tensor } = await import('onnxruntime-node');
    let got: number;
    try {
      const out = await session.run({ x: new Tensor('float32', x, [2, 3]), u: new Tensor('float32', u, [2, 8, 2]) });
      got = (out[GRAPH_NAMES.remainderAbsMean]!.data as Float32Array)[0]!;
      // the logits are those of the graph without the extra output
      expect(relErr(out[GRAPH_NAMES.logits]!.data as Float32Array, tfjsForward(model, x, 2, solver, u))).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
    const params = createParams(model);
    const want = tf.tidy(() => {
      const rs: tf.Tensor2D[] = [];
      forward(model, params, inputTensor(model, x, 2), solver, { u: signalTensor(model, u, 2)!, onRemainder: (r) => void rs.push(r) });
      // 3 readout segments of 0.3: two steps each (0.25 and a shortened 0.05)
      expect(rs.length).toBe(6);
      return tf.mean(tf.abs(tf.stack(rs))).dataSync()[0]!;
    });
    disposeParams(params);
    expect(got).toBeGreaterThan(1e-4);
    expect(Math.abs(got - want)).toBeLessThan(1e-6 + 1e-5 * want);
  });

  it('a conv block: the remainders are flattened per sample (NCHW state) for the mean', async () => {
    const model: ModelIR = { ...runtimeModels.convNode(), solver: { ...runtimeModels.convNode().solver, dt: 0.5 }, midpoint: midpointNet(18, 6, 0.5) };
    const x = uniformInput(33, 2 * inputSize(model));
    const solver = new TaylorLagrangeSolver({ order: 1 });
    const session = await createSession(compileModel(model, { solver, remainderOutput: true }), 1);
    const { Tensor } = await import('onnxruntime-node');
    try {
      const out = await session.run({ x: new Tensor('float32', x, [2, 6, 6, 1]) });
      const params = createParams(model);
      const want = tf.tidy(() => {
        const rs: tf.Tensor2D[] = [];
        forward(model, params, inputTensor(model, x, 2), solver, { onRemainder: (r) => void rs.push(r) });
        return tf.mean(tf.abs(tf.stack(rs))).dataSync()[0]!;
      });
      disposeParams(params);
      const got = (out[GRAPH_NAMES.remainderAbsMean]!.data as Float32Array)[0]!;
      expect(Math.abs(got - want)).toBeLessThan(1e-6 + 1e-5 * want);
    } finally {
      await session.release();
    }
  });

  it("any fixed-step step program unrolls (Heun's method written over the algebra), as core's float64 driver runs it", async () => {
    const heun: Solver = {
      name: 'heun-program',
      order: 2,
      adaptive: false,
      step(alg, f, t, y, h, context) {
        context.onEval?.();
        const k1 = f(t, y);
        const y1 = alg.axpy(y, [h], [k1]);
        context.onEval?.();
        const k2 = f(t + h, y1);
        return { y1: alg.axpy(y, [h / 2, h / 2], [k1, k2]) };
      },
    };
    const model = { ...runtimeModels.mlpTrajectory(), solver: { ...runtimeModels.mlpTrajectory().solver, dt: 0.2 } };
    const x = uniformInput(41, 3 * 2);
    expect(new OnnxRuntime({ solver: heun }).supports(model)).toEqual({ ok: true });
    expect(relErr(await onnxForward(model, x, 3, heun), reference64(model, x, 3, heun))).toBeLessThan(1e-4);
  });

  it('refuses adaptive step programs, more than 3 derivatives (taylor-lagrange order 3 needs x⁽⁴⁾), remainders of solvers without', async () => {
    const model = runtimeModels.mlpTrajectory();
    const adaptiveProgram = { name: 'adaptive-taylor', adaptive: true, order: 2, derivatives: 2, step: new TaylorLagrangeSolver().step };
    const expected = 'adaptive-taylor is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver';
    expect(new OnnxRuntime({ solver: adaptiveProgram }).supports(model)).toEqual({ ok: false, reason: expected });
    await expect(runtime.build(model, { solver: adaptiveProgram })).rejects.toThrow(expected);
    expect(() => compileModel(model, { solver: adaptiveProgram })).toThrow(expected);

    const p3 = new TaylorLagrangeSolver({ order: 3 });
    const reason = "solver 'taylor-lagrange' needs time derivatives of the solution up to order 4 (x⁽⁴⁾), but the onnx runtime computes them up to order 3 only (the closed forms x⁽¹⁾ … x⁽³⁾ of the block); use a lower Taylor order (taylor-lagrange: order ≤ 2 with the remainder, taylor: order ≤ 3)";
    expect(new OnnxRuntime({ solver: p3 }).supports(model)).toEqual({ ok: false, reason });
    await expect(runtime.build(model, { solver: p3 })).rejects.toMatchObject({ code: 'RUNTIME', message: reason });
    expect(() => compileModel(model, { solver: p3 })).toThrow(reason);
    // without the remainder, order 3 needs x⁽³⁾ only
    expect(new OnnxRuntime({ solver: taylorSolver({ order: 3 }) }).supports(model)).toEqual({ ok: true });

    // remainderAbsMean needs a step program that returns remainders
    const rk4 = { name: 'rk4', adaptive: false, tableau: { a: [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], c: [0, 0.5, 0.5, 1], order: 4 } };
    expect(() => compileModel(model, { solver: rk4, remainderOutput: true })).toThrow(/remainderAbsMean was asked for, but solver 'rk4' returns no remainder terms/);
    expect(() => compileModel(model, { solver: taylorSolver({ order: 2 }), remainderOutput: true })).toThrow(/solver 'taylor' returns no remainder terms/);
    // a solver object with neither a tableau nor a step
    expect(new OnnxRuntime({ solver: { name: 'nothing', adaptive: false } }).supports(model)).toEqual({
      ok: false,
      reason: "solver 'nothing' has neither a Butcher tableau nor a step program, which the onnx runtime could unroll",
    });
  });

  it('a snapshot pass with a Taylor-Lagrange solver samples the unrolled steps', async () => {
    const model = { ...runtimeModels.denseNode(), solver: { ...runtimeModels.denseNode().solver, dt: 0.25 } };
    const x = uniformInput(51, 2 * 4);
    const solver = new TaylorLagrangeSolver({ order: 2 });
    const snap = await runtime.snapshotBatch(model, x, 2, { every: 2, solver });
    expect(snap.count).toBe(2 * 2);
    // the final state is the block's output, which the post layer maps to the logits
    const feats = await onnxForward({ ...model, post: [{ type: 'flatten' }], outputs: 8 }, x, 2, solver);
    expect(relErr(snap.final, feats)).toBeLessThan(1e-6);
  });
});

// ───────────── gradients through Taylor-Lagrange steps ─────────────

/** task loss + λ · mean|R| and its gradients by tfjs autodiff through runtime-tfjs's forward pass (every tensor trains). */
function tfjsLossAndGrads(model: ModelIR, x: Float32Array, y: Int32Array | Float32Array, batch: number, solver: Solver, lambda: number, u?: Float32Array) {
  const params = createParams(model, () => true);
  try {
    const vars = [...params];
    const { value, grads } = tf.variableGrads(() => {
      const rs: tf.Tensor2D[] = [];
      const ut = signalTensor(model, u, batch);
      const logits = forward(model, params, inputTensor(model, x, batch), solver, { ...(ut ? { u: ut } : {}), onRemainder: (r) => void rs.push(r) });
      let loss = y instanceof Float32Array
        ? tf.mean(tf.squaredDifference(logits, tf.tensor2d(y, [batch, model.outputs])))
        : tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), model.outputs), logits);
      if (lambda > 0 && rs.length) loss = tf.add(loss, tf.mul(lambda, tf.mean(tf.abs(tf.stack(rs)))));
      return loss as tf.Scalar;
    }, vars.map(([, v]) => v as tf.Variable)) as { value: tf.Scalar; grads: Record<string, tf.Tensor> };
    const out = new Map<string, Float32Array>();
    for (const [path, v] of vars) out.set(path, grads[(v as tf.Variable).name] ? Float32Array.from(grads[(v as tf.Variable).name]!.dataSync()) : new Float32Array(v.size));
    const l = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    return { loss: l, grads: out };
  } finally {
    disposeParams(params);
  }
}

/** max |a − b| / max |b| */
function gradErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

describe('gradients of the task loss and of λ · mean|R| through Taylor-Lagrange steps', () => {
  const BATCH = 3;
  const names = ['dense', 'dense-relu', 'conv-same', 'antisym-seq', 'deim-seq-zin-bias', 'svd', 'mlp', 'mlp-trajectory', 'mlp-signal-trajectory', 'reduced-mlp-signal-trajectory'];
  for (const { name, model: make } of runtimeModelCases().filter((c) => names.includes(c.name))) {
    it(`${name}: order 2 with a midpoint network, λ = 0.5 — every tensor's gradient (φ too) within 1e-3 of tfjs autodiff`, async () => {
      const made = make();
      const model: ModelIR = { ...made, solver: { ...made.solver, dt: 0.5 }, midpoint: midpointNet(stateSize(made), 3, 0.5) };
      const x = uniformInput(61, BATCH * inputSize(model));
      const u = signalInput(model, BATCH, 62);
      const regression = !!model.readout;
      const y = regression ? uniformInput(63, BATCH * model.outputs) : Int32Array.from({ length: BATCH }, (_, i) => i % model.outputs);
      const solver = new TaylorLagrangeSolver({ order: 2 });
      const want = tfjsLossAndGrads(model, x, y, BATCH, solver, 0.5, u);
      const got = await lossAndGradients(model, x, y, { solver, remainderWeight: 0.5, loss: regression ? 'mse' : 'softmax-cross-entropy', threads: 1 }, u ? { u } : undefined);
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-4 * (1 + Math.abs(want.loss)));
      expect(got.remainderAbsMean).toBeGreaterThan(0);
      for (const [path, g] of want.grads) expect(gradErr(got.grads.get(path)!, g), path).toBeLessThan(1e-3);
      // the midpoint network has a gradient (through ξ in the remainder)
      expect(Math.max(...Array.from(got.grads.get('midpoint.layers.0.weight')!, Math.abs))).toBeGreaterThan(1e-6);
    });
  }

  it('float64 central differences (mlp trajectory, order 1 and 2): the task loss alone, and with λ · mean|R|', async () => {
    const made = runtimeModels.mlpTrajectory();
    const model: ModelIR = { ...made, solver: { ...made.solver, dt: 0.3 }, midpoint: midpointNet(2, 7, 0.6) };
    const x = uniformInput(71, BATCH * 2);
    const y = uniformInput(72, BATCH * model.outputs);
    const loss64 = (m: ModelIR, solver: Solver, lambda: number): number => {
      const rs: Vec[] = [];
      const out = reference64(m, x, BATCH, solver, undefined, (r) => void rs.push(r));
      let mse = 0;
      for (let i = 0; i < out.length; i++) mse += (out[i]! - y[i]!) ** 2;
      let abs = 0;
      let count = 0;
      for (const r of rs) for (const v of r) (abs += Math.abs(v)), count++;
      // rs holds one [s] remainder per sample and step: the mean over steps, batch and state
      return mse / out.length + (lambda * abs) / count;
    };
    for (const order of [1, 2]) {
      const solver = new TaylorLagrangeSolver({ order });
      const plain = await lossAndGradients(model, x, y, { solver, loss: 'mse', threads: 1 });
      for (const lambda of [0, 20]) {
        const res = lambda ? await lossAndGradients(model, x, y, { solver, loss: 'mse', remainderWeight: lambda, threads: 1 }) : plain;
        expect(res.loss).toBeCloseTo(loss64(model, solver, lambda), 5);
        for (const path of ['block.M', 'block.N', 'block.c', 'midpoint.layers.0.weight', 'midpoint.layers.2.bias']) {
          const g = res.grads.get(path)!;
          const t = listTensors(model).find((e) => e.path === path)!.tensor;
          const fd = new Float64Array(t.data.length);
          const eps = 1e-4;
          for (let i = 0; i < t.data.length; i++) {
            const at = (d: number) => {
              // the float64 reference reads any ArrayLike: perturb a float64 copy of the tensor (exact steps ±eps)
              const m = withTensors(model);
              const target = listTensors(m).find((e) => e.path === path)!.tensor as { data: ArrayLike<number> };
              const v = Float64Array.from(t.data);
              v[i] = v[i]! + d;
              target.data = v;
              return loss64(m, solver, lambda);
            };
            fd[i] = (at(eps) - at(-eps)) / (2 * eps);
          }
          expect(gradErr(g, fd), `order ${order}, λ = ${lambda}, ${path}`).toBeLessThan(lambda ? 5e-3 : 2e-3);
          // the remainder term changes the gradient
          if (lambda) expect(gradErr(g, plain.grads.get(path)!), `λ changes ${path}`).toBeGreaterThan(1e-2);
        }
        if (lambda) expect(res.loss - plain.loss).toBeCloseTo(lambda * res.remainderAbsMean!, 5);
      }
    }
  });
});

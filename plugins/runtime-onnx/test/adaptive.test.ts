/**
 * Adaptive solvers (Dopri5) on onnxruntime: the step loop against the float64 reference and against the tfjs
 * runtime's adaptive solve (same controller, same float32 error estimate up to rounding), NFE and step counts,
 * tolerances, maxSteps, refusals, snapshot passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExplicitRungeKuttaSolver, OdemorError, blockOutputShape, denseA, type ModelIR, type SolveStats, type Solver } from '@odemor/core';
import { applyLayers, createParams, disposeParams, forwardPost, initTfjs, inputTensor, integrateBlock, prepareBlock, snapshotBatch as tfjsSnapshotBatch } from '@odemor/runtime-tfjs';
import { REFERENCE_TABLEAUX, inputSize, referenceForward, runtimeModels, uniformInput } from '@odemor/conformance';
import { OnnxAdaptiveExecutable, OnnxBackpropTrainer, OnnxRuntime, compileAdaptive } from '../src/index.js';

const DOPRI5 = REFERENCE_TABLEAUX.dopri5;
const runtime = new OnnxRuntime({ threads: 1 });

beforeAll(async () => {
  expect(await initTfjs('cpu')).toBe('cpu');
});
afterAll(() => runtime.dispose());

const dopri5 = (options: { rtol?: number; atol?: number; maxSteps?: number } = {}): Solver => new ExplicitRungeKuttaSolver('dopri5', DOPRI5, true, options);

/** `model` with the dopri5 solver spec (first trial step `dt`) and tolerances. */
function adaptive(model: ModelIR, rtol: number, atol: number, dt = 0.1): ModelIR {
  return { ...model, solver: { ...model.solver, use: 'dopri5', dt, rtol, atol } };
}

/** Logits and solver stats of the tfjs runtime's eager adaptive forward pass (cpu backend). */
function tfjsForward(model: ModelIR, x: Float32Array, batch: number, solver: Solver): { logits: Float32Array; stats: SolveStats } {
  const params = createParams(model);
  try {
    let stats: SolveStats | undefined;
    const logits = tf.tidy(() => {
      const xt = inputTensor(model, x, batch);
      const preOut = model.input.kind === 'sequence' ? xt : applyLayers(model.pre, params, 'pre', xt);
      const program = prepareBlock(model, params, preOut, xt);
      const res = integrateBlock(model, program, solver);
      stats = res.stats;
      return forwardPost(model, params, tf.reshape(program.readout(res.y), [batch, ...blockOutputShape(model)]));
    });
    const data = logits.dataSync() as Float32Array;
    logits.dispose();
    return { logits: data, stats: stats! };
  } finally {
    disposeParams(params);
  }
}

/** max over entries of |a − b| / (1 + |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

async function build(model: ModelIR, solver: Solver): Promise<OnnxAdaptiveExecutable> {
  const exe = await runtime.build(model, { solver, tableau: solver.tableau! });
  expect(exe).toBeInstanceOf(OnnxAdaptiveExecutable);
  return exe as OnnxAdaptiveExecutable;
}

async function rejection(p: Promise<unknown>): Promise<OdemorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return e as OdemorError;
  }
  throw new Error('expected a rejection');
}

const BATCH = 4;
/** models whose right-hand side is smooth in t: the runtimes take the very same steps */
const smooth: [string, () => ModelIR][] = [
  ['dense', () => runtimeModels.denseNode()],
  ['conv (Conv block, valid conv + maxpool before it)', () => runtimeModels.convNode()],
  ['conv-same (stride 2, softplus)', () => runtimeModels.convSame()],
  ['antisym', () => runtimeModels.antisymmetricNode()],
  ['reduced: POD-DEIM-like', () => runtimeModels.deimReduced()],
  ['reduced: built by buildInterpolatedBlock', () => runtimeModels.interpolatedDense()],
  ['reduced: SVD-factored M', () => runtimeModels.svdReduced()],
  ['reduced: APoZ with a post scatter layer', () => runtimeModels.apozScatterLayer()],
];
/** sequence models (ODE-RNN): u(t) is piecewise constant, with a jump at every element boundary */
const sequence: [string, () => ModelIR][] = [
  ['dense-seq (ODE-RNN)', () => runtimeModels.denseSeq()],
  ['antisym-seq', () => runtimeModels.antisymmetricSeq()],
  ['reduced: sequence input with Zr', () => runtimeModels.seqReduced()],
];

/** Build `model` on onnx, predict `x`, and return the logits, the stats and tfjs's logits and stats. */
async function both(model: ModelIR, x: Float32Array, batch: number, solver = dopri5()) {
  const exe = await build(model, solver);
  try {
    expect(exe.lastStats).toBeUndefined();
    const logits = await exe.predict(x, batch);
    const stats = exe.lastStats!;
    expect(stats.nfe, 'NFE = 1 + 6·(accepted + rejected) (FSAL)').toBe(1 + 6 * (stats.accepted + stats.rejected));
    // a second predict: the same logits and stats
    expect(Array.from(await exe.predict(x, batch))).toEqual(Array.from(logits));
    expect(exe.lastStats).toEqual(stats);
    return { logits, stats, tfjs: tfjsForward(model, x, batch, solver) };
  } finally {
    await exe.dispose();
  }
}

/** fine-step float64 RK4 (error ≪ the tolerances used here) */
const reference = (model: ModelIR, x: Float32Array, batch: number) =>
  referenceForward({ ...model, solver: { ...model.solver, dt: 0.002 } }, x, batch, REFERENCE_TABLEAUX.rk4).logits;

describe('Dopri5 on onnxruntime (the step graph driven by core’s controller)', () => {
  const exact: string[] = [];
  for (const [name, make] of smooth) {
    it(`${name}: the steps of tfjs (accepted, rejected within one; NFE), logits within 1e-4 of tfjs and of the float64 reference`, async () => {
      const model = adaptive(make(), 1e-5, 1e-7);
      const x = uniformInput(7, BATCH * inputSize(model));
      const { logits, stats, tfjs } = await both(model, x, BATCH);
      // The same controller on the same float32 error estimate, up to rounding: ORT's and tfjs's kernels round
      // differently, which moves a ratio that sits at the accept threshold, or near the float32 noise floor of the
      // embedded estimate (tiny ratios set the factor), so a count may differ by one step.
      expect(Math.abs(stats.accepted - tfjs.stats.accepted)).toBeLessThanOrEqual(1);
      expect(Math.abs(stats.rejected - tfjs.stats.rejected)).toBeLessThanOrEqual(1);
      if (stats.accepted === tfjs.stats.accepted && stats.rejected === tfjs.stats.rejected) exact.push(name);
      expect(stats.accepted).toBeGreaterThan(1);
      expect(relErr(logits, tfjs.logits)).toBeLessThanOrEqual(1e-4);
      expect(relErr(logits, reference(model, x, BATCH))).toBeLessThanOrEqual(1e-4);
    });
  }
  it('most smooth cases take exactly the steps of tfjs', () => {
    expect(exact.length).toBeGreaterThanOrEqual(smooth.length - 2);
  });

  it('sequence input with equal elements (u constant): the same steps as tfjs, logits within 1e-4', async () => {
    const base = runtimeModels.denseSeq();
    if (base.input.kind !== 'sequence') throw new Error('unreachable');
    const { steps, features } = base.input;
    const model = adaptive(base, 1e-5, 1e-7);
    const x = new Float32Array(BATCH * steps * features);
    const u = uniformInput(3, BATCH * features);
    for (let b = 0; b < BATCH; b++) for (let j = 0; j < steps; j++) x.set(u.subarray(b * features, (b + 1) * features), (b * steps + j) * features);
    const { logits, stats, tfjs } = await both(model, x, BATCH);
    expect(stats).toEqual(tfjs.stats);
    expect(relErr(logits, tfjs.logits)).toBeLessThanOrEqual(1e-4);
    expect(relErr(logits, reference(model, x, BATCH))).toBeLessThanOrEqual(1e-4);
  });

  for (const [name, make] of sequence) {
    it(`${name}: u(t) at the stage times — logits within 1e-4 of tfjs, step counts within 30% (jumps of u at element boundaries)`, async () => {
      // At each jump of u the controller rejects until the step across it is small: ratios near 1, where float32
      // rounding (ORT's and tfjs's kernels sum differently) flips some decisions. Both runtimes stay as close to
      // the reference; at rtol 1e-6 the logits agree to ~3e-5 while the counts differ by up to ~20%.
      const model = adaptive(make(), 1e-6, 1e-8);
      const x = uniformInput(7, BATCH * inputSize(model));
      const { logits, stats, tfjs } = await both(model, x, BATCH);
      expect(stats.rejected, 'the jumps cost rejections').toBeGreaterThan(stats.accepted);
      expect(Math.abs(stats.accepted - tfjs.stats.accepted)).toBeLessThanOrEqual(0.3 * tfjs.stats.accepted);
      expect(Math.abs(stats.rejected - tfjs.stats.rejected)).toBeLessThanOrEqual(0.3 * tfjs.stats.rejected);
      expect(relErr(logits, tfjs.logits)).toBeLessThanOrEqual(1e-4);
      const ref = reference(model, x, BATCH);
      // the jumps dominate the error of both runtimes alike
      expect(relErr(logits, ref)).toBeLessThanOrEqual(1e-3);
      expect(relErr(logits, ref)).toBeLessThanOrEqual(2 * relErr(tfjs.logits, ref) + 1e-5);
    });
  }

  it('rejects steps like tfjs does: a large first trial step is rejected and shrunk', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-7, 1e-9, 1);
    const solver = dopri5();
    const x = uniformInput(3, BATCH * inputSize(model));
    const exe = await build(model, solver);
    try {
      await exe.predict(x, BATCH);
      const tfjs = tfjsForward(model, x, BATCH, solver);
      expect(exe.lastStats!.rejected).toBeGreaterThan(0);
      expect(exe.lastStats).toEqual(tfjs.stats);
    } finally {
      await exe.dispose();
    }
  });

  it('tightening rtol lowers the error against the reference and takes more steps', async () => {
    const base = runtimeModels.antisymmetricNode();
    const x = uniformInput(5, BATCH * inputSize(base));
    const ref = reference(base, x, BATCH);
    const errs: number[] = [];
    const attempts: number[] = [];
    for (const rtol of [1e-2, 1e-3, 1e-4, 1e-5]) {
      const exe = await build(adaptive(base, rtol, rtol * 1e-2, 1), dopri5());
      try {
        errs.push(relErr(await exe.predict(x, BATCH), ref));
        attempts.push(exe.lastStats!.accepted + exe.lastStats!.rejected);
      } finally {
        await exe.dispose();
      }
    }
    for (let i = 1; i < errs.length; i++) {
      expect(errs[i]!, `error at rtol 1e-${i + 2} vs 1e-${i + 1}`).toBeLessThan(errs[i - 1]!);
      expect(attempts[i]!).toBeGreaterThanOrEqual(attempts[i - 1]!);
    }
    expect(errs.at(-1)!).toBeLessThan(1e-5);
    expect(attempts.at(-1)!).toBeGreaterThan(attempts[0]!);
  });

  it('tolerances: the model’s rtol / atol win over the solver’s, as on tfjs', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-3, 1e-5);
    const solver = dopri5({ rtol: 1e-9, atol: 1e-12 });
    const x = uniformInput(9, 2 * inputSize(model));
    const exe = await build(model, solver);
    const loose = await build(model, dopri5({ rtol: 1e-3, atol: 1e-5 }));
    try {
      await exe.predict(x, 2);
      await loose.predict(x, 2);
      expect(exe.lastStats).toEqual(loose.lastStats);
      expect(exe.lastStats).toEqual(tfjsForward(model, x, 2, solver).stats);
    } finally {
      await exe.dispose();
      await loose.dispose();
    }
  });

  it('maxSteps exceeded is a NUMERIC error naming the limit; the executable stays usable', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-9, 1e-12, 0.5);
    const exe = await build(model, dopri5({ maxSteps: 3 }));
    try {
      const x = uniformInput(1, 2 * inputSize(model));
      const err = await rejection(exe.predict(x, 2));
      expect(err.code).toBe('NUMERIC');
      expect(err.message).toMatch(/^solver 'dopri5': maxSteps \(3\) reached at t=[\d.e-]+ before t1=1 \(rtol 1e-9, atol 1e-12\); loosen the tolerances or raise maxSteps$/);
      const again = await rejection(exe.predict(x, 2));
      expect(again.message).toBe(err.message);
    } finally {
      await exe.dispose();
    }
  });

  it('a non-finite input is an ARGUMENT error about x0; a disposed executable rejects predict', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    const exe = await build(model, dopri5());
    const x = uniformInput(2, 2 * inputSize(model));
    x[0] = NaN;
    // NaN in the input makes x0 (after the pre layer) non-finite
    const err = await rejection(exe.predict(x, 2));
    expect(err.code).toBe('ARGUMENT');
    expect(err.message).toBe("solver 'dopri5': x0 contains NaN or an infinite value");
    expect((await rejection(exe.predict(new Float32Array(3), 1))).code).toBe('SHAPE');
    await exe.dispose();
    await exe.dispose();
    await expect(exe.predict(uniformInput(2, inputSize(model)), 1)).rejects.toThrow(/disposed/);
  });

  it('one step sequence for the whole batch: row i of a batch differs slightly from its single-sample solve', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-4, 1e-6);
    const exe = await build(model, dopri5());
    try {
      const per = inputSize(model);
      const x = uniformInput(13, 5 * per);
      const all = await exe.predict(x, 5);
      const batchStats = exe.lastStats!;
      const one = await exe.predict(x.slice(0, per), 1);
      expect(relErr(all.subarray(0, model.outputs), one)).toBeLessThanOrEqual(1e-4);
      const tfjsOne = tfjsForward(model, x.slice(0, per), 1, dopri5());
      expect(exe.lastStats).toEqual(tfjsOne.stats);
      expect(tfjsForward(model, x, 5, dopri5()).stats).toEqual(batchStats);
    } finally {
      await exe.dispose();
    }
  });
});

describe('supports(), refusals and the graphs', () => {
  it('capabilities.adaptive; supports() accepts dopri5 with its tableau and refuses it without one, with the same message', async () => {
    expect(runtime.capabilities.adaptive).toBe(true);
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    expect(new OnnxRuntime({ solver: dopri5() }).supports(model)).toEqual({ ok: true });
    expect(new OnnxRuntime({ tableau: DOPRI5 }).supports(model)).toEqual({ ok: true });
    const expected = 'dopri5 is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver';
    // by name alone: supported (build then needs the tableau); an adaptive step program: refused
    expect(runtime.supports(model)).toEqual({ ok: true });
    const program = { name: 'dopri5', adaptive: true, order: 5 };
    expect(new OnnxRuntime({ solver: program }).supports(runtimeModels.denseNode())).toEqual({ ok: false, reason: expected });
    expect((await rejection(runtime.build(model, { solver: program }))).message).toBe(expected);
    const noHat = { name: 'rk4a', adaptive: true, tableau: REFERENCE_TABLEAUX.rk4 };
    const reason = "solver 'rk4a' is adaptive but its Butcher tableau has no embedded weights (bHat) for the error estimate";
    expect(new OnnxRuntime({ solver: noHat }).supports(model)).toEqual({ ok: false, reason });
    expect((await rejection(runtime.build(model, { solver: noHat }))).message).toBe(reason);
  });

  it('the step graph returns one error sum per sample; the rhs and pre graphs exist as documented', () => {
    const seq = compileAdaptive(runtimeModels.denseSeq(), { tableau: DOPRI5 });
    expect(seq.pre).toBeUndefined();
    expect(seq.fsal).toBe(true);
    expect(seq.stateDims).toEqual([runtimeModels.denseSeq().block.n]);
    const conv = compileAdaptive(runtimeModels.convNode(), { tableau: DOPRI5 });
    expect(conv.pre).toBeInstanceOf(Uint8Array);
    expect(conv.stateDims).toEqual([2, 3, 3]);
    expect(compileAdaptive(runtimeModels.convNode(), { tableau: DOPRI5, convAsDense: true }).stateDims).toEqual([18]);
    expect(() => compileAdaptive(runtimeModels.denseNode(), { tableau: REFERENCE_TABLEAUX.rk4 })).toThrow(/bHat/);
  });

  it('backprop-onnx trains with an adaptive tableau solver (adaptive-train.test.ts) and refuses an adaptive step program, with the adaptive message', () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    expect(new OnnxBackpropTrainer().supports(model, dopri5())).toEqual({ ok: true });
    // by name alone: the solver's tableau comes with the training context
    expect(new OnnxBackpropTrainer().supports(model)).toEqual({ ok: true });
    expect(new OnnxBackpropTrainer().supports(runtimeModels.denseNode())).toEqual({ ok: true });
    const reason = 'dopri5 is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver';
    const program = { name: 'dopri5', adaptive: true, order: 5, step: () => ({ y1: undefined as never }) } as unknown as Solver;
    expect(new OnnxBackpropTrainer().supports(model, program)).toEqual({ ok: false, reason });
  });

  it('a dopri5 model with only { tableau } runs the step loop (the name says adaptive, the tableau has bHat)', async () => {
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    const exe = await runtime.build(model, { tableau: DOPRI5 });
    try {
      expect(exe).toBeInstanceOf(OnnxAdaptiveExecutable);
      const x = uniformInput(4, 2 * inputSize(model));
      const logits = await exe.predict(x, 2);
      expect(relErr(logits, tfjsForward(model, x, 2, dopri5()).logits)).toBeLessThanOrEqual(1e-4);
    } finally {
      await exe.dispose();
    }
  });
});

describe('adaptive snapshot passes', () => {
  it('states after every every-th accepted step, σ(A x + b) there and the final states match tfjs; native Grams', async () => {
    // tfjs: whether tfjs takes the same steps here (conv, this input: tfjs 3, onnx 4 — the first error ratio
    // sits at the float32 noise floor, where it sets the step factor, so the sampled states lie at other times)
    for (const [make, sameSteps] of [[() => runtimeModels.denseNode(), true], [() => runtimeModels.convNode(), false], [() => runtimeModels.antisymmetricNode(), true]] as const) {
      const model = adaptive(make(), 1e-5, 1e-7);
      if (model.block.kind !== 'ode') throw new Error('unreachable');
      const n = model.block.n;
      const solver = dopri5();
      const x = uniformInput(17, 3 * inputSize(model));
      const params = createParams(model);
      const want = await tfjsSnapshotBatch(model, params, x, 3, solver, 2).finally(() => disposeParams(params));
      const got = await runtime.snapshotBatch(model, x, 3, { every: 2, solver, tableau: DOPRI5 });
      const exe = await build(model, solver);
      await exe.predict(x, 3);
      const accepted = exe.lastStats!.accepted;
      await exe.dispose();
      const tfjsAccepted = tfjsForward(model, x, 3, solver).stats.accepted;
      expect(tfjsAccepted === accepted, `${model.name}: tfjs takes ${tfjsAccepted} steps, onnx ${accepted}`).toBe(sameSteps);
      expect(got.count).toBe(Math.floor(accepted / 2) * 3);
      expect(got.count).toBeGreaterThan(0);
      expect(got.samples).toBe(3);
      // the final states are at t1 on both runtimes
      expect(relErr(got.final, want.final)).toBeLessThanOrEqual(1e-4);
      if (sameSteps) {
        // the sampled ones at the end of every 2nd accepted step, which moves with the step sizes; those follow the
        // float32 error estimates (~1e-3 relative in h between ORT and tfjs here)
        expect(relErr(got.states, want.states)).toBeLessThanOrEqual(2e-3);
        expect(relErr(got.nonlinear, want.nonlinear)).toBeLessThanOrEqual(2e-3);
      }
      // σ(A x + b) at the sampled states themselves (float64, NHWC)
      const A = denseA(model.block);
      const own = new Float64Array(got.states.length);
      for (let r = 0; r < got.count; r++) {
        for (let i = 0; i < n; i++) {
          let v = model.block.b.data[i]!;
          for (let j = 0; j < n; j++) v += A[i * n + j]! * got.states[r * n + j]!;
          own[r * n + i] = Math.tanh(v);
        }
      }
      expect(relErr(got.nonlinear, own)).toBeLessThanOrEqual(1e-5);
      const lean = await runtime.snapshotBatch(model, x, 3, { every: 2, solver, tableau: DOPRI5, gram: true });
      expect(lean.states.length).toBe(0);
      expect(lean.count).toBe(got.count);
      expect(Array.from(lean.final)).toEqual(Array.from(got.final));
      const g = lean.gram!.states;
      expect(g.length).toBe(n * n);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let r = 0; r < got.count; r++) s += got.states[r * n + i]! * got.states[r * n + j]!;
          worst = Math.max(worst, Math.abs(g[i * n + j]! - s));
          scale = Math.max(scale, Math.abs(s));
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-5 * scale);
      const none = await runtime.snapshotBatch(model, x, 3, { every: 10_000, solver, tableau: DOPRI5, gram: true, raw: true });
      expect(none.count).toBe(0);
      expect(Array.from(none.gram!.states)).toEqual(new Array(n * n).fill(0));
    }
  });
  it('refuses a reduced block and a bad every', async () => {
    const solver = dopri5();
    const reduced = adaptive(runtimeModels.deimReduced(), 1e-5, 1e-7);
    expect((await rejection(runtime.snapshotBatch(reduced, uniformInput(1, 2 * inputSize(reduced)), 2, { every: 1, solver }))).code).toBe('MODEL');
    const model = adaptive(runtimeModels.denseNode(), 1e-5, 1e-7);
    expect((await rejection(runtime.snapshotBatch(model, uniformInput(1, 2 * inputSize(model)), 2, { every: 0, solver }))).message).toMatch(/every must be a positive integer/);
  });
});

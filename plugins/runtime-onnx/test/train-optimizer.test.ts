/** The onnx trainer's optimizers, clipping, weight decay, schedules and state file, against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { OdemorError } from '@odemor/core';
import { ParamOptimizer, applyWeightDecay, clipByGlobalNorm, globalNorm } from '../src/train/optimizer.js';
import { checkSchedule, learningRate } from '../src/train/schedule.js';
import { decodeTrainState, encodeTrainState, fingerprint, fingerprintChanges, type TrainState } from '../src/train/state.js';

const one = (w: number[], g: number[]) => ({ params: new Map([['p', Float32Array.from(w)]]), grads: new Map([['p', Float32Array.from(g)]]) });
const sizes = new Map([['p', 2]]);

describe('optimizers (hand-computed updates)', () => {
  it('sgd: w ← w − lr·g', () => {
    const { params, grads } = one([1, -2], [0.5, 4]);
    const opt = new ParamOptimizer({ kind: 'sgd' }, sizes);
    opt.step(params, grads, 0.1);
    expect(Array.from(params.get('p')!)).toEqual([Math.fround(1 - 0.05), Math.fround(-2 - 0.4)]);
    expect(opt.steps).toBe(1);
  });

  it("momentum (tfjs's form): v ← m·v + g; w ← w − lr·v", () => {
    const { params, grads } = one([1, 0], [1, -2]);
    const opt = new ParamOptimizer({ kind: 'momentum', momentum: 0.5 }, sizes);
    opt.step(params, grads, 0.1); // v = g = [1, -2]; w = [0.9, 0.2]
    opt.step(params, grads, 0.1); // v = 0.5·v + g = [1.5, -3]; w = [0.75, 0.5]
    const w = params.get('p')!;
    expect(w[0]).toBeCloseTo(0.75, 6);
    expect(w[1]).toBeCloseTo(0.5, 6);
    expect(Array.from(opt.state().slots.get('acc:p')!)).toEqual([1.5, -3]);
  });

  it('adam with bias correction: the first step moves every weight by lr·sign(g)', () => {
    const { params, grads } = one([1, 1], [0.3, -7]);
    const opt = new ParamOptimizer({ kind: 'adam' }, sizes);
    opt.step(params, grads, 0.01);
    const w = params.get('p')!;
    expect(w[0]).toBeCloseTo(0.99, 6);
    expect(w[1]).toBeCloseTo(1.01, 6);
    // the second step, in float64 by hand: m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², w -= lr m̂ / (√v̂ + ε)
    const g2 = [0.1, 2];
    opt.step(params, new Map([['p', Float32Array.from(g2)]]), 0.01);
    const b1 = 0.9, b2 = 0.999, eps = 1e-7;
    for (const [i, g1] of [0.3, -7].entries()) {
      const m = b1 * ((1 - b1) * g1) + (1 - b1) * g2[i]!;
      const v = b2 * ((1 - b2) * g1 * g1) + (1 - b2) * g2[i]! ** 2;
      const expected = (i === 0 ? 0.99 : 1.01) - (0.01 * (m / (1 - b1 ** 2))) / (Math.sqrt(v / (1 - b2 ** 2)) + eps);
      expect(w[i]).toBeCloseTo(expected, 6);
    }
    const st = opt.state();
    expect(st.iterations).toBe(2);
    // β1^(t+1) before step t+1, multiplied up in float32 as tfjs does
    const f = Math.fround;
    expect(st.accBeta1).toBe(f(f(f(0.9) * f(0.9)) * f(0.9)));
  });

  it('state() and restore() continue bit for bit', () => {
    const run = (split: boolean) => {
      const { params } = one([0.2, -0.4], [0, 0]);
      let opt = new ParamOptimizer({ kind: 'adam', beta1: 0.8 }, sizes);
      for (let s = 0; s < 5; s++) {
        if (split && s === 2) {
          const saved = opt.state();
          opt = new ParamOptimizer({ kind: 'adam', beta1: 0.8 }, sizes);
          opt.restore(saved);
        }
        opt.step(params, new Map([['p', Float32Array.from([Math.sin(s), Math.cos(s)])]]), 0.05);
      }
      return Array.from(params.get('p')!);
    };
    expect(run(true)).toEqual(run(false));
    const adam = new ParamOptimizer({ kind: 'adam' }, sizes);
    expect(() => new ParamOptimizer({ kind: 'sgd' }, sizes).restore(adam.state())).toThrow(/'adam'.*'sgd'/);
  });

  it('rejects unknown optimizers, bad hyperparameters and mismatched buffers', () => {
    expect(() => new ParamOptimizer({ kind: 'rmsprop' as 'sgd' }, sizes)).toThrow(/unknown optimizer 'rmsprop'/);
    expect(() => new ParamOptimizer({ kind: 'adam', beta1: 1 }, sizes)).toThrow(/beta1/);
    expect(() => new ParamOptimizer({ kind: 'momentum', momentum: -1 }, sizes)).toThrow(/momentum/);
    const opt = new ParamOptimizer({ kind: 'sgd' }, sizes);
    expect(() => opt.step(new Map([['p', new Float32Array(3)]]), new Map([['p', new Float32Array(3)]]), 0.1)).toThrow(OdemorError);
    expect(() => opt.step(new Map([['p', new Float32Array(2)]]), new Map(), 0.1)).toThrow(/no gradient for 'p'/);
  });
});

describe('clipping and weight decay', () => {
  it('clips the global norm over all tensors to clipNorm, and leaves smaller gradients alone', () => {
    const grads = new Map([
      ['a', Float32Array.from([3, 0])],
      ['b', Float32Array.from([0, 4])],
    ]);
    expect(clipByGlobalNorm(grads, 1)).toBe(5);
    expect(globalNorm(grads.values())).toBeCloseTo(1, 6);
    expect(grads.get('a')![0]).toBeCloseTo(0.6, 6);
    expect(grads.get('b')![1]).toBeCloseTo(0.8, 6);
    const small = new Map([['a', Float32Array.from([0.3, 0.4])]]);
    clipByGlobalNorm(small, 1);
    expect(Array.from(small.get('a')!)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('decoupled weight decay: w ← w − lr·wd·w; zero decay changes nothing', () => {
    const w = Float32Array.from([2, -1]);
    applyWeightDecay([w], 0.1, 0.5);
    expect(w[0]).toBeCloseTo(1.9, 6);
    expect(w[1]).toBeCloseTo(-0.95, 6);
    applyWeightDecay([w], 0.1, 0);
    expect(w[0]).toBeCloseTo(1.9, 6);
  });
});

describe('schedules', () => {
  const lr = 0.1;
  it('exponential (lrDecay): lr · decay^e, as the tfjs trainer computes it', () => {
    expect([0, 1, 2].map((e) => learningRate(e, { lr, lrDecay: 0.5, epochs: 3 }))).toEqual([0.1, 0.05, 0.025]);
    expect(learningRate(4, { lr, epochs: 5 })).toBe(0.1);
  });
  it('step: lr · gamma^⌊e / every⌋', () => {
    const s = { lr, epochs: 6, schedule: { kind: 'step', every: 2, gamma: 0.1 } as const };
    expect([0, 1, 2, 3, 4, 5].map((e) => learningRate(e, s))).toEqual([0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 ** 2, 0.1 * 0.1 ** 2]);
  });
  it('cosine: from lr at epoch 0 towards min', () => {
    const s = { lr, epochs: 4, schedule: { kind: 'cosine', min: 0.02 } as const };
    const r = [0, 1, 2, 3].map((e) => learningRate(e, s));
    expect(r[0]).toBe(0.1);
    expect(r[2]).toBeCloseTo(0.06, 12);
    expect(r[1]).toBeCloseTo(0.02 + 0.08 * (1 + Math.SQRT1_2) / 2, 12);
    expect(r[3]).toBeGreaterThan(0.02);
    expect(learningRate(2, { lr, epochs: 4, schedule: { kind: 'cosine' } })).toBeCloseTo(0.05, 12);
  });
  it('rejects two schedules at once and bad values, naming the key', () => {
    expect(() => checkSchedule({ lr, lrDecay: 0.9, epochs: 3, schedule: { kind: 'cosine' } })).toThrow(/lrDecay = 0.9 and schedule.kind = 'cosine'/);
    expect(() => checkSchedule({ lr, epochs: 3, schedule: { kind: 'step', every: 0, gamma: 0.5 } })).toThrow(/schedule.every/);
    expect(() => checkSchedule({ lr, epochs: 3, schedule: { kind: 'step', every: 1, gamma: 2 } })).toThrow(/schedule.gamma/);
    expect(() => checkSchedule({ lr, epochs: 3, schedule: { kind: 'cosine', min: 0.5 } })).toThrow(/schedule.min/);
    expect(() => checkSchedule({ lr, lrDecay: 0, epochs: 3 })).toThrow(/lrDecay/);
  });
});

describe('the training state file', () => {
  const state = (): TrainState => ({
    epoch: 2,
    fingerprint: fingerprint({ a: 1 }),
    fingerprintOf: { a: 1 },
    lr: 0.01,
    history: [{ epoch: 1, epochs: 3, loss: 0.5, accuracy: 0.75, lr: 0.01, seconds: 1, phase: 'train' }],
    rng: { scheme: 'seed+epoch', seed: 7 },
    optimizer: { kind: 'adam', iterations: 6, accBeta1: Math.fround(0.9 ** 7), accBeta2: Math.fround(0.999 ** 7), slots: new Map([['m:p', Float32Array.from([1, -0])], ['v:p', Float32Array.from([2, 3])]]) },
    params: new Map([['p', Float32Array.from([NaN, 0.25])], ['q', new Float32Array(0)]]),
  });

  it('round-trips every field and buffer', () => {
    const back = decodeTrainState(encodeTrainState(state()));
    const s = state();
    expect(back.epoch).toBe(2);
    expect(back.fingerprint).toBe(s.fingerprint);
    expect(back.history).toEqual(s.history);
    expect(back.rng).toEqual(s.rng);
    expect(back.optimizer.iterations).toBe(6);
    expect(back.optimizer.accBeta1).toBe(s.optimizer.accBeta1);
    expect(Object.is(back.optimizer.slots.get('m:p')![1], -0)).toBe(true);
    expect(Array.from(back.params.get('p')!)).toEqual([NaN, 0.25]);
    expect(back.params.get('q')!.length).toBe(0);
  });

  it('rejects damaged files with an IO error naming the file', () => {
    const bytes = encodeTrainState(state());
    expect(() => decodeTrainState(bytes.subarray(0, bytes.length - 2), 'x.train')).toThrow(/x.train: not a valid training state file/);
    const flipped = new Uint8Array(bytes);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => decodeTrainState(flipped, 'x.train')).toThrow(/checksum/);
    expect(() => decodeTrainState(new TextEncoder().encode('hello world'), 'x.train')).toThrow(/ODTS signature/);
  });

  it('fingerprints are order-independent and name what changed', () => {
    expect(fingerprint({ a: 1, b: { c: 2, d: 3 } })).toBe(fingerprint({ b: { d: 3, c: 2 }, a: 1 }));
    expect(fingerprintChanges({ lr: 0.1, batch: 8 }, { lr: 0.2, batch: 8 })).toEqual(['lr: 0.1 → 0.2']);
  });
});

import { describe, expect, it } from 'vitest';
import { TrajectoryErrors, trajectoryErrors } from '../src/index.js';

describe('trajectory errors', () => {
  it('MSE, RMSE, relative error and RMSE per time of a hand-computed case', () => {
    // 2 samples, T = 2, d = 2
    const truth = [1, 0, 0, 1, 2, 0, 0, 2];
    const pred = [1, 1, 0, 1, 2, 0, 3, 2];
    const e = trajectoryErrors(pred, truth, 2, 2);
    // errors: sample 0 time 0 state 1 off by 1; sample 1 time 1 state 0 off by 3
    expect(e.mse).toBeCloseTo((1 + 9) / 8, 15);
    expect(e.rmse).toBeCloseTo(Math.sqrt(10 / 8), 15);
    expect(e.relativeError).toBeCloseTo(Math.sqrt(10 / 10), 15);
    expect(e.rmseByTime[0]).toBeCloseTo(Math.sqrt(1 / 4), 15);
    expect(e.rmseByTime[1]).toBeCloseTo(Math.sqrt(9 / 4), 15);
    expect(e.samples).toBe(2);
  });

  it('accumulates over batches exactly as over one array', () => {
    const truth = Array.from({ length: 5 * 3 * 2 }, (_, i) => Math.sin(i));
    const pred = truth.map((v, i) => v + 0.01 * Math.cos(3 * i));
    const whole = trajectoryErrors(pred, truth, 3, 2);
    const acc = new TrajectoryErrors(3, 2);
    acc.add(pred.slice(0, 12), truth.slice(0, 12), 2);
    acc.add(pred.slice(12), truth.slice(12), 3, 2);
    const parts = acc.summary();
    expect(parts.mse).toBeCloseTo(whole.mse, 15);
    expect(parts.relativeError).toBeCloseTo(whole.relativeError, 15);
    parts.rmseByTime.forEach((v, k) => expect(v).toBeCloseTo(whole.rmseByTime[k]!, 15));
  });

  it('zero truth: relative error 0 for an exact prediction, Infinity otherwise; NaN for no samples', () => {
    expect(trajectoryErrors([0, 0], [0, 0], 1, 2).relativeError).toBe(0);
    expect(trajectoryErrors([0, 1], [0, 0], 1, 2).relativeError).toBe(Number.POSITIVE_INFINITY);
    expect(new TrajectoryErrors(2, 2).summary().mse).toBeNaN();
  });

  it('errors: wrong lengths (SHAPE), non-finite predictions (NUMERIC) and targets (DATA), bad T or d (ARGUMENT)', () => {
    expect(() => trajectoryErrors([1, 2, 3], [1, 2, 3, 4], 2, 2)).toThrow(/3 predicted and 4 observed values for 1 samples; expected \[1, 2·2\] = 4 each/);
    expect(() => trajectoryErrors([1, 2, 3], [1, 2, 3], 2, 2)).toThrow(/not a whole number of samples/);
    expect(() => new TrajectoryErrors(2, 1, [0.5, 1]).add([0, Number.NaN], [0, 0], 1, 7)).toThrow(/predicted state 0 of sample 7 at time index 1 \(t = 1\) is NaN/);
    expect(() => trajectoryErrors([0, 0], [0, Number.POSITIVE_INFINITY], 1, 2)).toThrow(/observed state 1 of test sample 0 at time index 0 is Infinity/);
    expect(() => new TrajectoryErrors(0, 2)).toThrow(/positive integers T and d/);
  });
});

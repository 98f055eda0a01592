import { describe, expect, it } from 'vitest';
import { OdemorError } from '@odemor/core';
import { checkTopk, median, topkAccuracy } from '../src/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdemorError);
    return (e as OdemorError).code;
  }
  return undefined;
}

// 5 samples × 3 classes; label ranks worked out by hand per tie rule (see comments)
const logits = new Float32Array([
  0.1, 0.7, 0.2, // label 1: largest, rank 0 under every rule
  0.5, 0.3, 0.2, // label 2: smallest, rank 2
  0.4, 0.4, 0.1, // label 1: tied with class 0 → optimistic 0, index 1 (class 0 < 1), pessimistic 1
  1, 1, 1, // label 0: all tied → optimistic 0, index 0, pessimistic 2
  Number.NEGATIVE_INFINITY, 0, 3, // label 0: -Inf is below everything, rank 2
]);
const labels = new Int32Array([1, 2, 1, 0, 0]);

describe('topkAccuracy', () => {
  it('hand-computed case, optimistic ties: fewer than k strictly larger logits', () => {
    // ranks [0, 2, 0, 0, 2]
    expect(topkAccuracy(logits, labels, 3, [1, 2, 3], 'optimistic')).toEqual({ 1: 3 / 5, 2: 3 / 5, 3: 1 });
  });

  it('the default tie rule is index (argmax takes the first maximum)', () => {
    expect(topkAccuracy(logits, labels, 3, [1, 2, 3])).toEqual(topkAccuracy(logits, labels, 3, [1, 2, 3], 'index'));
  });

  it('index and pessimistic tie rules', () => {
    // ranks [0, 2, 1, 0, 2]
    expect(topkAccuracy(logits, labels, 3, [1, 2, 3], 'index')).toEqual({ 1: 2 / 5, 2: 3 / 5, 3: 1 });
    // ranks [0, 2, 1, 2, 2]
    expect(topkAccuracy(logits, labels, 3, [1, 2, 3], 'pessimistic')).toEqual({ 1: 1 / 5, 2: 2 / 5, 3: 1 });
  });

  it('without ties matches a sort-based reference on random data', () => {
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const n = 200;
    const c = 7;
    const lg = Float64Array.from({ length: n * c }, rand);
    const lb = Int32Array.from({ length: n }, () => Math.floor(rand() * c));
    const ref: Record<number, number> = {};
    for (const k of [1, 2, 5, 7]) {
      let hit = 0;
      for (let i = 0; i < n; i++) {
        const order = Array.from({ length: c }, (_, j) => j).sort((a, b) => lg[i * c + b]! - lg[i * c + a]!);
        if (order.slice(0, k).includes(lb[i]!)) hit++;
      }
      ref[k] = hit / n;
    }
    expect(topkAccuracy(lg, lb, c, [7, 5, 2, 1, 1])).toEqual(ref);
    expect(ref[7]).toBe(1);
  });

  it('errors: shape, NaN, label range, k range', () => {
    expect(codeOf(() => topkAccuracy(new Float32Array(14), labels, 3, [1]))).toBe('SHAPE');
    expect(() => topkAccuracy(new Float32Array(14), labels, 3, [1])).toThrow(/14 values, expected 5 samples × 3 classes = 15/);
    const nan = logits.slice();
    nan[7] = Number.NaN;
    expect(codeOf(() => topkAccuracy(nan, labels, 3, [1]))).toBe('NUMERIC');
    expect(() => topkAccuracy(nan, labels, 3, [1])).toThrow(/sample 2, class 1 is NaN/);
    expect(codeOf(() => topkAccuracy(logits, new Int32Array([1, 2, 3, 0, 0]), 3, [1]))).toBe('DATA');
    expect(codeOf(() => topkAccuracy(logits, labels, 3, [0]))).toBe('ARGUMENT');
    expect(codeOf(() => topkAccuracy(logits, labels, 3, [4]))).toBe('ARGUMENT');
    expect(codeOf(() => topkAccuracy(logits, labels, 3, [1.5]))).toBe('ARGUMENT');
  });

  it('no samples gives NaN', () => {
    expect(topkAccuracy(new Float32Array(0), new Int32Array(0), 3, [1])[1]).toBeNaN();
  });

  it('checkTopk dedupes, sorts and names the key', () => {
    expect(checkTopk([3, 1, 3], 5)).toEqual([1, 3]);
    expect(() => checkTopk([1, 6], 5, 'evaluate.topk', 'CONFIG')).toThrow(/evaluate.topk values must be integers between 1 and 5 .*got 6/);
  });
});

describe('median', () => {
  it('odd, even, unsorted, single; input untouched', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 2, 30, 4])).toBe(7);
    expect(median([0.7])).toBe(0.7);
    expect(median([2, 2, 9, 1, 2])).toBe(2);
  });

  it('rejects empty and NaN', () => {
    expect(codeOf(() => median([]))).toBe('ARGUMENT');
    expect(codeOf(() => median([1, Number.NaN]))).toBe('ARGUMENT');
  });
});

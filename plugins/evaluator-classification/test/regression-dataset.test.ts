import { describe, expect, it } from 'vitest';
import { OdemorError, type Dataset, type Executable } from '@odemor/core';
import { ClassificationEvaluator } from '../src/index.js';

describe('ClassificationEvaluator on a regression dataset', () => {
  it('is a CONFIG error naming the dataset and the regression evaluator, before anything is read or predicted', async () => {
    let read = false;
    let predicted = false;
    const ds: Dataset = {
      name: 'dynamics-van-der-pol',
      info: { inputShape: [2], kind: 'trajectory', numClasses: 0, task: 'regression', targetShape: [5, 2], times: [1, 2, 3, 4, 5], trainSize: 1, testSize: 1 },
      async *batches() {
        read = true;
        yield { x: new Float32Array(2), y: new Int32Array(0), size: 1, targets: new Float32Array(10) };
      },
    };
    const exe: Executable = {
      info: { runtime: 'fake', backend: 'js' },
      async predict() {
        predicted = true;
        return new Float32Array(10);
      },
      dispose() {},
    };
    const e = await new ClassificationEvaluator().evaluate(exe, ds, { repeats: 1, topk: [1], batch: 4 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OdemorError);
    expect((e as OdemorError).code).toBe('CONFIG');
    expect((e as OdemorError).message).toMatch(/dataset dynamics-van-der-pol is a regression dataset .*evaluate\.use: regression/);
    expect(read).toBe(false);
    expect(predicted).toBe(false);
  });
});

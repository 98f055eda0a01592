// Failures of the kits name the field: the check helpers, and the reducer kit run on a reducer that
// misreports its parameter count.
import { describe, expect, it } from 'vitest';
import type { ExpectStatic } from 'vitest';
import type { ReducedModel, Reducer, ReducerFitContext } from '@odemor/core';
import { checker, reducerConformance, show, type ReducerConformanceIt } from '../src/index.js';
// @ts-expect-error — a plain JavaScript fixture without type declarations
import { RandomPointsReducer } from '../../e2e/fixtures/random-points-reducer.js';

const failure = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no failure)';
};

describe('checker', () => {
  it('passes silently and names the field, the context, the expected and the actual value on failure', () => {
    const c = checker(expect, 'reduce({ k: 3 })');
    c.is('diagnostics.params', 50, 50);
    c.atMost('error', 1e-5, 1e-4);
    expect(failure(() => c.is('diagnostics.params', 48, 50))).toBe('reduce({ k: 3 }): diagnostics.params: expected 50, got 48');
    expect(failure(() => c.equal('model.block.c.shape', [3], [4]))).toBe('reduce({ k: 3 }): model.block.c.shape: expected [4], got [3]');
    expect(failure(() => c.atMost('error', 0.5, 1e-4))).toBe('reduce({ k: 3 }): error: expected at most 0.0001, got 0.5');
    expect(failure(() => c.atLeast('count', 1, 2))).toBe('reduce({ k: 3 }): count: expected at least 2, got 1');
    expect(failure(() => c.above('error', 0, 1e-3))).toBe('reduce({ k: 3 }): error: expected more than 0.001, got 0');
    expect(failure(() => c.near('t1', 0.9, 1, 1e-3))).toBe('reduce({ k: 3 }): t1: expected 1 ± 0.001, got 0.9');
    expect(failure(() => c.at('E').ok('rows', false, 'expected 24, got 12'))).toBe('reduce({ k: 3 }): E: rows: expected 24, got 12');
    expect(failure(() => checker(expect).is('name', 'deim', 'qdeim'))).toBe('name: expected "qdeim", got "deim"');
  });

  it('the rewritten failure keeps the assertion error (its actual and expected values for diffs)', () => {
    let err: unknown;
    try {
      checker(expect).equal('points', [1, 2], [1, 3]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ message: 'points: expected [1,3], got [1,2]', actual: [1, 2], expected: [1, 3] });
    expect((err as Error).stack!.split('\n')[0]).toContain('points: expected [1,3], got [1,2]');
  });

  it('show() keeps values short', () => {
    expect(show(Float32Array.from([1, 2]))).toBe('[1,2]');
    expect(show({ a: Float64Array.from([0.5]) })).toBe('{"a":[0.5]}');
    expect(show(Array.from({ length: 100 }, (_, i) => i)).length).toBe(120);
  });
});

/** RandomPoints, but its diagnostics claim two parameters fewer than the reduced block has. */
class MiscountingReducer implements Reducer {
  private readonly inner: Reducer = new RandomPointsReducer();
  readonly name = 'miscounting';
  readonly needsSnapshots = true;
  fit(context: ReducerFitContext) {
    return this.inner.fit(context);
  }
  reduce(dims: { k: number; m?: number }): ReducedModel {
    const r = this.inner.reduce(dims);
    return { ...r, method: this.name, model: { ...r.model, block: { ...r.model.block, method: this.name } }, diagnostics: { ...r.diagnostics, params: r.diagnostics.params - 2 } };
  }
}

describe('the reducer kit names the failing field', () => {
  const tests = new Map<string, (context: { expect: ExpectStatic }) => unknown>();
  // collected to run by hand below; registered as skipped so that the kit's describe block is not empty
  const collect: ReducerConformanceIt = (name, fn) => {
    tests.set(name, fn);
    it.skip(name, () => {});
  };
  reducerConformance(collect, () => new MiscountingReducer(), { supports: { lowRankConvergence: false, sparseConvergence: false }, title: 'collected, not run' });

  it('diagnostics.params: expected …, got …', async () => {
    const shapes = [...tests.entries()].find(([n]) => n.startsWith('returns a full model'))![1];
    let message = '(no failure)';
    try {
      await shapes({ expect });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^reduce\(\{ k: 1 \}\): diagnostics\.params: expected (\d+), got (\d+)$/);
    const [, want, got] = /expected (\d+), got (\d+)/.exec(message)!;
    expect(Number(want) - Number(got)).toBe(2);
  });
});

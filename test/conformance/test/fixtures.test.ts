import { describe, expect, it } from 'vitest';
import { OdemorError, mulberry32, orthonormalityError } from '@odemor/core';
import { chaturantabutSorensenExample, columnsDiffUpToSign, expectOdemorError, gaussianStream, linspace, literalDeim, randomMatrix, randomOrthonormal } from '../src/index.js';

describe('shared fixtures', () => {
  it('gaussianStream is Box–Muller on mulberry32, deterministic per seed', () => {
    const u = mulberry32(5);
    const g = gaussianStream(5);
    for (let i = 0; i < 10; i++) expect(g()).toBe(Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
    expect(randomMatrix(3, 4, gaussianStream(9)).to2DArray()).toEqual(randomMatrix(3, 4, gaussianStream(9)).to2DArray());
    expect(randomMatrix(3, 4, gaussianStream(9)).to2DArray()).not.toEqual(randomMatrix(3, 4, gaussianStream(10)).to2DArray());
  });

  it('randomOrthonormal has orthonormal columns and is reproducible', () => {
    const U = randomOrthonormal(30, 7, 3);
    expect([U.rows, U.columns]).toEqual([30, 7]);
    expect(orthonormalityError(U)).toBeLessThan(1e-13);
    expect(randomOrthonormal(30, 7, 3).to2DArray()).toEqual(U.to2DArray());
  });

  it('the Chaturantabut–Sorensen example: shapes, grid, a POD that reproduces the training set', () => {
    const ex = chaturantabutSorensenExample();
    expect(ex.xs).toEqual(linspace(-1, 1, 100));
    expect([ex.train.rows, ex.train.columns, ex.validation.rows, ex.validation.columns]).toEqual([100, 51, 100, 101]);
    expect(ex.train.get(0, 0)).toBe(ex.s(-1, 1));
    expect(ex.validation.get(99, 100)).toBe(ex.s(1, Math.PI));
    const n = ex.xs.length;
    const U = ex.pod.basis.subMatrix(0, n - 1, 0, 19);
    const { interp, proj } = ex.errors(U, literalDeim(U));
    expect(Math.max(...interp)).toBeLessThan(1e-4);
    expect(Math.max(...proj)).toBeLessThanOrEqual(Math.max(...interp));
  });

  it('columnsDiffUpToSign ignores column signs', () => {
    const U = randomOrthonormal(12, 3, 1);
    const flipped = U.clone();
    flipped.setColumn(1, U.getColumn(1).map((v) => -v));
    expect(columnsDiffUpToSign(U, flipped, 3)).toBe(0);
    flipped.set(0, 2, flipped.get(0, 2) + 1e-3);
    expect(columnsDiffUpToSign(U, flipped, 3)).toBeCloseTo(1e-3, 12);
    expect(columnsDiffUpToSign(U, flipped, 2)).toBe(0);
  });

  it('expectOdemorError checks class, code and every message part', () => {
    expectOdemorError(expect, () => {
      throw new OdemorError('REDUCER', 'rank-deficient at step 3');
    }, 'REDUCER', /rank-deficient/, 'step 3');
    expect(() => expectOdemorError(expect, () => {
      throw new OdemorError('CONFIG', 'x');
    }, 'REDUCER')).toThrow();
    expect(() => expectOdemorError(expect, () => {
      throw new Error('x');
    }, 'REDUCER')).toThrow();
    expect(() => expectOdemorError(expect, () => 1, 'REDUCER')).toThrow();
  });
});

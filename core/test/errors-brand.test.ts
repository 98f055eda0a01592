import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OdemorError, isOdemorError } from '../src/errors.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'errors.js');

describe('OdemorError is recognised by its brand', () => {
  it('is() and instanceof accept OdemorErrors and reject other errors', () => {
    const e = new OdemorError('CONFIG', 'x.yaml: bad');
    expect(OdemorError.is(e)).toBe(true);
    expect(isOdemorError(e)).toBe(true);
    expect(e instanceof OdemorError).toBe(true);
    expect(e instanceof Error).toBe(true);
    for (const other of [new Error('plain'), { code: 'CONFIG', message: 'duck' }, null, undefined, 'CONFIG', 3]) {
      expect(OdemorError.is(other)).toBe(false);
      expect(other instanceof OdemorError).toBe(false);
    }
  });

  it('a subclass keeps the ordinary instanceof check', () => {
    class ShapeError extends OdemorError {
      constructor(message: string) {
        super('SHAPE', message);
      }
    }
    const s = new ShapeError('3 ≠ 4');
    expect(s instanceof ShapeError).toBe(true);
    expect(s instanceof OdemorError).toBe(true);
    expect(new OdemorError('SHAPE', 'x') instanceof ShapeError).toBe(false);
  });

  it('an error from a second copy of core (the built errors.js loaded under two URLs) is recognised by both', () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: build first (npx tsc -b)`);
    const url = pathToFileURL(dist).href;
    const script = `
      const a = await import(${JSON.stringify(url + '?copy=a')});
      const b = await import(${JSON.stringify(url + '?copy=b')});
      const e = new b.OdemorError('CONFIG', 'from copy b');
      console.log(JSON.stringify({
        distinct: a.OdemorError !== b.OdemorError,
        is: a.OdemorError.is(e), free: a.isOdemorError(e), instance: e instanceof a.OdemorError,
        plain: a.OdemorError.is(new Error('x')), code: e.code,
      }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({ distinct: true, is: true, free: true, instance: true, plain: false, code: 'CONFIG' });
  });
});

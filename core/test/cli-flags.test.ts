/**
 * `odemor run`'s flags checked under their own names, and results folders that cannot be created failing at
 * once (Node's recursive mkdir loops forever under /proc; core's makeDirs does not).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSeedFlag } from '../src/cli/main.js';
import { makeDirs, unwritableFolderReason, writeFileAtomic } from '../src/util/atomic.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-flags-'));
  made.push(d);
  return d;
};
const linux = fs.existsSync('/proc/self');

describe('--seed', () => {
  it('takes whole numbers in digits up to 2^53 − 1', () => {
    expect(parseSeedFlag('0')).toBe(0);
    expect(parseSeedFlag('42')).toBe(42);
    expect(parseSeedFlag(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(['1e30', '1e3', '-1', '1.5', '0x10', '', ' 3', 'abc', '9007199254740992', 'Infinity'])('refuses %j under its own name', (text) => {
    expect(() => parseSeedFlag(text)).toThrow(`--seed must be a whole number from 0 to 9007199254740991 written in digits, got '${text}'`);
  });
});

describe('results folders', () => {
  it('an existing writable folder, and a missing one under it, are fine; nothing is left behind', () => {
    const dir = tmp();
    expect(unwritableFolderReason(dir)).toBeUndefined();
    expect(unwritableFolderReason(path.join(dir, 'a', 'b', 'c'))).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a file, or a path under a file, is named as the file', () => {
    const dir = tmp();
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    expect(unwritableFolderReason(file)).toBe(`${file} is a file, not a folder`);
    expect(unwritableFolderReason(path.join(file, 'sub', 'deeper'))).toBe(`${file} is a file, not a folder`);
  });

  it.runIf(linux)('a folder under /proc cannot be created: said at once', () => {
    const t0 = Date.now();
    expect(unwritableFolderReason('/proc/odemor-test/out')).toBe('cannot create folders in /proc (ENOENT)');
    expect(unwritableFolderReason('/proc')).toMatch(/^cannot write files in \/proc \(E[A-Z]+\)$/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it.runIf(linux && process.getuid?.() !== 0)('a read-only folder cannot take files', () => {
    const dir = tmp();
    fs.chmodSync(dir, 0o555);
    try {
      expect(unwritableFolderReason(dir)).toBe(`cannot write files in ${dir} (EACCES)`);
      expect(unwritableFolderReason(path.join(dir, 'new'))).toBe(`cannot create folders in ${dir} (EACCES)`);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });
});

describe('makeDirs and writeFileAtomic: no mkdir loop', () => {
  it('creates missing parents one level at a time', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x', 'y', 'z', 'f.txt');
    await writeFileAtomic(file, 'hello');
    expect(fs.readFileSync(file, 'utf8')).toBe('hello');
    await makeDirs(path.join(dir, 'x', 'y')); // exists already
  });

  it.runIf(linux)('under /proc: ENOENT at once (Node recursive mkdir spun 120k times in 40 s)', async () => {
    const t0 = Date.now();
    await expect(writeFileAtomic('/proc/odemor-test/out/results.json', '{}')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('under a file: ENOTDIR naming the file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    await expect(writeFileAtomic(path.join(file, 'sub', 'results.json'), '{}')).rejects.toMatchObject({ code: 'ENOTDIR', message: `ENOTDIR: ${file} is a file, not a folder` });
  });
});

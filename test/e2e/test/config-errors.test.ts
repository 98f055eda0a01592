import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tmpDir, writeConfig } from './helpers.js';

const base = `name: bad
dataset: { use: spirals, train: 100, test: 50 }
model:
  use: dense-node
  hidden: 8
  solver: { use: rk4, dt: 0.25 }
train: { epochs: 1 }
evaluate: { repeats: 1 }
`;

async function expectFailure(yaml: string, pattern: RegExp, copy: string[] = []) {
  const file = writeConfig(yaml, copy);
  const out = tmpDir();
  const r = await cli(['run', file, '--out', out, '--quiet']);
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(pattern);
  // nothing half-written in the results folder
  expect(fs.readdirSync(out)).toEqual([]);
  return r;
}

describe('bad input gives a clear error, a non-zero exit and no results', () => {
  it('malformed YAML names the file and line', async () => {
    const r = await expectFailure(base + 'reducers: [ { use: deim, dims: [4 }\n', /config\.yaml:9:\d+: malformed YAML/);
    expect(r.code).toBe(2);
  });

  it('an unknown key is rejected with its line and a caret', async () => {
    const r = await expectFailure(base.replace('hidden: 8', 'hidden: 8\n') + 'evaluat: { repeats: 1 }\n', /config\.yaml:10:1: unknown key 'evaluat' in the top level/);
    expect(r.err).toContain('^');
  });

  it('dt <= 0 names the key', async () => {
    await expectFailure(base.replace('dt: 0.25', 'dt: -0.1'), /config\.yaml:6:\d+: model\.solver\.dt: must be > 0/);
  });

  it('t1 < t0 names the key', async () => {
    await expectFailure(base.replace('dt: 0.25', 'dt: 0.25, t0: 1, t1: 0.5'), /model\.solver\.t1: t1 must not be smaller than t0/);
  });

  it('a wrong type names the value', async () => {
    await expectFailure(base.replace('train: { epochs: 1 }', 'train: { epochs: many }'), /train\.epochs: expected number, got "many"/);
  });

  it('an unknown plugin lists the known ones and the closest match', async () => {
    await expectFailure(base.replace('use: rk4', 'use: rk5'), /unknown solver 'rk5' \(tried @odemor\/solver-rk5.*known solvers: .*rk4.*did you mean 'rk4'\?/);
  });

  it('an unknown reducer is reported before any training', async () => {
    const t0 = Date.now();
    await expectFailure(base + 'reducers: [ { use: deimm, dims: [2] } ]\n', /reducers\[0\]\.use: unknown reducer 'deimm'.*did you mean 'deim'\?/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a missing plugin file is named', async () => {
    await expectFailure(base + 'reducers: [ { use: ./nope.js, dims: [2] } ]\n', /plugin file .*nope\.js does not exist/);
  });

  it('a missing config file is an IO error', async () => {
    const r = await cli(['run', path.join(tmpDir(), 'absent.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read config .*absent\.yaml: ENOENT/);
  });

  it('validate accepts a good config and rejects a bad one', async () => {
    const good = writeConfig(base);
    expect((await cli(['validate', good])).code).toBe(0);
    const bad = writeConfig(base.replace('dt: 0.25', 'dt: 0'));
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/model\.solver\.dt/);
  });

  it('an unknown command is an error', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown command 'frobnicate'/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { main } from '@odemor/core';

export const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const repoRoot = path.resolve(fixtures, '..', '..', '..');

/** Run the CLI in-process; returns exit code and captured output. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  return { code, out: o, err: e };
}

export function tmpDir(prefix = 'odemor-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write a YAML config into a fresh temp folder (copying fixtures it may name) and return its path. */
export function writeConfig(text: string, copy: string[] = []): string {
  const dir = tmpDir();
  for (const f of copy) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UserWorkspaceConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

/** Map every workspace package name to its TypeScript source, so tests run without a build. */
function workspaceAliases(): Record<string, string> {
  const out: Record<string, string> = {};
  const dirs = ['core', 'test/conformance'];
  for (const group of ['plugins']) {
    const g = path.join(root, group);
    if (fs.existsSync(g)) for (const d of fs.readdirSync(g)) dirs.push(path.join(group, d));
  }
  for (const d of dirs) {
    const pj = path.join(root, d, 'package.json');
    const src = path.join(root, d, 'src', 'index.ts');
    if (!fs.existsSync(pj) || !fs.existsSync(src)) continue;
    const name = JSON.parse(fs.readFileSync(pj, 'utf8')).name as string;
    out[name] = src;
  }
  return out;
}

export function sharedProject(metaUrl: string): UserWorkspaceConfig {
  const dir = path.dirname(fileURLToPath(metaUrl));
  const name = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name as string;
  const aliases = workspaceAliases();
  return {
    resolve: {
      alias: Object.entries(aliases).map(([find, replacement]) => ({
        find: new RegExp(`^${find.replace(/[/.]/g, '\\$&')}$`),
        replacement,
      })),
    },
    test: {
      name,
      root: dir,
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
    },
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closest } from 'fastest-levenshtein';
import { OdemorError } from '../errors.js';
import { PACKAGE_PREFIX, POINT_NOUN, type ExtensionPoint } from '../tokens.js';
import type { Experiment, OdemorPlugin } from '../container.js';

/** Is `spec` a file path rather than a package or short name? */
export function isPathSpec(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || /\.(c|m)?js$/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec);
}

/** Is `spec` a full package name (used as is)? */
export function isPackageSpec(spec: string): boolean {
  return spec.startsWith('@') || spec.startsWith('odemor-');
}

/** Package names tried, in order, for a short name at an extension point: rk4 → @odemor/solver-rk4. */
export function candidatePackages(point: ExtensionPoint, name: string): string[] {
  const prefix = PACKAGE_PREFIX[point];
  return [`@odemor/${prefix}-${name}`, `odemor-${prefix}-${name}`];
}

/** Import a plugin module from a path or package name and return its default-exported plugin. */
export async function importPlugin(spec: string, baseDir: string): Promise<OdemorPlugin> {
  let url: string;
  if (isPathSpec(spec)) {
    const file = path.resolve(baseDir, spec);
    if (!fs.existsSync(file)) throw new OdemorError('PLUGIN', `plugin file ${file} does not exist (named '${spec}', resolved from ${baseDir})`);
    url = pathToFileURL(file).href;
  } else {
    url = resolvePackage(spec, baseDir);
  }
  let mod: any;
  try {
    mod = await import(url);
  } catch (e) {
    throw new OdemorError('PLUGIN', `cannot load plugin '${spec}': ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const plugin = mod?.default ?? mod?.plugin;
  if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string') {
    throw new OdemorError('PLUGIN', `'${spec}' is not an odemor plugin: its default export must be { name, register(ctx) }`);
  }
  return plugin as OdemorPlugin;
}

class NotFound extends Error {}

/** Resolve a package name from the config's folder, the working directory, then odemor's own install. */
function resolvePackage(name: string, baseDir: string): string {
  const bases = [path.join(baseDir, 'noop.js'), path.join(process.cwd(), 'noop.js'), fileURLToPath(import.meta.url)];
  for (const base of bases) {
    try {
      return pathToFileURL(createRequire(base).resolve(name)).href;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    }
  }
  throw new NotFound(name);
}

function packageExists(name: string, baseDir: string): boolean {
  try {
    resolvePackage(name, baseDir);
    return true;
  } catch (e) {
    if (e instanceof NotFound) return false;
    throw e;
  }
}

/**
 * Make sure `use` names something provided at `point`, loading plugins as ESLint/Babel do:
 * a path loads that file; a full package name is imported as is; a short name tries
 * `@odemor/<point>-<name>` then `odemor-<point>-<name>`, then every installed odemor plugin.
 * Returns the name under which the implementation is bound.
 */
export async function resolveUse(exp: Experiment, point: ExtensionPoint, use: string, baseDir: string): Promise<string> {
  if (exp.has(point, use)) return use;
  if (isPathSpec(use) || isPackageSpec(use)) {
    const plugin = await importPlugin(use, baseDir);
    await exp.use(plugin);
    const mine = exp.provisions.filter((p) => p.plugin === plugin.name && p.point === point);
    if (mine.length === 0) throw new OdemorError('PLUGIN', `plugin '${use}' (${plugin.name}) provides no ${POINT_NOUN[point]}`);
    if (mine.length > 1) {
      const byName = mine.find((p) => p.name === plugin.name);
      if (byName) return byName.name;
      throw new OdemorError('PLUGIN', `plugin '${use}' provides several ${POINT_NOUN[point]}s (${mine.map((p) => p.name).join(', ')}); load it under plugins: and name one in use:`);
    }
    return mine[0]!.name;
  }
  const tried = candidatePackages(point, use);
  for (const pkg of tried) {
    if (!packageExists(pkg, baseDir)) continue;
    await exp.use(await importPlugin(pkg, baseDir));
    if (exp.has(point, use)) return use;
  }
  for (const info of discoverInstalled(baseDir)) {
    if (exp.plugins.has(info.name)) continue;
    try {
      await exp.use(await importPlugin(info.name, baseDir));
    } catch {
      continue; // a broken unrelated plugin must not hide the real error
    }
    if (exp.has(point, use)) return use;
  }
  const known = exp.names(point);
  const suggestion = known.length ? closest(use, known) : undefined;
  throw new OdemorError(
    'PLUGIN',
    `unknown ${POINT_NOUN[point]} '${use}' (tried ${tried.join(', ')} and the installed plugins); known ${POINT_NOUN[point]}s: ${
      known.length ? known.join(', ') : '(none installed)'
    }${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
  );
}

export interface InstalledPlugin {
  name: string;
  version: string;
  dir: string;
  description?: string;
}

/**
 * odemor plugin packages installed where `baseDir` (or odemor itself) can see them: packages in
 * node_modules whose package.json has the keyword 'odemor-plugin' and a default export.
 */
export function discoverInstalled(baseDir = process.cwd()): InstalledPlugin[] {
  const found = new Map<string, InstalledPlugin>();
  const roots = new Set<string>();
  for (let d = path.resolve(baseDir); ; d = path.dirname(d)) {
    roots.add(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) break;
  }
  for (let d = path.dirname(fileURLToPath(import.meta.url)); ; d = path.dirname(d)) {
    roots.add(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) break;
  }
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    const entries: string[] = [];
    for (const e of fs.readdirSync(root)) {
      if (e.startsWith('@')) {
        const scope = path.join(root, e);
        try {
          for (const s of fs.readdirSync(scope)) entries.push(path.join(e, s));
        } catch {
          /* not a folder */
        }
      } else if (e.startsWith('odemor-')) entries.push(e);
    }
    for (const entry of entries) {
      const pj = path.join(root, entry, 'package.json');
      let meta: any;
      try {
        meta = JSON.parse(fs.readFileSync(pj, 'utf8'));
      } catch {
        continue;
      }
      if (!Array.isArray(meta.keywords) || !meta.keywords.includes('odemor-plugin')) continue;
      if (meta.name === '@odemor/core' || meta.name === '@odemor/conformance' || meta.private) continue;
      if (!found.has(meta.name)) found.set(meta.name, { name: meta.name, version: meta.version, dir: path.dirname(pj), description: meta.description });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

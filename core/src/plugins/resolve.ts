import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closest, distance } from 'fastest-levenshtein';
import { moduleResolve } from 'import-meta-resolve';
import { OdemorError } from '../errors.js';
import { PACKAGE_PREFIX, POINT_NOUN, type ExtensionPoint } from '../tokens.js';
import type { Experiment, OdemorPlugin } from '../container.js';
import { locateSyntaxError, recordPluginFile, stackLocation } from './origin.js';

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

/** The npm package a plugin was loaded from. */
export interface PluginPackage {
  name: string;
  version: string;
  /** the package's folder (symlinks resolved) */
  dir: string;
}

/** A plugin as loaded by {@link loadPlugin}: the plugin, the file it came from and its package. */
export interface LoadedPlugin {
  plugin: OdemorPlugin;
  /** the spec it was named by (a path or a package name) */
  spec: string;
  /** the module file imported */
  file: string;
  /** the package, when loaded by package name */
  package?: PluginPackage;
}

/**
 * Import a plugin module from a path or package name and return its default-exported plugin.
 * `where` (e.g. `exp.yaml: plugins[0]`) prefixes error messages so they name the file and key.
 */
export async function importPlugin(spec: string, baseDir: string, where?: string): Promise<OdemorPlugin> {
  return (await loadPlugin(spec, baseDir, where)).plugin;
}

/** {@link importPlugin}, also saying where the plugin came from (file, package name and version). */
export async function loadPlugin(spec: string, baseDir: string, where?: string): Promise<LoadedPlugin> {
  const at = where ? `${where}: ` : '';
  let url: string;
  let pkg: PluginPackage | undefined;
  if (isPathSpec(spec)) {
    const file = path.resolve(baseDir, spec);
    if (!fs.existsSync(file)) throw new OdemorError('PLUGIN', `${at}plugin file ${file} does not exist (named '${spec}', resolved from ${baseDir})`);
    url = pathToFileURL(file).href;
  } else {
    const found = resolvePluginPackage(spec, baseDir, where);
    url = found.url;
    pkg = found.package;
  }
  const file = fileURLToPath(url);
  let mod: any;
  try {
    mod = await import(url);
  } catch (e) {
    throw new OdemorError('PLUGIN', `${at}cannot load plugin '${spec}' (${file}): ${describeLoadError(e, file)}`, { cause: e });
  }
  const plugin = mod?.default ?? mod?.plugin;
  if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string') {
    throw new OdemorError('PLUGIN', `${at}'${spec}' (${file}) is not an odemor plugin: its default export must be { name, register(ctx) }`);
  }
  recordPluginFile(plugin as object, file);
  return { plugin: plugin as OdemorPlugin, spec, file, ...(pkg ? { package: pkg } : {}) };
}

/**
 * Why importing a plugin failed: a syntax error with its file, line, column and the line itself (found by
 * `node --check`, since Node's own message has no location); any other error with the place it was thrown.
 */
function describeLoadError(e: unknown, file: string): string {
  const isError = e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string');
  const first = isError ? `${(e as Error).name === 'Error' ? '' : `${(e as Error).name}: `}${(e as Error).message.split('\n')[0]}` : String(e);
  // by name: a CommonJS-or-module file's SyntaxError may come from another realm
  if (e instanceof Error && e.name === 'SyntaxError') {
    const loc = locateSyntaxError(file);
    if (loc) return `syntax error at ${loc.file}:${loc.line}:${loc.column}: ${loc.message}\n${loc.excerpt}`;
    return first;
  }
  const where = stackLocation(e);
  return where ? `${first} (at ${where})` : first;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The folders package names are resolved from, in order: the config's, the working directory, odemor's own. */
function resolutionBases(baseDir: string): string[] {
  return [...new Set(labelledBases(baseDir).map(([dir]) => dir))];
}

function labelledBases(baseDir: string): [string, string][] {
  const own = path.dirname(fileURLToPath(import.meta.url));
  return [
    [path.resolve(baseDir), "the config's folder"],
    [process.cwd(), 'the working directory'],
    [own, "odemor's own install"],
  ];
}

/** The folder of package `name` as Node finds it from `base`: node_modules/<name> in `base` or above. */
function findPackageDir(name: string, base: string): string | undefined {
  for (let d = base; ; d = path.dirname(d)) {
    const dir = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(d) === d) return undefined;
  }
}

type Found = { url: string; package: PluginPackage };

/**
 * Resolve package specifier `spec` as `import` would from each base in turn (Node's ESM algorithm
 * with the `node` and `import` conditions, via import-meta-resolve, since Node 20's
 * `import.meta.resolve` ignores its parent argument without a flag). A package whose `exports`
 * offer only `require` falls back to CommonJS resolution. Undefined when no base has the package.
 */
function findPackage(spec: string, baseDir: string, where?: string): Found | undefined {
  const at = where ? `${where}: ` : '';
  const name = packageNameOf(spec);
  for (const base of resolutionBases(baseDir)) {
    const dir = findPackageDir(name, base);
    if (!dir) continue;
    const parent = pathToFileURL(path.join(base, 'noop.js'));
    let url: string;
    try {
      url = moduleResolve(spec, parent).href;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const first = (e as Error).message.split('\n')[0];
      if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw new OdemorError('PLUGIN', `${at}plugin package '${spec}' (found at ${dir}) cannot be imported: ${first}`, { cause: e });
      try {
        url = pathToFileURL(createRequire(parent).resolve(spec)).href;
      } catch {
        throw new OdemorError('PLUGIN', `${at}plugin package '${spec}' (found at ${dir}) exports nothing that can be imported: ${first}`, { cause: e });
      }
    }
    return { url, package: packageOf(name, fileURLToPath(url), dir) };
  }
  return undefined;
}

/** The package.json named `name` at or above `file` (a package's own dist/package.json may say only its module type). */
function packageOf(name: string, file: string, dir: string): PluginPackage {
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (meta.name === name) return { name, version: meta.version ?? '0.0.0', dir: d };
    } catch {
      /* no package.json here */
    }
    if (path.dirname(d) === d) break;
  }
  return { name, version: '0.0.0', dir: fs.realpathSync(dir) };
}

/**
 * Resolve a plugin package name to the URL of its module, looking from the config's folder, the
 * working directory, then odemor's own install. A package that is not installed gets a PLUGIN
 * error saying where it looked and the closest installed odemor plugin package.
 */
export function resolvePluginPackage(spec: string, baseDir: string, where?: string): Found {
  const found = findPackage(spec, baseDir, where);
  if (found) return found;
  const name = packageNameOf(spec);
  const labels = new Map<string, string[]>();
  for (const [dir, label] of labelledBases(baseDir)) labels.set(dir, [...(labels.get(dir) ?? []), label]);
  const looked = [...labels].map(([dir, l]) => `${dir} (${l.join(', ')})`).join('; ');
  const installed = [...new Set([...labels.keys()].flatMap((b) => discoverInstalled(b).map((i) => i.name)))];
  const near = installed.length ? closest(name, installed) : undefined;
  const suggestion = near !== undefined && distance(name, near) <= 3 ? `; did you mean '${near}'?` : '';
  throw new OdemorError(
    'PLUGIN',
    `${where ? `${where}: ` : ''}cannot find plugin package '${name}': looked for node_modules/${name} in and above ${looked}; install it (npm install ${name}) or fix the name; installed odemor plugin packages: ${
      installed.length ? installed.join(', ') : '(none)'
    }${suggestion}`,
  );
}

function packageExists(name: string, baseDir: string): boolean {
  return findPackage(name, baseDir) !== undefined;
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
  // packages whose manifest declares the name first (`"odemor": { "provides": { "Trainer": ["backprop"] } }`
  // in package.json), so resolving a name imports one package rather than every installed plugin
  const installed = discoverInstalled(baseDir);
  const declares = (i: InstalledPlugin) => i.provides?.[point]?.includes(use) === true;
  for (const info of [...installed.filter(declares), ...installed.filter((i) => !declares(i))]) {
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
  /** what its package.json's `odemor.provides` declares, by extension point (a hint for resolution) */
  provides?: Partial<Record<ExtensionPoint, string[]>>;
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
      const provides = meta.odemor?.provides;
      if (!found.has(meta.name)) {
        found.set(meta.name, {
          name: meta.name,
          version: meta.version,
          dir: path.dirname(pj),
          description: meta.description,
          ...(provides && typeof provides === 'object' ? { provides } : {}),
        });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

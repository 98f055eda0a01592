/**
 * Where a plugin came from and where in its file an error arose, so that load and `register()` errors name
 * the plugin, its file and the line (docs/architecture.md#plugin-resolution).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const files = new WeakMap<object, string>();

/** Remember the module file a plugin object was imported from (done by `loadPlugin`). */
export function recordPluginFile(plugin: object, file: string): void {
  files.set(plugin, file);
}

/** The module file a plugin was imported from, when it was loaded by `loadPlugin`. */
export function pluginFile(plugin: object): string | undefined {
  return files.get(plugin);
}

/** core's own source folder: stack frames in it are not the plugin's */
const CORE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `file:line:column` of the first stack frame of `error` in `file` (any file outside Node and core when
 * `file` is not known); undefined when the stack has none.
 */
export function stackLocation(error: unknown, file?: string): string | undefined {
  const stack = error instanceof Error ? error.stack : undefined;
  if (!stack) return undefined;
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    let where = m[1]!;
    if (where.startsWith('node:') || where.startsWith('internal/')) continue;
    if (where.startsWith('file://')) {
      try {
        where = fileURLToPath(where);
      } catch {
        continue;
      }
    }
    if (file ? path.resolve(where) !== path.resolve(file) : where.startsWith(CORE_DIR + path.sep)) continue;
    return `${where}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** A syntax error located in a file: `file:line:column`, the message, and the line with a caret. */
export interface SyntaxLocation {
  file: string;
  line: number;
  column: number;
  message: string;
  excerpt: string;
}

/** How Node reads `file`: as an ES module, as CommonJS, or (a `.js` file outside any typed package) either. */
function moduleKind(file: string): 'module' | 'commonjs' | 'either' {
  if (file.endsWith('.mjs')) return 'module';
  if (file.endsWith('.cjs')) return 'commonjs';
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    try {
      const type = (JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { type?: unknown }).type;
      return type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : 'either';
    } catch {
      /* no (readable) package.json here */
    }
    if (path.dirname(d) === d) return 'either';
  }
}

/** Node's syntax check of `source` read as `type`: the location and message, or undefined when it parses. */
function checkSyntax(file: string, source: string, type: 'module' | 'commonjs'): SyntaxLocation | undefined {
  const r = spawnSync(process.execPath, ['--check', `--input-type=${type}`], { input: source, encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return undefined;
  // [stdin]:4
  //     const a = ;
  //               ^
  //
  // SyntaxError: Unexpected token ';'
  const lines = r.stderr.split('\n');
  // warnings may come first
  const at = lines.findIndex((l) => /^\[stdin\]:\d+$/.test(l.trim()));
  const messageLine = lines.find((l) => /^SyntaxError: /.test(l));
  if (at < 0 || !messageLine) return undefined;
  const line = Number(lines[at]!.trim().slice('[stdin]:'.length));
  const caretLine = lines[at + 2] ?? '';
  const column = caretLine.indexOf('^') >= 0 ? caretLine.indexOf('^') + 1 : 1;
  const text = source.split(/\r?\n/)[line - 1] ?? '';
  const shown = text.length > 160 ? `${text.slice(0, 160)}…` : text;
  return { file, line, column, message: messageLine.replace(/^SyntaxError: /, ''), excerpt: `  ${String(line).padStart(4)} | ${shown}\n         ${' '.repeat(Math.min(column - 1, 161))}^` };
}

/** The relative modules `source` imports statically (`import … from './x.js'`, `export … from '../y.js'`, `import './z.js'`). */
function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s*(?:[^'"`;]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[1]!);
  return out;
}

/**
 * Find the syntax error that made importing `entry` fail: Node's error says only "Unexpected token", without
 * the file or line. Checks `entry` and the files it imports by relative path (at most 50), each with
 * `node --check`, and returns the first that does not parse.
 */
export function locateSyntaxError(entry: string): SyntaxLocation | undefined {
  const seen = new Set<string>();
  const queue = [path.resolve(entry)];
  while (queue.length && seen.size < 50) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const kind = moduleKind(file);
    if (kind === 'either') {
      // Node tries CommonJS, then ES module syntax: the file is at fault only when it is neither
      const asModule = checkSyntax(file, source, 'module');
      if (asModule && checkSyntax(file, source, 'commonjs')) return asModule;
    } else {
      const found = checkSyntax(file, source, kind);
      if (found) return found;
    }
    for (const spec of relativeImports(source)) {
      const next = path.resolve(path.dirname(file), spec.split(/[?#]/)[0]!);
      if (!seen.has(next)) queue.push(next);
    }
  }
  return undefined;
}

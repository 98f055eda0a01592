import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { OdemorError } from '../errors.js';
import { configSchema, type ExperimentConfig } from './schema.js';

export interface LoadedConfig {
  config: ExperimentConfig;
  /** absolute path of the file, or '<inline>' */
  file: string;
  /** directory that relative paths in the config resolve against */
  baseDir: string;
}

/** One problem found in a config, located in the file. */
export interface ConfigProblem {
  key: string;
  message: string;
  line?: number;
  column?: number;
  excerpt?: string;
}

export class ConfigError extends OdemorError {
  readonly file: string;
  readonly problems: ConfigProblem[];
  constructor(file: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => {
      const where = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
      const key = p.key ? `${p.key}: ` : '';
      return `${where}: ${key}${p.message}${p.excerpt ? `\n${p.excerpt}` : ''}`;
    });
    super('CONFIG', `invalid config ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'})\n${lines.join('\n')}`);
    this.file = file;
    this.problems = problems;
  }
}

/** Read, parse and validate a YAML experiment config. Every problem is reported with file, line and key. */
export function loadConfig(file: string): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new OdemorError('IO', `cannot read config ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, abs);
}

/** Parse and validate config text; `file` is used in messages and as the base of relative paths. */
export function parseConfig(text: string, file = '<inline>'): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lines = text.split(/\r?\n/);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { key: '', message: `malformed YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col, excerpt: caret(lines, pos.line, pos.col) };
      }),
    );
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ key: '', message: 'the config must be a YAML mapping (key: value pairs) at the top level', line: 1 }]);
  }
  return validateConfigObject(raw, file, { doc, lineCounter, lines });
}

/** Validate an already parsed config object (from YAML or code). */
export function validateConfigObject(
  raw: unknown,
  file = '<inline>',
  source?: { doc: Document; lineCounter: LineCounter; lines: string[] },
): LoadedConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(file, flattenUnions(parsed.error.issues).map((issue) => describeIssue(issue, raw, source)));
  }
  return { config: parsed.data, file, baseDir: file === '<inline>' ? process.cwd() : path.dirname(file) };
}

/**
 * A union (e.g. `train: {…} | false`) reports one issue list per branch. When some branch got past
 * the type check (its issues sit deeper than the union itself), report that branch's issues instead,
 * so `train: { epochs: many }` says `train.epochs: expected number` rather than "invalid value".
 */
function flattenUnions(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((b) => b.path.length));
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0]!;
    if (depth(best) === 0) return [issue];
    return flattenUnions(best.map((b) => ({ ...b, path: [...issue.path, ...b.path] }) as z.core.$ZodIssue));
  });
}

function describeIssue(
  issue: z.core.$ZodIssue,
  raw: unknown,
  source?: { doc: Document; lineCounter: LineCounter; lines: string[] },
): ConfigProblem {
  const keyPath = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  let message = issue.message;
  let locPath = keyPath;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const parentKey = keyPath.length ? formatKey(keyPath) : 'the top level';
    message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} in ${parentKey}`;
    locPath = [...keyPath, keys[0]!];
  } else if (issue.code === 'invalid_type') {
    const actual = valueAt(raw, keyPath);
    message = actual === undefined ? `is required (expected ${issue.expected})` : `expected ${issue.expected}, got ${JSON.stringify(actual)}`;
  } else if (issue.code === 'invalid_value') {
    message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(valueAt(raw, keyPath))}`;
  } else if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number') {
    const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
    const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
    message = `must be ${op} ${bound}, got ${JSON.stringify(valueAt(raw, keyPath))}`;
  } else if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'custom') {
    const v = valueAt(raw, keyPath);
    if (v !== undefined && typeof v !== 'object') message = `${issue.message} (got ${JSON.stringify(v)})`;
  } else if (issue.code === 'invalid_union') {
    const v = valueAt(raw, keyPath);
    message = `has an invalid value ${JSON.stringify(v)}`;
    const first = issue.errors.flat()[0];
    if (first) message += `: ${first.message}`;
  }
  const problem: ConfigProblem = { key: formatKey(keyPath), message };
  if (source) {
    const loc = locate(source.doc, locPath);
    if (loc !== undefined) {
      const pos = source.lineCounter.linePos(loc);
      problem.line = pos.line;
      problem.column = pos.col;
      problem.excerpt = caret(source.lines, pos.line, pos.col);
    }
  }
  return problem;
}

/** `reducers[0].dims[1]` */
function formatKey(keys: (string | number)[]): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function valueAt(raw: unknown, keys: (string | number)[]): unknown {
  let v: any = raw;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[k];
  }
  return v;
}

/** Offset of the deepest existing node on `keys`: the key itself for a mapping entry, else the value. */
function locate(doc: Document, keys: (string | number)[]): number | undefined {
  for (let depth = keys.length; depth >= 0; depth--) {
    const sub = keys.slice(0, depth);
    if (depth > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      const last = sub[sub.length - 1];
      const pair = parent && (parent as any).items?.find?.((it: any) => it?.key && isNode(it.key) && (it.key as any).value === last);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
    const node = depth === 0 ? doc.contents : doc.getIn(sub, true);
    if (node && isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function caret(lines: string[], line: number, col: number): string {
  const text = lines[line - 1] ?? '';
  return `  ${String(line).padStart(4)} | ${text}\n         ${' '.repeat(Math.max(0, col - 1))}^`;
}

/** Resolve a path given in the config relative to the config file. */
export function resolveConfigPath(loaded: LoadedConfig, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(loaded.baseDir, p);
}

import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { OdemorError } from '../errors.js';
import { configSchema, reducerSchema, snapshotsSchema, trainSchema, type ExperimentConfig } from './schema.js';

/**
 * The largest config file read (128 KiB): real configs are a few KiB, and YAML parsing costs about 12 µs per
 * list entry, so a bigger file is refused before it is parsed.
 */
export const MAX_CONFIG_BYTES = 128 * 1024;

/** The most alias expansions a config's YAML may make (the `yaml` package's `maxAliasCount`): stops alias bombs. */
export const MAX_YAML_ALIASES = 100;

export interface LoadedConfig {
  config: ExperimentConfig;
  /** absolute path of the file, or '<inline>' */
  file: string;
  /** directory that relative paths in the config resolve against */
  baseDir: string;
  /** the parsed YAML text, when the config came from text: locates later problems (plugin options) by line */
  source?: ConfigSource;
}

/** The YAML document a config was parsed from, to map a key path to its line and column. */
export interface ConfigSource {
  doc: Document;
  lineCounter: LineCounter;
  /** the text, split into lines (for the caret excerpt) */
  lines: string[];
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
    const size = fs.statSync(abs).size;
    if (size > MAX_CONFIG_BYTES) throw tooLarge(abs, size);
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new OdemorError('IO', `cannot read config ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, abs);
}

function tooLarge(file: string, bytes: number): ConfigError {
  const size = bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
  return new ConfigError(file, [{ key: '', message: `the config is ${size}, above the limit of ${MAX_CONFIG_BYTES / 1024} KiB for a config file (is it the right file? a list of many thousand entries?)` }]);
}

/** Parse and validate config text; `file` is used in messages and as the base of relative paths. */
export function parseConfig(text: string, file = '<inline>'): LoadedConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) throw tooLarge(file, Buffer.byteLength(text, 'utf8'));
  const lineCounter = new LineCounter();
  // prettyErrors stays off: its context excerpt of a deeply nested line can exhaust memory
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(file, [{ key: '', message: `malformed YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const lines = text.split(/\r?\n/);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const first = e.message.split('\n')[0]!;
        const why = /call stack/i.test(first) ? `${first} (the YAML is nested too deeply)` : first;
        return { key: '', message: `malformed YAML: ${why}`, line: pos.line, column: pos.col, excerpt: caret(lines, pos.line, pos.col) };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (e) {
    // the yaml package throws a ReferenceError when aliases expand beyond maxAliasCount (an alias bomb)
    const message = (e as Error).message;
    const bomb = /alias/i.test(message);
    throw new ConfigError(file, [
      {
        key: '',
        message: bomb
          ? `YAML aliases expand too far (more than ${MAX_YAML_ALIASES} alias expansions; the yaml parser says: ${message}); write the values out instead of nesting aliases`
          : `malformed YAML: ${message.split('\n')[0]}`,
      },
    ]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ key: '', message: 'the config must be a YAML mapping (key: value pairs) at the top level', line: 1 }]);
  }
  return { ...validateConfigObject(raw, file, { doc, lineCounter, lines }), source: { doc, lineCounter, lines } };
}

/** Validate an already parsed config object (from YAML or code). */
export function validateConfigObject(
  raw: unknown,
  file = '<inline>',
  source?: ConfigSource,
): LoadedConfig {
  const parsed = configSchema.safeParse(raw);
  const issues = parsed.success ? nearMisses(raw) : parsed.error.issues;
  if (!parsed.success || issues.length) {
    throw new ConfigError(file, describeIssues(issues, raw, { ...(source ? { source } : {}), schema: configSchema }));
  }
  return { config: parsed.data, file, baseDir: file === '<inline>' ? process.cwd() : path.dirname(file) };
}

/**
 * `train` and `snapshots` pass keys core does not own to their plugin's option schema; a key there that is
 * a near miss of one of core's own keys (`epochz` for `epochs`: edit distance ≤ 2) is a typo, reported
 * here as an unknown core key rather than handed to the plugin.
 */
function nearMisses(raw: unknown): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  const check = (obj: unknown, own: string[], at: (string | number)[]) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
    const typos = Object.keys(obj).filter((k) => !own.includes(k) && own.some((c) => distance(k.toLowerCase(), c.toLowerCase()) <= 2));
    if (typos.length) out.push({ code: 'unrecognized_keys', keys: typos, path: at, message: '' } as unknown as z.core.$ZodIssue);
  };
  const top = raw as Record<string, unknown> | null;
  for (const [at, schema] of [['train', trainSchema], ['snapshots', snapshotsSchema]] as const) check(top?.[at], Object.keys(schema.shape), [at]);
  // a reducer entry's `dimz` is a typo of core's `dims`, not an option of the reducer
  const reducers = top?.reducers;
  if (Array.isArray(reducers)) reducers.forEach((r, i) => check(r, Object.keys(reducerSchema.shape), ['reducers', i]));
  return out;
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
    // a branch of the right type that failed a check on the whole value (a list over its size limit): report that check
    const typed = issue.errors.find((branch) => branch.length > 0 && branch.every((b) => b.path.length === 0 && (b.code === 'too_big' || b.code === 'too_small')));
    const chosen = depth(best) > 0 ? best : typed;
    if (!chosen) return [issue];
    return flattenUnions(chosen.map((b) => ({ ...b, path: [...issue.path, ...b.path] }) as z.core.$ZodIssue));
  });
}

/** How {@link describeIssues} places and words the issues of one schema. */
export interface DescribeOptions {
  /** the YAML the config came from: adds line, column and the caret excerpt */
  source?: ConfigSource;
  /** the key path of the validated object inside the config (`['reducers', 0]`); issue paths are relative to it */
  prefix?: (string | number)[];
  /** the schema that produced the issues: the known keys of an object in it give unknown keys a suggestion */
  schema?: z.core.$ZodType;
  /**
   * who owns the validated object (`reducer 'deim'`): unknown keys are then reported one by one under
   * their own key path as `unknown option of reducer 'deim'`; without it, as core's `unknown key 'x' in evaluate`
   */
  owner?: string;
}

/**
 * Turn zod issues into located {@link ConfigProblem}s: the key path, a message naming the value at fault,
 * for an unknown key the closest known key (`did you mean 'repeats'?`), and with a source the line,
 * column and a caret under the text. `raw` is the object the schema validated.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, options: DescribeOptions = {}): ConfigProblem[] {
  return flattenUnions([...issues]).flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [describeIssue(issue, raw, options)];
    // one problem per unknown key, each at its own line, each with its own suggestion
    return issue.keys.map((k) => describeIssue({ ...issue, keys: [k] }, raw, options));
  });
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown, options: DescribeOptions): ConfigProblem {
  const { source, prefix = [], schema, owner } = options;
  const relPath = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const keyPath = [...prefix, ...relPath];
  let message = issue.message;
  let locPath = keyPath;
  let key = formatKey(keyPath);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    // baseDir is what core passes a dataset, never a key to suggest to the user
    const known = schema ? knownKeys(schema, relPath)?.filter((k) => !(owner && k === 'baseDir')) : undefined;
    const hint = keys.length === 1 && known ? suggest(keys[0]!, known) : '';
    if (owner) {
      key = formatKey([...keyPath, keys[0]!]);
      message = `unknown option of ${owner}${hint}`;
    } else {
      const parentKey = keyPath.length ? formatKey(keyPath) : 'the top level';
      message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} in ${parentKey}${hint}`;
    }
    locPath = [...keyPath, keys[0]!];
  } else if (issue.code === 'invalid_type') {
    const actual = valueAt(raw, relPath);
    message = actual === undefined ? `is required (expected ${issue.expected})` : `expected ${issue.expected}, got ${show(actual)}`;
  } else if (issue.code === 'invalid_value') {
    message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(valueAt(raw, relPath))}`;
  } else if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number') {
    const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
    const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
    message = `must be ${op} ${bound}, got ${show(valueAt(raw, relPath))}`;
  } else if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'custom') {
    const v = valueAt(raw, relPath);
    if (Array.isArray(v) && (issue.code === 'too_big' || issue.code === 'too_small')) message = `${issue.message} (got ${v.length} entr${v.length === 1 ? 'y' : 'ies'})`;
    else if (v !== undefined && typeof v !== 'object') message = `${issue.message} (got ${show(v)})`;
  } else if (issue.code === 'invalid_union') {
    const v = valueAt(raw, relPath);
    message = `has an invalid value ${show(v)}`;
    const first = issue.errors.flat()[0];
    if (first) message += `: ${first.message}`;
  }
  return locateProblem({ key, message }, locPath, source);
}

/** Add line, column and the caret excerpt of the deepest node on `keys` that exists in the YAML. */
export function locateProblem(problem: ConfigProblem, keys: (string | number)[], source?: ConfigSource): ConfigProblem {
  if (!source) return problem;
  const loc = locate(source.doc, keys);
  if (loc === undefined) return problem;
  const pos = source.lineCounter.linePos(loc);
  return { ...problem, line: pos.line, column: pos.col, excerpt: caret(source.lines, pos.line, pos.col) };
}

/**
 * `; did you mean 'repeats'?` when a known key is within a few edits of `key` (at most 2, or a third of
 * its length), else `; known: a, b, c`; empty when nothing is known.
 */
export function suggest(key: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const best = closest(key, [...known]);
  if (distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3))) return `; did you mean '${best}'?`;
  return `; known: ${known.join(', ')}`;
}

interface DefLike {
  type?: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  element?: z.core.$ZodType;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  items?: readonly z.core.$ZodType[];
  getter?: () => z.core.$ZodType;
}

/** The object schemas a (possibly wrapped: optional, default, pipe, union, …) schema stands for. */
function unwrap(schema: z.core.$ZodType, depth = 0): { def: DefLike }[] {
  const def = (schema as unknown as { _zod?: { def?: DefLike } })._zod?.def;
  if (!def || depth > 20) return [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType ? unwrap(def.innerType, depth + 1) : [];
    case 'pipe':
      return def.in ? unwrap(def.in, depth + 1) : [];
    case 'lazy':
      return def.getter ? unwrap(def.getter(), depth + 1) : [];
    case 'union':
      return (def.options ?? []).flatMap((o) => unwrap(o, depth + 1));
    case 'intersection':
      return [def.left, def.right].flatMap((o) => (o ? unwrap(o, depth + 1) : []));
    default:
      return [{ def }];
  }
}

/** The keys an object schema knows at `path` inside `schema` (through arrays, records and wrappers). */
export function knownKeys(schema: z.core.$ZodType, path: (string | number)[]): string[] | undefined {
  let current = unwrap(schema);
  for (const p of path) {
    const next: z.core.$ZodType[] = [];
    for (const { def } of current) {
      if (def.type === 'object' && typeof p === 'string' && def.shape?.[p]) next.push(def.shape[p]);
      else if (def.type === 'array' && typeof p === 'number' && def.element) next.push(def.element);
      else if (def.type === 'tuple' && typeof p === 'number' && def.items?.[p]) next.push(def.items[p]);
      else if (def.type === 'record' && def.valueType) next.push(def.valueType);
    }
    current = next.flatMap((s) => unwrap(s));
  }
  const keys = new Set<string>();
  for (const { def } of current) if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  return keys.size ? [...keys] : undefined;
}

/** A value as JSON for a message, cut to 80 characters (a huge list must not flood the terminal). */
function show(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** `reducers[0].dims[1]` */
export function formatKey(keys: (string | number)[]): string {
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

/** The line with a caret under `col`; a line over 160 characters is cut to a window around the column. */
function caret(lines: string[], line: number, col: number): string {
  let text = lines[line - 1] ?? '';
  let at = Math.max(0, col - 1);
  const width = 160;
  if (text.length > width) {
    const start = Math.max(0, Math.min(at - 40, text.length - width));
    const head = start > 0 ? '…' : '';
    text = head + text.slice(start, start + width) + (start + width < text.length ? '…' : '');
    at = at - start + head.length;
  }
  return `  ${String(line).padStart(4)} | ${text}\n         ${' '.repeat(at)}^`;
}

/** Resolve a path given in the config relative to the config file. */
export function resolveConfigPath(loaded: LoadedConfig, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(loaded.baseDir, p);
}

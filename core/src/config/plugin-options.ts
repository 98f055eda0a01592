import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { ZodType } from 'zod';
import type { Experiment } from '../container.js';
import type { Reducer, Solver } from '../extension-points.js';
import { RK_DEFAULTS, fixedStepCount } from '../solvers/driver.js';
import type { Resolved } from '../pipeline/run.js';
import { POINT_NOUN, type ExtensionPoint } from '../tokens.js';
import { ConfigError, describeIssues, formatKey, knownKeys, locateProblem, suggest, type ConfigProblem, type ConfigSource, type LoadedConfig } from './load.js';
import { configSchema, DEFAULT_SOLVER, type ExperimentConfig } from './schema.js';

/** One `use:` site of a config: where it is, which implementation it names, and what its plugin gets. */
interface Site {
  point: ExtensionPoint;
  name: string;
  /** key path of the config object holding the `use:` (`['reducers', 0]`) */
  path: (string | number)[];
  /** the plugin's part of that object: the object minus the keys core owns there (plus what core adds, e.g. `seed`, `baseDir`) */
  options: Record<string, unknown>;
}

/** The keys core owns in the config object at `path` (its schema's keys there, and `use`). */
function coreKeys(path: (string | number)[]): Set<string> {
  return new Set(['use', ...(knownKeys(configSchema, path) ?? [])]);
}

/** `object` without the keys core owns at `path`. */
function pluginPart(object: Record<string, unknown>, path: (string | number)[]): Record<string, unknown> {
  const own = coreKeys(path);
  return Object.fromEntries(Object.entries(object).filter(([k]) => !own.has(k)));
}

/** The YAML a config came from, to locate problems: kept by `parseConfig`, else re-read from its file. */
function sourceOf(loaded: LoadedConfig): ConfigSource | undefined {
  if (loaded.source) return loaded.source;
  if (loaded.file === '<inline>' || !fs.existsSync(loaded.file)) return undefined;
  try {
    const text = fs.readFileSync(loaded.file, 'utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    return doc.errors.length ? undefined : { doc, lineCounter, lines: text.split(/\r?\n/) };
  } catch {
    return undefined;
  }
}

/** Every `use:` site of the config with the options its plugin's factory will get. */
function sites(config: ExperimentConfig, loaded: LoadedConfig, resolved: Resolved): Site[] {
  const seed = config.seed;
  const out: Site[] = [];
  // datasets and reducers get the experiment's seed from core, datasets also the config's folder, which
  // their relative paths resolve against (see docs/architecture.md)
  out.push({ point: 'Dataset', name: resolved.dataset, path: ['dataset'], options: { ...pluginPart(config.dataset, ['dataset']), seed, baseDir: loaded.baseDir } });
  out.push({ point: 'Model', name: resolved.model, path: ['model'], options: pluginPart(config.model, ['model']) });
  // a solver's factory gets dt, t0, t1 (defaults filled in) and whatever else model.solver gives
  const { use: _s, ...solverOptions } = { ...DEFAULT_SOLVER, ...(config.model.solver ?? {}) };
  out.push({ point: 'Solver', name: resolved.solver, path: ['model', 'solver'], options: solverOptions });
  const train = config.train === undefined ? (config.model.checkpoint || config.model.weights ? false : {}) : config.train;
  if (train !== false && resolved.trainer) {
    out.push({ point: 'Trainer', name: resolved.trainer, path: ['train'], options: pluginPart(train, ['train']) });
  }
  if (config.snapshots && resolved.snapshotter) {
    out.push({ point: 'Snapshotter', name: resolved.snapshotter, path: ['snapshots'], options: pluginPart(config.snapshots, ['snapshots']) });
  }
  config.reducers.forEach((r, i) => {
    const name = resolved.reducers[i];
    if (name !== undefined) out.push({ point: 'Reducer', name, path: ['reducers', i], options: { ...pluginPart(r, ['reducers', i]), seed } });
  });
  out.push({ point: 'Evaluator', name: resolved.evaluator, path: ['evaluate'], options: pluginPart(config.evaluate, ['evaluate']) });
  if (config.report && resolved.report) out.push({ point: 'Report', name: resolved.report, path: ['report'], options: pluginPart(config.report, ['report']) });
  return out;
}

/** The solver keys that fix the time span and step count (`model.solver` merged). */
export interface SolverSpan {
  dt: number;
  t0: number;
  t1: number;
  maxSteps?: number;
}

/**
 * The time span of `model.solver`, checked before any work: `t1` must exceed `t0` (a zero-length span makes
 * no snapshots), and a fixed-step solver's `ceil((t1 − t0)/dt)` steps must not exceed `model.solver.maxSteps`
 * (default 100000) — `dt: 1e-7` would otherwise hold ten million states in memory while training.
 */
function checkSpan(exp: Experiment, config: ExperimentConfig, site: Site, source: ConfigSource | undefined, merged?: SolverSpan): ConfigProblem[] {
  const given = config.model.solver ?? {};
  const span: SolverSpan | undefined =
    merged ?? (config.model.checkpoint && (given.dt === undefined || given.t0 === undefined || given.t1 === undefined) ? undefined : { ...DEFAULT_SOLVER, ...given });
  if (!span) return [];
  const at = (key: string) => [...site.path, key];
  const problem = (key: string, message: string) => locateProblem({ key: formatKey(at(key)), message }, at(key), source);
  const { dt, t0, t1 } = span;
  if (t1 === t0) return [problem('t1', `t1 must be greater than t0: the span [${t0}, ${t1}] has zero length, so the solve integrates nothing and makes no snapshots`)];
  if (t1 < t0) return [problem('t1', `t1 (${t1}) must not be smaller than t0 (${t0})`)];
  if (!exp.has('Solver', site.name)) return [];
  let solver: Solver;
  try {
    solver = exp.factory('Solver', site.name)(site.options);
  } catch (e) {
    const message = (e as Error).message;
    return [locateProblem({ key: formatKey(site.path), message: message.includes(site.name) ? message : `solver '${site.name}': ${message}` }, site.path, source)];
  }
  if (solver.adaptive) return [];
  const maxSteps = span.maxSteps ?? solver.maxSteps ?? RK_DEFAULTS.maxSteps;
  const steps = fixedStepCount(t0, t1, dt);
  if (steps <= maxSteps) return [];
  return [
    problem(
      'dt',
      `dt ${dt} on [${t0}, ${t1}] means ${steps.toLocaleString('en-US')} steps, above model.solver.maxSteps (${maxSteps}); use a larger dt, or raise model.solver.maxSteps if so many steps are meant`,
    ),
  ];
}

/**
 * For a solver that declares no option schema: the keys of `model.solver` that core does not own are unknown
 * (core's solver schema lets them through for solvers that do declare one).
 */
function undeclaredSolverKeys(config: ExperimentConfig, site: Site, source: ConfigSource | undefined): ConfigProblem[] {
  const own = coreKeys(site.path);
  return Object.keys(config.model.solver ?? {})
    .filter((k) => !own.has(k))
    .map((k) => {
      const path = [...site.path, k];
      return locateProblem(
        { key: formatKey(path), message: `unknown key '${k}' in model.solver (solver '${site.name}' takes no options of its own)${suggest(k, [...own])}` },
        path,
        source,
      );
    });
}

/** Validate `options` against `schema`; located problems, empty when valid. */
function check(schema: ZodType, site: Site, source: ConfigSource | undefined): ConfigProblem[] {
  const owner = `${POINT_NOUN[site.point]} '${site.name}'`;
  let result: ReturnType<ZodType['safeParse']>;
  try {
    result = schema.safeParse(site.options);
  } catch (e) {
    // e.g. an async refinement, which a synchronous check cannot run
    return [locateProblem({ key: formatKey(site.path), message: `cannot check the options of ${owner}: ${(e as Error).message}` }, site.path, source)];
  }
  if (result.success) return [];
  return describeIssues(result.error.issues, site.options, { ...(source ? { source } : {}), prefix: site.path, schema, owner });
}

/**
 * Check every plugin's options before any work: for each `use:` of the config (dataset, model,
 * model.solver, train, snapshots, each reducer, evaluate, report), the options its plugin will get — the
 * config object there minus the keys core owns (`use` everywhere; `checkpoint`, `solver` of the model;
 * `dims`, `points`, `energy` of a reducer; `every`, `limit`, `batch` of the snapshots; every key of
 * `evaluate` and `train` that core's schema knows), plus the `seed` core passes to datasets and reducers —
 * are validated against the option schema the plugin declared with `ctx.provide(point, name, factory,
 * { options })`. A plugin that declares no schema is not checked. Unknown keys get the closest known key
 * as a suggestion. A reducer given `points` must declare `capabilities.points` (each reducer is built
 * from its options to read them; a constructor that throws is reported too).
 *
 * `model.solver` is checked with core's solver defaults filled in (dt, t0, t1), not a checkpoint's. The
 * trainer's own keys of `train` (those core's `trainSchema` does not know) go to the Trainer's schema.
 *
 * The time span is checked too (see {@link checkSpan}): `t1 > t0`, and for a fixed-step solver at most
 * `model.solver.maxSteps` steps. `solver` is the merged solver (defaults, then the checkpoint's, then the
 * config's); without it the config's solver over core's defaults is checked, and nothing when a checkpoint
 * may supply the missing keys (the solve itself then enforces the limit).
 *
 * @throws ConfigError (code `CONFIG`) listing every problem with file, line, key path and a caret excerpt
 */
export function validatePluginOptions(exp: Experiment, config: ExperimentConfig, loaded: LoadedConfig, resolved: Resolved, solver?: SolverSpan): void {
  const source = sourceOf(loaded);
  const problems: ConfigProblem[] = [];
  for (const site of sites(config, loaded, resolved)) {
    const schema = exp.provision(site.point, site.name)?.options;
    const found = schema ? check(schema, site, source) : site.point === 'Solver' ? undeclaredSolverKeys(config, site, source) : [];
    problems.push(...found);
    if (site.point === 'Solver' && found.length === 0) problems.push(...checkSpan(exp, config, site, source, solver));
    if (site.point !== 'Reducer' || found.length > 0) continue;
    const i = site.path[1] as number;
    const points = config.reducers[i]?.points;
    let reducer: Reducer;
    try {
      reducer = exp.factory('Reducer', site.name)(site.options);
    } catch (e) {
      const message = (e as Error).message;
      problems.push(locateProblem({ key: formatKey(site.path), message: message.includes(site.name) ? message : `reducer '${site.name}': ${message}` }, site.path, source));
      continue;
    }
    if (points !== undefined && !reducer.capabilities?.points) {
      const path = [...site.path, 'points'];
      problems.push(locateProblem({ key: formatKey(path), message: `reducer '${site.name}' does not take interpolation points` }, path, source));
    }
  }
  // in the order of the file (a stable sort: problems without a line keep their place at the end)
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length) throw new ConfigError(loaded.file, problems);
}

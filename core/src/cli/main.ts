import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { discoverInstalled, isPackageSpec, isPathSpec, loadPlugin, resolveUse, type PluginPackage } from '../plugins/resolve.js';
import { checkExperiment, runExperiment } from '../pipeline/run.js';
import { STAGING_DIR, releaseAllLocks } from '../pipeline/persist.js';
import { formatPlan, planExperiment } from '../pipeline/plan.js';
import { compareTable, resultsTable } from '../pipeline/results.js';
import { loadModel } from '../ir/io.js';
import { validateModel } from '../ir/validate.js';
import { coreModelsPlugin } from '../model/plugin.js';
import type { ModelIR } from '../ir/types.js';
import type { OdemorPlugin } from '../container.js';
import type { ButcherTableau } from '../extension-points.js';
import { unwritableFolderReason } from '../util/atomic.js';
import { ProgressReporter } from './progress.js';
import { cmdWorker, openRunQueue, parsePositiveFlag } from './worker.js';
import { cmdImport } from './import.js';
import { cmdTune } from './tune.js';

const USAGE = `odemor — compress and accelerate trained Neural ODEs

Usage:
  odemor run <config.yaml> [--out DIR] [--seed N] [--quiet] [--resume | --restart] [--queue redis://H:P [--shards N] [--queue-name Q]]
                                                               run an experiment (--resume: continue the unfinished run
                                                               in the results folder; --restart: discard it; --queue: the
                                                               snapshot shards and the sweep's jobs go to odemor workers)
  odemor worker --queue redis://H:P [--queue-name Q] [--lock-duration MS] [--stalled-interval MS] [--max-stalled N] [--quiet]
                                                               take jobs of distributed runs from the queue until stopped
  odemor validate <config.yaml> [more.yaml …] [--out DIR]     check everything run checks first and print the plan
  odemor plugins [--config X] [--json]                         list installed plugins (and those config X loads) and what they provide
  odemor export <model.odemor> --out <model.onnx> [--solver S] [--dt H] [--force]   compile a saved model to ONNX (--force: overwrite --out)
  odemor import <weights.safetensors> --as <model> --out <model.odemor> [--map map.yaml] [--config options.yaml] [--input H,W,c] [--force]
                                                               a built-in model (conv-node, dense-node, ode-rnn, mlp-node) with PyTorch weights
  odemor tune <config.yaml> --max-drop D [--metric top1|mse] [--finetune] [--out DIR] [--resume | --restart] [--quiet]
                                                               the fastest reduced model whose drop against the original
                                                               is ≤ D (writes tune.md/json, pareto.svg, chosen.odemor/.onnx)
  odemor help                                                  show this text
`;

/** The odemor command line. Returns the process exit code. */
export async function main(argv: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await cmdRun(rest, io);
      case 'validate':
        return await cmdValidate(rest, io);
      case 'plugins':
        return await cmdPlugins(rest, io);
      case 'export':
        return await cmdExport(rest, io);
      case 'worker':
        return await cmdWorker(rest, io);
      case 'import':
        return await cmdImport(rest, io);
      case 'tune':
        return await cmdTune(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new OdemorError('ARGUMENT', `unknown command '${command}'; commands: run, validate, plugins, export, import, tune, worker, help`);
    }
  } catch (e) {
    io.err.write(`odemor: ${formatError(e)}\n`);
    if (process.env.ODEMOR_DEBUG && e instanceof Error && e.stack) io.err.write(e.stack + '\n');
    // the brand, not the class: a plugin may have thrown the OdemorError of its own copy of core
    return OdemorError.is(e) && e.code === 'CONFIG' ? 2 : 1;
  }
}

function formatError(e: unknown): string {
  if (OdemorError.is(e) || (e instanceof Error && e.name === 'OdemorError')) return (e as Error).message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

type ArgOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse<O extends ArgOptions>(rest: string[], options: O) {
  try {
    return parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new OdemorError('ARGUMENT', (e as Error).message);
  }
}

async function cmdRun(rest: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream }): Promise<number> {
  const { values, positionals } = parse(rest, {
    out: { type: 'string' },
    seed: { type: 'string' },
    quiet: { type: 'boolean' },
    resume: { type: 'boolean' },
    restart: { type: 'boolean' },
    queue: { type: 'string' },
    shards: { type: 'string' },
    'queue-name': { type: 'string' },
  });
  if (positionals.length !== 1) throw new OdemorError('ARGUMENT', 'usage: odemor run <config.yaml> [--out DIR] [--seed N] [--resume | --restart] [--quiet] [--queue redis://host:port [--shards N] [--queue-name Q]]');
  if (values.queue === undefined && (values.shards !== undefined || values['queue-name'] !== undefined)) throw new OdemorError('ARGUMENT', `${values.shards !== undefined ? '--shards' : '--queue-name'} needs --queue`);
  const shards = values.shards === undefined ? undefined : parsePositiveFlag('--shards', String(values.shards));
  if (values.resume && values.restart) throw new OdemorError('ARGUMENT', '--resume and --restart exclude each other: continue the unfinished run, or discard it');
  // each flag is checked under its own name, before the config is read and long before any work
  const seed = values.seed === undefined ? undefined : parseSeedFlag(String(values.seed));
  const outFlag = values.out === undefined ? undefined : path.resolve(String(values.out));
  if (outFlag !== undefined) checkOutFolder(outFlag, `--out ${String(values.out)}`);
  const started = Date.now();
  const loaded = loadConfig(positionals[0]!);
  if (outFlag === undefined) {
    // the folder the run will write to (the pipeline's default): output.dir from the config's folder, else results/<name>
    const dir = loaded.config.output.dir;
    if (dir !== undefined) checkOutFolder(resolveConfigPath(loaded, dir), `${loaded.file}: output.dir ${dir}`);
    else checkOutFolder(path.join(process.cwd(), 'results', loaded.config.name), `the results folder results/${loaded.config.name}`);
  }
  const reporter = values.quiet ? undefined : new ProgressReporter(io.err);
  const t0 = performance.now();
  // Ctrl-C or a TERM: stop at once with a message; what finished is in the run's staging folder (results
  // written atomically), the results folder still holds the previous run, and --resume continues
  let outDir = outFlag;
  const stop = (signal: NodeJS.Signals) => {
    reporter?.stop();
    releaseAllLocks();
    io.err.write(`\nodemor: stopped by ${signal}; finished work is kept${outDir ? ` in ${path.join(outDir, STAGING_DIR)}` : ''}: continue with --resume\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let run: Awaited<ReturnType<typeof runExperiment>>;
  const queue = values.queue === undefined ? undefined : await openRunQueue(String(values.queue), values['queue-name'] as string | undefined);
  try {
    run = await runExperiment(loaded, {
      ...(queue ? { queue, ...(shards !== undefined ? { shards } : {}) } : {}),
      ...(outDir ? { outDir } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(values.resume ? { resume: true } : {}),
      ...(values.restart ? { restart: true } : {}),
      setup: (exp: Experiment) => reporter?.apply(exp.hooks),
      onOutDir: (dir) => void (outDir = dir),
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    reporter?.stop();
    await queue?.close();
  }
  const { results } = run;
  outDir = run.outDir;
  io.out.write(`\n${results.name}: ${results.rows.length} models evaluated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Object.entries(results.environment.runtimes ?? {}).map(([r, b]) => `${r}: ${b}`).join(", ")})\n\n`);
  // a solver comparison: its table (method, solver, error, NFE, training and inference time)
  io.out.write((compareTable(results.rows, results.task) || resultsTable(results.rows)) + '\n\n');
  const written = writtenFiles(run, started);
  io.out.write(`results written to ${path.relative(process.cwd(), outDir) || '.'}/ (${formatWritten(written, outDir)})\n`);
  return 0;
}

/**
 * `--seed`: a whole number from 0 to 2^53 − 1 written in digits (`1e30`, `0x10`, `1.5`, `-1` and `''` are
 * refused under the flag's own name, not later as the `dataset.seed` core passes on).
 */
export function parseSeedFlag(text: string): number {
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed)) {
    throw new OdemorError('ARGUMENT', `--seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} written in digits, got '${text}'`);
  }
  return seed;
}

/** A results folder that cannot be written or created fails now, before any training, naming where it came from. */
function checkOutFolder(dir: string, what: string): void {
  const reason = unwritableFolderReason(dir);
  if (reason !== undefined) throw new OdemorError('ARGUMENT', `${what}: cannot use ${dir} as the results folder: ${reason}`);
}

/**
 * The files a run wrote: the run's own list when it reports one (`written`, absolute paths), else
 * every file under the results folder modified since the run started (1 s slack for coarse file
 * system clocks), which also catches what report plugins wrote.
 */
export function writtenFiles(run: { outDir: string; written?: readonly string[] }, startedMs: number): string[] {
  if (Array.isArray(run.written)) return [...run.written];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < 3) walk(p, depth + 1);
      } else if (e.isFile() && !(e.name.startsWith('.') && e.name.endsWith('.tmp'))) {
        try {
          if (fs.statSync(p).mtimeMs >= startedMs - 1000) out.push(p);
        } catch {
          /* removed meanwhile */
        }
      }
    }
  };
  walk(run.outDir, 0);
  return out;
}

const FILE_ORDER = ['results.json', 'results.md', 'model.odemor', 'report.html'];

/** `results.json, results.md, model.odemor, report.html, models/deim-4.odemor, …`: every file relative to `outDir`, the well-known ones first; a folder of more than 8 files as `plots/ (12 files)`. */
export function formatWritten(files: readonly string[], outDir: string): string {
  const rel = files.map((f) => path.relative(outDir, path.resolve(outDir, f)).split(path.sep).join('/'));
  const rank = (f: string) => {
    const i = FILE_ORDER.indexOf(f);
    return i >= 0 ? i : f.includes('/') ? FILE_ORDER.length + 1 : FILE_ORDER.length;
  };
  rel.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
  const byFolder = new Map<string, string[]>();
  for (const f of rel) {
    const folder = f.includes('/') ? f.slice(0, f.lastIndexOf('/') + 1) : '';
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), f]);
  }
  const parts: string[] = [];
  for (const [folder, list] of byFolder) {
    if (folder && list.length > 8) parts.push(`${folder} (${list.length} files)`);
    else parts.push(...list);
  }
  return parts.length ? parts.join(', ') : 'no files';
}

async function cmdValidate(rest: string[], io: { out: NodeJS.WriteStream }): Promise<number> {
  const { values, positionals } = parse(rest, { out: { type: 'string' } });
  if (positionals.length < 1) throw new OdemorError('ARGUMENT', 'usage: odemor validate <config.yaml> [more.yaml …] [--out DIR]');
  for (const f of positionals) {
    const loaded = loadConfig(f);
    // everything run checks before any work, with the dataset, the model and every reducer built: the plan
    const plan = await planExperiment(values.out ? { ...loaded, config: { ...loaded.config, output: { ...loaded.config.output, dir: path.resolve(String(values.out)) } } } : loaded);
    const r = plan.resolved;
    const reducers = r.reducers.length ? `, reducers ${r.reducers.join(', ')}` : '';
    io.out.write(`${f}: ok (${loaded.config.name}: dataset ${r.dataset}, model ${r.model}, solver ${r.solver}, runtime ${r.runtime}${reducers})\n${formatPlan(plan)}\n`);
  }
  return 0;
}

/** One plugin as `odemor plugins` lists it. */
interface ListedPlugin {
  /** the plugin's `name` */
  name: string;
  /** the npm package it came from */
  package?: string;
  version?: string;
  /** the module file, for plugins loaded by path */
  file?: string;
  /** 'installed' (found in node_modules), 'config' (loaded by the config given with --config) or 'core' */
  source: 'core' | 'installed' | 'config';
  /** where the config names it (file: key), for source 'config' */
  namedBy?: string;
  provides: { point: string; name: string; description?: string }[];
}

async function cmdPlugins(rest: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream }): Promise<number> {
  const { values } = parse(rest, { json: { type: 'boolean' }, config: { type: 'string' } });
  const loaded = values.config ? loadConfig(String(values.config)) : undefined;
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  const listed = new Map<string, Omit<ListedPlugin, 'provides'>>();
  const core = corePackage();
  listed.set(coreModelsPlugin.name, { name: coreModelsPlugin.name, ...(core ? { package: core.name, version: core.version } : {}), source: 'core' });
  const failed: string[] = [];
  const add = async (spec: string, baseDir: string, source: 'installed' | 'config', where?: string, shownWhere?: string) => {
    try {
      const p = await loadPlugin(spec, baseDir, where);
      if (!listed.has(p.plugin.name)) listed.set(p.plugin.name, describePlugin(p.plugin, p.package, p.file, source, shownWhere));
      await exp.use(p.plugin);
    } catch (e) {
      failed.push(`${spec}: ${formatError(e)}`);
    }
  };
  // the config's own plugins first, so that a path plugin is listed as the config's
  if (loaded) {
    const shown = path.relative(process.cwd(), loaded.file) || loaded.file;
    for (const [spec, key] of configPluginSpecs(loaded.config)) await add(spec, loaded.baseDir, 'config', `${loaded.file}: ${key}`, `${shown}: ${key}`);
  }
  const seen = new Set<string>();
  for (const dir of loaded ? [loaded.baseDir, process.cwd()] : [process.cwd()]) {
    for (const p of discoverInstalled(dir)) {
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      await add(p.name, dir, 'installed');
    }
  }
  const plugins: ListedPlugin[] = [];
  for (const [name, info] of listed) {
    const provides = exp.provisions.filter((pr) => pr.plugin === name).map((pr) => ({ point: pr.point, name: pr.name, ...(pr.description ? { description: pr.description } : {}) }));
    plugins.push({ ...info, provides });
  }
  if (values.json) {
    io.out.write(JSON.stringify({ plugins, failed }, null, 2) + '\n');
    return failed.length ? 1 : 0;
  }
  for (const p of plugins) {
    const from = p.package ? `${p.package}@${p.version}` : p.file ? path.relative(process.cwd(), p.file) || p.file : p.name;
    const named = p.package && p.package === p.name ? '' : ` (plugin '${p.name}')`;
    const by = p.namedBy ? `, loaded by ${p.namedBy}` : '';
    io.out.write(`${from}${named}${by}\n`);
    for (const pr of p.provides) io.out.write(`  ${pr.point.padEnd(12)} ${pr.name.padEnd(16)} ${pr.description ?? ''}\n`);
  }
  for (const f of failed) io.err.write(`failed to load ${f}\n`);
  return failed.length ? 1 : 0;
}

function describePlugin(plugin: OdemorPlugin, pkg: PluginPackage | undefined, file: string, source: 'installed' | 'config', where?: string): Omit<ListedPlugin, 'provides'> {
  return {
    name: plugin.name,
    ...(pkg ? { package: pkg.name, version: pkg.version } : { file }),
    source,
    ...(where ? { namedBy: where } : {}),
  };
}

/**
 * The plugins a config loads itself: its `plugins:` list, and every `use:` (or `evaluate.runtime`)
 * that is a path or a full package name, each with the key naming it (`plugins[0]`, `reducers[1].use`).
 */
export function configPluginSpecs(config: object): [spec: string, key: string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  const push = (spec: string, key: string) => {
    if (seen.has(spec)) return;
    seen.add(spec);
    out.push([spec, key]);
  };
  const plugins = (config as { plugins?: unknown }).plugins;
  if (Array.isArray(plugins)) plugins.forEach((p, i) => typeof p === 'string' && push(p, `plugins[${i}]`));
  const walk = (v: unknown, key: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${key}[${i}]`));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const at = key ? `${key}.${k}` : k;
        if ((k === 'use' || at === 'evaluate.runtime') && typeof x === 'string' && (isPathSpec(x) || isPackageSpec(x))) push(x, at);
        else if (k !== 'plugins' || key) walk(x, at);
      }
    }
  };
  walk(config, '');
  return out;
}

/** @odemor/core's own name and version, from its package.json. */
function corePackage(): { name: string; version: string } | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return meta.name && meta.version ? { name: meta.name, version: meta.version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuse an export target that would destroy something: the input model itself (compared by real path and
 * by file identity, so `./m.odemor`, `m.odemor`, a symlink or a hard link to it are all caught; `--force`
 * does not override this), a folder, or any existing file or link unless `force` is set.
 * @throws OdemorError 'ARGUMENT' saying what to do instead.
 */
function checkExportTarget(input: string, out: string, force: boolean): void {
  const stat = (p: string) => {
    try {
      return fs.statSync(p);
    } catch {
      return undefined;
    }
  };
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      // missing (or a dangling link): the real folder it would be written into, and its name
      try {
        return path.join(fs.realpathSync(path.dirname(p)), path.basename(p));
      } catch {
        return path.resolve(p);
      }
    }
  };
  const inStat = stat(input);
  const outStat = stat(out);
  const sameFile = inStat && outStat && inStat.dev === outStat.dev && inStat.ino === outStat.ino;
  if (real(input) === real(out) || sameFile) {
    const onnxName = `${path.basename(input, path.extname(input))}.onnx`;
    const suggestion = path.join(path.dirname(input), onnxName === path.basename(input) ? `${onnxName}.onnx` : onnxName);
    throw new OdemorError(
      'ARGUMENT',
      `--out ${out} is the input model ${input} itself; export never overwrites its input (not even with --force): choose another --out, e.g. --out ${suggestion}`,
    );
  }
  if (outStat?.isDirectory()) {
    throw new OdemorError('ARGUMENT', `--out ${out} is a folder; give the path of the ONNX file to write, e.g. --out ${path.join(out, `${path.basename(input, path.extname(input))}.onnx`)}`);
  }
  let exists = outStat !== undefined;
  try {
    fs.lstatSync(out);
    exists = true; // also a dangling link
  } catch {
    /* does not exist */
  }
  if (exists && !force) throw new OdemorError('ARGUMENT', `--out ${out} already exists; pass --force to overwrite it, or choose another --out`);
}

async function cmdExport(rest: string[], io: { out: NodeJS.WriteStream }): Promise<number> {
  const { values, positionals } = parse(rest, { out: { type: 'string' }, solver: { type: 'string' }, dt: { type: 'string' }, force: { type: 'boolean' } });
  if (positionals.length !== 1 || !values.out) throw new OdemorError('ARGUMENT', 'usage: odemor export <model.odemor> --out <model.onnx> [--solver rk4] [--dt 0.1] [--force]');
  // refuse a target that would destroy something before the (possibly long) compile
  checkExportTarget(positionals[0]!, path.resolve(String(values.out)), values.force === true);
  let model = await loadModel(positionals[0]!);
  if (values.solver || values.dt) {
    const dt = values.dt === undefined ? model.solver.dt : Number(values.dt);
    if (!(dt > 0) || !Number.isFinite(dt)) throw new OdemorError('ARGUMENT', `--dt must be a positive number, got '${values.dt}'`);
    model = { ...model, solver: { ...model.solver, ...(values.solver ? { use: String(values.solver) } : {}), dt } };
  }
  validateModel(model);
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  const solverName = await resolveUse(exp, 'Solver', model.solver.use, process.cwd());
  const solver = exp.factory('Solver', solverName)({});
  if (solver.adaptive || !solver.tableau) {
    throw new OdemorError('RUNTIME', `solver '${solverName}' is adaptive and cannot be unrolled into a static ONNX graph; export with a fixed-step solver, e.g. --solver rk4 --dt 0.1`);
  }
  const onnxName = '@odemor/runtime-onnx';
  let onnx: { compileModel: (m: ModelIR, o: { tableau: ButcherTableau }) => Uint8Array; saveOnnx: (p: string, b: Uint8Array) => Promise<void>; loadOnnxFile: (p: string) => Promise<{ dispose: () => Promise<void> }> };
  try {
    onnx = await import(onnxName);
  } catch (e) {
    throw new OdemorError('PLUGIN', `odemor export needs ${onnxName} installed: ${formatError(e)}`);
  }
  const bytes = onnx.compileModel(model, { tableau: solver.tableau });
  const out = path.resolve(String(values.out));
  // again just before writing: the target may have appeared meanwhile
  checkExportTarget(positionals[0]!, out, values.force === true);
  await onnx.saveOnnx(out, bytes);
  // check that onnxruntime loads what was written
  const loaded = await onnx.loadOnnxFile(out);
  await loaded.dispose();
  io.out.write(`wrote ${path.relative(process.cwd(), out) || out} (${(bytes.length / 1024).toFixed(1)} KiB; input 'x' [batch, ${inputDims(model).join(', ')}], output 'logits' [batch, ${model.outputs}]; ${solverName}, dt ${model.solver.dt} on [${model.solver.t0}, ${model.solver.t1}])\n`);
  return 0;
}

function inputDims(model: ModelIR): number[] {
  const inp = model.input;
  return inp.kind === 'tensor' ? inp.shape : inp.kind === 'state' ? [inp.size] : [inp.steps, inp.features];
}

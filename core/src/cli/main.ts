import path from 'node:path';
import { parseArgs } from 'node:util';
import { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { discoverInstalled, importPlugin, resolveUse } from '../plugins/resolve.js';
import { checkExperiment, runExperiment } from '../pipeline/run.js';
import { resultsTable } from '../pipeline/results.js';
import { loadModel } from '../ir/io.js';
import { validateModel } from '../ir/validate.js';
import { coreModelsPlugin } from '../model/plugin.js';
import type { ModelIR } from '../ir/types.js';
import type { ButcherTableau } from '../extension-points.js';
import { ProgressReporter } from './progress.js';

const USAGE = `odemor — compress and accelerate trained Neural ODEs

Usage:
  odemor run <config.yaml> [--out DIR] [--seed N] [--quiet]   run an experiment
  odemor validate <config.yaml>                                check a config and its plugin names without running it
  odemor plugins [--json]                                      list installed plugins and what they provide
  odemor export <model.odemor> --out <model.onnx> [--solver S] [--dt H]   compile a saved model to ONNX
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
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new OdemorError('ARGUMENT', `unknown command '${command}'; commands: run, validate, plugins, export, help`);
    }
  } catch (e) {
    io.err.write(`odemor: ${formatError(e)}\n`);
    if (process.env.ODEMOR_DEBUG && e instanceof Error && e.stack) io.err.write(e.stack + '\n');
    return e instanceof OdemorError && e.code === 'CONFIG' ? 2 : 1;
  }
}

function formatError(e: unknown): string {
  if (e instanceof Error && (e.name === 'OdemorError' || e instanceof OdemorError)) return e.message;
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
  const { values, positionals } = parse(rest, { out: { type: 'string' }, seed: { type: 'string' }, quiet: { type: 'boolean' } });
  if (positionals.length !== 1) throw new OdemorError('ARGUMENT', 'usage: odemor run <config.yaml> [--out DIR] [--seed N]');
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new OdemorError('ARGUMENT', `--seed must be a non-negative integer, got '${values.seed}'`);
  }
  const loaded = loadConfig(positionals[0]!);
  const reporter = values.quiet ? undefined : new ProgressReporter(io.err);
  const t0 = performance.now();
  const { results, outDir, experiment } = await runExperiment(loaded, {
    ...(values.out ? { outDir: path.resolve(String(values.out)) } : {}),
    ...(seed !== undefined ? { seed } : {}),
    setup: (exp: Experiment) => reporter?.apply(exp.hooks),
  });
  reporter?.stop();
  void experiment;
  io.out.write(`\n${results.name}: ${results.rows.length} models evaluated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Object.entries(results.environment.runtimes ?? {}).map(([r, b]) => `${r}: ${b}`).join(", ")})\n\n`);
  io.out.write(resultsTable(results.rows) + '\n\n');
  io.out.write(`results written to ${path.relative(process.cwd(), outDir) || '.'}/ (results.json, results.md)\n`);
  return 0;
}

async function cmdValidate(rest: string[], io: { out: NodeJS.WriteStream }): Promise<number> {
  const { positionals } = parse(rest, {});
  if (positionals.length < 1) throw new OdemorError('ARGUMENT', 'usage: odemor validate <config.yaml> [more.yaml …]');
  for (const f of positionals) {
    const loaded = loadConfig(f);
    const r = await checkExperiment(loaded);
    const reducers = r.reducers.length ? `, reducers ${r.reducers.join(', ')}` : '';
    io.out.write(`${f}: ok (${loaded.config.name}: dataset ${r.dataset}, model ${r.model}, solver ${r.solver}, runtime ${r.runtime}${reducers})\n`);
  }
  return 0;
}

async function cmdPlugins(rest: string[], io: { out: NodeJS.WriteStream; err: NodeJS.WriteStream }): Promise<number> {
  const { values } = parse(rest, { json: { type: 'boolean' } });
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  const installed = discoverInstalled(process.cwd());
  const failed: string[] = [];
  for (const p of installed) {
    try {
      await exp.use(await importPlugin(p.name, process.cwd()));
    } catch (e) {
      failed.push(`${p.name}: ${formatError(e)}`);
    }
  }
  const byPlugin = new Map<string, { point: string; name: string; description?: string }[]>();
  for (const pr of exp.provisions) {
    const list = byPlugin.get(pr.plugin) ?? [];
    list.push(pr);
    byPlugin.set(pr.plugin, list);
  }
  if (values.json) {
    io.out.write(JSON.stringify({ plugins: [...byPlugin.entries()].map(([name, provides]) => ({ name, version: installed.find((i) => i.name === name)?.version, provides })), failed }, null, 2) + '\n');
    return failed.length ? 1 : 0;
  }
  for (const [name, provides] of byPlugin) {
    const version = installed.find((i) => i.name === name)?.version;
    io.out.write(`${name}${version ? `@${version}` : ''}\n`);
    for (const p of provides) io.out.write(`  ${p.point.padEnd(12)} ${p.name.padEnd(16)} ${p.description ?? ''}\n`);
  }
  for (const f of failed) io.err.write(`failed to load ${f}\n`);
  return failed.length ? 1 : 0;
}

async function cmdExport(rest: string[], io: { out: NodeJS.WriteStream }): Promise<number> {
  const { values, positionals } = parse(rest, { out: { type: 'string' }, solver: { type: 'string' }, dt: { type: 'string' } });
  if (positionals.length !== 1 || !values.out) throw new OdemorError('ARGUMENT', 'usage: odemor export <model.odemor> --out <model.onnx> [--solver rk4] [--dt 0.1]');
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
  await onnx.saveOnnx(out, bytes);
  // check that onnxruntime loads what was written
  const loaded = await onnx.loadOnnxFile(out);
  await loaded.dispose();
  io.out.write(`wrote ${path.relative(process.cwd(), out) || out} (${(bytes.length / 1024).toFixed(1)} KiB; input 'x' [batch, ${inputDims(model).join(', ')}], output 'logits' [batch, ${model.outputs}]; ${solverName}, dt ${model.solver.dt} on [${model.solver.t0}, ${model.solver.t1}])\n`);
  return 0;
}

function inputDims(model: ModelIR): number[] {
  return model.input.kind === 'tensor' ? model.input.shape : [model.input.steps, model.input.features];
}

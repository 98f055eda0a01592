/**
 * `odemor import <weights.safetensors> --as <model> --out <model.odemor>`: a built-in model with PyTorch weights
 * (docs/import.md). The weights give the layer sizes; what they cannot give (the image size of a conv-node, the
 * sequence length of an ode-rnn, the observation times of a trajectory mlp-node, the solver and options that have
 * no weights) comes from flags or a model-options file (`--config`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Experiment } from '../container.js';
import { OdemorError } from '../errors.js';
import { DEFAULT_SOLVER } from '../config/schema.js';
import { readSafetensors } from '../import/safetensors.js';
import { readTensorNameMap } from '../import/map.js';
import { IMPORTABLE_MODELS, importDatasetInfo, importTorchModel, type ImportableModel, type ImportShape } from '../import/torch.js';
import { saveModel } from '../ir/io.js';
import type { SolverSpec } from '../ir/types.js';
import { convNodeOptions, denseNodeOptions, mlpNodeOptions, odeRnnOptions } from '../model/builtin.js';
import { coreModelsPlugin } from '../model/plugin.js';
import { resolveUse } from '../plugins/resolve.js';

const USAGE_LINE =
  'usage: odemor import <weights.safetensors> --as conv-node|dense-node|ode-rnn|mlp-node --out <model.odemor> [--map map.yaml] [--config options.yaml] ' +
  '[--input 28,28,1] [--times 0.5,1] [--activation tanh] [--solver rk4] [--dt 0.1] [--t0 0] [--t1 1] [--force]';

const positiveInt = z.number().int().positive();
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** The keys of a model-options file that are not the model's own options. */
const importKeysSchema = z.object({
  /** one sample's input shape (odemor's layout: images [H, W, c]) */
  input: z.array(positiveInt).min(1).optional(),
  solver: z
    .strictObject({
      use: z.string().min(1).optional(),
      dt: z.number().positive().optional(),
      t0: finite.optional(),
      t1: finite.optional(),
      rtol: z.number().positive().optional(),
      atol: z.number().positive().optional(),
    })
    .optional(),
  /** mlp-node trajectory: observation times */
  times: z.array(finite).min(1).optional(),
  /** mlp-node trajectory: the input signal u */
  signal: z.strictObject({ steps: positiveInt, channels: positiveInt, stepDuration: z.number().positive() }).optional(),
});
type ImportKeys = z.output<typeof importKeysSchema>;
const IMPORT_KEYS = Object.keys(importKeysSchema.shape);

const MODEL_OPTIONS: Record<ImportableModel, z.ZodType> = {
  'conv-node': convNodeOptions,
  'dense-node': denseNodeOptions,
  'ode-rnn': odeRnnOptions,
  'mlp-node': mlpNodeOptions,
};

function zodMessage(source: string, error: z.ZodError): string {
  return error.issues.map((i) => `${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
}

/** A model-options file: the import keys and the model's own options (checked by its option schema). */
function readOptionsFile(file: string, as: ImportableModel): { keys: ImportKeys; options: Record<string, unknown> } {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'), { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new OdemorError('CONFIG', `${file}: cannot read the model options (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new OdemorError('CONFIG', `${file}: the model options must be a YAML mapping`);
  const all = raw as Record<string, unknown>;
  const keys = importKeysSchema.safeParse(Object.fromEntries(Object.entries(all).filter(([k]) => IMPORT_KEYS.includes(k))));
  if (!keys.success) throw new OdemorError('CONFIG', zodMessage(file, keys.error));
  const options = Object.fromEntries(Object.entries(all).filter(([k]) => !IMPORT_KEYS.includes(k)));
  const checked = MODEL_OPTIONS[as].safeParse(options);
  if (!checked.success) {
    const unknown = checked.error.issues.find((i) => i.code === 'unrecognized_keys');
    if (unknown) {
      throw new OdemorError('CONFIG', `${file}: unknown key${unknown.keys.length > 1 ? 's' : ''} ${unknown.keys.map((k) => `'${k}'`).join(', ')}: not an option of ${as} (${Object.keys((MODEL_OPTIONS[as] as z.ZodObject).shape).join(', ')}) nor an import key (${IMPORT_KEYS.join(', ')})`);
    }
    throw new OdemorError('CONFIG', zodMessage(file, checked.error));
  }
  return { keys: keys.data, options };
}

/** `28,28,1` → [28, 28, 1], each a positive integer (`int`) or a finite number. */
function numberList(flag: string, text: string, int: boolean): number[] {
  const parts = text.split(/[,x×\s]+/).filter(Boolean);
  const out = parts.map(Number);
  if (!parts.length || out.some((v) => !Number.isFinite(v) || (int && (!Number.isInteger(v) || v < 1)))) {
    throw new OdemorError('ARGUMENT', `${flag} must be a comma-separated list of ${int ? 'positive integers' : 'numbers'}, got '${text}'`);
  }
  return out;
}

function numberFlag(flag: string, text: string, positive: boolean): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (positive && v <= 0)) throw new OdemorError('ARGUMENT', `${flag} must be a ${positive ? 'positive ' : ''}number, got '${text}'`);
  return v;
}

/**
 * The output must not destroy anything: never the weights file itself, not a folder, and an existing file only
 * with `--force`.
 */
function checkTarget(weights: string, out: string, force: boolean): void {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  if (real(weights) === real(out)) throw new OdemorError('ARGUMENT', `--out ${out} is the weights file itself; choose another --out`);
  let exists = false;
  try {
    const st = fs.lstatSync(out);
    exists = true;
    if (st.isDirectory()) throw new OdemorError('ARGUMENT', `--out ${out} is a folder; give the path of the model file to write, e.g. --out ${path.join(out, 'model.odemor')}`);
  } catch (e) {
    if (OdemorError.is(e)) throw e;
  }
  if (exists && !force) throw new OdemorError('ARGUMENT', `--out ${out} already exists; pass --force to overwrite it, or choose another --out`);
}

/** `odemor import`: see the module comment. Returns the exit code. */
export async function cmdImport(rest: string[], io: { out: NodeJS.WriteStream }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        as: { type: 'string' },
        out: { type: 'string' },
        map: { type: 'string' },
        config: { type: 'string' },
        input: { type: 'string' },
        times: { type: 'string' },
        activation: { type: 'string' },
        solver: { type: 'string' },
        dt: { type: 'string' },
        t0: { type: 'string' },
        t1: { type: 'string' },
        force: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new OdemorError('ARGUMENT', `${(e as Error).message}\n${USAGE_LINE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.as || !values.out) throw new OdemorError('ARGUMENT', USAGE_LINE);
  const as = values.as;
  if (!(IMPORTABLE_MODELS as readonly string[]).includes(as)) {
    throw new OdemorError('ARGUMENT', `--as ${as}: weights can be imported into the built-in models ${IMPORTABLE_MODELS.join(', ')}`);
  }
  const model = as as ImportableModel;
  const weightsFile = positionals[0]!;
  const out = path.resolve(values.out);
  const force = values.force === true;
  // every flag and file is checked before the weights are read
  checkTarget(weightsFile, out, force);
  const file = values.config ? readOptionsFile(values.config, model) : { keys: {} as ImportKeys, options: {} };
  const options = { ...file.options };
  if (values.activation !== undefined) {
    const a = MODEL_OPTIONS[model].safeParse({ activation: values.activation });
    if (!a.success) throw new OdemorError('ARGUMENT', `--activation must be one of tanh, relu, softplus, identity, got '${values.activation}'`);
    options.activation = values.activation;
  }
  const shape: ImportShape = {};
  const input = values.input !== undefined ? numberList('--input', values.input, true) : file.keys.input;
  if (input) shape.input = input;
  const times = values.times !== undefined ? numberList('--times', values.times, false) : file.keys.times;
  if (times) shape.times = times;
  if (file.keys.signal) shape.signal = file.keys.signal;
  const given = file.keys.solver ?? {};
  const solver: SolverSpec = {
    ...DEFAULT_SOLVER,
    ...given,
    ...(values.solver !== undefined ? { use: values.solver } : {}),
    ...(values.dt !== undefined ? { dt: numberFlag('--dt', values.dt, true) } : {}),
    ...(values.t0 !== undefined ? { t0: numberFlag('--t0', values.t0, false) } : {}),
    ...(values.t1 !== undefined ? { t1: numberFlag('--t1', values.t1, false) } : {}),
  };
  if (!(solver.t1 > solver.t0)) throw new OdemorError('ARGUMENT', `the solver's t1 (${solver.t1}) must be greater than its t0 (${solver.t0})`);
  shape.t0 = solver.t0;
  // the solver must exist (a typo would only show when the model is run)
  const exp = new Experiment();
  await exp.use(coreModelsPlugin);
  solver.use = await resolveUse(exp, 'Solver', solver.use, process.cwd());
  const map = values.map ? readTensorNameMap(values.map) : undefined;
  const mapSource = values.map ?? 'the tensor map';

  const weights = await readSafetensors(weightsFile);
  const dataset = importDatasetInfo(weights, model, shape, map, mapSource);
  const imported = importTorchModel(weights, model, { dataset, seed: 0, solver }, { options, ...(map ? { map } : {}), mapSource });
  checkTarget(weightsFile, out, force); // again: the target may have appeared meanwhile
  await saveModel(out, imported.model);
  const m = imported.model;
  const count = weights.entries.size;
  const params = [...weights.entries.values()].reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  const inp = m.input.kind === 'tensor' ? m.input.shape : m.input.kind === 'state' ? [m.input.size] : [m.input.steps, m.input.features];
  const zero = imported.zeroed.length ? `; not in the file, so zero: ${imported.zeroed.join(', ')}` : '';
  io.out.write(
    `wrote ${path.relative(process.cwd(), out) || out} (${model} from ${weightsFile}: ${count} tensors, ${params} values; input [${inp.join(', ')}], ` +
      `${m.outputs} outputs; ${m.solver.use}, dt ${m.solver.dt} on [${m.solver.t0}, ${m.solver.t1}]${zero})\n`,
  );
  return 0;
}

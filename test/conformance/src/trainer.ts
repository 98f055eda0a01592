/**
 * Conformance suite for odemor `Trainer` implementations (backprop on tfjs or onnx, adjoint, spectral, …). A
 * package's own test file is short,
 *
 * ```ts
 * import { it } from 'vitest';
 * import { trainerConformance } from '@odemor/conformance';
 * import { OnnxBackpropTrainer } from '../src/index.js';
 * trainerConformance(it, () => new OnnxBackpropTrainer({ threads: 1 }), { supports: { resume: 'exact' } });
 * ```
 *
 * The suite never imports a global `expect`: failures name the run and the field (`train(spirals, dense-node,
 * epochs 4, seed 1): history[3].loss: expected less than 0.42 (0.6 × the first epoch's 0.69), got 0.61`). It
 * builds two small tasks itself (or takes the caller's datasets): a 2-class spirals classification (softmax
 * cross-entropy) trained on core's `dense-node`, and van-der-pol trajectories (regression, MSE) trained on core's
 * `mlp-node` with a trajectory readout, both integrated by explicit Euler (dt 0.25).
 *
 * Checks: the loss falls on both tasks (the last epoch's loss below `lossRatio` × the first's), the history has one
 * entry per epoch (epoch 1…E, finite loss, a classification accuracy in [0, 1], a regression accuracy NaN) and the
 * summary agrees with it (epochs, finalLoss, finalAccuracy, phase); the input model is left byte-identical and the
 * returned one validates (core `validateModel`) with the same tensors; the same options give byte-identical weights,
 * another seed (another shuffle order) other weights; `params: 'after-block'` and `params: ['block.M']` leave every
 * other tensor byte-identical and change the selected ones; with `context.checkpoint` the model file is written after
 * every epoch (read back with core's `loadModel`: the epoch-1 file equals a 1-epoch run, the last one the returned
 * model) and checkpointing does not change the training; resume (`supports.resume`): 1 epoch, then `epochs: 2`
 * with `resume: true` on the same checkpoint equals a straight 2-epoch run (byte-identical for 'exact', within
 * `resumeTolerance` for 'close'), other options are refused with an `OdemorError`; a trainer that keeps no state
 * (`resume: false`) starts afresh, as `TrainContext.resume` says; every trainer starts afresh when nothing was saved
 * yet; epochs −1, batch 0, lr 0, an unknown optimizer and a `params` list naming no tensor throw an `OdemorError`
 * naming the key and the value; `supports()` (when the trainer has it) accepts the kit's models and refuses the
 * caller's `unsupported` case with a reason, `train` refusing it too; `onProgress` sees increasing done counts up to
 * a fixed total (so does `hooks.progress` when no `onProgress` is given, task `context.phase`), and `context.hooks` fire `beforeTrain` once, `epoch` once per epoch (the history's entries) and
 * `afterTrain` once with the summary.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import type { ExpectStatic } from 'vitest';
import {
  OdemorError,
  createHooks,
  createRng,
  denseNode,
  listTensors,
  loadModel,
  mlpNode,
  validateModel,
  type Batch,
  type BatchOptions,
  type Dataset,
  type EpochInfo,
  type ModelIR,
  type Solver,
  type SolverSpec,
  type TrainContext,
  type TrainOptions,
  type TrainResult,
  type TrainSummary,
  type Trainer,
} from '@odemor/core';
import { EulerSolver } from '@odemor/solver-euler';
import { checker, show, type Checker } from './check.js';
import type { ConformanceIt } from './solver.js';

/** What the trainer under test does; flags default to on unless documented otherwise. */
export interface TrainerCapabilities {
  /** trains a classification model (spirals, dense-node; default true) */
  classification?: boolean;
  /** trains a regression model (van-der-pol trajectories, mlp-node; default true) */
  regression?: boolean;
  /** the loss falls over a few epochs (default true) */
  learns?: boolean;
  /** the same options give byte-identical weights, another seed other weights (default true) */
  determinism?: boolean;
  /** honours `options.params` (default true) */
  params?: boolean;
  /** writes the model to `context.checkpoint` after every epoch (default true) */
  checkpoint?: boolean;
  /**
   * continues from `context.checkpoint` with `context.resume`: 'exact' (byte-identical to a straight run),
   * 'close' (within `resumeTolerance`), or false: the trainer keeps no training state and a resumed run starts
   * afresh (default 'exact'; needs `checkpoint`)
   */
  resume?: 'exact' | 'close' | false;
  /** rejects bad options with an `OdemorError` naming the key (default true) */
  validation?: boolean;
  /** calls `context.onProgress` once per batch (default true) */
  progress?: boolean;
  /** fires `context.hooks` (beforeTrain, epoch, afterTrain; default true) */
  hooks?: boolean;
}

/** A model and solver the trainer cannot train, for the `supports()` check. */
export interface UnsupportedCase {
  model: ModelIR;
  solver: Solver;
  /** what it is, for messages (default: the solver's name) */
  label?: string;
}

/** A dataset, or a factory of one (called once). */
export type DatasetSource = Dataset | (() => Dataset | Promise<Dataset>);

/** Options of {@link trainerConformance}. */
export interface TrainerConformanceOptions {
  supports?: TrainerCapabilities;
  /**
   * the tasks' datasets (default: built in the kit, small): a classification dataset of 2-D vectors for dense-node,
   * a trajectory dataset (task 'regression', observation times on the dt grid) for mlp-node
   */
  datasets?: { classification?: DatasetSource; regression?: DatasetSource };
  /** the solver of the training runs (default explicit Euler) and its dt (default 0.25) */
  solver?: () => Solver;
  dt?: number;
  /** epochs of the learning and determinism runs (default 4; the others run 1 or 2) */
  epochs?: number;
  /** merged into every run's options (e.g. a trainer's own keys); the kit's runs use Adam, batch 8 */
  trainOptions?: Partial<TrainOptions>;
  /** the last epoch's loss must be below this fraction of the first epoch's (default 0.6) */
  lossRatio?: number | { classification?: number; regression?: number };
  /** `resume: 'close'`: the largest |resumed − straight| weight difference allowed (default 1e-5) */
  resumeTolerance?: number;
  /** a case `supports()` must refuse (with a reason) and `train` must refuse too; the kit's own models and solver are given */
  unsupported?: (kit: { model: ModelIR; solver: Solver; dataset: Dataset }) => UnsupportedCase;
  /** title of the `describe` block; default `trainer conformance` */
  title?: string;
  /** wrap the tests in a `describe` block (default true); false registers them with `it` directly */
  group?: boolean;
  /** per-test timeout in milliseconds (default 30000) */
  timeout?: number;
}

/** A factory of the trainer under test (a fresh one per run). */
export type TrainerConformanceFactory = () => Trainer | Promise<Trainer>;

type Task = 'classification' | 'regression';

// ───────────────────────────── the kit's datasets ─────────────────────────────

/** An in-memory dataset; shuffles with core's seeded RNG by the batch seed, rejects a bad batch size. */
function memoryDataset(
  name: string,
  info: Dataset['info'],
  x: Float32Array,
  y: Int32Array,
  targets?: Float32Array,
): Dataset {
  const per = info.inputShape.reduce((a, b) => a * b, 1);
  const tper = targets && info.targetShape ? info.targetShape.reduce((a, b) => a * b, 1) : 0;
  return {
    name,
    info,
    async *batches(split, batchSize, o: BatchOptions = {}): AsyncIterable<Batch> {
      if (split !== 'train' && split !== 'test') throw new OdemorError('ARGUMENT', `dataset '${name}': unknown split ${show(split)}`);
      if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new OdemorError('ARGUMENT', `dataset '${name}': batch size must be a positive integer, got ${show(batchSize)}`);
      // the test split is the tail of the arrays
      const from = split === 'train' ? 0 : info.trainSize;
      const size = split === 'train' ? info.trainSize : info.testSize;
      const count = Math.min(o.limit ?? size, size);
      const order = Array.from({ length: count }, (_, i) => from + i);
      if (o.shuffle) createRng(o.seed ?? 0).shuffle(order);
      for (let s = 0; s < count; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const bx = new Float32Array(idx.length * per);
        idx.forEach((j, r) => bx.set(x.subarray(j * per, (j + 1) * per), r * per));
        const batch: Batch = { x: bx, y: targets ? new Int32Array(0) : Int32Array.from(idx.map((j) => y[j]!)), size: idx.length };
        if (targets) {
          const bt = new Float32Array(idx.length * tper);
          idx.forEach((j, r) => bt.set(targets.subarray(j * tper, (j + 1) * tper), r * tper));
          batch.targets = bt;
        }
        yield batch;
      }
    },
  };
}

/** Two interleaved spiral arms (one turn, r = 0.1 + 0.9 s), noise 0.05: 128 training and 16 test samples. */
export function spiralsDataset(train = 128, test = 16, seed = 1): Dataset {
  const rng = createRng(seed);
  const count = train + test;
  const x = new Float32Array(count * 2);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 2;
    const s = rng.next();
    const r = 0.1 + 0.9 * s;
    const th = Math.PI * c + 2 * Math.PI * s;
    y[i] = c;
    x[2 * i] = r * Math.cos(th) + 0.05 * rng.normal();
    x[2 * i + 1] = r * Math.sin(th) + 0.05 * rng.normal();
  }
  return memoryDataset('conformance-spirals', { inputShape: [2], kind: 'vector', numClasses: 2, trainSize: train, testSize: test, task: 'classification' }, x, y);
}

/**
 * Van der Pol trajectories (μ = 1), x(0) uniform in [−2, 2]², observed at 0.25, 0.5, …, 1.5 (classic RK4 with step
 * 0.005 in float64): 32 training and 8 test trajectories, a regression dataset of kind 'trajectory'.
 */
export function vanDerPolDataset(train = 32, test = 8, seed = 2): Dataset {
  const rng = createRng(seed);
  const times = [0.25, 0.5, 0.75, 1, 1.25, 1.5];
  const count = train + test;
  const x = new Float32Array(count * 2);
  const targets = new Float32Array(count * times.length * 2);
  const f = (a: number, b: number): [number, number] => [b, (1 - a * a) * b - a];
  const h = 0.005;
  for (let i = 0; i < count; i++) {
    let a = -2 + 4 * rng.next();
    let b = -2 + 4 * rng.next();
    x[2 * i] = a;
    x[2 * i + 1] = b;
    let t = 0;
    times.forEach((tk, k) => {
      while (t < tk - 1e-12) {
        const [k1a, k1b] = f(a, b);
        const [k2a, k2b] = f(a + (h / 2) * k1a, b + (h / 2) * k1b);
        const [k3a, k3b] = f(a + (h / 2) * k2a, b + (h / 2) * k2b);
        const [k4a, k4b] = f(a + h * k3a, b + h * k3b);
        a += (h / 6) * (k1a + 2 * k2a + 2 * k3a + k4a);
        b += (h / 6) * (k1b + 2 * k2b + 2 * k3b + k4b);
        t += h;
      }
      targets[(i * times.length + k) * 2] = a;
      targets[(i * times.length + k) * 2 + 1] = b;
    });
  }
  return memoryDataset(
    'conformance-van-der-pol',
    { inputShape: [2], kind: 'trajectory', task: 'regression', numClasses: 0, trainSize: train, testSize: test, targetShape: [times.length, 2], times, t0: 0 },
    x,
    new Int32Array(0),
    targets,
  );
}

// ───────────────────────────── helpers ─────────────────────────────

/** Each tensor's bytes (base64), by IR path. */
function tensorBits(model: ModelIR): Map<string, string> {
  return new Map(listTensors(model).map((t) => [t.path, Buffer.from(t.tensor.data.buffer, t.tensor.data.byteOffset, t.tensor.data.byteLength).toString('base64')]));
}

/** The paths whose bytes differ between two snapshots, and those in one only. */
function changedPaths(a: Map<string, string>, b: Map<string, string>): { changed: string[]; missing: string[]; added: string[] } {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [p, v] of a) {
    if (!b.has(p)) missing.push(p);
    else if (b.get(p) !== v) changed.push(p);
  }
  const added = [...b.keys()].filter((p) => !a.has(p));
  return { changed, missing, added };
}

/** The largest |a − b| over the tensors both models have (Infinity when the layouts differ). */
function maxWeightDiff(a: ModelIR, b: ModelIR): number {
  const tb = new Map(listTensors(b).map((t) => [t.path, t.tensor.data]));
  let worst = 0;
  for (const t of listTensors(a)) {
    const other = tb.get(t.path);
    if (!other || other.length !== t.tensor.data.length) return Infinity;
    for (let i = 0; i < other.length; i++) worst = Math.max(worst, Math.abs(t.tensor.data[i]! - other[i]!));
  }
  return worst;
}

const describeRun = (task: string, o: TrainOptions, extra = '') =>
  `train(${task}, epochs ${o.epochs}, batch ${o.batch}, ${o.optimizer} lr ${o.lr}, seed ${o.seed}${o.params !== undefined ? `, params ${show(o.params)}` : ''}${extra})`;

/** The thrown error of `fn` (undefined when nothing was thrown). */
async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

const describeError = (err: unknown) => (err === undefined ? 'nothing thrown' : err instanceof Error ? `${err.name}: ${err.message}` : show(err));

/** What one run recorded besides its result. */
interface Recorded {
  progress: [done: number, total: number][];
  /** hooks.progress events */
  hookProgress: [done: number, total: number, task: string][];
  epochs: EpochInfo[];
  before: number;
  after: { model: ModelIR; summary: TrainSummary }[];
  /** checkpoint copies taken in each epoch's first progress call after the first epoch (the previous epoch's file) */
  snapshots: (string | null)[];
}

/**
 * Register the trainer conformance tests with `it` (vitest's `it`). `factory()` builds the trainer under test (one
 * per run); see the module comment for what is checked and {@link TrainerCapabilities} for what can be switched off.
 */
export function trainerConformance(it: ConformanceIt, factory: TrainerConformanceFactory, options: TrainerConformanceOptions = {}): void {
  const sup = { classification: true, regression: true, learns: true, determinism: true, params: true, checkpoint: true, resume: 'exact' as 'exact' | 'close' | false, validation: true, progress: true, hooks: true, ...options.supports };
  if (sup.resume && !sup.checkpoint) throw new Error('trainerConformance: supports.resume needs supports.checkpoint');
  const E = options.epochs ?? 4;
  if (!(Number.isInteger(E) && E >= 2)) throw new Error(`trainerConformance: epochs must be an integer ≥ 2, got ${show(E)}`);
  const dt = options.dt ?? 0.25;
  const ratios = typeof options.lossRatio === 'object' ? options.lossRatio : { classification: options.lossRatio, regression: options.lossRatio };
  const ratioOf = (task: Task) => ratios[task] ?? 0.6;
  const timeout = options.timeout ?? 30_000;
  const makeSolver = options.solver ?? (() => new EulerSolver());
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'odemor-trainer-conformance-'));
    dirs.push(d);
    return d;
  };

  const datasets = new Map<Task, Promise<Dataset>>();
  const dataset = (task: Task): Promise<Dataset> => {
    let d = datasets.get(task);
    if (!d) {
      const given = options.datasets?.[task];
      d = Promise.resolve(given === undefined ? (task === 'classification' ? spiralsDataset() : vanDerPolDataset()) : typeof given === 'function' ? given() : given);
      datasets.set(task, d);
    }
    return d;
  };
  /** A fresh model of the task (the same one on every call): dense-node (16 units) or mlp-node (16 hidden units). */
  const modelOf = async (task: Task): Promise<ModelIR> => {
    const ds = await dataset(task);
    const spec: SolverSpec = { use: makeSolver().name, dt, t0: 0, t1: 1 };
    return task === 'classification' ? denseNode({ hidden: 16 }, { dataset: ds.info, seed: 3, solver: spec }) : mlpNode({ hidden: 16 }, { dataset: ds.info, seed: 3, solver: spec });
  };
  const baseOptions = (task: Task, extra: Partial<TrainOptions> = {}): TrainOptions =>
    ({ epochs: E, batch: 8, optimizer: 'adam', lr: task === 'classification' ? 0.05 : 0.02, seed: 1, ...options.trainOptions, ...extra }) as TrainOptions;

  /** One run: a fresh trainer, a fresh model (snapshotted before), recording progress, hooks and checkpoint copies. */
  const run = async (task: Task, o: TrainOptions, ctx: Partial<TrainContext> & { record?: boolean | 'progress-hook'; snapshotDir?: string } = {}) => {
    const trainer = await factory();
    const input = await modelOf(task);
    const before = tensorBits(input);
    const rec: Recorded = { progress: [], hookProgress: [], epochs: [], before: 0, after: [], snapshots: [] };
    const { record, snapshotDir, ...given } = ctx;
    const context: TrainContext = { dataset: await dataset(task), solver: makeSolver(), phase: 'train', ...given };
    if (record) {
      if (sup.progress && record !== 'progress-hook') {
        context.onProgress = (done, total) => {
          rec.progress.push([done, total]);
          // the first batch of epoch e + 1 (e ≥ 1): the checkpoint of epoch e is on disk, the next one not yet
          const per = total / o.epochs;
          const epoch = Math.ceil(done / per);
          if (snapshotDir && context.checkpoint && epoch >= 2 && rec.snapshots.length < epoch - 1) {
            while (rec.snapshots.length < epoch - 2) rec.snapshots.push(null);
            const copy = path.join(snapshotDir, `epoch-${epoch - 1}.odemor`);
            rec.snapshots.push(existsSync(context.checkpoint) ? (copyFileSync(context.checkpoint, copy), copy) : null);
          }
        };
      }
      if (sup.hooks) {
        const hooks = createHooks();
        hooks.beforeTrain.tapPromise('conformance', async () => void rec.before++);
        hooks.epoch.tapPromise('conformance', async (info) => void rec.epochs.push({ ...info }));
        hooks.afterTrain.tapPromise('conformance', async (model, summary) => void rec.after.push({ model, summary: { ...summary } }));
        hooks.progress.tap('conformance', (e) => void rec.hookProgress.push([e.done, e.total, e.task]));
        context.hooks = hooks;
      }
    }
    const result: TrainResult = await trainer.train(input, o, context);
    return { trainer, input, before, result, rec, context };
  };
  type Run = Awaited<ReturnType<typeof run>>;
  const memo = new Map<string, Promise<Run>>();
  const once = (key: string, make: () => Promise<Run>) => {
    let p = memo.get(key);
    if (!p) memo.set(key, (p = make()));
    return p;
  };
  const learned = (task: Task) => once(`learn:${task}`, () => run(task, baseOptions(task)));
  const taskName = (task: Task) => (task === 'classification' ? 'spirals, dense-node' : 'van-der-pol, mlp-node');
  const c0 = (expect: ExpectStatic, task: Task, o: TrainOptions, extra?: string) => checker(expect, describeRun(taskName(task), o, extra));
  const test = (name: string, fn: (expect: ExpectStatic) => Promise<void>) => it(name, async ({ expect }) => fn(expect), timeout);
  const tasks = (['classification', 'regression'] as const).filter((t) => sup[t]);
  const main: Task = sup.classification ? 'classification' : 'regression';

  /** history and summary of a finished run of `o.epochs` epochs */
  const checkHistory = (c: Checker, task: Task, o: TrainOptions, result: TrainResult, name: string) => {
    const { history, summary } = result;
    c.ok('history', Array.isArray(history), `expected an array, got ${show(history)}`);
    c.is('history.length (one entry per epoch)', history.length, o.epochs);
    history.forEach((h, i) => {
      const ch = c.at(`history[${i}]`);
      ch.is('epoch', h.epoch, i + 1);
      ch.is('epochs', h.epochs, o.epochs);
      ch.ok('loss', typeof h.loss === 'number' && Number.isFinite(h.loss), `expected a finite number, got ${show(h.loss)}`);
      if (task === 'classification') ch.ok('accuracy', h.accuracy >= 0 && h.accuracy <= 1, `expected an accuracy in [0, 1], got ${show(h.accuracy)}`);
      else ch.ok('accuracy', Number.isNaN(h.accuracy), `expected NaN (a regression run has no accuracy), got ${show(h.accuracy)}`);
    });
    const last = history[history.length - 1]!;
    c.ok('summary', !!summary && typeof summary === 'object', `expected an object, got ${show(summary)}`);
    c.is('summary.epochs', summary.epochs, o.epochs);
    c.is('summary.finalLoss (the last epoch\'s loss)', summary.finalLoss, last.loss);
    c.is('summary.finalAccuracy (the last epoch\'s accuracy)', summary.finalAccuracy, last.accuracy);
    c.is('summary.phase (context.phase)', summary.phase, 'train');
    c.ok('summary.seconds', Number.isFinite(summary.seconds) && summary.seconds >= 0, `expected a finite number ≥ 0, got ${show(summary.seconds)}`);
    if (summary.trainer !== undefined) c.is('summary.trainer (the trainer\'s name)', summary.trainer, name);
  };

  const register = () => {
    for (const task of tasks) {
      test(`${task}: ${sup.learns ? 'the loss falls; ' : ''}one finite history entry per epoch, a summary that agrees with it`, async (expect) => {
        const r = await learned(task);
        const o = baseOptions(task);
        const c = c0(expect, task, o);
        checkHistory(c, task, o, r.result, r.trainer.name);
        if (sup.learns) {
          const h = r.result.history;
          const ratio = ratioOf(task);
          c.ok(
            `history[${h.length - 1}].loss`,
            h[h.length - 1]!.loss < ratio * h[0]!.loss,
            `expected less than ${show(ratio * h[0]!.loss)} (${ratio} × the first epoch's ${show(h[0]!.loss)}), got ${show(h[h.length - 1]!.loss)} (losses ${show(h.map((e) => e.loss))})`,
          );
        }
      });

      test(`${task}: leaves its input model as it was; returns a valid model with the same tensors, trained`, async (expect) => {
        const r = await learned(task);
        const c = c0(expect, task, baseOptions(task));
        const after = changedPaths(r.before, tensorBits(r.input));
        c.equal('the input model\'s tensors changed by train', after.changed, []);
        c.ok('result.model', !!r.result.model && r.result.model !== r.input, 'expected a new model object, not the input');
        let invalid: unknown;
        try {
          validateModel(r.result.model);
        } catch (e) {
          invalid = e;
        }
        c.ok('result.model (validateModel)', invalid === undefined, `expected a valid model, got ${describeError(invalid)}`);
        const out = changedPaths(r.before, tensorBits(r.result.model));
        c.equal('result.model: tensors missing', out.missing, []);
        c.equal('result.model: tensors added', out.added, []);
        c.ok('result.model', out.changed.length > 0, 'expected trained tensors, got the input\'s values everywhere');
      });
    }

    if (sup.determinism) {
      test(`${main}: the same options give byte-identical weights, another seed other weights`, async (expect) => {
        const o = baseOptions(main);
        const a = await learned(main);
        const again = await run(main, o);
        const c = c0(expect, main, o, ', twice');
        const d = changedPaths(tensorBits(a.result.model), tensorBits(again.result.model));
        c.equal('tensors that differ between the two runs', d.changed, []);
        c.equal('history losses', again.result.history.map((h) => h.loss), a.result.history.map((h) => h.loss));
        const other = await run(main, { ...o, seed: o.seed + 1 });
        const d2 = changedPaths(tensorBits(a.result.model), tensorBits(other.result.model));
        c0(expect, main, { ...o, seed: o.seed + 1 }).ok('weights', d2.changed.length > 0, `expected weights other than seed ${o.seed}'s (another shuffle order), got byte-identical ones`);
      });
    }

    if (sup.params) {
      const cases: [Task, TrainOptions['params'], (p: string) => boolean][] = [];
      if (sup.classification) cases.push(['classification', 'after-block', (p) => p.startsWith('post.')]);
      if (sup.regression) cases.push(['regression', ['block.M'], (p) => p === 'block.M']);
      for (const [task, params, selected] of cases) {
        test(`${task}: params ${show(params)} trains the selected tensors only`, async (expect) => {
          const o = baseOptions(task, { epochs: 1, params });
          const r = await run(task, o);
          const c = c0(expect, task, o);
          const d = changedPaths(r.before, tensorBits(r.result.model));
          c.equal('tensors changed outside the selection', d.changed.filter((p) => !selected(p)), []);
          const chosen = [...r.before.keys()].filter(selected);
          c.equal('selected tensors left unchanged', chosen.filter((p) => !d.changed.includes(p)), []);
          c.equal('the input model\'s tensors changed by train', changedPaths(r.before, tensorBits(r.input)).changed, []);
        });
      }
    }

    if (sup.checkpoint) {
      test(`${main}: context.checkpoint holds the model after every epoch; checkpointing does not change the training`, async (expect) => {
        const dir = tmp();
        const ck = path.join(dir, 'model.odemor');
        const o = baseOptions(main, { epochs: 2 });
        const r = await run(main, o, { checkpoint: ck, record: true, snapshotDir: dir });
        const c = c0(expect, main, o, `, checkpoint ${path.basename(ck)}`);
        c.ok('checkpoint', existsSync(ck), 'expected the model file after the run');
        const saved = await loadModel(ck);
        c.equal('checkpoint after the last epoch (loadModel): tensors that differ from result.model', changedPaths(tensorBits(r.result.model), tensorBits(saved)).changed, []);
        if (sup.progress) {
          c.ok('checkpoint after epoch 1', typeof r.rec.snapshots[0] === 'string', 'expected the model file on disk when epoch 2 started');
          if (sup.determinism) {
            const one = await run(main, { ...o, epochs: 1 });
            const first = await loadModel(r.rec.snapshots[0]!);
            c.equal('checkpoint after epoch 1: tensors that differ from a 1-epoch run', changedPaths(tensorBits(one.result.model), tensorBits(first)).changed, []);
          }
        }
        if (sup.determinism) {
          const plain = await once(`plain2:${main}`, () => run(main, o));
          c.equal('tensors that differ from the same run without a checkpoint', changedPaths(tensorBits(plain.result.model), tensorBits(r.result.model)).changed, []);
        }
      });

      test(`${main}: ${sup.resume ? `resume continues from the checkpoint (${sup.resume === 'exact' ? 'byte-identical' : 'close'} to a straight run) and refuses other options` : 'resume starts afresh (the trainer keeps no training state)'}`, async (expect) => {
        const dir = tmp();
        const ck = path.join(dir, 'model.odemor');
        const o = baseOptions(main, { epochs: 2 });
        const straight = await once(`plain2:${main}`, () => run(main, o));
        // nothing saved yet: every trainer starts afresh
        const fresh = await run(main, o, { checkpoint: path.join(dir, 'fresh.odemor'), resume: true });
        if (sup.determinism) {
          c0(expect, main, o, ', resume with nothing saved').equal('tensors that differ from a straight run', changedPaths(tensorBits(straight.result.model), tensorBits(fresh.result.model)).changed, []);
        }
        await run(main, { ...o, epochs: 1 }, { checkpoint: ck });
        const resumed = await run(main, o, { checkpoint: ck, resume: true, record: true });
        const c = c0(expect, main, o, ', resumed after 1 epoch');
        // a deterministic trainer that starts afresh ends where a resumed one does: the epochs it runs tell them apart
        const perEpoch = resumed.rec.progress.length ? resumed.rec.progress[0]![1] / o.epochs : 0;
        const ran = sup.hooks
          ? { what: 'hooks.epoch: the epochs run', seen: resumed.rec.epochs.map((e) => e.epoch) }
          : sup.progress
            ? { what: 'onProgress: the epochs run', seen: [...new Set(resumed.rec.progress.map(([done]) => Math.ceil(done / perEpoch)))] }
            : undefined;
        if (ran) c.equal(`${ran.what} (${sup.resume ? 'epoch 1 comes from the checkpoint' : 'a trainer without state runs every epoch'})`, ran.seen, sup.resume ? [2] : [1, 2]);
        const against = (label: string, m: ModelIR) => {
          if (sup.resume === 'close') {
            c.atMost(`${label}: the largest weight difference from a straight 2-epoch run`, maxWeightDiff(straight.result.model, m), options.resumeTolerance ?? 1e-5);
          } else if (sup.determinism) {
            c.equal(`${label}: tensors that differ from a straight 2-epoch run`, changedPaths(tensorBits(straight.result.model), tensorBits(m)).changed, []);
          }
        };
        if (!sup.resume) {
          // TrainContext.resume: a trainer that keeps no state starts afresh
          against('result.model (started afresh)', resumed.result.model);
          checkHistory(c, main, o, resumed.result, resumed.trainer.name);
          return;
        }
        against('result.model', resumed.result.model);
        against('checkpoint (loadModel)', await loadModel(ck));
        checkHistory(c, main, o, resumed.result, resumed.trainer.name);
        if (sup.resume === 'exact') c.equal('history losses (the saved epoch and the resumed one)', resumed.result.history.map((h) => h.loss), straight.result.history.map((h) => h.loss));
        for (const change of [{ lr: o.lr * 2 }, { batch: o.batch + 1 }] as Partial<TrainOptions>[]) {
          const other = { ...o, ...change };
          const err = await errorOf(() => run(main, other, { checkpoint: ck, resume: true }));
          c0(expect, main, other, `, resume from a checkpoint of ${show(change)}'s other value`).ok('error', OdemorError.is(err), `expected an OdemorError (other options than the checkpoint's), got ${describeError(err)}`);
        }
      });
    }

    if (sup.validation) {
      test(`${main}: bad options throw an OdemorError naming the key and the value`, async (expect) => {
        const cases: [string, string, Partial<TrainOptions>][] = [
          ['epochs', '-1', { epochs: -1 }],
          ['batch', '0', { batch: 0 }],
          ['lr', '0', { lr: 0 }],
          ['optimizer', 'nesterov', { optimizer: 'nesterov' as TrainOptions['optimizer'] }],
          ['params', 'no.such.tensor', { params: ['no.such.tensor'] }],
        ];
        for (const [key, value, change] of cases) {
          const o = baseOptions(main, { epochs: 1, ...change });
          const err = await errorOf(() => run(main, o));
          const c = c0(expect, main, o);
          c.ok('error', OdemorError.is(err), `expected an OdemorError, got ${describeError(err)}`);
          const message = err instanceof Error ? err.message : '';
          c.ok('error message', message.includes(key) && message.includes(value), `expected it to name ${key} and ${show(value)}, got ${show(message)}`);
        }
      });
    }

    test(`supports() ${options.unsupported ? 'accepts the kit\'s models and refuses an unsupported case with a reason' : 'accepts the kit\'s models (when the trainer has it)'}`, async (expect) => {
      const trainer = await factory();
      const c = checker(expect, `trainer '${trainer.name}'`);
      c.ok('name', typeof trainer.name === 'string' && trainer.name.length > 0, `expected a non-empty string, got ${show(trainer.name)}`);
      if (!trainer.supports) {
        c.ok('supports', !options.unsupported, 'options.unsupported is given but the trainer has no supports()');
        return;
      }
      for (const task of tasks) {
        const s = trainer.supports(await modelOf(task), makeSolver());
        c.equal(`supports(${taskName(task)}, ${makeSolver().name})`, s, { ok: true });
      }
      if (options.unsupported) {
        const u = options.unsupported({ model: await modelOf(main), solver: makeSolver(), dataset: await dataset(main) });
        const label = `supports(${u.label ?? u.solver.name})`;
        const s = trainer.supports(u.model, u.solver);
        c.is(`${label}.ok`, s.ok, false);
        const reason = (s as { reason?: unknown }).reason;
        c.ok(`${label}.reason`, typeof reason === 'string' && reason.length > 0, `expected a non-empty string, got ${show(reason)}`);
        const ds = await dataset(main);
        const err = await errorOf(() => trainer.train(u.model, baseOptions(main, { epochs: 1 }), { dataset: ds, solver: u.solver, phase: 'train' }));
        c.ok(`train(${u.label ?? u.solver.name})`, OdemorError.is(err), `expected an OdemorError (supports() refuses it), got ${describeError(err)}`);
      }
    });

    if (sup.progress || sup.hooks) {
      test(`${main}: ${[sup.progress ? 'onProgress (or hooks.progress without it) counts up to its total' : '', sup.hooks ? 'hooks fire: beforeTrain once, epoch once per epoch, afterTrain once' : ''].filter(Boolean).join('; ')}`, async (expect) => {
        const o = baseOptions(main, { epochs: 2 });
        const r = await run(main, o, { record: true });
        const c = c0(expect, main, o, ', with onProgress and hooks');
        const counts = (who: string, p: readonly (readonly [number, number, ...unknown[]])[]) => {
          c.ok(who, p.length > 0, 'expected calls, got none');
          const total = p[0]![1];
          c.ok(`${who}: total`, Number.isInteger(total) && total >= o.epochs, `expected an integer ≥ epochs (${o.epochs}), got ${show(total)}`);
          p.forEach(([done, t], i) => {
            if (t !== total) c.is(`${who} call ${i}: total`, t, total);
            if (!(Number.isInteger(done) && done >= 1 && done <= total)) c.ok(`${who} call ${i}: done`, false, `expected an integer in [1, ${total}], got ${show(done)}`);
            if (i > 0 && !(done > p[i - 1]![0])) c.ok(`${who} call ${i}: done`, false, `expected more than the previous call's ${p[i - 1]![0]}, got ${show(done)}`);
          });
          c.is(`${who}: the last done (the total)`, p[p.length - 1]![0], total);
        };
        if (sup.progress) counts('onProgress', r.rec.progress);
        if (sup.progress && sup.hooks) {
          // without onProgress the events go to hooks.progress, task context.phase
          const h = await run(main, o, { record: 'progress-hook' });
          counts('hooks.progress (no onProgress given)', h.rec.hookProgress);
          c.equal('hooks.progress: the tasks (context.phase)', [...new Set(h.rec.hookProgress.map((e) => e[2]))], ['train']);
        }
        if (sup.hooks) {
          c.is('hooks.beforeTrain calls', r.rec.before, 1);
          c.equal('hooks.epoch: the epochs seen', r.rec.epochs.map((e) => e.epoch), r.result.history.map((h) => h.epoch));
          c.equal('hooks.epoch: the losses seen (the history\'s)', r.rec.epochs.map((e) => e.loss), r.result.history.map((h) => h.loss));
          c.is('hooks.afterTrain calls', r.rec.after.length, 1);
          c.is('hooks.afterTrain: summary.finalLoss', r.rec.after[0]?.summary.finalLoss, r.result.summary.finalLoss);
        }
      });
    }

    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  };

  if (options.group === false) register();
  else describe(options.title ?? 'trainer conformance', register);
}

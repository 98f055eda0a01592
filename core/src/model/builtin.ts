import { z } from 'zod';
import { OdemorError } from '../errors.js';
import type { Activation, BlockMatrix, Layer, MlpBlock, ModelIR, Tensor32 } from '../ir/types.js';
import { validateModel } from '../ir/validate.js';
import { createRng, type Rng } from '../util/rng.js';
import type { ModelFactory, ModelFactoryContext } from './factory.js';

const ACTIVATIONS: Activation[] = ['tanh', 'relu', 'softplus', 'identity'];

function optInt(options: Record<string, unknown>, key: string, def: number, model: string): number {
  const v = options[key] ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new OdemorError('CONFIG', `model '${model}': ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
function optNum(options: Record<string, unknown>, key: string, def: number, model: string): number {
  const v = options[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OdemorError('CONFIG', `model '${model}': ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function optActivation(options: Record<string, unknown>, def: Activation, model: string): Activation {
  const v = options.activation ?? def;
  if (!ACTIVATIONS.includes(v as Activation)) throw new OdemorError('CONFIG', `model '${model}': activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as Activation;
}

const positiveInt = z.number().int().positive();
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const activation = z.enum(ACTIVATIONS as [Activation, ...Activation[]]);

/**
 * Option schema of `dense-node` (the `model:` keys besides `use`, `checkpoint`, `solver`): what
 * {@link denseNode} reads, checked before any work.
 */
export const denseNodeOptions = z.strictObject({
  /** n, the state dimension (default 32) */
  hidden: positiveInt.optional(),
  activation: activation.optional(),
  /** init gain of the block matrix (default 1) */
  scale: finite.optional(),
  preActivation: z.enum(['tanh', 'none']).optional(),
  /** antisymmetric A = W − Wᵀ − γI: `true` (γ = 0.01) or `{ gamma }` */
  antisymmetric: z.union([z.boolean(), z.strictObject({ gamma: finite.optional() })]).optional(),
});

/** Option schema of `conv-node`: what {@link convNode} reads. */
export const convNodeOptions = z.strictObject({
  /** C, channels of the block's state (default 16) */
  channels: positiveInt.optional(),
  activation: activation.optional(),
  /** init gain of the block kernel (default 1) */
  scale: finite.optional(),
});

/** Option schema of `ode-rnn`: what {@link odeRnn} reads. */
export const odeRnnOptions = z.strictObject({
  /** n, the state dimension (default 32) */
  hidden: positiveInt.optional(),
  /** γ of A = W − Wᵀ − γI (default 0.01) */
  gamma: finite.optional(),
  activation: activation.optional(),
  scale: finite.optional(),
  /** time per sequence step (default (t1 − t0) / steps) */
  stepDuration: finite.optional(),
});

const tensor = (shape: number[], data: Float32Array): Tensor32 => ({ shape, data });
const zeros = (shape: number[]): Tensor32 => tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
/** normal weights N(0, std²) */
const normal = (rng: Rng, shape: number[], std: number): Tensor32 => tensor(shape, rng.normalArray(shape.reduce((a, b) => a * b, 1), std));

function denseLayer(rng: Rng, inp: number, out: number, gain: number): Layer {
  return { type: 'dense', weight: normal(rng, [out, inp], gain / Math.sqrt(inp)), bias: zeros([out]) };
}

function base(name: string, context: ModelFactoryContext): Pick<ModelIR, 'format' | 'version' | 'name' | 'solver' | 'outputs'> {
  return { format: 'odemor-model', version: 1, name, solver: { ...context.solver }, outputs: context.dataset.numClasses };
}

/**
 * `dense-node`: input vector [d] (inputs of higher rank are flattened) → dense d→n (+ tanh when
 * `preActivation: 'tanh'`) → ODE block x' = σ(A x + b) with A dense (N(0, scale²/n)) or antisymmetric
 * (`antisymmetric: { gamma }`) → dense n→classes.
 *
 * Options: `hidden` (n, default 32), `activation` (default 'tanh'), `scale` (default 1),
 * `preActivation` ('tanh' | 'none', default 'none'), `antisymmetric` ({ gamma }, optional).
 */
/** Reject option keys a model does not know, naming the closest mistake. */
function checkKeys(options: Record<string, unknown>, known: string[], model: string): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new OdemorError('CONFIG', `model.${k}: unknown option for model '${model}' (known: ${known.join(', ')}, plus use, checkpoint, weights, weightsMap, solver)`);
  }
}

export const denseNode: ModelFactory = (options, context) => {
  checkKeys(options, ['hidden', 'activation', 'scale', 'preActivation', 'antisymmetric'], 'dense-node');
  const rng = createRng(context.seed);
  const n = optInt(options, 'hidden', 32, 'dense-node');
  const activation = optActivation(options, 'tanh', 'dense-node');
  const scale = optNum(options, 'scale', 1, 'dense-node');
  const shape = context.dataset.inputShape;
  const d = shape.reduce((a, b) => a * b, 1);
  const pre: Layer[] = [];
  if (shape.length > 1) pre.push({ type: 'flatten' });
  pre.push(denseLayer(rng, d, n, 1));
  const preAct = options.preActivation ?? 'none';
  if (preAct === 'tanh') pre.push({ type: 'tanh' });
  else if (preAct !== 'none') throw new OdemorError('CONFIG', `model 'dense-node': preActivation must be 'tanh' or 'none', got ${JSON.stringify(preAct)}`);
  const anti = options.antisymmetric as { gamma?: number } | undefined | boolean;
  const A: BlockMatrix = anti
    ? { type: 'antisymmetric', weight: normal(rng, [n, n], scale / Math.sqrt(n)), gamma: typeof anti === 'object' ? (anti.gamma ?? 0.01) : 0.01 }
    : { type: 'dense', weight: normal(rng, [n, n], scale / Math.sqrt(n)) };
  const model: ModelIR = {
    ...base('dense-node', context),
    input: { kind: 'tensor', shape: [...shape] },
    pre,
    block: { kind: 'ode', n, A, b: zeros([n]), activation },
    post: [denseLayer(rng, n, context.dataset.numClasses, 1)],
  };
  validateModel(model);
  return model;
};

/**
 * `conv-node`, the paper's convolutional model for images [H, W, c]: conv 3×3 (c→C, 'valid') + ReLU +
 * maxpool 3×3 stride 3 ('valid') → ODE block with a 3×3 'same' convolution A on the [h, w, C] state
 * (28×28 → 26×26 → 8×8, n = 64·C = 1024 for C = 16) → maxpool 3×3 stride 3 ('same') → flatten → ReLU →
 * dense → classes.
 *
 * Options: `channels` (C, default 16), `activation` (default 'tanh'), `scale` (block kernel init gain,
 * default 1).
 */
export const convNode: ModelFactory = (options, context) => {
  checkKeys(options, ['channels', 'activation', 'scale'], 'conv-node');
  const rng = createRng(context.seed);
  const C = optInt(options, 'channels', 16, 'conv-node');
  const activation = optActivation(options, 'tanh', 'conv-node');
  const scale = optNum(options, 'scale', 1, 'conv-node');
  const shape = context.dataset.inputShape;
  if (shape.length !== 3 && shape.length !== 2) {
    throw new OdemorError('CONFIG', `model 'conv-node' needs image inputs [H, W, c] or [H, W]; the dataset gives [${shape.join(', ')}]`);
  }
  const [H, W] = shape as [number, number];
  const cin = shape[2] ?? 1;
  const h1 = H - 2;
  const w1 = W - 2;
  const h = Math.floor((h1 - 3) / 3) + 1;
  const w = Math.floor((w1 - 3) / 3) + 1;
  if (h < 1 || w < 1) throw new OdemorError('CONFIG', `model 'conv-node': input [${shape.join(', ')}] is too small (needs at least 5×5)`);
  const n = h * w * C;
  const pooled = Math.ceil(h / 3) * Math.ceil(w / 3) * C;
  const model: ModelIR = {
    ...base('conv-node', context),
    input: { kind: 'tensor', shape: [H, W, cin] },
    pre: [
      { type: 'conv2d', kernel: normal(rng, [3, 3, cin, C], Math.sqrt(2 / (9 * cin))), bias: zeros([C]), stride: 1, padding: 'valid' },
      { type: 'relu' },
      { type: 'maxpool2d', size: 3, stride: 3, padding: 'valid' },
    ],
    block: {
      kind: 'ode',
      n,
      A: { type: 'conv', kernel: normal(rng, [3, 3, C, C], scale / Math.sqrt(9 * C)), height: h, width: w, channels: C },
      b: zeros([n]),
      activation,
    },
    post: [
      { type: 'maxpool2d', size: 3, stride: 3, padding: 'same' },
      { type: 'flatten' },
      { type: 'relu' },
      denseLayer(rng, pooled, context.dataset.numClasses, Math.SQRT2),
    ],
  };
  validateModel(model);
  return model;
};

/**
 * `ode-rnn`: a sequence [steps, features] fed as u(t) to x' = σ(A x + b) + Z u(t) from x(0) = 0, with the
 * antisymmetric A = W − Wᵀ − γI (stable by construction), then dense n→classes.
 *
 * Options: `hidden` (n, default 32), `gamma` (default 0.01), `activation` (default 'tanh'), `scale`
 * (default 1), `stepDuration` (default (t1 − t0) / steps).
 */
export const odeRnn: ModelFactory = (options, context) => {
  checkKeys(options, ['hidden', 'gamma', 'activation', 'scale', 'stepDuration'], 'ode-rnn');
  const rng = createRng(context.seed);
  const n = optInt(options, 'hidden', 32, 'ode-rnn');
  const gamma = optNum(options, 'gamma', 0.01, 'ode-rnn');
  const activation = optActivation(options, 'tanh', 'ode-rnn');
  const scale = optNum(options, 'scale', 1, 'ode-rnn');
  const shape = context.dataset.inputShape;
  if (shape.length !== 2) throw new OdemorError('CONFIG', `model 'ode-rnn' needs sequence inputs [steps, features]; the dataset gives [${shape.join(', ')}]`);
  const [steps, features] = shape as [number, number];
  const span = context.solver.t1 - context.solver.t0;
  const stepDuration = optNum(options, 'stepDuration', span > 0 ? span / steps : 1, 'ode-rnn');
  const model: ModelIR = {
    ...base('ode-rnn', context),
    input: { kind: 'sequence', steps, features, stepDuration },
    pre: [],
    block: {
      kind: 'ode',
      n,
      A: { type: 'antisymmetric', weight: normal(rng, [n, n], scale / Math.sqrt(n)), gamma },
      b: zeros([n]),
      Z: normal(rng, [n, features], 1 / Math.sqrt(features)),
      activation,
    },
    post: [denseLayer(rng, n, context.dataset.numClasses, 1)],
  };
  validateModel(model);
  return model;
};

/** Option schema of `mlp-node`: what {@link mlpNode} reads. */
export const mlpNodeOptions = z.strictObject({
  /** m, hidden units of the vector field (default 64) */
  hidden: positiveInt.optional(),
  /** n, the state dimension of a classification model (default: the flattened input size; another n adds a dense layer before the block) */
  state: positiveInt.optional(),
  activation: activation.optional(),
  /** init gain of M and N (default 1) */
  scale: finite.optional(),
});

/**
 * `mlp-node`: the two-layer vector field x' = W₂ σ(W₁ x + b₁ + Z u(t)) + b₂ (an {@link MlpBlock}: M = W₁,
 * c = b₁, N = W₂, bias = b₂, Zin = Z).
 *
 * - On a trajectory dataset (system identification): a sample is the initial state x(t0) (input kind 'state',
 *   with the dataset's input signal u when it has one), the model outputs the states at the dataset's
 *   observation times (a trajectory readout), and the solver's span is the dataset's [t0, last time].
 * - On a classification dataset: flatten → (dense d→n when `state` differs from d) → the block on
 *   [solver.t0, solver.t1] → dense n→classes (the TayLaNets MNIST setup with `hidden: 100`).
 *
 * Options: `hidden` (m, default 64), `state` (n, classification only), `activation` (default 'tanh'),
 * `scale` (init gain, default 1). W₁ ~ N(0, scale²/n), W₂ ~ N(0, scale²/m) · 0.1 (a slow initial field),
 * biases 0, Z ~ N(0, 1/p).
 */
export const mlpNode: ModelFactory = (options, context) => {
  checkKeys(options, ['hidden', 'state', 'activation', 'scale'], 'mlp-node');
  const rng = createRng(context.seed);
  const m = optInt(options, 'hidden', 64, 'mlp-node');
  const activation = optActivation(options, 'tanh', 'mlp-node');
  const scale = optNum(options, 'scale', 1, 'mlp-node');
  const info = context.dataset;
  const shape = info.inputShape;
  const d = shape.reduce((a, b) => a * b, 1);
  const block = (n: number, p: number | undefined): MlpBlock => ({
    kind: 'mlp',
    n,
    m,
    M: normal(rng, [m, n], scale / Math.sqrt(n)),
    c: zeros([m]),
    N: normal(rng, [n, m], (0.1 * scale) / Math.sqrt(m)),
    bias: zeros([n]),
    ...(p ? { Zin: normal(rng, [m, p], 1 / Math.sqrt(p)) } : {}),
    activation,
  });
  let model: ModelIR;
  if (info.kind === 'trajectory') {
    if (options.state !== undefined) throw new OdemorError('CONFIG', `model 'mlp-node': state is for classification datasets; on a trajectory dataset n is the dataset's state size (${d})`);
    const times = info.times;
    if (!times?.length) throw new OdemorError('CONFIG', `model 'mlp-node': the trajectory dataset gives no observation times (info.times)`);
    const t0 = info.t0 ?? 0;
    const sig = info.signal;
    model = {
      ...base('mlp-node', context),
      solver: { ...context.solver, t0, t1: times[times.length - 1]! },
      input: { kind: 'state', size: d, ...(sig ? { signal: { steps: sig.steps, channels: sig.channels, stepDuration: sig.dt } } : {}) },
      pre: [],
      block: block(d, sig?.channels),
      post: [],
      readout: { kind: 'trajectory', times: [...times] },
      outputs: times.length * d,
    };
  } else {
    if (info.kind === 'sequence') throw new OdemorError('CONFIG', `model 'mlp-node' takes vector, image or trajectory datasets; for sequences use 'ode-rnn'`);
    if (!info.numClasses) throw new OdemorError('CONFIG', `model 'mlp-node': a ${info.kind} dataset must be a classification dataset (numClasses > 0)`);
    const n = optInt(options, 'state', d, 'mlp-node');
    const pre: Layer[] = [];
    if (shape.length > 1) pre.push({ type: 'flatten' });
    if (n !== d) pre.push(denseLayer(rng, d, n, 1));
    model = {
      ...base('mlp-node', context),
      input: { kind: 'tensor', shape: [...shape] },
      pre,
      block: block(n, undefined),
      post: [denseLayer(rng, n, info.numClasses, 1)],
    };
  }
  validateModel(model);
  return model;
};

/** The built-in model factories by name. */
export const builtinModels: Record<'dense-node' | 'conv-node' | 'ode-rnn' | 'mlp-node', ModelFactory> = {
  'dense-node': denseNode,
  'conv-node': convNode,
  'ode-rnn': odeRnn,
  'mlp-node': mlpNode,
};

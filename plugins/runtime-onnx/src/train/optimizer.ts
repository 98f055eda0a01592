/**
 * Optimizers on parameter buffers (Float32Array, updated in place): SGD, momentum and Adam with the update
 * formulas of tfjs-core's optimizers, each elementary operation rounded to float32 as a float32 tensor
 * backend rounds it, so the same gradients give the same weights as the tfjs trainer; gradient clipping by
 * global norm and decoupled weight decay as the tfjs trainer applies them (docs/algorithms.md#training).
 */
import { OdemorError } from '@odemor/core';

const f = Math.fround;

/** The optimizers of core's `train.optimizer`. */
export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

/** Settings of a {@link ParamOptimizer}. */
export interface OptimizerSettings {
  kind: OptimizerKind;
  /** momentum of 'momentum' (tfjs: v ← m·v + g; w ← w − lr·v), default 0.9 */
  momentum?: number;
  /** Adam's β1, default 0.9 (tfjs's default) */
  beta1?: number;
  /** Adam's β2, default 0.999 (tfjs's default) */
  beta2?: number;
  /** Adam's ε, default 1e-7 (what tfjs's `adam()` uses on float32 backends: the backend's epsilon) */
  epsilon?: number;
}

/** Adam's ε when none is given: tfjs's `adam(lr)` takes `ENGINE.backend.epsilon()`, 1e-7 on float32 backends. */
export const ADAM_EPSILON = 1e-7;

/**
 * The optimizer's whole state, enough to continue bit for bit: the step count, Adam's running powers
 * β1^t and β2^t (float32, as tfjs keeps them) and the slot buffers per parameter path
 * (`m:<path>` and `v:<path>` for Adam, `acc:<path>` for momentum).
 */
export interface OptimizerState {
  kind: OptimizerKind;
  /** steps taken */
  iterations: number;
  /** β1^(t+1) as tfjs's `accBeta1` holds it before step t+1 (Adam; 0 otherwise) */
  accBeta1: number;
  accBeta2: number;
  slots: Map<string, Float32Array>;
}

/** A first-order optimizer over named parameter buffers. */
export class ParamOptimizer {
  readonly kind: OptimizerKind;
  private readonly momentum: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private iterations = 0;
  private accBeta1: number;
  private accBeta2: number;
  private readonly slots = new Map<string, Float32Array>();

  /** @param sizes the element count of every parameter buffer this optimizer updates, by path */
  constructor(settings: OptimizerSettings, private readonly sizes: ReadonlyMap<string, number>) {
    const { kind } = settings;
    if (kind !== 'sgd' && kind !== 'momentum' && kind !== 'adam') {
      throw new OdemorError('ARGUMENT', `unknown optimizer '${String(kind)}' (sgd, momentum, adam)`);
    }
    this.kind = kind;
    this.momentum = settings.momentum ?? 0.9;
    this.beta1 = settings.beta1 ?? 0.9;
    this.beta2 = settings.beta2 ?? 0.999;
    this.epsilon = settings.epsilon ?? ADAM_EPSILON;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new OdemorError('ARGUMENT', `momentum must lie in [0, 1], got ${this.momentum}`);
    if (!(this.beta1 > 0 && this.beta1 < 1)) throw new OdemorError('ARGUMENT', `beta1 must lie in (0, 1), got ${this.beta1}`);
    if (!(this.beta2 > 0 && this.beta2 < 1)) throw new OdemorError('ARGUMENT', `beta2 must lie in (0, 1), got ${this.beta2}`);
    if (!(this.epsilon > 0)) throw new OdemorError('ARGUMENT', `epsilon must be > 0, got ${this.epsilon}`);
    this.accBeta1 = kind === 'adam' ? f(this.beta1) : 0;
    this.accBeta2 = kind === 'adam' ? f(this.beta2) : 0;
    for (const [path, size] of sizes) {
      if (kind === 'momentum') this.slots.set(`acc:${path}`, new Float32Array(size));
      if (kind === 'adam') {
        this.slots.set(`m:${path}`, new Float32Array(size));
        this.slots.set(`v:${path}`, new Float32Array(size));
      }
    }
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.iterations;
  }

  /**
   * One update of every buffer in `params` with its gradient at learning rate `lr`:
   * - sgd: w ← w − lr·g
   * - momentum: v ← m·v + g; w ← w − lr·v
   * - adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
   */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const c = f(-lr);
    const oneMinusAcc1 = f(1 - this.accBeta1);
    const oneMinusAcc2 = f(1 - this.accBeta2);
    const b1 = f(this.beta1);
    const b2 = f(this.beta2);
    const c1 = f(1 - this.beta1);
    const c2 = f(1 - this.beta2);
    const eps = f(this.epsilon);
    const mom = f(this.momentum);
    for (const [path, size] of this.sizes) {
      const w = params.get(path);
      const g = grads.get(path);
      if (!w || !g) throw new OdemorError('RUNTIME', `optimizer: no ${w ? 'gradient' : 'parameter buffer'} for '${path}'`);
      if (w.length !== size || g.length !== size) {
        throw new OdemorError('SHAPE', `optimizer: '${path}' has ${w.length} values and a gradient of ${g.length}, expected ${size}`);
      }
      switch (this.kind) {
        case 'sgd':
          for (let i = 0; i < size; i++) w[i] = f(c * g[i]!) + w[i]!;
          break;
        case 'momentum': {
          const acc = this.slots.get(`acc:${path}`)!;
          for (let i = 0; i < size; i++) {
            // fround: an assignment expression's value is the unrounded right-hand side
            const a = f(f(mom * acc[i]!) + g[i]!);
            acc[i] = a;
            w[i] = f(c * a) + w[i]!;
          }
          break;
        }
        case 'adam': {
          const m = this.slots.get(`m:${path}`)!;
          const v = this.slots.get(`v:${path}`)!;
          for (let i = 0; i < size; i++) {
            const gi = g[i]!;
            const mi = f(f(m[i]! * b1) + f(gi * c1));
            const vi = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
            m[i] = mi;
            v[i] = vi;
            const mHat = f(mi / oneMinusAcc1);
            const vHat = f(vi / oneMinusAcc2);
            w[i] = f(f(mHat / f(f(Math.sqrt(vHat)) + eps)) * c) + w[i]!;
          }
          break;
        }
      }
    }
    if (this.kind === 'adam') {
      this.accBeta1 = f(this.accBeta1 * f(this.beta1));
      this.accBeta2 = f(this.accBeta2 * f(this.beta2));
    }
    this.iterations++;
  }

  /** A copy of the optimizer's state (see {@link OptimizerState}). */
  state(): OptimizerState {
    const slots = new Map<string, Float32Array>();
    for (const [k, v] of this.slots) slots.set(k, new Float32Array(v));
    return { kind: this.kind, iterations: this.iterations, accBeta1: this.accBeta1, accBeta2: this.accBeta2, slots };
  }

  /** Continue from a saved state; ARGUMENT error when it belongs to another optimizer or other parameters. */
  restore(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new OdemorError('ARGUMENT', `optimizer state is for '${state.kind}', this optimizer is '${this.kind}'`);
    for (const [k, buf] of this.slots) {
      const saved = state.slots.get(k);
      if (!saved || saved.length !== buf.length) {
        throw new OdemorError('ARGUMENT', `optimizer state lacks slot '${k}' of ${buf.length} values${saved ? ` (it has ${saved.length})` : ''}`);
      }
      buf.set(saved);
    }
    const extra = [...state.slots.keys()].find((k) => !this.slots.has(k));
    if (extra !== undefined) throw new OdemorError('ARGUMENT', `optimizer state has slot '${extra}', which no trained parameter has`);
    this.iterations = state.iterations;
    this.accBeta1 = state.accBeta1;
    this.accBeta2 = state.accBeta2;
  }
}

/** The global L2 norm of all gradients, √(Σ g²) (accumulated in float64). */
export function globalNorm(grads: Iterable<Float32Array>): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}

/**
 * Clip by global norm in place, as the tfjs trainer does: g ← g · min(1, clipNorm / max(‖g‖₂, 1e-12)).
 * Returns the norm before clipping.
 */
export function clipByGlobalNorm(grads: ReadonlyMap<string, Float32Array>, clipNorm: number): number {
  const norm = globalNorm(grads.values());
  const scale = Math.min(1, clipNorm / Math.max(norm, 1e-12));
  if (scale < 1) {
    const s = f(scale);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * s;
  }
  return norm;
}

/** Decoupled weight decay after the optimizer step, in place: w ← w − (lr·wd)·w. */
export function applyWeightDecay(params: Iterable<Float32Array>, lr: number, weightDecay: number): void {
  if (!(weightDecay > 0)) return;
  const k = f(lr * weightDecay);
  for (const w of params) for (let i = 0; i < w.length; i++) w[i] = w[i]! - f(w[i]! * k);
}

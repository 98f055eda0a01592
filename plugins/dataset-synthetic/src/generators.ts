/**
 * Sample generators of the synthetic tasks. Every generator is a pure function of its options and its
 * random stream. Labels are interleaved (`y[i] = i mod classes`), so every split and every prefix of it
 * is class-balanced (class counts differ by at most one).
 */
import { Rng } from './rng.js';
import type { SyntheticOptions } from './options.js';

/** The samples of one split, row-major. */
export interface SplitData {
  /** [count, ...inputShape] */
  x: Float32Array;
  /** [count] */
  y: Int32Array;
  count: number;
}

/** Angular extent of each spiral arm, in turns. */
export const SPIRAL_TURNS = 1;
/** Frequency jitter of the sequence task, in cycles per window (class c has c+1 cycles). */
export const SEQUENCE_FREQ_JITTER = 0.1;

/**
 * 2-D samples of a vector kind (before embedding), as float64 [count, 2].
 *
 * - circles: class c lies on the ring of radius (c+1)/classes (angle uniform).
 * - spirals: class c is an arm r = 0.1 + 0.9s, θ = 2πc/classes + 2π·{@link SPIRAL_TURNS}·s, s ~ U(0,1).
 * - blobs: class c is an isotropic Gaussian centred at (cos 2πc/classes, sin 2πc/classes) on the unit circle.
 *
 * Gaussian noise of standard deviation `noise` is added to both coordinates.
 */
export function generatePlanar(kind: 'circles' | 'spirals' | 'blobs', count: number, classes: number, noise: number, rng: Rng): { x: Float64Array; y: Int32Array } {
  const x = new Float64Array(count * 2);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y[i] = c;
    let px: number;
    let py: number;
    if (kind === 'circles') {
      const r = (c + 1) / classes;
      const th = 2 * Math.PI * rng.uniform();
      px = r * Math.cos(th);
      py = r * Math.sin(th);
    } else if (kind === 'spirals') {
      const s = rng.uniform();
      const r = 0.1 + 0.9 * s;
      const th = (2 * Math.PI * c) / classes + 2 * Math.PI * SPIRAL_TURNS * s;
      px = r * Math.cos(th);
      py = r * Math.sin(th);
    } else {
      const th = (2 * Math.PI * c) / classes;
      px = Math.cos(th);
      py = Math.sin(th);
    }
    x[2 * i] = px + noise * rng.normal();
    x[2 * i + 1] = py + noise * rng.normal();
  }
  return { x, y };
}

/**
 * A seeded `dim`×2 matrix with orthonormal columns (row-major), from Gram–Schmidt on a Gaussian matrix.
 * Mapping v ↦ Q v embeds the plane isometrically in `dim` dimensions. For `dim = 2` it is the identity,
 * so 2-D data stays as drawn.
 */
export function orthonormalEmbedding(dim: number, rng: Rng): Float64Array {
  const q = new Float64Array(dim * 2);
  if (dim === 2) {
    q[0] = 1;
    q[3] = 1;
    return q;
  }
  for (;;) {
    const a = new Float64Array(dim);
    const b = new Float64Array(dim);
    for (let i = 0; i < dim; i++) a[i] = rng.normal();
    for (let i = 0; i < dim; i++) b[i] = rng.normal();
    let na = 0;
    for (let i = 0; i < dim; i++) na += a[i]! * a[i]!;
    na = Math.sqrt(na);
    if (na < 1e-8) continue;
    for (let i = 0; i < dim; i++) a[i]! /= na;
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += a[i]! * b[i]!;
    for (let i = 0; i < dim; i++) b[i]! -= dot * a[i]!;
    let nb = 0;
    for (let i = 0; i < dim; i++) nb += b[i]! * b[i]!;
    nb = Math.sqrt(nb);
    if (nb < 1e-8) continue;
    for (let i = 0; i < dim; i++) {
      q[2 * i] = a[i]!;
      q[2 * i + 1] = b[i]! / nb;
    }
    return q;
  }
}

/** Apply a `dim`×2 embedding to float64 [count, 2] points; float32 [count, dim]. */
export function embed(points: Float64Array, count: number, q: Float64Array, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const u = points[2 * i]!;
    const v = points[2 * i + 1]!;
    for (let d = 0; d < dim; d++) out[i * dim + d] = q[2 * d]! * u + q[2 * d + 1]! * v;
  }
  return out;
}

/**
 * Noisy sinusoids classified by frequency, [count, steps, features]. A sample of class c has frequency
 * f = c + 1 ± {@link SEQUENCE_FREQ_JITTER} cycles per window, amplitude a ~ U(0.8, 1.2) and an independent
 * phase φ_j ~ U(0, 2π) per feature: x[t, j] = a·sin(2π f t / steps + φ_j) + noise·N(0, 1).
 */
export function generateSequence(count: number, classes: number, steps: number, features: number, noise: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(count * steps * features);
  const y = new Int32Array(count);
  const phases = new Float64Array(features);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y[i] = c;
    const f = c + 1 + rng.range(-SEQUENCE_FREQ_JITTER, SEQUENCE_FREQ_JITTER);
    const a = rng.range(0.8, 1.2);
    for (let j = 0; j < features; j++) phases[j] = 2 * Math.PI * rng.uniform();
    const base = i * steps * features;
    for (let t = 0; t < steps; t++) {
      const w = (2 * Math.PI * f * t) / steps;
      for (let j = 0; j < features; j++) x[base + t * features + j] = a * Math.sin(w + phases[j]!) + noise * rng.normal();
    }
  }
  return { x, y };
}

/** Generate one split of a dataset from its resolved options and its stream. */
export function generateSplit(opts: SyntheticOptions, count: number, rng: Rng, embedding: Float64Array | undefined): SplitData {
  if (opts.kind === 'sequence') {
    const { x, y } = generateSequence(count, opts.numClasses, opts.steps, opts.features, opts.noise, rng);
    return { x, y, count };
  }
  const { x, y } = generatePlanar(opts.kind, count, opts.numClasses, opts.noise, rng);
  return { x: embed(x, count, embedding!, opts.dim), y, count };
}

/**
 * Seeded streams and the random input signals of systems with inputs.
 */
import { createRng, hashSeed, type Rng } from '@odemor/core';

/**
 * A 32-bit stream seed from a user seed (any safe integer, also negative or above 2³²) and a tag
 * (`'train'`, `'noise:test'`, …): different tags give unrelated streams.
 */
export function deriveSeed(seed: number, tag: string): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  let h = 0x811c9dc5; // FNV-1a over the tag
  for (let i = 0; i < tag.length; i++) {
    h ^= tag.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return hashSeed((hashSeed(h ^ lo) ^ hi) | 0) >>> 0;
}

/** A seeded stream for `tag` (see {@link deriveSeed}). */
export function streamFor(seed: number, tag: string): Rng {
  return createRng(deriveSeed(seed, tag));
}

/** How the random inputs of a system with inputs are drawn. */
export const INPUT_KINDS = ['smooth', 'piecewise', 'zero'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** Number of sinusoids per channel of a `smooth` input. */
export const SMOOTH_TERMS = 3;
/** Frequency range of the sinusoids of a `smooth` input, in cycles per time unit (Hz for the vehicle). */
export const SMOOTH_FREQUENCY: readonly [number, number] = [0.1, 1];
/** Range of the hold durations of a `piecewise` input, in time units (seconds for the vehicle). */
export const PIECEWISE_HOLD: readonly [number, number] = [0.5, 2];

/**
 * One random input signal, row-major [steps, channels], sampled at i·dt (i = 0 … steps − 1), every value
 * rounded to float32 (so the data a model gets in `Batch.u` is exactly what the integration used).
 * Channel c stays within [−amplitude[c], amplitude[c]]:
 *
 * - `smooth`: u_c(t) = amplitude_c · Σ_k a_k sin(2π f_k t + φ_k) / Σ_k a_k over {@link SMOOTH_TERMS} terms,
 *   a_k ~ U(0, 1), f_k ~ U({@link SMOOTH_FREQUENCY}), φ_k ~ U(0, 2π);
 * - `piecewise`: levels ~ U(−amplitude_c, amplitude_c), each held for a duration ~ U({@link PIECEWISE_HOLD})
 *   (at least one sample), independently per channel;
 * - `zero`: all zeros (draws nothing).
 */
export function randomInput(kind: InputKind, steps: number, dt: number, amplitude: readonly number[], rng: Rng): Float64Array {
  const channels = amplitude.length;
  const out = new Float64Array(steps * channels);
  if (kind === 'zero') return out;
  for (let c = 0; c < channels; c++) {
    const amp = amplitude[c]!;
    if (kind === 'smooth') {
      const a: number[] = [];
      const f: number[] = [];
      const phi: number[] = [];
      for (let k = 0; k < SMOOTH_TERMS; k++) {
        a.push(rng.next());
        f.push(SMOOTH_FREQUENCY[0] + (SMOOTH_FREQUENCY[1] - SMOOTH_FREQUENCY[0]) * rng.next());
        phi.push(2 * Math.PI * rng.next());
      }
      const sum = a.reduce((s, v) => s + v, 0) || 1;
      for (let i = 0; i < steps; i++) {
        const t = i * dt;
        let v = 0;
        for (let k = 0; k < SMOOTH_TERMS; k++) v += a[k]! * Math.sin(2 * Math.PI * f[k]! * t + phi[k]!);
        out[i * channels + c] = Math.fround((amp * v) / sum);
      }
    } else {
      let i = 0;
      while (i < steps) {
        const level = Math.fround(amp * (2 * rng.next() - 1));
        const hold = PIECEWISE_HOLD[0] + (PIECEWISE_HOLD[1] - PIECEWISE_HOLD[0]) * rng.next();
        const n = Math.max(1, Math.round(hold / dt));
        for (let j = 0; j < n && i < steps; j++, i++) out[i * channels + c] = level;
      }
    }
  }
  return out;
}

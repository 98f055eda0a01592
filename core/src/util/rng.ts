/**
 * Small, fast, seeded pseudo-random numbers (mulberry32 + Box–Muller). Deterministic across runs and
 * platforms for a given seed: only 32-bit integer arithmetic and IEEE double operations are used.
 */

/** A seeded random stream. */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** standard normal N(0, 1) */
  normal(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** Fisher–Yates shuffle in place; returns `array` */
  shuffle<T>(array: T[]): T[];
  /** a Float32Array of `size` values drawn from N(0, std²) */
  normalArray(size: number, std?: number): Float32Array;
}

/** The mulberry32 generator: returns a function yielding uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Create a seeded random stream (mulberry32 uniforms, Box–Muller normals). */
export function createRng(seed: number): Rng {
  const uniform = mulberry32(hashSeed(seed));
  let spare: number | undefined;
  const rng: Rng = {
    next: uniform,
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u <= 1e-300) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number) {
      return Math.floor(uniform() * n);
    },
    shuffle<T>(array: T[]): T[] {
      for (let i = array.length - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        const tmp = array[i]!;
        array[i] = array[j]!;
        array[j] = tmp;
      }
      return array;
    },
    normalArray(size: number, std = 1) {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
      return out;
    },
  };
  return rng;
}

/** Mix an arbitrary (possibly non-integer or negative) seed into a well-spread 32-bit state. */
export function hashSeed(seed: number): number {
  let h = Math.floor(Number.isFinite(seed) ? seed : 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A small, fast, seedable pseudo-random generator (sfc32, seeded through splitmix32) with pure 32-bit
 * integer state, so the same seed gives the same stream on every platform.
 */

/** splitmix32 step: a good 32-bit mixer, used to expand seeds. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * Derive an independent 32-bit stream seed from a user seed and a stream tag (e.g. `'train'`,
 * `'test'`, `'embed'`). Different tags give unrelated streams; the full range of a safe-integer seed
 * (including negative seeds) is used.
 */
export function deriveSeed(seed: number, tag: string): number {
  // split the (safe integer) seed into two 32-bit halves so large seeds do not collide
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  // FNV-1a over the tag
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) {
    h ^= tag.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let s = h ^ 0x5bd1e995;
  let out: number;
  [s, out] = splitmix32(s ^ lo);
  [s, out] = splitmix32(s ^ out ^ hi);
  [, out] = splitmix32(s ^ out);
  return out >>> 0;
}

/** Seeded generator of uniform and normal variates. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** @param seed any 32-bit integer; use {@link deriveSeed} to make one from a user seed and a tag */
  constructor(seed: number) {
    let s = seed | 0;
    let o: number;
    [s, o] = splitmix32(s);
    this.a = o | 0;
    [s, o] = splitmix32(s);
    this.b = o | 0;
    [s, o] = splitmix32(s);
    this.c = o | 0;
    [, o] = splitmix32(s);
    this.d = o | 0;
    // discard the first outputs, as recommended for sfc32
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Next uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in the open interval (0, 1) (never exactly 0, so `log` is safe). */
  uniform(): number {
    return (this.uint32() + 0.5) / 0x1_0000_0000;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal variate (Box–Muller, the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). The same seed gives the same order. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

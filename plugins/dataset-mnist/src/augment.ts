import type { Rng } from '@odemor/core';

/**
 * Random rotation (±`rotate` degrees) and translation (±`translate`·size pixels) of a square
 * single-channel image about its centre, with bilinear sampling and zero fill. `src` and `dst` are
 * `size×size` row-major; they must not overlap.
 */
export function affineAugment(src: Float32Array, dst: Float32Array, size: number, rng: Rng, rotate: number, translate: number): void {
  const angle = ((rng.next() * 2 - 1) * rotate * Math.PI) / 180;
  const tx = (rng.next() * 2 - 1) * translate * size;
  const ty = (rng.next() * 2 - 1) * translate * size;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // inverse map: output pixel (x, y) samples the source at R⁻¹((x, y) − c − t) + c
      const dx = x - c - tx;
      const dy = y - c - ty;
      const sx = cos * dx + sin * dy + c;
      const sy = -sin * dx + cos * dy + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const at = (xx: number, yy: number) => (xx >= 0 && yy >= 0 && xx < size && yy < size ? src[yy * size + xx]! : 0);
      dst[y * size + x] = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
}

/** Average-pool a square image by an integer factor. */
export function downsample(src: Float32Array, size: number, factor: number): Float32Array {
  if (factor === 1) return src;
  const out = size / factor;
  const dst = new Float32Array(out * out);
  const norm = 1 / (factor * factor);
  for (let y = 0; y < out; y++)
    for (let x = 0; x < out; x++) {
      let s = 0;
      for (let j = 0; j < factor; j++) for (let i = 0; i < factor; i++) s += src[(y * factor + j) * size + x * factor + i]!;
      dst[y * out + x] = s * norm;
    }
  return dst;
}

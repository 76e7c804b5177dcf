/**
 * Seeded value noise for textures. Pure functions of (x, y, seed): the same pixel gets the same value whatever
 * order it is painted in, so a scene painted twice (two dates of one place) keeps its textures in register.
 * Seeds are 32-bit integers drawn from the scene's Rng.
 */

/** Integer hash of a lattice point to [0, 1). */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Hash of one integer to [0, 1) (per-object variations: a field's crop stage, a car's paint). */
export function hash1(i: number, seed: number): number {
  return hash2(i, 0x5bd1e995, seed);
}

const smooth = (t: number): number => t * t * (3 - 2 * t);

/** Smooth value noise in [-1, 1], lattice spacing 1. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = smooth(x - ix);
  const fy = smooth(y - iy);
  const a = hash2(ix, iy, seed);
  const b = hash2(ix + 1, iy, seed);
  const c = hash2(ix, iy + 1, seed);
  const d = hash2(ix + 1, iy + 1, seed);
  const top = a + (b - a) * fx;
  const bot = c + (d - c) * fx;
  return 2 * (top + (bot - top) * fy) - 1;
}

/** Fractal sum of `octaves` value-noise layers, the first with lattice spacing `cell` pixels; about [-1, 1]. */
export function fbm(x: number, y: number, cell: number, octaves: number, seed: number): number {
  let sum = 0;
  let amp = 1;
  let norm = 0;
  let f = 1 / cell;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, seed + o * 1013);
    norm += amp;
    amp *= 0.5;
    f *= 2;
  }
  return sum / norm;
}

/**
 * A width x height field of fbm noise (row-major), computed lattice-first so a large canvas costs a few
 * operations per pixel and octave.
 */
export function noiseField(width: number, height: number, cell: number, octaves: number, seed: number): Float32Array {
  const out = new Float32Array(width * height);
  let amp = 1;
  let norm = 0;
  let c = Math.max(cell, 0.5);
  for (let o = 0; o < octaves; o++) {
    const s = seed + o * 1013;
    const gw = Math.ceil(width / c) + 2;
    const gh = Math.ceil(height / c) + 2;
    const lattice = new Float32Array(gw * gh);
    for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) lattice[j * gw + i] = 2 * hash2(i, j, s) - 1;
    const inv = 1 / c;
    const fxs = new Float32Array(width);
    const ixs = new Int32Array(width);
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) * inv;
      const iu = Math.floor(u);
      ixs[x] = iu;
      fxs[x] = smooth(u - iu);
    }
    for (let y = 0; y < height; y++) {
      const v = (y + 0.5) * inv;
      const iv = Math.floor(v);
      const fy = smooth(v - iv);
      const r0 = iv * gw;
      const r1 = r0 + gw;
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const iu = ixs[x]!;
        const fx = fxs[x]!;
        const a = lattice[r0 + iu]!;
        const b = lattice[r0 + iu + 1]!;
        const cc = lattice[r1 + iu]!;
        const d = lattice[r1 + iu + 1]!;
        const top = a + (b - a) * fx;
        const bot = cc + (d - cc) * fx;
        out[row + x] = out[row + x]! + amp * (top + (bot - top) * fy);
      }
    }
    norm += amp;
    amp *= 0.5;
    c /= 2;
    if (c < 0.5) break;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}

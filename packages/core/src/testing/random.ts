import { Rng } from '../rng/rng.js';

/** Seeded uniform values in [lo, hi), for test tensors. */
export function randomArray(n: number, seed = 0, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return rng.fill(n, (r) => r.uniform(lo, hi));
}

/**
 * The toolkit's seeded random source. Every random choice (initialisation, augmentation, masks, shuffling,
 * dropout fed to compiled graphs) draws from an Rng, so a run is reproducible and its state can be saved in a
 * checkpoint and restored for an exact resume. Algorithm: xoshiro128** seeded through splitmix32.
 */
export type RngState = [number, number, number, number];

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | undefined;

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.s.set(seed);
    } else {
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
      if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
    }
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi) (hi exclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** Standard normal (Box-Muller, the spare value cached). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** A Float32Array of n draws from `draw` (default uniform [0,1)). */
  fill(n: number, draw: (r: Rng) => number = (r) => r.next()): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = draw(this);
    return out;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** An independent generator derived from this one (advances this one by 4 draws). */
  fork(): Rng {
    return new Rng([this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32() | 1]);
  }

  /** The full state, for checkpoints. The cached normal spare is dropped, so restore before drawing normals. */
  getState(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  setState(state: RngState): void {
    this.s.set(state);
    this.spareNormal = undefined;
  }

  /**
   * Copies the four state words into `dst` at `offset`, for code that runs the same xoshiro128** stream elsewhere
   * (the wasm noise kernel) and hands the advanced state back with `loadWords`. Unlike getState/setState, the pair
   * keeps the cached normal spare: to the caller it is as if the words had been drawn with nextU32.
   */
  storeWords(dst: Uint32Array, offset = 0): void {
    dst.set(this.s, offset);
  }

  /** Replaces the four state words with `src[offset .. offset + 4)` (see storeWords); the normal spare is kept. */
  loadWords(src: Uint32Array, offset = 0): void {
    this.s.set(src.subarray(offset, offset + 4));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

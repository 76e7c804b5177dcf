/**
 * Additive Gaussian noise as CMID's GaussNoise (albumentations 1.2.1 GaussNoise(var_limit (10, 50)), p = 0.6,
 * cmid.md §6.2 step 5): variance ~ U(10, 50) on the 0..255 scale, sigma = sqrt(variance), an independent N(0, sigma)
 * draw per pixel and band, added in float, clipped to [0, 255] and cast back to uint8 by TRUNCATION. Float images
 * get the noise added without clipping. Any band count.
 *
 * The 50 000 to 150 000 normal draws per image dominate the cost of the CMID pipeline, so they come from a
 * ziggurat (Marsaglia and Tsang 2000, 128 layers) fed by the Rng's 32-bit outputs instead of Box-Muller: the layer
 * index uses the low 7 bits and the magnitude the other 25 bits of the same word (independent bits, avoiding the
 * correlation Doornik 2005 found in the original). For uint8 images the fast path (about 97 % of draws) and the
 * clip/truncate run in wasm/augment.c in float32; the words still come from the Rng, one per value, in order
 * (the kernel runs the Rng's xoshiro128** on its state and hands the advanced state back), and the slow path
 * follows in float64, in wasm where its own exp/log decide with certainty, else here (the same bits either way).
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { checkImage, type Image, type PixelData } from './image.js';
import { wasmNoiseU8 } from './wasm/augment-wasm.js';

const ZIG_R = 3.442619855899;
const M1 = 16777216; // 2^24: magnitudes are signed 25-bit integers
const KN = new Float64Array(128);
const WN = new Float64Array(128);
const FN = new Float64Array(128);
// float32 (KN[i], WN[i]) pairs for the wasm fast path (KN entries are integers < 2^24, exact in float32), and
// KN, WN, FN as float64 for its slow path
let KW32: Float32Array | undefined;
let TAB: Float64Array | undefined;
{
  const vn = 9.91256303526217e-3;
  let dn = ZIG_R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * M1);
  KN[1] = 0;
  WN[0] = q / M1;
  WN[127] = dn / M1;
  FN[0] = 1;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * M1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / M1;
  }
}

function uniformOpen(rng: Rng): number {
  return 1 - rng.next(); // (0, 1]: safe for log
}

/** Slow path of the ziggurat (wedges and the tail). */
function zigguratSlow(rng: Rng, hz: number, iz: number): number {
  for (;;) {
    const x = hz * WN[iz]!;
    if (iz === 0) {
      let t: number, y: number;
      do {
        t = -Math.log(uniformOpen(rng)) / ZIG_R;
        y = -Math.log(uniformOpen(rng));
      } while (y + y < t * t);
      return hz > 0 ? ZIG_R + t : -ZIG_R - t;
    }
    if (FN[iz]! + rng.next() * (FN[iz - 1]! - FN[iz]!) < Math.exp(-0.5 * x * x)) return x;
    const u = rng.nextU32();
    iz = u & 127;
    hz = (u | 0) >> 7;
    if (Math.abs(hz) < KN[iz]!) return hz * WN[iz]!;
  }
}

/** Fills `out` with independent standard normal draws. */
export function fillStandardNormal(rng: Rng, out: Float32Array | Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    const u = rng.nextU32();
    const iz = u & 127;
    const hz = (u | 0) >> 7;
    out[i] = Math.abs(hz) < KN[iz]! ? hz * WN[iz]! : zigguratSlow(rng, hz, iz);
  }
}

/** One standard normal draw (same generator as fillStandardNormal). */
export function standardNormal(rng: Rng): number {
  const u = rng.nextU32();
  const iz = u & 127;
  const hz = (u | 0) >> 7;
  return Math.abs(hz) < KN[iz]! ? hz * WN[iz]! : zigguratSlow(rng, hz, iz);
}

/**
 * Adds N(mean, sigma) noise per value; uint8 results are clipped to [0, 255] and truncated. Writes into `out` when
 * given (same shape and array type; may be `img`).
 */
export function addGaussNoise<T extends PixelData>(img: Image<T>, rng: Rng, sigma: number, mean = 0, out?: Image<T>): Image<T> {
  checkImage(img, 'addGaussNoise');
  if (!(sigma >= 0)) throw new CmidError('input', `addGaussNoise: sigma must be >= 0, got ${sigma}.`);
  const src = img.data;
  if (out !== undefined && (out.data.length !== src.length || out.data.constructor !== src.constructor)) {
    throw new CmidError('input', `addGaussNoise: out must match the input (${src.length} ${src.constructor.name} values).`);
  }
  if (src instanceof Uint8Array) {
    const dst = (out?.data as Uint8Array | undefined) ?? new Uint8Array(src.length);
    noiseU8(src, rng, sigma, mean, dst);
    return { data: dst as T, height: img.height, width: img.width, channels: img.channels };
  }
  const dst = (out?.data as Float32Array | undefined) ?? new Float32Array(src.length);
  noiseF32(src as Float32Array, rng, sigma, mean, dst);
  return { data: dst as T, height: img.height, width: img.width, channels: img.channels };
}

/**
 * One Rng word per value (drawn in order, by the wasm kernel from the Rng's state, which it advances); the ziggurat
 * fast path and the clip/truncate run in wasm (float32); the ~3 % of values that need the slow path follow in index
 * order with further draws, in float64: in wasm as far as its exp/log decide with certainty (nearly always all),
 * the rest here (zigguratSlow).
 */
function noiseU8(src: Uint8Array, rng: Rng, sigma: number, mean: number, dst: Uint8Array): void {
  if (KW32 === undefined || TAB === undefined) {
    KW32 = new Float32Array(256);
    for (let i = 0; i < 128; i++) {
      KW32[2 * i] = KN[i]!;
      KW32[2 * i + 1] = WN[i]!;
    }
    TAB = new Float64Array(384);
    TAB.set(KN, 0);
    TAB.set(WN, 128);
    TAB.set(FN, 256);
  }
  const { slow, words } = wasmNoiseU8(src, rng, sigma, mean, KW32, TAB, dst);
  for (let j = 0; j < slow.length; j++) {
    const i = slow[j]!;
    const u = words[j]!;
    const z = zigguratSlow(rng, (u | 0) >> 7, u & 127);
    const v = dst[i]! + mean + sigma * z; // dst[i] still holds the source value
    dst[i] = v <= 0 ? 0 : v >= 255 ? 255 : v; // Uint8Array stores by truncation
  }
}

function noiseF32(src: Float32Array, rng: Rng, sigma: number, mean: number, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i]! + mean + sigma * standardNormal(rng);
}

export interface GaussNoiseOptions {
  /** Probability. Default 1 (CMID uses 0.6). */
  p?: number;
  /** Variance range on the 0..255 scale. Default [10, 50]. */
  varLimit?: readonly [number, number];
  /** Noise mean. Default 0. */
  mean?: number;
}

/** With probability p, draws sigma = sqrt(U(varLimit)) and adds the noise; returns sigma (undefined if skipped). */
export function gaussNoise<T extends PixelData>(img: Image<T>, rng: Rng, options: GaussNoiseOptions = {}): { image: Image<T>; sigma: number | undefined } {
  const p = options.p ?? 1;
  if (!(rng.next() < p)) return { image: img, sigma: undefined };
  const [lo, hi] = options.varLimit ?? [10, 50];
  if (!(lo >= 0 && lo <= hi)) throw new CmidError('config', `gaussNoise: varLimit [${lo}, ${hi}] needs 0 <= lo <= hi.`);
  const sigma = Math.sqrt(rng.uniform(lo, hi));
  return { image: addGaussNoise(img, rng, sigma, options.mean ?? 0), sigma };
}

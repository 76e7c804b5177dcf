/**
 * Separable Gaussian blur, any band count, uint8 or float32, border "reflect 101" (gfedcb|abcdefgh|gfedcba: OpenCV's
 * default, torch's 'reflect' padding). Kernel: w_i proportional to exp(-(i - (k-1)/2)^2 / (2 sigma^2)), normalised
 * (OpenCV getGaussianKernel for sigma > 0, torchvision _get_gaussian_kernel1d). uint8 output is rounded half to
 * even and clamped, as torchvision's gaussian_blur on uint8 tensors; uint8 images are blurred by the float32 SIMD
 * kernel of wasm/augment.c, float32 images by the typed-array loops below.
 *
 * Two parameter rules:
 * - CMID (albumentations 1.2.1 GaussianBlur(blur_limit (3, 7), sigma_limit (0.1, 2.0)), cmid.md §6.2 step 4):
 *   k = randrange(3, 8), even k bumped to k + 1 (so 3 w.p. 1/5, 5 and 7 w.p. 2/5 each), sigma ~ U(0.1, 2.0).
 * - torchvision / BYOL: fixed kernel size (BYOL: 23 at 224 px, about 10 % of the side) and sigma ~ U(0.1, 2.0).
 * Deliberate difference: OpenCV blurs uint8 with 8-bit fixed-point kernels (bit-exact mode), which can differ from
 * this float result by 1 level at some pixels. MoCo-v2, SeCo and SwAV blur with PIL's GaussianBlur(radius = sigma),
 * an iterated box-filter approximation; the presets use this true Gaussian instead (see ssl-views.ts).
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { checkImage, type Image, type PixelData } from './image.js';
import { wasmBlurU8 } from './wasm/augment-wasm.js';

export interface GaussianBlurParams {
  kernelSize: number;
  sigma: number;
}

/** Normalised 1-D Gaussian kernel of odd length `kernelSize`. */
export function gaussianKernel1d(kernelSize: number, sigma: number): Float64Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new CmidError('input', `gaussianKernel1d: kernelSize must be a positive odd integer, got ${kernelSize}.`);
  }
  if (!(sigma > 0)) throw new CmidError('input', `gaussianKernel1d: sigma must be > 0, got ${sigma}.`);
  const half = (kernelSize - 1) / 2;
  const k = new Float64Array(kernelSize);
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) {
    const x = (i - half) / sigma;
    k[i] = Math.exp(-0.5 * x * x);
    sum += k[i]!;
  }
  for (let i = 0; i < kernelSize; i++) k[i]! /= sum;
  return k;
}

/** Reflect-101 index of i in [0, n). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = Math.abs(i) % period;
  return i >= n ? period - i : i;
}

let scratchTmp = new Float32Array(0);
let scratchPad = new Float32Array(0);

/**
 * Blurs `img`; returns a new image, or writes into `out` (same shape and array type; may be `img` itself).
 */
export function gaussianBlur<T extends PixelData>(img: Image<T>, params: GaussianBlurParams, out?: Image<T>): Image<T> {
  checkImage(img, 'gaussianBlur');
  const { kernelSize: K, sigma } = params;
  const kern = gaussianKernel1d(K, sigma);
  const r = (K - 1) / 2;
  const { height: H, width: W, channels: C } = img;
  const rowLen = W * C;
  const n = H * rowLen;
  if (out !== undefined) {
    checkImage(out, 'gaussianBlur (out)');
    if (out.height !== H || out.width !== W || out.channels !== C || out.data.constructor !== img.data.constructor) {
      throw new CmidError('input', `gaussianBlur: out must match the input (${H}x${W}x${C}, ${img.data.constructor.name}).`);
    }
  }
  const xIdx = new Int32Array(W + 2 * r);
  for (let i = 0; i < W + 2 * r; i++) xIdx[i] = reflect101(i - r, W) * C;
  if (img.data instanceof Uint8Array) {
    // uint8: the wasm SIMD kernel (wasm/augment.c), float32 arithmetic, rounded half to even
    const yRows = new Int32Array(H + 2 * r);
    for (let i = 0; i < H + 2 * r; i++) yRows[i] = reflect101(i - r, H);
    const data = (out?.data as Uint8Array | undefined) ?? new Uint8Array(n);
    wasmBlurU8(img.data, H, W, C, Float32Array.from(kern.subarray(0, r + 1)), r, xIdx, yRows, data);
    return { data: data as T, height: H, width: W, channels: C };
  }
  if (scratchTmp.length < n) scratchTmp = new Float32Array(n);
  if (scratchPad.length < (W + 2 * r) * C) scratchPad = new Float32Array((W + 2 * r) * C);
  const tmp = scratchTmp;
  const pad = scratchPad;
  const yIdx = new Int32Array(H + 2 * r);
  for (let i = 0; i < H + 2 * r; i++) yIdx[i] = reflect101(i - r, H) * rowLen;
  // Horizontal pass (into float32 scratch), one reflect-padded row at a time; the input is fully read before the
  // vertical pass writes, so `out` may alias `img`.
  const src = img.data as Float32Array;
  for (let y = 0; y < H; y++) {
    const rb = y * rowLen;
    padRowF32(src, rb, xIdx, C, pad);
    convolveRow(pad, kern, r, C, rowLen, tmp, rb);
  }
  const data = (out?.data as Float32Array | undefined) ?? new Float32Array(n);
  verticalF32(tmp, kern, r, H, rowLen, yIdx, data);
  return { data: data as T, height: H, width: W, channels: C };
}

function padRowF32(src: Float32Array, rb: number, xIdx: Int32Array, C: number, pad: Float32Array): void {
  let d = 0;
  for (let i = 0; i < xIdx.length; i++) {
    const s = rb + xIdx[i]!;
    for (let c = 0; c < C; c++) pad[d++] = src[s + c]!;
  }
}

/** out[i] = wc * p[i + rC] + sum_{k<r} w_k (p[i + kC] + p[i + (2r-k)C]) for i < rowLen (symmetric kernel). */
function convolveRow(p: Float32Array, kern: Float64Array, r: number, C: number, rowLen: number, dst: Float32Array, ob: number): void {
  const wc = kern[r]!;
  if (r === 1) {
    const w0 = kern[0]!;
    const c1 = C, c2 = 2 * C;
    for (let i = 0; i < rowLen; i++) dst[ob + i] = wc * p[i + c1]! + w0 * (p[i]! + p[i + c2]!);
  } else if (r === 2) {
    const w0 = kern[0]!, w1 = kern[1]!;
    const c1 = C, c2 = 2 * C, c3 = 3 * C, c4 = 4 * C;
    for (let i = 0; i < rowLen; i++) dst[ob + i] = wc * p[i + c2]! + w0 * (p[i]! + p[i + c4]!) + w1 * (p[i + c1]! + p[i + c3]!);
  } else if (r === 3) {
    const w0 = kern[0]!, w1 = kern[1]!, w2 = kern[2]!;
    const c1 = C, c2 = 2 * C, c3 = 3 * C, c4 = 4 * C, c5 = 5 * C, c6 = 6 * C;
    for (let i = 0; i < rowLen; i++) {
      dst[ob + i] = wc * p[i + c3]! + w0 * (p[i]! + p[i + c6]!) + w1 * (p[i + c1]! + p[i + c5]!) + w2 * (p[i + c2]! + p[i + c4]!);
    }
  } else {
    for (let i = 0; i < rowLen; i++) {
      let s = wc * p[i + r * C]!;
      for (let k = 0; k < r; k++) s += kern[k]! * (p[i + k * C]! + p[i + (2 * r - k) * C]!);
      dst[ob + i] = s;
    }
  }
}

function verticalF32(tmp: Float32Array, kern: Float64Array, r: number, H: number, rowLen: number, yIdx: Int32Array, dst: Float32Array): void {
  const wc = kern[r]!;
  for (let y = 0; y < H; y++) {
    const ob = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = wc * tmp[yIdx[y + r]! + i]!;
      for (let k = 0; k < r; k++) s += kern[k]! * (tmp[yIdx[y + k]! + i]! + tmp[yIdx[y + 2 * r - k]! + i]!);
      dst[ob + i] = s;
    }
  }
}

/** CMID's blur parameters (albumentations GaussianBlur with blur_limit (3, 7), sigma_limit (0.1, 2.0)). */
export function sampleCmidBlurParams(rng: Rng, blurLimit: readonly [number, number] = [3, 7], sigmaLimit: readonly [number, number] = [0.1, 2.0]): GaussianBlurParams {
  let k = rng.int(blurLimit[0], blurLimit[1] + 1);
  if (k % 2 !== 1) k = (k + 1) % (blurLimit[1] + 1);
  return { kernelSize: k, sigma: rng.uniform(sigmaLimit[0], sigmaLimit[1]) };
}

/** torchvision GaussianBlur(kernelSize, sigma range) parameters: only sigma is random. */
export function sampleTorchvisionBlurParams(rng: Rng, kernelSize: number, sigmaRange: readonly [number, number] = [0.1, 2.0]): GaussianBlurParams {
  return { kernelSize, sigma: rng.uniform(sigmaRange[0], sigmaRange[1]) };
}

export interface RandomGaussianBlurOptions {
  /** Probability of blurring. Default 1 (CMID applies it always). */
  p?: number;
  /**
   * 'cmid' (default: kernel 3/5/7 by albumentations' rule), a fixed odd kernel size (torchvision / BYOL: 23), or
   * 'auto' = 2 ceil(3 sigma) + 1, our stand-in for PIL's GaussianBlur(radius = sigma).
   */
  kernelSize?: 'cmid' | 'auto' | number;
  /** Default [0.1, 2.0]. */
  sigma?: readonly [number, number];
}

/** Blurs with probability p; returns the parameters used (undefined when not applied). */
export function randomGaussianBlur<T extends PixelData>(img: Image<T>, rng: Rng, options: RandomGaussianBlurOptions = {}): { image: Image<T>; params: GaussianBlurParams | undefined } {
  const p = options.p ?? 1;
  if (!(rng.next() < p)) return { image: img, params: undefined };
  const ks = options.kernelSize ?? 'cmid';
  let params: GaussianBlurParams;
  if (ks === 'cmid') params = sampleCmidBlurParams(rng, [3, 7], options.sigma);
  else if (ks === 'auto') {
    const sigma = sampleTorchvisionBlurParams(rng, 1, options.sigma).sigma;
    params = { kernelSize: 2 * Math.ceil(3 * sigma) + 1, sigma };
  } else params = sampleTorchvisionBlurParams(rng, ks, options.sigma);
  return { image: gaussianBlur(img, params), params };
}

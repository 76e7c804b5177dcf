/**
 * Colour jitter on uint8 RGB with torchvision's uint8 tensor semantics (torchvision.transforms.functional_tensor
 * adjust_brightness / adjust_contrast / adjust_saturation / adjust_hue), reproduced bit for bit (checked against
 * torchvision in the tests): every float32 operation of the reference is done in float32, either here with
 * Math.fround while building the 256-entry tables, or in the float32 kernels of wasm/augment.c (hue, saturation):
 * - brightness f: trunc(clamp(f * v, 0, 255));
 * - contrast f: trunc(clamp(f * v + (1 - f) * m, 0, 255)), m = float32 mean of the TRUNCATED gray image
 *   (0.2989 R + 0.587 G + 0.114 B);
 * - saturation f: trunc(clamp(f * v + (1 - f) * gray, 0, 255)) with the same truncated gray per pixel;
 * - hue shift h (fraction of the circle): RGB/255 -> HSV in float32, H <- (H + h) mod 1, HSV -> RGB, trunc(255 x).
 * `colorJitter` draws the four factors and a random order of the four operations, as torchvision's ColorJitter
 * (cmid.md §6.2 step 3: CMID's view 2 uses brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1 with p = 0.8).
 *
 * Deliberate difference from the reference: CMID calls albumentations 1.2.1's ColorJitter, whose uint8 path uses
 * OpenCV's rounded gray (not torchvision's truncated one) for contrast and saturation and OpenCV's 8-bit HSV (hue in
 * 180 steps) for hue. We follow torchvision (the semantics the spec names), so single pixel values can differ by a
 * few levels from albumentations; the distribution of augmentations is the same.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { requireRgb, requireUint8, type Image } from './image.js';
import { wasmColour, wasmGraySum, wasmLut } from './wasm/augment-wasm.js';

const f32 = Math.fround;

function checkRgbU8(img: Image, op: string): asserts img is Image<Uint8Array> {
  requireUint8(img, op);
  requireRgb(img, op);
}

function checkFactor(f: number, op: string): void {
  if (!(f >= 0) || !Number.isFinite(f)) throw new CmidError('input', `${op}: factor must be a finite number >= 0, got ${f}.`);
}

/** The output array: a new one, or `out`'s (same shape; may be the input's for these pointwise ops). */
function outData(img: Image<Uint8Array>, out: Image<Uint8Array> | undefined, op: string): Uint8Array {
  if (out === undefined) return new Uint8Array(img.data.length);
  if (!(out.data instanceof Uint8Array) || out.height !== img.height || out.width !== img.width || out.channels !== img.channels) {
    throw new CmidError('input', `${op}: out must be a uint8 image of the input's shape ${img.height}x${img.width}x${img.channels}.`);
  }
  return out.data;
}

/** trunc(clamp(x, 0, 255)) as torch's clamp(0, 255).to(uint8). */
function clampTrunc(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.trunc(x);
}

function applyLut(src: Uint8Array, lut: Uint8Array, dst: Uint8Array): void {
  wasmLut(src, lut, dst);
}

function wrap(img: Image<Uint8Array>, data: Uint8Array): Image<Uint8Array> {
  return { data, height: img.height, width: img.width, channels: img.channels };
}

/** Scales every value by `factor` (torchvision adjust_brightness on uint8). `out` may be `img`. */
export function adjustBrightness(img: Image<Uint8Array>, factor: number, out?: Image<Uint8Array>): Image<Uint8Array> {
  checkRgbU8(img, 'adjustBrightness');
  checkFactor(factor, 'adjustBrightness');
  const dst = outData(img, out, 'adjustBrightness');
  const F = f32(factor);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = clampTrunc(f32(F * v));
  applyLut(img.data, lut, dst);
  return wrap(img, dst);
}

/** Sum of torchvision's truncated gray values of an RGB uint8 array (exact). */
function graySum(src: Uint8Array): number {
  return wasmGraySum(src);
}

/** Blends with the mean of the gray image (torchvision adjust_contrast on uint8). `out` may be `img`. */
export function adjustContrast(img: Image<Uint8Array>, factor: number, out?: Image<Uint8Array>): Image<Uint8Array> {
  checkRgbU8(img, 'adjustContrast');
  checkFactor(factor, 'adjustContrast');
  const dst = outData(img, out, 'adjustContrast');
  // The sum of uint8 values is exact in float64; torch's float32 sum is exact too while it stays below 2^24
  // (images up to 256 x 256); the mean is one correctly rounded float32 division.
  const mean = f32(graySum(img.data) / (img.height * img.width));
  const F = f32(factor);
  const b = f32(f32(1 - factor) * mean);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = clampTrunc(f32(f32(F * v) + b));
  applyLut(img.data, lut, dst);
  return wrap(img, dst);
}

/** Blends every pixel with its gray value (torchvision adjust_saturation on uint8). `out` may be `img`. */
export function adjustSaturation(img: Image<Uint8Array>, factor: number, out?: Image<Uint8Array>): Image<Uint8Array> {
  checkRgbU8(img, 'adjustSaturation');
  checkFactor(factor, 'adjustSaturation');
  const dst = outData(img, out, 'adjustSaturation');
  // dst = trunc(clamp(f32(F v) + f32(G gray), 0, 255)) with F = f32(factor), G = f32(1 - factor): wasm kernel
  wasmColour('saturation', img.data, dst, f32(factor), f32(1 - factor));
  return wrap(img, dst);
}

/**
 * Rotates hue by `factor` (in [-0.5, 0.5], a fraction of the colour circle); torchvision adjust_hue on uint8:
 * RGB/255 -> HSV in float32 -> (h + factor) mod 1 -> RGB -> trunc(255 x), every float32 step rounded as torch does
 * (the float32 SIMD kernel in wasm/augment.c: the same IEEE operation per lane, compiled without FMA contraction).
 */
export function adjustHue(img: Image<Uint8Array>, factor: number, out?: Image<Uint8Array>): Image<Uint8Array> {
  checkRgbU8(img, 'adjustHue');
  if (!(factor >= -0.5 && factor <= 0.5)) throw new CmidError('input', `adjustHue: factor must lie in [-0.5, 0.5], got ${factor}.`);
  const dst = outData(img, out, 'adjustHue');
  wasmColour('hue', img.data, dst, f32(factor));
  return wrap(img, dst);
}

/** A jitter strength: a number j gives [max(0, 1 - j), 1 + j] (hue: [-j, j]); or an explicit [lo, hi]. 0 disables. */
export type JitterRange = number | readonly [number, number];

export interface ColorJitterOptions {
  brightness?: JitterRange;
  contrast?: JitterRange;
  saturation?: JitterRange;
  hue?: JitterRange;
  /** Probability of applying the jitter at all (albumentations' p / torchvision RandomApply). Default 1. */
  p?: number;
}

/** The drawn jitter: the order of the four operations (0 brightness, 1 contrast, 2 saturation, 3 hue) and factors. */
export interface ColorJitterParams {
  order: number[];
  brightness: number | undefined;
  contrast: number | undefined;
  saturation: number | undefined;
  hue: number | undefined;
}

/** CMID view 2's jitter (cmid.md §6.2 step 3). */
export const CMID_COLOR_JITTER: Readonly<Required<ColorJitterOptions>> = { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 };

function toRange(j: JitterRange | undefined, isHue: boolean, name: string): [number, number] | undefined {
  if (j === undefined) return undefined;
  let lo: number, hi: number;
  if (typeof j === 'number') {
    if (!(j >= 0)) throw new CmidError('config', `colorJitter: ${name} must be >= 0, got ${j}.`);
    if (isHue && j > 0.5) throw new CmidError('config', `colorJitter: hue must be <= 0.5, got ${j}.`);
    [lo, hi] = isHue ? [-j, j] : [Math.max(0, 1 - j), 1 + j];
  } else {
    [lo, hi] = j;
    if (!(lo <= hi) || (isHue ? lo < -0.5 || hi > 0.5 : lo < 0)) {
      throw new CmidError('config', `colorJitter: ${name} range [${lo}, ${hi}] is invalid (${isHue ? 'needs -0.5 <= lo <= hi <= 0.5' : 'needs 0 <= lo <= hi'}).`);
    }
  }
  const center = isHue ? 0 : 1;
  return lo === center && hi === center ? undefined : [lo, hi]; // torchvision turns a degenerate range off
}

/** Draws the order and the factors (torchvision ColorJitter.get_params). */
export function sampleColorJitterParams(rng: Rng, options: ColorJitterOptions): ColorJitterParams {
  const order = rng.shuffle([0, 1, 2, 3]);
  const draw = (r: [number, number] | undefined): number | undefined => (r === undefined ? undefined : rng.uniform(r[0], r[1]));
  return {
    order,
    brightness: draw(toRange(options.brightness, false, 'brightness')),
    contrast: draw(toRange(options.contrast, false, 'contrast')),
    saturation: draw(toRange(options.saturation, false, 'saturation')),
    hue: draw(toRange(options.hue, true, 'hue')),
  };
}

/** Applies drawn jitter parameters in their order; into `out` when given (may be `img`). */
export function applyColorJitter(img: Image<Uint8Array>, params: ColorJitterParams, out?: Image<Uint8Array>): Image<Uint8Array> {
  checkRgbU8(img, 'applyColorJitter');
  let cur = img;
  for (const op of params.order) {
    // After the first operation the intermediate is our own buffer, so the rest run in place.
    const target = out ?? (cur === img ? undefined : cur);
    if (op === 0 && params.brightness !== undefined) cur = adjustBrightness(cur, params.brightness, target);
    else if (op === 1 && params.contrast !== undefined) cur = adjustContrast(cur, params.contrast, target);
    else if (op === 2 && params.saturation !== undefined) cur = adjustSaturation(cur, params.saturation, target);
    else if (op === 3 && params.hue !== undefined) cur = adjustHue(cur, params.hue, target);
  }
  if (out !== undefined && cur === img && out !== img) out.data.set(img.data);
  return out ?? cur;
}

/**
 * With probability p, draws jitter parameters and applies them. `params` is undefined when not applied.
 *
 * ```ts
 * const { image, params } = colorJitter(img, rng, CMID_COLOR_JITTER);
 * // params = { order: [2, 0, 3, 1], brightness: 1.13, contrast: 0.71, saturation: 0.94, hue: -0.04 }
 * ```
 */
export function colorJitter(img: Image<Uint8Array>, rng: Rng, options: ColorJitterOptions): { image: Image<Uint8Array>; params: ColorJitterParams | undefined } {
  checkRgbU8(img, 'colorJitter');
  const p = options.p ?? 1;
  if (!(rng.next() < p)) return { image: img, params: undefined };
  const params = sampleColorJitterParams(rng, options);
  return { image: applyColorJitter(img, params), params };
}

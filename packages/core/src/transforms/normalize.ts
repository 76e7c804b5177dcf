/**
 * Per-band normalisation to float32: (value - maxPixelValue * mean) / (maxPixelValue * std), i.e. albumentations'
 * Normalize (CMID, cmid.md §6.2 step 8) and torchvision's ToTensor + Normalize (value / 255 - mean) / std. The
 * result is computed in float64 and rounded once to float32, so it is within 1 float32 ulp of either reference (each
 * rounds intermediate steps differently). uint8 input goes through a 256-entry table per band (looked up in
 * wasm/augment.c). Any band count.
 */
import { CmidError } from '../runtime/errors.js';
import { checkImage, type Image } from './image.js';
import { wasmNormalize } from './wasm/augment-wasm.js';

/** CMID's pretraining statistics (RGB, fractions of 255), cmid.md §6.2 step 8. */
export const CMID_MEAN = [0.33797, 0.3605, 0.3348] as const;
export const CMID_STD = [0.1359, 0.1352, 0.1407] as const;
/** ImageNet statistics (torchvision, timm, the SSL baselines). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface NormalizeOptions {
  /** Scale of mean and std. Default 255 (mean/std given as fractions, pixels 0..255); use 1 for raw statistics. */
  maxPixelValue?: number;
  /** If given (length = bands), receives the per-band float64 sums of the output (for a mean fill without a pass). */
  channelSums?: Float64Array;
}

/**
 * Returns a float32 HWC image.
 *
 * ```ts
 * normalizeImage(img, CMID_MEAN, CMID_STD) // pixel 128 in band 0 -> (128 - 86.18) / 34.65 = 1.2068
 * ```
 */
export function normalizeImage(img: Image, mean: readonly number[], std: readonly number[], options: NormalizeOptions = {}): Image<Float32Array> {
  checkImage(img, 'normalizeImage');
  const C = img.channels;
  if (mean.length !== C || std.length !== C) {
    throw new CmidError('input', `normalizeImage: image has ${C} bands but mean has ${mean.length} and std has ${std.length} values (one per band needed).`);
  }
  if (std.some((s) => !(s > 0))) throw new CmidError('input', `normalizeImage: every std must be > 0, got [${std.join(', ')}].`);
  const m = options.maxPixelValue ?? 255;
  if (options.channelSums !== undefined && options.channelSums.length !== C) {
    throw new CmidError('input', `normalizeImage: channelSums has ${options.channelSums.length} entries for ${C} bands.`);
  }
  const src = img.data;
  const out = new Float32Array(src.length);
  if (src instanceof Uint8Array) {
    const lut = new Float32Array(256 * C);
    for (let c = 0; c < C; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v - m * mean[c]!) / (m * std[c]!);
    wasmNormalize(src, C, lut, out, options.channelSums);
  } else {
    const a = new Float64Array(C), b = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      a[c] = 1 / (m * std[c]!);
      b[c] = m * mean[c]!;
    }
    for (let i = 0; i < src.length; i += C) for (let c = 0; c < C; c++) out[i + c] = (src[i + c]! - b[c]!) * a[c]!;
    if (options.channelSums) {
      const s = options.channelSums;
      s.fill(0);
      for (let i = 0; i < out.length; i += C) for (let c = 0; c < C; c++) s[c] += out[i + c]!;
    }
  }
  return { data: out, height: img.height, width: img.width, channels: C };
}

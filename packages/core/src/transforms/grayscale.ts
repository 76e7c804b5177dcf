/**
 * RGB -> gray, replicated to 3 bands (or kept as 1).
 *
 * - mode 'opencv' (default): what CMID's ToGray does (albumentations 1.2.1 -> cv2.cvtColor RGB2GRAY, cmid.md §6.2
 *   step 7): 0.299 R + 0.587 G + 0.114 B in OpenCV's 14-bit fixed point, rounded:
 *   (4899 R + 9617 G + 1868 B + 8192) >> 14.
 * - mode 'torchvision': torchvision's rgb_to_grayscale on uint8 tensors: float32 (0.2989 R + 0.587 G) + 0.114 B,
 *   TRUNCATED to uint8. This is also the gray image inside torchvision's adjust_contrast / adjust_saturation.
 * - mode 'pil': PIL's convert('L') (what RandomGrayscale does to PIL images in the torchvision-based baselines):
 *   (19595 R + 38470 G + 7471 B + 32768) >> 16.
 * Float images get the mode's weights without rounding.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { requireRgb, type Image, type PixelData } from './image.js';
import { wasmGray } from './wasm/augment-wasm.js';

export type GrayscaleMode = 'opencv' | 'torchvision' | 'pil';

export interface GrayscaleOptions {
  /** Default 'opencv'. */
  mode?: GrayscaleMode;
  /** 3 (default, the gray value in every band) or 1. */
  outputChannels?: 1 | 3;
  /** Write into this image (shape H x W x outputChannels, same array type; may be the input when 3 bands). */
  out?: Image;
}

const f32 = Math.fround;
const TV_R = new Float32Array(256), TV_G = new Float32Array(256), TV_B = new Float32Array(256);
for (let v = 0; v < 256; v++) {
  TV_R[v] = f32(f32(0.2989) * v);
  TV_G[v] = f32(f32(0.587) * v);
  TV_B[v] = f32(f32(0.114) * v);
}

/** torchvision's uint8 gray of one pixel: trunc(float32((0.2989 r + 0.587 g) + 0.114 b)). */
export function torchvisionGray(r: number, g: number, b: number): number {
  return Math.trunc(f32(f32(TV_R[r]! + TV_G[g]!) + TV_B[b]!));
}

/** torchvision's uint8 gray plane [H * W] of an RGB uint8 image. */
export function torchvisionGrayPlane(img: Image<Uint8Array>): Uint8Array {
  const src = img.data;
  const n = img.height * img.width;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) out[i] = torchvisionGray(src[p]!, src[p + 1]!, src[p + 2]!);
  return out;
}

/** PIL's uint8 convert('L') of one pixel. */
export function pilGray(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** OpenCV's uint8 RGB2GRAY of one pixel. */
export function opencvGray(r: number, g: number, b: number): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

export function toGrayscale<T extends PixelData>(img: Image<T>, options: GrayscaleOptions = {}): Image<T> {
  requireRgb(img, 'toGrayscale');
  const mode = options.mode ?? 'opencv';
  if (mode !== 'opencv' && mode !== 'torchvision' && mode !== 'pil') {
    throw new CmidError('config', `toGrayscale: mode must be 'opencv', 'torchvision' or 'pil', got "${String(mode)}".`);
  }
  const oc = options.outputChannels ?? 3;
  const n = img.height * img.width;
  const src = img.data;
  const given = options.out;
  if (given !== undefined && (given.data.length !== n * oc || given.data.constructor !== src.constructor)) {
    throw new CmidError('input', `toGrayscale: out must be a ${img.height}x${img.width}x${oc} image of the input's array type.`);
  }
  if (src instanceof Uint8Array) {
    const out = (given?.data as Uint8Array | undefined) ?? new Uint8Array(n * oc);
    // OpenCV and torchvision: wasm SIMD (wasm/augment.c, the same integer / float32 arithmetic as the functions
    // above); PIL's 16-bit weights do not fit the kernel's i16 lanes and stay here.
    if (mode === 'pil') grayFixed(src, n, oc, 19595, 38470, 7471, 16, out);
    else wasmGray(src, mode, oc, out);
    return { data: out as T, height: img.height, width: img.width, channels: oc };
  }
  const [wr, wg, wb] = mode === 'torchvision' ? [0.2989, 0.587, 0.114] : [0.299, 0.587, 0.114];
  const out = (given?.data as Float32Array | undefined) ?? new Float32Array(n * oc);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const g = wr * src[p]! + wg * src[p + 1]! + wb * src[p + 2]!;
    if (oc === 3) {
      out[p] = g;
      out[p + 1] = g;
      out[p + 2] = g;
    } else out[i] = g;
  }
  return { data: out as T, height: img.height, width: img.width, channels: oc };
}

/** (wr R + wg G + wb B + 2^(shift-1)) >> shift: OpenCV (14-bit) and PIL (16-bit) fixed point. */
function grayFixed(src: Uint8Array, n: number, oc: number, wr: number, wg: number, wb: number, shift: number, out: Uint8Array): void {
  const half = 1 << (shift - 1);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const g = (src[p]! * wr + src[p + 1]! * wg + src[p + 2]! * wb + half) >> shift;
    if (oc === 3) {
      out[p] = g;
      out[p + 1] = g;
      out[p + 2] = g;
    } else out[i] = g;
  }
}

/** Grayscale with probability p (torchvision RandomGrayscale / albumentations ToGray(p)); 3 bands out. */
export function randomGrayscale<T extends PixelData>(img: Image<T>, rng: Rng, p: number, options: Omit<GrayscaleOptions, 'outputChannels'> = {}): { image: Image<T>; applied: boolean } {
  requireRgb(img, 'randomGrayscale');
  const applied = rng.next() < p;
  return { image: applied ? toGrayscale(img, options) : img, applied };
}

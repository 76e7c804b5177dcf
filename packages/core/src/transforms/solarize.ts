/**
 * Solarize: values >= threshold become max - value (albumentations Solarize(threshold 128) as CMID uses it with
 * p = 0.2, cmid.md §6.2 step 6; torchvision's solarize is the same rule). Any band count; for float images pass the
 * threshold and max on their scale (e.g. 0.5 and 1).
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { checkImage, type Image, type PixelData } from './image.js';

/** Solarizes; writes into `out` when given (same shape and array type; may be `img`). */
export function solarize<T extends PixelData>(img: Image<T>, threshold = 128, max = 255, out?: Image<T>): Image<T> {
  checkImage(img, 'solarize');
  const src = img.data;
  if (out !== undefined && (out.data.length !== src.length || out.data.constructor !== src.constructor)) {
    throw new CmidError('input', `solarize: out must match the input (${src.length} ${src.constructor.name} values).`);
  }
  if (src instanceof Uint8Array) {
    const lut = new Uint8Array(256);
    for (let v = 0; v < 256; v++) lut[v] = v >= threshold ? max - v : v;
    const dst = (out?.data as Uint8Array | undefined) ?? new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) dst[i] = lut[src[i]!]!;
    return { data: dst as T, height: img.height, width: img.width, channels: img.channels };
  }
  const dst = (out?.data as Float32Array | undefined) ?? new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    dst[i] = v >= threshold ? max - v : v;
  }
  return { data: dst as T, height: img.height, width: img.width, channels: img.channels };
}

/** Solarizes with probability p. */
export function randomSolarize<T extends PixelData>(img: Image<T>, rng: Rng, p: number, threshold = 128, max = 255): { image: Image<T>; applied: boolean } {
  const applied = rng.next() < p;
  return { image: applied ? solarize(img, threshold, max) : img, applied };
}

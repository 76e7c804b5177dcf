/**
 * Plain and padded crops. `cropImage` copies a box that lies inside the image; `padCrop` allows a box that reaches
 * past the border and fills the outside with a constant (mmseg's Pad / the DOTA splitter's padding).
 */
import { CmidError } from '../runtime/errors.js';
import { checkImage, type Image, type PixelData } from './image.js';
import type { PixelBox } from './resize.js';

/** Copies `box` out of `img` (box must lie inside the image). */
export function cropImage<T extends PixelData>(img: Image<T>, box: PixelBox): Image<T> {
  checkImage(img, 'cropImage');
  const { top, left, height, width } = box;
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1 || top < 0 || left < 0 || top + height > img.height || left + width > img.width) {
    throw new CmidError(
      'input',
      `cropImage: box {top: ${top}, left: ${left}, height: ${height}, width: ${width}} must be integer and lie inside the ${img.height}x${img.width} image; use padCrop for boxes past the border.`,
    );
  }
  return padCrop(img, box, 0);
}

/**
 * Copies `box` (any integer box, possibly partly or wholly outside the image); pixels outside the image get `fill`
 * (one value for every band, or one per band).
 */
export function padCrop<T extends PixelData>(img: Image<T>, box: PixelBox, fill: number | readonly number[] = 0): Image<T> {
  checkImage(img, 'padCrop');
  const { top, left, height, width } = box;
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1) {
    throw new CmidError('input', `padCrop: box {top: ${top}, left: ${left}, height: ${height}, width: ${width}} must be integers with positive size.`);
  }
  const C = img.channels;
  const src = img.data;
  const out = (src instanceof Uint8Array ? new Uint8Array(height * width * C) : new Float32Array(height * width * C)) as T;
  const fills = typeof fill === 'number' ? new Array<number>(C).fill(fill) : fill;
  if (fills.length !== C) throw new CmidError('input', `padCrop: fill has ${fills.length} values for an image with ${C} bands.`);
  if (fills.some((v) => v !== 0)) {
    for (let i = 0; i < out.length; i += C) for (let c = 0; c < C; c++) out[i + c] = fills[c]!;
  }
  const x0 = Math.max(left, 0), x1 = Math.min(left + width, img.width);
  const y0 = Math.max(top, 0), y1 = Math.min(top + height, img.height);
  if (x1 <= x0 || y1 <= y0) return { data: out, height, width, channels: C };
  const span = (x1 - x0) * C;
  for (let y = y0; y < y1; y++) {
    const s = (y * img.width + x0) * C;
    out.set(src.subarray(s, s + span), ((y - top) * width + (x0 - left)) * C);
  }
  return { data: out, height, width, channels: C };
}

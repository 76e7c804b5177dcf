/**
 * Horizontal and vertical flips for any band count and array type, plus the random horizontal flip that records
 * its decision (CMID's HorizontalFlipIfTrue keeps the flag for the location grid, cmid.md §5.1).
 */
import type { Rng } from '../rng/rng.js';
import { checkImage, type Image, type PixelData } from './image.js';

/** Mirrors columns: output (y, x) = input (y, W - 1 - x). */
export function hflip<T extends PixelData>(img: Image<T>): Image<T> {
  checkImage(img, 'hflip');
  const { height: H, width: W, channels: C } = img;
  const src = img.data;
  const out = (src instanceof Uint8Array ? new Uint8Array(src.length) : new Float32Array(src.length)) as T;
  for (let y = 0; y < H; y++) {
    const row = y * W * C;
    if (C === 3) {
      for (let x = 0; x < W; x++) {
        const s = row + x * 3, d = row + (W - 1 - x) * 3;
        out[d] = src[s]!;
        out[d + 1] = src[s + 1]!;
        out[d + 2] = src[s + 2]!;
      }
    } else {
      for (let x = 0; x < W; x++) {
        const s = row + x * C, d = row + (W - 1 - x) * C;
        for (let c = 0; c < C; c++) out[d + c] = src[s + c]!;
      }
    }
  }
  return { data: out, height: H, width: W, channels: C };
}

/** Mirrors rows: output (y, x) = input (H - 1 - y, x). */
export function vflip<T extends PixelData>(img: Image<T>): Image<T> {
  checkImage(img, 'vflip');
  const { height: H, width: W, channels: C } = img;
  const src = img.data;
  const out = (src instanceof Uint8Array ? new Uint8Array(src.length) : new Float32Array(src.length)) as T;
  const rowLen = W * C;
  for (let y = 0; y < H; y++) out.set(src.subarray(y * rowLen, (y + 1) * rowLen), (H - 1 - y) * rowLen);
  return { data: out, height: H, width: W, channels: C };
}

/**
 * Flips horizontally with probability p (one draw, `rng.next() < p`, as albumentations and torchvision decide).
 * The unflipped case returns the input image object itself (no copy).
 */
export function randomHorizontalFlip<T extends PixelData>(img: Image<T>, rng: Rng, p = 0.5): { image: Image<T>; flipped: boolean } {
  const flipped = rng.next() < p;
  return { image: flipped ? hflip(img) : img, flipped };
}

/** Flips vertically with probability p; returns the flag. */
export function randomVerticalFlip<T extends PixelData>(img: Image<T>, rng: Rng, p = 0.5): { image: Image<T>; flipped: boolean } {
  const flipped = rng.next() < p;
  return { image: flipped ? vflip(img) : img, flipped };
}

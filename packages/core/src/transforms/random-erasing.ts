/**
 * RandomErasing as timm 0.6.12 (timm/data/random_erasing.py) applies it after normalisation: with probability p,
 * one box of area fraction ~ U(0.02, 1/3) and log-uniform aspect in [0.3, 1/0.3] (up to 10 attempts, sides
 * round(sqrt(area * aspect)) x round(sqrt(area / aspect)) strictly inside the image) is filled with per-pixel,
 * per-channel N(0, 1) values (mode 'pixel'). Works on any band count. Draws come from our Rng.
 */
import type { Rng } from '../rng/rng.js';
import { roundHalfEven, type Image } from './image.js';

export interface RandomErasingOptions {
  /** Default 0.25 (CMID's reprob). */
  probability?: number;
  minArea?: number;
  maxArea?: number;
  minAspect?: number;
}

export interface ErasedBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Returns the image (a copy when erased) and the box, or undefined when nothing was erased. */
export function randomErasingWithBox(img: Image<Float32Array>, rng: Rng, o: RandomErasingOptions = {}): { image: Image<Float32Array>; box: ErasedBox | undefined } {
  const { probability = 0.25, minArea = 0.02, maxArea = 1 / 3, minAspect = 0.3 } = o;
  if (rng.next() > probability) return { image: img, box: undefined };
  const { height: H, width: W, channels: C } = img;
  const area = H * W;
  const logLo = Math.log(minAspect), logHi = Math.log(1 / minAspect);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.uniform(minArea, maxArea) * area;
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const h = roundHalfEven(Math.sqrt(target * aspect));
    const w = roundHalfEven(Math.sqrt(target / aspect));
    if (w < W && h < H) {
      const top = rng.int(0, H - h + 1), left = rng.int(0, W - w + 1);
      const data = Float32Array.from(img.data);
      for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) for (let c = 0; c < C; c++) data[(y * W + x) * C + c] = rng.normal();
      return { image: { ...img, data }, box: { top, left, height: h, width: w } };
    }
  }
  return { image: img, box: undefined };
}

export function randomErasing(img: Image<Float32Array>, rng: Rng, o: RandomErasingOptions = {}): Image<Float32Array> {
  return randomErasingWithBox(img, rng, o).image;
}

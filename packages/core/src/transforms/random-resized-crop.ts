/**
 * RandomResizedCrop with torchvision's parameter sampling (transforms.RandomResizedCrop.get_params, identical in
 * albumentations 1.2.1's RandomResizedCrop that CMID subclasses, cmid.md §5.1):
 * up to 10 attempts of area fraction a ~ U(scale), log aspect ~ U(log ratio), w = round(sqrt(a * H * W * r)),
 * h = round(sqrt(a * H * W / r)) (Python round, half to even), accepted when 0 < w <= W and 0 < h <= H, then
 * top ~ randint[0, H - h], left ~ randint[0, W - w]; otherwise the central fallback crop with the aspect clamped to
 * the ratio range. The box also carries albumentations' fractional offsets (hStart, wStart), which is the
 * "location" CMID's cell grid is built from (location-grid.ts).
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { checkImage, roundHalfEven, type Image, type PixelData } from './image.js';
import { resizeImage, type Interpolation, type PixelBox } from './resize.js';

/** A crop in pixels plus albumentations' fractional offsets. */
export interface CropBox extends PixelBox {
  /** top / (H - height + 1e-10): a fraction in [0, 1] (cmid.md §5.1). */
  hStart: number;
  /** left / (W - width + 1e-10). */
  wStart: number;
  /** Whether the 10 attempts failed and the central fallback was used. */
  fallback: boolean;
}

export interface ResizedCropSampling {
  /** Area fraction range. Default [0.08, 1] (torchvision); CMID uses [0.3, 1]. */
  scale?: readonly [number, number];
  /** Aspect ratio (width / height) range. Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
}

export interface RandomResizedCropOptions extends ResizedCropSampling {
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** Default true (PIL semantics, what torchvision does on PIL images); CMID's albumentations crop uses false (OpenCV). */
  antialias?: boolean;
}

function withFractions(H: number, W: number, top: number, left: number, height: number, width: number, fallback: boolean): CropBox {
  return { top, left, height, width, hStart: top / (H - height + 1e-10), wStart: left / (W - width + 1e-10), fallback };
}

/** Draws a crop box for an H x W image with torchvision's algorithm. */
export function sampleResizedCropBox(rng: Rng, H: number, W: number, options: ResizedCropSampling = {}): CropBox {
  const [s0, s1] = options.scale ?? [0.08, 1];
  const [r0, r1] = options.ratio ?? [3 / 4, 4 / 3];
  if (!(s0 > 0 && s0 <= s1) || !(r0 > 0 && r0 <= r1)) {
    throw new CmidError('input', `sampleResizedCropBox: need 0 < scale[0] <= scale[1] and 0 < ratio[0] <= ratio[1], got scale [${s0}, ${s1}], ratio [${r0}, ${r1}].`);
  }
  const area = H * W;
  const lr0 = Math.log(r0), lr1 = Math.log(r1);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(s0, s1);
    const aspect = Math.exp(rng.uniform(lr0, lr1));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      const top = rng.int(0, H - h + 1);
      const left = rng.int(0, W - w + 1);
      return withFractions(H, W, top, left, h, w, false);
    }
  }
  const inRatio = W / H;
  let w: number, h: number;
  if (inRatio < r0) {
    w = W;
    h = roundHalfEven(w / r0);
  } else if (inRatio > r1) {
    h = H;
    w = roundHalfEven(h * r1);
  } else {
    w = W;
    h = H;
  }
  return withFractions(H, W, Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w, true);
}

/**
 * Crops a random box and resizes it to `size` (one number = square). Returns the image and the box.
 *
 * ```ts
 * const { image, box } = randomResizedCrop(img, rng, 224, { scale: [0.3, 1], antialias: false });
 * // box = { top: 17, left: 40, height: 150, width: 171, hStart: 0.23, wStart: 0.74, fallback: false }
 * ```
 */
export function randomResizedCrop<T extends PixelData>(
  img: Image<T>,
  rng: Rng,
  size: number | readonly [number, number],
  options: RandomResizedCropOptions = {},
): { image: Image<T>; box: CropBox } {
  checkImage(img, 'randomResizedCrop');
  const [oh, ow] = typeof size === 'number' ? [size, size] : size;
  const box = sampleResizedCropBox(rng, img.height, img.width, options);
  const image = resizeImage(img, oh, ow, { interpolation: options.interpolation ?? 'bilinear', antialias: options.antialias ?? true, box });
  return { image, box };
}

/**
 * SwAV's multi-crop (baselines-datasets.md §2.4; facebookresearch/swav main_swav.py and src/multicropdataset.py):
 * 2 crops of 224 px with RandomResizedCrop scale (0.14, 1) plus N (6) crops of 96 px with scale (0.05, 0.14), each
 * crop independently flipped, colour-distorted (jitter 0.8/0.8/0.8/0.2 with p 0.8, grayscale p 0.2), blurred
 * (p 0.5, sigma 0.1-2) and normalised (mean 0.485/0.456/0.406, std 0.228/0.224/0.225). The crop order is the
 * reference's: all crops of the first size, then all of the second.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import type { Image } from './image.js';
import type { CropBox } from './random-resized-crop.js';
import { SSL_VIEW_RECIPES, sslView, type ViewRecipe } from './ssl-views.js';

export interface MultiCropOptions {
  /** Crop sides per group. Default [224, 96]. */
  sizes?: readonly number[];
  /** Crops per group. Default [2, 6]. */
  counts?: readonly number[];
  /** RandomResizedCrop scale bounds per group. Default [0.14, 0.05] and [1, 0.14]. */
  minScale?: readonly number[];
  maxScale?: readonly number[];
  /** Per-crop pipeline (its size and scale are replaced per group). Default SwAV's. */
  recipe?: ViewRecipe;
}

export interface MultiCrop {
  /** float32 HWC crops, group by group. */
  crops: Image<Float32Array>[];
  boxes: CropBox[];
  flipped: boolean[];
}

/**
 * ```ts
 * const { crops } = multiCrop(img, rng); // 2 crops 224 x 224 x 3, then 6 crops 96 x 96 x 3
 * ```
 */
export function multiCrop(img: Image<Uint8Array>, rng: Rng, options: MultiCropOptions = {}): MultiCrop {
  const sizes = options.sizes ?? [224, 96];
  const counts = options.counts ?? [2, 6];
  const lo = options.minScale ?? [0.14, 0.05];
  const hi = options.maxScale ?? [1, 0.14];
  if (counts.length !== sizes.length || lo.length !== sizes.length || hi.length !== sizes.length) {
    throw new CmidError('config', `multiCrop: sizes, counts, minScale and maxScale need one entry per group; got ${sizes.length}, ${counts.length}, ${lo.length}, ${hi.length}.`);
  }
  const base = options.recipe ?? SSL_VIEW_RECIPES.swav;
  const out: MultiCrop = { crops: [], boxes: [], flipped: [] };
  for (let g = 0; g < sizes.length; g++) {
    const recipe: ViewRecipe = { ...base, size: sizes[g]!, scale: [lo[g]!, hi[g]!] };
    for (let i = 0; i < counts[g]!; i++) {
      const v = sslView(img, rng, recipe);
      out.crops.push(v.image);
      out.boxes.push(v.box);
      out.flipped.push(v.flipped);
    }
  }
  return out;
}

/**
 * View recipes of the SSL baselines (baselines-datasets.md §1.2, §2) built from the primitives, plus one function
 * that renders a view from a recipe. Every view is: RandomResizedCrop (PIL semantics, as torchvision on PIL images)
 * -> horizontal flip -> colour jitter (p) -> grayscale (p) -> Gaussian blur (p) -> solarize (p) -> normalise, and
 * the output is float32 HWC. MoCo-v2 flips last in its reference; flips commute with these pointwise ops and the
 * symmetric blur, so the result is the same.
 *
 * Deliberate differences (documented, not bugs): photometric ops use torchvision's uint8 TENSOR semantics
 * (color-jitter.ts) where the references jitter PIL images with ImageEnhance (rounding differs by a level);
 * MoCo-v2, SeCo and SwAV blur with PIL's GaussianBlur(radius = sigma) (an iterated box filter), here a true
 * Gaussian with kernel 2 ceil(3 sigma) + 1; BYOL / Barlow Twins use torchvision-style kernel 23.
 * Interpolation: torchvision's default bilinear except MAE (bicubic, per its PRETRAIN.md); whether solo-learn's
 * BYOL/Barlow configs use bicubic is UNVERIFIED.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { colorJitter, type ColorJitterOptions, type ColorJitterParams } from './color-jitter.js';
import { randomGaussianBlur, type GaussianBlurParams, type RandomGaussianBlurOptions } from './gaussian-blur.js';
import { randomGrayscale } from './grayscale.js';
import { requireRgb, requireUint8, type Image } from './image.js';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImage } from './normalize.js';
import { sampleResizedCropBox, type CropBox } from './random-resized-crop.js';
import { resizeImage } from './resize.js';
import { randomSolarize } from './solarize.js';

export interface ViewRecipe {
  /** Output side. */
  size: number;
  /** RandomResizedCrop area range. */
  scale: readonly [number, number];
  /** Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  /** Default 'bilinear' (PIL semantics). */
  interpolation?: 'bilinear' | 'bicubic';
  hflipP: number;
  colorJitter: ColorJitterOptions | null;
  grayscaleP: number;
  blur: RandomGaussianBlurOptions | null;
  solarizeP: number;
  mean: readonly number[];
  std: readonly number[];
  /** SeCo applies its photometric augmentation to the full image BEFORE the crop. Default false. */
  photometricFirst?: boolean;
}

const JITTER_BYOL: ColorJitterOptions = { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 };
const JITTER_MOCO: ColorJitterOptions = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 };

const byolView1: ViewRecipe = {
  size: 224, scale: [0.08, 1], hflipP: 0.5, colorJitter: JITTER_BYOL, grayscaleP: 0.2,
  blur: { p: 1, kernelSize: 23, sigma: [0.1, 2] }, solarizeP: 0, mean: IMAGENET_MEAN, std: IMAGENET_STD,
};
const byolView2: ViewRecipe = { ...byolView1, blur: { p: 0.1, kernelSize: 23, sigma: [0.1, 2] }, solarizeP: 0.2 };
const mocoView: ViewRecipe = {
  size: 224, scale: [0.2, 1], hflipP: 0.5, colorJitter: JITTER_MOCO, grayscaleP: 0.2,
  blur: { p: 0.5, kernelSize: 'auto', sigma: [0.1, 2] }, solarizeP: 0, mean: IMAGENET_MEAN, std: IMAGENET_STD,
};

/**
 * Recipes by method. BYOL and Barlow Twins are asymmetric (view 1 always blurred, view 2 rarely blurred and
 * sometimes solarized); MoCo-v2 is symmetric; SeCo has an augmented view (photometric first, then the crop) and a
 * plain one (crop only) and combines them over timestamps (q = plain(t0), k0 = augmented(t1), k1 = plain(t2),
 * k2 = augmented(t0)); SwAV's per-crop recipe is used by multiCrop; MAE and SimMIM only crop and flip (SimMIM at 192
 * px for Swin, with blockMask({ inputSize: 192 })).
 */
export const SSL_VIEW_RECIPES = {
  byol: [byolView1, byolView2],
  barlowTwins: [byolView1, byolView2],
  mocoV2: [mocoView, mocoView],
  seco: {
    augmented: { ...mocoView, photometricFirst: true } as ViewRecipe,
    plain: { ...mocoView, hflipP: 0, colorJitter: null, grayscaleP: 0, blur: null } as ViewRecipe,
  },
  swav: {
    size: 224, scale: [0.14, 1], hflipP: 0.5,
    colorJitter: { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 }, grayscaleP: 0.2,
    blur: { p: 0.5, kernelSize: 'auto', sigma: [0.1, 2] }, solarizeP: 0, mean: IMAGENET_MEAN, std: [0.228, 0.224, 0.225],
  } as ViewRecipe,
  mae: { size: 224, scale: [0.2, 1], interpolation: 'bicubic', hflipP: 0.5, colorJitter: null, grayscaleP: 0, blur: null, solarizeP: 0, mean: IMAGENET_MEAN, std: IMAGENET_STD } as ViewRecipe,
  simmim: { size: 192, scale: [0.67, 1], hflipP: 0.5, colorJitter: null, grayscaleP: 0, blur: null, solarizeP: 0, mean: IMAGENET_MEAN, std: IMAGENET_STD } as ViewRecipe,
} as const;

export interface SslView {
  /** float32 HWC [size, size, C], normalised. */
  image: Image<Float32Array>;
  box: CropBox;
  flipped: boolean;
  /** The photometric draws (undefined / false where not applied). */
  params: { colorJitter: ColorJitterParams | undefined; grayscale: boolean; blur: GaussianBlurParams | undefined; solarized: boolean };
}

function photometric(img: Image<Uint8Array>, rng: Rng, r: ViewRecipe): { image: Image<Uint8Array>; params: SslView['params'] } {
  let out = img;
  const params: SslView['params'] = { colorJitter: undefined, grayscale: false, blur: undefined, solarized: false };
  if (r.colorJitter !== null) ({ image: out, params: params.colorJitter } = colorJitter(out, rng, r.colorJitter));
  if (r.grayscaleP > 0) ({ image: out, applied: params.grayscale } = randomGrayscale(out, rng, r.grayscaleP, { mode: 'pil' }));
  if (r.blur !== null) ({ image: out, params: params.blur } = randomGaussianBlur(out, rng, r.blur));
  if (r.solarizeP > 0) ({ image: out, applied: params.solarized } = randomSolarize(out, rng, r.solarizeP));
  return { image: out, params };
}

/**
 * Renders one view of a uint8 image with a recipe.
 *
 * ```ts
 * const [r1, r2] = SSL_VIEW_RECIPES.byol;
 * const v1 = sslView(img, rng, r1), v2 = sslView(img, rng, r2); // two float32 224 x 224 x 3 views
 * ```
 */
export function sslView(img: Image<Uint8Array>, rng: Rng, recipe: ViewRecipe): SslView {
  requireUint8(img, 'sslView');
  const usesColour = recipe.colorJitter !== null || recipe.grayscaleP > 0;
  if (usesColour) requireRgb(img, 'sslView (recipe with colour jitter / grayscale)');
  if (recipe.mean.length !== img.channels || recipe.std.length !== img.channels) {
    throw new CmidError('config', `sslView: recipe mean/std have ${recipe.mean.length}/${recipe.std.length} entries for a ${img.channels}-band image.`);
  }
  let src = img;
  let params: SslView['params'] | undefined;
  if (recipe.photometricFirst) ({ image: src, params } = photometric(src, rng, recipe));
  const box = sampleResizedCropBox(rng, src.height, src.width, { scale: recipe.scale, ratio: recipe.ratio ?? [3 / 4, 4 / 3] });
  const flipped = rng.next() < recipe.hflipP;
  let view = resizeImage(src, recipe.size, recipe.size, { interpolation: recipe.interpolation ?? 'bilinear', antialias: true, box, flipHorizontal: flipped });
  if (!recipe.photometricFirst) ({ image: view, params } = photometric(view, rng, recipe));
  return { image: normalizeImage(view, recipe.mean, recipe.std), box, flipped, params: params! };
}

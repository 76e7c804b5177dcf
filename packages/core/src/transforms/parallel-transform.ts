/**
 * CMID's pretraining transform (`ParallelTransform.__call__`, cmid.md §6.2) for one uint8 source image: two views,
 * their block masks with mean-filled copies, and the cell-centre grids that `position_match` pairs.
 *
 * 0. Global resize: if the source WIDTH is not `size`, resize to size x size with PIL bicubic (aspect not kept;
 *    only the width is tested, as the reference does).
 * 1. `view`: RandomResizedCrop (scale 0.3-1, ratio 3/4-4/3, OpenCV bilinear) -> horizontal flip p 0.5 (flag kept)
 *    -> colour jitter (0.4, 0.4, 0.2, 0.1) p 0.8 -> Gaussian blur p 1 (k 3/5/7, sigma 0.1-2) -> Gauss noise p 0.6
 *    (variance 10-50) -> solarize p 0.2 -> grayscale p 0.2 -> normalise (CMID mean/std).
 * 2. `img`: RandomResizedCrop -> flip -> normalise (no photometric ops).
 * 3. Block masks (32-px blocks, 30 of 49 masked) drawn independently for `img` and `view`; `mimImg` / `viewMimImg`
 *    have the masked pixels set to the image's own per-band mean.
 * 4. `locations` = [grid(img), grid(view)], 7 x 7 x (row, col) each (location-grid.ts; quirk 1 by default).
 *
 * Layout: every image output is float32 HWC [224, 224, C] (the reference's ToTensorV2 makes CHW; the model side here
 * is NHWC, so batching is a plain concatenation). Masks are uint8 [56 * 56], 1 = masked, row-major. Reference key
 * names: img, mim_img, view, mask, view_mim_img, view_mask, locations.
 *
 * Multispectral: any band count works when the colour operations are disabled (`colorJitter: null`, `grayscaleP: 0`)
 * and mean/std have one entry per band; otherwise a CmidError says so.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { blockMask, fillMasked } from './block-mask.js';
import { applyColorJitter, CMID_COLOR_JITTER, sampleColorJitterParams, type ColorJitterOptions, type ColorJitterParams } from './color-jitter.js';
import { addGaussNoise } from './gauss-noise.js';
import { gaussianBlur, sampleCmidBlurParams, type GaussianBlurParams } from './gaussian-blur.js';
import { toGrayscale } from './grayscale.js';
import { requireRgb, requireUint8, type Image } from './image.js';
import { locationGrid } from './location-grid.js';
import { CMID_MEAN, CMID_STD, normalizeImage } from './normalize.js';
import { sampleResizedCropBox, type CropBox } from './random-resized-crop.js';
import { resizeImage } from './resize.js';
import { solarize } from './solarize.js';

export interface ParallelTransformOptions {
  /** Output side. Default 224. */
  size?: number;
  /** Crop area range of both views. Default [0.3, 1]. */
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  /** Default 0.5. */
  hflipP?: number;
  /** View 2's jitter; null disables it. Default CMID_COLOR_JITTER (p 0.8). */
  colorJitter?: ColorJitterOptions | null;
  /** Default 1. */
  blurP?: number;
  /** Default [0.1, 2]. */
  blurSigma?: readonly [number, number];
  /** Default 0.6. */
  noiseP?: number;
  /** Default [10, 50]. */
  noiseVar?: readonly [number, number];
  /** Default 0.2 (threshold 128). */
  solarizeP?: number;
  /** Default 0.2. */
  grayscaleP?: number;
  /** Default CMID_MEAN / CMID_STD (fractions of 255). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Default 32, 4, 0.6. */
  maskPatchSize?: number;
  modelPatchSize?: number;
  maskRatio?: number;
  /** 'fraction' (default, quirk 1 of cmid.md §13) or 'pixel' (the fix). */
  locationOffsets?: 'fraction' | 'pixel';
  /** 'cmid' (default): resize when width != size; 'always'; 'never' (crops come from the source as is). */
  globalResize?: 'cmid' | 'always' | 'never';
  /**
   * true (default, reference HEAD): view 2 is masked like view 1. false reproduces quirk 2 (before commit 002bba8,
   * `view_mim_img` was the unmasked `view`; `viewMask` is still drawn and returned).
   */
  maskView?: boolean;
}

export interface ViewRecord {
  box: CropBox;
  flipped: boolean;
}

export interface CmidSample {
  /** View 1, normalised, float32 HWC. */
  img: Image<Float32Array>;
  /** `img` with masked blocks filled with its per-band mean. */
  mimImg: Image<Float32Array>;
  /** [tokens * tokens] uint8, 1 = masked (56 x 56). */
  mask: Uint8Array;
  /** View 2, normalised, float32 HWC. */
  view: Image<Float32Array>;
  viewMimImg: Image<Float32Array>;
  viewMask: Uint8Array;
  /** [grid(img), grid(view)], each float32 [7, 7, 2] (row, col). */
  locations: [Float32Array, Float32Array];
  /** What was drawn, for logs and tests. */
  params: {
    img: ViewRecord;
    view: ViewRecord & {
      colorJitter: ColorJitterParams | undefined;
      blur: GaussianBlurParams | undefined;
      noiseSigma: number | undefined;
      solarized: boolean;
      grayscale: boolean;
    };
  };
}

/**
 * ```ts
 * const s = parallelTransform(decodedJpeg, rng);
 * // s.img.data: Float32Array(224 * 224 * 3), s.mask: Uint8Array(3136) with 30 * 64 ones, s.locations[0]: Float32Array(98)
 * ```
 */
export function parallelTransform(src: Image<Uint8Array>, rng: Rng, options: ParallelTransformOptions = {}): CmidSample {
  requireUint8(src, 'parallelTransform');
  const size = options.size ?? 224;
  const scale = options.scale ?? [0.3, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  const hflipP = options.hflipP ?? 0.5;
  const jitter = options.colorJitter === undefined ? CMID_COLOR_JITTER : options.colorJitter;
  const blurP = options.blurP ?? 1;
  const noiseP = options.noiseP ?? 0.6;
  const [v0, v1] = options.noiseVar ?? [10, 50];
  const solarizeP = options.solarizeP ?? 0.2;
  const grayscaleP = options.grayscaleP ?? 0.2;
  const mean = options.mean ?? CMID_MEAN;
  const std = options.std ?? CMID_STD;
  const C = src.channels;
  if ((jitter !== null && (jitter.p ?? 1) > 0) || grayscaleP > 0) requireRgb(src, 'parallelTransform (colour jitter / grayscale enabled)');
  if (mean.length !== C || std.length !== C) {
    throw new CmidError('config', `parallelTransform: the image has ${C} bands but mean/std have ${mean.length}/${std.length} entries; pass mean and std per band.`);
  }
  const globalResize = options.globalResize ?? 'cmid';
  const base =
    globalResize === 'always' || (globalResize === 'cmid' && src.width !== size)
      ? resizeImage(src, size, size, { interpolation: 'bicubic', antialias: true })
      : src;

  // View 2 (`view`): crop + flip in one resampling pass, then the photometric ops in place on that fresh buffer.
  const vBox = sampleResizedCropBox(rng, base.height, base.width, { scale, ratio });
  const vFlipped = rng.next() < hflipP;
  const view = resizeImage(base, size, size, { interpolation: 'bilinear', antialias: false, box: vBox, flipHorizontal: vFlipped });
  let jitterParams: ColorJitterParams | undefined;
  if (jitter !== null && rng.next() < (jitter.p ?? 1)) {
    jitterParams = sampleColorJitterParams(rng, jitter);
    applyColorJitter(view, jitterParams, view);
  }
  let blur: GaussianBlurParams | undefined;
  if (rng.next() < blurP) {
    blur = sampleCmidBlurParams(rng, [3, 7], options.blurSigma ?? [0.1, 2]);
    gaussianBlur(view, blur, view);
  }
  let noiseSigma: number | undefined;
  if (rng.next() < noiseP) {
    noiseSigma = Math.sqrt(rng.uniform(v0, v1));
    addGaussNoise(view, rng, noiseSigma, 0, view);
  }
  const solarized = rng.next() < solarizeP;
  if (solarized) solarize(view, 128, 255, view);
  const gray = rng.next() < grayscaleP;
  if (gray) toGrayscale(view, { mode: 'opencv', out: view });
  const vSums = new Float64Array(C);
  const viewN = normalizeImage(view, mean, std, { channelSums: vSums });

  // View 1 (`img`): crop and flip only.
  const iBox = sampleResizedCropBox(rng, base.height, base.width, { scale, ratio });
  const iFlipped = rng.next() < hflipP;
  const img = resizeImage(base, size, size, { interpolation: 'bilinear', antialias: false, box: iBox, flipHorizontal: iFlipped });
  const iSums = new Float64Array(C);
  const imgN = normalizeImage(img, mean, std, { channelSums: iSums });
  // per-band means of the normalised views, float32 as torch's mean (the same values fillMasked's 'mean' computes)
  const n = size * size;
  const iMean = Array.from(iSums, (s) => Math.fround(s / n));
  const vMean = Array.from(vSums, (s) => Math.fround(s / n));

  // Masks, img first then view (the reference's order).
  const maskOpts = { inputSize: size, maskPatchSize: options.maskPatchSize ?? 32, modelPatchSize: options.modelPatchSize ?? 4, maskRatio: options.maskRatio ?? 0.6 };
  const iMask = blockMask(rng, maskOpts);
  const vMask = blockMask(rng, maskOpts);
  const gridOpts = { gridSize: Math.floor(size / 32), offsets: options.locationOffsets ?? 'fraction' } as const;
  return {
    img: imgN,
    mimImg: fillMasked(imgN, iMask, iMean),
    mask: iMask.mask,
    view: viewN,
    viewMimImg: options.maskView === false ? viewN : fillMasked(viewN, vMask, vMean),
    viewMask: vMask.mask,
    locations: [locationGrid(iBox, iFlipped, gridOpts), locationGrid(vBox, vFlipped, gridOpts)],
    params: {
      img: { box: iBox, flipped: iFlipped },
      view: { box: vBox, flipped: vFlipped, colorJitter: jitterParams, blur, noiseSigma, solarized, grayscale: gray },
    },
  };
}

/**
 * Image augmentations: pure functions on plain HWC images (image.ts), randomness only from an Rng. CMID's
 * pretraining transform is parallelTransform; the baselines' views are in ssl-views.ts and multi-crop.ts; paired
 * geometry for dense targets and DOTA polygons in geometry.ts, paired-augment.ts and polygon-geometry.ts.
 */
export { checkImage, cloneImage, emptyImage, imageFrom, isUint8, requireRgb, requireUint8, roundHalfEven, toFloat32Image, type Image, type PixelData } from './image.js';
export { resizeImage, type Interpolation, type PixelBox, type ResizeOptions } from './resize.js';
export { cropImage, padCrop } from './crop.js';
export { randomResizedCrop, sampleResizedCropBox, type CropBox, type RandomResizedCropOptions, type ResizedCropSampling } from './random-resized-crop.js';
export { locationGrid, type LocationGridOptions } from './location-grid.js';
export { hflip, vflip, randomHorizontalFlip, randomVerticalFlip } from './flip.js';
export { rot90 } from './rot90.js';
export {
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  adjustHue,
  applyColorJitter,
  colorJitter,
  sampleColorJitterParams,
  CMID_COLOR_JITTER,
  type ColorJitterOptions,
  type ColorJitterParams,
  type JitterRange,
} from './color-jitter.js';
export { toGrayscale, randomGrayscale, opencvGray, pilGray, torchvisionGray, torchvisionGrayPlane, type GrayscaleMode, type GrayscaleOptions } from './grayscale.js';
export {
  gaussianBlur,
  gaussianKernel1d,
  randomGaussianBlur,
  sampleCmidBlurParams,
  sampleTorchvisionBlurParams,
  type GaussianBlurParams,
  type RandomGaussianBlurOptions,
} from './gaussian-blur.js';
export { addGaussNoise, gaussNoise, fillStandardNormal, standardNormal, type GaussNoiseOptions } from './gauss-noise.js';
export { solarize, randomSolarize } from './solarize.js';
export { normalizeImage, CMID_MEAN, CMID_STD, IMAGENET_MEAN, IMAGENET_STD, type NormalizeOptions } from './normalize.js';
export { blockMask, fillMasked, type BlockMask, type BlockMaskOptions } from './block-mask.js';
export { maeRandomMask, type MaeMask } from './mae-mask.js';
export { parallelTransform, type CmidSample, type ParallelTransformOptions, type ViewRecord } from './parallel-transform.js';
export { sslView, SSL_VIEW_RECIPES, type SslView, type ViewRecipe } from './ssl-views.js';
export { multiCrop, type MultiCrop, type MultiCropOptions } from './multi-crop.js';
export { applyGeometry, geometryOutputSize, type ApplyGeometryOptions, type GeometryOp } from './geometry.js';
export { transformPolygons, sampleDotaFlip, type PointConvention } from './polygon-geometry.js';
export {
  applyPaired,
  applyChangePair,
  sampleChangeDetectionGeometry,
  sampleSegmentationGeometry,
  type ChangeDetectionGeometryOptions,
  type SegmentationGeometryOptions,
} from './paired-augment.js';
export {
  randAugment,
  randAugmentWithOps,
  parseRandAugment,
  applyRandAugmentOp,
  affine,
  autoContrast,
  equalize,
  invert,
  posterize,
  solarizeAdd,
  solarizeU8,
  enhanceColor,
  enhanceContrast,
  enhanceBrightness,
  enhanceSharpness,
  rotateU8,
  RAND_AUGMENT_FILL,
  RAND_AUGMENT_OPS,
  RAND_AUGMENT_INCREASING_OPS,
  type RandAugmentConfig,
  type RandAugmentOp,
} from './rand-augment.js';
export { randomErasing, randomErasingWithBox, type RandomErasingOptions, type ErasedBox } from './random-erasing.js';
export { mixupCutmix, sampleBeta, sampleGamma, type MixupOptions, type MixupResult } from './mixup.js';

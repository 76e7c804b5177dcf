/**
 * The fine-tuning and evaluation transforms of timm 0.6.12's create_transform, as the reference uses them for UCM
 * (cmid.md §12):
 * - train: RandomResizedCrop(size, scale, ratio 3/4..4/3, bicubic) -> horizontal flip -> RandAugment
 *   (rand-m9-mstd0.5-inc1) -> ToTensor + Normalize -> RandomErasing (p 0.25, per-pixel noise, one box);
 * - eval: Resize(shorter side floor(size / crop_pct) = 256, bicubic) -> CenterCrop(size) -> ToTensor + Normalize.
 * Resampling has PIL semantics (antialiased), as timm runs these on PIL images.
 *
 * Images other than 8-bit (16-bit or float scenes, multi-band EuroSAT-MS) get the same geometry and erasing but no
 * RandAugment (its ops are defined on 8-bit RGB), and are normalised with `pixelMax` as the value of 1.0.
 * Every draw comes from the sample's own Rng, so a sample's augmentation depends only on (seed, epoch, index).
 */
import {
  cropImage,
  normalizeImage,
  randAugment,
  randomErasing,
  randomHorizontalFlip,
  randomResizedCrop,
  resizeImage,
  roundHalfEven,
  type Image,
  type Rng,
} from '@cmid/core';

export interface ClassifyTransformOptions {
  size: number;
  scale: readonly [number, number];
  hflip: number;
  aa: string | null;
  reprob: number;
  cropPct: number;
  mean: readonly number[];
  std: readonly number[];
  /** The pixel value that means 1.0 (255 for 8-bit data). */
  pixelMax: number;
}

const isUint8 = (img: Image): boolean => img.data instanceof Uint8Array;

/** The training transform: normalised float32 HWC of [size, size, bands]. */
export function trainTransform(img: Image, rng: Rng, o: ClassifyTransformOptions): Float32Array {
  let x = randomResizedCrop(img, rng, o.size, { scale: o.scale, ratio: [3 / 4, 4 / 3], interpolation: 'bicubic', antialias: true }).image;
  x = randomHorizontalFlip(x, rng, o.hflip).image;
  if (o.aa !== null && isUint8(x) && x.channels === 3) x = randAugment(x as Image<Uint8Array>, rng, o.aa);
  const t = normalizeImage(x, o.mean, o.std, { maxPixelValue: o.pixelMax });
  return (o.reprob > 0 ? randomErasing(t, rng, { probability: o.reprob }) : t).data;
}

/** The resize-then-centre-crop geometry of the evaluation transform (torchvision Resize(int) + CenterCrop). */
export function evalGeometry(height: number, width: number, size: number, cropPct: number): { resizeH: number; resizeW: number; top: number; left: number } {
  const short = Math.floor(size / cropPct);
  // torchvision Resize(int): the shorter side becomes `short`, the longer int(short * long / short_side)
  const [resizeH, resizeW] = height <= width ? [short, Math.floor((short * width) / height)] : [Math.floor((short * height) / width), short];
  // CenterCrop: int(round((h - size) / 2)), Python's round (half to even)
  return { resizeH, resizeW, top: roundHalfEven((resizeH - size) / 2), left: roundHalfEven((resizeW - size) / 2) };
}

/** The evaluation transform: normalised float32 HWC of [size, size, bands]. */
export function evalTransform(img: Image, o: Pick<ClassifyTransformOptions, 'size' | 'cropPct' | 'mean' | 'std' | 'pixelMax'>): Float32Array {
  const g = evalGeometry(img.height, img.width, o.size, o.cropPct);
  const resized = g.resizeH === img.height && g.resizeW === img.width ? img : resizeImage(img, g.resizeH, g.resizeW, { interpolation: 'bicubic', antialias: true });
  const cropped = resized.height === o.size && resized.width === o.size ? resized : cropImage(resized, { top: g.top, left: g.left, height: o.size, width: o.size });
  return normalizeImage(cropped, o.mean, o.std, { maxPixelValue: o.pixelMax }).data;
}

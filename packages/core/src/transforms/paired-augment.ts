/**
 * The same geometry for an image and its targets: segmentation (image + label mask) and change detection
 * (images A, B + change label), with samplers for the downstream pipelines of the spec:
 * - `sampleChangeDetectionGeometry`: CMID's change-detection loader (downstream.md §3.3): horizontal flip p 0.5,
 *   vertical flip p 0.5, then with p 0.75 one of ROTATE_90 / 180 / 270 (uniform, counter-clockwise);
 * - `sampleSegmentationGeometry`: mmseg's Resize(ratio 0.5-2, keep ratio) -> RandomCrop(512, cat_max_ratio 0.75)
 *   -> RandomFlip(0.5), plus the final Pad to 512 (downstream.md §1.4). PhotoMetricDistortion is not geometry and is
 *   not part of this file.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { applyGeometry, geometryOutputSize, type ApplyGeometryOptions, type GeometryOp } from './geometry.js';
import { checkImage, type Image, type PixelData } from './image.js';
import { resizeImage } from './resize.js';

/** Applies `ops` to an image (its interpolation) and a label mask (nearest, fill 255). */
export function applyPaired<T extends PixelData, L extends PixelData>(
  sample: { image: Image<T>; label: Image<L> },
  ops: readonly GeometryOp[],
  options: Omit<ApplyGeometryOptions, 'role'> = {},
): { image: Image<T>; label: Image<L> } {
  const { image, label } = sample;
  checkImage(image, 'applyPaired (image)');
  checkImage(label, 'applyPaired (label)');
  if (image.height !== label.height || image.width !== label.width) {
    throw new CmidError('input', `applyPaired: image is ${image.height}x${image.width} but label is ${label.height}x${label.width}; they must match.`);
  }
  return {
    image: applyGeometry(image, ops, { ...options, role: 'image' }),
    label: applyGeometry(label, ops, { role: 'label' }),
  };
}

/** Applies `ops` to a change pair and its label. */
export function applyChangePair<T extends PixelData, L extends PixelData>(
  sample: { a: Image<T>; b: Image<T>; label: Image<L> },
  ops: readonly GeometryOp[],
  options: Omit<ApplyGeometryOptions, 'role'> = {},
): { a: Image<T>; b: Image<T>; label: Image<L> } {
  const { a, b, label } = sample;
  checkImage(a, 'applyChangePair (a)');
  checkImage(b, 'applyChangePair (b)');
  checkImage(label, 'applyChangePair (label)');
  if (a.height !== b.height || a.width !== b.width || a.height !== label.height || a.width !== label.width) {
    throw new CmidError('input', `applyChangePair: A ${a.height}x${a.width}, B ${b.height}x${b.width} and label ${label.height}x${label.width} must have the same size.`);
  }
  return {
    a: applyGeometry(a, ops, { ...options, role: 'image' }),
    b: applyGeometry(b, ops, { ...options, role: 'image' }),
    label: applyGeometry(label, ops, { role: 'label' }),
  };
}

export interface ChangeDetectionGeometryOptions {
  /** Default 0.5. */
  hflipP?: number;
  /** Default 0.5. */
  vflipP?: number;
  /** Probability of a quarter-turn rotation (90, 180 or 270 degrees, uniform). Default 0.75. */
  rotateP?: number;
}

/** CMID change detection's training geometry. */
export function sampleChangeDetectionGeometry(rng: Rng, options: ChangeDetectionGeometryOptions = {}): GeometryOp[] {
  const ops: GeometryOp[] = [];
  if (rng.next() < (options.hflipP ?? 0.5)) ops.push({ kind: 'hflip' });
  if (rng.next() < (options.vflipP ?? 0.5)) ops.push({ kind: 'vflip' });
  if (rng.next() < (options.rotateP ?? 0.75)) ops.push({ kind: 'rot90', k: 1 + rng.int(0, 3) });
  return ops;
}

export interface SegmentationGeometryOptions {
  /** Base scale of the resize. Default [512, 512]. */
  scale?: readonly [number, number];
  /** Resize ratio range, r ~ U[lo, hi). Default [0.5, 2]. */
  ratioRange?: readonly [number, number];
  /** Crop size. Default [512, 512]. */
  cropSize?: readonly [number, number];
  /** Largest fraction one class may cover in an accepted crop. Default 0.75 (1 disables the check). */
  catMaxRatio?: number;
  /** Label value ignored by the check. Default 255. */
  ignoreIndex?: number;
  /** Default 0.5. */
  flipP?: number;
}

/**
 * Draws mmseg's training geometry for an image whose label is `label` (needed for the cat_max_ratio check).
 * Returns the ops to apply to image and label (before normalisation) and the final pad op (mmseg pads after
 * normalisation: apply `pad` to the normalised image with fill 0 and to the label with 255).
 */
export function sampleSegmentationGeometry(rng: Rng, label: Image, options: SegmentationGeometryOptions = {}): { ops: GeometryOp[]; pad: GeometryOp } {
  checkImage(label, 'sampleSegmentationGeometry');
  if (label.channels !== 1) throw new CmidError('input', `sampleSegmentationGeometry: label must have 1 band, got ${label.channels}.`);
  const [s0, s1] = options.scale ?? [512, 512];
  const [r0, r1] = options.ratioRange ?? [0.5, 2];
  const [ch, cw] = options.cropSize ?? [512, 512];
  const catMax = options.catMaxRatio ?? 0.75;
  const ignore = options.ignoreIndex ?? 255;
  // Resize with keep_ratio: target (int(s0 r), int(s1 r)), factor = min(long / max(h, w), short / min(h, w)).
  const r = rng.uniform(r0, r1);
  const t0 = Math.trunc(s0 * r), t1 = Math.trunc(s1 * r);
  const H = label.height, W = label.width;
  const f = Math.min(Math.max(t0, t1) / Math.max(H, W), Math.min(t0, t1) / Math.min(H, W));
  const nh = Math.trunc(H * f + 0.5), nw = Math.trunc(W * f + 0.5);
  const ops: GeometryOp[] = [{ kind: 'resize', height: nh, width: nw }];
  // RandomCrop: offsets uniform in [0, margin]; up to 10 rejections by the class-ratio check, then the next draw.
  const drawBox = () => {
    const top = rng.int(0, Math.max(nh - ch, 0) + 1), left = rng.int(0, Math.max(nw - cw, 0) + 1);
    return { top, left, height: Math.min(ch, nh - top), width: Math.min(cw, nw - left) };
  };
  let box = drawBox();
  if (catMax < 1) {
    const resized = resizeImage(label, nh, nw, { interpolation: 'nearest' });
    for (let attempt = 0; attempt < 10; attempt++) {
      if (acceptCrop(resized, box, catMax, ignore)) break;
      box = drawBox();
    }
  }
  ops.push({ kind: 'crop', box });
  if (rng.next() < (options.flipP ?? 0.5)) ops.push({ kind: 'hflip' });
  const out = geometryOutputSize(H, W, ops);
  return { ops, pad: { kind: 'pad', height: Math.max(ch, out.height), width: Math.max(cw, out.width) } };
}

/** mmseg's cat_max_ratio test: more than one non-ignored class, and the largest below the ratio. */
function acceptCrop(label: Image, box: { top: number; left: number; height: number; width: number }, catMax: number, ignore: number): boolean {
  const counts = new Map<number, number>();
  let total = 0;
  for (let y = box.top; y < box.top + box.height; y++) {
    for (let x = box.left; x < box.left + box.width; x++) {
      const v = label.data[y * label.width + x]!;
      if (v === ignore) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
  }
  if (counts.size <= 1) return false;
  let max = 0;
  for (const c of counts.values()) max = Math.max(max, c);
  return max / total < catMax;
}

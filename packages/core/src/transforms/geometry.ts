/**
 * Geometry as data: a list of operations drawn once and applied identically to an image, its label mask, a change
 * pair, or DOTA polygons (polygon-geometry.ts). This is how the downstream pipelines keep image and targets aligned
 * (downstream.md §1.4 segmentation, §2.3 detection, §3.3 change detection).
 *
 * Images are resampled with the caller's interpolation (bilinear, OpenCV semantics by default, as mmseg/mmrotate and
 * cv2-based loaders do); label masks always use nearest (OpenCV INTER_NEAREST), never blending class ids.
 * `crop` may reach past the border; the outside is filled (images 0, labels 255 = ignore, as mmseg pads).
 */
import { CmidError } from '../runtime/errors.js';
import { padCrop } from './crop.js';
import { hflip, vflip } from './flip.js';
import { checkImage, type Image, type PixelData } from './image.js';
import { resizeImage, type Interpolation, type PixelBox } from './resize.js';
import { rot90 } from './rot90.js';

export type GeometryOp =
  /** Keep this box of the current image (may extend past the border). */
  | { kind: 'crop'; box: PixelBox }
  /** Resample to this size. */
  | { kind: 'resize'; height: number; width: number }
  | { kind: 'hflip' }
  | { kind: 'vflip' }
  /** k quarter turns counter-clockwise (PIL ROTATE_90 / numpy.rot90). */
  | { kind: 'rot90'; k: number }
  /** Pad bottom and right up to this size (no-op where the image is already as large). */
  | { kind: 'pad'; height: number; width: number };

export interface ApplyGeometryOptions {
  /** 'image' (default) resamples with `interpolation`; 'label' uses nearest and fills with 255. */
  role?: 'image' | 'label';
  /** Image interpolation. Default 'bilinear'. */
  interpolation?: Interpolation;
  /** Default false (OpenCV semantics, as the mmcv/cv2 pipelines). */
  antialias?: boolean;
  /** Fill for crop/pad outside the image. Default 0 for images, 255 for labels. */
  fill?: number | readonly number[];
}

/** Size after applying `ops` to a height x width image. */
export function geometryOutputSize(height: number, width: number, ops: readonly GeometryOp[]): { height: number; width: number } {
  let H = height, W = width;
  for (const op of ops) {
    switch (op.kind) {
      case 'crop':
        H = op.box.height;
        W = op.box.width;
        break;
      case 'resize':
        H = op.height;
        W = op.width;
        break;
      case 'rot90':
        if (((op.k % 2) + 2) % 2 === 1) [H, W] = [W, H];
        break;
      case 'pad':
        H = Math.max(H, op.height);
        W = Math.max(W, op.width);
        break;
      default:
        break;
    }
  }
  return { height: H, width: W };
}

/** Applies `ops` in order. */
export function applyGeometry<T extends PixelData>(img: Image<T>, ops: readonly GeometryOp[], options: ApplyGeometryOptions = {}): Image<T> {
  checkImage(img, 'applyGeometry');
  const role = options.role ?? 'image';
  const fill = options.fill ?? (role === 'label' ? 255 : 0);
  let cur = img;
  for (const op of ops) {
    switch (op.kind) {
      case 'crop':
        cur = padCrop(cur, op.box, fill);
        break;
      case 'resize':
        cur =
          role === 'label'
            ? resizeImage(cur, op.height, op.width, { interpolation: 'nearest' })
            : resizeImage(cur, op.height, op.width, { interpolation: options.interpolation ?? 'bilinear', antialias: options.antialias ?? false });
        break;
      case 'hflip':
        cur = hflip(cur);
        break;
      case 'vflip':
        cur = vflip(cur);
        break;
      case 'rot90':
        cur = rot90(cur, op.k);
        break;
      case 'pad':
        if (op.height > cur.height || op.width > cur.width) {
          cur = padCrop(cur, { top: 0, left: 0, height: Math.max(op.height, cur.height), width: Math.max(op.width, cur.width) }, fill);
        }
        break;
      default:
        throw new CmidError('input', `applyGeometry: unknown op ${JSON.stringify(op)}. Valid kinds: crop, resize, hflip, vflip, rot90, pad.`);
    }
  }
  return cur === img ? { ...img, data: img.data.slice() as T } : cur;
}

/**
 * DOTA-style polygons (x1 y1 x2 y2 x3 y3 x4 y4 per object, pixel coordinates, x = column) moved through the same
 * geometry ops as their image (geometry.ts), so boxes follow pixels under flips, quarter turns, crops, padding and
 * resizing.
 *
 * Coordinate convention (`convention`):
 * - 'index' (default): integer coordinates are pixel CENTRES, as mmrotate's RRandomFlip assumes (x -> W - 1 - x,
 *   downstream.md §2.3); a resize maps x -> (x + 0.5) * W'/W - 0.5 (pixel centres to pixel centres).
 * - 'continuous': pixel i covers [i, i + 1); a flip maps x -> W - x and a resize x -> x * W'/W (mmrotate's RResize
 *   scales this way; it is the identity on DOTA's 1024 patches, so the two conventions only differ there by
 *   0.5 * (scale - 1) px).
 * Quarter turns are counter-clockwise like the image: pixel (row r, col c) of an H x W image goes to
 * (W - 1 - c, r), so a point (x, y) goes to (y, W - 1 - x) ('index') or (y, W - x) ('continuous').
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import type { GeometryOp } from './geometry.js';

export type PointConvention = 'index' | 'continuous';

/**
 * Returns a new Float32Array of transformed polygons (any number of (x, y) pairs; DOTA uses 8 numbers per object).
 *
 * ```ts
 * transformPolygons([10, 20, 30, 20, 30, 40, 10, 40], [{ kind: 'hflip' }], { height: 100, width: 100 })
 * // -> [89, 20, 69, 20, 69, 40, 89, 40]
 * ```
 */
export function transformPolygons(
  polygons: ArrayLike<number>,
  ops: readonly GeometryOp[],
  size: { height: number; width: number },
  convention: PointConvention = 'index',
): Float32Array {
  if (polygons.length % 2 !== 0) throw new CmidError('input', `transformPolygons: ${polygons.length} numbers is not a list of (x, y) pairs.`);
  if (convention !== 'index' && convention !== 'continuous') throw new CmidError('config', `transformPolygons: convention must be 'index' or 'continuous', got "${String(convention)}".`);
  const pts = Float64Array.from(polygons);
  const e = convention === 'index' ? 1 : 0; // the "- 1" of W - 1 - x
  const h0 = convention === 'index' ? 0.5 : 0; // the half-pixel shift of a resize
  let H = size.height, W = size.width;
  for (const op of ops) {
    switch (op.kind) {
      case 'crop':
        for (let i = 0; i < pts.length; i += 2) {
          pts[i]! -= op.box.left;
          pts[i + 1]! -= op.box.top;
        }
        H = op.box.height;
        W = op.box.width;
        break;
      case 'resize': {
        const sx = op.width / W, sy = op.height / H;
        for (let i = 0; i < pts.length; i += 2) {
          pts[i] = (pts[i]! + h0) * sx - h0;
          pts[i + 1] = (pts[i + 1]! + h0) * sy - h0;
        }
        H = op.height;
        W = op.width;
        break;
      }
      case 'hflip':
        for (let i = 0; i < pts.length; i += 2) pts[i] = W - e - pts[i]!;
        break;
      case 'vflip':
        for (let i = 0; i < pts.length; i += 2) pts[i + 1] = H - e - pts[i + 1]!;
        break;
      case 'rot90': {
        const q = ((op.k % 4) + 4) % 4;
        for (let t = 0; t < q; t++) {
          for (let i = 0; i < pts.length; i += 2) {
            const x = pts[i]!, y = pts[i + 1]!;
            pts[i] = y;
            pts[i + 1] = W - e - x;
          }
          [H, W] = [W, H];
        }
        break;
      }
      case 'pad':
        H = Math.max(H, op.height);
        W = Math.max(W, op.width);
        break;
      default:
        throw new CmidError('input', `transformPolygons: unknown op ${JSON.stringify(op)}.`);
    }
  }
  return Float32Array.from(pts);
}

/**
 * mmrotate's RRandomFlip as configured for DOTA (one categorical draw: horizontal, vertical, diagonal = both, or
 * none, 0.25 each, downstream.md §2.3).
 */
export function sampleDotaFlip(rng: Rng, probabilities: readonly [number, number, number] = [0.25, 0.25, 0.25]): { direction: 'horizontal' | 'vertical' | 'diagonal' | 'none'; ops: GeometryOp[] } {
  const u = rng.next();
  const [ph, pv, pd] = probabilities;
  if (u < ph) return { direction: 'horizontal', ops: [{ kind: 'hflip' }] };
  if (u < ph + pv) return { direction: 'vertical', ops: [{ kind: 'vflip' }] };
  if (u < ph + pv + pd) return { direction: 'diagonal', ops: [{ kind: 'hflip' }, { kind: 'vflip' }] };
  return { direction: 'none', ops: [] };
}

/**
 * CMID's grid of feature-cell centres for one view (`_location_to_NxN_grid`, cmid.md §5.2): for cell (k, l) of the
 * n x n output map (n = 224 / 32 = 7), row = top + (k + 0.5) * height / n and col = left + (l + 0.5) * width / n, in
 * pixels of the globally resized source image; if the view was flipped horizontally, columns are reversed.
 *
 * Quirk 1 (cmid.md §13): the reference uses albumentations' FRACTIONAL offsets hStart, wStart in [0, 1] as `top` and
 * `left`, so the grid ignores where the crop sits. `offsets: 'fraction'` (default) reproduces that;
 * `offsets: 'pixel'` is the geometrically intended grid (the documented fix).
 */
import { CmidError } from '../runtime/errors.js';
import type { CropBox } from './random-resized-crop.js';

export interface LocationGridOptions {
  /** Cells per side. Default 7 (224 / 32). */
  gridSize?: number;
  /** 'fraction' (default, faithful to the reference) or 'pixel' (fixed). */
  offsets?: 'fraction' | 'pixel';
}

/**
 * Returns float32 [n, n, 2] (row-major cells, each (row, col)); flattened it is the [49, 2] `locations` entry.
 *
 * ```ts
 * locationGrid({ top: 10, left: 20, height: 70, width: 140, hStart: 0.065, wStart: 0.24, fallback: false }, false)
 * // cell (0, 0) = [0.065 + 5, 0.24 + 10] = [5.065, 10.24]
 * ```
 */
export function locationGrid(box: CropBox, flipped: boolean, options: LocationGridOptions = {}): Float32Array {
  const n = options.gridSize ?? 7;
  const mode = options.offsets ?? 'fraction';
  if (!Number.isInteger(n) || n < 1) throw new CmidError('input', `locationGrid: gridSize must be a positive integer, got ${n}.`);
  if (mode !== 'fraction' && mode !== 'pixel') throw new CmidError('config', `locationGrid: offsets must be 'fraction' or 'pixel', got "${String(mode)}".`);
  const r0 = mode === 'fraction' ? box.hStart : box.top;
  const c0 = mode === 'fraction' ? box.wStart : box.left;
  const out = new Float32Array(n * n * 2);
  for (let k = 0; k < n; k++) {
    const row = r0 + ((k + 0.5) * box.height) / n;
    for (let l = 0; l < n; l++) {
      const srcL = flipped ? n - 1 - l : l;
      const o = (k * n + l) * 2;
      out[o] = row;
      out[o + 1] = c0 + ((srcL + 0.5) * box.width) / n;
    }
  }
  return out;
}

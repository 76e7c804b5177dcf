/**
 * Regular windows over large rasters, in pixels: torchgeo's GridGeoSampler with units=PIXEL.
 *
 * Per axis, windows start at 0, stride, 2*stride, ... while they fit. What happens at the far edge is `edge`:
 * - 'shift' (default, torchgeo): one more window, moved back to end exactly at the edge, so every pixel is
 *   covered and every window lies inside the raster (the last overlap may exceed size - stride);
 * - 'pad': one more window at the next stride position, reaching past the edge; read it with fillValue;
 * - 'drop': no extra window; a remainder narrower than the stride is left out.
 * A raster smaller than the window gets no window with 'shift' or 'drop' (torchgeo skips such tiles too) and
 * one padded window with 'pad'.
 */
import { CmidError } from '../../runtime/errors.js';
import type { PixelWindow } from '../../io/georef.js';

/** A raster as the samplers need it: its path and size (openRaster(path) gives both; `info` is enough). */
export interface RasterRef {
  path: string;
  width: number;
  height: number;
}

/** One window of one raster: a loader sample (structured-cloneable). */
export interface WindowSample {
  path: string;
  window: PixelWindow;
}

export type Size2 = number | { width: number; height: number };

export interface GridWindowOptions {
  /** Window size in pixels. */
  size: Size2;
  /** Step between window origins in pixels. Default: size (windows touch, no overlap). */
  stride?: Size2;
  /** Far-edge rule; see the file header. Default: 'shift'. */
  edge?: 'shift' | 'pad' | 'drop';
  /** Region of the raster to cover, in pixels. Default: the whole raster. */
  roi?: PixelWindow;
}

/** `{width, height}` of a Size2, checked: positive integers. */
export function size2(v: Size2, what: string): { width: number; height: number } {
  const s = typeof v === 'number' ? { width: v, height: v } : v;
  if (!Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width < 1 || s.height < 1) {
    throw new CmidError('config', `${what} must be a positive integer number of pixels (or {width, height} of them), got ${JSON.stringify(v)}.`);
  }
  return s;
}

/** The region to sample: roi checked against the raster, or the whole raster. */
export function regionOf(raster: { width: number; height: number; path?: string }, roi: PixelWindow | undefined, what: string): PixelWindow {
  if (roi === undefined) return { x: 0, y: 0, width: raster.width, height: raster.height };
  const ok = [roi.x, roi.y, roi.width, roi.height].every(Number.isInteger) && roi.x >= 0 && roi.y >= 0 && roi.width >= 1 && roi.height >= 1 &&
    roi.x + roi.width <= raster.width && roi.y + roi.height <= raster.height;
  if (!ok) {
    throw new CmidError('config', `${what}: roi ${JSON.stringify(roi)} is not inside ${raster.path ?? 'the raster'} (${raster.width}x${raster.height}); clip it to the raster.`);
  }
  return roi;
}

function starts(extent: number, size: number, stride: number, edge: 'shift' | 'pad' | 'drop'): number[] {
  const out: number[] = [];
  if (extent < size) return edge === 'pad' ? [0] : [];
  let p = 0;
  for (; p + size <= extent; p += stride) out.push(p);
  const last = out[out.length - 1]!;
  if (last + size < extent) {
    if (edge === 'shift') out.push(extent - size);
    else if (edge === 'pad' && last + stride < extent) out.push(last + stride);
  }
  return out;
}

/**
 * The grid over one raster, row by row.
 *
 * @example
 * gridWindows({ width: 1000, height: 600 }, { size: 512, stride: 384 });
 * // x starts 0, 384, 488 (shifted to the edge); y starts 0, 88 -> 6 windows, all inside, covering every pixel
 */
export function gridWindows(raster: { width: number; height: number; path?: string }, options: GridWindowOptions): PixelWindow[] {
  const size = size2(options.size, 'gridWindows: size');
  const stride = size2(options.stride ?? options.size, 'gridWindows: stride');
  const edge = options.edge ?? 'shift';
  if (!['shift', 'pad', 'drop'].includes(edge)) throw new CmidError('config', `gridWindows: edge "${edge}" is unknown; valid: shift, pad, drop.`);
  const r = regionOf(raster, options.roi, 'gridWindows');
  const ys = starts(r.height, size.height, stride.height, edge);
  const xs = starts(r.width, size.width, stride.width, edge);
  const out: PixelWindow[] = [];
  for (const y of ys) for (const x of xs) out.push({ x: r.x + x, y: r.y + y, width: size.width, height: size.height });
  return out;
}

/** The grid over several rasters, raster by raster, as loader samples. Rasters too small for a window add none. */
export function gridWindowSamples(rasters: readonly RasterRef[], options: Omit<GridWindowOptions, 'roi'>): WindowSample[] {
  const out: WindowSample[] = [];
  for (const r of rasters) for (const window of gridWindows(r, options)) out.push({ path: r.path, window });
  return out;
}

/**
 * Random windows over large rasters, in pixels: torchgeo's RandomGeoSampler with units=PIXEL.
 *
 * Every window lies wholly inside its raster (or roi); its top-left corner is uniform over the valid positions.
 * Over several rasters, a raster is chosen with probability proportional to its area, as torchgeo weights tiles
 * by area; rasters smaller than the window are never chosen. The windows are a pure function of
 * (rasters, size, length, seed, epoch): pass the epoch for fresh windows each epoch.
 */
import { CmidError } from '../../runtime/errors.js';
import { Rng } from '../../rng/rng.js';
import type { PixelWindow } from '../../io/georef.js';
import { deriveRngState } from '../sample-map.js';
import { regionOf, size2, type RasterRef, type Size2, type WindowSample } from './grid-windows.js';

export interface RandomWindowOptions {
  /** Window size in pixels. */
  size: Size2;
  /** Number of windows (torchgeo's `length`: samples per epoch). */
  length: number;
  seed: number;
  /** Mixed into the seed so each epoch draws other windows. Default: 0. */
  epoch?: number;
  /** Region to sample from, in pixels (single raster only). Default: the whole raster. */
  roi?: PixelWindow;
}

const WINDOW_STREAM = 0x57494e44; // "WIND"

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1) throw new CmidError('config', `randomWindows: length must be a positive integer, got ${length}.`);
}

/**
 * `length` random windows of one raster.
 *
 * @example
 * randomWindows({ width: 10000, height: 10000 }, { size: 256, length: 1000, seed: 0 }); // 1000 windows, x, y in 0..9744
 */
export function randomWindows(raster: { width: number; height: number; path?: string }, options: RandomWindowOptions): PixelWindow[] {
  const size = size2(options.size, 'randomWindows: size');
  checkLength(options.length);
  const r = regionOf(raster, options.roi, 'randomWindows');
  if (r.width < size.width || r.height < size.height) {
    throw new CmidError(
      'config',
      `randomWindows: ${raster.path ?? 'the raster'} region is ${r.width}x${r.height}, smaller than the ${size.width}x${size.height} window; use a smaller size.`,
    );
  }
  const rng = new Rng(deriveRngState(options.seed, WINDOW_STREAM, options.epoch ?? 0));
  const out: PixelWindow[] = [];
  for (let i = 0; i < options.length; i++) {
    out.push({ x: r.x + rng.int(0, r.width - size.width + 1), y: r.y + rng.int(0, r.height - size.height + 1), width: size.width, height: size.height });
  }
  return out;
}

/** `length` random windows over several rasters (area-weighted choice), as loader samples. */
export function randomWindowSamples(rasters: readonly RasterRef[], options: Omit<RandomWindowOptions, 'roi'>): WindowSample[] {
  const size = size2(options.size, 'randomWindows: size');
  checkLength(options.length);
  const usable = rasters.filter((r) => r.width >= size.width && r.height >= size.height);
  if (usable.length === 0) {
    throw new CmidError(
      'config',
      `randomWindows: none of the ${rasters.length} raster(s) is at least ${size.width}x${size.height}` +
        `${rasters[0] === undefined ? '' : ` (e.g. ${rasters[0].path} is ${rasters[0].width}x${rasters[0].height})`}; use a smaller size.`,
    );
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const r of usable) cumulative.push((total += r.width * r.height));
  const rng = new Rng(deriveRngState(options.seed, WINDOW_STREAM, options.epoch ?? 0));
  const out: WindowSample[] = [];
  for (let i = 0; i < options.length; i++) {
    const u = rng.next() * total;
    let lo = 0;
    let hi = usable.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    const r = usable[lo]!;
    const window = { x: rng.int(0, r.width - size.width + 1), y: rng.int(0, r.height - size.height + 1), width: size.width, height: size.height };
    out.push({ path: r.path, window });
  }
  return out;
}

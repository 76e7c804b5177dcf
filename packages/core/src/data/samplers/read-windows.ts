/**
 * Reading sampler windows: window by window from one open raster (memory stays at one window plus the
 * decoder's block cache, whatever the raster's size), or as a loader sample map with a small per-worker cache
 * of open rasters, so a worker does not re-read the TIFF header for every window.
 */
import { openRaster, type RasterHandle, type ReadRasterOptions } from '../../io/read-raster.js';
import type { GeoRef, PixelWindow } from '../../io/georef.js';
import type { HwcImage } from '../image-folder.js';
import type { SampleMapFactory } from '../sample-map.js';
import type { WindowSample } from './grid-windows.js';

/** Read options for every window: bands, fillValue (for 'pad' windows), outputSize, overview, resample. */
export type WindowReadOptions = Omit<ReadRasterOptions, 'window'>;

export interface WindowRead {
  window: PixelWindow;
  image: HwcImage;
  geo?: GeoRef;
}

/**
 * Reads `windows` one at a time from `raster` (a path, opened and closed here, or an open handle, left open).
 *
 * @example
 * for await (const { window, image } of readWindows('scene.tif', gridWindows(info, { size: 512 }))) predict(image);
 */
export async function* readWindows(
  raster: string | RasterHandle,
  windows: Iterable<PixelWindow>,
  options: WindowReadOptions = {},
): AsyncGenerator<WindowRead> {
  const handle = typeof raster === 'string' ? await openRaster(raster) : raster;
  try {
    for (const window of windows) {
      const r = await handle.read({ ...options, window });
      const out: WindowRead = { window, image: { data: r.data, height: r.height, width: r.width, channels: r.bands } };
      if (r.geo !== undefined) out.geo = r.geo;
      yield out;
    }
  } finally {
    if (typeof raster === 'string') await handle.close();
  }
}

export interface ReadWindowMapOptions extends WindowReadOptions {
  /** Open rasters kept per worker. Default: 4. */
  cacheSize?: number;
}

/**
 * Loader sample map: WindowSample -> { image (float32 HWC), path, window }. Use it through READ_WINDOW_SAMPLE,
 * or call it from your own map before the augmentations.
 */
export const readWindowSample = ((options: ReadWindowMapOptions = {}) => {
  const { cacheSize = 4, ...read } = options;
  interface Entry { handle: Promise<RasterHandle>; users: number; evicted: boolean }
  const open = new Map<string, Entry>(); // insertion order = least recently used first
  const release = (e: Entry): void => {
    if (e.evicted && e.users === 0) void e.handle.then((r) => r.close()).catch(() => undefined);
  };
  const acquire = (path: string): Entry => {
    let e = open.get(path);
    if (e !== undefined) open.delete(path);
    else {
      e = { handle: openRaster(path), users: 0, evicted: false };
      e.handle.catch(() => open.get(path) === e && open.delete(path));
    }
    open.set(path, e);
    e.users++;
    while (open.size > Math.max(1, cacheSize)) {
      const [oldest, old] = open.entries().next().value as [string, Entry];
      open.delete(oldest);
      old.evicted = true;
      release(old); // closed now if idle, else when its last read ends
    }
    return e;
  };
  return async (sample: WindowSample) => {
    const e = acquire(sample.path);
    try {
      const r = await (await e.handle).read({ ...read, window: sample.window });
      return { image: { data: r.data, height: r.height, width: r.width, channels: r.bands }, path: sample.path, window: sample.window };
    } finally {
      e.users--;
      release(e);
    }
  };
}) satisfies SampleMapFactory<WindowSample, { image: HwcImage; path: string; window: PixelWindow }, ReadWindowMapOptions>;

/** Loader map reference for readWindowSample (works from the sources and from the built files). */
export const READ_WINDOW_SAMPLE = { module: import.meta.url, export: 'readWindowSample' } as const;

/**
 * Windowed, band-selected reads of rasters to float32 HWC, with units in pixels of the full-resolution image.
 *
 * openRaster() reads only the header (size, bands, dtype, blocks, overviews, georef), so a 20k x 20k scene can
 * be walked window by window: each read decodes just the tiles under the window. readRaster() is open + read +
 * close for one-shot use. The format is chosen by file signature (decoders/index.ts), never by extension.
 * Opening reads the file's first HEAD_BYTES (256 KiB) once: a JPEG/PNG's header is parsed from them and, when
 * they are the whole file, its pixels are decoded from them, so openRaster + readNative of a small 8-bit JPEG/PNG
 * (scene and pretraining datasets) is one file read and one sharp call (decoders/sharp.ts).
 *
 * Windows partly or wholly outside the image are an error unless `fillValue` is given; then the outside part
 * is filled with it. This layer knows nothing of tfjs; tensors are made elsewhere.
 */
import { CmidError } from '../runtime/errors.js';
import { DTYPE_INFO, type RasterDtype, type RasterTypedArray } from './dtypes.js';
import { windowGeoRef, type GeoRef, type PixelWindow } from './georef.js';
import { openSource, type RasterInfo, type RasterSource, type SourceRead } from './decoders/index.js';

export interface ReadRasterOptions {
  /** Region to read, in pixels of the full-resolution image. Default: the whole image. */
  window?: PixelWindow;
  /** 0-based band indices, in output order (repeats allowed). Default: all bands. */
  bands?: readonly number[];
  /**
   * Read from overview level k (0 = full resolution, k = info.overviews[k-1]). The window stays in full-res
   * pixels; the output is the window's size at that level unless outputSize is given.
   * Default: 0, or with outputSize the coarsest overview that still has at least outputSize pixels.
   */
  overview?: number;
  /** Resample the window to this size. Default: no resampling. */
  outputSize?: { width: number; height: number };
  /** Resampling for outputSize/overview reads. Default: 'nearest' (safe for class masks). */
  resample?: 'nearest' | 'bilinear';
  /** Fill for the parts of the window outside the image. Default: none, and such windows are an error. */
  fillValue?: number;
}

export interface RasterData<T extends RasterTypedArray = Float32Array> {
  /** HWC interleaved: data[(row * width + col) * bands + band]. */
  data: T;
  width: number;
  height: number;
  bands: number;
  /** Sample type in the file (data is float32 from read(), this type from readNative()). */
  dtype: RasterDtype;
  noData?: number;
  /** Georef of the returned pixels: origin at the window corner, pixel size scaled when resampled. */
  geo?: GeoRef;
}

/** An open raster: its metadata (no pixels decoded yet) and windowed reads. Call close() when done. */
export interface RasterHandle extends RasterInfo {
  readonly info: RasterInfo;
  /** Pixels as float32 (integers up to 2^24 and float32 are exact; float64 is rounded). */
  read(options?: ReadRasterOptions): Promise<RasterData>;
  /** Pixels in the file's own sample type (exact for every dtype). */
  readNative(options?: ReadRasterOptions): Promise<RasterData<RasterTypedArray>>;
  close(): Promise<void>;
}

function inputError(path: string, message: string): CmidError {
  return new CmidError('input', `${path}: ${message}`, { file: path });
}

interface Plan {
  request: SourceRead | undefined; // undefined when the window misses the image entirely
  outWidth: number;
  outHeight: number;
  window: PixelWindow;
  /** Where the request's pixels go in the output, when padded. */
  dst: PixelWindow | undefined;
  bands: number[];
}

const fmtWindow = (w: PixelWindow): string => `{x: ${w.x}, y: ${w.y}, width: ${w.width}, height: ${w.height}}`;

function plan(info: RasterInfo, o: ReadRasterOptions): Plan {
  const { path, width: W, height: H } = info;
  const window = o.window ?? { x: 0, y: 0, width: W, height: H };
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isInteger(window[k])) throw inputError(path, `window.${k} must be an integer number of pixels, got ${window[k]}.`);
  }
  if (window.width < 1 || window.height < 1) throw inputError(path, `window ${fmtWindow(window)} is empty; width and height must be >= 1.`);
  const bands = o.bands === undefined ? Array.from({ length: info.bands }, (_, i) => i) : [...o.bands];
  if (bands.length === 0) throw inputError(path, 'bands is empty; pass at least one band index, or leave it out for all bands.');
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 0 || b >= info.bands) {
      throw inputError(path, `band index ${b} is out of range: the file has ${info.bands} band(s), valid indices are 0..${info.bands - 1} (0-based).`);
    }
  }
  const levels = info.overviews.length;
  if (o.overview !== undefined && (!Number.isInteger(o.overview) || o.overview < 0 || o.overview > levels)) {
    const list = info.overviews.map((v, i) => `${i + 1}: ${v.width}x${v.height}`).join(', ');
    throw inputError(path, `overview ${o.overview} does not exist: ${levels === 0 ? 'the file has no overviews (only 0 = full resolution)' : `valid are 0 (full ${W}x${H}), ${list}`}. Build overviews with gdaladdo, or use outputSize.`);
  }
  let overview = o.overview ?? 0;
  let outWidth = window.width;
  let outHeight = window.height;
  if (o.outputSize !== undefined) {
    outWidth = o.outputSize.width;
    outHeight = o.outputSize.height;
    if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
      throw inputError(path, `outputSize ${outWidth}x${outHeight} must be positive integers.`);
    }
    if (o.overview === undefined) {
      // coarsest level that still has at least the requested pixels over the window
      for (let k = levels; k >= 1; k--) {
        const ov = info.overviews[k - 1]!;
        if ((window.width * ov.width) / W >= outWidth && (window.height * ov.height) / H >= outHeight) {
          overview = k;
          break;
        }
      }
    }
  } else if (overview > 0) {
    const ov = info.overviews[overview - 1]!;
    outWidth = Math.max(1, Math.round((window.width * ov.width) / W));
    outHeight = Math.max(1, Math.round((window.height * ov.height) / H));
  }
  const resample = o.resample ?? 'nearest';
  const inside = window.x >= 0 && window.y >= 0 && window.x + window.width <= W && window.y + window.height <= H;
  if (inside) {
    return { request: { window, bands, outWidth, outHeight, overview, resample }, outWidth, outHeight, window, dst: undefined, bands };
  }
  if (o.fillValue === undefined) {
    throw inputError(
      path,
      `window ${fmtWindow(window)} extends past the image (${W}x${H}). Clip the window to the image, or pass fillValue to pad the outside.`,
    );
  }
  const ix0 = Math.max(0, window.x);
  const iy0 = Math.max(0, window.y);
  const ix1 = Math.min(W, window.x + window.width);
  const iy1 = Math.min(H, window.y + window.height);
  const dx0 = Math.round(((ix0 - window.x) * outWidth) / window.width);
  const dy0 = Math.round(((iy0 - window.y) * outHeight) / window.height);
  const dx1 = Math.round(((ix1 - window.x) * outWidth) / window.width);
  const dy1 = Math.round(((iy1 - window.y) * outHeight) / window.height);
  if (ix1 <= ix0 || iy1 <= iy0 || dx1 <= dx0 || dy1 <= dy0) {
    return { request: undefined, outWidth, outHeight, window, dst: undefined, bands };
  }
  const inner = { x: ix0, y: iy0, width: ix1 - ix0, height: iy1 - iy0 };
  return {
    request: { window: inner, bands, outWidth: dx1 - dx0, outHeight: dy1 - dy0, overview, resample },
    outWidth, outHeight, window, dst: { x: dx0, y: dy0, width: dx1 - dx0, height: dy1 - dy0 }, bands,
  };
}

async function readPlanned<T extends RasterTypedArray>(
  source: RasterSource,
  options: ReadRasterOptions,
  alloc: (n: number) => T,
  convert: (a: RasterTypedArray) => T,
): Promise<RasterData<T>> {
  const { info } = source;
  const p = plan(info, options);
  const k = p.bands.length;
  let data: T;
  if (p.dst === undefined && p.request !== undefined) {
    data = convert(await source.read(p.request));
  } else {
    data = alloc(p.outWidth * p.outHeight * k);
    data.fill(options.fillValue!);
    if (p.request !== undefined && p.dst !== undefined) {
      const part = await source.read(p.request);
      const rowLen = p.dst.width * k;
      for (let r = 0; r < p.dst.height; r++) {
        const src = part.subarray(r * rowLen, (r + 1) * rowLen);
        data.set(convert(src) as never, ((p.dst.y + r) * p.outWidth + p.dst.x) * k);
      }
    }
  }
  const result: RasterData<T> = { data, width: p.outWidth, height: p.outHeight, bands: k, dtype: info.dtype };
  if (info.noData !== undefined) result.noData = info.noData;
  if (info.geo !== undefined) result.geo = windowGeoRef(info.geo, p.window, p.outWidth, p.outHeight);
  return result;
}

function toFloat32(a: RasterTypedArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * Opens a raster and reads its header only.
 *
 * @example
 * const r = await openRaster('scene.tif'); // r.width 20000, r.height 20000, r.bands 4, r.dtype 'uint16'
 * const tile = await r.read({ window: { x: 4096, y: 0, width: 512, height: 512 }, bands: [2, 1, 0] });
 * // tile.data: Float32Array(512 * 512 * 3), HWC; tile.geo.transform starts at the window's corner
 * await r.close();
 */
export async function openRaster(path: string): Promise<RasterHandle> {
  const source = await openSource(path);
  const { info } = source;
  const handle: RasterHandle = {
    ...info,
    info,
    read: (options = {}) => readPlanned(source, options, (n) => new Float32Array(n), toFloat32),
    readNative: async (options = {}) => {
      const Ctor = DTYPE_INFO[info.dtype].ctor;
      if (options.fillValue !== undefined) {
        const probe = new Ctor(1);
        probe[0] = options.fillValue;
        if (!Object.is(probe[0], options.fillValue) && !(Number.isNaN(options.fillValue) && Number.isNaN(probe[0]))) {
          throw inputError(path, `fillValue ${options.fillValue} does not fit the file's ${info.dtype} samples; use read() (float32) or another fill.`);
        }
      }
      return readPlanned<RasterTypedArray>(source, options, (n) => new Ctor(n), (a) => a);
    },
    close: () => source.close(),
  };
  return handle;
}

/**
 * Reads (a window of) a raster as float32 HWC in one call; see ReadRasterOptions.
 *
 * @example
 * const { data, width, height, bands, geo } = await readRaster('RGB.byte.tif', { window: { x: 0, y: 0, width: 256, height: 256 } });
 * // width 256, height 256, bands 3, data.length 196608, geo.epsg 32618
 */
export async function readRaster(path: string, options: ReadRasterOptions = {}): Promise<RasterData> {
  const r = await openRaster(path);
  try {
    return await r.read(options);
  } finally {
    await r.close();
  }
}

/**
 * The decoder registry: file signature (magic bytes) -> decoder module, each loaded lazily with import(), so
 * sharp (native, ~30 MB) loads only when a JPEG/PNG/WebP shows up and geotiff.js only for TIFFs.
 * Anchor: geotiff.js src/compression/index.js maps compression codes to import() calls the same way.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CmidError } from '../../runtime/errors.js';
import type { RasterDtype, RasterTypedArray } from '../dtypes.js';
import type { GeoRef, PixelWindow } from '../georef.js';

export type RasterFormat = 'tiff' | 'png' | 'jpeg' | 'webp';

/** What openRaster reports without decoding pixels. */
export interface RasterInfo {
  path: string;
  format: RasterFormat;
  /** Full-resolution size in pixels. */
  width: number;
  height: number;
  bands: number;
  /** Sample type in the file (pixels are returned as float32 by readRaster, or in this type by readNative). */
  dtype: RasterDtype;
  /** Block size: TIFF tile, or strip width x rows per strip; the whole image for PNG/JPEG/WebP. */
  tileWidth: number;
  tileHeight: number;
  /** Reduced-resolution levels (TIFF overviews), largest first; readRaster's overview: k reads overviews[k-1]. */
  overviews: ReadonlyArray<{ width: number; height: number }>;
  /** GDAL_NODATA of the file. */
  noData?: number;
  geo?: GeoRef;
  /** Colour model: 'minisblack' | 'miniswhite' | 'rgb' | 'palette' | 'ycbcr' | 'cmyk' | 'cielab' | other. */
  photometric: string;
  /** TIFF compression name ('none', 'deflate', 'lzw', 'jpeg', ...) or the container format. */
  compression: string;
  /** Colour table of a palette image, index -> [r, g, b] in 0..255. */
  palette?: ReadonlyArray<readonly [number, number, number]>;
}

/** A read, already checked: window inside the full-res image, output size, bands valid, overview chosen. */
export interface SourceRead {
  window: PixelWindow;
  bands: readonly number[];
  outWidth: number;
  outHeight: number;
  /** 0 = full resolution, k = info.overviews[k - 1]. */
  overview: number;
  resample: 'nearest' | 'bilinear';
}

export interface RasterSource {
  readonly info: RasterInfo;
  /** HWC interleaved samples of the chosen bands, in the source dtype, outWidth x outHeight. */
  read(request: SourceRead): Promise<RasterTypedArray>;
  close(): Promise<void>;
}

export interface DecoderModule {
  /**
   * `head` is the file's first min(fileSize, HEAD_BYTES) bytes, already read by openSource (so it is the whole
   * file when head.length === fileSize); decoders may use it instead of reading the header again.
   */
  openSource(path: string, format: RasterFormat, fileSize: number, head?: Buffer): Promise<RasterSource>;
}

/**
 * Bytes read when a raster is opened: the signature, and for JPEG/PNG the header (size, bands, depth) the sharp
 * decoder parses itself instead of calling sharp's metadata(). Files up to this size are thus read whole in one
 * read and decoded from memory, files above it from their path; either way a whole-image read of an 8-bit
 * JPEG/PNG is one sharp call (decoders/sharp.ts). 256 KiB holds a typical scene-dataset image (UCM, AID, NWPU,
 * MillionAID, LEVIR-CD tiles) and costs a TIFF opened for windowed reads one small read more than 16 bytes.
 */
export const HEAD_BYTES = 256 * 1024;

/**
 * A lazy import() made once: every import() call resolves its specifier again, which costs 0.1-0.3 ms under a
 * loader hook such as tsx (measured, Node 20), as much as decoding a small JPEG's worth of work per opened file.
 * A failed import is retried on the next call.
 */
export function importOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    if (p === undefined) {
      p = load();
      p.catch(() => { p = undefined; });
    }
    return p;
  };
}

const sharpDecoder = importOnce(() => import('./sharp.js'));

/** Which decoder handles which format. TIFF goes to geotiff.js (falling back to sharp for what it can't read). */
export const DECODERS: Record<RasterFormat, () => Promise<DecoderModule>> = {
  tiff: importOnce(() => import('./geotiff.js')),
  png: sharpDecoder,
  jpeg: sharpDecoder,
  webp: sharpDecoder,
};

/** The format of a file from its first bytes, or undefined. */
export function sniffFormat(head: Uint8Array): RasterFormat | undefined {
  const b = (i: number): number => head[i] ?? -1;
  if ((b(0) === 0x49 && b(1) === 0x49 && (b(2) === 42 || b(2) === 43) && b(3) === 0) ||
      (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && (b(3) === 42 || b(3) === 43))) return 'tiff';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45 && b(10) === 0x42 && b(11) === 0x50) return 'webp';
  return undefined;
}

/**
 * Reads the signature of `path` and opens it with the matching decoder; every failure is a CmidError('input').
 * The first HEAD_BYTES are read synchronously: four libuv round trips (open, stat, read, close) cost more than the
 * read itself for the small images of scene and pretraining datasets (about 0.5 ms of every 7.6 ms CMID sample sat
 * idle in them, one thread), and loader workers are threads of their own.
 */
export async function openSource(path: string): Promise<RasterSource> {
  let head: Buffer;
  let size: number;
  try {
    const fd = openSync(path, 'r');
    try {
      size = fstatSync(fd).size;
      head = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES));
      let got = 0;
      while (got < head.length) {
        const bytesRead = readSync(fd, head, got, head.length - got, got);
        if (bytesRead === 0) break; // shrank since stat
        got += bytesRead;
      }
      head = head.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new CmidError('input', `${path}: cannot open raster (${why}). Check the path.`, { file: path, cause: e });
  }
  if (size === 0) {
    throw new CmidError('input', `${path}: file is empty (0 bytes), probably an interrupted download or copy. Fetch it again.`, { file: path });
  }
  const format = sniffFormat(head);
  if (format === undefined) {
    const hex = Array.from(head.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new CmidError(
      'input',
      `${path}: unsupported image format (first bytes ${hex}). Readable: TIFF/GeoTIFF/BigTIFF, PNG, JPEG, WebP; ` +
        'convert other formats first, e.g. gdal_translate -of GTiff in.xxx out.tif.',
      { file: path },
    );
  }
  const decoder = await DECODERS[format]();
  return decoder.openSource(path, format, size, head);
}

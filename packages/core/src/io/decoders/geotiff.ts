/**
 * TIFF/GeoTIFF/BigTIFF through geotiff.js: any band count, uint8..float64, stripped or tiled, the compressions
 * geotiff.js decodes (none, LZW, Deflate, PackBits, JPEG, LERC, ZSTD, WebP), overviews, GDAL_NODATA, georef.
 *
 * What we add on top of geotiff.js:
 * - a truncation check: geotiff.js fills tiles that lie past the end of the file with zeros and says nothing,
 *   so openSource compares every block's offset + byte count with the file size;
 * - JPEG tiles in YCbCr are converted to RGB (readRasters returns raw YCbCr; GDAL returns RGB);
 * - overviews are the reduced-resolution IFDs (NewSubfileType bit 0) that are not masks (bit 2);
 * - errors name the file and the fix.
 * A TIFF that geotiff.js cannot decode (old-style JPEG, CCITT, 1-bit) and that has no georeference is handed to
 * sharp (libtiff) instead.
 */
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { CmidError } from '../../runtime/errors.js';
import { dtypeFromTiff, type RasterDtype, type RasterTypedArray } from '../dtypes.js';
import { geoRefFromTiffTags } from '../georef.js';
import { importOnce, type RasterFormat, type RasterInfo, type RasterSource, type SourceRead } from './index.js';

const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none', 2: 'ccitt-rle', 3: 'ccitt-fax3', 4: 'ccitt-fax4', 5: 'lzw', 6: 'old-jpeg', 7: 'jpeg', 8: 'deflate',
  32946: 'deflate', 32773: 'packbits', 34712: 'jpeg2000', 34887: 'lerc', 34925: 'lzma', 50000: 'zstd', 50001: 'webp',
};
/** Compression codes geotiff.js 3.0.5 decodes (its src/compression/index.js). */
const DECODABLE = new Set([1, 5, 7, 8, 32946, 32773, 34887, 50000, 50001]);
const PHOTOMETRIC_NAMES: Record<number, string> = {
  0: 'miniswhite', 1: 'minisblack', 2: 'rgb', 3: 'palette', 4: 'mask', 5: 'cmyk', 6: 'ycbcr', 8: 'cielab',
};

function inputError(path: string, message: string, cause?: unknown): CmidError {
  return new CmidError('input', `${path}: ${message}`, cause === undefined ? { file: path } : { file: path, cause });
}

const CORRUPT_FIX = 'The file is truncated or corrupt; fetch or export it again (gdalinfo -checksum shows where it breaks).';

interface Unsupported {
  reason: string;
}

async function blockRanges(image: GeoTIFFImage): Promise<{ offsets: number[]; counts: number[] }> {
  const fd = image.getFileDirectory();
  const tiled = fd.hasTag('TileOffsets');
  const offsets = (await fd.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) as ArrayLike<number | bigint> | number | undefined;
  const counts = (await fd.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) as ArrayLike<number | bigint> | number | undefined;
  const toArray = (v: ArrayLike<number | bigint> | number | undefined): number[] =>
    v === undefined ? [] : typeof v === 'number' ? [v] : Array.from(v, Number);
  return { offsets: toArray(offsets), counts: toArray(counts) };
}

/** Throws when a block of `image` lies (partly) past the end of the file. */
async function checkBlocks(path: string, image: GeoTIFFImage, fileSize: number, what: string): Promise<void> {
  const { offsets, counts } = await blockRanges(image);
  if (offsets.length === 0 || offsets.length !== counts.length) {
    throw inputError(path, `${what} has ${offsets.length} block offsets and ${counts.length} byte counts. ${CORRUPT_FIX}`);
  }
  let beyond = 0;
  for (let i = 0; i < offsets.length; i++) {
    if (counts[i]! > 0 && offsets[i]! + counts[i]! > fileSize) beyond++;
  }
  if (beyond > 0) {
    throw inputError(path, `${beyond} of ${offsets.length} ${image.isTiled ? 'tiles' : 'strips'} of ${what} lie past the end of the file (${fileSize} bytes). ${CORRUPT_FIX}`);
  }
}

function describe(path: string, image: GeoTIFFImage): { info: Omit<RasterInfo, 'overviews' | 'path' | 'format'>; unsupported?: Unsupported } {
  const fd = image.getFileDirectory();
  const width = image.getWidth();
  const height = image.getHeight();
  const bands = image.getSamplesPerPixel();
  if (!(width > 0 && height > 0 && bands > 0) || !fd.hasTag('BitsPerSample')) {
    throw inputError(path, `TIFF directory is incomplete (width ${width}, height ${height}, no BitsPerSample). ${CORRUPT_FIX}`);
  }
  const compressionCode = Number(fd.getValue('Compression') ?? 1);
  const compression = COMPRESSION_NAMES[compressionCode] ?? `code ${compressionCode}`;
  const photometricCode = Number(fd.getValue('PhotometricInterpretation') ?? 1);
  const photometric = PHOTOMETRIC_NAMES[photometricCode] ?? `code ${photometricCode}`;
  let dtype: RasterDtype | undefined;
  let unsupported: Unsupported | undefined;
  for (let s = 0; s < bands; s++) {
    const bits = image.getBitsPerSample(s);
    const format = image.getSampleFormat(s);
    const d = dtypeFromTiff(bits, format);
    if (d === undefined) {
      unsupported = { reason: `sample type BitsPerSample=${bits} SampleFormat=${format} (band ${s}) is not supported; readable are 8/16/32-bit integers and 32/64-bit floats` };
      break;
    }
    if (dtype !== undefined && d !== dtype) {
      unsupported = { reason: `bands have different sample types (${dtype} and ${d})` };
      break;
    }
    dtype = d;
  }
  if (unsupported === undefined && !DECODABLE.has(compressionCode)) {
    unsupported = { reason: `compression '${compression}' is not supported by the TIFF decoder (readable: none, deflate, lzw, packbits, jpeg, lerc, zstd, webp)` };
  }
  const noData = image.getGDALNoData();
  const geo = geoRefFromTiffTags({
    pixelScale: fd.getValue('ModelPixelScale') as ArrayLike<number> | undefined,
    tiepoint: fd.getValue('ModelTiepoint') as ArrayLike<number> | undefined,
    transformation: fd.getValue('ModelTransformation') as ArrayLike<number> | undefined,
    geoKeys: image.getGeoKeys(),
  });
  const info: Omit<RasterInfo, 'overviews' | 'path' | 'format'> = {
    width, height, bands, dtype: dtype ?? 'uint8',
    tileWidth: image.isTiled ? image.getTileWidth() : width,
    tileHeight: image.isTiled ? image.getTileHeight() : Math.min(height, Number(fd.getValue('RowsPerStrip') ?? height)),
    photometric, compression,
  };
  if (noData !== null && noData !== undefined) info.noData = Number(noData); // may be NaN ("nan" in the tag)
  if (geo !== undefined) info.geo = geo;
  return unsupported === undefined ? { info } : { info, unsupported };
}

/** YCbCr (JPEG, ITU-R BT.601 full range) -> RGB in place, rounded and clamped as Uint8ClampedArray does. */
function ycbcrToRgb(a: Uint8Array): void {
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0; i + 2 < a.length; i += 3) {
    const y = a[i]!;
    const cb = a[i + 1]! - 128;
    const cr = a[i + 2]! - 128;
    a[i] = clamp(y + 1.402 * cr);
    a[i + 1] = clamp(y - 0.34414 * cb - 0.71414 * cr);
    a[i + 2] = clamp(y + 1.772 * cb);
  }
}

/** Compressions whose decoder takes geotiff.js's default parameters (none, LZW, deflate, PackBits). */
const PLAIN_DECODER_COMPRESSIONS = new Set([1, 5, 8, 32946, 32773]);

/**
 * A window of a pixel-interleaved, little-endian image with whole-byte samples of one type, read tile by tile:
 * each tile is decoded by geotiff.js's own decoder (`getTileOrStrip`, so inflate, predictor and caching are its
 * own) and its rows are copied into the window with typed-array `set` (all bands in file order) or a typed
 * per-pixel loop (a band selection). geotiff.js's `readRasters` does the same copy through a DataView getter
 * call per sample, which dominated window reads. Returns undefined where this path does not apply.
 */
async function readChunky(image: GeoTIFFImage, win: [number, number, number, number], samples: readonly number[]): Promise<RasterTypedArray | undefined> {
  const img = image as unknown as {
    planarConfiguration: number; littleEndian: boolean; fileDirectory: { getValue(n: string): unknown; loadValue(n: string): Promise<unknown> };
    getTileOrStrip(x: number, y: number, sample: number, decoder: unknown): Promise<{ x: number; y: number; data: ArrayBuffer }>;
    getArrayForSample(sample: number, sizeOrData: number | ArrayBuffer): RasterTypedArray;
    getBlockHeight(y: number): number;
  };
  const compression = Number(img.fileDirectory.getValue('Compression') ?? 1);
  if (img.planarConfiguration !== 1 || !img.littleEndian || !PLAIN_DECODER_COMPRESSIONS.has(compression)) return undefined;
  const spp = image.getSamplesPerPixel();
  const bits = Array.from((await img.fileDirectory.loadValue('BitsPerSample')) as ArrayLike<number>);
  const formats = Array.from({ length: spp }, (_, i) => image.getSampleFormat(i));
  if (bits.some((b) => b !== bits[0] || ![8, 16, 32, 64].includes(b)) || formats.some((f) => f !== formats[0])) return undefined;
  const { getDecoder } = await loadGeoTiff();
  const decoder = await getDecoder(compression, {
    tileWidth: image.isTiled ? image.getTileWidth() : image.getWidth(),
    tileHeight: image.getTileHeight(),
    planarConfiguration: 1,
    bitsPerSample: bits,
    predictor: Number(img.fileDirectory.getValue('Predictor') ?? 1),
  } as never);
  const [x0, y0, x1, y1] = win;
  const W = x1 - x0, S = samples.length;
  const tw = image.getTileWidth(), th = image.getTileHeight();
  const out = img.getArrayForSample(0, W * (y1 - y0) * S);
  const identity = S === spp && samples.every((b, i) => b === i);
  const jobs: Promise<void>[] = [];
  for (let ty = Math.floor(y0 / th); ty < Math.ceil(y1 / th); ty++) {
    for (let tx = Math.floor(x0 / tw); tx < Math.ceil(x1 / tw); tx++) {
      jobs.push(img.getTileOrStrip(tx, ty, 0, decoder).then((tile) => {
        const src = img.getArrayForSample(0, tile.data);
        const top = ty * th, left = tx * tw;
        const rows = img.getBlockHeight(ty);
        const ya = Math.max(y0, top), yb = Math.min(y1, top + rows);
        const xa = Math.max(x0, left), xb = Math.min(x1, left + tw);
        for (let y = ya; y < yb; y++) {
          const s0 = ((y - top) * tw + (xa - left)) * spp;
          const d0 = ((y - y0) * W + (xa - x0)) * S;
          if (identity) out.set(src.subarray(s0, s0 + (xb - xa) * spp), d0);
          else {
            for (let x = 0; x < xb - xa; x++) for (let c = 0; c < S; c++) out[d0 + x * S + c] = src[s0 + x * spp + samples[c]!]!;
          }
        }
      }));
    }
  }
  await Promise.all(jobs);
  return out;
}

class GeoTiffSource implements RasterSource {
  private readonly checked = new Set<number>([0]);
  constructor(
    readonly info: RasterInfo,
    private readonly tiff: GeoTIFF,
    private readonly images: GeoTIFFImage[], // [full, overview 1, ...]
    private readonly fileSize: number,
    /** JPEG tiles in YCbCr, converted to RGB after decoding. */
    private readonly ycbcr: boolean,
  ) {}

  async read(req: SourceRead): Promise<RasterTypedArray> {
    const { path } = this.info;
    const image = this.images[req.overview]!;
    if (!this.checked.has(req.overview)) {
      await checkBlocks(path, image, this.fileSize, `overview ${req.overview}`);
      this.checked.add(req.overview);
    }
    const sx = image.getWidth() / this.info.width;
    const sy = image.getHeight() / this.info.height;
    const w = req.window;
    const x0 = Math.max(0, Math.floor(w.x * sx + 1e-9));
    const y0 = Math.max(0, Math.floor(w.y * sy + 1e-9));
    const x1 = Math.min(image.getWidth(), Math.max(x0 + 1, Math.ceil((w.x + w.width) * sx - 1e-9)));
    const y1 = Math.min(image.getHeight(), Math.max(y0 + 1, Math.ceil((w.y + w.height) * sy - 1e-9)));
    const ycbcr = this.ycbcr;
    const samples = ycbcr ? [0, 1, 2] : [...req.bands];
    const resize = x1 - x0 !== req.outWidth || y1 - y0 !== req.outHeight;
    let data: RasterTypedArray;
    try {
      const fast = resize || ycbcr ? undefined : await readChunky(image, [x0, y0, x1, y1], samples);
      data = fast ?? ((await image.readRasters({
        window: [x0, y0, x1, y1],
        samples,
        interleave: true,
        ...(resize ? { width: req.outWidth, height: req.outHeight, resampleMethod: req.resample } : {}),
      })) as unknown as RasterTypedArray);
    } catch (e) {
      throw inputError(path, `decoding pixels failed (${(e as Error).message}). ${CORRUPT_FIX}`, e);
    }
    if (!ycbcr) return data;
    ycbcrToRgb(data as Uint8Array);
    if (req.bands.length === 3 && req.bands[0] === 0 && req.bands[1] === 1 && req.bands[2] === 2) return data;
    const n = req.outWidth * req.outHeight;
    const out = new Uint8Array(n * req.bands.length);
    for (let i = 0; i < n; i++) for (let c = 0; c < req.bands.length; c++) out[i * req.bands.length + c] = data[i * 3 + req.bands[c]!]!;
    return out;
  }

  async close(): Promise<void> {
    await this.tiff.close();
  }
}

const inflateAsync = promisify(inflate);

/**
 * geotiff.js inflates deflate tiles with pako, in JavaScript on the calling thread. Node's zlib does the same
 * (zlib streams, as TIFF's Adobe deflate is) natively on the libuv pool, so the tiles of one window inflate in
 * parallel; geotiff.js still applies the predictor after. Registered once, for compression 8 and 32946.
 */
function useNativeDeflate(g: typeof import('geotiff')): void {
  class NativeDeflateDecoder extends g.BaseDecoder {
    override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
      const out = await inflateAsync(new Uint8Array(buffer));
      return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    }
  }
  g.addDecoder([8, 32946], () => Promise.resolve(NativeDeflateDecoder), undefined, false);
}

/** geotiff.js, imported on first use (once: see importOnce), with the native deflate decoder. */
const loadGeoTiff = importOnce(async () => {
  const g = await import('geotiff');
  useNativeDeflate(g);
  return g;
});

export async function openSource(path: string, format: RasterFormat, fileSize: number): Promise<RasterSource> {
  const { fromFile } = await loadGeoTiff();
  let tiff: GeoTIFF;
  let images: GeoTIFFImage[];
  try {
    tiff = await fromFile(path);
  } catch (e) {
    throw inputError(path, `not a readable TIFF (${(e as Error).message}). ${CORRUPT_FIX}`, e);
  }
  try {
    const count = await tiff.getImageCount();
    images = [];
    for (let i = 0; i < count; i++) images.push(await tiff.getImage(i));
  } catch (e) {
    await tiff.close();
    throw inputError(path, `reading the TIFF directories failed (${(e as Error).message}). ${CORRUPT_FIX}`, e);
  }
  try {
    const main = images[0]!;
    const { info, unsupported } = describe(path, main);
    if (unsupported !== undefined) {
      if (info.geo === undefined) {
        // A plain TIFF geotiff.js can't decode: libtiff (through sharp) may.
        try {
          const sharpDecoder = await import('./sharp.js');
          const src = await sharpDecoder.openSource(path, format, fileSize);
          await tiff.close();
          return src;
        } catch {
          // fall through to the error below, which names the real cause
        }
      }
      throw inputError(path, `${unsupported.reason}. Convert it, e.g. gdal_translate -co COMPRESS=DEFLATE -ot Float32 in.tif out.tif.`);
    }
    await checkBlocks(path, main, fileSize, 'the full-resolution image');
    const overviewImages = images
      .slice(1)
      .filter((im) => {
        const t = Number(im.getFileDirectory().getValue('NewSubfileType') ?? 0);
        return (t & 1) === 1 && (t & 4) === 0 && im.getSamplesPerPixel() === info.bands;
      })
      .sort((a, b) => b.getWidth() - a.getWidth());
    const full: RasterInfo = {
      path,
      format,
      ...info,
      overviews: overviewImages.map((im) => ({ width: im.getWidth(), height: im.getHeight() })),
    };
    if (info.photometric === 'palette') {
      const map = (await main.getFileDirectory().loadValue('ColorMap')) as ArrayLike<number> | undefined;
      if (map !== undefined && map.length % 3 === 0) {
        const n = map.length / 3;
        full.palette = Array.from({ length: n }, (_, i) => [map[i]! >> 8, map[n + i]! >> 8, map[2 * n + i]! >> 8] as const);
      }
    }
    const ycbcr = info.photometric === 'ycbcr' && info.compression === 'jpeg' && info.bands === 3;
    if (ycbcr) full.photometric = 'rgb'; // converted on read
    return new GeoTiffSource(full, tiff, [main, ...overviewImages], fileSize, ycbcr);
  } catch (e) {
    await tiff.close();
    throw e;
  }
}


/**
 * Our GeoTIFF writer: little-endian classic TIFF (BigTIFF on request or when the data may pass 4 GB), tiled,
 * Deflate-compressed (node:zlib) with optional predictor, pixel-interleaved (PlanarConfiguration 1), any band
 * count, every dtype in RASTER_DTYPES with the right SampleFormat, GeoKeys, ModelPixelScale + ModelTiepoint or
 * ModelTransformation, and GDAL_NODATA.
 *
 * Why not geotiff.js's writeArrayBuffer: it writes one uncompressed strip, caps the IFD at 1000 bytes and
 * silently corrupts Int8/Int16/Int32 (see shared/spec/js-runtime.md section 7.1).
 *
 * Layout: header, then the tiles in row-major order, then the IFD and its out-of-line values; the header's
 * IFD offset is patched last. Tiles are compressed a few at a time on the libuv pool and written in order, so
 * memory beyond the input array stays at a handful of tiles. The file is written atomically (temp + rename).
 * Not done: overviews/COG layout, LZW/ZSTD, PlanarConfiguration 2.
 */
import { deflate } from 'node:zlib';
import { promisify } from 'node:util';
import { CmidError } from '../runtime/errors.js';
import { openAtomic } from '../checkpoint/atomic-write.js';
import { DTYPE_INFO, RASTER_DTYPES, dtypeOfArray, type RasterDtype, type RasterTypedArray } from './dtypes.js';
import { encodeGeoKeys, isRotated, type GeoRef } from './georef.js';

const deflateAsync = promisify(deflate);

export interface WriteGeoTiffOptions {
  /** Image size in pixels; data must hold width * height * bands samples, HWC interleaved. */
  width: number;
  height: number;
  bands: number;
  /** Sample type to write. Default: the dtype of the data's typed array (Float32Array -> float32, ...). */
  dtype?: RasterDtype;
  /** Tile size in pixels, a multiple of 16 (TIFF rule). Default: 256. */
  tileSize?: number | { width: number; height: number };
  /** Default: 'deflate'. */
  compression?: 'deflate' | 'none';
  /** zlib level 1-9. Default: 6. */
  deflateLevel?: number;
  /**
   * Apply a predictor before compression: horizontal differencing (Predictor 2) for integer dtypes, the
   * floating-point predictor (Predictor 3) for float32/float64. Default: false.
   */
  predictor?: boolean;
  /** Written as the GDAL_NODATA tag. */
  noData?: number;
  /** Georeferencing; rotated transforms are written as ModelTransformation. */
  geo?: GeoRef;
  /**
   * Colour interpretation. Default: 'rgb' for 3 or 4 bands of uint8, 'palette' when `palette` is given,
   * else 'minisblack'. Bands beyond the colour model's own are declared with ExtraSamples.
   */
  photometric?: 'minisblack' | 'rgb' | 'palette';
  /** The last band is an (unassociated) alpha channel. Default: false. */
  alpha?: boolean;
  /** Colour table for a 1-band uint8/uint16 class mask: index -> [r, g, b] in 0..255. */
  palette?: ReadonlyArray<readonly [number, number, number]>;
  /** Write BigTIFF. Default: only when the uncompressed data could push offsets past 4 GB. */
  bigTiff?: boolean;
}

/** What a sink receives: chunks at absolute file positions. */
interface Sink {
  write(chunk: Uint8Array, position: number): Promise<void>;
}

/**
 * Writes an HWC-interleaved raster as a tiled, compressed GeoTIFF, atomically.
 *
 * @example
 * await writeGeoTiff('out/mask.tif', mask, { width: 512, height: 512, bands: 1, geo, noData: 255 });
 * // -> a 1-band uint8 GeoTIFF, 256x256 deflate tiles, readable by GDAL, QGIS, rasterio and readRaster().
 */
export async function writeGeoTiff(path: string, data: RasterTypedArray, options: WriteGeoTiffOptions): Promise<void> {
  const plan = planTiff(path, data, options);
  const file = await openAtomic(path);
  try {
    await encodeInto(plan, data, {
      async write(chunk, position) {
        let done = 0;
        while (done < chunk.byteLength) {
          const { bytesWritten } = await file.handle.write(chunk, done, chunk.byteLength - done, position + done);
          done += bytesWritten;
        }
      },
    });
  } catch (e) {
    await file.abort();
    throw e;
  }
  await file.commit();
}

/** Same as writeGeoTiff but returns the file's bytes instead of writing a file. */
export async function encodeGeoTiff(data: RasterTypedArray, options: WriteGeoTiffOptions): Promise<Uint8Array> {
  const plan = planTiff('<memory>', data, options);
  const parts: Array<{ chunk: Uint8Array; position: number }> = [];
  await encodeInto(plan, data, {
    async write(chunk, position) {
      parts.push({ chunk: chunk.slice(), position });
    },
  });
  const size = Math.max(...parts.map((p) => p.position + p.chunk.byteLength));
  const out = new Uint8Array(size);
  for (const p of parts) out.set(p.chunk, p.position);
  return out;
}

interface TiffPlan {
  width: number;
  height: number;
  bands: number;
  dtype: RasterDtype;
  tileW: number;
  tileH: number;
  tilesX: number;
  tilesY: number;
  compression: 'deflate' | 'none';
  level: number;
  predictor: 1 | 2 | 3;
  photometric: 0 | 1 | 2 | 3;
  extraSamples: number[];
  palette: ReadonlyArray<readonly [number, number, number]> | undefined;
  noData: number | undefined;
  geo: GeoRef | undefined;
  bigTiff: boolean;
}

function fail(path: string, message: string): never {
  throw new CmidError('input', `writeGeoTiff ${path}: ${message}`, { file: path });
}

function planTiff(path: string, data: RasterTypedArray, o: WriteGeoTiffOptions): TiffPlan {
  const { width, height, bands } = o;
  for (const [k, v] of [['width', width], ['height', height], ['bands', bands]] as const) {
    if (!Number.isInteger(v) || v < 1) fail(path, `${k} must be a positive integer, got ${v}.`);
  }
  if (width > 0xffffffff || height > 0xffffffff || bands > 0xffff) fail(path, 'image too large for TIFF tags.');
  const arrayDtype = dtypeOfArray(data);
  if (arrayDtype === undefined) fail(path, `data must be a typed array of one of ${RASTER_DTYPES.join(', ')}.`);
  const dtype = o.dtype ?? arrayDtype;
  if (dtype !== arrayDtype) {
    fail(path, `dtype '${dtype}' does not match the data (${data.constructor.name} is '${arrayDtype}'). Convert the array, e.g. ${DTYPE_INFO[dtype].ctor.name}.from(data).`);
  }
  if (data.length !== width * height * bands) {
    fail(path, `data has ${data.length} samples but width*height*bands = ${width}*${height}*${bands} = ${width * height * bands} (HWC interleaved).`);
  }
  const ts = o.tileSize ?? 256;
  const tileW = typeof ts === 'number' ? ts : ts.width;
  const tileH = typeof ts === 'number' ? ts : ts.height;
  if (!Number.isInteger(tileW) || !Number.isInteger(tileH) || tileW < 16 || tileH < 16 || tileW % 16 !== 0 || tileH % 16 !== 0) {
    fail(path, `tileSize ${tileW}x${tileH} is not allowed: TIFF tiles must be multiples of 16 (e.g. 256 or 512).`);
  }
  const isFloat = DTYPE_INFO[dtype].sampleFormat === 3;
  const predictor: 1 | 2 | 3 = o.predictor === true ? (isFloat ? 3 : 2) : 1;
  const palette = o.palette;
  let photometricName = o.photometric ?? (palette !== undefined ? 'palette' : dtype === 'uint8' && (bands === 3 || bands === 4) ? 'rgb' : 'minisblack');
  if (photometricName === 'palette') {
    if (palette === undefined || palette.length === 0) fail(path, "photometric 'palette' needs the palette option ([r, g, b] per class index).");
    if (bands !== 1 || (dtype !== 'uint8' && dtype !== 'uint16')) fail(path, `a palette needs 1 band of uint8 or uint16, got ${bands} band(s) of ${dtype}.`);
    if (palette.length > 2 ** DTYPE_INFO[dtype].bits) fail(path, `palette has ${palette.length} entries, more than ${dtype} can index.`);
  } else if (palette !== undefined) {
    fail(path, `palette was given with photometric '${photometricName}'; drop one of them.`);
  }
  if (photometricName === 'rgb' && bands < 3) fail(path, `photometric 'rgb' needs at least 3 bands, got ${bands}.`);
  const baseSamples = photometricName === 'rgb' ? 3 : 1;
  const extraSamples = new Array<number>(bands - baseSamples).fill(0);
  if (o.alpha === true) {
    if (extraSamples.length === 0) fail(path, `alpha: true needs a band beyond the ${photometricName} bands; there are ${bands}.`);
    extraSamples[extraSamples.length - 1] = 2;
  }
  const photometric = ({ minisblack: 1, rgb: 2, palette: 3 } as const)[photometricName];
  const tilesX = Math.ceil(width / tileW);
  const tilesY = Math.ceil(height / tileH);
  const rawBytes = tilesX * tilesY * tileW * tileH * bands * (DTYPE_INFO[dtype].bits / 8);
  const bigTiff = o.bigTiff ?? rawBytes * 1.01 + tilesX * tilesY * 64 + (1 << 24) > 0xffffffff;
  const level = o.deflateLevel ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) fail(path, `deflateLevel must be 1..9, got ${level}.`);
  return {
    width, height, bands, dtype, tileW, tileH, tilesX, tilesY,
    compression: o.compression ?? 'deflate', level, predictor, photometric, extraSamples, palette,
    noData: o.noData, geo: o.geo, bigTiff,
  };
}

/** Copies tile (tx, ty) out of the HWC image into a zero-padded full tile, applies the predictor, returns bytes. */
function tileBytes(p: TiffPlan, data: RasterTypedArray, tx: number, ty: number): Uint8Array {
  const { width, height, bands, tileW, tileH } = p;
  const Ctor = DTYPE_INFO[p.dtype].ctor;
  const tile = new Ctor(tileW * tileH * bands);
  const x0 = tx * tileW;
  const y0 = ty * tileH;
  const cw = Math.min(tileW, width - x0);
  const ch = Math.min(tileH, height - y0);
  const rowLen = tileW * bands;
  for (let r = 0; r < ch; r++) {
    const src = ((y0 + r) * width + x0) * bands;
    tile.set(data.subarray(src, src + cw * bands) as never, r * rowLen);
  }
  if (p.predictor === 2) {
    for (let r = 0; r < tileH; r++) {
      const start = r * rowLen;
      for (let i = start + rowLen - 1; i >= start + bands; i--) tile[i] = tile[i]! - tile[i - bands]!; // wraps like the sample type
    }
  }
  const bytes = new Uint8Array(tile.buffer, tile.byteOffset, tile.byteLength);
  if (p.predictor === 3) {
    const bps = DTYPE_INFO[p.dtype].bits / 8;
    const rowBytes = rowLen * bps;
    const tmp = new Uint8Array(rowBytes);
    for (let r = 0; r < tileH; r++) {
      const row = bytes.subarray(r * rowBytes, (r + 1) * rowBytes);
      tmp.set(row);
      // Byte planes, most significant first (the host is little-endian), then byte-wise differencing with
      // stride = samples per pixel over the whole row, as libtiff's fpDiff does.
      for (let k = 0; k < rowLen; k++) {
        for (let b = 0; b < bps; b++) row[(bps - 1 - b) * rowLen + k] = tmp[k * bps + b]!;
      }
      for (let i = rowBytes - 1; i >= bands; i--) row[i] = row[i]! - row[i - bands]!;
    }
  }
  return bytes;
}

async function encodeInto(p: TiffPlan, data: RasterTypedArray, sink: Sink): Promise<void> {
  const headerSize = p.bigTiff ? 16 : 8;
  let position = headerSize;
  const nTiles = p.tilesX * p.tilesY;
  const offsets = new Array<number>(nTiles);
  const counts = new Array<number>(nTiles);
  const inFlight = 8;
  const pending: Array<Promise<Uint8Array>> = [];
  const start = (i: number): Promise<Uint8Array> => {
    const raw = tileBytes(p, data, i % p.tilesX, Math.floor(i / p.tilesX));
    return p.compression === 'deflate' ? deflateAsync(raw, { level: p.level }) : Promise.resolve(raw);
  };
  let next = 0;
  for (; next < Math.min(inFlight, nTiles); next++) pending.push(start(next));
  for (let i = 0; i < nTiles; i++) {
    const chunk = await pending.shift()!;
    if (next < nTiles) pending.push(start(next++));
    offsets[i] = position;
    counts[i] = chunk.byteLength;
    await sink.write(chunk, position);
    position += chunk.byteLength;
    if (position % 2 === 1) {
      await sink.write(new Uint8Array(1), position); // keep offsets word-aligned
      position += 1;
    }
  }
  if (!p.bigTiff && position > 0xffffffff - (1 << 20)) {
    throw new CmidError('input', 'writeGeoTiff: the data passed 4 GB; write it again with bigTiff: true.');
  }
  const ifdOffset = position;
  await sink.write(buildIfd(p, ifdOffset, offsets, counts), ifdOffset);
  const header = new DataView(new ArrayBuffer(headerSize));
  header.setUint8(0, 0x49);
  header.setUint8(1, 0x49); // 'II' little-endian
  if (p.bigTiff) {
    header.setUint16(2, 43, true);
    header.setUint16(4, 8, true);
    header.setUint16(6, 0, true);
    header.setBigUint64(8, BigInt(ifdOffset), true);
  } else {
    header.setUint16(2, 42, true);
    header.setUint32(4, ifdOffset, true);
  }
  await sink.write(new Uint8Array(header.buffer), 0);
}

// TIFF field types.
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const DOUBLE = 12;
const LONG8 = 16;
const TYPE_SIZE: Record<number, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [DOUBLE]: 8, [LONG8]: 8 };

interface Entry {
  tag: number;
  type: number;
  values: readonly number[] | string;
}

function formatNoData(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

function buildIfd(p: TiffPlan, ifdOffset: number, offsets: number[], counts: number[]): Uint8Array {
  const { bits, sampleFormat } = DTYPE_INFO[p.dtype];
  const n = p.bands;
  const offsetType = p.bigTiff ? LONG8 : LONG;
  const entries: Entry[] = [
    { tag: 256, type: LONG, values: [p.width] },
    { tag: 257, type: LONG, values: [p.height] },
    { tag: 258, type: SHORT, values: new Array<number>(n).fill(bits) },
    { tag: 259, type: SHORT, values: [p.compression === 'deflate' ? 8 : 1] },
    { tag: 262, type: SHORT, values: [p.photometric] },
    { tag: 277, type: SHORT, values: [n] },
    { tag: 284, type: SHORT, values: [1] },
    { tag: 322, type: LONG, values: [p.tileW] },
    { tag: 323, type: LONG, values: [p.tileH] },
    { tag: 324, type: offsetType, values: offsets },
    { tag: 325, type: offsetType, values: counts },
    { tag: 339, type: SHORT, values: new Array<number>(n).fill(sampleFormat) },
  ];
  if (p.predictor !== 1) entries.push({ tag: 317, type: SHORT, values: [p.predictor] });
  if (p.extraSamples.length > 0) entries.push({ tag: 338, type: SHORT, values: p.extraSamples });
  if (p.palette !== undefined) {
    const size = 2 ** bits;
    const map = new Array<number>(3 * size).fill(0);
    p.palette.forEach(([r, g, b], i) => {
      map[i] = Math.round(r) * 257;
      map[size + i] = Math.round(g) * 257;
      map[2 * size + i] = Math.round(b) * 257;
    });
    entries.push({ tag: 320, type: SHORT, values: map });
  }
  if (p.geo !== undefined) {
    const t = p.geo.transform;
    if (isRotated(t)) {
      entries.push({ tag: 34264, type: DOUBLE, values: [t[1], t[2], 0, t[0], t[4], t[5], 0, t[3], 0, 0, 0, 0, 0, 0, 0, 1] });
    } else {
      entries.push({ tag: 33550, type: DOUBLE, values: [t[1], -t[5], 0] });
      entries.push({ tag: 33922, type: DOUBLE, values: [0, 0, 0, t[0], t[3], 0] });
    }
    const keys = encodeGeoKeys(p.geo);
    entries.push({ tag: 34735, type: SHORT, values: keys.directory });
    if (keys.doubles.length > 0) entries.push({ tag: 34736, type: DOUBLE, values: keys.doubles });
    if (keys.ascii.length > 0) entries.push({ tag: 34737, type: ASCII, values: keys.ascii });
  }
  if (p.noData !== undefined) entries.push({ tag: 42113, type: ASCII, values: formatNoData(p.noData) });
  entries.sort((a, b) => a.tag - b.tag);

  const entrySize = p.bigTiff ? 20 : 12;
  const inlineSize = p.bigTiff ? 8 : 4;
  const countSize = p.bigTiff ? 8 : 2;
  const nextSize = p.bigTiff ? 8 : 4;
  const ifdSize = countSize + entries.length * entrySize + nextSize;
  const byteCount = (e: Entry): number => (typeof e.values === 'string' ? e.values.length + 1 : e.values.length) * TYPE_SIZE[e.type]!;
  let extra = 0;
  for (const e of entries) {
    const size = byteCount(e);
    if (size > inlineSize) extra += size + (size % 2);
  }
  const buf = new ArrayBuffer(ifdSize + extra);
  const dv = new DataView(buf);
  const u8 = new Uint8Array(buf);
  let pos = 0;
  if (p.bigTiff) dv.setBigUint64(0, BigInt(entries.length), true);
  else dv.setUint16(0, entries.length, true);
  pos = countSize;
  let dataPos = ifdSize;
  const writeValues = (e: Entry, at: number): void => {
    if (typeof e.values === 'string') {
      for (let i = 0; i < e.values.length; i++) u8[at + i] = e.values.charCodeAt(i) & 0x7f;
      u8[at + e.values.length] = 0;
      return;
    }
    const size = TYPE_SIZE[e.type]!;
    e.values.forEach((v, i) => {
      const o = at + i * size;
      if (e.type === SHORT) dv.setUint16(o, v, true);
      else if (e.type === LONG) dv.setUint32(o, v, true);
      else if (e.type === DOUBLE) dv.setFloat64(o, v, true);
      else dv.setBigUint64(o, BigInt(v), true);
    });
  };
  for (const e of entries) {
    const count = typeof e.values === 'string' ? e.values.length + 1 : e.values.length;
    dv.setUint16(pos, e.tag, true);
    dv.setUint16(pos + 2, e.type, true);
    if (p.bigTiff) dv.setBigUint64(pos + 4, BigInt(count), true);
    else dv.setUint32(pos + 4, count, true);
    const valuePos = pos + (p.bigTiff ? 12 : 8);
    const size = byteCount(e);
    if (size <= inlineSize) {
      writeValues(e, valuePos);
    } else {
      if (p.bigTiff) dv.setBigUint64(valuePos, BigInt(ifdOffset + dataPos), true);
      else dv.setUint32(valuePos, ifdOffset + dataPos, true);
      writeValues(e, dataPos);
      dataPos += size + (size % 2);
    }
    pos += entrySize;
  }
  // next IFD offset = 0 (already zero)
  return u8;
}

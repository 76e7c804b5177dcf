/**
 * JPEG/PNG/WebP (and plain TIFFs geotiff.js cannot decode) through sharp/libvips, keeping the sample depth.
 *
 * sharp's traps (shared/spec/js-runtime.md section 7.2), handled here:
 * - default .raw() reduces 16-bit to 8-bit: we ask for .toColourspace('rgb16'|'grey16').raw({depth:'ushort'});
 * - default .raw() turns a 1-band image (8-bit grey PNG, float TIFF) into 3-channel sRGB: we ask for 'b-w'
 *   (or 'grey16') for 1-2 band images;
 * - decoding warnings (truncated JPEG/PNG) are errors (failOn: 'warning'), never half-grey images.
 * No EXIF auto-rotation is applied: pixels come in file order, as GDAL and PIL give them.
 */
import type { Sharp } from 'sharp';
import { CmidError } from '../../runtime/errors.js';
import { DTYPE_INFO, type RasterDtype, type RasterTypedArray } from '../dtypes.js';
import type { RasterFormat, RasterInfo, RasterSource, SourceRead } from './index.js';

type SharpFactory = (typeof import('sharp'))['default'];

const DEPTH_DTYPE: Record<string, RasterDtype> = {
  uchar: 'uint8', char: 'int8', ushort: 'uint16', short: 'int16', uint: 'uint32', int: 'int32', float: 'float32', double: 'float64',
};

function inputError(path: string, message: string, cause?: unknown): CmidError {
  return new CmidError('input', `${path}: ${message}`, cause === undefined ? { file: path } : { file: path, cause });
}

class SharpSource implements RasterSource {
  constructor(
    readonly info: RasterInfo,
    private readonly sharp: SharpFactory,
    private readonly depth: string,
  ) {}

  async read(req: SourceRead): Promise<RasterTypedArray> {
    const { path, width, height, bands, dtype } = this.info;
    let pipe: Sharp = this.sharp(path, { failOn: 'warning', limitInputPixels: false, sequentialRead: true });
    const w = req.window;
    if (w.x !== 0 || w.y !== 0 || w.width !== width || w.height !== height) {
      pipe = pipe.extract({ left: w.x, top: w.y, width: w.width, height: w.height });
    }
    if (req.outWidth !== w.width || req.outHeight !== w.height) {
      pipe = pipe.resize(req.outWidth, req.outHeight, { fit: 'fill', kernel: req.resample === 'nearest' ? 'nearest' : 'linear' });
    }
    const grey = bands <= 2;
    if (dtype === 'uint8') pipe = pipe.toColourspace(grey ? 'b-w' : 'srgb').raw();
    else if (dtype === 'uint16') pipe = pipe.toColourspace(grey ? 'grey16' : 'rgb16').raw({ depth: 'ushort' });
    else if (dtype === 'float32' && grey) pipe = pipe.toColourspace('b-w').raw({ depth: 'float' });
    else pipe = pipe.raw({ depth: this.depth as 'float' });
    let out: { data: Buffer; info: { channels: number; width: number; height: number } };
    try {
      out = await pipe.toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw inputError(
        path,
        `decoding failed (${(e as Error).message.trim()}). The file is truncated or corrupt; fetch or export it again.`,
        e,
      );
    }
    if (out.info.channels !== bands || out.info.width !== req.outWidth || out.info.height !== req.outHeight) {
      throw inputError(
        path,
        `decoder returned ${out.info.width}x${out.info.height}x${out.info.channels}, expected ${req.outWidth}x${req.outHeight}x${bands}. ` +
          'Convert the image to a plain TIFF (gdal_translate) and read that.',
      );
    }
    const Ctor = DTYPE_INFO[dtype].ctor as unknown as {
      new (buffer: ArrayBufferLike, byteOffset: number, length: number): RasterTypedArray;
      BYTES_PER_ELEMENT: number;
    };
    const size = Ctor.BYTES_PER_ELEMENT;
    const buf = out.data.byteOffset % size === 0 ? out.data : Buffer.from(out.data); // copy when unaligned
    const all = new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / size);
    if (req.bands.length === bands && req.bands.every((b, i) => b === i)) return all;
    const n = req.outWidth * req.outHeight;
    const k = req.bands.length;
    const sel = new (DTYPE_INFO[dtype].ctor)(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) sel[i * k + c] = all[i * bands + req.bands[c]!]!;
    return sel;
  }

  async close(): Promise<void> {}
}

export async function openSource(path: string, format: RasterFormat, _fileSize?: number): Promise<RasterSource> {
  const sharp = (await import('sharp')).default;
  let meta: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw inputError(path, `not a readable ${format.toUpperCase()} (${(e as Error).message.trim()}). The file is truncated or corrupt; fetch it again.`, e);
  }
  const depth = meta.depth ?? 'uchar';
  const dtype = DEPTH_DTYPE[depth];
  if (meta.width === undefined || meta.height === undefined || meta.channels === undefined || dtype === undefined) {
    throw inputError(path, `could not read size/channels/depth (${meta.width}x${meta.height}x${meta.channels}, depth ${depth}). Convert it to PNG or TIFF.`);
  }
  const photometric = meta.channels <= 2 ? 'minisblack' : 'rgb';
  const info: RasterInfo = {
    path,
    format,
    width: meta.width,
    height: meta.height,
    bands: meta.channels,
    dtype,
    tileWidth: meta.width,
    tileHeight: meta.height,
    overviews: [],
    photometric,
    compression: format,
  };
  return new SharpSource(info, sharp, depth);
}

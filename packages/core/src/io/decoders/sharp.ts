/**
 * JPEG/PNG/WebP (and plain TIFFs geotiff.js cannot decode) through sharp/libvips, keeping the sample depth.
 *
 * sharp's traps (shared/spec/js-runtime.md section 7.2), handled here:
 * - default .raw() reduces 16-bit to 8-bit: we ask for .toColourspace('rgb16'|'grey16').raw({depth:'ushort'});
 * - default .raw() turns a 1-band image (8-bit grey PNG, float TIFF) into 3-channel sRGB: we ask for 'b-w'
 *   (or 'grey16') for 1-2 band images;
 * - decoding warnings (truncated JPEG/PNG) are errors (failOn: 'warning'), never half-grey images.
 * No EXIF auto-rotation is applied: pixels come in file order, as GDAL and PIL give them.
 *
 * The fast path (JPEG/PNG, the images of every scene and pretraining dataset): openSource gets the file's first
 * bytes from decoders/index.ts (the whole file up to HEAD_BYTES) and parses the header itself (image-header.ts)
 * instead of calling sharp's metadata(), and reads decode from those bytes in memory when they are the whole file.
 * A whole-image read is then one sharp call, with exactly the options and colourspace of the general path, so the
 * pixels are the same; only the header source differs, and the parser answers only where it knows libvips' answer.
 * It lives here, under openRaster(), rather than in a separate whole-image function, because the dataset readers
 * (pretrain readUint8, classify readScene, ImageFolder, the window samplers) open a handle, check dtype and bands,
 * then read: they all get it unchanged. Everything else (WebP, TIFFs geotiff.js passes on, CMYK or 12-bit JPEG,
 * unusual PNGs, headers past the first HEAD_BYTES) takes the general path: metadata(), then decode from the path.
 */
import type { Sharp } from 'sharp';
import { CmidError } from '../../runtime/errors.js';
import { DTYPE_INFO, type RasterDtype, type RasterTypedArray } from '../dtypes.js';
import { parseJpegHeader, parsePngHeader, type ImageHeader } from './image-header.js';
import { importOnce, type RasterFormat, type RasterInfo, type RasterSource, type SourceRead } from './index.js';

type SharpFactory = (typeof import('sharp'))['default'];

/** sharp, imported on first use (once: see importOnce). */
const loadSharp = importOnce(async () => (await import('sharp')).default);

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
    /** The whole file when openSource had it in memory (dropped on close), else undefined: read from the path. */
    private data?: Buffer,
  ) {}

  async read(req: SourceRead): Promise<RasterTypedArray> {
    const { path, width, height, bands, dtype } = this.info;
    let pipe: Sharp = this.sharp(this.data ?? path, { failOn: 'warning', limitInputPixels: false, sequentialRead: true });
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

  async close(): Promise<void> {
    this.data = undefined; // a read after close still works, from the path, as it always did
  }
}

function sourceInfo(path: string, format: RasterFormat, width: number, height: number, channels: number, dtype: RasterDtype): RasterInfo {
  return {
    path,
    format,
    width,
    height,
    bands: channels,
    dtype,
    tileWidth: width,
    tileHeight: height,
    overviews: [],
    photometric: channels <= 2 ? 'minisblack' : 'rgb',
    compression: format,
  };
}

/** The header of a JPEG/PNG from its first bytes, or undefined when only sharp's metadata() can tell. */
function parseHeader(format: RasterFormat, head: Uint8Array): ImageHeader | undefined {
  if (format === 'jpeg') return parseJpegHeader(head);
  if (format === 'png') return parsePngHeader(head);
  return undefined;
}

/**
 * Opens a JPEG/PNG/WebP/TIFF through sharp. `head` (the file's first bytes, from decoders/index.ts) enables the
 * fast path: header parsed here, and decoding from memory when head is the whole file (head.length === fileSize).
 */
export async function openSource(path: string, format: RasterFormat, fileSize?: number, head?: Buffer): Promise<RasterSource> {
  const sharp = await loadSharp();
  const header = head === undefined ? undefined : parseHeader(format, head);
  if (header !== undefined) {
    const whole = head !== undefined && head.length === fileSize ? head : undefined;
    const info = sourceInfo(path, format, header.width, header.height, header.channels, DEPTH_DTYPE[header.depth]!);
    return new SharpSource(info, sharp, header.depth, whole);
  }
  // the general path: libvips reads the header (sharp metadata), pixels are decoded from the path
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
  return new SharpSource(sourceInfo(path, format, meta.width, meta.height, meta.channels, dtype), sharp, depth);
}

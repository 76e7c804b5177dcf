/**
 * JPEG/PNG/WebP (and plain TIFFs geotiff.js cannot decode) through sharp/libvips, keeping the sample depth.
 *
 * sharp's traps (shared/spec/js-runtime.md section 7.2), handled here:
 * - default .raw() reduces 16-bit to 8-bit: we ask for .toColourspace('rgb16'|'grey16').raw({depth:'ushort'});
 * - default .raw() turns a 1-band image (8-bit grey PNG, float TIFF) into 3-channel sRGB: we ask for 'b-w'
 *   (or 'grey16') for 1-band images;
 * - raw output of a 'b-w' image is its first band only (sharp's pipeline.cc extracts band 0 of every B_W image
 *   it writes raw, ensureAlpha() or not), so 8-bit grey+alpha (PNG colour type 4, or grey with a tRNS chunk: 2
 *   bands in metadata() and in libvips' decode) would come back as 1 band. 'grey16' keeps the alpha band, so 2-band
 *   8-bit images are decoded as grey16 (libvips scales uchar to ushort by exactly 257, grey and alpha alike) and
 *   divided back; 16-bit grey+alpha is plain grey16;
 * - CMYK (JPEG; libvips space 'cmyk', 4 bands) is turned into sRGB by default, through an ICC transform with
 *   sharp's generic CMYK profile: 3 bands, and colours that match no other reader. See CmykMode for what we do;
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
 * then read: they all get it unchanged. Everything else (WebP, TIFFs geotiff.js passes on, 12-bit JPEG, unusual
 * PNGs, headers past the first HEAD_BYTES) takes the general path: metadata(), then decode from the path.
 *
 * Whole-image reads of 8-bit grey/YCbCr JPEGs try our wasm decoder first (wasm/jpeg.c): the same bytes as the
 * libjpeg-turbo inside sharp, without sharp's ~1 ms per call. It declines whatever it does not cover (progressive,
 * CMYK, ICC profiles, ...) and whatever libjpeg would warn about, and those reads continue below exactly as before.
 * CMID_JPEG_DECODER=sharp turns it off.
 */
import { readFile } from 'node:fs/promises';
import type { Sharp } from 'sharp';
import { CmidError } from '../../runtime/errors.js';
import { DTYPE_INFO, type RasterDtype, type RasterTypedArray } from '../dtypes.js';
import { parseJpegHeader, parsePngHeader, type ImageHeader } from './image-header.js';
import { decodeJpegWasm, WASM_JPEG_MAX_PIXELS, wasmJpegEnabled } from './wasm/jpeg-wasm.js';
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

/**
 * How a CMYK image (libvips space 'cmyk') is returned. Either way libvips decodes the file's own CMYK samples
 * (pipelineColourspace('cmyk') skips sharp's ICC transform to sRGB, toColourspace('cmyk') its conversion back),
 * Adobe-inverted files already un-inverted by libvips, as PIL's 'CMYK' mode has them.
 * - 'rgb' (CMYK/YCCK JPEG): 3 bands, R = (255 - K) - C * (255 - K) / 255 (likewise G from M, B from Y), rounded
 *   exactly as PIL's Image.convert('RGB') does (libImaging/Convert.c cmyk2rgb); torchvision's decode_jpeg and GDAL's
 *   JPEG driver (GDAL_JPEG_TO_RGB=YES) use the same product formula (within 1 of it). A remote-sensing model sees
 *   these images through those readers when it is trained elsewhere, and 3 bands is what an RGB scene pipeline
 *   expects, so this is the answer rather than 4 CMYK bands or sharp's colour-managed sRGB (its generic CMYK
 *   profile gives colours a mean 20-25 levels away from PIL's, measured on a gradient). An embedded ICC profile is
 *   ignored, as by PIL. Windows and resizing are applied to the CMYK samples, then the formula.
 * - 'raw' (CMYK TIFF that geotiff.js passed on): the 4 (or more) CMYK samples as they are, as geotiff.js returns
 *   the CMYK TIFFs it decodes itself (photometric 'cmyk').
 */
type CmykMode = 'rgb' | 'raw';

class SharpSource implements RasterSource {
  constructor(
    readonly info: RasterInfo,
    private readonly sharp: SharpFactory,
    private readonly depth: string,
    private readonly cmyk: CmykMode | undefined,
    /** The whole file when openSource had it in memory (dropped on close), else undefined: read from the path. */
    private data?: Buffer,
  ) {}

  async read(req: SourceRead): Promise<RasterTypedArray> {
    const { path, width, height, bands, dtype } = this.info;
    const w = req.window;
    const whole = w.x === 0 && w.y === 0 && w.width === width && w.height === height && req.outWidth === width && req.outHeight === height;
    let input: Buffer | string = this.data ?? path;
    if (whole && this.info.format === 'jpeg' && this.cmyk === undefined && dtype === 'uint8' && (bands === 1 || bands === 3) && wasmJpegEnabled()) {
      // our wasm decoder first (the same bytes as libjpeg-turbo in sharp, without sharp's per-call cost); it declines
      // what it does not cover, and anything libjpeg would warn about, and sharp below takes those
      if (typeof input === 'string' && width * height <= WASM_JPEG_MAX_PIXELS) input = await readWhole(path);
      if (typeof input !== 'string') {
        const r = decodeJpegWasm(input, width * height);
        if (typeof r !== 'string' && r.width === width && r.height === height && r.channels === bands) return selectBands(r.data, bands, req);
      }
    }
    let pipe: Sharp = this.sharp(input, { failOn: 'warning', limitInputPixels: false, sequentialRead: true });
    if (w.x !== 0 || w.y !== 0 || w.width !== width || w.height !== height) {
      pipe = pipe.extract({ left: w.x, top: w.y, width: w.width, height: w.height });
    }
    if (req.outWidth !== w.width || req.outHeight !== w.height) {
      pipe = pipe.resize(req.outWidth, req.outHeight, { fit: 'fill', kernel: req.resample === 'nearest' ? 'nearest' : 'linear' });
    }
    const grey = bands <= 2;
    /** Channels sharp must return, and how they become `bands` samples of `dtype` (undefined: as they are). */
    let channels = bands;
    let convert: ((data: Buffer) => RasterTypedArray) | undefined;
    if (this.cmyk !== undefined) {
      pipe = pipe.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: this.depth as 'uchar' });
      if (this.cmyk === 'rgb') {
        channels = bands + 1;
        convert = (data) => cmykToRgb(data, channels);
      }
    } else if (dtype === 'uint8' && bands === 2) {
      pipe = pipe.toColourspace('grey16').raw({ depth: 'ushort' }); // grey + alpha: 'b-w' would drop the alpha
      convert = (data) => ushortToUchar(typedView(data, Uint16Array));
    } else if (dtype === 'uint8') pipe = pipe.toColourspace(grey ? 'b-w' : 'srgb').raw();
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
    if (out.info.channels !== channels || out.info.width !== req.outWidth || out.info.height !== req.outHeight) {
      throw inputError(
        path,
        `decoder returned ${out.info.width}x${out.info.height}x${out.info.channels}, expected ${req.outWidth}x${req.outHeight}x${channels}. ` +
          'Convert the image to a plain TIFF (gdal_translate) and read that.',
      );
    }
    const all = convert !== undefined ? convert(out.data) : typedView(out.data, DTYPE_INFO[dtype].ctor as unknown as ViewCtor<RasterTypedArray>);
    return selectBands(all, bands, req);
  }

  async close(): Promise<void> {
    this.data = undefined; // a read after close still works, from the path, as it always did
  }
}

/** The requested bands of `bands`-band pixels (the array itself when all of them, in order). */
function selectBands(all: RasterTypedArray, bands: number, req: SourceRead): RasterTypedArray {
  if (req.bands.length === bands && req.bands.every((b, i) => b === i)) return all;
  const n = req.outWidth * req.outHeight;
  const k = req.bands.length;
  const sel = new (all.constructor as new (n: number) => RasterTypedArray)(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) sel[i * k + c] = all[i * bands + req.bands[c]!]!;
  return sel;
}

/** A whole file, read for the wasm JPEG decoder (files past HEAD_BYTES; a failed read is sharp's to report). */
async function readWhole(path: string): Promise<Buffer | string> {
  try {
    return await readFile(path);
  } catch {
    return path;
  }
}

type ViewCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** The samples of a sharp output buffer as a typed array (a view, or a copy when the buffer is unaligned). */
function typedView<T extends RasterTypedArray>(data: Buffer, Ctor: ViewCtor<T>): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  const buf = data.byteOffset % size === 0 ? data : Buffer.from(data); // copy when unaligned
  return new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / size);
}

/** 8-bit samples libvips widened to 16 bits (v * 257, exactly) back to 8 bits; rounds anything in between. */
function ushortToUchar(a: Uint16Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i]! / 257);
  return out;
}

/**
 * CMYK(+extra) samples, `channels` per pixel, to RGB(+extra): PIL's cmyk2rgb, bit for bit (its MULDIV255 rounding
 * of C * (255 - K) / 255). Extra bands (alpha) are copied.
 */
function cmykToRgb(src: Uint8Array, channels: number): Uint8Array {
  const n = src.length / channels;
  const k = channels - 1;
  const out = new Uint8Array(n * k);
  for (let i = 0, s = 0, d = 0; i < n; i++, s += channels, d += k) {
    const nk = 255 - src[s + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = src[s + c]! * nk + 128;
      out[d + c] = nk - (((t >> 8) + t) >> 8);
    }
    for (let e = 4; e < channels; e++) out[d + e - 1] = src[s + e]!;
  }
  return out;
}

/**
 * Our RasterInfo for an image libvips describes as `channels` bands of `dtype`: the declared bands are those read()
 * returns, so a CMYK JPEG (cmyk 'rgb') declares one band fewer than libvips' 4 (see CmykMode).
 */
function sourceInfo(
  path: string, format: RasterFormat, width: number, height: number, channels: number, dtype: RasterDtype, cmyk: CmykMode | undefined,
): RasterInfo {
  const bands = cmyk === 'rgb' ? channels - 1 : channels;
  return {
    path,
    format,
    width,
    height,
    bands,
    dtype,
    tileWidth: width,
    tileHeight: height,
    overviews: [],
    photometric: cmyk === 'raw' ? 'cmyk' : bands <= 2 ? 'minisblack' : 'rgb',
    compression: format,
  };
}

/** How a CMYK image is returned (see CmykMode), or undefined when the image is not CMYK. */
function cmykMode(format: RasterFormat, isCmyk: boolean, dtype: RasterDtype): CmykMode | undefined {
  if (!isCmyk) return undefined;
  return format !== 'tiff' && dtype === 'uint8' ? 'rgb' : 'raw';
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
    const dtype = DEPTH_DTYPE[header.depth]!;
    const cmyk = cmykMode(format, header.cmyk === true, dtype);
    const info = sourceInfo(path, format, header.width, header.height, header.channels, dtype, cmyk);
    return new SharpSource(info, sharp, header.depth, cmyk, whole);
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
  const cmyk = cmykMode(format, meta.space === 'cmyk', dtype);
  return new SharpSource(sourceInfo(path, format, meta.width, meta.height, meta.channels, dtype, cmyk), sharp, depth, cmyk);
}

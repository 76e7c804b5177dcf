/**
 * The image type of the augmentation functions: a plain interleaved HWC array, any band count (3 for RGB, 13 for
 * Sentinel-2, 1 for a label mask). Pixel (y, x), band c lives at data[(y * width + x) * channels + c].
 *
 * - `Uint8Array`: 0..255 values (decoded JPEG/PNG, label masks). Photometric ops follow the uint8 semantics of
 *   their references (truncating or rounding casts, as each file documents).
 * - `Float32Array`: normalised or physical values; geometry, blur, normalisation and masking accept it.
 *
 * HWC was chosen because decoders (sharp, geotiff) produce it and the model side is NHWC tfjs: a batch is the
 * concatenation of samples' `data`, with no transpose (the PyTorch reference's ToTensorV2 HWC -> CHW step has no
 * counterpart here).
 */
import { CmidError } from '../runtime/errors.js';

export type PixelData = Uint8Array | Float32Array;

export interface Image<T extends PixelData = PixelData> {
  data: T;
  height: number;
  width: number;
  channels: number;
}

/** Checks the shape fields against the data length; returns the image for chaining. */
export function checkImage<T extends PixelData>(img: Image<T>, op: string): Image<T> {
  const { data, height, width, channels } = img;
  if (!(data instanceof Uint8Array || data instanceof Float32Array)) {
    throw new CmidError('input', `${op}: image data must be a Uint8Array or Float32Array, got ${Object.prototype.toString.call(data)}.`);
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || !Number.isInteger(channels) || height < 1 || width < 1 || channels < 1) {
    throw new CmidError('input', `${op}: image has height=${height} width=${width} channels=${channels}; all must be positive integers.`);
  }
  if (data.length !== height * width * channels) {
    throw new CmidError(
      'input',
      `${op}: data has ${data.length} values but height*width*channels = ${height}*${width}*${channels} = ${height * width * channels}. ` +
        'The layout is interleaved HWC.',
    );
  }
  return img;
}

/** A zero image of the given shape with the same array type as `like` (or the one named). */
export function emptyImage<T extends PixelData>(like: T | 'uint8' | 'float32', height: number, width: number, channels: number): Image<T> {
  const n = height * width * channels;
  const isU8 = like === 'uint8' || like instanceof Uint8Array;
  const data = (isU8 ? new Uint8Array(n) : new Float32Array(n)) as T;
  return { data, height, width, channels };
}

/** Wraps an existing array as an image (validated, not copied). */
export function imageFrom<T extends PixelData>(data: T, height: number, width: number, channels: number): Image<T> {
  return checkImage({ data, height, width, channels }, 'imageFrom');
}

export function cloneImage<T extends PixelData>(img: Image<T>): Image<T> {
  return { data: img.data.slice() as T, height: img.height, width: img.width, channels: img.channels };
}

export function isUint8(img: Image): img is Image<Uint8Array> {
  return img.data instanceof Uint8Array;
}

/** Throws unless the image holds uint8 values (the photometric ops' domain). */
export function requireUint8(img: Image, op: string): asserts img is Image<Uint8Array> {
  checkImage(img, op);
  if (!(img.data instanceof Uint8Array)) {
    throw new CmidError('input', `${op}: expects a uint8 image (0..255), got Float32Array data. Apply ${op} before normalizeImage, on the decoded uint8 pixels.`);
  }
}

/** Throws unless the image has exactly 3 (RGB) bands; colour operations are undefined for other band counts. */
export function requireRgb(img: Image, op: string): void {
  checkImage(img, op);
  if (img.channels !== 3) {
    throw new CmidError(
      'input',
      `${op}: needs a 3-band RGB image, got ${img.channels} band(s). Colour operations (jitter, grayscale, hue) have no meaning ` +
        'for other band counts; disable them for multispectral input (set their probability to 0) or select 3 bands first.',
    );
  }
}

/** Float32 copy of the pixel values (uint8 values kept on the 0..255 scale). */
export function toFloat32Image(img: Image): Image<Float32Array> {
  checkImage(img, 'toFloat32Image');
  return { data: Float32Array.from(img.data), height: img.height, width: img.width, channels: img.channels };
}

/** Python's round() (half to even), used where a reference computes int(round(x)). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Raster sample types: the one table that maps our dtype names to TIFF BitsPerSample/SampleFormat and to
 * JS typed arrays. Shared by the decoders (source dtype) and the GeoTIFF writer (SampleFormat tag).
 */
export const RASTER_DTYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'] as const;
export type RasterDtype = (typeof RASTER_DTYPES)[number];

export type RasterTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** TIFF SampleFormat values (tag 339). */
export const SAMPLE_FORMAT = { uint: 1, int: 2, float: 3 } as const;

interface DtypeInfo {
  bits: 8 | 16 | 32 | 64;
  sampleFormat: 1 | 2 | 3;
  ctor: new (n: number) => RasterTypedArray;
}

export const DTYPE_INFO: Record<RasterDtype, DtypeInfo> = {
  uint8: { bits: 8, sampleFormat: 1, ctor: Uint8Array },
  int8: { bits: 8, sampleFormat: 2, ctor: Int8Array },
  uint16: { bits: 16, sampleFormat: 1, ctor: Uint16Array },
  int16: { bits: 16, sampleFormat: 2, ctor: Int16Array },
  uint32: { bits: 32, sampleFormat: 1, ctor: Uint32Array },
  int32: { bits: 32, sampleFormat: 2, ctor: Int32Array },
  float32: { bits: 32, sampleFormat: 3, ctor: Float32Array },
  float64: { bits: 64, sampleFormat: 3, ctor: Float64Array },
};

/** The dtype for TIFF BitsPerSample + SampleFormat, or undefined when we do not read that combination. */
export function dtypeFromTiff(bits: number, sampleFormat: number): RasterDtype | undefined {
  for (const name of RASTER_DTYPES) {
    const info = DTYPE_INFO[name];
    if (info.bits === bits && info.sampleFormat === sampleFormat) return name;
  }
  return undefined;
}

/** The dtype of a typed array (Uint8ClampedArray counts as uint8). */
export function dtypeOfArray(a: ArrayBufferView): RasterDtype | undefined {
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return undefined;
}

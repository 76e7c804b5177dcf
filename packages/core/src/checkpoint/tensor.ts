/**
 * The tensor record of the checkpoint readers: a dtype, a shape and a contiguous row-major typed array.
 * Plain typed arrays on purpose: the readers run before (and without) tfjs, and int64 / float16 / bfloat16,
 * which tfjs lacks, are kept bit-exact until the caller converts them.
 */
import { CmidError } from '../runtime/errors.js';

export type CheckpointDtype =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** float16 and bfloat16 hold raw bits (Uint16Array); bool holds 0/1 bytes. */
export type TensorArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor read from a checkpoint: `data` is contiguous row-major, `data.length` = product of `shape`. */
export interface CheckpointTensor {
  readonly dtype: CheckpointDtype;
  /** PyTorch order (e.g. OIHW for conv weights); [] for a scalar. */
  readonly shape: readonly number[];
  readonly data: TensorArray;
}

/** A state dict: parameter and buffer names, in file order, to tensors. */
export type StateDict = Map<string, CheckpointTensor>;

export const DTYPE_BYTES: Readonly<Record<CheckpointDtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isCheckpointTensor(v: unknown): v is CheckpointTensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as CheckpointTensor).dtype === 'string' &&
    Array.isArray((v as CheckpointTensor).shape) &&
    ArrayBuffer.isView((v as CheckpointTensor).data)
  );
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A typed array of `dtype` over `bytes` (which must be aligned to the element size and sized to a multiple of it). */
export function typedView(dtype: CheckpointDtype, buffer: ArrayBufferLike, byteOffset: number, length: number): TensorArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length);
  }
}

/** A fresh zero-filled array of `dtype` with `length` elements. */
export function allocTyped(dtype: CheckpointDtype, length: number): TensorArray {
  return typedView(dtype, new ArrayBuffer(length * DTYPE_BYTES[dtype]), 0, length);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The tensor's values as float32. float16 and bfloat16 widen exactly; float64 and int64 round to nearest float32
 * (int64 beyond 2^24 loses precision). Returns `data` itself for float32.
 *
 * @example
 * toFloat32({ dtype: 'bfloat16', shape: [1], data: Uint16Array.of(0x3f80) }) // Float32Array [1]
 */
export function toFloat32(t: CheckpointTensor): Float32Array {
  const { data } = t;
  switch (t.dtype) {
    case 'float32':
      return data as Float32Array;
    case 'bfloat16': {
      const out = new Float32Array(data.length);
      const bits = new Uint32Array(out.buffer);
      const src = data as Uint16Array;
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'float16': {
      const out = new Float32Array(data.length);
      const src = data as Uint16Array;
      for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]!);
      return out;
    }
    case 'int64': {
      const out = new Float32Array(data.length);
      const src = data as BigInt64Array;
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
      return out;
    }
    default:
      return Float32Array.from(data as Float64Array);
  }
}

/** Bit-level float32 -> bfloat16 (round to nearest even, NaN kept NaN), for writers that want bf16. */
export function float32ToBfloat16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i]!;
    const b = u32[0]!;
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** A CmidError of kind 'checkpoint' whose message starts with the file. */
export function checkpointError(file: string, message: string, cause?: unknown): CmidError {
  return new CmidError('checkpoint', `${file}: ${message}`, cause === undefined ? { file } : { file, cause });
}

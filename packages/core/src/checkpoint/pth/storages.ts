/**
 * torch storages and the tensors viewing them. The pickle names storages by key (`<archive>/data/<key>`) with
 * their element type; `_rebuild_tensor_v2(storage, offset, size, stride, ...)` makes a strided view. The views are
 * recorded while the pickle runs (the VM is synchronous) and filled once the storages have been read.
 *
 * Materialisation: a view that is contiguous row-major becomes a subarray of its storage (no copy; two such
 * tensors over one storage share memory, as in PyTorch); any other view (transpose, step slice, expand with
 * stride 0) is gathered into a fresh contiguous array.
 */
import { DTYPE_BYTES, allocTyped, checkpointError, numel, typedView, type CheckpointDtype, type CheckpointTensor, type TensorArray } from '../tensor.js';

/** torch.<Name>Storage -> element dtype (the legacy typed-storage names that torch.save still writes). */
export const STORAGE_DTYPES: Readonly<Record<string, CheckpointDtype>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export interface StorageRef {
  readonly $storage: string;
  readonly dtype: CheckpointDtype;
  /** Element count declared in the pickle. */
  readonly numel: number;
}

export interface PendingTensor {
  readonly tensor: { dtype: CheckpointDtype; shape: readonly number[]; data: TensorArray };
  readonly storage: StorageRef;
  readonly offset: number;
  readonly stride: readonly number[];
}

const EMPTY = new Uint8Array(0);

export function newPendingTensor(storage: StorageRef, offset: number, shape: readonly number[], stride: readonly number[]): PendingTensor {
  return { tensor: { dtype: storage.dtype, shape, data: EMPTY }, storage, offset, stride };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/**
 * Fills `p.tensor.data` from the storage bytes (`bytes` must start on an 8-byte boundary, as ZipContainer.read
 * returns them). Throws CmidError 'checkpoint' when the storage is shorter than the view needs.
 */
export function materialise(file: string, entry: string, p: PendingTensor, bytes: Uint8Array): CheckpointTensor {
  const { tensor, offset, stride } = p;
  const { shape, dtype } = tensor;
  const size = DTYPE_BYTES[dtype];
  const available = Math.floor(bytes.byteLength / size);
  const n = numel(shape);
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
  if (n > 0 && (offset < 0 || last >= available)) {
    throw checkpointError(
      file,
      `storage "${entry}" holds ${available} ${dtype} elements (${bytes.byteLength} bytes) but a tensor of shape [${shape.join(', ')}] ` +
        `at offset ${offset} with stride [${stride.join(', ')}] needs ${last + 1}; the storage is truncated or the file is corrupt.`,
    );
  }
  const src = typedView(dtype, bytes.buffer, bytes.byteOffset, available);
  if (n === 0) {
    tensor.data = allocTyped(dtype, 0);
  } else if (isContiguous(shape, stride)) {
    tensor.data = src.subarray(offset, offset + n);
  } else {
    const out = allocTyped(dtype, n);
    const o = out as unknown as (number | bigint)[];
    const s = src as unknown as (number | bigint)[];
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    let at = offset;
    for (let i = 0; i < n; i++) {
      o[i] = s[at]!;
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]!++;
        at += stride[d]!;
        if (idx[d]! < shape[d]!) break;
        at -= stride[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
    tensor.data = out;
  }
  return tensor;
}

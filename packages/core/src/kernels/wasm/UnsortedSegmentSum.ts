/**
 * UnsortedSegmentSum for wasm, which ships none; tf.gather's gradient needs it (Swin's relative-position-bias
 * table, embeddings).
 *
 * out[s, ...] = sum of x[i..., ...] over the leading index tuples i whose segmentIds[i] == s, with TensorFlow's
 * semantics: segmentIds covers the leading dims of x (often just x.shape[0]), out has shape
 * [numSegments, ...x.shape.slice(segmentIds.rank)], and ids outside [0, numSegments) are dropped.
 * (tfjs's cpu kernel only handles rank-1 segmentIds correctly; for those the two agree.)
 *
 * A JS loop straight on the wasm heap: the op is memory bound, one pass over x, rows of `inner` contiguous floats.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = Number((args.attrs ?? {}).numSegments);
  const backend = args.backend as BackendWasm;
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${String(numSegments)}.`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}.`);
  }
  const idsRank = segmentIds.shape.length;
  for (let d = 0; d < idsRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must equal the leading dims of x [${x.shape}].`,
      );
    }
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: x must be float32 or int32, got ${x.dtype}.`);
  }
  const innerShape = x.shape.slice(idsRank);
  const inner = tf.util.sizeFromShape(innerShape);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  // views taken after makeOutput, which may grow the heap; makeOutput's memory is not zeroed
  const o = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  o.fill(0);
  if (rows === 0 || inner === 0) return out;
  const xs = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  if (inner === 1) {
    for (let r = 0; r < rows; r++) {
      const s = ids[r]!;
      if (s >= 0 && s < numSegments) o[s]! += xs[r]!;
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const dst = s * inner;
    const src = r * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};

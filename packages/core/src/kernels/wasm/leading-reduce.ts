/**
 * Sum and Mean over a set of LEADING axes of a float32 tensor on our own module (shared by Sum.ts and Mean.ts).
 *
 * Why: batch-norm statistics reduce NHWC activations over [0, 1, 2]. The shipped wasm kernels reduce only
 * innermost axes, so they first transpose [B*H*W, C] to [C, B*H*W] with a generic transpose, which is most of
 * their time. Reducing leading axes is a column sum of the [rows, cols] view, which needs no transpose:
 * csrc/colsum.c does it with SIMD, float32 pairwise over blocks of 16 rows and float64 across blocks (more
 * accurate than the shipped float32 running sum), and the result is rounded to float32 once (Mean divides in
 * float64 first). x is copied into the GEMM module's memory in 256 KiB pieces as it is summed.
 *
 * Measured (Sum over [0, 1, 2], median of 20, 2-core Xeon, Node 20), shipped -> ours:
 *   [2,112,112,64] 11.0 -> 0.51 ms   [2,56,56,256] 8.3 -> 0.59 ms   [2,28,28,512] 3.8 -> 0.28 ms
 *   [2,14,14,1024] 1.06 -> 0.10 ms   [2,7,7,2048] 0.85 -> 0.09 ms   [2,7,7,512] 0.12 -> 0.02 ms
 * A plain JS loop with a Float64Array accumulator over the tfjs heap view (no copy) took 4.0, 6.6, 2.1, 1.0,
 * 0.9 and 0.13 ms: no faster than the shipped kernel, so the column sum is in C.
 *
 * Every other case (other or no axes, all axes, duplicate axes, non-float32 input) runs the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { columnSums } from './gemm.js';
import { heapF32 } from './conv-util.js';
import { runShipped } from './shipped.js';

/** k when `axes` (any order, negatives allowed) are exactly [0, k) with 0 < k < rank, else 0. */
export function leadingAxisCount(axis: number | number[] | null | undefined, shape: readonly number[]): number {
  if (axis === null || axis === undefined) return 0; // every axis: the shipped kernel needs no transpose
  const rank = shape.length;
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
  if (list.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) return 0; // let the shipped kernel report it
  const set = new Set(list);
  const k = set.size;
  if (k !== list.length || k === 0 || k >= rank) return 0;
  for (let a = 0; a < k; a++) if (!set.has(a)) return 0;
  return k;
}

export function leadingReduce(
  kernel: 'Sum' | 'Mean',
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = (args.attrs ?? {}) as { axis?: number | number[] | null; keepDims?: boolean };
  const k = x.dtype === 'float32' ? leadingAxisCount(axis, x.shape) : 0;
  if (k === 0) return runShipped(kernel, args.backend, args.inputs, args.attrs);
  const backend = args.backend as BackendWasm;
  const rest = x.shape.slice(k);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
  const cols = tf.util.sizeFromShape(rest);
  const out = backend.makeOutput(keepDims === true ? [...new Array<number>(k).fill(1), ...rest] : rest, 'float32');
  if (cols === 0) return out;
  const sums = columnSums(heapF32(backend, x), rows, cols); // views taken after makeOutput
  const o = heapF32(backend, out);
  // no rows: zeros for both, as on cpu (whose Mean divides before it sums)
  if (kernel === 'Mean' && rows > 0) for (let j = 0; j < cols; j++) o[j] = sums[j]! / rows;
  else o.set(sums);
  return out;
}

/**
 * BatchMatMul for wasm on our own SIMD GEMM (gemm.ts, csrc/gemm.c) for every float32 case.
 *
 * Why: the shipped kernel uses XNNPACK only for batch 1 without transposes; batched matmuls (attention) and
 * transposeA/transposeB (every weight gradient) fall to a scalar loop at 0.6-1.7 GFLOP/s. Our GEMM absorbs
 * transposes into its packing and runs all batches in one call (per-batch offsets express broadcasting), so
 * 2048 small Swin-window matmuls cost one call, not 2048.
 *
 * Batch dims broadcast like NumPy (right-aligned, size-1 dims repeat), e.g. a [1,M,K] x b [B,K,N] or
 * a [2,1,M,K] x b [3,K,N]. When b has a single matrix and a is not transposed, the batch folds into M.
 * Non-float32 inputs go to the shipped kernel (which throws for them, as before).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmBatched } from './gemm.js';
import { runShipped } from './shipped.js';

/** Element offsets of each output batch's matrix in one operand, broadcasting its batch dims to `outBatch`. */
function batchOffsets(outBatch: number[], operandBatch: number[], matrixSize: number): Int32Array {
  const total = tf.util.sizeFromShape(outBatch);
  const offsets = new Int32Array(total);
  const rank = outBatch.length;
  const shift = rank - operandBatch.length;
  // operand strides (in matrices) aligned to the output dims; 0 where the operand broadcasts
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = operandBatch.length - 1; d >= 0; d--) {
    strides[d + shift] = operandBatch[d] === 1 ? 0 : s;
    s *= operandBatch[d]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < total; i++) {
    offsets[i] = off * matrixSize;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < outBatch[d]!) break;
      off -= strides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return offsets;
}

/**
 * op(a) @ op(b) with broadcast batch dims, float32, on the wasm backend. Returns a new TensorInfo of shape
 * [...broadcastBatch, M, N]; shared with _FusedMatMul.
 */
export function gemmMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  kernel = 'BatchMatMul',
): tf.TensorInfo {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) {
    throw new Error(`${kernel}: a and b need rank >= 2, got a=[${a.shape}] b=[${b.shape}].`);
  }
  const M = transposeA ? a.shape[aRank - 1]! : a.shape[aRank - 2]!;
  const Ka = transposeA ? a.shape[aRank - 2]! : a.shape[aRank - 1]!;
  const Kb = transposeB ? b.shape[bRank - 1]! : b.shape[bRank - 2]!;
  const N = transposeB ? b.shape[bRank - 2]! : b.shape[bRank - 1]!;
  if (Ka !== Kb) {
    throw new Error(
      `${kernel}: inner dimensions differ: a=[${a.shape}] transposeA=${transposeA} gives ${Ka}, ` +
        `b=[${b.shape}] transposeB=${transposeB} gives ${Kb}.`,
    );
  }
  const K = Ka;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const out = backend.makeOutput([...outBatch, M, N], 'float32');
  const batch = tf.util.sizeFromShape(outBatch);
  if (batch * M * N === 0) return out;
  // views taken after makeOutput, which may grow (and so detach) the heap
  const aData = backend.typedArrayFromHeap(a) as Float32Array;
  const bData = backend.typedArrayFromHeap(b) as Float32Array;
  const outData = backend.typedArrayFromHeap(out) as Float32Array;
  const aMats = tf.util.sizeFromShape(aBatch);
  const bMats = tf.util.sizeFromShape(bBatch);
  const aStrides = transposeA ? { rs: 1, cs: M } : { rs: K, cs: 1 };
  const bStrides = transposeB ? { rs: 1, cs: K } : { rs: N, cs: 1 };
  if (bMats === 1 && aMats === batch && !transposeA) {
    // b shared by all batches and a's rows contiguous across batches: one [batch*M, K] x [K, N] GEMM
    const zero = new Int32Array(1);
    gemmBatched(1, batch * M, N, K, { data: aData, ...aStrides, offsets: zero }, { data: bData, ...bStrides, offsets: zero }, outData);
  } else {
    const aOff = batchOffsets(outBatch, aBatch, M * K);
    const bOff = batchOffsets(outBatch, bBatch, K * N);
    gemmBatched(batch, M, N, K, { data: aData, ...aStrides, offsets: aOff }, { data: bData, ...bStrides, offsets: bOff }, outData);
  }
  return out;
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return runShipped('BatchMatMul', args.backend, args.inputs, args.attrs);
  }
  return gemmMatMul(args.backend as BackendWasm, a, b, transposeA === true, transposeB === true);
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};

/**
 * CmidBatchNormTrain and CmidBatchNormTrainGrad: batch normalisation with batch statistics, forward and backward,
 * optionally fused with the following ReLU, on heap-kernels.wasm (csrc/batchnorm.c) in place on the tfjs heap.
 * These kernel names exist only on `wasm`; src/ops/batch-norm-train.ts calls them where they are registered and
 * otherwise runs the same formula as tf ops (other backends, the compiled engine's tracer, the ONNX exporter).
 *
 * Why: the tf-op formulation runs 6 full passes over the activations forward and 7 backward (plus 4 for the
 * ReLU's Step/Cast/Multiply gradient), each a separate single-threaded kernel call; in the eager ResNet-50 step
 * they were about a fifth of the time. The fused kernels make 4 passes forward and 3 backward and keep no
 * full-size intermediate (the backward recomputes the normalised value from x for the ReLU mask).
 *
 * CmidBatchNormTrain   inputs x [..., C], gamma [C], beta [C]; attrs eps, relu
 *                      outputs y (x's shape), mean, variance (biased), invstd [C]
 * CmidBatchNormTrainGrad inputs dy, x, mean, invstd, gamma, beta; attrs relu
 *                      outputs dx, dgamma, dbeta
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../ops/batch-norm-train.js';
import { heapKernels, heapPtr, heapScratch } from './heap-kernels.js';

function check(op: string, x: tf.TensorInfo, ...vecs: tf.TensorInfo[]): number {
  if (x.dtype !== 'float32' || x.shape.length < 1) throw new Error(`${op}: x must be a float32 tensor of rank >= 1 (got ${x.dtype} [${x.shape.join(', ')}]).`);
  const C = x.shape[x.shape.length - 1]!;
  for (const v of vecs) {
    if (v.dtype !== 'float32' || v.shape.length !== 1 || v.shape[0] !== C) {
      throw new Error(`${op}: per-channel inputs must be float32 [${C}] (got ${v.dtype} [${v.shape.join(', ')}]).`);
    }
  }
  return C;
}

function forward(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps, relu } = (args.attrs ?? {}) as { eps: number; relu?: boolean };
  const backend = args.backend as BackendWasm;
  const C = check(BATCH_NORM_TRAIN, x, gamma, beta);
  const rows = C === 0 ? 0 : tf.util.sizeFromShape(x.shape) / C;
  const y = backend.makeOutput([...x.shape], 'float32');
  const mean = backend.makeOutput([C], 'float32');
  const variance = backend.makeOutput([C], 'float32');
  const invstd = backend.makeOutput([C], 'float32');
  if (C === 0) return [y, mean, variance, invstd];
  const k = heapKernels(backend);
  const s = heapScratch(backend, [8 * C, 4 * k.bn_chunk_floats(), 4 * C, 4 * C]);
  try {
    const [acc, tmp, alpha, shift] = s.ptrs as [number, number, number, number];
    k.bn_train_forward(heapPtr(backend, x), rows, C, heapPtr(backend, gamma), heapPtr(backend, beta), Math.fround(eps), relu === true ? 1 : 0,
      heapPtr(backend, y), heapPtr(backend, mean), heapPtr(backend, variance), heapPtr(backend, invstd), acc, tmp, alpha, shift);
  } finally {
    s.free();
  }
  return [y, mean, variance, invstd];
}

function backward(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { dy, x, mean, invstd, gamma, beta } = args.inputs as Record<'dy' | 'x' | 'mean' | 'invstd' | 'gamma' | 'beta', tf.TensorInfo>;
  const { relu } = (args.attrs ?? {}) as { relu?: boolean };
  const backend = args.backend as BackendWasm;
  const C = check(BATCH_NORM_TRAIN_GRAD, x, mean, invstd, gamma, beta);
  if (dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) {
    throw new Error(`${BATCH_NORM_TRAIN_GRAD}: dy must be float32 [${x.shape.join(', ')}] (got ${dy.dtype} [${dy.shape.join(', ')}]).`);
  }
  const rows = C === 0 ? 0 : tf.util.sizeFromShape(x.shape) / C;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dgamma = backend.makeOutput([C], 'float32');
  const dbeta = backend.makeOutput([C], 'float32');
  if (C === 0) return [dx, dgamma, dbeta];
  const k = heapKernels(backend);
  const s = heapScratch(backend, [16 * C, 8 * k.bn_chunk_floats(), 4 * C, 4 * C, 4 * C, 4 * C, 4 * C]);
  try {
    const [acc, tmp, alpha, shift, kk, dbn, sc] = s.ptrs as [number, number, number, number, number, number, number];
    k.bn_train_backward(heapPtr(backend, dy), heapPtr(backend, x), rows, C, heapPtr(backend, mean), heapPtr(backend, invstd),
      heapPtr(backend, gamma), heapPtr(backend, beta), relu === true ? 1 : 0, heapPtr(backend, dx), heapPtr(backend, dgamma), heapPtr(backend, dbeta),
      acc, tmp, alpha, shift, kk, dbn, sc);
  } finally {
    s.free();
  }
  return [dx, dgamma, dbeta];
}

export const batchNormTrainConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: 'wasm',
  kernelFunc: forward as unknown as tf.KernelFunc,
};

export const batchNormTrainGradConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  backendName: 'wasm',
  kernelFunc: backward as unknown as tf.KernelFunc,
};

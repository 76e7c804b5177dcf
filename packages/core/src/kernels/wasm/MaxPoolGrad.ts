/**
 * MaxPoolGrad for wasm, replacing the shipped one, which drops the gradient of every window whose maximum is
 * negative (it starts its running maximum at 0: on a 4x4 map of normal noise, pooled 2x2, two of the four windows
 * got no gradient). Networks that pool after a ReLU never see negative maxima, which is how it went unnoticed;
 * pooling raw features (heads, the MIM branch) does.
 *
 * dx[n, y, x, c] = sum of dy over the output cells whose window takes its maximum at (y, x); the maximum is the
 * first one in row-major window order (as tfjs's cpu kernel, PyTorch and onnxruntime's MaxPool indices), padding
 * never wins. csrc/maxpool.c on heap-kernels.wasm, in place on the tfjs heap: one pass over the windows, four
 * channels at a time (the JS loop it replaced took 28 ms for ResNet-50's stem pooling at batch 2; this takes
 * about 2).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapKernels, heapPtr, heapScratch } from './heap-kernels.js';

function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = (args.attrs ?? {}) as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const backend = args.backend as BackendWasm;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const out = backend.makeOutput([...input.shape], 'float32');
  const taps = heapScratch(backend, [4 * kh * kw]);
  try {
    heapKernels(backend).maxpool_grad(heapPtr(backend, input), heapPtr(backend, dy), heapPtr(backend, out), N, H, W, C, Ho, Wo, kh, kw, sh, sw, top, left, taps.ptrs[0]!);
  } finally {
    taps.free();
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};

/**
 * The kernels tfjs-backend-wasm itself ships, captured before we replace any of them, so that our kernels can
 * delegate to the fast XNNPACK paths (Conv2D, the batch-1 untransposed BatchMatMul) and to plain helpers
 * (Transpose, PadV2, Slice, Reshape). Use `runShipped` from inside a kernelFunc.
 */
import * as tf from '@tensorflow/tfjs';

const shipped = new Map<string, tf.KernelConfig>();

/** Record the wasm backend's own configs; called once, after the wasm module registered its kernels. */
export function captureShippedKernels(): void {
  if (shipped.size > 0) return;
  for (const k of tf.getKernelsForBackend('wasm')) shipped.set(k.kernelName, k);
}

export function shippedKernel(name: string): tf.KernelConfig {
  const k = shipped.get(name);
  if (k === undefined) {
    throw new Error(`@cmid/core: tfjs-backend-wasm ships no '${name}' kernel (captured ${shipped.size} kernels).`);
  }
  return k;
}

/** Whether tfjs-backend-wasm ships a kernel of that name. */
export function hasShipped(name: string): boolean {
  return shipped.has(name);
}

/** Run a shipped wasm kernel on TensorInfos; the caller disposes the result with backend.disposeData. */
export function runShipped(
  name: string,
  backend: tf.KernelBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const out = shippedKernel(name).kernelFunc({ inputs, backend, attrs });
  return Array.isArray(out) ? (out[0] as tf.TensorInfo) : (out as tf.TensorInfo);
}

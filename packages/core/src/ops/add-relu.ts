/**
 * relu(a + b) for same-shape float32 tensors: the residual join of a ResNet block. Where the active backend has
 * the fused kernels (CmidAddRelu / CmidReluGradFromOutput: wasm, src/kernels/wasm/AddRelu.ts) it is one pass
 * forward and one backward (dy * step(y), the same bits as tfjs's Step + Cast + Multiply of the input, since
 * step(relu(v)) = step(v)), where the tf ops take two and three; elsewhere, and while trace() records kernels for
 * ONNX export, it is tf.relu(tf.add(a, b)), so traced graphs are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { isTracing } from '../graph/trace.js';

export const ADD_RELU = 'CmidAddRelu';
export const RELU_GRAD_FROM_OUTPUT = 'CmidReluGradFromOutput';

export const fusedAddReluOptions = { enabled: process.env.CMID_FUSED_KERNELS !== '0' };

export function addRelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const fused = fusedAddReluOptions.enabled && a.dtype === 'float32' && b.dtype === 'float32' && tf.util.arraysEqual(a.shape, b.shape) &&
    !isTracing() && tf.getKernel(ADD_RELU, tf.getBackend()) !== undefined && tf.getKernel(RELU_GRAD_FROM_OUTPUT, tf.getBackend()) !== undefined;
  if (!fused) return tf.tidy(() => tf.relu(tf.add(a, b)));
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    const out = tf.engine().runKernel(ADD_RELU, { a: x, b: y }, {}) as tf.Tensor;
    save([out]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = tf.engine().runKernel(RELU_GRAD_FROM_OUTPUT, { dy, y: saved[0]! }, {}) as tf.Tensor;
        return [g, tf.clone(g)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(a, b);
}

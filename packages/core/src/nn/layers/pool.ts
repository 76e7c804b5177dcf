/** Pooling with PyTorch semantics on NHWC tensors. */
import * as tf from '@tensorflow/tfjs';

/** nn.MaxPool2d(kernel, stride, padding): padded cells never win (PyTorch pads with -inf; tfjs skips them). */
export function maxPool2d(x: tf.Tensor4D, kernel: number, stride = kernel, padding = 0): tf.Tensor4D {
  return tf.maxPool(x, kernel, stride, padding === 0 ? 'valid' : padding, 'floor');
}

/** Global average pool over H and W: [B, H, W, C] -> [B, C]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

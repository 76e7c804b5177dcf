/** Activations as functions (modules add nothing for parameter-free ops). GELU is the exact erf form (PyTorch default). */
import * as tf from '@tensorflow/tfjs';

export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}

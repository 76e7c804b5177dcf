/**
 * Classification losses of timm 0.6.12 (timm/loss/cross_entropy.py), as tf ops that the compiled engine lowers:
 * - softTargetCrossEntropy(z, y) = mean_b sum_k -y_bk log_softmax(z_b)_k (SoftTargetCrossEntropy; the criterion
 *   whenever mixup/cutmix is on, the targets then carry the label smoothing);
 * - labelSmoothingCrossEntropy(z, labels, s) = mean_b [(1 - s) nll_b + s mean_k(-log_softmax(z_b)_k)].
 * log_softmax is z - max(z) - log sum exp(z - max(z)); the max is detached (the result does not depend on it).
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './stop-gradient.js';

/** Row-wise log-softmax of logits [B, C] from primitive ops. */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logits, stopGradient(tf.max(logits, 1, true)));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true))) as tf.Tensor2D;
}

export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.sum(tf.mul(tf.neg(targets), logSoftmaxRows(logits)), 1)) as tf.Scalar;
}

export function labelSmoothingCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  const C = logits.shape[1];
  const logp = logSoftmaxRows(logits);
  const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), C).toFloat(), logp), 1));
  const smooth = tf.neg(tf.mean(logp, 1));
  return tf.mean(tf.add(tf.mul(nll, 1 - smoothing), tf.mul(smooth, smoothing))) as tf.Scalar;
}

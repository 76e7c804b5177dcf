/**
 * Classification losses of timm 0.6.12 (timm/loss/cross_entropy.py, timm/data/mixup.py), as tf ops that the
 * compiled engine lowers:
 * - softTargetCrossEntropy(z, y) = mean_b sum_k -y_bk log_softmax(z_b)_k (SoftTargetCrossEntropy; the criterion
 *   whenever mixup/cutmix is on, the targets then carry the label smoothing);
 * - labelSmoothingCrossEntropy(z, labels, s) = mean_b [(1 - s) nll_b + s mean_k(-log_softmax(z_b)_k)]
 *   (LabelSmoothingCrossEntropy; equal to torch's F.cross_entropy(z, labels, label_smoothing=s));
 * - smoothOneHot(labels, C, s): one-hot rows with off = s / C, on = 1 - s + s / C (mixup.py's one_hot targets),
 *   so softTargetCrossEntropy(z, smoothOneHot(labels, C, s)) = labelSmoothingCrossEntropy(z, labels, s).
 *
 * log_softmax is z - max(z) - log sum exp(z - max(z)) with the max detached (the value does not depend on it), from
 * Max, Sub, Exp, Sum, Log: ops with ONNX lowerings (onnx/lower.ts), as are their gradients. One-hot rows are built
 * as Equal(labels[:, None], [0..C-1]) cast to float, because tfjs's OneHot kernel has no ONNX lowering; the class
 * range is a constant, so labels may be a graph input (int32 or float32 holding integers).
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import { stopGradient } from './stop-gradient.js';

/** Row-wise log-softmax of logits [B, C] from primitive ops. */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, stopGradient(tf.max(logits, 1, true)));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true))) as tf.Tensor2D;
  });
}

function checkLogits(op: string, logits: tf.Tensor): void {
  if (logits.rank !== 2) throw new CmidError('input', `${op}: logits must be [B, C], got [${logits.shape}].`);
}

function checkLabels(op: string, labels: tf.Tensor, batch?: number): void {
  if (labels.rank !== 1 || (batch !== undefined && labels.shape[0] !== batch)) {
    throw new CmidError('input', `${op}: labels must be [B]${batch !== undefined ? ` with B = ${batch} (the logits' batch)` : ''}, got [${labels.shape}].`);
  }
}

function checkSmoothing(op: string, smoothing: number): void {
  // timm asserts smoothing < 1.0: at 1 the target ignores the label
  if (!(smoothing >= 0 && smoothing < 1)) throw new CmidError('input', `${op}: smoothing is ${smoothing}; it must be in [0, 1) (timm uses 0.1).`);
}

/** Float [B, C] rows with 1 at each label (int32 or integer-valued float32 [B]) and 0 elsewhere. */
function oneHotRows(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => {
    const classes = tf.range(0, numClasses, 1, 'int32').reshape([1, numClasses]);
    const l = labels.dtype === 'int32' ? labels : tf.cast(tf.round(labels), 'int32');
    return tf.cast(tf.equal(tf.reshape(l, [-1, 1]), classes), 'float32') as tf.Tensor2D;
  });
}

/**
 * Mixup's label-smoothed one-hot targets [B, C] float32: off = s / C, on = 1 - s + s / C.
 *
 * @example
 * smoothOneHot(tf.tensor1d([2, 0], 'int32'), 4, 0.1) // [[0.025, 0.025, 0.925, 0.025], [0.925, 0.025, 0.025, 0.025]]
 */
export function smoothOneHot(labels: tf.Tensor1D, numClasses: number, smoothing = 0): tf.Tensor2D {
  const op = 'smoothOneHot';
  checkLabels(op, labels);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new CmidError('input', `${op}: numClasses is ${numClasses}; it must be a positive integer.`);
  checkSmoothing(op, smoothing);
  const off = smoothing / numClasses, on = 1 - smoothing + off;
  return tf.tidy(() => {
    const hot = oneHotRows(labels, numClasses);
    return (smoothing === 0 ? hot : tf.add(tf.mul(hot, on - off), off)) as tf.Tensor2D;
  });
}

/**
 * timm SoftTargetCrossEntropy: mean over the batch of sum_k -targets_k * log_softmax(logits)_k.
 * logits [B, C], targets [B, C] (rows summing to 1: mixed, smoothed or plain one-hot). Returns a scalar.
 */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const op = 'softTargetCrossEntropy';
  checkLogits(op, logits);
  if (targets.shape.join(',') !== logits.shape.join(',')) {
    throw new CmidError('input', `${op}: logits are [${logits.shape}] but targets are [${targets.shape}]; targets must be [B, C] like the logits (smoothOneHot makes them from labels).`);
  }
  return tf.tidy(() => tf.mean(tf.sum(tf.mul(tf.neg(targets), logSoftmaxRows(logits)), 1)) as tf.Scalar);
}

/**
 * timm LabelSmoothingCrossEntropy: mean over the batch of (1 - s) * nll + s * mean_k(-log_softmax(logits)_k).
 * logits [B, C], labels [B] class indices (int32, or float32 holding integers), smoothing s in [0, 1). Returns a scalar.
 */
export function labelSmoothingCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0.1): tf.Scalar {
  const op = 'labelSmoothingCrossEntropy';
  checkLogits(op, logits);
  checkLabels(op, labels, logits.shape[0]);
  checkSmoothing(op, smoothing);
  return tf.tidy(() => {
    const logp = logSoftmaxRows(logits);
    const nll = tf.neg(tf.sum(tf.mul(oneHotRows(labels, logits.shape[1]), logp), 1));
    const smooth = tf.neg(tf.mean(logp, 1));
    return tf.mean(tf.add(tf.mul(nll, 1 - smoothing), tf.mul(smooth, smoothing))) as tf.Scalar;
  });
}

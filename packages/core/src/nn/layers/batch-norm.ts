/**
 * BatchNorm2d with PyTorch semantics on NHWC tensors: training mode normalises with the biased batch variance
 * and updates running_mean / running_var (unbiased, n/(n-1)) with momentum 0.1 and counts num_batches_tracked;
 * eval mode uses the running statistics. The running-statistics update is a side effect of forward(), as in
 * PyTorch; it does not enter the gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { batchNormTrain } from '../../ops/batch-norm-train.js';

export class BatchNorm2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  constructor(
    readonly numFeatures: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([numFeatures]));
    this.bias = this.param('bias', tf.zeros([numFeatures]));
    this.runningMean = this.buffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0, 'int32'), { torchDtype: 'int64' });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.normalize(x, false);
  }

  /** relu(forward(x)); in training mode on wasm the ReLU runs inside the fused batch-norm kernels. */
  forwardRelu(x: tf.Tensor): tf.Tensor {
    return this.normalize(x, true);
  }

  private normalize(x: tf.Tensor, relu: boolean): tf.Tensor {
    if (!this.training) {
      const y = tf.batchNorm(x, this.runningMean, this.runningVar, this.bias, this.weight, this.eps);
      return relu ? reluOf(y) : y;
    }
    const n = x.size / this.numFeatures;
    const { y, mean, variance } = batchNormTrain(x, this.weight, this.bias, this.eps, relu);
    tf.tidy(() => {
      const m = this.momentum;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * n) / Math.max(n - 1, 1))));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    tf.dispose([mean, variance]);
    return y;
  }
}

/** relu(y), disposing y (the tape keeps its own copy when it needs y for the gradient). */
function reluOf(y: tf.Tensor): tf.Tensor {
  const r = tf.relu(y);
  y.dispose();
  return r;
}

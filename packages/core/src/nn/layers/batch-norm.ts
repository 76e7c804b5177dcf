/**
 * BatchNorm2d with PyTorch semantics on NHWC tensors: training mode normalises with the biased batch variance
 * and updates running_mean / running_var (unbiased, n/(n-1)) with momentum 0.1 and counts num_batches_tracked;
 * eval mode uses the running statistics. The running-statistics update is a side effect of forward(), as in
 * PyTorch; it does not enter the gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';

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
    const axes = [...Array(x.rank - 1).keys()]; // all but channels (last)
    if (!this.training) {
      return tf.batchNorm(x, this.runningMean, this.runningVar, this.bias, this.weight, this.eps);
    }
    const n = x.size / this.numFeatures;
    let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
    const y = trainNorm(x, this.weight, this.bias, axes, this.eps, (s) => (stats = s));
    const { mean, variance } = stats!;
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

/**
 * Batch normalisation with batch statistics, written as PyTorch 1.13's CPU kernels compute it (batch_norm_cpu
 * and batch_norm_backward_cpu): forward y = x * alpha + beta with alpha = gamma * invstd and
 * beta = bias - mean * alpha, the variance from d = x - mean; backward
 * dx = ((dy - sum(dy) / N) - d * k) * (gamma * invstd) with k = sum(d * dy) * invstd^2 / N,
 * dgamma = sum(d * dy) * invstd, dbeta = sum(dy). Per element that is 4 passes forward and 5 backward (the
 * compiled engine's batch-norm cost), where differentiating through tf.moments takes more passes and loses about
 * a decimal digit of the input gradient in float32 (three nearly cancelling terms), which Adam's per-element
 * normalisation then shows in the updated weights. `onStats` receives the batch mean and biased variance (kept
 * tensors; the caller disposes them) for the running statistics.
 */
function trainNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, axes: number[], eps: number, onStats: (s: { mean: tf.Tensor; variance: tf.Tensor }) => void): tf.Tensor {
  const n = x.size / x.shape[x.rank - 1]!;
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xIn, axes);
    const d = tf.sub(xIn, mean);
    const variance = tf.mean(tf.mul(d, d), axes);
    onStats({ mean: tf.keep(mean), variance: tf.keep(variance) });
    const invstd = tf.rsqrt(tf.add(variance, eps));
    const alpha = tf.mul(g, invstd);
    const shift = tf.sub(b, tf.mul(mean, alpha));
    save([d, invstd, g]);
    return {
      value: tf.add(tf.mul(xIn, alpha), shift),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dev, inv, gm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dbeta = tf.sum(dy, axes);
        const dotp = tf.sum(tf.mul(dev, dy), axes);
        const k = tf.div(tf.mul(dotp, tf.mul(inv, inv)), n);
        const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(dev, k)), tf.mul(inv, gm));
        return [dx, tf.mul(dotp, inv), dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, gamma, beta);
}

/** LayerNorm over the last axis with PyTorch semantics (biased variance, eps inside the square root). */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';

export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([normalizedShape]));
    this.bias = this.param('bias', tf.zeros([normalizedShape]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(normed, this.weight), this.bias);
  }
}

/** Linear with PyTorch semantics on [..., in] tensors; weight in tfjs layout [in, out], state-dict layout [out, in]. */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { defaultWeight } from '../init.js';

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  /** `layout`: how the state dict shows the weight ('linear' [out, in]; 'pointwise1d' [out, in, 1] for Conv1d k=1). */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
    layout: 'linear' | 'pointwise1d' = 'linear',
  ) {
    super();
    this.weight = this.param('weight', defaultWeight([inFeatures, outFeatures], inFeatures), layout);
    this.bias = bias ? this.param('bias', defaultWeight([outFeatures], inFeatures)) : undefined;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
    if (this.bias !== undefined) y = tf.add(y, this.bias);
    return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outFeatures]);
  }
}

/**
 * A kernel-1 Conv1d (PyTorch `nn.Conv1d(in, out, 1)`) applied to channels-last rows: the DINO-style heads of CMID's
 * LocalHead run it on [B, C, L] sequences, which are per-position linear maps. Here the input is [..., in] (rows
 * = positions) and the weight is kept as a dense [in, out]; the state dict shows PyTorch's [out, in, 1]
 * (layout 'pointwise1d'). Init: PyTorch's default, U(+-1/sqrt(in)) for weight and bias.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { defaultWeight } from '../init.js';

export class PointwiseConv1d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    bias = true,
  ) {
    super();
    this.weight = this.param('weight', defaultWeight([inChannels, outChannels], inChannels), 'pointwise1d');
    this.bias = bias ? this.param('bias', defaultWeight([outChannels], inChannels)) : undefined;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const flat = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, this.inChannels]) as tf.Tensor2D);
    let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
    if (this.bias !== undefined) y = tf.add(y, this.bias);
    return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outChannels]);
  }
}

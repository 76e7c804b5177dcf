/**
 * Conv2d with PyTorch semantics (symmetric integer padding, stride, dilation, groups, optional bias) on NHWC
 * tensors. Weight in tfjs layout [kh, kw, in/groups, out]; state-dict layout OIHW. groups = in = out/multiplier
 * uses tfjs's depthwise convolution; other groups split the channels.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { defaultWeight } from '../init.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  readonly depthwise: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true }: Conv2dOptions = {},
  ) {
    super();
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: in (${inChannels}) and out (${outChannels}) channels must be divisible by groups (${groups}).`);
    }
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    this.depthwise = groups > 1 && groups === inChannels;
    const k = kernelSize;
    const fanIn = (inChannels / groups) * k * k;
    if (this.depthwise) {
      this.weight = this.param('weight', defaultWeight([k, k, inChannels, outChannels / inChannels], fanIn), 'depthwise2d');
    } else {
      this.weight = this.param('weight', defaultWeight([k, k, inChannels / groups, outChannels], fanIn), 'conv2d');
    }
    this.bias = bias ? this.param('bias', defaultWeight([outChannels], fanIn)) : undefined;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.padding;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p, p], [p, p], [0, 0]];
    let y: tf.Tensor4D;
    if (this.groups === 1) {
      y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, p === 0 ? 'valid' : pad, 'NHWC', this.dilation);
    } else if (this.depthwise) {
      y = tf.depthwiseConv2d(x, this.weight as tf.Tensor4D, this.stride, p === 0 ? 'valid' : pad, 'NHWC', this.dilation);
    } else {
      const xs = tf.split(x, this.groups, 3) as tf.Tensor4D[];
      const ws = tf.split(this.weight, this.groups, 3) as tf.Tensor4D[];
      y = tf.concat(
        xs.map((xi, i) => tf.conv2d(xi, ws[i]!, this.stride, p === 0 ? 'valid' : pad, 'NHWC', this.dilation)),
        3,
      );
    }
    return this.bias === undefined ? y : tf.add(y, this.bias);
  }
}

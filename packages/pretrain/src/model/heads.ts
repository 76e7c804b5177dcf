/**
 * CMID's heads (cmid.md §3), with the state-dict keys of the reference checkpoint:
 *
 * - ProjectorMlp (`online_projector` / `branch_projector`): `layer.0.0` Linear(in -> hidden) -> ReLU ->
 *   `layer.0.3` Linear(hidden -> out). Slots 1 (Identity norm), 2 (ReLU) and 4 (Dropout p=0) hold no parameters.
 * - LocalHead (`class_projector` / `branch_class_projector`): kernel-1 Conv1d MLP on matched cells,
 *   `mlp.0` in -> hidden [-> BN1d] -> GELU -> ... -> bottleneck, L2-normalised per cell, then the weight-normalised
 *   `last_layer` (bottleneck -> prototypes, no bias; `weight_g` = 1 frozen, `weight_v` trained). With BN the MLP
 *   slots are 0 conv, 1 BN, 2 GELU, 3 conv, 4 BN, 5 GELU, 6 conv; without, 0 conv, 1 GELU, 2 conv, 3 GELU, 4 conv.
 * - MimHead (`mim2org`): `decoder_pred.0` 1x1 Conv2d(in -> 3 r^2, bias) then PixelShuffle(r) with PyTorch's channel
 *   order (output (c, r h + i, r w + j) reads channel c r^2 + i r + j), r = the backbone's output stride.
 *
 * Rows here are channels-last: a LocalHead takes [M, C] (M = B x matched cells), the reference's [B, C, 20].
 * Initialisation is PyTorch's default everywhere (the reference's trunc-normal init targets nn.Linear inside
 * LocalHead and there are none; quirk 9).
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, Conv2d, gelu, Linear, Module, PointwiseConv1d, defaultWeight } from '@cmid/core';
import { Container } from './container.js';

export class ProjectorMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(inDim: number, hiddenDim: number, outDim: number) {
    super();
    const layer = this.child('layer', new Container());
    const seq = layer.add('0', new Container());
    this.fc1 = seq.add('0', new Linear(inDim, hiddenDim));
    this.fc2 = seq.add('3', new Linear(hiddenDim, outDim));
  }

  /** x [N, in] -> [N, out] (not normalised; the caller L2-normalises, as the reference does outside the MLP). */
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(tf.relu(this.fc1.forward(x)));
  }
}

/** Weight-normalised kernel-1 Conv1d without bias: W[o, :] = g[o] v[o, :] / ||v[o, :]|| (torch weight_norm, dim 0). */
export class WeightNormPointwise extends Module {
  readonly weightG: tf.Variable;
  readonly weightV: tf.Variable;

  constructor(inDim: number, outDim: number, freezeG = true) {
    super();
    this.weightG = this.param('weight_g', tf.ones([outDim, 1, 1]), 'plain');
    // weight_v starts from the wrapped Conv1d's default init, U(+-1/sqrt(in)); tfjs layout [in, out]
    this.weightV = this.param('weight_v', defaultWeight([inDim, outDim], inDim), 'pointwise1d');
    if (freezeG) this.weightG.trainable = false;
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    const outDim = this.weightV.shape[1]!;
    const norm = tf.sqrt(tf.sum(tf.square(this.weightV), 0, true)); // [1, out]
    const w = tf.mul(this.weightV, tf.div(tf.reshape(this.weightG, [1, outDim]), norm));
    return tf.matMul(x, w as tf.Tensor2D);
  }
}

export interface LocalHeadOptions {
  inDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  outDim: number;
  numLayers?: number;
  useBn?: boolean;
}

export class LocalHead extends Module {
  private readonly layers: { kind: 'conv' | 'bn' | 'gelu'; module?: PointwiseConv1d | BatchNorm2d }[] = [];
  readonly lastLayer: WeightNormPointwise;

  constructor({ inDim, hiddenDim, bottleneckDim, outDim, numLayers = 3, useBn = true }: LocalHeadOptions) {
    super();
    const mlp = this.child('mlp', new Container());
    let slot = 0;
    const nLayers = Math.max(numLayers, 1);
    if (nLayers === 1) {
      this.layers.push({ kind: 'conv', module: mlp.add(String(slot++), new PointwiseConv1d(inDim, bottleneckDim)) });
    } else {
      let d = inDim;
      for (let i = 0; i < nLayers - 1; i++) {
        this.layers.push({ kind: 'conv', module: mlp.add(String(slot++), new PointwiseConv1d(d, hiddenDim)) });
        if (useBn) this.layers.push({ kind: 'bn', module: mlp.add(String(slot++), new BatchNorm2d(hiddenDim)) });
        this.layers.push({ kind: 'gelu' });
        slot++;
        d = hiddenDim;
      }
      this.layers.push({ kind: 'conv', module: mlp.add(String(slot++), new PointwiseConv1d(hiddenDim, bottleneckDim)) });
    }
    this.lastLayer = this.child('last_layer', new WeightNormPointwise(bottleneckDim, outDim));
  }

  /** x [M, in] (one row per matched cell) -> logits [M, out]. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor = x;
    for (const l of this.layers) {
      if (l.kind === 'gelu') h = gelu(h);
      else h = (l.module as PointwiseConv1d | BatchNorm2d).forward(h);
    }
    const n = tf.maximum(tf.sqrt(tf.sum(tf.square(h), 1, true)), 1e-12);
    return this.lastLayer.forward(tf.div(h, n) as tf.Tensor2D);
  }
}

export class MimHead extends Module {
  readonly conv: Conv2d;

  constructor(
    inDim: number,
    readonly stride: number,
    readonly outChannels = 3,
  ) {
    super();
    const dec = this.child('decoder_pred', new Container());
    this.conv = dec.add('0', new Conv2d(inDim, outChannels * stride * stride, 1, { bias: true }));
  }

  /** f [B, h, w, in] -> reconstruction [B, h r, w r, outChannels] (PixelShuffle(r) with PyTorch's channel order). */
  forward(f: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w] = f.shape;
    const r = this.stride;
    const c = this.outChannels;
    const y = this.conv.forward(f); // [B, h, w, c r r], channel = c r^2 + i r + j
    const t = tf.transpose(tf.reshape(y, [b, h, w, c, r, r]), [0, 1, 4, 2, 5, 3]); // [B, h, i, w, j, c]
    return tf.reshape(t, [b, h * r, w * r, c]);
  }
}

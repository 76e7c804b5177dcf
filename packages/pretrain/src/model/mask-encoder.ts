/**
 * The student encoder (`online_encoder`): a backbone (`.model`) plus a learnable, zero-initialised mask token
 * (`.mask_token`) that is ADDED to the stem output at masked cells (cmid.md §2.3, quirk 11: the reference builds
 * MaskResNet/MaskSwin with replace = residual = False). ResNet: token [1, C, 1, 1] after the max-pool (stride 4);
 * Swin: token [1, 1, C] after the patch embedding and its norm. Stored in PyTorch's shape (layout 'plain').
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError, Module, type Backbone } from '@cmid/core';

export class MaskEncoder extends Module {
  readonly model: Backbone;
  readonly maskToken: tf.Variable;
  readonly stemChannels: number;

  constructor(backbone: Backbone, kind: 'resnet' | 'swin') {
    super();
    this.model = this.child('model', backbone);
    const first = backbone.featureInfo[0];
    if (first === undefined) throw new CmidError('config', 'MaskEncoder: the backbone reports no feature levels.');
    // ResNet's stem width is layer1's input width: baseWidth = layer1 channels / expansion; read it from bn1.
    const stem = kind === 'resnet' ? (backbone as unknown as { bn1: { numFeatures: number } }).bn1.numFeatures : first.channels;
    this.stemChannels = stem;
    this.maskToken = this.param('mask_token', tf.zeros(kind === 'resnet' ? [1, stem, 1, 1] : [1, 1, stem]), 'plain');
  }

  /** x NHWC [B, S, S, C]; mask [B, S/4, S/4] float 0/1. Returns the last feature map [B, S/32, S/32, D]. */
  forward(x: tf.Tensor4D, mask: tf.Tensor3D): tf.Tensor4D {
    const token = tf.reshape(this.maskToken, [1, 1, 1, this.stemChannels]);
    const maps = this.model.features(x, {
      stem: (h) => {
        if (h.shape[1] !== mask.shape[1] || h.shape[2] !== mask.shape[2]) {
          throw new CmidError('input', `MaskEncoder: the mask is ${mask.shape[1]}x${mask.shape[2]} but the stem output is ${h.shape[1]}x${h.shape[2]}; masks must be at stride 4.`);
        }
        return tf.add(h, tf.mul(token, tf.expandDims(mask, 3))) as tf.Tensor4D;
      },
    });
    return maps[maps.length - 1]!;
  }
}

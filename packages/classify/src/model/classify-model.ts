/**
 * The scene classifier of the reference (`clas_model.py`, cmid.md §12): backbone -> last feature map -> global
 * average pool -> `cls_head` Linear(embedDim -> classes). State-dict keys are the reference's: `backbone.*`
 * (the backbone's own PyTorch keys) and `cls_head.weight` / `cls_head.bias`, so a fine-tuned model saved by the
 * reference loads here and ours loads there. ViT backbones pool as the backbone does (CLS token or mean + fc_norm).
 *
 * Weights: a backbone checkpoint in any form @cmid/core's loadBackboneWeights reads (an extracted CMID backbone,
 * a full CMID pretraining checkpoint, a wrapped baseline checkpoint), or random init. The head starts from
 * PyTorch's default Linear init (the reference does not re-initialise it).
 */
import * as tf from '@tensorflow/tfjs';
import { createBackbone, Linear, loadBackboneWeights, Module, timmResnetInit, type Backbone, type LoadBackboneResult } from '@cmid/core';

export interface ClassifyModelOptions {
  backbone: string;
  backboneOptions?: Record<string, unknown>;
  numClasses: number;
  inChannels?: number;
}

/**
 * The classifier's backbone at random init. ResNets get the init of the reference's fine-tuning model (mmseg,
 * zero_init_residual) and of CMID's encoders, so that random init is the network pretraining starts from.
 */
export function createClassifierBackbone(name: string, options: Record<string, unknown>): Backbone {
  const backbone = createBackbone(name, options);
  if (name.startsWith('resnet')) timmResnetInit(backbone);
  return backbone;
}

/** Loads backbone weights from `file` (see the file header). Swin's norm0..norm2 may be absent, as in the reference. */
export function loadClassifierBackbone(backbone: Backbone, file: string): Promise<LoadBackboneResult> {
  return loadBackboneWeights(backbone, file, { allowMissing: [/^norm[0-2]\./] });
}

export class ClassifyModel extends Module {
  readonly backbone: Backbone;
  readonly clsHead: Linear;
  readonly numClasses: number;
  readonly backboneName: string;

  constructor(o: ClassifyModelOptions) {
    super();
    this.backboneName = o.backbone;
    this.numClasses = o.numClasses;
    const opts = { ...(o.backboneOptions ?? {}), ...(o.inChannels !== undefined ? { inChannels: o.inChannels } : {}) };
    this.backbone = this.child('backbone', createClassifierBackbone(o.backbone, opts));
    this.clsHead = this.child('cls_head', new Linear(this.backbone.embedDim, o.numClasses));
  }

  /** x: normalised NHWC [B, H, W, C] -> logits [B, classes]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return this.clsHead.forward(this.backbone.forward(x)) as tf.Tensor2D;
  }

  /** Loads backbone weights from `file` (see loadClassifierBackbone). */
  async loadBackbone(file: string): Promise<LoadBackboneResult> {
    return loadClassifierBackbone(this.backbone, file);
  }
}

import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module.js';

/** One output level of a backbone, for dense heads (timm's feature_info). */
export interface FeatureInfo {
  name: string;
  channels: number;
  /** Downsampling factor relative to the input. */
  stride: number;
}

/**
 * Optional hooks into a backbone's forward pass. `stem` receives the NHWC map right after the stem (ResNet: after
 * the max-pool, stride 4; Swin: after the patch embedding and its norm) and returns the map the stages see: this is
 * where masked-image-modelling methods add their mask token (CMID's MaskResNet / MaskSwin, SimMIM).
 */
export interface FeatureHooks {
  stem?: (x: tf.Tensor4D) => tf.Tensor4D;
}

/** What every backbone offers: multi-scale maps and a pooled embedding. */
export interface Backbone extends Module {
  readonly featureInfo: readonly FeatureInfo[];
  /** Width of the pooled embedding returned by forward(). */
  readonly embedDim: number;
  /** x: float32 NHWC [B, H, W, C]. Returns one NHWC map per featureInfo entry, in that order. */
  features(x: tf.Tensor4D, hooks?: FeatureHooks): tf.Tensor4D[];
  /** x: float32 NHWC [B, H, W, C]. Returns the pooled embedding [B, embedDim]. */
  forward(x: tf.Tensor4D): tf.Tensor2D;
}

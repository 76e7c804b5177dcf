import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module.js';

/** One output level of a backbone, for dense heads (timm's feature_info). */
export interface FeatureInfo {
  name: string;
  channels: number;
  /** Downsampling factor relative to the input. */
  stride: number;
}

/** What every backbone offers: multi-scale maps and a pooled embedding. */
export interface Backbone extends Module {
  readonly featureInfo: readonly FeatureInfo[];
  /** Width of the pooled embedding returned by forward(). */
  readonly embedDim: number;
  /** x: float32 NHWC [B, H, W, C]. Returns one NHWC map per featureInfo entry, in that order. */
  features(x: tf.Tensor4D): tf.Tensor4D[];
  /** x: float32 NHWC [B, H, W, C]. Returns the pooled embedding [B, embedDim]. */
  forward(x: tf.Tensor4D): tf.Tensor2D;
}

/**
 * Stochastic depth: in training, each sample's residual branch is zeroed with probability p and the survivors
 * scaled by 1/(1-p) (timm's drop_path with scale_by_keep). The keep mask comes from the toolkit's seeded Rng, so
 * runs are reproducible and a compiled graph can take it as an input.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng/rng.js';
import { feed } from '../../graph/feed.js';

export function dropPath(x: tf.Tensor, p: number, training: boolean, rng: Rng): tf.Tensor {
  if (!training || p === 0) return x;
  const batch = x.shape[0]!;
  const keep = feed([batch, ...x.shape.slice(1).map(() => 1)], () => Float32Array.from({ length: batch }, () => (rng.next() >= p ? 1 / (1 - p) : 0)), { label: 'drop_path' });
  return tf.mul(x, keep);
}

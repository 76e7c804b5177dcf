/**
 * Parameter initialisation with PyTorch's default rules, drawing from a seedable Rng so that a model built with
 * the same seed has the same weights. `seedInit(n)` plays the role of torch.manual_seed for model construction.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng/rng.js';

let initRng = new Rng(0);

export function seedInit(seed: number): void {
  initRng = new Rng(seed);
}

export function currentInitRng(): Rng {
  return initRng;
}

export function uniform(shape: number[], bound: number, rng: Rng = initRng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fill(n, (r) => r.uniform(-bound, bound)), shape);
}

/** N(0, std) truncated to [-2std, 2std] by redrawing (timm's trunc_normal_ with a=-2std, b=2std). */
export function truncNormal(shape: number[], std: number, rng: Rng = initRng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    rng.fill(n, (r) => {
      for (;;) {
        const z = r.normal();
        if (z >= -2 && z <= 2) return z * std;
      }
    }),
    shape,
  );
}

export function normal(shape: number[], std: number, rng: Rng = initRng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fill(n, (r) => r.normal(0, std)), shape);
}

/** PyTorch's default for Conv and Linear weights: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function defaultWeight(shape: number[], fanIn: number, rng: Rng = initRng): tf.Tensor {
  return uniform(shape, 1 / Math.sqrt(fanIn), rng);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'), torchvision's ResNet conv init. */
export function kaimingNormalFanOut(shape: number[], fanOut: number, rng: Rng = initRng): tf.Tensor {
  return normal(shape, Math.sqrt(2 / fanOut), rng);
}

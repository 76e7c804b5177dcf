/**
 * AdamW: torch.optim.AdamW as in PyTorch 1.13 (`_single_tensor_adamw`, amsgrad off, not capturable), per
 * parameter at step k (1-based), in torch's order of operations:
 *
 *   p = p * (1 - lr * wd)                                  decoupled decay, before the moments
 *   m = m * beta1 + (1 - beta1) * g                        slot `exp_avg`
 *   v = v * beta2 + ((1 - beta2) * g) * g                  slot `exp_avg_sq` (addcmul order)
 *   denom = sqrt(v) / sqrt(1 - beta2^k) + eps              eps OUTSIDE the bias-corrected sqrt
 *   p = p - (stepSize * m) / denom,  stepSize = lr / (1 - beta1^k)   (addcdiv order: value * t1 / t2)
 *
 * stepSize and sqrt(1 - beta2^k) are computed in JS (float64, like torch's Python floats) by `scalars()`.
 * Not implemented: amsgrad, maximize.
 */
import * as tf from '@tensorflow/tfjs';
import { checkRange, scalarOf, scaledByLr, slotOf, type Optimizer, type ParamSpec, type UpdateResult } from './types.js';

export interface AdamWOptions {
  /** default [0.9, 0.999]; MAE uses [0.9, 0.95] */
  betas?: readonly [number, number];
  /** default 1e-8 */
  eps?: number;
}

export function adamw(options: AdamWOptions = {}): Optimizer {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  const eps = options.eps ?? 1e-8;
  checkRange('beta1', beta1, 0, 1, true);
  checkRange('beta2', beta2, 0, 1, true);
  checkRange('eps', eps, 0, Infinity);
  return {
    kind: 'adamw',
    slots: ['exp_avg', 'exp_avg_sq'],
    hyper: { beta1, beta2, eps },
    scalars(step: number, lr: number) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`adamw.scalars: step must be an integer >= 1, got ${step}.`);
      const bc1 = 1 - beta1 ** step;
      const bc2 = 1 - beta2 ** step;
      return { lr, stepSize: lr / bc1, bc2Sqrt: Math.sqrt(bc2) };
    },
    update(p: tf.Tensor, g: tf.Tensor, state: Record<string, tf.Tensor>, spec: ParamSpec, s: Record<string, tf.Scalar>): UpdateResult {
      const wd = spec.weightDecay;
      const decayed = wd !== 0 ? tf.mul(p, tf.sub(1, tf.mul(scaledByLr(s, 'lr', spec), wd))) : p;
      const m = tf.add(tf.mul(slotOf(state, 'exp_avg', spec), beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(tf.mul(slotOf(state, 'exp_avg_sq', spec), beta2), tf.mul(tf.mul(g, 1 - beta2), g));
      const denom = tf.add(tf.div(tf.sqrt(v), scalarOf(s, 'bc2Sqrt')), eps);
      const param = tf.sub(decayed, tf.div(tf.mul(m, scaledByLr(s, 'stepSize', spec)), denom));
      return { param, state: { exp_avg: m, exp_avg_sq: v } };
    },
  };
}

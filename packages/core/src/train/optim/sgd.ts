/**
 * SGD with momentum, dampening, Nesterov and L2 weight decay added to the gradient: torch.optim.SGD as in
 * PyTorch 1.13 (`_single_tensor_sgd`), per parameter:
 *
 *   d = g + wd * p                                   (only when wd != 0)
 *   buf = d                          on the first step (torch clones d into a fresh buffer)
 *   buf = momentum * buf + (1 - dampening) * d       afterwards
 *   d = nesterov ? d + momentum * buf : buf          (only when momentum != 0)
 *   p = p - lr * d
 *
 * The first-step special case matters only with dampening != 0. It is expressed without a branch: the buffer
 * slot starts at zero and `scalars()` returns gradCoef = 1 on step 1 and 1 - dampening afterwards, so
 * buf = momentum * buf + gradCoef * d reproduces both cases exactly (momentum * 0 + 1 * d = d).
 */
import * as tf from '@tensorflow/tfjs';
import { checkRange, scalarOf, scaledByLr, slotOf, type Optimizer, type ParamSpec, type UpdateResult } from './types.js';

export interface SgdOptions {
  /** default 0 (torch's default); MoCo v2 uses 0.9 */
  momentum?: number;
  /** default 0 */
  dampening?: number;
  /** default false */
  nesterov?: boolean;
}

/**
 * The heavy-ball step shared by SGD and LARS: returns the new buffer and the direction to subtract (times lr).
 * `gradCoef` is the per-step scalar (1 on the first step, 1 - dampening afterwards).
 */
export function momentumDirection(
  d: tf.Tensor,
  buf: tf.Tensor,
  momentum: number,
  nesterov: boolean,
  gradCoef: tf.Scalar,
): { direction: tf.Tensor; buf: tf.Tensor } {
  const next = tf.add(tf.mul(buf, momentum), tf.mul(d, gradCoef));
  return { direction: nesterov ? tf.add(d, tf.mul(next, momentum)) : next, buf: next };
}

export function sgd(options: SgdOptions = {}): Optimizer {
  const momentum = options.momentum ?? 0;
  const dampening = options.dampening ?? 0;
  const nesterov = options.nesterov ?? false;
  checkRange('momentum', momentum, 0, Infinity);
  checkRange('dampening', dampening, 0, 1);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError('sgd: Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD).');
  const slots = momentum !== 0 ? ['momentum_buffer'] : [];
  return {
    kind: 'sgd',
    slots,
    hyper: { momentum, dampening, nesterov },
    scalars(step: number, lr: number) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`sgd.scalars: step must be an integer >= 1, got ${step}.`);
      return { lr, gradCoef: step === 1 ? 1 : 1 - dampening };
    },
    update(p: tf.Tensor, g: tf.Tensor, state: Record<string, tf.Tensor>, spec: ParamSpec, s: Record<string, tf.Scalar>): UpdateResult {
      const lr = scaledByLr(s, 'lr', spec);
      const d = spec.weightDecay !== 0 ? tf.add(g, tf.mul(p, spec.weightDecay)) : g;
      if (momentum === 0) return { param: tf.sub(p, tf.mul(d, lr)), state: {} };
      const m = momentumDirection(d, slotOf(state, 'momentum_buffer', spec), momentum, nesterov, scalarOf(s, 'gradCoef'));
      return { param: tf.sub(p, tf.mul(m.direction, lr)), state: { momentum_buffer: m.buf } };
    },
  };
}

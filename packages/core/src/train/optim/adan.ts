/**
 * Adan as CMID implements it (`official-CMID:Pretrain/adan.py`, spec shared/spec/cmid.md section 8.2), with its
 * defaults betas (0.98, 0.92, 0.99), eps 1e-8, no_prox false, no restart, no gradient clipping. Per parameter at
 * group step k (1-based, shared by all parameters):
 *
 *   first step: g_prev = g, so diff = 0                 (here: diff = (g - g_prev) * notFirst, notFirst = 0 at k=1)
 *   diff = g - g_prev
 *   m = m + (1 - beta1) * (g - m)                       torch lerp_ (weight < 0.5 form)     state key `exp_avg`
 *   v = v + (1 - beta2) * (diff - v)                    lerp_                               state key `exp_avg_sq` (!)
 *   n = n * beta3 + ((1 - beta3) * u) * u,  u = g + beta2 * diff                            state key `exp_avg_diff` (!)
 *   denom = sqrt(n) / sqrt(1 - beta3^k) + eps
 *   update = (m / (1 - beta1^k) + (beta2 * v) / (1 - beta2^k)) / denom
 *   no_prox false: p = (p - lr * update) / (1 + lr * wd)       (proximal decoupled decay)
 *   no_prox true:  p = p * (1 - lr * wd) - lr * update
 *   g_prev = g                                                                              state key `pre_grad`
 *
 * State-key quirk (cmid.md section 8.2 and quirk 23): the official code unpacks
 * `exp_avg, exp_avg_sq, exp_avg_diff = state['exp_avg'], state['exp_avg_diff'], state['exp_avg_sq']`, so the
 * tensor STORED as `exp_avg_sq` is the gradient-difference average v and the one stored as `exp_avg_diff` is the
 * squared average n. Our slots carry the stored names, so a checkpoint's `state.<param>.exp_avg_sq` is v, as in a
 * CMID checkpoint. The bias corrections and the first-step flag come from `scalars()`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkRange, scalarOf, scaledByLr, slotOf, type Optimizer, type ParamSpec, type UpdateResult } from './types.js';

export interface AdanOptions {
  /** default [0.98, 0.92, 0.99] */
  betas?: readonly [number, number, number];
  /** default 1e-8 */
  eps?: number;
  /** default false (proximal decay, as CMID) */
  noProx?: boolean;
}

export function adan(options: AdanOptions = {}): Optimizer {
  const [beta1, beta2, beta3] = options.betas ?? [0.98, 0.92, 0.99];
  const eps = options.eps ?? 1e-8;
  const noProx = options.noProx ?? false;
  checkRange('beta1', beta1, 0, 1, true);
  checkRange('beta2', beta2, 0, 1, true);
  checkRange('beta3', beta3, 0, 1, true);
  checkRange('eps', eps, 0, Infinity);
  return {
    kind: 'adan',
    slots: ['exp_avg', 'exp_avg_sq', 'exp_avg_diff', 'pre_grad'],
    hyper: { beta1, beta2, beta3, eps, noProx },
    scalars(step: number, lr: number) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`adan.scalars: step must be an integer >= 1, got ${step}.`);
      return {
        lr,
        bc1: 1 - beta1 ** step,
        bc2: 1 - beta2 ** step,
        bc3Sqrt: Math.sqrt(1 - beta3 ** step),
        notFirst: step === 1 ? 0 : 1,
      };
    },
    update(p: tf.Tensor, g: tf.Tensor, state: Record<string, tf.Tensor>, spec: ParamSpec, s: Record<string, tf.Scalar>): UpdateResult {
      const m0 = slotOf(state, 'exp_avg', spec);
      const v0 = slotOf(state, 'exp_avg_sq', spec); // v: average of gradient differences (stored-name quirk)
      const n0 = slotOf(state, 'exp_avg_diff', spec); // n: average of squared corrected gradients
      const diff = tf.mul(tf.sub(g, slotOf(state, 'pre_grad', spec)), scalarOf(s, 'notFirst'));
      const m = tf.add(m0, tf.mul(tf.sub(g, m0), 1 - beta1));
      const v = tf.add(v0, tf.mul(tf.sub(diff, v0), 1 - beta2));
      const u = tf.add(g, tf.mul(diff, beta2));
      const n = tf.add(tf.mul(n0, beta3), tf.mul(tf.mul(u, 1 - beta3), u));
      const denom = tf.add(tf.div(tf.sqrt(n), scalarOf(s, 'bc3Sqrt')), eps);
      const step = tf.div(tf.add(tf.div(m, scalarOf(s, 'bc1')), tf.div(tf.mul(v, beta2), scalarOf(s, 'bc2'))), denom);
      const lr = scaledByLr(s, 'lr', spec);
      const wd = spec.weightDecay;
      let param: tf.Tensor;
      if (noProx) {
        const decayed = wd !== 0 ? tf.mul(p, tf.sub(1, tf.mul(lr, wd))) : p;
        param = tf.sub(decayed, tf.mul(step, lr));
      } else {
        const moved = tf.sub(p, tf.mul(step, lr));
        param = wd !== 0 ? tf.div(moved, tf.add(1, tf.mul(lr, wd))) : moved;
      }
      // pre_grad is a copy (Identity), so callers may dispose the returned state and the gradient independently
      return { param, state: { exp_avg: m, exp_avg_sq: v, exp_avg_diff: n, pre_grad: tf.clone(g) } };
    },
  };
}

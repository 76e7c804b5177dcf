/**
 * LARS, the variant solo-learn uses for BYOL / Barlow Twins / SwAV: `solo/utils/lars.py` (solo-learn, itself
 * taken from PyTorch Lightning Bolts `pl_bolts/optimizers/lars.py`), i.e. SGD with momentum on a gradient that
 * has been rescaled layer-wise by the trust ratio of You et al. 2017 (arXiv 1708.03888, eq. 6). Per parameter:
 *
 *   if not (exclude_bias_n_norm and p is 1-D):        here: `excludeBiasAndNorm && spec.larsExclude`
 *     if ||p|| != 0 and ||g|| != 0:
 *       trust = eta * ||p|| / (||g|| + ||p|| * wd + eps)  (computed as ||p|| / (...) then times eta)
 *       if clip_lars_lr: trust = min(trust / lr, 1)
 *       d = (g + wd * p) * trust
 *     else d = g                                        (no weight decay either!)
 *   else d = g                                          (excluded: neither adaptation nor weight decay)
 *   momentum / dampening / Nesterov exactly as torch SGD (first step: buf = d), then p = p - lr * d.
 *
 * Things to know about this variant: excluded parameters and parameters with a zero norm (or zero gradient)
 * get NO weight decay; `lr` in the clip is the group's current lr (here lr * lrScale). The condition on the
 * norms is evaluated with tf ops (a 0/1 mask blended arithmetically, no branch), so the update stays traceable.
 * Other LARS variants (e.g. optax's, used by DeepMind's BYOL code) order decay, trust ratio and momentum
 * differently; only this one is implemented.
 * Typical settings: solo-learn BYOL eta 0.02 (config `eta_lars`), its ImageNet config 0.001; exclude_bias_n_norm on.
 */
import * as tf from '@tensorflow/tfjs';
import { momentumDirection } from './sgd.js';
import { checkRange, scalarOf, scaledByLr, slotOf, type Optimizer, type ParamSpec, type UpdateResult } from './types.js';

export interface LarsOptions {
  /** default 0 */
  momentum?: number;
  /** default 0 */
  dampening?: number;
  /** default false */
  nesterov?: boolean;
  /** trust coefficient; default 1e-3 */
  eta?: number;
  /** default 1e-8 */
  eps?: number;
  /** solo-learn `clip_lars_lr`: trust = min(trust / lr, 1); default false */
  clipLr?: boolean;
  /** solo-learn `exclude_bias_n_norm_lars`: parameters with spec.larsExclude skip adaptation and decay; default false */
  excludeBiasAndNorm?: boolean;
}

/** Smallest lr used as a divisor in the clip, so that lr = 0 gives trust 1 (as torch's inf -> min 1) rather than NaN. */
const TINY = 1e-30;

export function lars(options: LarsOptions = {}): Optimizer {
  const momentum = options.momentum ?? 0;
  const dampening = options.dampening ?? 0;
  const nesterov = options.nesterov ?? false;
  const eta = options.eta ?? 1e-3;
  const eps = options.eps ?? 1e-8;
  const clipLr = options.clipLr ?? false;
  const excludeBiasAndNorm = options.excludeBiasAndNorm ?? false;
  checkRange('momentum', momentum, 0, Infinity);
  checkRange('dampening', dampening, 0, 1);
  checkRange('eta', eta, 0, Infinity);
  checkRange('eps', eps, 0, Infinity);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError('lars: Nesterov momentum requires a momentum and zero dampening.');
  const slots = momentum !== 0 ? ['momentum_buffer'] : [];
  return {
    kind: 'lars',
    slots,
    hyper: { momentum, dampening, nesterov, eta, eps, clipLr, excludeBiasAndNorm },
    scalars(step: number, lr: number) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`lars.scalars: step must be an integer >= 1, got ${step}.`);
      return { lr, gradCoef: step === 1 ? 1 : 1 - dampening };
    },
    update(p: tf.Tensor, g: tf.Tensor, state: Record<string, tf.Tensor>, spec: ParamSpec, s: Record<string, tf.Scalar>): UpdateResult {
      const lr = scaledByLr(s, 'lr', spec);
      let d: tf.Tensor = g;
      if (!(excludeBiasAndNorm && spec.larsExclude === true)) {
        const wd = spec.weightDecay;
        const pNorm = tf.sqrt(tf.sum(tf.square(p)));
        const gNorm = tf.sqrt(tf.sum(tf.square(g)));
        let trust: tf.Tensor = tf.mul(tf.div(pNorm, tf.add(tf.add(gNorm, tf.mul(pNorm, wd)), eps)), eta);
        if (clipLr) trust = tf.minimum(tf.div(trust, tf.maximum(lr, TINY)), 1);
        const adapted = tf.mul(wd !== 0 ? tf.add(g, tf.mul(p, wd)) : g, trust);
        // norms are >= 0, so "!= 0" is "> 0"; valid is 1 or 0 and the blend is exact for finite values
        const valid = tf.cast(tf.logicalAnd(tf.greater(pNorm, 0), tf.greater(gNorm, 0)), 'float32');
        d = tf.add(tf.mul(adapted, valid), tf.mul(g, tf.sub(1, valid)));
      }
      if (momentum === 0) return { param: tf.sub(p, tf.mul(d, lr)), state: {} };
      const m = momentumDirection(d, slotOf(state, 'momentum_buffer', spec), momentum, nesterov, scalarOf(s, 'gradCoef'));
      return { param: tf.sub(p, tf.mul(m.direction, lr)), state: { momentum_buffer: m.buf } };
    },
  };
}

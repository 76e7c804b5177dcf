/**
 * The reconstruction (masked image modelling) loss of CMID, cmid.md section 4.4 steps 1-6 (reference
 * `MIMLossHead.forward` with its `focal_l1_loss`), section 3.4 and section 13 item 14.
 *
 * Focal L1, element-wise, d = |pred - target|:
 *   'sigmoid' (CMID): l = d * (2 sigmoid(alpha d) - 1)^gamma   (= d tanh(alpha d / 2) for gamma 1)
 *   'tanh':           l = d * tanh(alpha d)^gamma              (not in cmid.md: the reference focal_l1_loss's other
 *                                                               `activate` mode, unused by CMID)
 *   residual:         l <- l + d                               (CMID: off)
 * CMID MIM loss for target x, prediction y (NHWC [B, H, W, C]) and a 0/1 mask m [B, h, w] at the model-patch grid:
 *   1. M = m repeated H/h times along H and W/w times along W (nearest), [B, H, W, 1];
 *   2-3. M_s = M + (1 - M) unmaskWeight (= M for CMID's 0);
 *        spatial = sum_{b,h,w,c} l * M_s / (sum_{b,h,w} M_s + 1e-5) / encoderInChannels;
 *   4. (fftWeight > 0, fftUnmaskWeight < 1, replace 'mixed') x_r = 0.5 stopgrad(y) + 0.5 x,
 *      M_f = M + (1 - M) fftUnmaskWeight, y' = y M_f + x_r (1 - M_f); with fftUnmaskWeight = 1, y' = y;
 *   5. frequency = FFL(y', x) with alpha 1, ave spectrum, log matrix, batch matrix (losses/focal-frequency.ts);
 *   6. loss = spatial + fftWeight * frequency (frequency is reported unweighted; 0 when fftWeight = 0).
 * Only the 'mixed' replacement is described by the spec, so only it is implemented; the mask must upsample by an
 * integer factor >= 1 (the reference's repeat_interleave; its nearest-interpolation branch for coarser images is
 * not used by CMID).
 */
import * as tf from '@tensorflow/tfjs';
import { focalFrequencyLoss, type FocalFrequencyOptions } from './focal-frequency.js';
import { stopGradient } from './stop-gradient.js';

export type FocalActivation = 'sigmoid' | 'tanh';

export interface FocalL1Options {
  alpha?: number;
  gamma?: number;
  activate?: FocalActivation;
  /** Add the plain L1 term (CMID: false). */
  residual?: boolean;
}

/** Element-wise focal L1 of pred against target (same shape), no reduction. */
export function focalL1<T extends tf.Tensor>(pred: T, target: tf.Tensor, opts: FocalL1Options = {}): T {
  const { alpha = 0.2, gamma = 1, activate = 'sigmoid', residual = false } = opts;
  if (activate !== 'sigmoid' && activate !== 'tanh') throw new Error(`focalL1: activate must be 'sigmoid' or 'tanh', got "${String(activate)}".`);
  return tf.tidy(() => {
    const d = tf.abs(tf.sub(pred, target));
    const ad = tf.mul(d, alpha);
    let f = activate === 'tanh' ? tf.tanh(ad) : tf.sub(tf.mul(tf.sigmoid(ad), 2), 1);
    if (gamma !== 1) f = tf.pow(f, gamma);
    let l = tf.mul(d, f);
    if (residual) l = tf.add(l, d);
    return l as T;
  });
}

export type FftUnmaskReplace = 'mixed';

export interface CmidMimOptions {
  /** Focal-L1 alpha (CMID YAML `alpha` 0.2). */
  alpha?: number;
  /** Focal-L1 gamma (CMID 1). */
  gamma?: number;
  activate?: FocalActivation;
  residual?: boolean;
  /** Weight of the frequency term (CMID 1); 0 skips it. */
  fftWeight?: number;
  /** Weight of unmasked pixels in the FFL input (CMID 0.001), in [0, 1]. */
  fftUnmaskWeight?: number;
  /** What replaces unmasked pixels in the FFL input (CMID 'mixed'). */
  fftUnmaskReplace?: FftUnmaskReplace;
  /** Divisor of the spatial term (CMID 3). */
  encoderInChannels?: number;
  /** Weight of unmasked pixels in the spatial term (CMID 0), in [0, 1]. */
  unmaskWeight?: number;
  /** Options of the FFL (defaults: CMID's hard-coded alpha 1, ave spectrum, log matrix, batch matrix). */
  ffl?: FocalFrequencyOptions;
}

/** m [B, h, w] -> [B, H, W, 1] by repeating each cell H/h x W/w times. */
function upsampleMask(mask: tf.Tensor3D, H: number, W: number): tf.Tensor4D {
  const [B, h, w] = mask.shape;
  const sh = H / h, sw = W / w;
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1) {
    throw new Error(`cmidMimLoss: the mask grid ${h}x${w} must divide the image ${H}x${W} (integer upsampling factors >= 1).`);
  }
  if (sh === 1 && sw === 1) return tf.reshape(mask, [B, H, W, 1]);
  const tiled = tf.tile(tf.reshape(mask, [B, h, 1, w, 1]), [1, 1, sh, 1, sw]);
  return tf.reshape(tiled, [B, H, W, 1]);
}

export function cmidMimLoss(
  target: tf.Tensor4D,
  pred: tf.Tensor4D,
  mask: tf.Tensor3D,
  opts: CmidMimOptions = {},
): { loss: tf.Scalar; spatial: tf.Scalar; frequency: tf.Scalar } {
  const {
    alpha = 0.2, gamma = 1, activate = 'sigmoid', residual = false, fftWeight = 1, fftUnmaskWeight = 0.001,
    fftUnmaskReplace = 'mixed', encoderInChannels = 3, unmaskWeight = 0, ffl = {},
  } = opts;
  if (target.rank !== 4 || pred.rank !== 4 || target.shape.join(',') !== pred.shape.join(',')) {
    throw new Error(`cmidMimLoss: target and pred must be NHWC tensors of one shape, got [${target.shape}] and [${pred.shape}].`);
  }
  const [B, H, W] = target.shape;
  if (mask.rank !== 3 || mask.shape[0] !== B) throw new Error(`cmidMimLoss: mask must be [B=${B}, h, w], got [${mask.shape}].`);
  if (mask.dtype !== 'float32') throw new Error(`cmidMimLoss: mask must be float32 0/1, got ${mask.dtype}.`);
  if (fftUnmaskReplace !== 'mixed') {
    throw new Error(`cmidMimLoss: fftUnmaskReplace "${String(fftUnmaskReplace)}" is not supported; the CMID spec (section 4.4) describes only 'mixed'.`);
  }
  if (!(unmaskWeight >= 0 && unmaskWeight <= 1)) throw new Error(`cmidMimLoss: unmaskWeight must be in [0, 1], got ${unmaskWeight}.`);
  if (!(fftUnmaskWeight >= 0 && fftUnmaskWeight <= 1)) throw new Error(`cmidMimLoss: fftUnmaskWeight must be in [0, 1], got ${fftUnmaskWeight}.`);
  if (!(fftWeight >= 0)) throw new Error(`cmidMimLoss: fftWeight must be >= 0, got ${fftWeight}.`);
  return tf.tidy(() => {
    const M = upsampleMask(mask, H, W);
    // spatial focal L1 over the (re)weighted mask
    const l = focalL1(pred, target, { alpha, gamma, activate, residual });
    const Ms = unmaskWeight > 0 ? tf.add(M, tf.mul(tf.sub(1, M), unmaskWeight)) : M;
    const spatial = tf.div(tf.div(tf.sum(tf.mul(l, Ms)), tf.add(tf.sum(Ms), 1e-5)), encoderInChannels) as tf.Scalar;
    if (fftWeight === 0) return { loss: spatial, spatial: tf.clone(spatial), frequency: tf.scalar(0) };
    // frequency term on the prediction with its unmasked pixels mostly replaced (detached)
    let y: tf.Tensor4D = pred;
    if (fftUnmaskWeight < 1) {
      const replace = tf.add(tf.mul(stopGradient(pred), 0.5), tf.mul(target, 0.5));
      const Mf = tf.add(M, tf.mul(tf.sub(1, M), fftUnmaskWeight));
      y = tf.add(tf.mul(pred, Mf), tf.mul(replace, tf.sub(1, Mf))) as tf.Tensor4D;
    }
    const frequency = focalFrequencyLoss(y, target, ffl);
    const loss = tf.add(spatial, tf.mul(frequency, fftWeight)) as tf.Scalar;
    return { loss, spatial, frequency };
  });
}

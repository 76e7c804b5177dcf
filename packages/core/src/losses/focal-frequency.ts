/**
 * Focal Frequency Loss (Jiang et al. 2021) as CMID uses it, cmid.md section 4.4 step 5 (reference
 * `FocalFrequencyLoss`, built with alpha 1, ave_spectrum, log_matrix and batch_matrix) and section 13 item 14.
 *
 * Images are NHWC [B, H, W, C]. With F the full complex 2-D DFT over (H, W) of every image and channel, norm
 * 'ortho' (ops/dft2d.ts):
 *   F_p = F(pred), F_t = F(target); aveSpectrum: both averaged over the batch ([1, H, W, C]);
 *   D = |F_p - F_t|^2 (squared spectral distance);
 *   w = sqrt(D)^alpha; logMatrix: w <- log(w + 1); w <- w / max(w), the max over ALL elements (batchMatrix) or
 *       per image and channel over (H, W) (batchMatrix false); NaN -> 0; clamp to [0, 1]; w is a constant for
 *       the gradient;
 *   loss = lossWeight * mean(w * D).
 * By linearity F_p - F_t = F(pred - target) and the batch mean of spectra is the spectrum of the batch mean, so
 * one DFT of the (batch-mean) difference is taken instead of two spectra.
 * batchMatrix false: the reference indexes its 4-D weight with 5 indices there and crashes; ours implements the
 * intended per-image-per-channel maximum (the original FFL's, without its patch axis).
 * `matrix` (the reference's optional predefined weight): a given w, [B or 1, H, W, C] in spectrum coordinates,
 * used as is (no normalisation, detached).
 */
import * as tf from '@tensorflow/tfjs';
import { fft2d } from '../ops/dft2d.js';
import { noGrad, stopGradient } from './stop-gradient.js';

export interface FocalFrequencyOptions {
  /** Exponent of the spectrum weight (CMID: 1, hard-coded; not the YAML alpha). */
  alpha?: number;
  /** Average the spectra over the batch first (CMID: true). */
  aveSpectrum?: boolean;
  /** w <- log(w + 1) (CMID: true). */
  logMatrix?: boolean;
  /** Normalise w by its global max (CMID: true) instead of per image and channel. */
  batchMatrix?: boolean;
  lossWeight?: number;
  /** A predefined weight matrix, NHWC-ordered [B or 1, H, W, C] like the spectrum; used instead of the focal weight. */
  matrix?: tf.Tensor4D;
}

interface WeightOptions {
  alpha: number;
  logMatrix: boolean;
  batchMatrix: boolean;
}

/** The focal weight of a squared spectral distance D [n, C, H, W] (its spectrum axes last), with no gradient. */
function focalWeight(dist: tf.Tensor, o: WeightOptions): tf.Tensor {
  return noGrad((d) => {
    let w = tf.sqrt(d);
    if (o.alpha !== 1) w = tf.pow(w, o.alpha);
    if (o.logMatrix) w = tf.log(tf.add(w, 1));
    w = tf.div(w, o.batchMatrix ? tf.max(w) : tf.max(w, [2, 3], true));
    w = tf.where(tf.isNaN(w), tf.zerosLike(w), w);
    return tf.clipByValue(w, 0, 1);
  }, dist);
}

/** Squared spectral distance |F(pred) - F(target)|^2, [n, C, H, W] with n = 1 under aveSpectrum, else B. */
function spectralDistance(pred: tf.Tensor4D, target: tf.Tensor4D, aveSpectrum: boolean): tf.Tensor {
  let diff: tf.Tensor = tf.sub(pred, target);
  if (aveSpectrum) diff = tf.mean(diff, 0, true);
  const { real, imag } = fft2d(tf.transpose(diff, [0, 3, 1, 2]), 'ortho');
  return tf.add(tf.square(real), tf.square(imag));
}

function checkImages(name: string, pred: tf.Tensor, target: tf.Tensor): void {
  if (pred.rank !== 4 || target.rank !== 4 || pred.shape.join(',') !== target.shape.join(',')) {
    throw new Error(`${name}: pred and target must be NHWC tensors of one shape, got [${pred.shape}] and [${target.shape}].`);
  }
}

function resolve(opts: FocalFrequencyOptions) {
  const { alpha = 1, aveSpectrum = true, logMatrix = true, batchMatrix = true, lossWeight = 1 } = opts;
  return { alpha, aveSpectrum, logMatrix, batchMatrix, lossWeight };
}

export function focalFrequencyLoss(pred: tf.Tensor4D, target: tf.Tensor4D, opts: FocalFrequencyOptions = {}): tf.Scalar {
  checkImages('focalFrequencyLoss', pred, target);
  const o = resolve(opts);
  return tf.tidy(() => {
    const dist = spectralDistance(pred, target, o.aveSpectrum);
    let w: tf.Tensor;
    if (opts.matrix !== undefined) {
      if (opts.matrix.rank !== 4) throw new Error(`focalFrequencyLoss: matrix must be [B or 1, H, W, C], got [${opts.matrix.shape}].`);
      w = stopGradient(tf.transpose(opts.matrix, [0, 3, 1, 2]));
    } else {
      w = focalWeight(dist, o);
    }
    return tf.mul(tf.mean(tf.mul(w, dist)), o.lossWeight) as tf.Scalar;
  });
}

/**
 * The focal weight the loss would use for (pred, target), NHWC-ordered [1 or B, H, W, C] (frequency u on the H
 * axis, v on the W axis); e.g. to hold it fixed in a finite-difference check via `matrix`.
 */
export function focalFrequencyWeight(pred: tf.Tensor4D, target: tf.Tensor4D, opts: FocalFrequencyOptions = {}): tf.Tensor4D {
  checkImages('focalFrequencyWeight', pred, target);
  const o = resolve(opts);
  return tf.tidy(() => tf.transpose(focalWeight(spectralDistance(pred, target, o.aveSpectrum), o), [0, 2, 3, 1]) as tf.Tensor4D);
}

/**
 * Linear probe: multinomial logistic regression on frozen features, the standard "how linearly separable are the
 * learned features" evaluation of self-supervised pretraining. Features are standardised with the training
 * statistics, then W [d, c] and b [c] minimise mean cross-entropy + (weightDecay / 2) ||W||^2 by full-batch Adam
 * (deterministic: zero init, no sampling). Plain JS; meant for up to a few thousand samples of a few thousand
 * dimensions. Returns test accuracy, predictions and the final training loss.
 */
import { CmidError } from '../runtime/errors.js';

export interface LinearProbeOptions {
  /** Full-batch Adam iterations. Default 300. */
  iterations?: number;
  /** Default 0.05. */
  lr?: number;
  /** L2 penalty on W. Default 1e-4. */
  weightDecay?: number;
}

export interface LinearProbeResult {
  /** Test top-1 accuracy in %. */
  top1: number;
  /** Training accuracy in %. */
  trainTop1: number;
  predictions: Int32Array;
  trainLoss: number;
}

function standardise(x: Float32Array, n: number, d: number, mean: Float64Array, std: Float64Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j]! - mean[j]!) / std[j]!;
  return out;
}

function logits(x: Float32Array, n: number, d: number, c: number, w: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) out[i * c + k] = b[k]!;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      if (v === 0) continue;
      const wo = j * c;
      for (let k = 0; k < c; k++) out[i * c + k]! += v * w[wo + k]!;
    }
  }
}

function argmaxRows(z: Float64Array, n: number, c: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (z[i * c + k]! > z[i * c + best]!) best = k;
    p[i] = best;
  }
  return p;
}

/**
 * @example
 * const r = linearProbe(trainFeats, trainLabels, testFeats, testLabels, 21);
 * r.top1 // test accuracy in %
 */
export function linearProbe(
  trainFeatures: Float32Array,
  trainLabels: ArrayLike<number>,
  testFeatures: Float32Array,
  testLabels: ArrayLike<number>,
  numClasses: number,
  options: LinearProbeOptions = {},
): LinearProbeResult {
  const n = trainLabels.length;
  const m = testLabels.length;
  if (n === 0 || m === 0) throw new CmidError('config', `linearProbe: needs training and test features (got ${n} and ${m}).`);
  const d = trainFeatures.length / n;
  if (!Number.isInteger(d) || testFeatures.length !== m * d) throw new CmidError('config', 'linearProbe: feature arrays do not match the label counts.');
  const c = numClasses;
  const iterations = options.iterations ?? 300;
  const lr = options.lr ?? 0.05;
  const wd = options.weightDecay ?? 1e-4;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += trainFeatures[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j]! += (trainFeatures[i * d + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) + 1e-6;
  const x = standardise(trainFeatures, n, d, mean, std);
  const xt = standardise(testFeatures, m, d, mean, std);
  const w = new Float64Array(d * c);
  const b = new Float64Array(c);
  const mw = new Float64Array(d * c), vw = new Float64Array(d * c), mb = new Float64Array(c), vb = new Float64Array(c);
  const z = new Float64Array(n * c);
  const gw = new Float64Array(d * c), gb = new Float64Array(c);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  let loss = 0;
  for (let it = 1; it <= iterations; it++) {
    logits(x, n, d, c, w, b, z);
    loss = 0;
    gw.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < c; k++) max = Math.max(max, z[i * c + k]!);
      let sum = 0;
      for (let k = 0; k < c; k++) sum += Math.exp(z[i * c + k]! - max);
      const y = trainLabels[i]!;
      loss += (Math.log(sum) + max - z[i * c + y]!) / n;
      for (let k = 0; k < c; k++) {
        const g = (Math.exp(z[i * c + k]! - max) / sum - (k === y ? 1 : 0)) / n;
        z[i * c + k] = g; // reuse as dL/dz
        gb[k]! += g;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j]!;
        if (v === 0) continue;
        for (let k = 0; k < c; k++) gw[j * c + k]! += v * z[i * c + k]!;
      }
    }
    const c1 = 1 - beta1 ** it, c2 = 1 - beta2 ** it;
    for (let q = 0; q < d * c; q++) {
      const g = gw[q]! + wd * w[q]!;
      mw[q] = beta1 * mw[q]! + (1 - beta1) * g;
      vw[q] = beta2 * vw[q]! + (1 - beta2) * g * g;
      w[q]! -= (lr * mw[q]! / c1) / (Math.sqrt(vw[q]! / c2) + eps);
    }
    for (let k = 0; k < c; k++) {
      mb[k] = beta1 * mb[k]! + (1 - beta1) * gb[k]!;
      vb[k] = beta2 * vb[k]! + (1 - beta2) * gb[k]! ** 2;
      b[k]! -= (lr * mb[k]! / c1) / (Math.sqrt(vb[k]! / c2) + eps);
    }
  }
  logits(x, n, d, c, w, b, z);
  const trainPred = argmaxRows(z, n, c);
  let trainCorrect = 0;
  for (let i = 0; i < n; i++) if (trainPred[i] === trainLabels[i]) trainCorrect++;
  const zt = new Float64Array(m * c);
  logits(xt, m, d, c, w, b, zt);
  const predictions = argmaxRows(zt, m, c);
  let correct = 0;
  for (let i = 0; i < m; i++) if (predictions[i] === testLabels[i]) correct++;
  return { top1: (100 * correct) / m, trainTop1: (100 * trainCorrect) / n, predictions, trainLoss: loss };
}

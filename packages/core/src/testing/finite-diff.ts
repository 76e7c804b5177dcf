/**
 * Gradient check by central finite differences. tfjs has no float64, so the step cannot be tiny: we perturb
 * `coords` random coordinates of x by +-eps and compare (f(x+e)-f(x-e))/2eps with the analytic gradient,
 * relative to the largest gradient magnitude.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng/rng.js';
import { compareClose, type CloseReport } from './expect-close.js';

export interface FiniteDiffOptions {
  coords?: number;
  eps?: number;
  rtol?: number;
  seed?: number;
}

/** f maps x to a scalar. Returns the comparison; throws if it fails. */
export function checkGradFiniteDiff(
  f: (x: tf.Tensor) => tf.Scalar,
  xValues: Float32Array,
  shape: number[],
  options: FiniteDiffOptions = {},
): CloseReport {
  const { coords = 16, eps = 1e-2, rtol = 2e-2, seed = 0 } = options;
  const rng = new Rng(seed);
  const analyticAll = tf.tidy(() => tf.grad(f)(tf.tensor(xValues, shape)).dataSync().slice()) as Float32Array;
  const idx: number[] = [];
  for (let i = 0; i < Math.min(coords, xValues.length); i++) idx.push(rng.int(0, xValues.length));
  const analytic = idx.map((i) => analyticAll[i]!);
  const numeric = idx.map((i) => {
    const evalAt = (delta: number): number => {
      const x = xValues.slice();
      x[i]! += delta;
      return tf.tidy(() => f(tf.tensor(x, shape)).dataSync()[0]!);
    };
    return (evalAt(eps) - evalAt(-eps)) / (2 * eps);
  });
  let scale = 0;
  for (const v of analyticAll) scale = Math.max(scale, Math.abs(v));
  const r = compareClose(analytic, numeric, 0, rtol * Math.max(scale, 1e-6));
  if (!r.ok) throw new Error(`finite-difference gradient check failed: ${r.message}`);
  return r;
}

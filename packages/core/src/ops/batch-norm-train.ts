/**
 * Batch normalisation with batch statistics (training mode) over all axes but the last, optionally followed by a
 * ReLU, written as PyTorch 1.13's CPU kernels compute it (batch_norm_cpu and batch_norm_backward_cpu):
 *   forward   y = x * alpha + shift with alpha = gamma * invstd, shift = beta - mean * alpha, the variance
 *             from d = x - mean (two passes);
 *   backward  dx = ((dy - sum(dy) / N) - d * k) * (gamma * invstd) with k = sum(d * dy) * invstd^2 / N,
 *             dgamma = sum(d * dy) * invstd, dbeta = sum(dy).
 * Differentiating through tf.moments instead takes more passes and loses about a decimal digit of the input
 * gradient in float32 (three nearly cancelling terms), which Adam's per-element normalisation then shows in the
 * updated weights.
 *
 * Where the active backend has the fused kernels (CmidBatchNormTrain / CmidBatchNormTrainGrad: wasm, see
 * src/kernels/wasm/BatchNormTrain.ts) they compute the same arithmetic in 4 passes forward and 3 backward, with
 * the ReLU folded in. Everywhere else (other backends, the compiled engine's symbolic trace, the ONNX exporter's
 * trace) it is the tf ops below, so traced graphs are unchanged: 4 passes forward and 5 backward there.
 * `fusedBatchNormOptions.enabled` (default: on unless CMID_FUSED_KERNELS=0) switches the fused kernels off.
 */
import * as tf from '@tensorflow/tfjs';
import { isTracing } from '../graph/trace.js';

export const BATCH_NORM_TRAIN = 'CmidBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'CmidBatchNormTrainGrad';

export const fusedBatchNormOptions = { enabled: process.env.CMID_FUSED_KERNELS !== '0' };

export interface BatchNormTrainResult {
  /** The normalised (and, with relu, rectified) output. */
  y: tf.Tensor;
  /** Batch mean and biased batch variance [C], for the running statistics; the caller disposes them. */
  mean: tf.Tensor;
  variance: tf.Tensor;
}

/** Whether batchNormTrain will run the fused kernels for a tensor like x on the active backend. */
export function fusedBatchNormAvailable(x: tf.Tensor): boolean {
  return fusedBatchNormOptions.enabled && x.dtype === 'float32' && !isTracing() &&
    tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) !== undefined && tf.getKernel(BATCH_NORM_TRAIN_GRAD, tf.getBackend()) !== undefined;
}

/** Training-mode batch norm of x [..., C] with gamma, beta [C]; `relu` applies max(y, 0) to the output. */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, relu = false): BatchNormTrainResult {
  if (fusedBatchNormAvailable(x)) return fused(x, gamma, beta, eps, relu);
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const y = unfused(x, gamma, beta, eps, (s) => (stats = s));
  if (!relu) return { y, ...stats! };
  const r = tf.relu(y);
  y.dispose(); // the tape keeps its own copy for the ReLU gradient
  return { y: r, ...stats! };
}

function fused(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, relu: boolean): BatchNormTrainResult {
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, variance, invstd] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: xIn, gamma: g, beta: b }, { eps, relu }) as tf.Tensor[];
    stats = { mean: tf.keep(mean!), variance: tf.keep(variance!) };
    save([xIn, mean!, invstd!, g, b]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, inv, gm, bt] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x: xs, mean: m, invstd: inv, gamma: gm, beta: bt }, { relu }) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta);
  return { y, ...stats! };
}

function unfused(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, onStats: (s: { mean: tf.Tensor; variance: tf.Tensor }) => void): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const n = x.size / x.shape[x.rank - 1]!;
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xIn, axes);
    const d = tf.sub(xIn, mean);
    const variance = tf.mean(tf.mul(d, d), axes);
    onStats({ mean: tf.keep(mean), variance: tf.keep(variance) });
    const invstd = tf.rsqrt(tf.add(variance, eps));
    const alpha = tf.mul(g, invstd);
    const shift = tf.sub(b, tf.mul(mean, alpha));
    save([d, invstd, g]);
    return {
      value: tf.add(tf.mul(xIn, alpha), shift),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dev, inv, gm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dbeta = tf.sum(dy, axes);
        const dotp = tf.sum(tf.mul(dev, dy), axes);
        const k = tf.div(tf.mul(dotp, tf.mul(inv, inv)), n);
        const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(dev, k)), tf.mul(inv, gm));
        return [dx, tf.mul(dotp, inv), dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, gamma, beta);
}

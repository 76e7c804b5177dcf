/**
 * Gradient clipping by total norm with torch.nn.utils.clip_grad_norm_ semantics (PyTorch 1.13), as a pure
 * function of tensors (traceable; no read-back):
 *
 *   total = || [ ||g_1||, ..., ||g_n|| ] ||        (norm of the per-tensor norms; max |g| for normType 'inf')
 *   coef  = min(maxNorm / (total + 1e-6), 1)
 *   g_i  <- g_i * coef                             (always multiplied, as torch does; coef = 1 is exact)
 *
 * CMID never clips (cmid.md section 9); the downstream configs do (mmseg Adan: 5, mmrotate: 35).
 */
import * as tf from '@tensorflow/tfjs';

export interface ClipResult<G> {
  grads: G;
  /** the total norm before clipping (what clip_grad_norm_ returns) */
  totalNorm: tf.Scalar;
}

function l2(x: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.sum(tf.square(x))) as tf.Scalar;
}

export function clipGradNorm(grads: readonly tf.Tensor[], maxNorm: number, normType?: 2 | 'inf'): ClipResult<tf.Tensor[]>;
export function clipGradNorm(grads: Readonly<Record<string, tf.Tensor>>, maxNorm: number, normType?: 2 | 'inf'): ClipResult<Record<string, tf.Tensor>>;
export function clipGradNorm(
  grads: readonly tf.Tensor[] | Readonly<Record<string, tf.Tensor>>,
  maxNorm: number,
  normType: 2 | 'inf' = 2,
): ClipResult<tf.Tensor[] | Record<string, tf.Tensor>> {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}.`);
  const list: [string, tf.Tensor][] = Array.isArray(grads) ? grads.map((g, i) => [String(i), g]) : Object.entries(grads);
  return tf.tidy(() => {
    let totalNorm: tf.Scalar;
    if (list.length === 0) totalNorm = tf.scalar(0);
    else if (normType === 'inf') totalNorm = tf.max(tf.stack(list.map(([, g]) => tf.max(tf.abs(g))))) as tf.Scalar;
    else totalNorm = l2(tf.stack(list.map(([, g]) => l2(g))));
    const coef = tf.minimum(tf.div(maxNorm, tf.add(totalNorm, 1e-6)), 1);
    const clipped = list.map(([k, g]) => [k, tf.mul(g, coef)] as [string, tf.Tensor]);
    const out = Array.isArray(grads) ? clipped.map(([, g]) => g) : Object.fromEntries(clipped);
    return { grads: out, totalNorm } as unknown as tf.TensorContainer;
  }) as unknown as ClipResult<tf.Tensor[] | Record<string, tf.Tensor>>;
}

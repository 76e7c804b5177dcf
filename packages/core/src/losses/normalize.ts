/**
 * L2 normalisation, as torch.nn.functional.normalize(x, p=2, dim=axis, eps): y = x / max(||x||_2, eps), the norm
 * taken along `axis` (cmid.md section 2.6 step 2: queries and keys, eps 1e-12; section 3.2: LocalHead features).
 *
 * Computed as x / sqrt(max(sum x^2, eps^2)), the same value (sqrt is monotone), so that below eps the norm passes
 * no gradient (the gradient is w / eps, as with PyTorch's clamp_min) instead of tfjs's NaN from sqrt'(0) at a zero
 * vector. eps^2 = 1e-24 is a normal float32.
 */
import * as tf from '@tensorflow/tfjs';

export function l2Normalize<T extends tf.Tensor>(x: T, axis = -1, eps = 1e-12): T {
  return tf.tidy(() => {
    const sumSq = tf.sum(tf.square(x), axis, true);
    const norm = tf.sqrt(tf.maximum(sumSq, eps * eps));
    return tf.div(x, norm) as T;
  });
}

/**
 * The global (MoCo v2) loss of CMID and its queue initialisation, cmid.md section 4.1 (reference
 * `mocov2plus_loss_func`) and section 13 item 3.
 *
 * For L2-normalised queries q [N,D], keys k [N,D] (constants) and a queue of K stored keys:
 *   l_pos[n] = q_n . k_n,  l_neg[n, j] = q_n . Q_j,  logits = [l_pos | l_neg] / T   ([N, 1+K])
 *   loss = mean_n CE(logits_n, class 0) = mean_n ( -log_softmax(logits_n)[0] ).
 * Layout: our queue is [K, D], one stored key per ROW (the reference stores it transposed, [D, K]); k and the
 * queue are wrapped in a stop-gradient (the reference computes them under no_grad / as a detached copy).
 * CMID symmetrises the loss over the two views against the same queue snapshot (section 2.6); that, and the
 * enqueue, are the caller's.
 *
 * Queue initialisation (quirk 3): the reference draws randn(D, K) and L2-normalises along the K axis, so each of
 * the D feature rows has unit norm over the K slots and each stored key has norm about sqrt(D / K) (1/16 for
 * D = 256, K = 65536). `normalizeKeys: true` gives the documented fix, standard MoCo's unit-norm keys.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './stop-gradient.js';

/** mean_n CE([q.k | q Queue^T] / T, 0). q, k: [N, D] L2-normalised; queue: [K, D] (one key per row). */
export function mocoInfoNce(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, temperature: number): tf.Scalar {
  if (q.rank !== 2 || k.rank !== 2 || queue.rank !== 2) {
    throw new Error(`mocoInfoNce: q, k and queue must be 2-D, got [${q.shape}], [${k.shape}], [${queue.shape}].`);
  }
  const [N, D] = q.shape;
  if (k.shape[0] !== N || k.shape[1] !== D) throw new Error(`mocoInfoNce: k [${k.shape}] must match q [${q.shape}].`);
  if (queue.shape[1] !== D) throw new Error(`mocoInfoNce: queue [${queue.shape}] must be [K, ${D}] (one key per row).`);
  if (!(temperature > 0)) throw new Error(`mocoInfoNce: temperature must be > 0, got ${temperature}.`);
  return tf.tidy(() => {
    const kc = stopGradient(k);
    const qc = stopGradient(queue);
    const pos = tf.sum(tf.mul(q, kc), 1, true); // [N, 1]
    const neg = tf.matMul(q, qc, false, true); // [N, K]
    const logits = tf.div(tf.concat([pos, neg], 1), temperature);
    const logp = tf.logSoftmax(logits, -1);
    return tf.neg(tf.mean(tf.slice(logp, [0, 0], [N, 1]))) as tf.Scalar;
  });
}

export interface QueueInitOptions {
  /** Unit-norm keys (standard MoCo, the fix of quirk 3) instead of the reference's unit-norm feature rows. */
  normalizeKeys?: boolean;
  /** F.normalize's eps. */
  eps?: number;
}

/**
 * The initial queue as host values in OUR layout [K, D] (row-major, one key per row), from `randn` holding a
 * standard-normal [D, K] matrix in the reference's layout (row-major, D rows of K slots). The norms are summed in
 * float64 and the result rounded to float32.
 */
export function mocoQueueInitValues(randn: Float32Array, dim: number, size: number, options: QueueInitOptions = {}): Float32Array {
  const { normalizeKeys = false, eps = 1e-12 } = options;
  if (randn.length !== dim * size) throw new Error(`mocoQueueInit: randn has ${randn.length} values, expected D*K = ${dim}*${size}.`);
  const out = new Float32Array(dim * size);
  if (normalizeKeys) {
    for (let j = 0; j < size; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += randn[d * size + j]! ** 2;
      const n = Math.max(Math.sqrt(s), eps);
      for (let d = 0; d < dim; d++) out[j * dim + d] = randn[d * size + j]! / n;
    }
  } else {
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let j = 0; j < size; j++) s += randn[d * size + j]! ** 2;
      const n = Math.max(Math.sqrt(s), eps);
      for (let j = 0; j < size; j++) out[j * dim + d] = randn[d * size + j]! / n;
    }
  }
  return out;
}

/** mocoQueueInitValues as a [K, D] tensor (e.g. for a non-trainable queue variable). */
export function mocoQueueInit(randn: Float32Array, dim: number, size: number, options: QueueInitOptions = {}): tf.Tensor2D {
  return tf.tensor2d(mocoQueueInitValues(randn, dim, size, options), [size, dim]);
}

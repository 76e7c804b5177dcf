/**
 * The foundation's acceptance bar: gradients of whole small networks on wasm (with our kernels) equal the cpu
 * backend's (tfjs's JS reference) to 1e-4 relative. A CNN covers conv (stride 1 and 2, same and valid), batch norm
 * in training mode, max and average pooling, dense and softmax cross-entropy; an attention block covers batched
 * matmuls with transposes, softmax, layer norm, GELU and a gather (relative-position-bias style table lookup),
 * whose gradient needs UnsortedSegmentSum.
 */
import { describe, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { expectClose, onBackend, randomArray } from '../../src/testing/index.js';

interface Param { name: string; shape: number[]; values: Float32Array }

function params(spec: [string, number[], number][], seed: number): Param[] {
  return spec.map(([name, shape, scale], i) => ({
    name, shape, values: randomArray(shape.reduce((a, b) => a * b, 1), seed + i, -scale, scale),
  }));
}

/** Gradients of loss(params) with respect to every parameter, computed on `backend`. */
async function grads(backend: 'cpu' | 'wasm', ps: Param[], loss: (w: Record<string, tf.Tensor>) => tf.Scalar) {
  return onBackend(backend, () => {
    const vars = ps.map((p) => tf.tensor(p.values, p.shape));
    const f = (...ws: tf.Tensor[]) => loss(Object.fromEntries(ps.map((p, i) => [p.name, ws[i]!])));
    const { value, grads: g } = tf.valueAndGrads(f)(vars);
    return [value, ...g];
  });
}

async function compareBackends(ps: Param[], loss: (w: Record<string, tf.Tensor>) => tf.Scalar) {
  const cpu = await grads('cpu', ps, loss);
  const wasm = await grads('wasm', ps, loss);
  expectClose(wasm[0]!, cpu[0]!, 1e-4, 0, 'loss');
  ps.forEach((p, i) => expectClose(wasm[i + 1]!, cpu[i + 1]!, 1e-4, 1e-7, `d loss / d ${p.name}`));
}

describe('tf.grad on wasm matches cpu for whole networks', () => {
  it('CNN: conv s1 same, conv s2 same, conv s2 valid, batch norm (train), max/avg pool, dense, softmax CE; x=[4,17,17,3]', async () => {
    const B = 4, classes = 5;
    const x = randomArray(B * 17 * 17 * 3, 100);
    const labels = Array.from({ length: B }, (_, i) => i % classes);
    const ps = params([
      ['w1', [3, 3, 3, 8], 0.4], ['g1', [8], 1], ['b1', [8], 0.1],
      ['w2', [3, 3, 8, 12], 0.2], ['w3', [5, 5, 12, 16], 0.1], ['b3', [16], 0.1],
      ['wd', [16 * 2, classes], 0.3], ['bd', [classes], 0.1],
    ], 1);
    await compareBackends(ps, (w) => {
      const input = tf.tensor4d(x, [B, 17, 17, 3]);
      let h: tf.Tensor4D = tf.conv2d(input, w.w1 as tf.Tensor4D, 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, w.b1!, tf.add(w.g1!, 1), 1e-5) as tf.Tensor4D;
      h = tf.relu(h);
      h = tf.conv2d(h, w.w2 as tf.Tensor4D, 2, 'same'); // 9x9
      h = tf.relu(h);
      const pooledMax = tf.maxPool(h, 3, 2, 'same'); // 5x5
      h = tf.conv2d(pooledMax, w.w3 as tf.Tensor4D, 2, 'valid'); // 1x1
      h = tf.add(h, w.b3!);
      const avg = tf.avgPool(tf.conv2d(pooledMax, w.w3 as tf.Tensor4D, 1, 'same'), 5, 5, 'valid'); // 1x1
      const feat = tf.concat([tf.reshape(h, [B, 16]), tf.reshape(avg, [B, 16])], 1);
      const logits = tf.add(tf.matMul(feat, w.wd as tf.Tensor2D), w.bd!);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits) as tf.Scalar;
    });
  });

  it('attention block: qkv dense, batched QK^T and AV, relative position bias by gather, softmax, layer norm, GELU MLP; tokens=[2,16,24] heads=3', async () => {
    const B = 2, N = 16, C = 24, H = 3, D = C / H, tableSize = 49;
    const x = randomArray(B * N * C, 200);
    // a fixed index map from token pairs to bias-table rows, as Swin's relative_position_index
    const index = new Int32Array(N * N).map((_, i) => (Math.floor(i / N) * 7 + (i % N) * 3) % tableSize);
    const ps = params([
      ['wqkv', [C, 3 * C], 0.2], ['bqkv', [3 * C], 0.05], ['table', [tableSize, H], 0.5],
      ['wproj', [C, C], 0.2], ['ln_g', [C], 0.2], ['ln_b', [C], 0.1],
      ['w1', [C, 2 * C], 0.2], ['w2', [2 * C, C], 0.2],
    ], 7);
    await compareBackends(ps, (w) => {
      const t = tf.tensor3d(x, [B, N, C]);
      const qkv = tf.add(tf.matMul(tf.reshape(t, [B * N, C]), w.wqkv as tf.Tensor2D), w.bqkv!);
      const heads = tf.transpose(tf.reshape(qkv, [B, N, 3, H, D]), [2, 0, 3, 1, 4]); // [3,B,H,N,D]
      const [q, k, v] = tf.unstack(heads).map((a) => tf.reshape(a, [B * H, N, D]));
      let attn = tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(D)); // [BH,N,N]
      const bias = tf.transpose(tf.reshape(tf.gather(w.table!, tf.tensor1d(index, 'int32')), [N, N, H]), [2, 0, 1]);
      attn = tf.reshape(tf.add(tf.reshape(attn, [B, H, N, N]), bias), [B * H, N, N]);
      attn = tf.softmax(attn);
      const o = tf.reshape(tf.transpose(tf.reshape(tf.matMul(attn, v!), [B, H, N, D]), [0, 2, 1, 3]), [B * N, C]);
      let y = tf.add(tf.reshape(t, [B * N, C]), tf.matMul(o, w.wproj as tf.Tensor2D));
      const { mean, variance } = tf.moments(y, [1], true);
      const normed = tf.add(tf.mul(tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5))), tf.add(w.ln_g!, 1)), w.ln_b!);
      const hdn = tf.matMul(normed, w.w1 as tf.Tensor2D);
      const gelu = tf.mul(tf.mul(hdn, 0.5), tf.add(1, tf.erf(tf.div(hdn, Math.SQRT2))));
      y = tf.add(y, tf.matMul(gelu, w.w2 as tf.Tensor2D));
      return tf.mean(tf.square(y)) as tf.Scalar;
    });
  });
});

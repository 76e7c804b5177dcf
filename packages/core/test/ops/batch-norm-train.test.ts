import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { expectClose, onBackend, randomArray } from '../../src/testing/index.js';
import { batchNormTrain, fusedBatchNormAvailable, fusedBatchNormOptions } from '../../src/ops/batch-norm-train.js';
import { initBackend } from '../../src/runtime/init-backend.js';
import { trace } from '../../src/graph/trace.js';

const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** y, mean, variance and the gradients of sum(y * w) for x, gamma, beta (w fixed noise). */
function bnOutputs(shape: number[], relu: boolean, seed: number): () => tf.Tensor[] {
  const C = shape[shape.length - 1]!;
  const xv = randomArray(size(shape), seed).map((v, i) => v * 3 + 0.5 + ((i % C) % 8) * 0.25); // per-channel offsets
  const gv = randomArray(C, seed + 1), bv = randomArray(C, seed + 2), wv = randomArray(size(shape), seed + 3);
  return () => {
    const x = tf.tensor(xv, shape), g = tf.tensor1d(gv), b = tf.tensor1d(bv), w = tf.tensor(wv, shape);
    const grads = tf.grads((a: tf.Tensor, gm: tf.Tensor, bt: tf.Tensor) => {
      const r = batchNormTrain(a, gm, bt, 1e-5, relu);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(tf.mul(r.y, w));
    })([x, g, b]);
    const r = batchNormTrain(x, g, b, 1e-5, relu);
    return [r.y, r.mean, r.variance, ...grads];
  };
}

const NAMES = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
const SHAPES = [[2, 14, 14, 64], [3, 5, 7, 6], [9, 5], [2, 7, 7, 2048], [1, 1, 1, 3], [4, 300, 4]];

describe('batchNormTrain: fused wasm kernels', () => {
  afterEach(() => {
    fusedBatchNormOptions.enabled = true;
  });

  it('are what wasm uses in training mode, and not while trace() records kernels for ONNX', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.zeros([2, 3]);
    expect(fusedBatchNormAvailable(x)).toBe(true);
    const g = tf.ones([3]), b = tf.zeros([3]);
    const { graph } = trace((inp) => {
      const r = batchNormTrain(inp['x']!, g, b, 1e-5, true);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    }, { inputs: { x } });
    const ops = graph.nodes.map((n) => n.op);
    expect(ops.some((o) => o.startsWith('Cmid'))).toBe(false);
    expect(ops).toContain('Relu');
    tf.dispose([x, g, b]);
  });

  for (const relu of [false, true]) {
    for (const shape of SHAPES) {
      it(`agree with the tf-op formulation${relu ? ' + ReLU' : ''} on [${shape}]: same bits except rsqrt rounding, and with cpu`, async () => {
        const f = bnOutputs(shape, relu, 7);
        fusedBatchNormOptions.enabled = true;
        const fused = await onBackend('wasm', f);
        fusedBatchNormOptions.enabled = false;
        const unfused = await onBackend('wasm', f);
        const cpu = await onBackend('cpu', f);
        fused.forEach((v, i) => {
          expectClose(v, unfused[i]!, 1e-6, 1e-7, `${NAMES[i]} fused vs unfused`);
          expectClose(v, cpu[i]!, 2e-5, 1e-6, `${NAMES[i]} fused vs cpu`);
        });
        if (relu) expect(fused[0]!.some((v) => v === 0) && fused[0]!.some((v) => v > 0)).toBe(true); // the mask matters
      });
    }
  }

  it('leak no tensors and keep no full-size intermediate besides x', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.randomNormal([2, 8, 8, 16]), g = tf.ones([16]), b = tf.zeros([16]);
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor) => {
      const r = batchNormTrain(a, g, b, 1e-5, true);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(r.y);
    })([x]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });

  it('propagate NaN like the tf ops (a NaN input poisons its channel, not the others)', async () => {
    const shape = [2, 3, 3, 4];
    const xv = randomArray(size(shape), 3);
    xv[5] = NaN; // channel 1
    const f = () => {
      const r = batchNormTrain(tf.tensor(xv, shape), tf.ones([4]), tf.zeros([4]), 1e-5, true);
      return [r.y, r.mean];
    };
    const [y, mean] = await onBackend('wasm', f);
    expect(Number.isNaN(mean![1]!)).toBe(true);
    expect([0, 2, 3].every((c) => Number.isFinite(mean![c]!))).toBe(true);
    expect(Number.isNaN(y![1]!) && Number.isFinite(y![0]!)).toBe(true);
  });
});

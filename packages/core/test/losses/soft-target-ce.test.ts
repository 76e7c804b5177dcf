import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, labelSmoothingCrossEntropy, softTargetCrossEntropy } from '../../src/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('soft-target and label-smoothing cross-entropy (timm)', () => {
  const z = [[2, -1, 0.5], [0.1, 0.2, 3]];
  const y = [[0.7, 0.2, 0.1], [0, 0.05, 0.95]];
  const logSoftmax = (r: number[]) => {
    const m = Math.max(...r);
    const l = Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
    return r.map((v) => v - l);
  };
  it('matches the formula by hand', () => {
    const want = z.map((r, i) => -logSoftmax(r).reduce((a, v, k) => a + y[i]![k]! * v, 0)).reduce((a, b) => a + b) / 2;
    expect(softTargetCrossEntropy(tf.tensor2d(z), tf.tensor2d(y)).dataSync()[0]).toBeCloseTo(want, 5);
    const s = 0.1;
    const ls = z.map((r, i) => {
      const lp = logSoftmax(r);
      const lab = [0, 2][i]!;
      return (1 - s) * -lp[lab]! + s * -(lp.reduce((a, b) => a + b) / 3);
    });
    expect(labelSmoothingCrossEntropy(tf.tensor2d(z), tf.tensor1d([0, 2], 'int32'), s).dataSync()[0]).toBeCloseTo((ls[0]! + ls[1]!) / 2, 5);
  });
  it('has the gradient (softmax(z) - y) / B, also for large logits', () => {
    const big = z.map((r) => r.map((v) => v * 40));
    const g = tf.grad((x: tf.Tensor) => softTargetCrossEntropy(x as tf.Tensor2D, tf.tensor2d(y)))(tf.tensor2d(big)).arraySync() as number[][];
    big.forEach((r, i) => {
      const p = logSoftmax(r).map(Math.exp);
      p.forEach((v, k) => expect(g[i]![k]).toBeCloseTo((v - y[i]![k]!) / 2, 5));
    });
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';

const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** The gradient of sum(maxPool(x) * w) with w = 1..n, so every window's routing is visible. */
function poolGrad(x: Float32Array, shape: number[], k: number, s: number, pad: 'same' | 'valid'): () => tf.Tensor {
  return () => tf.grad((a: tf.Tensor) => {
    const y = tf.maxPool(a as tf.Tensor4D, k, s, pad);
    return tf.sum(tf.mul(y, tf.add(tf.range(0, y.size).reshape(y.shape), 1)));
  })(tf.tensor(x, shape));
}

const cases: [number[], number, number, 'same' | 'valid'][] = [
  [[2, 8, 6, 4], 2, 2, 'valid'],
  [[2, 9, 10, 3], 3, 2, 'same'], // ResNet's stem pooling, odd sizes
  [[1, 16, 16, 8], 3, 2, 'same'],
  [[2, 7, 5, 2], 3, 1, 'same'],
];

describe('MaxPoolGrad (wasm) vs cpu', () => {
  it('routes the gradient of a window whose maximum is negative (the shipped kernel dropped it)', async () => {
    // windows: [-0.04 0.34; -1.36 0.92] max 0.92 | [-0.42 -1.33; -0.40 -1.13] max -0.40 | ... | [-1.07 -0.39; -0.45 -0.68] max -0.39
    const x = Float32Array.from([-0.04, 0.34, -0.42, -1.33, -1.36, 0.92, -0.4, -1.13, 0.88, -0.79, -1.07, -0.39, 0.22, 1.94, -0.45, -0.68]);
    const [g] = await onBackend('wasm', poolGrad(x, [1, 4, 4, 1], 2, 2, 'valid'));
    expect(Array.from(g!)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 4, 0, 3, 0, 0]);
  });
  for (const [shape, k, s, pad] of cases) {
    it(`x=[${shape}] ${k}x${k}/${s} ${pad} matches cpu (normal noise, negative maxima included)`, async () => {
      const x = randomArray(size(shape), 3);
      const [ours] = await onBackend('wasm', poolGrad(x, shape, k, s, pad));
      const [ref] = await onBackend('cpu', poolGrad(x, shape, k, s, pad));
      expectClose(ours!, ref!, 1e-6, 0);
    });
  }
  it('takes the first maximum in window order on ties, for SIMD lanes, the channel tail and windows over 64 taps', async () => {
    // values on a coarse grid tie often; 9x9 windows (81 taps) take the kernel's scalar path
    for (const [shape, k, s, pad] of [[[2, 6, 6, 5], 3, 1, 'same'], [[1, 12, 12, 6], 9, 3, 'valid'], [[1, 11, 9, 4], 9, 2, 'same']] as const) {
      const x = randomArray(size([...shape]), 5).map((v) => Math.round(v * 2) / 2);
      const [ours] = await onBackend('wasm', poolGrad(x, [...shape], k, s, pad));
      const [ref] = await onBackend('cpu', poolGrad(x, [...shape], k, s, pad));
      expect(Array.from(ours!), `x=[${shape}] ${k}x${k}/${s}`).toEqual(Array.from(ref!));
    }
  });
});

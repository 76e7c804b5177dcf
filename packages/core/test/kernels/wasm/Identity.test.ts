import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';

describe('Identity (wasm): shares the buffer, reference-counted', () => {
  it('clone gives the same values, survives disposing the original, and frees the buffer with the last reference', async () => {
    await initBackend({ backend: 'wasm' });
    const ids0 = tf.backend().numDataIds();
    const x = tf.tensor2d([1, -2, 3.5, 4, 5, 6], [2, 3]);
    const y = tf.clone(x); // the Identity kernel
    expect(tf.backend().numDataIds()).toBe(ids0 + 1); // one buffer for both
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 4, 5, 6]);
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    expect(tf.backend().numDataIds()).toBe(ids0);
  });

  it('gradients through saved (cloned) tensors are unchanged: d/dx sum(x^2 * relu(x)) against the closed form', async () => {
    await initBackend({ backend: 'wasm' });
    const v = [-1.5, -0.25, 0, 0.5, 2, 3];
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.square(x), tf.relu(x))))(tf.tensor1d(v));
    const want = v.map((a) => (a > 0 ? 3 * a * a : 0));
    const got = Array.from(g.dataSync());
    got.forEach((a, i) => expect(a).toBeCloseTo(want[i]!, 5));
    g.dispose();
  });

  it('string tensors keep the shipped (copying) kernel', async () => {
    await initBackend({ backend: 'wasm' });
    const s = tf.tensor1d(['a', 'bc']);
    const c = tf.clone(s);
    s.dispose();
    expect(c.arraySync()).toEqual(['a', 'bc']);
    c.dispose();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { onBackend, randomArray } from '../../src/testing/index.js';
import { addRelu, fusedAddReluOptions } from '../../src/ops/add-relu.js';

describe('addRelu: relu(a + b) with fused wasm kernels', () => {
  afterEach(() => {
    fusedAddReluOptions.enabled = true;
  });
  for (const shape of [[2, 7, 7, 33], [5], [3, 4]]) {
    it(`gives the bits of tf.relu(tf.add(a, b)) and its gradients on [${shape}] (wasm fused vs unfused, and cpu)`, async () => {
      const n = shape.reduce((x, y) => x * y, 1);
      const av = randomArray(n, 1), bv = randomArray(n, 2), wv = randomArray(n, 3);
      av[0] = NaN; // NaN passes forward and backward
      bv[1] = -av[1]!; // a + b == 0 exactly: no gradient, as Step(0) = 0
      const f = () => {
        const a = tf.tensor(av, shape), b = tf.tensor(bv, shape), w = tf.tensor(wv, shape);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(addRelu(x, y), w)))([a, b]);
        return [addRelu(a, b), ...grads];
      };
      fusedAddReluOptions.enabled = true;
      const fused = await onBackend('wasm', f);
      fusedAddReluOptions.enabled = false;
      const unfused = await onBackend('wasm', f);
      const cpu = await onBackend('cpu', f);
      for (let i = 0; i < 3; i++) {
        expect(Array.from(fused[i]!)).toEqual(Array.from(unfused[i]!));
        expect(Array.from(fused[i]!)).toEqual(Array.from(cpu[i]!));
      }
      expect(Number.isNaN(fused[0]![0]!)).toBe(true);
      expect(fused[1]![1]).toBe(0);
    });
  }
  it('falls back to the tf ops for broadcasting shapes', async () => {
    const [y] = await onBackend('wasm', () => addRelu(tf.tensor2d([[-1, 2], [3, -4]]), tf.tensor1d([0.5, 0.5])));
    expect(Array.from(y!)).toEqual([0, 2.5, 3.5, 0]);
  });
});

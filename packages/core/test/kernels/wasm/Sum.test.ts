import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { FALLBACK, LEADING, checkCase, checkRouting, reduceName } from './reduce-cases.js';

describe('Sum (wasm) over leading axes: float64-accumulated column sums', () => {
  for (const [i, c] of LEADING.entries()) it(reduceName(c), () => checkCase('sum', c, i + 1));

  it('routing: leading-axes cases take our column sum, the others the shipped kernel', () => checkRouting());

  it('is accurate where a float32 running sum is not: 2^20 rows of 0.1 (x4 columns) sum to 104857.6', async () => {
    await initBackend({ backend: 'wasm' });
    const rows = 2 ** 20;
    const y = tf.sum(tf.fill([rows, 4], 0.1), 0);
    const want = rows * Math.fround(0.1);
    // a float32 running sum is off by about 1e-3 relative here; ours is float64 across 16-row blocks
    for (const v of y.dataSync()) expect(Math.abs(v - want) / want).toBeLessThan(1e-6);
    y.dispose();
  });

  it('empty rows give zeros (x=[0,3] axis 0), like cpu', async () => {
    const f = (): tf.Tensor => tf.sum(tf.zeros([0, 3]), 0);
    const [cpu] = await onBackend('cpu', f);
    const [wasm] = await onBackend('wasm', f);
    expect(Array.from(wasm!)).toEqual(Array.from(cpu!));
  });
});

describe('Sum (wasm): other axes and dtypes on the shipped kernel', () => {
  for (const [i, c] of FALLBACK.entries()) it(reduceName(c), () => checkCase('sum', c, 50 + i));

  it('int32 over a leading axis stays int32 and exact (shipped kernel)', async () => {
    await initBackend({ backend: 'wasm' });
    const y = tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3], 'int32'), 0);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([12, 15, 18]);
    y.dispose();
  });
});

describe('Sum (wasm) in gradients and bookkeeping', () => {
  it('batch-norm style loss: tf.grad wrt x, gamma and beta (Sum over [0,1,2] in the backward), wasm vs cpu', async () => {
    const shape = [2, 6, 5, 12];
    const xv = randomArray(2 * 6 * 5 * 12, 1);
    const gv = randomArray(12, 2);
    const bv = randomArray(12, 3);
    const rv = randomArray(2 * 6 * 5 * 12, 4);
    const f = (): tf.Tensor[] =>
      tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
        return tf.sum(tf.mul(y, tf.tensor(rv, shape)));
      })([tf.tensor(xv, shape), tf.tensor(gv, [12]), tf.tensor(bv, [12])]);
    const cpu = await onBackend('cpu', f);
    const wasm = await onBackend('wasm', f);
    cpu.forEach((e, i) => expectClose(wasm[i]!, e, 1e-4, 1e-6, `grad ${i}`));
  });

  it('frees what it makes: numTensors and numDataIds unchanged over repeated calls', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor(randomArray(2 * 5 * 5 * 7, 9), [2, 5, 5, 7]);
    tf.sum(x, [0, 1, 2]).dispose();
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.sum(x, [0, 1, 2]).dispose();
      tf.sum(x, [0, 1, 2], true).dispose();
      tf.sum(x, [1, 2]).dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    x.dispose();
  });
});

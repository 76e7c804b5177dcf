import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { FALLBACK, LEADING, checkCase, reduceName } from './reduce-cases.js';

describe('Mean (wasm) over leading axes: float64-accumulated column sums', () => {
  for (const [i, c] of LEADING.entries()) it(reduceName(c), () => checkCase('mean', c, 100 + i));

  it('is accurate where a float32 running sum is not: the mean of 2^20 rows of 0.1 (x4 columns) is 0.1', async () => {
    await initBackend({ backend: 'wasm' });
    const y = tf.mean(tf.fill([2 ** 18, 2, 2, 4], 0.1), [0, 1, 2]);
    const want = Math.fround(0.1);
    for (const v of y.dataSync()) expect(Math.abs(v - want) / want).toBeLessThan(1e-7);
    y.dispose();
  });

  it('empty rows give zeros (x=[0,3] axis 0), like cpu (which divides before it sums)', async () => {
    const f = (): tf.Tensor => tf.mean(tf.zeros([0, 3]), 0);
    const [cpu] = await onBackend('cpu', f);
    const [wasm] = await onBackend('wasm', f);
    expect(Array.from(wasm!)).toEqual(Array.from(cpu!));
  });
});

describe('Mean (wasm): other axes and dtypes on the shipped kernel', () => {
  for (const [i, c] of FALLBACK.entries()) it(reduceName(c), () => checkCase('mean', c, 150 + i));

  it('int32 input over a leading axis gives float32 (shipped kernel casts)', async () => {
    await initBackend({ backend: 'wasm' });
    const y = tf.mean(tf.tensor2d([1, 2, 3, 4, 5, 7], [2, 3], 'int32'), 0);
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.dataSync())).toEqual([2.5, 3.5, 5]);
    y.dispose();
  });
});

describe('Mean (wasm) in gradients and bookkeeping', () => {
  it('tf.moments over [0,1,2] (keepDims) and its gradient, wasm vs cpu', async () => {
    const shape = [3, 4, 5, 9];
    const xv = randomArray(3 * 4 * 5 * 9, 11);
    const f = (): tf.Tensor[] => {
      const x = tf.tensor(xv, shape);
      const { mean, variance } = tf.moments(x, [0, 1, 2], true);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.moments(t, [0, 1, 2]).variance, tf.range(1, 10))))(x);
      return [mean, variance, g];
    };
    const cpu = await onBackend('cpu', f);
    const wasm = await onBackend('wasm', f);
    cpu.forEach((e, i) => expectClose(wasm[i]!, e, 1e-5, 1e-6, `output ${i}`));
  });

  it('frees what it makes: numTensors and numDataIds unchanged over repeated calls', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor(randomArray(2 * 5 * 5 * 7, 9), [2, 5, 5, 7]);
    tf.mean(x, [0, 1, 2]).dispose();
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.mean(x, [0, 1, 2]).dispose();
      tf.mean(x, [0, 1, 2], true).dispose();
      tf.mean(x, [1, 2]).dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    x.dispose();
  });
});

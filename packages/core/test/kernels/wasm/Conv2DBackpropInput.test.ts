import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';
import {
  convName, convDyShape, type ConvCase,
  adjointReference, expectSameOnBackends, padName, rand, shapeName, size, wasmCounts, type Pad, type Rounding,
} from './conv-cases.js';
import { conv2DBackpropInputOptions } from '../../../src/kernels/wasm/Conv2DBackpropInput.js';

/** Runs `f` with the kernel's route (and column-buffer bound) forced, restoring the defaults after. */
async function withOptions<T>(o: Partial<typeof conv2DBackpropInputOptions>, f: () => Promise<T>): Promise<T> {
  const saved = { ...conv2DBackpropInputOptions };
  Object.assign(conv2DBackpropInputOptions, o);
  try {
    return await f();
  } finally {
    Object.assign(conv2DBackpropInputOptions, saved);
  }
}

const ROUTES = ['gemm', 'conv'] as const;

type S4 = [number, number, number, number];
type Case = ConvCase;

const CASES: Case[] = [
  { x: [1, 5, 5, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
  { x: [2, 6, 6, 8], f: [1, 1, 8, 5], s: 1, pad: 'same' },
  { x: [2, 7, 7, 8], f: [1, 1, 8, 5], s: 2, pad: 'valid' }, // filter smaller than the stride: zero rows in dx
  { x: [1, 8, 9, 3], f: [2, 2, 3, 2], s: 3, pad: 'same' },
  { x: [1, 8, 8, 3], f: [3, 3, 3, 2], s: 1, pad: 'same' },
  { x: [3, 7, 9, 4], f: [3, 3, 4, 6], s: 1, pad: 'valid' },
  { x: [2, 9, 9, 5], f: [3, 3, 5, 4], s: 2, pad: 'same' },
  { x: [2, 10, 10, 5], f: [3, 3, 5, 4], s: 2, pad: 'valid' },
  { x: [2, 9, 9, 5], f: [3, 3, 5, 4], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 7, 7, 2], f: [3, 3, 2, 3], s: 1, pad: [[0, 0], [4, 0], [0, 3], [0, 0]] }, // pads past the filter
  { x: [1, 9, 8, 2], f: [3, 3, 2, 3], s: 2, pad: [[0, 0], [0, 5], [4, 1], [0, 0]] },
  { x: [2, 11, 10, 3], f: [5, 5, 3, 4], s: 3, pad: 'same' },
  { x: [1, 12, 12, 3], f: [5, 5, 3, 4], s: 3, pad: 'valid' },
  { x: [1, 13, 13, 2], f: [7, 7, 2, 3], s: 2, pad: 'same' },
  { x: [2, 10, 10, 4], f: [7, 7, 4, 2], s: 1, pad: 'valid' },
  { x: [2, 8, 7, 3], f: [4, 2, 3, 2], s: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 2], s: 2, pad: 1, round: 'ceil' },
  { x: [1, 8, 8, 3], f: [3, 3, 3, 2], s: 2, pad: 1, round: 'floor' },
  { x: [1, 9, 9, 3], f: [3, 3, 3, 2], s: 2, pad: 0, round: 'round' },
  { x: [3, 10, 10, 16], f: [3, 3, 16, 8], s: 1, pad: 'same' },
  // Co >= 32: the automatic route takes the GEMM for these too (tf.grad tests below)
  { x: [2, 9, 9, 5], f: [3, 3, 5, 32], s: 2, pad: 'same' },
  { x: [1, 7, 6, 8], f: [3, 3, 8, 40], s: 1, pad: 'valid' },
  { x: [1, 15, 15, 3], f: [7, 7, 3, 33], s: 2, pad: 'same' },
  { x: [2, 5, 5, 12], f: [1, 1, 12, 36], s: 1, pad: 'valid' },
  { x: [2, 11, 11, 12], f: [1, 1, 12, 9], s: 2, pad: 'same' },
];

const name = convName;
const dyShape = convDyShape;

describe('Conv2DBackpropInput on wasm vs cpu', () => {
  for (const [i, c] of CASES.entries()) {
    for (const route of ROUTES) {
      it(`kernel ${name(c)} route=${route}`, () => withOptions({ route }, () =>
        expectSameOnBackends(() =>
          tf.engine().runKernel(
            'Conv2DBackpropInput',
            { dy: rand(dyShape(c), 100 + i), filter: rand(c.f, 200 + i) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.round, inputShape: c.x } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        )));
    }
    it(`tf.grad of conv2d wrt x ${name(c)}`, async () => {
      const grad = (): tf.Tensor => {
        const w = rand(c.f, 200 + i) as tf.Tensor4D;
        const dy = rand(dyShape(c), 100 + i);
        return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w, c.s, c.pad, 'NHWC', 1, c.round), dy)))(rand(c.x, i));
      };
      if (c.round === undefined) return expectSameOnBackends(grad);
      // tfjs's conv2d gradient drops dimRoundingMode, so the cpu kernel misreads this dy; compare with the adjoint.
      const ref = await adjointReference(
        (x, w) => tf.conv2d(x, w, c.s, c.pad, 'NHWC', 1, c.round), randomArray(size(c.x), i), c.x,
        randomArray(size(c.f), 200 + i), c.f, randomArray(size(dyShape(c)), 100 + i),
      );
      expectClose((await onBackend('wasm', grad))[0]!, ref.dx, 1e-4);
    });
  }

  // The column buffer bound, shrunk so that dy @ W^T is formed and scattered over several chunks.
  const chunked: { c: Case; rows: number }[] = [
    { c: { x: [2, 5, 5, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' }, rows: 1 },
    { c: { x: [2, 9, 8, 5], f: [3, 3, 5, 6], s: 2, pad: 'valid' }, rows: 7 },
    { c: { x: [1, 13, 13, 3], f: [7, 7, 3, 5], s: 2, pad: 'same' }, rows: 10 },
    { c: { x: [2, 7, 7, 8], f: [1, 1, 8, 5], s: 2, pad: 'same' }, rows: 3 },
  ];
  for (const [i, { c, rows }] of chunked.entries()) {
    const k = c.f[0] * c.f[1] * c.f[2];
    it(`chunked columns: ${name(c)}, ${rows}-row chunks of ${size(dyShape(c).slice(0, 3))} rows`, () =>
      withOptions({ route: 'gemm', colLimitBytes: rows * 4 * k }, () =>
        expectSameOnBackends(() =>
          tf.engine().runKernel(
            'Conv2DBackpropInput',
            { dy: rand(dyShape(c), 300 + i), filter: rand(c.f, 400 + i) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        )));
  }

  it('tf.grad of conv2dTranspose (forward runs Conv2DBackpropInput) x=[2,5,5,4] f=[3,3,6,4] s=2 pad=same', async () => {
    await expectSameOnBackends(() => {
      const f = rand([3, 3, 6, 4], 1) as tf.Tensor4D;
      const r = rand([2, 10, 10, 6], 2);
      const [gx, gf] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 10, 10, 6], 2, 'same'), r)))([rand([2, 5, 5, 4], 3), f]);
      return [tf.conv2dTranspose(rand([2, 5, 5, 4], 3) as tf.Tensor4D, f, [2, 10, 10, 6], 2, 'same'), gx!, gf!];
    });
  });

  it('finite differences: d/dx of sum(tanh(conv2d(x, w, s=2, same)) * r) on wasm, x=[2,7,7,3] w=[3,3,3,4]', async () => {
    await initBackend({ backend: 'wasm' });
    const w = rand([3, 3, 3, 4], 7) as tf.Tensor4D;
    const r = rand([2, 4, 4, 4], 8);
    checkGradFiniteDiff(
      (x) => tf.sum(tf.mul(tf.tanh(tf.conv2d(x as tf.Tensor4D, w, 2, 'same')), r)),
      randomArray(2 * 7 * 7 * 3, 9), [2, 7, 7, 3], { coords: 24 },
    );
    tf.dispose([w, r]);
  });

  it('finite differences: d/dx of sum(tanh(conv2d(x, w, s=2, same)) * r) on wasm, x=[1,5,5,2] w=[3,3,2,32] (GEMM route)', async () => {
    await initBackend({ backend: 'wasm' });
    const w = tf.tidy(() => tf.mul(rand([3, 3, 2, 32], 17), 0.3)) as tf.Tensor4D;
    const r = rand([1, 3, 3, 32], 18);
    checkGradFiniteDiff(
      (x) => tf.sum(tf.mul(tf.tanh(tf.conv2d(x as tf.Tensor4D, w, 2, 'same')), r)),
      randomArray(5 * 5 * 2, 19), [1, 5, 5, 2], { coords: 24 },
    );
    tf.dispose([w, r]);
  });

  for (const route of ROUTES) it(`frees every temporary: no tensor or wasm data id left after repeated calls (stride 1 and 2, route=${route})`, () => withOptions({ route }, async () => {
    await initBackend({ backend: 'wasm' });
    const f = rand([3, 3, 5, 4], 1);
    const dy1 = rand([2, 9, 9, 4], 2);
    const dy2 = rand([2, 5, 5, 4], 3);
    const before = wasmCounts();
    const outs: tf.Tensor[] = [];
    for (let k = 0; k < 3; k++) {
      for (const [dy, s] of [[dy1, 1], [dy2, 2]] as const) {
        const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 9, 5] };
        outs.push(tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
      }
    }
    expect(wasmCounts().tensors - before.tensors).toBe(6);
    expect(wasmCounts().dataIds - before.dataIds).toBe(6);
    tf.dispose(outs);
    expect(wasmCounts()).toEqual(before);
    tf.dispose([f, dy1, dy2]);
  }));

  it('names both values when dy does not match the filter', async () => {
    await initBackend({ backend: 'wasm' });
    const dy = rand([1, 5, 5, 3], 1);
    const f = rand([3, 3, 2, 4], 2);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 5, 5, 2] } as unknown as tf.NamedAttrMap),
    ).toThrow('conv2DBackpropInput: dy has 3 channels but filter has 4 output channels.');
    tf.dispose([dy, f]);
  });
});

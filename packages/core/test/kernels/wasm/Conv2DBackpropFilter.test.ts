import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';
import {
  convName, convDyShape, type ConvCase,
  adjointReference, expectSameOnBackends, padName, rand, shapeName, size, wasmCounts, type Pad, type Rounding,
} from './conv-cases.js';
import { conv2DBackpropFilterOptions, im2colChunkRows } from '../../../src/kernels/wasm/Conv2DBackpropFilter.js';

/** Runs `f` with the kernel's route (and im2col bound) forced, restoring the defaults after. */
async function withOptions<T>(o: Partial<typeof conv2DBackpropFilterOptions>, f: () => Promise<T>): Promise<T> {
  const saved = { ...conv2DBackpropFilterOptions };
  Object.assign(conv2DBackpropFilterOptions, o);
  try {
    return await f();
  } finally {
    Object.assign(conv2DBackpropFilterOptions, saved);
  }
}

const ROUTES = ['im2col', 'conv'] as const;

type S4 = [number, number, number, number];
type Case = ConvCase;

const CASES: Case[] = [
  { x: [1, 5, 5, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
  { x: [2, 6, 6, 8], f: [1, 1, 8, 5], s: 1, pad: 'same' }, // pointwise matmul route
  { x: [2, 7, 7, 8], f: [1, 1, 8, 5], s: 2, pad: 'valid' },
  { x: [1, 6, 6, 8], f: [1, 1, 8, 5], s: 1, pad: [[0, 0], [1, 0], [0, 1], [0, 0]] },
  { x: [1, 8, 8, 3], f: [3, 3, 3, 2], s: 1, pad: 'same' },
  { x: [3, 7, 9, 4], f: [3, 3, 4, 6], s: 1, pad: 'valid' },
  { x: [2, 9, 9, 5], f: [3, 3, 5, 4], s: 2, pad: 'same' },
  { x: [2, 10, 10, 5], f: [3, 3, 5, 4], s: 2, pad: 'valid' },
  { x: [2, 9, 9, 5], f: [3, 3, 5, 4], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 11, 10, 3], f: [5, 5, 3, 4], s: 3, pad: 'same' },
  { x: [1, 12, 12, 3], f: [5, 5, 3, 4], s: 3, pad: 'valid' },
  { x: [1, 13, 13, 2], f: [7, 7, 2, 3], s: 2, pad: 'same' },
  { x: [2, 10, 10, 4], f: [7, 7, 4, 2], s: 1, pad: 'valid' },
  { x: [2, 8, 7, 3], f: [4, 2, 3, 2], s: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 2], s: 2, pad: 1, round: 'ceil' },
  { x: [1, 8, 8, 3], f: [3, 3, 3, 2], s: 2, pad: 1, round: 'floor' },
  { x: [1, 9, 9, 3], f: [3, 3, 3, 2], s: 2, pad: 0, round: 'round' },
  { x: [3, 10, 10, 8], f: [3, 3, 8, 16], s: 1, pad: 'same' },
  { x: [1, 15, 15, 3], f: [7, 7, 3, 8], s: 2, pad: 'same' }, // ResNet stem shape class, odd size
  { x: [2, 11, 11, 12], f: [1, 1, 12, 9], s: 2, pad: 'same' }, // strided 1x1 (projection shortcut), odd size
  { x: [1, 6, 7, 5], f: [3, 3, 5, 7], s: 1, pad: 'valid' },
];

const name = convName;
const dyShape = convDyShape;

describe('Conv2DBackpropFilter on wasm vs cpu', () => {
  for (const [i, c] of CASES.entries()) {
    for (const route of ROUTES) {
      it(`kernel ${name(c)} route=${route}`, () => withOptions({ route }, () =>
        expectSameOnBackends(() =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x: rand(c.x, i), dy: rand(dyShape(c), 100 + i) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.round, filterShape: c.f } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        )));
    }
    it(`tf.grad of conv2d wrt filter ${name(c)}`, async () => {
      const grad = (): tf.Tensor => {
        const x = rand(c.x, i) as tf.Tensor4D;
        const dy = rand(dyShape(c), 100 + i);
        return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.s, c.pad, 'NHWC', 1, c.round), dy)))(rand(c.f, 200 + i));
      };
      if (c.round === undefined) return expectSameOnBackends(grad);
      // tfjs's conv2d gradient drops dimRoundingMode, so the cpu kernel misreads this dy; compare with the adjoint.
      const ref = await adjointReference(
        (x, w) => tf.conv2d(x, w, c.s, c.pad, 'NHWC', 1, c.round), randomArray(size(c.x), i), c.x,
        randomArray(size(c.f), 200 + i), c.f, randomArray(size(dyShape(c)), 100 + i),
      );
      expectClose((await onBackend('wasm', grad))[0]!, ref.dw, 1e-4);
    });
  }

  const dilated: { xs: S4; fs: S4; s: number; d: number | [number, number]; pad: Pad }[] = [
    { xs: [2, 9, 9, 2], fs: [3, 3, 2, 2], s: 1, d: 2, pad: 'same' },
    { xs: [1, 11, 10, 3], fs: [3, 2, 3, 2], s: 1, d: [2, 3], pad: 'valid' },
  ];
  for (const { xs, fs, s: st, d, pad } of dilated) {
    for (const route of ROUTES) {
      it(`honours a dilations attr (x=${shapeName(xs)} f=${shapeName(fs)} s=${st} d=${d} pad=${padName(pad)}) route=${route}, against the adjoint of the cpu forward conv`, async () => {
        const xv = randomArray(size(xs), 1);
        const wv = randomArray(size(fs), 2);
        const dys = tf.backend_util.computeConv2DInfo(xs, fs, st, d, pad).outShape;
        const dyv = randomArray(size(dys), 3);
        const ref = await adjointReference((x, w) => tf.conv2d(x, w, st, pad as 'same', 'NHWC', d), xv, xs, wv, fs, dyv);
        await initBackend({ backend: 'wasm' });
        const got = await withOptions({ route }, async () => tf.tidy(() =>
          (tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, xs), dy: tf.tensor(dyv, dys) },
            { strides: st, pad, dataFormat: 'NHWC', filterShape: fs, dilations: d } as unknown as tf.NamedAttrMap) as tf.Tensor)
            .dataSync().slice(),
        ));
        expectClose(got, ref.dw, 1e-4);
      });
    }
  }

  // The im2col buffer bound, shrunk so that the product is accumulated over several chunks: 1 row, a few rows,
  // and (x=[2,20,20,3], 800 rows, the bound above 256 rows) chunks of 256 rows plus a 32-row tail; the 1x1
  // stride-1 case reads x in chunks.
  const chunked: { c: Case; rows: number }[] = [
    { c: { x: [2, 5, 5, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' }, rows: 1 },
    { c: { x: [2, 9, 8, 5], f: [3, 3, 5, 6], s: 2, pad: 'valid' }, rows: 7 },
    { c: { x: [2, 20, 20, 3], f: [3, 3, 3, 9], s: 1, pad: 'same' }, rows: 300 },
    { c: { x: [1, 13, 13, 3], f: [7, 7, 3, 5], s: 2, pad: 'same' }, rows: 10 },
    { c: { x: [2, 6, 6, 8], f: [1, 1, 8, 5], s: 1, pad: 'same' }, rows: 5 },
    { c: { x: [2, 7, 7, 8], f: [1, 1, 8, 5], s: 2, pad: 'same' }, rows: 3 },
  ];
  for (const [i, { c, rows }] of chunked.entries()) {
    const k = c.f[0] * c.f[1] * c.f[2];
    const limit = rows * 4 * k;
    const target = 4 * k; // one row: chunks are then 256 rows or the limit, whichever is smaller
    const chunk = im2colChunkRows(k, target, limit);
    it(`chunked im2col: ${name(c)}, ${chunk}-row chunks of ${size(dyShape(c).slice(0, 3))} rows`, async () => {
      expect(chunk).toBeLessThan(size(dyShape(c).slice(0, 3)));
      await withOptions({ route: 'im2col', im2colTargetBytes: target, im2colLimitBytes: limit }, () =>
        expectSameOnBackends(() =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x: rand(c.x, 300 + i), dy: rand(dyShape(c), 400 + i) },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ));
    });
  }

  it('im2colChunkRows: about the target in multiples of 256 rows (at least 256), never above the limit', () => {
    const MiB = 2 ** 20;
    expect(im2colChunkRows(27, MiB, 64 * MiB)).toBe(9472); // 1 MiB / 108 B = 9709 rows, down to 37 x 256
    expect(im2colChunkRows(4608, MiB, 64 * MiB)).toBe(256); // 56 rows would fit: one depth block instead
    expect(im2colChunkRows(27, 4 * 27, 4 * 27 * 300)).toBe(256);
    expect(im2colChunkRows(27, MiB, 4 * 27 * 7)).toBe(7);
    expect(im2colChunkRows(27, MiB, 1)).toBe(1);
    expect(im2colChunkRows(100352, MiB, 64 * MiB)).toBe(167); // 7x7x2048: the limit wins
  });

  it('finite differences: d/dw of sum(tanh(conv2d(x, w, s=2, same)) * r) on wasm, x=[2,7,7,3] w=[3,3,3,4]', async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([2, 7, 7, 3], 7) as tf.Tensor4D;
    const r = rand([2, 4, 4, 4], 8);
    checkGradFiniteDiff(
      (w) => tf.sum(tf.mul(tf.tanh(tf.conv2d(x, w as tf.Tensor4D, 2, 'same')), r)),
      randomArray(3 * 3 * 3 * 4, 9, -0.5, 0.5), [3, 3, 3, 4], { coords: 24 },
    );
    tf.dispose([x, r]);
  });

  for (const route of ROUTES) it(`frees every temporary: no tensor or wasm data id left after repeated calls (3x3 and 1x1, route=${route})`, () => withOptions({ route }, async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([2, 9, 9, 5], 1);
    const dy3 = rand([2, 5, 5, 4], 2);
    const dy1 = rand([2, 9, 9, 4], 3);
    const before = wasmCounts();
    const outs: tf.Tensor[] = [];
    for (let k = 0; k < 3; k++) {
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 5, 4] };
      outs.push(tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy3 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
      const attrs1 = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 5, 4] };
      outs.push(tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy1 }, attrs1 as unknown as tf.NamedAttrMap) as tf.Tensor);
    }
    expect(wasmCounts().tensors - before.tensors).toBe(6);
    expect(wasmCounts().dataIds - before.dataIds).toBe(6);
    tf.dispose(outs);
    expect(wasmCounts()).toEqual(before);
    tf.dispose([x, dy3, dy1]);
  }));

  it('names both values when dy does not match filterShape', async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([1, 5, 5, 3], 1);
    const dy = rand([1, 5, 5, 3], 2);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap),
    ).toThrow('conv2DBackpropFilter: dy has 3 channels but filterShape[3] is 4.');
    tf.dispose([x, dy]);
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { Rng } from '../../../src/rng/rng.js';

const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** Segment ids in [lo, hi) (lo < 0 or hi > numSegments gives ids that must be dropped). */
function ids(n: number, lo: number, hi: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(lo, hi));
}

/** TensorFlow semantics: ids cover the leading dims of x; out-of-range ids are dropped. */
function reference(x: Float32Array, xShape: number[], seg: Int32Array, numSegments: number): Float64Array {
  const inner = size(xShape) / seg.length;
  const out = new Float64Array(numSegments * inner);
  for (let r = 0; r < seg.length; r++) {
    const s = seg[r]!;
    if (s < 0 || s >= numSegments) continue;
    for (let j = 0; j < inner; j++) out[s * inner + j] += x[r * inner + j]!;
  }
  return out;
}

const rank1: Array<{ x: number[]; n: number; lo: number; hi: number }> = [
  { x: [10], n: 4, lo: 0, hi: 4 },
  { x: [12, 3], n: 5, lo: 0, hi: 5 },
  { x: [9, 2, 4], n: 3, lo: -2, hi: 5 }, // out-of-range ids are dropped
  { x: [169, 4], n: 169, lo: 0, hi: 169 }, // Swin-T relative position bias table (7x7 window), 4 heads
  { x: [7, 5], n: 10, lo: 0, hi: 3 }, // segments with no rows stay zero
];

describe('UnsortedSegmentSum (wasm) vs cpu', () => {
  for (const c of rank1) {
    it(`x=[${c.x}] segmentIds=[${c.x[0]}] in [${c.lo},${c.hi}) numSegments=${c.n}`, async () => {
      const x = randomArray(size(c.x), 1);
      const seg = ids(c.x[0]!, c.lo, c.hi, 2);
      const f = (): tf.Tensor => tf.unsortedSegmentSum(tf.tensor(x, c.x), tf.tensor1d(seg, 'int32'), c.n);
      const [wasm] = await onBackend('wasm', f);
      expectClose(wasm!, reference(x, c.x, seg, c.n), 1e-5, 1e-6, 'vs reference');
      const [cpu] = await onBackend('cpu', f);
      expectClose(wasm!, cpu!, 1e-4, 1e-6, 'vs cpu');
    });
  }

  it('x=[4,3,5] segmentIds=[4,3] numSegments=6 (rank-2 ids, TF semantics, vs reference)', async () => {
    await initBackend({ backend: 'wasm' });
    const x = randomArray(60, 3);
    const seg = ids(12, -1, 7, 4);
    // rank-2 ids on purpose (TF semantics); tfjs's typings say 1-D
    const y = tf.unsortedSegmentSum(tf.tensor(x, [4, 3, 5]), tf.tensor(seg, [4, 3], 'int32') as unknown as tf.Tensor1D, 6);
    expect(y.shape).toEqual([6, 5]);
    expectClose(y.dataSync(), reference(x, [4, 3, 5], seg, 6), 1e-5, 1e-6);
    y.dispose();
  });

  it('x=[6,2] int32 segmentIds=[6] numSegments=3', async () => {
    await initBackend({ backend: 'wasm' });
    const y = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2], 'int32'), tf.tensor1d([0, 2, 0, 1, 5, 2], 'int32'), 3);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([1 + 5, 2 + 6, 7, 8, 3 + 11, 4 + 12]);
    y.dispose();
  });

  it('gather gradient: table=[169,4] indices=[49,49] (Swin relative position bias), wasm vs cpu and finite differences', async () => {
    const table = randomArray(169 * 4, 5);
    const idx = ids(49 * 49, 0, 169, 6);
    const w = randomArray(49 * 49 * 4, 7);
    const loss = (t: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.gather(t, tf.tensor(idx, [49, 49], 'int32')), tf.tensor(w, [49, 49, 4])));
    const f = (): tf.Tensor => tf.grad(loss)(tf.tensor(table, [169, 4]));
    const [cpu] = await onBackend('cpu', f);
    const [wasm] = await onBackend('wasm', f);
    expectClose(wasm!, cpu!, 1e-4, 1e-6);
    const small = (t: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.gather(t, tf.tensor1d([3, 0, 3, 5, 1], 'int32'))));
    checkGradFiniteDiff(small, randomArray(6 * 3, 8), [6, 3]);
  });

  it('gradient of unsortedSegmentSum itself (x=[8,3], ids with -1), wasm vs cpu', async () => {
    const x = randomArray(24, 9);
    const seg = Int32Array.from([0, 2, -1, 1, 2, 0, 3, 1]);
    const f = (): tf.Tensor =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.unsortedSegmentSum(t, tf.tensor1d(seg, 'int32'), 4))))(tf.tensor(x, [8, 3]));
    const [cpu] = await onBackend('cpu', f);
    const [wasm] = await onBackend('wasm', f);
    expectClose(wasm!, cpu!, 1e-4, 1e-6);
  });

  it('no leak: numTensors and numDataIds unchanged (x=[20,4] numSegments=7)', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor(randomArray(80, 10), [20, 4]);
    const seg = tf.tensor1d(ids(20, 0, 7, 11), 'int32');
    tf.unsortedSegmentSum(x, seg, 7).dispose();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) tf.unsortedSegmentSum(x, seg, 7).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(dataIds);
    tf.dispose([x, seg]);
  });
});

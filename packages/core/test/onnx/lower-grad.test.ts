/**
 * Every gradient the compiled engine lowers, checked against the eager tfjs gradient (wasm, whose training kernels
 * are themselves checked by finite differences in test/kernels) on random shapes: the loss
 * sum(f(inputs) * w) + sum(f(inputs)^2) / 2 with fixed random w is traced symbolically with tf.grads, lowered to ONNX, run by onnxruntime, and compared.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng, traceSymbolic, encodeIrGraph, createSession, loadOrt } from '../../src/index.js';
import { BatchNorm2d, seedInit } from '../../src/nn/index.js';
import { compareClose } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

function random(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

/** Compiled vs eager value and input gradients of sum(f(xs) * w). */
async function check(f: Fn, shapes: number[][], seed = 1, rtol = 1e-4): Promise<Record<string, number>> {
  const data = shapes.map((s, i) => random(s, seed * 31 + i));
  const loss = (...xs: tf.Tensor[]) => {
    const y = f(...xs);
    const w = tf.tensor(random(y.shape, seed * 97 + 7), y.shape);
    // the square term makes the incoming gradient depend on the inputs, so the last op's backward kernel is not
    // folded into a constant
    return tf.add(tf.sum(tf.mul(y, w)), tf.mul(tf.sum(tf.square(y)), 0.5)) as tf.Scalar;
  };
  const eager = tf.tidy(() => {
    const xs = data.map((d, i) => tf.tensor(d, shapes[i]!));
    const { value, grads } = tf.valueAndGrads(loss)(xs);
    return [value.dataSync()[0]!, ...grads.map((g) => g.dataSync().slice() as Float32Array)] as const;
  });
  const names = shapes.map((_, i) => `x${i}`);
  const trace = await traceSymbolic((inp) => {
    const xs = names.map((n) => inp[n]!);
    const { value, grads } = tf.valueAndGrads(loss)(xs);
    return { loss: value, ...Object.fromEntries(grads.map((g, i) => [`grad${i}`, g])) };
  }, { inputs: Object.fromEntries(names.map((n, i) => [n, { shape: shapes[i]! }])) });
  const ort = await loadOrt();
  const session = await createSession(encodeIrGraph(trace.graph), { threads: 1, ...(process.env.OPT_LEVEL ? { optimization: process.env.OPT_LEVEL as 'basic' } : {}) });
  const out = await session.run(Object.fromEntries(names.map((n, i) => [n, new ort.Tensor('float32', data[i]!, shapes[i]!)])));
  await session.release();
  const ops: Record<string, number> = {};
  for (const n of trace.graph.nodes) if (!n.folded) ops[n.op] = (ops[n.op] ?? 0) + 1;
  const lossOut = (out.loss!.data as Float32Array)[0]!;
  expect(Math.abs(lossOut - eager[0]), `loss ${lossOut} vs ${eager[0]}`).toBeLessThan(rtol * Math.max(1, Math.abs(eager[0])));
  shapes.forEach((_, i) => {
    const r = compareClose(out[`grad${i}`]!.data as Float32Array, eager[i + 1] as Float32Array, rtol, 1e-6);
    expect(r.ok, `grad of input ${i}: ${r.message}`).toBe(true);
  });
  return ops;
}

describe('gradient lowerings vs eager tfjs', () => {
  const convCases: [string, number[], number[], number, 'same' | 'valid'][] = [
    ['3x3 stride 1 same', [2, 9, 11, 3], [3, 3, 3, 5], 1, 'same'],
    ['3x3 stride 2 same (asymmetric pad)', [2, 10, 9, 4], [3, 3, 4, 6], 2, 'same'],
    ['7x7 stride 2 same (ResNet stem)', [1, 23, 20, 3], [7, 7, 3, 4], 2, 'same'],
    ['1x1 stride 2 (downsample)', [2, 8, 8, 6], [1, 1, 6, 8], 2, 'valid'],
    ['1x1 stride 1', [2, 5, 7, 6], [1, 1, 6, 3], 1, 'same'],
    ['3x3 stride 2 valid', [2, 11, 12, 3], [3, 3, 3, 2], 2, 'valid'],
    ['4x4 stride 4 valid (patch embedding)', [2, 16, 12, 3], [4, 4, 3, 5], 4, 'valid'],
    // stride 1 on maps of >= 784 pixels: the input gradient is lowered as a Conv with the flipped filter
    ['3x3 stride 1 same, 28x30 (input gradient as Conv)', [1, 28, 30, 2], [3, 3, 2, 3], 1, 'same'],
    ['3x3 stride 1 valid, 30x30 (input gradient as Conv)', [1, 30, 30, 2], [3, 3, 2, 3], 1, 'valid'],
    ['4x4 stride 1 same, 28x29 (asymmetric pad, input gradient as Conv)', [1, 28, 29, 2], [4, 4, 2, 3], 1, 'same'],
    ['2x3 stride 1 same, 29x28 (non-square filter, input gradient as Conv)', [1, 29, 28, 2], [2, 3, 2, 3], 1, 'same'],
  ];
  for (const [name, x, w, s, pad] of convCases) {
    it(`conv2d ${name}: Conv2DBackpropInput and Conv2DBackpropFilter`, async () => {
      const ops = await check((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), [x, w]);
      expect(ops.Conv2DBackpropInput).toBe(1);
      expect(ops.Conv2DBackpropFilter).toBe(1);
    });
  }

  it('max-pool 3x3/2 same (MaxPoolGrad) and 2x2/2 valid', async () => {
    const ops = await check((a) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), [[2, 8, 6, 4]]);
    expect(ops.MaxPoolGrad).toBe(1);
    await check((a) => tf.maxPool(a as tf.Tensor4D, 3, 2, 'valid'), [[2, 9, 10, 3]]);
    await check((a) => tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'), [[2, 9, 10, 3]]);
  });

  it('relu, leaky relu, gelu (erf), sigmoid, tanh, exp, log, sqrt, rsqrt, softplus', async () => {
    const ops = await check((a) => tf.relu(a), [[3, 7]]);
    expect(ops.Step).toBe(1);
    await check((a) => tf.leakyRelu(a, 0.1), [[3, 7]]);
    await check((a) => tf.mul(tf.mul(a, 0.5), tf.add(1, tf.erf(tf.mul(a, Math.SQRT1_2)))), [[4, 6]]);
    await check((a) => tf.add(tf.sigmoid(a), tf.tanh(a)), [[5, 3]]);
    await check((a) => tf.add(tf.exp(tf.mul(a, 0.3)), tf.log(tf.add(tf.square(a), 1))), [[5, 3]]);
    await check((a) => tf.add(tf.sqrt(tf.add(tf.abs(a), 0.5)), tf.rsqrt(tf.add(tf.square(a), 0.5))), [[5, 3]]);
    await check((a) => tf.softplus(a), [[5, 3]]);
  });

  it('softmax, log-softmax, and reductions (sum, mean, max)', async () => {
    await check((a) => tf.softmax(a), [[4, 9]]);
    await check((a) => tf.logSoftmax(a), [[4, 9]]);
    await check((a) => tf.add(tf.sum(a, 1, true), tf.mean(a, 0)), [[4, 5]]);
    await check((a) => tf.max(a, -1), [[4, 5]]);
    // over all axes: Max/Min get reductionIndices null (a global max normalises the FFL weight)
    await check((a) => tf.add(tf.mul(tf.max(a), a), tf.min(a)), [[2, 3, 4]]);
  });

  it('matmul with transposes and batch broadcast (BatchMatMul gradients)', async () => {
    await check((a, b) => tf.matMul(a, b, false, true), [[3, 4, 5], [3, 6, 5]]);
    await check((a, b) => tf.matMul(a, b, true, false), [[2, 5, 4], [2, 5, 3]]);
    await check((a, b) => tf.matMul(a, b), [[3, 4], [4, 2]]);
  });

  it('gather (UnsortedSegmentSum in the gradient), concat, slice, pad, tile, transpose, broadcastTo', async () => {
    const idx = tf.tensor1d([2, 0, 2, 1, 4, 2], 'int32');
    const ops = await check((a) => tf.gather(a, idx, 0), [[5, 3]]);
    expect(ops.UnsortedSegmentSum).toBe(1);
    await check((a) => tf.gather(a, tf.tensor2d([[1, 0], [3, 3]], [2, 2], 'int32'), 1), [[2, 4, 3]]);
    await check((a, b) => tf.concat([a, tf.slice(b, [0, 1], [-1, 2])], 1), [[3, 2], [3, 4]]);
    await check((a) => tf.pad(a, [[1, 0], [2, 3]]), [[3, 4]]);
    await check((a) => tf.tile(tf.transpose(a, [1, 0]), [2, 3]), [[3, 2]]);
    await check((a) => tf.broadcastTo(a, [4, 3, 5]), [[3, 1]]);
  });

  it('where, minimum/maximum, clipByValue, division, pow', async () => {
    const mask = tf.tensor2d([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 0]]).cast('bool');
    await check((a, b) => tf.where(mask, tf.mul(a, 2), b), [[4, 5], [4, 5]]);
    await check((a, b) => tf.add(tf.minimum(a, b), tf.maximum(a, 0.2)), [[4, 5], [4, 5]]);
    await check((a) => tf.clipByValue(a, -0.5, 0.7), [[4, 5]]);
    await check((a, b) => tf.div(a, tf.add(tf.square(b), 1)), [[4, 5], [5]]);
    await check((a) => tf.pow(tf.add(tf.abs(a), 0.5), 1.7), [[4, 5]]);
  });

  it('layer norm as the backbones write it, and batch norm in training mode (fused backward)', async () => {
    await check((a, g, b) => {
      const { mean, variance } = tf.moments(a, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    }, [[2, 5, 8], [8], [8]]);
    seedInit(4);
    const bn = new BatchNorm2d(6).train();
    await check((a) => bn.forward(a), [[3, 4, 5, 6]], 2, 2e-4);
  });
});

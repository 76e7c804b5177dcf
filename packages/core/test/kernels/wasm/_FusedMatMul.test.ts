import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';

type Activation = 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'sigmoid' | 'elu';

interface Case {
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
  bias?: number[];
  activation: Activation;
}

const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);
const name = (c: Case): string =>
  `a=[${c.a}] b=[${c.b}] tA=${c.tA} tB=${c.tB} bias=${c.bias ? `[${c.bias}]` : 'none'} act=${c.activation}`;

function build(c: Case): () => tf.Tensor {
  const a = randomArray(size(c.a), 11, -2, 2);
  const b = randomArray(size(c.b), 12);
  const bias = c.bias ? randomArray(size(c.bias), 13) : undefined;
  const N = c.tB ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
  const prelu = randomArray(N, 14, 0, 0.5);
  return () =>
    tf.fused.matMul({
      a: tf.tensor(a, c.a),
      b: tf.tensor(b, c.b),
      transposeA: c.tA,
      transposeB: c.tB,
      bias: bias ? tf.tensor(bias, c.bias) : undefined,
      activation: c.activation,
      preluActivationWeights: c.activation === 'prelu' ? tf.tensor1d(prelu) : undefined,
      leakyreluAlpha: 0.3,
    });
}

const cases: Case[] = [];
const acts: Activation[] = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'];
acts.forEach((activation, i) => {
  const tA = i % 2 === 1;
  const tB = i % 3 === 1;
  const [M, K, N] = [5 + i, 7, 9];
  cases.push({ a: tA ? [K, M] : [M, K], b: tB ? [N, K] : [K, N], tA, tB, bias: [N], activation });
  cases.push({ a: [3, ...(tA ? [K, M] : [M, K])], b: [3, ...(tB ? [N, K] : [K, N])], tA, tB, activation });
});
cases.push({ a: [2, 6, 4], b: [2, 4, 5], tA: false, tB: false, bias: [6, 5], activation: 'relu' });
cases.push({ a: [2, 4, 6], b: [5, 4], tA: true, tB: true, bias: [2, 1, 5], activation: 'linear' });

describe('_FusedMatMul (wasm, our GEMM + bias + activation) vs cpu', () => {
  for (const c of cases) {
    it(name(c), async () => {
      const f = build(c);
      const [cpu] = await onBackend('cpu', f);
      const [wasm] = await onBackend('wasm', f);
      expectClose(wasm!, cpu!, 1e-4, 1e-6, name(c));
    });
  }

  it('gradients through tf.fused.matMul a=[3,7,5] b=[3,4,7] tA=true tB=true bias=[4] act=relu', async () => {
    const a = randomArray(3 * 7 * 5, 21);
    const b = randomArray(3 * 4 * 7, 22);
    const bias = randomArray(4, 23);
    const f = (): tf.Tensor[] =>
      tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.square(tf.fused.matMul({ a: x, b: y, transposeA: true, transposeB: true, bias: z, activation: 'relu' }))),
      )([tf.tensor(a, [3, 7, 5]), tf.tensor(b, [3, 4, 7]), tf.tensor(bias, [4])]);
    const cpu = await onBackend('cpu', f);
    const wasm = await onBackend('wasm', f);
    for (let i = 0; i < 3; i++) expectClose(wasm[i]!, cpu[i]!, 1e-4, 1e-6, `grad ${i}`);
  });

  it('no leak: numTensors and numDataIds unchanged (a=[2,5,7] b=[2,7,3] bias=[3] act=sigmoid)', async () => {
    await initBackend({ backend: 'wasm' });
    const a = tf.tensor(randomArray(70, 1), [2, 5, 7]);
    const b = tf.tensor(randomArray(42, 2), [2, 7, 3]);
    const bias = tf.tensor1d([0.1, 0.2, 0.3]);
    const run = (): void => tf.fused.matMul({ a, b, bias, activation: 'sigmoid' }).dispose();
    run();
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([a, b, bias]);
  });
});

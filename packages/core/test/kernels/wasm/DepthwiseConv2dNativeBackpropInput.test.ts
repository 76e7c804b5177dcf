import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';
import {
  adjointReference, cpuIsReference, DEPTHWISE_CASES, dwDyShape, dwForward, dwName, expectSameOnBackends, rand, size, wasmCounts,
} from './conv-cases.js';

describe('DepthwiseConv2dNativeBackpropInput on wasm vs cpu', () => {
  for (const [i, c] of DEPTHWISE_CASES.entries()) {
    const attrs = { strides: c.s, dilations: c.d ?? 1, pad: c.pad, dimRoundingMode: c.round, inputShape: c.x } as unknown as tf.NamedAttrMap;
    const kernel = (): tf.Tensor =>
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: rand(dwDyShape(c), 100 + i), filter: rand(c.f, 200 + i) }, attrs) as tf.Tensor;
    const grad = (): tf.Tensor => {
      const w = rand(c.f, 200 + i) as tf.Tensor4D;
      const dy = rand(dwDyShape(c), 100 + i);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(dwForward(c)(x as tf.Tensor4D, w), dy)))(rand(c.x, i));
    };
    const adjoint = async (): Promise<Float32Array> =>
      (await adjointReference(dwForward(c), randomArray(size(c.x), i), c.x, randomArray(size(c.f), 200 + i), c.f,
        randomArray(size(dwDyShape(c)), 100 + i))).dx;
    const ref = cpuIsReference(c);

    it(`kernel ${dwName(c)}`, async () => {
      if (ref.kernel) await expectSameOnBackends(kernel);
      else expectClose((await onBackend('wasm', kernel))[0]!, await adjoint(), 1e-4);
    });
    if (c.d === undefined || c.d === 1) { // tfjs's depthwise gradient refuses dilations
      it(`tf.grad of depthwiseConv2d wrt x ${dwName(c)}`, async () => {
        if (ref.grad) await expectSameOnBackends(grad);
        else expectClose((await onBackend('wasm', grad))[0]!, await adjoint(), 1e-4);
      });
    }
  }

  it('finite differences: d/dx of sum(tanh(depthwiseConv2d(x, w, s=2, same)) * r) on wasm, x=[2,7,7,3] w=[3,3,3,2]', async () => {
    await initBackend({ backend: 'wasm' });
    const w = rand([3, 3, 3, 2], 7) as tf.Tensor4D;
    const r = rand([2, 4, 4, 6], 8);
    checkGradFiniteDiff(
      (x) => tf.sum(tf.mul(tf.tanh(tf.depthwiseConv2d(x as tf.Tensor4D, w, 2, 'same')), r)),
      randomArray(2 * 7 * 7 * 3, 9), [2, 7, 7, 3], { coords: 24 },
    );
    tf.dispose([w, r]);
  });

  it('finite differences through a small depthwise-separable net (both gradients) on wasm, x=[1,8,8,3]', async () => {
    await initBackend({ backend: 'wasm' });
    const dw = rand([3, 3, 3, 2], 11) as tf.Tensor4D;
    const pw = rand([1, 1, 6, 4], 12) as tf.Tensor4D;
    checkGradFiniteDiff(
      (x) => tf.sum(tf.square(tf.conv2d(tf.relu(tf.depthwiseConv2d(x as tf.Tensor4D, dw, 2, 'same')), pw, 1, 'valid'))),
      randomArray(8 * 8 * 3, 13), [1, 8, 8, 3], { coords: 24 },
    );
    tf.dispose([dw, pw]);
  });

  it('frees every temporary: no tensor or wasm data id left after repeated calls (stride 1, stride 2, multiplier 2)', async () => {
    await initBackend({ backend: 'wasm' });
    const f = rand([3, 3, 4, 2], 1);
    const dy1 = rand([2, 9, 9, 8], 2);
    const dy2 = rand([2, 5, 5, 8], 3);
    const before = wasmCounts();
    const outs: tf.Tensor[] = [];
    for (let k = 0; k < 3; k++) {
      for (const [dy, s] of [[dy1, 1], [dy2, 2]] as const) {
        const attrs = { strides: s, dilations: 1, pad: 'same', inputShape: [2, 9, 9, 4] };
        outs.push(tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
      }
    }
    expect(wasmCounts().tensors - before.tensors).toBe(6);
    expect(wasmCounts().dataIds - before.dataIds).toBe(6);
    tf.dispose(outs);
    expect(wasmCounts()).toEqual(before);
    tf.dispose([f, dy1, dy2]);
  });

  it('names both values when dy does not match the filter', async () => {
    await initBackend({ backend: 'wasm' });
    const dy = rand([1, 5, 5, 3], 1);
    const f = rand([3, 3, 3, 2], 2);
    const attrs = { strides: 1, dilations: 1, pad: 'same', inputShape: [1, 5, 5, 3] };
    expect(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, attrs as unknown as tf.NamedAttrMap))
      .toThrow('depthwiseConv2dNativeBackpropInput: dy has 3 channels but filter [3, 3, 3, 2] gives 6.');
    tf.dispose([dy, f]);
  });
});

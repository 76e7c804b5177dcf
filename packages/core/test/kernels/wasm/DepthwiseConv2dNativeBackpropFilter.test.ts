import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';
import {
  adjointReference, cpuIsReference, DEPTHWISE_CASES, dwDyShape, dwForward, dwName, expectSameOnBackends, rand, size, wasmCounts,
} from './conv-cases.js';

describe('DepthwiseConv2dNativeBackpropFilter on wasm vs cpu', () => {
  for (const [i, c] of DEPTHWISE_CASES.entries()) {
    const attrs = { strides: c.s, dilations: c.d ?? 1, pad: c.pad, dimRoundingMode: c.round, filterShape: c.f } as unknown as tf.NamedAttrMap;
    const kernel = (): tf.Tensor =>
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: rand(c.x, i), dy: rand(dwDyShape(c), 100 + i) }, attrs) as tf.Tensor;
    const grad = (): tf.Tensor => {
      const x = rand(c.x, i) as tf.Tensor4D;
      const dy = rand(dwDyShape(c), 100 + i);
      return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(dwForward(c)(x, w as tf.Tensor4D), dy)))(rand(c.f, 200 + i));
    };
    const adjoint = async (): Promise<Float32Array> =>
      (await adjointReference(dwForward(c), randomArray(size(c.x), i), c.x, randomArray(size(c.f), 200 + i), c.f,
        randomArray(size(dwDyShape(c)), 100 + i))).dw;
    const ref = cpuIsReference(c);

    it(`kernel ${dwName(c)}`, async () => {
      if (ref.kernel) await expectSameOnBackends(kernel);
      else expectClose((await onBackend('wasm', kernel))[0]!, await adjoint(), 1e-4);
    });
    if (c.d === undefined || c.d === 1) { // tfjs's depthwise gradient refuses dilations
      it(`tf.grad of depthwiseConv2d wrt filter ${dwName(c)}`, async () => {
        if (ref.grad) await expectSameOnBackends(grad);
        else expectClose((await onBackend('wasm', grad))[0]!, await adjoint(), 1e-4);
      });
    }
  }

  it('finite differences: d/dw of sum(tanh(depthwiseConv2d(x, w, s=2, same)) * r) on wasm, x=[2,7,7,3] w=[3,3,3,2]', async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([2, 7, 7, 3], 7) as tf.Tensor4D;
    const r = rand([2, 4, 4, 6], 8);
    checkGradFiniteDiff(
      (w) => tf.sum(tf.mul(tf.tanh(tf.depthwiseConv2d(x, w as tf.Tensor4D, 2, 'same')), r)),
      randomArray(3 * 3 * 3 * 2, 9, -0.5, 0.5), [3, 3, 3, 2], { coords: 24 },
    );
    tf.dispose([x, r]);
  });

  it('frees every temporary: no tensor or wasm data id left after repeated calls', async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([2, 9, 9, 4], 1);
    const dy = rand([2, 5, 5, 8], 2);
    const before = wasmCounts();
    const outs: tf.Tensor[] = [];
    const attrs = { strides: 2, dilations: 1, pad: 'same', filterShape: [3, 3, 4, 2] };
    for (let k = 0; k < 3; k++) {
      outs.push(tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
    }
    expect(wasmCounts().tensors - before.tensors).toBe(3);
    expect(wasmCounts().dataIds - before.dataIds).toBe(3);
    tf.dispose(outs);
    expect(wasmCounts()).toEqual(before);
    tf.dispose([x, dy]);
  });

  it('names both values when dy does not match filterShape', async () => {
    await initBackend({ backend: 'wasm' });
    const x = rand([1, 5, 5, 3], 1);
    const dy = rand([1, 5, 5, 3], 2);
    const attrs = { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 3, 2] };
    expect(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap))
      .toThrow('depthwiseConv2dNativeBackpropFilter: dy has 3 channels but filterShape [3, 3, 3, 2] gives 6.');
    tf.dispose([x, dy]);
  });
});

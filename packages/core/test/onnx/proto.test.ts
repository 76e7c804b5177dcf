import { describe, expect, it } from 'vitest';
import { createSession, encodeModel, floatTensor, int64Tensor, loadOrt, TensorDataType } from '../../src/onnx/index.js';
import { expectClose, randomArray } from '../../src/testing/index.js';

const F = TensorDataType.FLOAT;

describe('ONNX encoder', () => {
  it('a MatMul + Add graph with an initializer and a dynamic batch runs in onnxruntime and computes a@b+c', async () => {
    const a = randomArray(3 * 4, 1), b = randomArray(4 * 5, 2), c = randomArray(5, 3);
    const model = encodeModel({
      opset: 17,
      graph: {
        name: 'mm',
        nodes: [
          { opType: 'MatMul', inputs: ['a', 'b'], outputs: ['ab'] },
          { opType: 'Add', inputs: ['ab', 'c'], outputs: ['y'] },
        ],
        inputs: [{ name: 'a', elemType: F, shape: ['batch', 4] }, { name: 'b', elemType: F, shape: [4, 5] }],
        outputs: [{ name: 'y', elemType: F, shape: ['batch', 5] }],
        initializers: [floatTensor('c', [5], c)],
      },
    });
    const ort = await loadOrt();
    const s = await createSession(model, { threads: 1 });
    const out = await s.run({ a: new ort.Tensor('float32', a, [3, 4]), b: new ort.Tensor('float32', b, [4, 5]) });
    const expected = new Float32Array(15);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) {
      let s2 = c[j]!;
      for (let k = 0; k < 4; k++) s2 += a[i * 4 + k]! * b[k * 5 + j]!;
      expected[i * 5 + j] = s2;
    }
    expect(out.y!.dims).toEqual([3, 5]);
    expectClose(out.y!.data as Float32Array, expected, 1e-6);
  });

  it('attributes of every kind: negative ints (Transpose perm via Reshape shape -1), floats, strings', async () => {
    const x = randomArray(2 * 3 * 4, 4);
    const model = encodeModel({
      opset: 17,
      graph: {
        name: 'attrs',
        nodes: [
          { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
          { opType: 'Transpose', inputs: ['r'], outputs: ['t'], attributes: { perm: { type: 'ints', value: [1, 0] } } },
          { opType: 'LeakyRelu', inputs: ['t'], outputs: ['l'], attributes: { alpha: { type: 'float', value: 0.25 } } },
          { opType: 'ReduceSum', inputs: ['l', 'axes'], outputs: ['y'], attributes: { keepdims: { type: 'int', value: 0 } } },
        ],
        inputs: [{ name: 'x', elemType: F, shape: [2, 3, 4] }],
        outputs: [{ name: 'y', elemType: F, shape: [4] }],
        initializers: [int64Tensor('shape', [2], [-1, 4]), int64Tensor('axes', [1], [-1])],
      },
    });
    const ort = await loadOrt();
    const s = await createSession(model, { threads: 1 });
    const out = await s.run({ x: new ort.Tensor('float32', x, [2, 3, 4]) });
    // reshape [6,4] -> transpose [4,6] -> leaky -> sum over last axis: y has 4 values
    const expected = new Float32Array(4);
    for (let j = 0; j < 4; j++) for (let i = 0; i < 6; i++) {
      const v = x[i * 4 + j]!;
      expected[j] += v > 0 ? v : 0.25 * v;
    }
    expectClose(out.y!.data as Float32Array, expected, 1e-6);
  });

  it('a model onnxruntime rejects gives a CmidError that says why', async () => {
    const bad = encodeModel({
      opset: 17,
      graph: {
        name: 'bad',
        nodes: [{ opType: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', elemType: F, shape: [1] }],
        outputs: [{ name: 'y', elemType: F, shape: [1] }],
      },
    });
    await expect(createSession(bad)).rejects.toThrow(/onnxruntime could not create a session.*NoSuchOp/s);
  });
});

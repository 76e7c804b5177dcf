import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { exportFunction, initBackend, readOnnxMetadata } from '../../src/index.js';

describe('readOnnxMetadata', () => {
  it('reads back the metadata an export wrote, and rejects truncated bytes', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.ones([2, 3]);
    const meta = { classes: JSON.stringify(['forest', 'río', 'harbor']), size: '224' };
    const r = exportFunction((i) => tf.mul(i.input!, 2), { input: x }, {}, { metadata: meta });
    tf.dispose([x, ...r.eagerOutputs]);
    expect(readOnnxMetadata(r.model)).toEqual(meta);
    const none = exportFunction((i) => tf.add(i.input!, 1), { input: tf.ones([2, 2]) });
    expect(readOnnxMetadata(none.model)).toEqual({});
    expect(() => readOnnxMetadata(r.model.subarray(0, r.model.length - 3), 'cut.onnx')).toThrow(/cut\.onnx.*truncated|cut\.onnx.*not a readable/);
  });
});

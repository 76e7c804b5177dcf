import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resnet18, seedInit, stateDict, loadStateDict } from '../../src/index.js';
import { adaptInputChannels, adaptStateDictChannels } from '../../src/backbones/adapt-channels.js';
import { expectClose, randomArray } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('input-band adaptation', () => {
  it('1 band sums the RGB filters; 13 bands repeat cyclically scaled by 3/13', () => {
    const w = { dtype: 'float32' as const, shape: [2, 3, 1, 1], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    expect(Array.from(adaptInputChannels(w, 1).data as Float32Array)).toEqual([6, 15]);
    const a = adaptInputChannels(w, 13);
    expect(a.shape).toEqual([2, 13, 1, 1]);
    expectClose(Array.from(a.data as Float32Array).slice(0, 4), [3 / 13, 6 / 13, 9 / 13, 3 / 13], 1e-6);
  });

  it('a constant 12-band image gives the RGB model\'s activations for the same constant RGB image (exact when bands are a multiple of 3)', () => {
    seedInit(1);
    const rgb = resnet18({ baseWidth: 8 }).eval();
    const { dict, note } = adaptStateDictChannels(stateDict(rgb), 12);
    expect(note).toMatch(/conv1\.weight: adapted from 3 to 12 input bands/);
    const ms = resnet18({ baseWidth: 8, inChannels: 12 }).eval();
    loadStateDict(ms, dict);
    const v = randomArray(1, 3)[0]!;
    const y3 = rgb.forward(tf.fill([1, 32, 32, 3], v) as tf.Tensor4D).dataSync();
    const y12 = ms.forward(tf.fill([1, 32, 32, 12], v) as tf.Tensor4D).dataSync();
    expectClose(y12, y3, 1e-5);
    rgb.dispose(); ms.dispose();
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, seedInit, stateDict } from '@cmid/core';
import { LocalHead, MimHead, ProjectorMlp } from '../src/model/heads.js';

beforeAll(async () => {
  await initBackend();
  seedInit(1);
});

describe('CMID heads', () => {
  it('use the reference state-dict keys and PyTorch shapes', () => {
    const keys = (m: { stateEntries(): { name: string }[] }) => m.stateEntries().map((e) => e.name);
    expect(keys(new ProjectorMlp(8, 16, 4))).toEqual(['layer.0.0.weight', 'layer.0.0.bias', 'layer.0.3.weight', 'layer.0.3.bias']);
    const lh = new LocalHead({ inDim: 8, hiddenDim: 16, bottleneckDim: 4, outDim: 12, useBn: true });
    expect(keys(lh).filter((k) => !k.includes('running') && !k.includes('num_batches'))).toEqual([
      'mlp.0.weight', 'mlp.0.bias', 'mlp.1.weight', 'mlp.1.bias', 'mlp.3.weight', 'mlp.3.bias', 'mlp.4.weight', 'mlp.4.bias', 'mlp.6.weight', 'mlp.6.bias',
      'last_layer.weight_g', 'last_layer.weight_v',
    ]);
    const sd = stateDict(lh);
    expect(sd.get('mlp.0.weight')!.shape).toEqual([16, 8, 1]);
    expect(sd.get('last_layer.weight_v')!.shape).toEqual([12, 4, 1]);
    expect(sd.get('last_layer.weight_g')!.shape).toEqual([12, 1, 1]);
    expect(lh.lastLayer.weightG.trainable).toBe(false);
    const noBn = new LocalHead({ inDim: 8, hiddenDim: 16, bottleneckDim: 4, outDim: 12, useBn: false });
    expect(keys(noBn)).toEqual(['mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias', 'mlp.4.weight', 'mlp.4.bias', 'last_layer.weight_g', 'last_layer.weight_v']);
    expect(keys(new MimHead(8, 32))).toEqual(['decoder_pred.0.weight', 'decoder_pred.0.bias']);
    expect(stateDict(new MimHead(8, 32)).get('decoder_pred.0.weight')!.shape).toEqual([3072, 8, 1, 1]);
  });

  it('MimHead applies PixelShuffle with PyTorch channel order', () => {
    const head = new MimHead(1, 2, 3); // 1 -> 12 channels, r = 2
    // weight = identity-like: output channel o = input * (o + 1); bias 0
    head.conv.weight.assign(tf.reshape(tf.range(1, 13), [1, 1, 1, 12]) as tf.Tensor4D);
    head.conv.bias!.assign(tf.zeros([12]));
    const y = head.forward(tf.ones([1, 1, 1, 1]) as tf.Tensor4D); // [1, 2, 2, 3]
    const v = y.arraySync() as number[][][][];
    // out(c, i, j) = channel c*4 + i*2 + j, value = that + 1
    for (let c = 0; c < 3; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(v[0]![i]![j]![c]).toBe(c * 4 + i * 2 + j + 1);
  });

  it('LocalHead output rows are unit-norm features times unit-norm prototypes', () => {
    const lh = new LocalHead({ inDim: 6, hiddenDim: 10, bottleneckDim: 5, outDim: 7, useBn: false });
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
    const y = lh.forward(x);
    // with g = 1 every logit is a cosine: |y| <= 1, and rows of W have unit norm
    const max = tf.max(tf.abs(y)).dataSync()[0]!;
    expect(max).toBeLessThanOrEqual(1 + 1e-6);
    const v = lh.lastLayer.weightV;
    const w = tf.div(v, tf.sqrt(tf.sum(tf.square(v), 0, true)));
    const norms = tf.sqrt(tf.sum(tf.square(w), 0)).dataSync();
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
  });
});

import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ALIASES, BACKBONES, createBackbone, initBackend, resolveBackboneName, seedInit, SwinTransformer, VisionTransformer, type BackboneName } from '../../src/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Small widths so every entry runs forward and backward in well under a second. */
const TINY: { [N in BackboneName]: object } = {
  resnet18: { baseWidth: 8 },
  resnet50: { baseWidth: 8 },
  swin_t: { embedDim: 8, depths: [2, 1, 1, 1], numHeads: [1, 1, 2, 2], windowSize: 2, outIndices: [0, 1, 2, 3] },
  swin_b: { embedDim: 8, depths: [1, 1, 2, 1], numHeads: [1, 2, 2, 4], windowSize: 2, inChannels: 4 },
  vit_b16: { embedDim: 16, depth: 1, numHeads: 2, imgSize: 64, globalPool: 'avg' },
};

describe.each(Object.keys(BACKBONES) as BackboneName[])('registry entry %s', (name) => {
  it('x=[2,64,64,C]: featureInfo matches features(), forward is [2, embedDim], every parameter gets a finite gradient from the outputs', () => {
    seedInit(7);
    const model = createBackbone(name, TINY[name] as never);
    const inC = (TINY[name] as { inChannels?: number }).inChannels ?? 3;
    const x = tf.randomNormal([2, 64, 64, inC], 0, 1, 'float32', 2) as tf.Tensor4D;
    const shapes = tf.tidy(() => model.features(x).map((f) => f.shape));
    expect(shapes).toEqual(model.featureInfo.map((f) => [2, 64 / f.stride, 64 / f.stride, f.channels]));
    const y = tf.tidy(() => model.forward(x).shape);
    expect(y).toEqual([2, model.embedDim]);
    const vars = model.trainableVariables();
    const names = model.namedParameters().filter(([, p]) => p.variable.trainable).map(([n]) => n);
    // every output (all maps and the pooled vector) so that each parameter is on some path
    const loss = () => tf.addN([tf.sum(tf.square(model.forward(x))), ...model.features(x).map((f) => tf.mean(f))]) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, vars);
    vars.forEach((v, i) => {
      const finite = tf.tidy(() => tf.all(tf.isFinite(grads[v.name]!)).dataSync()[0]);
      expect(finite, names[i]).toBe(1);
    });
    tf.dispose(grads);
    x.dispose();
    model.dispose();
  });
});

describe('registry names', () => {
  it("'swin_base' resolves to swin_b with a warning; unknown names list the valid ones", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const m = createBackbone('swin_base', { embedDim: 8, depths: [1, 1, 1, 1], numHeads: [1, 1, 1, 1], windowSize: 2 });
    expect(m).toBeInstanceOf(SwinTransformer);
    expect((m as SwinTransformer).variant).toBe('swin_b');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('"swin_base" is an old name for "swin_b"'));
    warn.mockRestore();
    m.dispose();
    expect(ALIASES['swin_base']).toBe('swin_b');
    expect(() => resolveBackboneName('swin_large')).toThrow(/Unknown backbone "swin_large". Valid: resnet18, resnet50, swin_t, swin_b, vit_b16/);
    expect(createBackbone('vit_b16', { embedDim: 8, depth: 1, numHeads: 2 })).toBeInstanceOf(VisionTransformer);
  });
});

import * as tf from '@tensorflow/tfjs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, initBackend, seedInit, stateDict, writeSafetensors, type StateDict } from '@cmid/core';
import { ClassifyModel } from '../src/model/classify-model.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('ClassifyModel', () => {
  it("has the reference's keys (backbone.*, cls_head.*) and pools the last map into the head", () => {
    seedInit(1);
    const m = new ClassifyModel({ backbone: 'resnet18', backboneOptions: { baseWidth: 8 }, numClasses: 5 });
    const keys = [...stateDict(m).keys()];
    expect(keys).toContain('backbone.conv1.weight');
    expect(keys).toContain('cls_head.weight');
    expect(stateDict(m).get('cls_head.weight')!.shape).toEqual([5, 64]);
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    m.eval();
    const logits = m.forward(x);
    // by hand: GAP of the last map, then W x + b
    const maps = m.backbone.features(x);
    const pooled = tf.mean(maps[maps.length - 1]!, [1, 2]);
    const expected = tf.add(tf.matMul(pooled, m.clsHead.weight), m.clsHead.bias!);
    expect(logits.shape).toEqual([2, 5]);
    expect(tf.max(tf.abs(tf.sub(logits, expected))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('loads backbone weights from a wrapped checkpoint (module.encoder_q. prefix, extra keys) and rejects another architecture', async () => {
    seedInit(2);
    const src = createBackbone('resnet18', { baseWidth: 8 });
    const dir = await mkdtemp(join(tmpdir(), 'cmid-cls-'));
    const wrapped: StateDict = new Map();
    for (const [k, v] of stateDict(src)) {
      wrapped.set(`module.encoder_q.${k}`, v);
      wrapped.set(`module.encoder_k.${k}`, v);
    }
    wrapped.set('module.encoder_q.fc.weight', { dtype: 'float32', shape: [10, 64], data: new Float32Array(640) });
    const file = join(dir, 'moco.safetensors');
    await writeSafetensors(file, wrapped);
    const m = new ClassifyModel({ backbone: 'resnet18', backboneOptions: { baseWidth: 8 }, numClasses: 3 });
    const r = await m.loadBackbone(file);
    expect(r.via).toContain('module.encoder_q.');
    expect(r.unexpected).toContain('fc.weight');
    const a = stateDict(src).get('layer4.1.conv2.weight')!.data as Float32Array;
    const b = stateDict(m.backbone).get('layer4.1.conv2.weight')!.data as Float32Array;
    expect(Array.from(b)).toEqual(Array.from(a));

    const swin = createBackbone('swin_t', { embedDim: 16, depths: [1, 1, 1, 1], numHeads: [1, 1, 1, 1] });
    const other = join(dir, 'swin.safetensors');
    await writeSafetensors(other, stateDict(swin));
    await expect(m.loadBackbone(other)).rejects.toThrow(/swin\.safetensors.*another architecture/);
  });
});

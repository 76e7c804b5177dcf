import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, seedInit, stateDict } from '@cmid/core';
import { CMID_TINY, mergeConfig } from '../src/config.js';
import { CmidModel } from '../src/model/cmid-model.js';

beforeAll(async () => {
  await initBackend();
});

const small = mergeConfig(CMID_TINY, { backbone_options: { baseWidth: 8 }, size: 64, num_matches: 2, hidden_dim: 32, class_feat_size: 24, bottleneck_dim: 8, out_dim: 16, queue_size: 64, batch_size: 4 });

describe('CmidModel', () => {
  it('has the reference checkpoint keys, a teacher equal to the student, and the EMA pairs of §7', () => {
    seedInit(0);
    const m = new CmidModel(small);
    const keys = m.stateEntries().map((e) => e.name);
    for (const k of ['online_encoder.mask_token', 'online_encoder.model.conv1.weight', 'branch_encoder.conv1.weight', 'mim2org.decoder_pred.0.weight', 'online_projector.layer.0.0.weight', 'branch_projector.layer.0.3.bias', 'class_projector.mlp.0.weight', 'class_projector.last_layer.weight_v', 'branch_class_projector.last_layer.weight_g', 'class_loss.center', 'queue']) {
      expect(keys).toContain(k);
    }
    const sd = stateDict(m);
    expect(sd.get('online_encoder.mask_token')!.shape).toEqual([1, 8, 1, 1]);
    expect(sd.get('class_loss.center')!.shape).toEqual([1, 24, 1]);
    expect(sd.get('queue')!.shape).toEqual([64, 16]); // [K, D] (ours), see docs/deviations.md
    const same = (a: string, b: string) => Array.from(sd.get(a)!.data as Float32Array).every((v, i) => v === (sd.get(b)!.data as Float32Array)[i]);
    expect(same('online_encoder.model.layer1.0.conv1.weight', 'branch_encoder.layer1.0.conv1.weight')).toBe(true);
    expect(same('class_projector.last_layer.weight_v', 'branch_class_projector.last_layer.weight_v')).toBe(true);
    // timm's zero_init_last: the last BN of every block starts at gamma 0 (BasicBlock: bn2)
    expect(Array.from(sd.get('online_encoder.model.layer1.0.bn2.weight')!.data as Float32Array).every((v) => v === 0)).toBe(true);
    expect(Array.from(sd.get('online_encoder.model.layer1.0.bn1.weight')!.data as Float32Array).every((v) => v === 1)).toBe(true);
    // queue quirk 3: each feature row (over K) has unit norm, so keys are short
    const q = tf.tensor(sd.get('queue')!.data as Float32Array, [64, 16]);
    const rowNorms = tf.sqrt(tf.sum(tf.square(q), 0)).dataSync();
    for (const n of rowNorms) expect(n).toBeCloseTo(1, 5);
    const pairs = m.emaPairs();
    const teacherParams = [...m.branchEncoder.namedParameters(), ...m.branchProjector.namedParameters(), ...m.branchClassProjector.namedParameters()];
    expect(pairs.length).toBe(teacherParams.length);
    expect(pairs).toContainEqual(['branch_encoder.layer4.1.bn2.bias', 'online_encoder.model.layer4.1.bn2.bias']);
    expect(pairs).toContainEqual(['branch_class_projector.last_layer.weight_g', 'class_projector.last_layer.weight_g']);
    // nothing of the teacher is trained
    expect(m.branchEncoder.trainableVariables().length).toBe(0);
    m.dispose();
  });

  it('the queue-init fix gives unit-norm keys', () => {
    seedInit(0);
    const m = new CmidModel(mergeConfig(small, { fixes: ['queue-init'] }));
    const norms = tf.sqrt(tf.sum(tf.square(m.queue), 1)).dataSync();
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
    m.dispose();
  });
});

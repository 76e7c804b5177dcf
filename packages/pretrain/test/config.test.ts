import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CMID_RESNET50, CMID_SWIN_B, loadConfigFile, mergeConfig, teacherTemperature } from '../src/config.js';

describe('CMID config', () => {
  it('presets carry the reference YAML values (cmid.md §1.1)', () => {
    expect(CMID_RESNET50).toMatchObject({ size: 224, outDim: 256, hiddenDim: 2048, classFeatSize: 2048, bottleneckDim: 256, temperature: 0.2, queueSize: 65536, numMatches: 20, onlineTemp: 0.1, branchTemp: 0.07, warmupBranchTemp: 0.04, warmupBranchTempEpochs: 50, centerMomentum: 0.9, maskPatchSize: 32, maskRatio: 0.6, alpha: 0.2, fftUnmaskWeight: 0.001, lr: 0.001, wd: 0.02, minLr: 1e-6, warmupEpochs: 10, warmupFactor: 0.01, epochs: 400, useBn: true, modelWarmupEpoch: -1 });
    expect(CMID_SWIN_B).toMatchObject({ backbone: 'swin_b', useBn: false, modelWarmupEpoch: 0 });
  });

  it('reads the reference YAML keys and ignores the dead ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-cfg-'));
    const file = join(dir, 'pt_swin_config.yaml');
    await writeFile(file, 'size: [224, 224]\ntransform_type: parallel\nbackbone: swin\nbase_model: moco\nqueue_size: 65536\nuse_bn: False\nmodel_warmup_epoch: 0\nepochs: 400\nk: 20\nmax_grad_norm: null\n');
    const c = await loadConfigFile(file);
    expect(c.backbone).toBe('swin_b');
    expect(c.useBn).toBe(false);
    expect(c.maxGradNorm).toBeNull();
    await writeFile(file, 'preset: tiny\nqueue_sise: 10\n');
    await expect(loadConfigFile(file)).rejects.toThrow(/unknown key "queue_sise"/);
    await writeFile(file, 'preset: tiny\nbatch_size: 48\n');
    await expect(loadConfigFile(file)).rejects.toThrow(/queue_size 1024 must be a multiple of batch_size/);
  });

  it('validates fixes and numbers', () => {
    expect(mergeConfig(CMID_RESNET50, { fixes: 'location-offsets,queue-init' }).fixes).toEqual(['location-offsets', 'queue-init']);
    expect(() => mergeConfig(CMID_RESNET50, { fixes: ['nope'] })).toThrow(/unknown fix "nope"/);
    expect(() => mergeConfig(CMID_RESNET50, { lr: 'fast' })).toThrow(/lr must be a number/);
    expect(() => mergeConfig(CMID_RESNET50, { num_matches: 50 })).toThrow(/num_matches 50 must be in 1..49/);
  });

  it('teacher temperature follows the reference index (quirk 6)', () => {
    // ResNet (model_warmup_epoch -1): epoch 0 uses S[1] = 0.04 + 0.03/49
    expect(teacherTemperature(CMID_RESNET50, 0)).toBeCloseTo(0.04 + 0.03 / 49, 12);
    expect(teacherTemperature(CMID_RESNET50, 48)).toBeCloseTo(0.07, 12);
    expect(teacherTemperature(CMID_RESNET50, 100)).toBe(0.07);
    // Swin (0): epoch 0 uses 0.04, epoch 49 reaches 0.07
    expect(teacherTemperature(CMID_SWIN_B, 0)).toBeCloseTo(0.04, 12);
    expect(teacherTemperature(CMID_SWIN_B, 10)).toBeCloseTo(0.04 + (0.03 * 10) / 49, 12);
    expect(teacherTemperature(CMID_SWIN_B, 49)).toBeCloseTo(0.07, 12);
  });
});

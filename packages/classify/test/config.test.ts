import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSIFY_TINY, loadClassifyConfig, mergeClassifyConfig, UCM_RESNET50, UCM_SWIN_B } from '../src/config.js';

describe('classify config', () => {
  it('holds the reference ft_config.yaml values', () => {
    expect(UCM_SWIN_B).toMatchObject({ size: 224, aa: 'rand-m9-mstd0.5-inc1', reprob: 0.25, mixup: 0.8, cutmix: 1, mixupSwitchProb: 0.5, smoothing: 0.1, optimizer: 'adan', lr: 0.003125, wd: 0.02, minLr: 1e-6, warmupEpochs: 5, warmupFactor: 0.01, epochs: 200, batchSize: 16, maxGradNorm: null });
    expect(UCM_SWIN_B.backboneOptions).toEqual({ dropPathRate: 0.5 });
    expect(UCM_RESNET50.backbone).toBe('resnet50');
  });

  it('reads the reference YAML keys, ignores the ones the reference ignores, and rejects unknown keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-cfg-'));
    const file = join(dir, 'ft_config.yaml');
    await writeFile(file, ['dataset: UCM', 'input_size: [224, 224]', 'num_classes: 21', 'hidden_dim: 1024', 'color_jitter: null', 'aa: rand-m9-mstd0.5-inc1', 'reprob: 0.25', 'mixup: 0.8', 'smoothing: 0.1', 'epoch: 50', 'max_grad_norm: 0.', 'lr: 0.001', 'batch_size: 32'].join('\n'));
    const c = await loadClassifyConfig(file);
    expect(c.epochs).toBe(50);
    expect(c.lr).toBe(0.001);
    expect(c.batchSize).toBe(32);
    expect(c.maxGradNorm).toBeNull();
    expect(c.size).toBe(224);
    expect(() => mergeClassifyConfig(CLASSIFY_TINY, { learning_rate: 1 }, 'x.yaml')).toThrow(/x\.yaml: unknown key\(s\) learning_rate/);
    expect(() => mergeClassifyConfig(CLASSIFY_TINY, { batch_size: 15 })).toThrow(/even batch/);
  });

  it('gradient accumulation splits the batch into equal micro-batches of at least 2', () => {
    expect(mergeClassifyConfig(CLASSIFY_TINY, { accumulation_steps: 4 }).accumulationSteps).toBe(4);
    expect(() => mergeClassifyConfig(CLASSIFY_TINY, { accumulation_steps: 3 })).toThrow(/batch_size 16 must split into that many equal micro-batches/);
    expect(() => mergeClassifyConfig(CLASSIFY_TINY, { accumulation_steps: 16 })).toThrow(/at least 2 images/);
    expect(mergeClassifyConfig(CLASSIFY_TINY, { accumulation_steps: 16, freeze_backbone: true }).accumulationSteps).toBe(16);
  });
});

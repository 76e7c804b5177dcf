import { describe, expect, it } from 'vitest';
import { runTorch } from '../../src/testing/torch-oracle.js';
import { CMID_MEAN, CMID_STD, IMAGENET_MEAN, IMAGENET_STD, normalizeImage } from '../../src/transforms/normalize.js';
import { diffStats, f32, itOracle, synthImage } from './helpers.js';

const img = synthImage(17, 23, 3, 7);

describe('normalizeImage', () => {
  itOracle('torchvision to_tensor + normalize (CMID and ImageNet statistics), x=[17,23,3]: within 2e-6 (float32 rounding of intermediate steps)', () => {
    const out = runTorch(
      `
import torchvision.transforms.functional as F
x = F.to_tensor(inputs['x'].to(torch.uint8).numpy())
outputs['cmid'] = F.normalize(x, ${JSON.stringify(CMID_MEAN)}, ${JSON.stringify(CMID_STD)}).permute(1, 2, 0)
outputs['inet'] = F.normalize(x, ${JSON.stringify(IMAGENET_MEAN)}, ${JSON.stringify(IMAGENET_STD)}).permute(1, 2, 0)
`,
      { x: { data: f32(img.data), shape: [17, 23, 3] } },
    );
    expect(diffStats(normalizeImage(img, CMID_MEAN, CMID_STD).data, out['cmid']!.data).maxDiff).toBeLessThan(2e-6);
    expect(diffStats(normalizeImage(img, IMAGENET_MEAN, IMAGENET_STD).data, out['inet']!.data).maxDiff).toBeLessThan(2e-6);
  });

  it("the albumentations formula (v - 255 mean) / (255 std) per band; float input gives the same as uint8; 13 bands with maxPixelValue 1", () => {
    const n = normalizeImage(img, CMID_MEAN, CMID_STD);
    expect(n.data).toBeInstanceOf(Float32Array);
    for (const i of [0, 1, 2, 100, 301]) {
      const c = i % 3;
      expect(n.data[i]).toBeCloseTo((img.data[i]! - 255 * CMID_MEAN[c]!) / (255 * CMID_STD[c]!), 5);
    }
    const nf = normalizeImage({ ...img, data: f32(img.data) }, CMID_MEAN, CMID_STD);
    expect(diffStats(nf.data, n.data).maxDiff).toBeLessThan(1e-5);
    const ms = synthImage(5, 6, 13, 1);
    const mean = Array.from({ length: 13 }, (_, c) => 100 + c), std = Array.from({ length: 13 }, (_, c) => 10 + c);
    const m = normalizeImage(ms, mean, std, { maxPixelValue: 1 });
    for (let i = 0; i < m.data.length; i++) expect(m.data[i]).toBeCloseTo((ms.data[i]! - mean[i % 13]!) / std[i % 13]!, 4);
    expect(() => normalizeImage(ms, CMID_MEAN, CMID_STD)).toThrow(/13 bands but mean has 3/);
  });
});

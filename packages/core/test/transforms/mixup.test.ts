import { describe, expect, it } from 'vitest';
import { mixupCutmix, Rng, sampleBeta } from '../../src/index.js';

describe('mixupCutmix (timm Mixup, batch mode)', () => {
  const B = 4, H = 8, W = 10, C = 2, K = 5;
  const images = Float32Array.from({ length: B * H * W * C }, (_, i) => Math.floor(i / (H * W * C)) + 1); // sample b is all b+1
  const labels = [0, 1, 2, 3];

  it('mixup: x_b = lam x_b + (1 - lam) x_{B-1-b}, targets mixed likewise with smoothing', () => {
    const r = mixupCutmix(images, [B, H, W, C], labels, K, new Rng(3), { mixupAlpha: 0.8, cutmixAlpha: 0, smoothing: 0.1 });
    expect(r.kind).toBe('mixup');
    const lam = r.lambda;
    expect(r.images[0]).toBeCloseTo(lam * 1 + (1 - lam) * 4, 5);
    const off = 0.1 / K, on = 0.9 + off;
    expect(r.targets[0 * K + 0]).toBeCloseTo(lam * on + (1 - lam) * off, 6);
    expect(r.targets[0 * K + 3]).toBeCloseTo(lam * off + (1 - lam) * on, 6);
    for (let b = 0; b < B; b++) expect(r.targets.subarray(b * K, b * K + K).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
  });

  it('cutmix: the box comes from the flipped batch and lambda is corrected to its area', () => {
    const r = mixupCutmix(images, [B, H, W, C], labels, K, new Rng(7), { mixupAlpha: 0, cutmixAlpha: 1 });
    expect(r.kind === 'cutmix' || r.kind === 'none').toBe(true);
    if (r.kind === 'cutmix') {
      const { yl, yh, xl, xh } = r.box!;
      expect(r.lambda).toBeCloseTo(1 - ((yh - yl) * (xh - xl)) / (H * W), 10);
      let fromPartner = 0;
      for (let p = 0; p < H * W; p++) if (r.images[p * C] === 4) fromPartner++;
      expect(fromPartner).toBe((yh - yl) * (xh - xl));
    }
  });

  it('switches between mixup and cutmix about half the time; Beta(0.8, 0.8) has mean 0.5 and variance 1/10.4', () => {
    const rng = new Rng(11);
    let cut = 0;
    for (let i = 0; i < 400; i++) if (mixupCutmix(images, [B, H, W, C], labels, K, rng).kind === 'cutmix') cut++;
    expect(cut / 400).toBeGreaterThan(0.4);
    expect(cut / 400).toBeLessThan(0.6);
    const xs = Array.from({ length: 20000 }, () => sampleBeta(rng, 0.8, 0.8));
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    expect(m).toBeCloseTo(0.5, 1);
    expect(v).toBeCloseTo(0.25 / 2.6, 2);
  });

  it('needs an even batch', () => {
    expect(() => mixupCutmix(images.subarray(0, 3 * H * W * C), [3, H, W, C], [0, 1, 2], K, new Rng(0))).toThrow(/even/);
  });
});


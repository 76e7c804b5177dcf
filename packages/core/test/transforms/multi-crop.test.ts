import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { multiCrop } from '../../src/transforms/multi-crop.js';
import { diffStats, synthImage } from './helpers.js';

describe('multiCrop (SwAV)', () => {
  const img = synthImage(120, 140, 3, 1);
  it('2 x 224 then 6 x 96 float32 crops; over 15 calls the crop areas stay in (0.14, 1) and (0.05, 0.14)', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 15; t++) {
      const m = multiCrop(img, rng);
      expect(m.crops.map((c) => c.height)).toEqual([224, 224, 96, 96, 96, 96, 96, 96]);
      expect(m.crops.every((c) => c.data instanceof Float32Array && c.channels === 3)).toBe(true);
      m.boxes.forEach((b, i) => {
        const a = (b.height * b.width) / (120 * 140);
        const [lo, hi] = i < 2 ? [0.14, 1] : [0.05, 0.14];
        if (!b.fallback) {
          expect(a).toBeGreaterThan(lo * 0.9);
          expect(a).toBeLessThan(hi * 1.1);
        }
      });
    }
  });

  it('custom groups and determinism', () => {
    const a = multiCrop(img, new Rng(3), { sizes: [64, 32], counts: [1, 3], minScale: [0.5, 0.1], maxScale: [1, 0.3] });
    const b = multiCrop(img, new Rng(3), { sizes: [64, 32], counts: [1, 3], minScale: [0.5, 0.1], maxScale: [1, 0.3] });
    expect(a.crops.map((c) => c.width)).toEqual([64, 32, 32, 32]);
    a.crops.forEach((c, i) => expect(diffStats(c.data, b.crops[i]!.data).mismatches).toBe(0));
    expect(() => multiCrop(img, new Rng(0), { sizes: [64], counts: [1, 2] })).toThrow(/one entry per group/);
  });
});

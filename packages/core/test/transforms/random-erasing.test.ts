import { describe, expect, it } from 'vitest';
import { randomErasingWithBox, Rng } from '../../src/index.js';

describe('randomErasing (timm, pixel mode)', () => {
  it('erases one box inside the bounds with N(0,1) values, with probability p', () => {
    const rng = new Rng(2);
    const img = { data: new Float32Array(32 * 40 * 3).fill(7), height: 32, width: 40, channels: 3 };
    let erased = 0;
    for (let i = 0; i < 400; i++) {
      const r = randomErasingWithBox(img, rng, { probability: 0.25 });
      if (r.box === undefined) continue;
      erased++;
      const { top, left, height, width } = r.box;
      expect(top + height).toBeLessThanOrEqual(32);
      expect(left + width).toBeLessThanOrEqual(40);
      const area = (height * width) / (32 * 40);
      expect(area).toBeGreaterThan(0.01);
      expect(area).toBeLessThan(0.4);
      let changed = 0;
      for (const v of r.image.data) if (v !== 7) changed++;
      expect(changed).toBe(height * width * 3);
    }
    expect(erased / 400).toBeGreaterThan(0.18);
    expect(erased / 400).toBeLessThan(0.32);
  });
});

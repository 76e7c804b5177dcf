import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { randomSolarize, solarize } from '../../src/transforms/solarize.js';

describe('solarize', () => {
  it('values >= 128 become 255 - v (all 256 uint8 values); float with threshold 0.5 and max 1', () => {
    const all = { data: Uint8Array.from({ length: 256 }, (_, i) => i), height: 16, width: 16, channels: 1 };
    const s = solarize(all);
    for (let v = 0; v < 256; v++) expect(s.data[v]).toBe(v >= 128 ? 255 - v : v);
    const f = solarize({ data: new Float32Array([0.2, 0.5, 0.9]), height: 1, width: 1, channels: 3 }, 0.5, 1);
    expect(Array.from(f.data)).toEqual([Math.fround(0.2), 0.5, Math.fround(1 - Math.fround(0.9))]);
  });

  it('randomSolarize(p = 0.2) over 3000 draws', () => {
    const rng = new Rng(4);
    const img = { data: new Uint8Array(3).fill(200), height: 1, width: 1, channels: 3 };
    let k = 0;
    for (let i = 0; i < 3000; i++) {
      const r = randomSolarize(img, rng, 0.2);
      if (r.applied) {
        k++;
        expect(r.image.data[0]).toBe(55);
      }
    }
    expect(Math.abs(k / 3000 - 0.2)).toBeLessThan(0.025);
  });
});

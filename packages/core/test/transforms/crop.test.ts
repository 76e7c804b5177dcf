import { describe, expect, it } from 'vitest';
import { cropImage, padCrop } from '../../src/transforms/crop.js';
import { synthImage } from './helpers.js';

describe('cropImage / padCrop', () => {
  const img = synthImage(10, 12, 3, 1);
  it('crop copies exactly the box (x=[10,12,3] box 4x5 at (3,6))', () => {
    const c = cropImage(img, { top: 3, left: 6, height: 4, width: 5 });
    expect([c.height, c.width, c.channels]).toEqual([4, 5, 3]);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) for (let ch = 0; ch < 3; ch++) {
      expect(c.data[(y * 5 + x) * 3 + ch]).toBe(img.data[((y + 3) * 12 + x + 6) * 3 + ch]);
    }
    expect(() => cropImage(img, { top: 8, left: 0, height: 4, width: 2 })).toThrow(/padCrop/);
  });

  it('padCrop fills outside the image per band and copies the overlap (box half outside, label fill 255)', () => {
    const c = padCrop(img, { top: -2, left: 9, height: 5, width: 6 }, [1, 2, 3]);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) {
      const sy = y - 2, sx = x + 9;
      const inside = sy >= 0 && sx < 12;
      for (let ch = 0; ch < 3; ch++) expect(c.data[(y * 6 + x) * 3 + ch]).toBe(inside ? img.data[(sy * 12 + sx) * 3 + ch] : ch + 1);
    }
    const label = { data: new Uint8Array(4).fill(2), height: 2, width: 2, channels: 1 };
    expect(Array.from(padCrop(label, { top: 0, left: 0, height: 3, width: 3 }, 255).data)).toEqual([2, 2, 255, 2, 2, 255, 255, 255, 255]);
    expect(Array.from(padCrop(label, { top: 5, left: 5, height: 1, width: 2 }, 9).data)).toEqual([9, 9]);
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { hflip, randomHorizontalFlip, randomVerticalFlip, vflip } from '../../src/transforms/flip.js';
import type { Image } from '../../src/transforms/image.js';
import { diffStats, f32, synthImage } from './helpers.js';

describe('flips', () => {
  const img = synthImage(7, 9, 3, 1);
  const ms = synthImage(5, 6, 13, 2);
  it('hflip maps (y, x) to (y, W-1-x) and vflip (y, x) to (H-1-y, x), for 3 and 13 bands, uint8 and float32', () => {
    for (const src of [img, ms, { ...ms, data: f32(ms.data) }] as Image[]) {
      const { height: H, width: W, channels: C } = src;
      const h = hflip(src), v = vflip(src);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
        expect(h.data[(y * W + x) * C + c]).toBe(src.data[(y * W + (W - 1 - x)) * C + c]);
        expect(v.data[(y * W + x) * C + c]).toBe(src.data[((H - 1 - y) * W + x) * C + c]);
      }
      expect(h.data.constructor).toBe(src.data.constructor);
    }
  });

  it('flipping twice is the identity; the input is not modified', () => {
    const before = img.data.slice();
    expect(diffStats(hflip(hflip(img)).data, img.data).mismatches).toBe(0);
    expect(diffStats(vflip(vflip(ms)).data, ms.data).mismatches).toBe(0);
    expect(diffStats(img.data, before).mismatches).toBe(0);
  });

  it('random flips happen with probability ~0.5 over 4000 seeds and report the flag truthfully', () => {
    let k = 0, kv = 0;
    for (let s = 0; s < 4000; s++) {
      const r = randomHorizontalFlip(img, new Rng(s));
      if (r.flipped) {
        k++;
        expect(diffStats(r.image.data, hflip(img).data).mismatches).toBe(0);
      } else expect(r.image).toBe(img);
      if (randomVerticalFlip(img, new Rng(s + 10_000), 0.5).flipped) kv++;
    }
    expect(Math.abs(k / 4000 - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(kv / 4000 - 0.5)).toBeLessThan(0.03);
    expect(randomHorizontalFlip(img, new Rng(1), 0).flipped).toBe(false);
    expect(randomHorizontalFlip(img, new Rng(1), 1).flipped).toBe(true);
  });
});

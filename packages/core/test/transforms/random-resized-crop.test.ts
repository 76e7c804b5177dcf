import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { randomResizedCrop, sampleResizedCropBox } from '../../src/transforms/random-resized-crop.js';
import { resizeImage } from '../../src/transforms/resize.js';
import { diffStats, synthImage } from './helpers.js';

/** An Rng stand-in that replays scripted uniforms/ints, to check the algorithm step by step. */
function scripted(uniforms: number[], ints: number[]): Rng {
  return {
    uniform: (lo: number, hi: number) => {
      const u = uniforms.shift();
      if (u === undefined) throw new Error('script exhausted');
      return lo + (hi - lo) * u;
    },
    int: (lo: number, hi: number) => {
      const v = ints.shift()!;
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThan(hi);
      return v;
    },
  } as unknown as Rng;
}

describe('sampleResizedCropBox (torchvision algorithm)', () => {
  it('CMID scale (0.3,1) on 224x224 over 5000 draws: area fraction and aspect inside their ranges, boxes inside the image, offsets uniform', () => {
    const rng = new Rng(1);
    let sumTop = 0, fallbacks = 0, minA = 1, maxA = 0;
    for (let i = 0; i < 5000; i++) {
      const b = sampleResizedCropBox(rng, 224, 224, { scale: [0.3, 1] });
      expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= 224 && b.left + b.width <= 224).toBe(true);
      if (b.fallback) {
        fallbacks++;
        continue;
      }
      const a = (b.height * b.width) / (224 * 224);
      // w, h are rounded from sqrt(a * area * r): allow the rounding slack of 1 px per side
      expect(a).toBeGreaterThan(0.3 - 2 / 224);
      expect(a).toBeLessThan(1 + 2 / 224);
      const r = b.width / b.height;
      expect(r).toBeGreaterThan((3 / 4) * (1 - 2 / 100));
      expect(r).toBeLessThan((4 / 3) * (1 + 2 / 100));
      minA = Math.min(minA, a);
      maxA = Math.max(maxA, a);
      sumTop += b.top / Math.max(1, 224 - b.height);
    }
    expect(fallbacks).toBe(0); // at most 10 rejections in a row are astronomically rare here
    expect(minA).toBeLessThan(0.31);
    expect(maxA).toBeGreaterThan(0.95);
    expect(Math.abs(sumTop / 5000 - 0.5)).toBeLessThan(0.03); // relative offset ~ U[0, 1]
  });

  it('hStart/wStart are the albumentations fractions, and floor((H - h + 1) * hStart) recovers the pixel offset', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 2000; i++) {
      const b = sampleResizedCropBox(rng, 224, 200, { scale: [0.3, 1] });
      expect(b.hStart).toBeGreaterThanOrEqual(0);
      expect(b.hStart).toBeLessThanOrEqual(1);
      expect(Math.floor((224 - b.height + 1) * b.hStart)).toBe(b.top);
      expect(Math.floor((200 - b.width + 1) * b.wStart)).toBe(b.left);
    }
  });

  it('scripted draws: Python rounding (half to even), rejection of oversized boxes, and the central fallback after 10 attempts', () => {
    // attempt 1: a = 1, r = exp(log(4/3)) = 4/3 on 100x100 -> w = round(115.47) = 115 > 100: rejected;
    // attempt 2: a = 0.5 ... accepted with scripted offsets.
    const u = [1, 1, (0.5 - 0.08) / 0.92, 0.5];
    const b = sampleResizedCropBox(scripted(u, [7, 9]), 100, 100);
    const r = Math.exp(Math.log(3 / 4) + 0.5 * (Math.log(4 / 3) - Math.log(3 / 4)));
    expect(b).toMatchObject({ height: Math.round(Math.sqrt(5000 / r)), width: Math.round(Math.sqrt(5000 * r)), top: 7, left: 9, fallback: false });
    // half-to-even: area 0.0625 * 100 = 6.25 exactly, sqrt = 2.5 -> 2 (Math.round would give 3)
    const even = sampleResizedCropBox(scripted([0.3, 0.7], [0, 0]), 10, 10, { scale: [0.0625, 0.0625], ratio: [1, 1] });
    expect([even.height, even.width]).toEqual([2, 2]);
    const odd = sampleResizedCropBox(scripted([0.3, 0.7], [0, 0]), 10, 10, { scale: [0.1225, 0.1225], ratio: [1, 1] });
    expect([odd.height, odd.width]).toEqual([4, 4]); // sqrt(12.25) = 3.5 -> 4
    // a very wide image: every attempt too tall -> fallback keeps the height and clamps the aspect to 4/3
    const fb = sampleResizedCropBox(new Rng(0), 10, 400, { scale: [0.9, 1] });
    expect(fb).toMatchObject({ fallback: true, height: 10, width: 13, top: 0, left: Math.floor((400 - 13) / 2) });
    const tall = sampleResizedCropBox(new Rng(0), 400, 10, { scale: [0.9, 1] });
    expect(tall).toMatchObject({ fallback: true, width: 10, height: 13 });
  });

  it('randomResizedCrop = resize of the reported box; same seed, same crop', () => {
    const img = synthImage(64, 80, 3, 2);
    const a = randomResizedCrop(img, new Rng(9), 32, { scale: [0.3, 1], antialias: false });
    const b = randomResizedCrop(img, new Rng(9), 32, { scale: [0.3, 1], antialias: false });
    expect(a.box).toEqual(b.box);
    expect(diffStats(a.image.data, b.image.data).mismatches).toBe(0);
    const again = resizeImage(img, 32, 32, { box: a.box, antialias: false });
    expect(diffStats(a.image.data, again.data).mismatches).toBe(0);
    expect(randomResizedCrop(img, new Rng(10), [20, 30]).image).toMatchObject({ height: 20, width: 30, channels: 3 });
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { CmidError } from '../../src/runtime/errors.js';
import { locationGrid } from '../../src/transforms/location-grid.js';
import { CMID_MEAN, CMID_STD, normalizeImage } from '../../src/transforms/normalize.js';
import { parallelTransform } from '../../src/transforms/parallel-transform.js';
import { resizeImage } from '../../src/transforms/resize.js';
import { diffStats, synthImage } from './helpers.js';

const src = synthImage(256, 256, 3, 7);

describe('parallelTransform (cmid.md §6.2)', () => {
  it('x=[256,256,3] uint8 -> float32 HWC [224,224,3] views, 56x56 masks with 30 blocks, [7,7,2] locations', () => {
    const s = parallelTransform(src, new Rng(1));
    for (const im of [s.img, s.mimImg, s.view, s.viewMimImg]) {
      expect([im.height, im.width, im.channels]).toEqual([224, 224, 3]);
      expect(im.data).toBeInstanceOf(Float32Array);
    }
    for (const m of [s.mask, s.viewMask]) {
      expect(m.length).toBe(56 * 56);
      expect(m.reduce((a, v) => a + v, 0)).toBe(30 * 64);
    }
    expect(s.locations.map((l) => l.length)).toEqual([98, 98]);
  });

  it('img is exactly normalise(OpenCV-bilinear crop of the PIL-bicubic 224 image, flipped as recorded); locations follow the recorded boxes', () => {
    const rng = new Rng(2);
    const base = resizeImage(src, 224, 224, { interpolation: 'bicubic' });
    for (let t = 0; t < 5; t++) {
      const s = parallelTransform(src, rng);
      const { box, flipped } = s.params.img;
      const ref = normalizeImage(resizeImage(base, 224, 224, { antialias: false, box, flipHorizontal: flipped }), CMID_MEAN, CMID_STD);
      expect(diffStats(s.img.data, ref.data).maxDiff).toBe(0);
      expect(Array.from(s.locations[0])).toEqual(Array.from(locationGrid(box, flipped)));
      expect(Array.from(s.locations[1])).toEqual(Array.from(locationGrid(s.params.view.box, s.params.view.flipped)));
      const area = (box.height * box.width) / 224 ** 2;
      expect(area).toBeGreaterThan(0.29);
    }
  });

  it('mimImg / viewMimImg: masked 32x32 blocks = the per-band mean of that view, all other pixels equal the view', () => {
    const s = parallelTransform(src, new Rng(3));
    for (const [view, mim, mask] of [[s.img, s.mimImg, s.mask], [s.view, s.viewMimImg, s.viewMask]] as const) {
      const mean = [0, 0, 0];
      for (let i = 0; i < view.data.length; i++) mean[i % 3]! += view.data[i]! / (224 * 224);
      let worst = 0, changed = 0;
      for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) {
        const masked = mask[Math.floor(y / 4) * 56 + Math.floor(x / 4)] === 1;
        for (let c = 0; c < 3; c++) {
          const i = (y * 224 + x) * 3 + c;
          if (masked) worst = Math.max(worst, Math.abs(mim.data[i]! - mean[c]!));
          else if (mim.data[i] !== view.data[i]) changed++;
        }
      }
      expect(worst).toBeLessThan(1e-5);
      expect(changed).toBe(0);
    }
  });

  it('view-2 probabilities over 1500 samples of a 32 px image: flip 0.5, jitter 0.8, blur 1, noise 0.6, solarize 0.2, gray 0.2', () => {
    const small = synthImage(40, 40, 3, 1);
    const rng = new Rng(4);
    const n = 1500;
    const k = { flip: 0, jitter: 0, blur: 0, noise: 0, sol: 0, gray: 0, iflip: 0 };
    for (let i = 0; i < n; i++) {
      const p = parallelTransform(small, rng, { size: 32 }).params;
      k.flip += +p.view.flipped;
      k.iflip += +p.img.flipped;
      k.jitter += +(p.view.colorJitter !== undefined);
      k.blur += +(p.view.blur !== undefined);
      k.noise += +(p.view.noiseSigma !== undefined);
      k.sol += +p.view.solarized;
      k.gray += +p.view.grayscale;
    }
    const near = (x: number, p: number) => expect(Math.abs(x / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    near(k.flip, 0.5);
    near(k.iflip, 0.5);
    near(k.jitter, 0.8);
    near(k.blur, 1);
    near(k.noise, 0.6);
    near(k.sol, 0.2);
    near(k.gray, 0.2);
  });

  it('same seed -> identical sample; different seed -> different; the source is not modified', () => {
    const before = src.data.slice();
    const a = parallelTransform(src, new Rng(5));
    const b = parallelTransform(src, new Rng(5));
    const c = parallelTransform(src, new Rng(6));
    for (const key of ['img', 'mimImg', 'view', 'viewMimImg'] as const) expect(diffStats(a[key].data, b[key].data).mismatches).toBe(0);
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
    expect(diffStats(a.view.data, c.view.data).mismatches).toBeGreaterThan(1000);
    expect(diffStats(src.data, before).mismatches).toBe(0);
  });

  it("options: 'pixel' locations, maskView false (quirk 2), only the width decides the global resize, 13 bands with colour ops off", () => {
    const s = parallelTransform(src, new Rng(7), { locationOffsets: 'pixel', maskView: false });
    expect(Array.from(s.locations[0])).toEqual(Array.from(locationGrid(s.params.img.box, s.params.img.flipped, { offsets: 'pixel' })));
    expect(s.viewMimImg.data).toBe(s.view.data);
    // width 224, height 300: no global resize, crops come from the 300 x 224 source (faithful quirk)
    const tall = parallelTransform(synthImage(300, 224, 3, 2), new Rng(8));
    expect(tall.params.img.box.top + tall.params.img.box.height).toBeLessThanOrEqual(300);
    const ms = synthImage(64, 64, 13, 3);
    const mean = Array.from({ length: 13 }, () => 0.4), std = Array.from({ length: 13 }, () => 0.2);
    expect(() => parallelTransform(ms, new Rng(1), { mean, std })).toThrow(CmidError);
    const m = parallelTransform(ms, new Rng(1), { colorJitter: null, grayscaleP: 0, mean, std });
    expect([m.view.channels, m.mimImg.channels]).toEqual([13, 13]);
  });
});

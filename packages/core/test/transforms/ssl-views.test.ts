import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImage } from '../../src/transforms/normalize.js';
import { resizeImage } from '../../src/transforms/resize.js';
import { SSL_VIEW_RECIPES, sslView } from '../../src/transforms/ssl-views.js';
import { diffStats, synthImage } from './helpers.js';

describe('SSL baseline views', () => {
  const img = synthImage(96, 96, 3, 4);
  it('recipes carry the spec parameters (BYOL asymmetric blur/solarize, MoCo-v2 scale 0.2 and saturation 0.4, MAE bicubic, SimMIM 192 / 0.67)', () => {
    const [b1, b2] = SSL_VIEW_RECIPES.byol;
    expect([b1.blur?.p, b1.solarizeP, b2.blur?.p, b2.solarizeP, b1.scale[0]]).toEqual([1, 0, 0.1, 0.2, 0.08]);
    expect([SSL_VIEW_RECIPES.mocoV2[0].scale[0], SSL_VIEW_RECIPES.mocoV2[0].colorJitter?.saturation, SSL_VIEW_RECIPES.mocoV2[0].blur?.p]).toEqual([0.2, 0.4, 0.5]);
    expect([SSL_VIEW_RECIPES.mae.interpolation, SSL_VIEW_RECIPES.mae.scale[0]]).toEqual(['bicubic', 0.2]);
    expect([SSL_VIEW_RECIPES.simmim.size, SSL_VIEW_RECIPES.simmim.scale[0]]).toEqual([192, 0.67]);
  });

  it('MAE / SimMIM views are exactly normalise(PIL resize of the crop box, flipped as reported)', () => {
    const rng = new Rng(1);
    for (const recipe of [{ ...SSL_VIEW_RECIPES.mae, size: 48 }, { ...SSL_VIEW_RECIPES.simmim, size: 40 }]) {
      for (let t = 0; t < 4; t++) {
        const v = sslView(img, rng, recipe);
        const ref = normalizeImage(
          resizeImage(img, recipe.size, recipe.size, { interpolation: recipe.interpolation ?? 'bilinear', box: v.box, flipHorizontal: v.flipped }),
          IMAGENET_MEAN,
          IMAGENET_STD,
        );
        expect(diffStats(v.image.data, ref.data).maxDiff).toBe(0);
        expect((v.box.height * v.box.width) / 96 ** 2).toBeGreaterThan(recipe.scale[0] - 0.03);
      }
    }
  });

  it('BYOL asymmetry over 1500 draws per view: view 1 blur 1 / solarize 0, view 2 blur 0.1 / solarize 0.2; jitter 0.8, gray 0.2; kernel 23', () => {
    const rng = new Rng(2);
    const tiny = synthImage(12, 12, 3, 1);
    const n = 1500;
    const rates = SSL_VIEW_RECIPES.byol.map((r) => {
      const k = { blur: 0, sol: 0, jit: 0, gray: 0 };
      for (let i = 0; i < n; i++) {
        const p = sslView(tiny, rng, { ...r, size: 8 }).params;
        k.blur += +(p.blur !== undefined);
        k.sol += +p.solarized;
        k.jit += +(p.colorJitter !== undefined);
        k.gray += +p.grayscale;
        if (p.blur) expect(p.blur.kernelSize).toBe(23);
      }
      return Object.fromEntries(Object.entries(k).map(([key, v]) => [key, v / n]));
    });
    const near = (x: number, p: number) => expect(Math.abs(x - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    near(rates[0]!.blur!, 1);
    near(rates[0]!.sol!, 0);
    near(rates[1]!.blur!, 0.1);
    near(rates[1]!.sol!, 0.2);
    for (const r of rates) {
      near(r.jit!, 0.8);
      near(r.gray!, 0.2);
    }
    const a = sslView(img, new Rng(3), { ...SSL_VIEW_RECIPES.mocoV2[0], size: 32 });
    const b = sslView(img, new Rng(3), { ...SSL_VIEW_RECIPES.mocoV2[0], size: 32 });
    expect(diffStats(a.image.data, b.image.data).mismatches).toBe(0);
  });

  it('SeCo augmented view jitters the full image before the crop; plain view only crops (no flip)', () => {
    const rng = new Rng(4);
    for (let t = 0; t < 5; t++) {
      const p = sslView(img, rng, { ...SSL_VIEW_RECIPES.seco.plain, size: 32 });
      expect(p.flipped).toBe(false);
      const ref = normalizeImage(resizeImage(img, 32, 32, { box: p.box }), IMAGENET_MEAN, IMAGENET_STD);
      expect(diffStats(p.image.data, ref.data).maxDiff).toBe(0);
    }
    const aug = sslView(img, new Rng(5), { ...SSL_VIEW_RECIPES.seco.augmented, size: 32 });
    expect(aug.image.data.length).toBe(32 * 32 * 3);
    expect(() => sslView(synthImage(8, 8, 13), rng, SSL_VIEW_RECIPES.mocoV2[0])).toThrow(/3-band RGB/);
  });
});

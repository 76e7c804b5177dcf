import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { runTorch } from '../../src/testing/torch-oracle.js';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyColorJitter,
  CMID_COLOR_JITTER,
  colorJitter,
  sampleColorJitterParams,
} from '../../src/transforms/color-jitter.js';
import { CmidError } from '../../src/runtime/errors.js';
import { diffStats, f32, itOracle, synthImage } from './helpers.js';

const img = synthImage(41, 59, 3, 2);
const FACTORS = [0, 0.6, 1, 1.37, 2.5];
const HUES = [-0.5, -0.1, -0.0123, 0, 0.0371, 0.1, 0.5];

describe('colour ops vs torchvision.transforms.functional on uint8 tensors (oracle)', () => {
  itOracle('adjust_brightness / contrast / saturation at 5 factors and adjust_hue at 7 shifts, x=[41,59,3]: bit-exact', () => {
    const out = runTorch(
      `
import torchvision.transforms.functional as F
t = inputs['x'].to(torch.uint8).permute(2, 0, 1)
for i, f in enumerate(${JSON.stringify(FACTORS)}):
    outputs[f'b{i}'] = F.adjust_brightness(t, f).permute(1, 2, 0)
    outputs[f'c{i}'] = F.adjust_contrast(t, f).permute(1, 2, 0)
    outputs[f's{i}'] = F.adjust_saturation(t, f).permute(1, 2, 0)
for i, h in enumerate(${JSON.stringify(HUES)}):
    outputs[f'h{i}'] = F.adjust_hue(t, h).permute(1, 2, 0)
# a random-order jitter with fixed factors, applied in the order [3, 0, 2, 1]
j = F.adjust_hue(t, 0.07)
j = F.adjust_brightness(j, 1.21)
j = F.adjust_saturation(j, 0.83)
j = F.adjust_contrast(j, 0.66)
outputs['jit'] = j.permute(1, 2, 0)
`,
      { x: { data: f32(img.data), shape: [41, 59, 3] } },
    );
    FACTORS.forEach((f, i) => {
      expect(diffStats(adjustBrightness(img, f).data, out[`b${i}`]!.data), `brightness ${f}`).toEqual({ mismatches: 0, maxDiff: 0 });
      expect(diffStats(adjustContrast(img, f).data, out[`c${i}`]!.data), `contrast ${f}`).toEqual({ mismatches: 0, maxDiff: 0 });
      expect(diffStats(adjustSaturation(img, f).data, out[`s${i}`]!.data), `saturation ${f}`).toEqual({ mismatches: 0, maxDiff: 0 });
    });
    HUES.forEach((h, i) => expect(diffStats(adjustHue(img, h).data, out[`h${i}`]!.data), `hue ${h}`).toEqual({ mismatches: 0, maxDiff: 0 }));
    const jit = applyColorJitter(img, { order: [3, 0, 2, 1], brightness: 1.21, contrast: 0.66, saturation: 0.83, hue: 0.07 });
    expect(diffStats(jit.data, out['jit']!.data)).toEqual({ mismatches: 0, maxDiff: 0 });
  });
});

describe('colour jitter sampling', () => {
  it('CMID jitter over 4000 draws: p = 0.8 applied, factors inside (0.6,1.4)/(0.6,1.4)/(0.8,1.2)/(-0.1,0.1), orders uniform over 24 permutations', () => {
    const rng = new Rng(11);
    const tiny = synthImage(2, 2, 3, 0);
    let applied = 0;
    const orders = new Map<string, number>();
    const seen = { b: [Infinity, -Infinity], c: [Infinity, -Infinity], s: [Infinity, -Infinity], h: [Infinity, -Infinity] };
    const upd = (k: keyof typeof seen, v: number | undefined) => {
      expect(v).toBeDefined();
      seen[k][0] = Math.min(seen[k][0]!, v!);
      seen[k][1] = Math.max(seen[k][1]!, v!);
    };
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const { params } = colorJitter(tiny, rng, CMID_COLOR_JITTER);
      if (params === undefined) continue;
      applied++;
      orders.set(params.order.join(''), (orders.get(params.order.join('')) ?? 0) + 1);
      upd('b', params.brightness);
      upd('c', params.contrast);
      upd('s', params.saturation);
      upd('h', params.hue);
    }
    expect(Math.abs(applied / n - 0.8)).toBeLessThan(0.03); // sd of the rate ~0.0063
    expect(seen.b[0]).toBeGreaterThanOrEqual(0.6);
    expect(seen.b[1]).toBeLessThan(1.4);
    expect(seen.b[0]).toBeLessThan(0.62); // the whole range is used
    expect(seen.b[1]).toBeGreaterThan(1.38);
    expect(seen.s[0]).toBeGreaterThanOrEqual(0.8);
    expect(seen.s[1]).toBeLessThan(1.2);
    expect(seen.h[0]).toBeGreaterThanOrEqual(-0.1);
    expect(seen.h[1]).toBeLessThan(0.1);
    expect(orders.size).toBe(24);
    for (const c of orders.values()) expect(Math.abs(c - applied / 24)).toBeLessThan(0.35 * (applied / 24)); // each ~133
  });

  it('a zero strength turns an operation off (no draw), like torchvision; explicit ranges are honoured', () => {
    const p = sampleColorJitterParams(new Rng(1), { brightness: 0, contrast: [0.9, 0.9], saturation: 0.5, hue: 0 });
    expect(p.brightness).toBeUndefined();
    expect(p.hue).toBeUndefined();
    expect(p.contrast).toBe(0.9);
    expect(p.saturation).toBeGreaterThanOrEqual(0.5);
    expect(p.saturation).toBeLessThan(1.5);
  });

  it('same seed gives the same jittered image; different seeds differ', () => {
    const a = colorJitter(img, new Rng(5), { ...CMID_COLOR_JITTER, p: 1 }).image;
    const b = colorJitter(img, new Rng(5), { ...CMID_COLOR_JITTER, p: 1 }).image;
    const c = colorJitter(img, new Rng(6), { ...CMID_COLOR_JITTER, p: 1 }).image;
    expect(diffStats(a.data, b.data).mismatches).toBe(0);
    expect(diffStats(a.data, c.data).mismatches).toBeGreaterThan(100);
  });

  it('writing into `out` (including in place) gives the same pixels and leaves the input alone when out differs', () => {
    const params = { order: [1, 3, 0, 2], brightness: 1.3, contrast: 0.7, saturation: 1.1, hue: -0.05 };
    const ref = applyColorJitter(img, params);
    const copy = { ...img, data: img.data.slice() };
    applyColorJitter(copy, params, copy);
    expect(diffStats(copy.data, ref.data).mismatches).toBe(0);
    const before = img.data.slice();
    const out = { ...img, data: new Uint8Array(img.data.length) };
    applyColorJitter(img, params, out);
    expect(diffStats(out.data, ref.data).mismatches).toBe(0);
    expect(diffStats(img.data, before).mismatches).toBe(0);
  });

  it('13 bands or float data: CmidError naming the problem', () => {
    const ms = synthImage(4, 4, 13, 0);
    expect(() => adjustBrightness(ms, 1.1)).toThrow(CmidError);
    expect(() => adjustHue(ms, 0.1)).toThrow(/3-band RGB image, got 13 band/);
    expect(() => adjustContrast({ ...img, data: f32(img.data) } as never, 1.1)).toThrow(/expects a uint8 image/);
    expect(() => adjustHue(img, 0.6)).toThrow(/\[-0\.5, 0\.5\]/);
  });
});

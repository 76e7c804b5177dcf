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
import { torchvisionGray } from '../../src/transforms/grayscale.js';
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

// ---- torchvision's uint8 formulas per pixel in JS, every float32 operation rounded with Math.fround (a float32
// +, -, *, / of float32 operands is the float64 result rounded once), for many more colours than the oracle image.
const fr = Math.fround;
const clampTrunc = (x: number): number => (x <= 0 ? 0 : x >= 255 ? 255 : Math.trunc(x));
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

function refSaturation(src: Uint8Array, factor: number): Uint8Array {
  const F = fr(factor), G = fr(1 - factor), out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += 3) {
    const gb = fr(G * torchvisionGray(src[p]!, src[p + 1]!, src[p + 2]!));
    for (let c = 0; c < 3; c++) out[p + c] = clampTrunc(fr(fr(F * src[p + c]!) + gb));
  }
  return out;
}

function refContrast(src: Uint8Array, factor: number): Uint8Array {
  let sum = 0;
  for (let p = 0; p < src.length; p += 3) sum += torchvisionGray(src[p]!, src[p + 1]!, src[p + 2]!);
  const mean = fr(sum / (src.length / 3));
  const F = fr(factor), b = fr(fr(1 - factor) * mean);
  return src.map((v) => clampTrunc(fr(fr(F * v) + b)));
}

/** torchvision adjust_hue on one uint8 pixel: _rgb2hsv, (h + shift) % 1, _hsv2rgb, trunc(255 x). */
function refHuePixel(r8: number, g8: number, b8: number, shift: number): [number, number, number] {
  const r = fr(r8 / 255), g = fr(g8 / 255), b = fr(b8 / 255);
  const v = Math.max(r, g, b), mn = Math.min(r, g, b), eq = v === mn;
  const cr = fr(v - mn);
  const s = fr(cr / (eq ? 1 : v));
  const d = eq ? 1 : cr;
  const rc = fr(fr(v - r) / d), gc = fr(fr(v - g) / d), bc = fr(fr(v - b) / d);
  let h = v === r ? fr(bc - gc) : v === g ? fr(fr(2 + rc) - bc) : fr(fr(4 + gc) - rc);
  h = fr(fr(h / 6) + 1);
  if (h >= 1) h = fr(h - 1); // fmod(h, 1)
  h = fr(h + fr(shift));
  if (h >= 1) h = fr(h - 1); // (h + shift) % 1.0 (Python remainder)
  else if (h < 0) h = fr(h + 1);
  const h6 = fr(h * 6), i = Math.floor(h6), f = fr(h6 - i);
  const p = clamp01(fr(v * fr(1 - s)));
  const q = clamp01(fr(v * fr(1 - fr(s * f))));
  const t = clamp01(fr(v * fr(1 - fr(s * fr(1 - f)))));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  return [Math.trunc(fr(rgb[0]! * 255)), Math.trunc(fr(rgb[1]! * 255)), Math.trunc(fr(rgb[2]! * 255))];
}

function refHue(src: Uint8Array, shift: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += 3) out.set(refHuePixel(src[p]!, src[p + 1]!, src[p + 2]!, shift), p);
  return out;
}

/** n pixels: every gray, every tie of two channels (r = g, r = b, g = b) on a grid, then seeded random colours. */
function colourTable(npix: number, seed: number): Uint8Array {
  const d = new Uint8Array(npix * 3);
  let p = 0;
  const put = (r: number, g: number, b: number) => {
    if (p < d.length) d.set([r, g, b], p);
    p += 3;
  };
  for (let v = 0; v < 256; v++) put(v, v, v);
  for (let a = 0; a < 256; a += 5) {
    for (let b = 0; b < 256; b += 7) {
      put(a, a, b);
      put(a, b, a);
      put(b, a, a);
    }
  }
  const r = new Rng(seed);
  while (p < d.length) put(r.int(0, 256), r.int(0, 256), r.int(0, 256));
  return d;
}

describe('colour ops vs the float32 formulas in JS, many colours', () => {
  // pixel counts around the kernels' 16-pixel blocks (remainders 0..15) and one large table (every tie, ~60k random)
  const counts = [1, 2, 5, 15, 16, 17, 31, 33, 47, 64 * 1024 + 13];
  const asImg = (data: Uint8Array) => ({ data, height: 1, width: data.length / 3, channels: 3 });

  it('adjust_saturation and adjust_contrast at 8 factors: bit-exact', () => {
    for (const n of counts) {
      const src = colourTable(n, n);
      for (const f of [0, 0.13, 0.8, 0.94, 1, 1.2, 1.37, 2.5]) {
        expect(diffStats(adjustSaturation(asImg(src), f).data, refSaturation(src, f)), `saturation n=${n} f=${f}`).toEqual({ mismatches: 0, maxDiff: 0 });
        expect(diffStats(adjustContrast(asImg(src), f).data, refContrast(src, f)), `contrast n=${n} f=${f}`).toEqual({ mismatches: 0, maxDiff: 0 });
      }
    }
  });

  it('adjust_hue at 10 shifts (both ends, tiny ones that wrap h to exactly 1): bit-exact', () => {
    for (const n of counts) {
      const src = colourTable(n, n + 1);
      for (const h of [-0.5, -0.37, -0.1, -1e-7, 0, 1e-7, 0.0371, 0.1, 0.25, 0.5]) {
        expect(diffStats(adjustHue(asImg(src), h).data, refHue(src, h)), `hue n=${n} shift=${h}`).toEqual({ mismatches: 0, maxDiff: 0 });
      }
    }
  });

  itOracle('the same JS formulas equal torchvision on 64k colours (every gray and channel tie + random), hue at 4 shifts, saturation at 3 factors', () => {
    const src = colourTable(256 * 256, 5);
    const out = runTorch(
      `
import torchvision.transforms.functional as F
t = inputs['x'].to(torch.uint8).permute(2, 0, 1)
for i, h in enumerate([-0.37, -1e-7, 0.0371, 0.5]):
    outputs[f'h{i}'] = F.adjust_hue(t, h).permute(1, 2, 0)
for i, f in enumerate([0.13, 0.94, 1.37]):
    outputs[f's{i}'] = F.adjust_saturation(t, f).permute(1, 2, 0)
`,
      { x: { data: f32(src), shape: [256, 256, 3] } },
    );
    [-0.37, -1e-7, 0.0371, 0.5].forEach((h, i) => expect(diffStats(refHue(src, h), out[`h${i}`]!.data), `hue ${h}`).toEqual({ mismatches: 0, maxDiff: 0 }));
    [0.13, 0.94, 1.37].forEach((f, i) => expect(diffStats(refSaturation(src, f), out[`s${i}`]!.data), `saturation ${f}`).toEqual({ mismatches: 0, maxDiff: 0 }));
  });

  it('in place (out = img) equals out of place, for a remainder of 7 pixels', () => {
    const src = colourTable(16 * 9 + 7, 3);
    for (const op of [(i: ReturnType<typeof asImg>, o?: ReturnType<typeof asImg>) => adjustHue(i, 0.21, o), (i: ReturnType<typeof asImg>, o?: ReturnType<typeof asImg>) => adjustSaturation(i, 1.3, o)]) {
      const ref = op(asImg(src)).data;
      const img = asImg(src.slice());
      op(img, img);
      expect(diffStats(img.data, ref).mismatches).toBe(0);
    }
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

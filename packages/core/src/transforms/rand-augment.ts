/**
 * RandAugment as timm 0.6.12 builds it from a config string (timm/data/auto_augment.py, rand_augment_transform),
 * on 8-bit RGB HWC images, with each op reproducing PIL 9 (ImageOps, ImageEnhance, Image.transform AFFINE):
 *
 * `rand-m9-mstd0.5-inc1` (CMID's UCM fine-tuning, cmid.md §12): 2 ops drawn uniformly with replacement from the 15
 * "increasing" ops, each applied with probability 0.5, magnitude ~ N(9, 0.5) clipped to [0, 10] per application;
 * signed ops are negated with probability 0.5; relative translations up to 0.45 of the image side at magnitude
 * 10; fill colour (124, 116, 104) (the ImageNet mean); affine resampling bicubic (PIL's a = -1 cubic).
 * Config keys: m (magnitude), n (ops), mstd (magnitude std), mmax (clip, default 10), inc (increasing op set),
 * p (op probability). Deviation: the draws come from our Rng, not Python's `random` / numpy.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import type { Image } from './image.js';

type U8 = Image<Uint8Array>;

export const RAND_AUGMENT_FILL = [124, 116, 104] as const;

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

function mapLut(img: U8, luts: (number[] | Uint8Array)[]): U8 {
  const out = new Uint8Array(img.data.length);
  const C = img.channels;
  for (let i = 0; i < out.length; i++) out[i] = luts[i % C]![img.data[i]!]!;
  return { ...img, data: out };
}

function histograms(img: U8): Float64Array[] {
  const h = Array.from({ length: img.channels }, () => new Float64Array(256));
  for (let i = 0; i < img.data.length; i++) h[i % img.channels]![img.data[i]!]!++;
  return h;
}

/** PIL ImageOps.autocontrast(cutoff 0): per band, stretch [min, max] to [0, 255] (int truncation). */
export function autoContrast(img: U8): U8 {
  return mapLut(img, histograms(img).map((h) => {
    let lo = 0, hi = 255;
    while (lo < 256 && h[lo] === 0) lo++;
    while (hi >= 0 && h[hi] === 0) hi--;
    if (hi <= lo) return Array.from({ length: 256 }, (_, i) => i);
    const scale = 255 / (hi - lo), offset = -lo * scale;
    return Array.from({ length: 256 }, (_, i) => clip8(Math.trunc(i * scale + offset)));
  }));
}

/** PIL ImageOps.equalize. */
export function equalize(img: U8): U8 {
  return mapLut(img, histograms(img).map((h) => {
    let last = 255;
    while (last > 0 && h[last] === 0) last--;
    let total = 0;
    for (const v of h) total += v;
    const step = Math.floor((total - h[last]!) / 255);
    if (step === 0) return Array.from({ length: 256 }, (_, i) => i);
    const lut: number[] = [];
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut.push(Math.min(255, Math.floor(n / step)));
      n += h[i]!;
    }
    return lut;
  }));
}

export const invert = (img: U8): U8 => ({ ...img, data: img.data.map((v) => 255 - v) });

/** Keep the top `bits` bits (bits >= 8: unchanged). */
export function posterize(img: U8, bits: number): U8 {
  if (bits >= 8) return img;
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return { ...img, data: img.data.map((v) => v & mask) };
}

/** Pixels >= threshold are inverted. */
export const solarizeU8 = (img: U8, threshold: number): U8 => ({ ...img, data: img.data.map((v) => (v >= threshold ? 255 - v : v)) });

/** Pixels < threshold get `add` (clipped at 255). */
export const solarizeAdd = (img: U8, add: number, threshold = 128): U8 => ({ ...img, data: img.data.map((v) => (v < threshold ? Math.min(255, v + add) : v)) });

/** PIL Image.blend(degenerate, img, factor): trunc(d + factor (x - d)), clipped. */
function blend(degenerate: Uint8Array | number, img: U8, factor: number): U8 {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const d = typeof degenerate === 'number' ? degenerate : degenerate[i]!;
    out[i] = clip8(Math.trunc(d + factor * (img.data[i]! - d)));
  }
  return { ...img, data: out };
}

/** PIL "L" conversion: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
function luma(img: U8): Uint8Array {
  const n = img.height * img.width;
  const L = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const i = p * 3;
    L[p] = (img.data[i]! * 19595 + img.data[i + 1]! * 38470 + img.data[i + 2]! * 7471 + 0x8000) >> 16;
  }
  return L;
}

/** ImageEnhance.Color. */
export function enhanceColor(img: U8, factor: number): U8 {
  const L = luma(img);
  const d = new Uint8Array(img.data.length);
  for (let p = 0; p < L.length; p++) d[3 * p] = d[3 * p + 1] = d[3 * p + 2] = L[p]!;
  return blend(d, img, factor);
}

/** ImageEnhance.Contrast: blend with the mean grey level (int(mean + 0.5)). */
export function enhanceContrast(img: U8, factor: number): U8 {
  const L = luma(img);
  let s = 0;
  for (const v of L) s += v;
  return blend(Math.trunc(s / L.length + 0.5), img, factor);
}

/** ImageEnhance.Brightness: blend with black. */
export const enhanceBrightness = (img: U8, factor: number): U8 => blend(0, img, factor);

/** ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3x3 [1 1 1; 1 5 1; 1 1 1] / 13, border kept). */
export function enhanceSharpness(img: U8, factor: number): U8 {
  const { height: H, width: W, channels: C } = img;
  const d = Uint8Array.from(img.data);
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += img.data[((y + dy) * W + x + dx) * C + c]! * (dx === 0 && dy === 0 ? 5 : 1);
        d[(y * W + x) * C + c] = clip8(Math.round(s / 13));
      }
    }
  }
  return blend(d, img, factor);
}

/** PIL's bicubic (a = -1) weights of the 4 taps at fraction t. */
function cubicWeights(t: number): [number, number, number, number] {
  // v = v2 + t(-v1 + v3) + t^2(2v1 - 2v2 + v3 - v4) + t^3(-v1 + v2 - v3 + v4)
  const t2 = t * t, t3 = t2 * t;
  return [-t + 2 * t2 - t3, 1 - 2 * t2 + t3, t + t2 - t3, -t2 + t3];
}

/**
 * PIL Image.transform(size, AFFINE, (a, b, c, d, e, f), BICUBIC, fillcolor): output pixel (x, y) samples the input
 * at (a (x + .5) + b (y + .5) + c, d (x + .5) + e (y + .5) + f); outside the input: the fill colour.
 */
export function affine(img: U8, m: readonly [number, number, number, number, number, number], fill: readonly number[] = RAND_AUGMENT_FILL): U8 {
  const { height: H, width: W, channels: C } = img;
  const out = new Uint8Array(img.data.length);
  const clampX = (v: number) => (v < 0 ? 0 : v >= W ? W - 1 : v);
  const clampY = (v: number) => (v < 0 ? 0 : v >= H ? H - 1 : v);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * C;
      let xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      let yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (xin < 0 || xin >= W || yin < 0 || yin >= H) {
        for (let c = 0; c < C; c++) out[o + c] = fill[c] ?? 0;
        continue;
      }
      xin -= 0.5;
      yin -= 0.5;
      const x0 = Math.floor(xin), y0 = Math.floor(yin);
      const wx = cubicWeights(xin - x0), wy = cubicWeights(yin - y0);
      for (let c = 0; c < C; c++) {
        let v = 0;
        for (let j = 0; j < 4; j++) {
          const row = clampY(y0 - 1 + j) * W;
          let r = 0;
          for (let i = 0; i < 4; i++) r += wx[i]! * img.data[(row + clampX(x0 - 1 + i)) * C + c]!;
          v += wy[j]! * r;
        }
        out[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v + 0.5);
      }
    }
  }
  return { ...img, data: out };
}

/** PIL Image.rotate(degrees) about the centre, bicubic, with fill (counter-clockwise for positive degrees). */
export function rotateU8(img: U8, degrees: number, fill: readonly number[] = RAND_AUGMENT_FILL): U8 {
  const a = -((((degrees % 360) + 360) % 360) * Math.PI) / 180;
  const r15 = (v: number) => Math.round(v * 1e15) / 1e15;
  const cos = r15(Math.cos(a)), sin = r15(Math.sin(a));
  const cx = img.width / 2, cy = img.height / 2;
  // input = R (out - centre) + centre
  return affine(img, [cos, sin, cos * -cx + sin * -cy + cx, -sin, cos, -sin * -cx + cos * -cy + cy], fill);
}

export const RAND_AUGMENT_INCREASING_OPS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing',
  'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
] as const;
export const RAND_AUGMENT_OPS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast', 'Brightness', 'Sharpness',
  'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
] as const;
export type RandAugmentOp = (typeof RAND_AUGMENT_INCREASING_OPS)[number] | (typeof RAND_AUGMENT_OPS)[number];

/** Applies one op at `magnitude` (0..10); `negate` flips the sign of signed ops (timm's _randomly_negate). */
export function applyRandAugmentOp(img: U8, op: RandAugmentOp, magnitude: number, negate = false, translatePct = 0.45): U8 {
  const lv = magnitude / 10;
  const sgn = negate ? -1 : 1;
  const enh = (inc: boolean) => (inc ? 1 + sgn * lv * 0.9 : lv * 1.8 + 0.1);
  switch (op) {
    case 'AutoContrast': return autoContrast(img);
    case 'Equalize': return equalize(img);
    case 'Invert': return invert(img);
    case 'Rotate': return rotateU8(img, sgn * lv * 30);
    case 'Posterize': return posterize(img, Math.trunc(lv * 4));
    case 'PosterizeIncreasing': return posterize(img, 4 - Math.trunc(lv * 4));
    case 'Solarize': return solarizeU8(img, Math.trunc(lv * 256));
    case 'SolarizeIncreasing': return solarizeU8(img, 256 - Math.trunc(lv * 256));
    case 'SolarizeAdd': return solarizeAdd(img, Math.trunc(lv * 110));
    case 'Color': case 'ColorIncreasing': return enhanceColor(img, enh(op === 'ColorIncreasing'));
    case 'Contrast': case 'ContrastIncreasing': return enhanceContrast(img, enh(op === 'ContrastIncreasing'));
    case 'Brightness': case 'BrightnessIncreasing': return enhanceBrightness(img, enh(op === 'BrightnessIncreasing'));
    case 'Sharpness': case 'SharpnessIncreasing': return enhanceSharpness(img, enh(op === 'SharpnessIncreasing'));
    case 'ShearX': return affine(img, [1, sgn * lv * 0.3, 0, 0, 1, 0]);
    case 'ShearY': return affine(img, [1, 0, 0, sgn * lv * 0.3, 1, 0]);
    case 'TranslateXRel': return affine(img, [1, 0, sgn * lv * translatePct * img.width, 0, 1, 0]);
    case 'TranslateYRel': return affine(img, [1, 0, 0, 0, 1, sgn * lv * translatePct * img.height]);
  }
}

const SIGNED = new Set<string>(['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing']);

export interface RandAugmentConfig {
  magnitude: number;
  numOps: number;
  magnitudeStd: number;
  magnitudeMax: number;
  increasing: boolean;
  prob: number;
}

/** Parses timm's `rand-m9-mstd0.5-inc1` style string. */
export function parseRandAugment(spec: string): RandAugmentConfig {
  const parts = spec.split('-');
  if (parts[0] !== 'rand') throw new CmidError('config', `RandAugment "${spec}": expected a string starting with "rand-", e.g. rand-m9-mstd0.5-inc1.`);
  const c: RandAugmentConfig = { magnitude: 10, numOps: 2, magnitudeStd: 0, magnitudeMax: 10, increasing: false, prob: 0.5 };
  for (const p of parts.slice(1)) {
    const m = /^([a-z]+)([0-9.]+|inf)$/.exec(p);
    if (m === null) throw new CmidError('config', `RandAugment "${spec}": cannot read "${p}".`);
    const v = m[2] === 'inf' ? Infinity : Number(m[2]);
    if (m[1] === 'm') c.magnitude = v;
    else if (m[1] === 'n') c.numOps = v;
    else if (m[1] === 'mstd') c.magnitudeStd = v;
    else if (m[1] === 'mmax') c.magnitudeMax = v;
    else if (m[1] === 'inc') c.increasing = v !== 0;
    else if (m[1] === 'p') c.prob = v;
    else throw new CmidError('config', `RandAugment "${spec}": unknown key "${m[1]}" (known: m, n, mstd, mmax, inc, p).`);
  }
  return c;
}

/** One RandAugment draw on an 8-bit RGB image; also returns which ops ran (for logs and tests). */
export function randAugmentWithOps(img: U8, rng: Rng, spec: string | RandAugmentConfig): { image: U8; applied: { op: RandAugmentOp; magnitude: number; negate: boolean }[] } {
  if (!(img.data instanceof Uint8Array) || img.channels !== 3) throw new CmidError('input', `randAugment: needs an 8-bit RGB image (its ops are defined on 8-bit colour), got ${img.channels} band(s) of ${img.data.constructor.name}.`);
  const c = typeof spec === 'string' ? parseRandAugment(spec) : spec;
  const ops = c.increasing ? RAND_AUGMENT_INCREASING_OPS : RAND_AUGMENT_OPS;
  const chosen = Array.from({ length: c.numOps }, () => ops[rng.int(0, ops.length)]!);
  let x = img;
  const applied: { op: RandAugmentOp; magnitude: number; negate: boolean }[] = [];
  for (const op of chosen) {
    if (c.prob < 1 && rng.next() > c.prob) continue;
    let m = c.magnitude;
    if (c.magnitudeStd === Infinity) m = rng.uniform(0, m);
    else if (c.magnitudeStd > 0) m = rng.normal(m, c.magnitudeStd);
    m = Math.min(c.magnitudeMax, Math.max(0, m));
    const negate = SIGNED.has(op) && rng.next() < 0.5;
    x = applyRandAugmentOp(x, op, m, negate);
    applied.push({ op, magnitude: m, negate });
  }
  return { image: x, applied };
}

export function randAugment(img: U8, rng: Rng, spec: string | RandAugmentConfig): U8 {
  return randAugmentWithOps(img, rng, spec).image;
}

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyRandAugmentOp, parseRandAugment, randAugmentWithOps, RAND_AUGMENT_INCREASING_OPS, Rng, type Image } from '../../src/index.js';

const PY = '/usr/bin/python3';
const pilAvailable = spawnSync(PY, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
const need = process.env.CMID_REQUIRE_TORCH === '1';

/** A smooth 8-bit RGB test image with texture (not pure noise, so filters and resampling see structure). */
function testImage(H = 36, W = 44): Image<Uint8Array> {
  const rng = new Rng(5);
  const data = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(60 + 40 * c + 50 * Math.sin(x / 5 + c) + 40 * Math.cos(y / 4) + rng.uniform(-20, 20))));
  return { data, height: H, width: W, channels: 3 };
}

/** The same op in PIL 9, the way timm 0.6.12 calls it (ops given as Python expressions on `img` and `v`). */
function pil(img: Image<Uint8Array>, expr: string): Uint8Array {
  const code = `
import sys
from PIL import Image, ImageOps, ImageEnhance
raw = sys.stdin.buffer.read()
img = Image.frombytes('RGB', (${img.width}, ${img.height}), raw)
fill = (124, 116, 104)
out = ${expr}
sys.stdout.buffer.write(out.tobytes())
`;
  const r = spawnSync(PY, ['-c', code], { input: Buffer.from(img.data), maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(r.stdout);
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.skipIf(!pilAvailable && !need)('RandAugment ops against PIL 9 (timm 0.6.12 semantics)', () => {
  const img = testImage();
  const m = 9, lv = m / 10;
  const AFF = 'Image.AFFINE, ';
  const cases: [string, boolean, string, number][] = [
    ['AutoContrast', false, 'ImageOps.autocontrast(img)', 0],
    ['Equalize', false, 'ImageOps.equalize(img)', 0],
    ['Invert', false, 'ImageOps.invert(img)', 0],
    ['PosterizeIncreasing', false, `ImageOps.posterize(img, ${4 - Math.trunc(lv * 4)})`, 0],
    ['SolarizeIncreasing', false, `ImageOps.solarize(img, ${256 - Math.trunc(lv * 256)})`, 0],
    ['SolarizeAdd', false, `Image.eval(img, lambda p: min(255, p + ${Math.trunc(lv * 110)}) if p < 128 else p)`, 0],
    ['ColorIncreasing', true, `ImageEnhance.Color(img).enhance(${1 - lv * 0.9})`, 1],
    ['ContrastIncreasing', false, `ImageEnhance.Contrast(img).enhance(${1 + lv * 0.9})`, 1],
    ['BrightnessIncreasing', false, `ImageEnhance.Brightness(img).enhance(${1 + lv * 0.9})`, 1],
    ['SharpnessIncreasing', true, `ImageEnhance.Sharpness(img).enhance(${1 - lv * 0.9})`, 1],
    ['Rotate', false, `img.rotate(${lv * 30}, resample=Image.BICUBIC, fillcolor=fill)`, 2],
    ['ShearX', true, `img.transform(img.size, ${AFF}(1, ${-lv * 0.3}, 0, 0, 1, 0), resample=Image.BICUBIC, fillcolor=fill)`, 2],
    ['ShearY', false, `img.transform(img.size, ${AFF}(1, 0, 0, ${lv * 0.3}, 1, 0), resample=Image.BICUBIC, fillcolor=fill)`, 2],
    ['TranslateXRel', false, `img.transform(img.size, ${AFF}(1, 0, ${lv * 0.45 * img.width}, 0, 1, 0), resample=Image.BICUBIC, fillcolor=fill)`, 2],
    ['TranslateYRel', true, `img.transform(img.size, ${AFF}(1, 0, 0, 0, 1, ${-lv * 0.45 * img.height}), resample=Image.BICUBIC, fillcolor=fill)`, 2],
  ];
  it.each(cases)('%s (negated: %s) matches PIL', (op, negate, expr, tol) => {
    const ours = applyRandAugmentOp(img, op as (typeof RAND_AUGMENT_INCREASING_OPS)[number], m, negate).data;
    const ref = pil(img, expr);
    expect(ours.length).toBe(ref.length);
    expect(maxDiff(ours, ref)).toBeLessThanOrEqual(tol);
  });
});

describe('RandAugment policy', () => {
  it('parses timm strings and rejects bad ones', () => {
    expect(parseRandAugment('rand-m9-mstd0.5-inc1')).toEqual({ magnitude: 9, numOps: 2, magnitudeStd: 0.5, magnitudeMax: 10, increasing: true, prob: 0.5 });
    expect(parseRandAugment('rand-n3-m5-p1').numOps).toBe(3);
    expect(() => parseRandAugment('auto-m9')).toThrow(/rand-/);
    expect(() => parseRandAugment('rand-q3')).toThrow(/unknown key "q"/);
  });

  it('draws 2 ops with replacement from the 15, each applied with probability 0.5, magnitudes N(9, 0.5) in [0, 10]', () => {
    const img = testImage(16, 16);
    const rng = new Rng(1);
    const counts = new Map<string, number>();
    const mags: number[] = [];
    let none = 0;
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const r = randAugmentWithOps(img, rng, 'rand-m9-mstd0.5-inc1');
      if (r.applied.length === 0) none++;
      for (const a of r.applied) {
        counts.set(a.op, (counts.get(a.op) ?? 0) + 1);
        mags.push(a.magnitude);
      }
    }
    expect(none / N).toBeGreaterThan(0.22);
    expect(none / N).toBeLessThan(0.28); // 0.5^2
    expect(mags.length / N).toBeCloseTo(1, 1); // 2 x 0.5 ops per image
    expect(counts.size).toBe(15);
    for (const c of counts.values()) expect(c / mags.length).toBeGreaterThan(1 / 15 - 0.02);
    const mean = mags.reduce((a, b) => a + b, 0) / mags.length;
    const sd = Math.sqrt(mags.reduce((a, b) => a + (b - mean) ** 2, 0) / mags.length);
    expect(mean).toBeCloseTo(9, 1);
    expect(sd).toBeGreaterThan(0.4);
    expect(sd).toBeLessThan(0.6);
    expect(Math.max(...mags)).toBeLessThanOrEqual(10);
    // seeded: the same Rng state gives the same image
    const a = randAugmentWithOps(img, new Rng(9), 'rand-m9-mstd0.5-inc1').image.data;
    const b = randAugmentWithOps(img, new Rng(9), 'rand-m9-mstd0.5-inc1').image.data;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('refuses non-8-bit or non-RGB images with a clear error', () => {
    expect(() => randAugmentWithOps({ data: new Float32Array(12), height: 2, width: 2, channels: 3 } as never, new Rng(0), 'rand-m9')).toThrow(/8-bit RGB/);
  });
});

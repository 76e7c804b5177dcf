import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { runTorch } from '../../src/testing/torch-oracle.js';
import { gaussianBlur, gaussianKernel1d, randomGaussianBlur, sampleCmidBlurParams } from '../../src/transforms/gaussian-blur.js';
import { diffStats, f32, itOracle, synthImage } from './helpers.js';

const img = synthImage(29, 43, 3, 5);
const CASES: Array<[number, number]> = [[3, 0.1], [3, 1.2], [5, 0.7], [7, 2.0], [23, 1.5], [9, 3.3]];

/** Direct 2-D convolution in float64 with reflect-101 borders (the definition the separable code must match). */
function direct(src: ArrayLike<number>, H: number, W: number, C: number, k: number, sigma: number): Float64Array {
  const w = gaussianKernel1d(k, sigma);
  const r = (k - 1) / 2;
  const refl = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Float64Array(H * W * C);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    let s = 0;
    for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) s += w[i + r]! * w[j + r]! * src[(refl(y + i, H) * W + refl(x + j, W)) * C + c]!;
    out[(y * W + x) * C + c] = s;
  }
  return out;
}

describe('gaussianBlur', () => {
  itOracle('torchvision gaussian_blur on uint8 and float tensors, x=[29,43,3], k in {3,5,7,9,23}: float within 1e-3, uint8 within 1 level at < 0.5% of pixels', () => {
    const out = runTorch(
      `
import torchvision.transforms.functional as F
x = inputs['x']
for i, (k, s) in enumerate(${JSON.stringify(CASES)}):
    outputs[f'u{i}'] = F.gaussian_blur(x.to(torch.uint8).permute(2, 0, 1), [k, k], [s, s]).permute(1, 2, 0)
    outputs[f'f{i}'] = F.gaussian_blur(x.permute(2, 0, 1), [k, k], [s, s]).permute(1, 2, 0)
`,
      { x: { data: f32(img.data), shape: [29, 43, 3] } },
    );
    const fimg = { ...img, data: f32(img.data) };
    CASES.forEach(([k, s], i) => {
      expect(diffStats(gaussianBlur(fimg, { kernelSize: k, sigma: s }).data, out[`f${i}`]!.data).maxDiff, `float k=${k} s=${s}`).toBeLessThan(1e-3);
      // torch convolves with the 2-D outer-product kernel in float32, we separably: rounding ties may flip by 1.
      const u = diffStats(gaussianBlur(img, { kernelSize: k, sigma: s }).data, out[`u${i}`]!.data);
      expect(u.maxDiff, `uint8 k=${k} s=${s}`).toBeLessThanOrEqual(1);
      expect(u.mismatches, `uint8 k=${k} s=${s}`).toBeLessThan(0.005 * img.data.length);
    });
  });

  it('equals a direct float64 2-D reflect-101 convolution (x=[9,12,2] k=7 with a kernel wider than the image half, and 13 bands k=5)', () => {
    const small = { ...synthImage(9, 12, 2, 1) };
    const fs = { ...small, data: f32(small.data) };
    expect(diffStats(gaussianBlur(fs, { kernelSize: 7, sigma: 1.7 }).data, direct(small.data, 9, 12, 2, 7, 1.7)).maxDiff).toBeLessThan(1e-3);
    const ms = synthImage(11, 8, 13, 2);
    const got = gaussianBlur(ms, { kernelSize: 5, sigma: 0.9 });
    const ref = direct(ms.data, 11, 8, 13, 5, 0.9);
    expect(diffStats(got.data, Array.from(ref, (v) => Math.min(255, Math.max(0, Math.round(v))))).maxDiff).toBeLessThanOrEqual(1);
  });

  it('a constant image is unchanged; blurring in place equals blurring to a new image', () => {
    const flat = { data: new Uint8Array(6 * 7 * 3).fill(200), height: 6, width: 7, channels: 3 };
    expect(new Set(gaussianBlur(flat, { kernelSize: 7, sigma: 2 }).data)).toEqual(new Set([200]));
    const ref = gaussianBlur(img, { kernelSize: 5, sigma: 1.1 });
    const copy = { ...img, data: img.data.slice() };
    gaussianBlur(copy, { kernelSize: 5, sigma: 1.1 }, copy);
    expect(diffStats(copy.data, ref.data).mismatches).toBe(0);
  });

  it("CMID's rule over 10000 draws: kernel 3/5/7 with frequencies 1/5, 2/5, 2/5 and sigma in [0.1, 2) covering the range", () => {
    const rng = new Rng(8);
    const counts = new Map<number, number>();
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < 10000; i++) {
      const p = sampleCmidBlurParams(rng);
      counts.set(p.kernelSize, (counts.get(p.kernelSize) ?? 0) + 1);
      lo = Math.min(lo, p.sigma);
      hi = Math.max(hi, p.sigma);
    }
    expect([...counts.keys()].sort()).toEqual([3, 5, 7]);
    expect(Math.abs(counts.get(3)! / 10000 - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(counts.get(5)! / 10000 - 0.4)).toBeLessThan(0.02);
    expect(Math.abs(counts.get(7)! / 10000 - 0.4)).toBeLessThan(0.02);
    expect(lo).toBeGreaterThanOrEqual(0.1);
    expect(hi).toBeLessThan(2);
    expect(lo).toBeLessThan(0.11);
    expect(hi).toBeGreaterThan(1.99);
  });

  it('randomGaussianBlur: p respected (0.5 over 2000), fixed kernel 23 kept, auto kernel = 2 ceil(3 sigma) + 1', () => {
    const rng = new Rng(2);
    const tiny = synthImage(3, 3, 1, 0);
    let k = 0;
    for (let i = 0; i < 2000; i++) {
      const r = randomGaussianBlur(tiny, rng, { p: 0.5, kernelSize: 23 });
      if (r.params) {
        k++;
        expect(r.params.kernelSize).toBe(23);
      }
    }
    expect(Math.abs(k / 2000 - 0.5)).toBeLessThan(0.04);
    const a = randomGaussianBlur(tiny, rng, { kernelSize: 'auto' }).params!;
    expect(a.kernelSize).toBe(2 * Math.ceil(3 * a.sigma) + 1);
  });
});

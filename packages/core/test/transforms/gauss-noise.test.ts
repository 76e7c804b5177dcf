import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { addGaussNoise, fillStandardNormal, gaussNoise } from '../../src/transforms/gauss-noise.js';
import { diffStats, f32, synthImage } from './helpers.js';

describe('Gauss noise (cmid.md §6.2 step 5)', () => {
  it('the ziggurat normals (n=400k): mean 0, variance 1, kurtosis 3, tails P(|z|>2)=4.55%, P(|z|>3.5)=0.0465%, P(z>0)=0.5', () => {
    const n = 400_000;
    const z = new Float64Array(n);
    fillStandardNormal(new Rng(1), z);
    let s = 0, s2 = 0, s4 = 0, t2 = 0, t35 = 0, pos = 0;
    for (const v of z) {
      s += v;
      s2 += v * v;
      s4 += v ** 4;
      if (Math.abs(v) > 2) t2++;
      if (Math.abs(v) > 3.5) t35++;
      if (v > 0) pos++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.008); // sd 0.0016
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.012); // sd 0.0022
    expect(Math.abs(s4 / n / (s2 / n) ** 2 - 3)).toBeLessThan(0.05); // sd ~0.008
    expect(Math.abs(t2 / n - 0.0455)).toBeLessThan(0.0015); // sd 0.00033
    expect(Math.abs(t35 / n - 0.000465)).toBeLessThan(0.00018); // sd 0.000034; exercises the tail path
    expect(Math.abs(pos / n - 0.5)).toBeLessThan(0.004);
  });

  it('uint8: noise added in float, clipped to [0,255] and TRUNCATED (mid-gray 100 -> mean 99.5, sd ~ sigma)', () => {
    const flat = { data: new Uint8Array(200 * 200).fill(100), height: 200, width: 200, channels: 1 };
    const sigma = 5;
    const out = addGaussNoise(flat, new Rng(3), sigma);
    let s = 0, s2 = 0;
    for (const v of out.data) {
      s += v;
      s2 += v * v;
    }
    const n = out.data.length, mean = s / n;
    expect(Math.abs(mean - 99.5)).toBeLessThan(0.06); // truncation lowers the mean by ~0.5
    expect(Math.abs(Math.sqrt(s2 / n - mean * mean) - Math.sqrt(sigma ** 2 + 1 / 12))).toBeLessThan(0.06);
    const dark = addGaussNoise({ ...flat, data: new Uint8Array(flat.data.length).fill(1) }, new Rng(4), 7);
    expect(Math.min(...dark.data)).toBe(0); // clipped, not wrapped around to 255
    expect(Math.max(...dark.data)).toBeLessThan(40);
  });

  it('uint8 tails (1000x1000 at 128, sigma 1): P(z < -3) and P(z >= 3) = 0.135 % each, through the ziggurat slow path', () => {
    const img = { data: new Uint8Array(1_000_000).fill(128), height: 1000, width: 1000, channels: 1 };
    const out = addGaussNoise(img, new Rng(6), 1);
    let lo = 0, hi = 0;
    for (const v of out.data) {
      if (v <= 124) lo++; // trunc(128 + z) <= 124  <=>  z < -3
      if (v >= 131) hi++; // z >= 3
    }
    expect(Math.abs(lo - 1350)).toBeLessThan(180); // sd ~37
    expect(Math.abs(hi - 1350)).toBeLessThan(180);
  });

  it('gaussNoise: p = 0.6 over 3000 draws, variance drawn in [10, 50), same seed same noise, float images get unclipped noise', () => {
    const rng = new Rng(5);
    const tiny = synthImage(2, 2, 3, 0);
    let k = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < 3000; i++) {
      const r = gaussNoise(tiny, rng, { p: 0.6 });
      if (r.sigma === undefined) continue;
      k++;
      lo = Math.min(lo, r.sigma ** 2);
      hi = Math.max(hi, r.sigma ** 2);
    }
    expect(Math.abs(k / 3000 - 0.6)).toBeLessThan(0.03);
    expect(lo).toBeGreaterThanOrEqual(10);
    expect(hi).toBeLessThan(50);
    expect(hi - lo).toBeGreaterThan(39);
    const img = synthImage(16, 16, 13, 1);
    expect(diffStats(gaussNoise(img, new Rng(9)).image.data, gaussNoise(img, new Rng(9)).image.data).mismatches).toBe(0);
    const fimg = { data: new Float32Array(10000), height: 100, width: 100, channels: 1 };
    const fo = addGaussNoise(fimg, new Rng(1), 2);
    expect(Math.min(...fo.data)).toBeLessThan(-5);
  });
});

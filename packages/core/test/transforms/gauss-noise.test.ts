import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { addGaussNoise, fillStandardNormal, gaussNoise } from '../../src/transforms/gauss-noise.js';
import { noiseSlowPath } from '../../src/transforms/wasm/augment-wasm.js';
import { diffStats, f32, synthImage } from './helpers.js';

// ---- An independent JS reference of the uint8 noise path: one Rng word per value drawn with nextU32 in index order,
// the ziggurat fast path in float32 (Math.fround after every operation, as the wasm lanes), then the values that
// need the slow path (wedges and tail), in index order, in float64 with further draws.
const ZR = 3.442619855899;
const KN = new Float64Array(128), WN = new Float64Array(128), FN = new Float64Array(128);
{
  const M1 = 16777216, vn = 9.91256303526217e-3;
  let dn = ZR, tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * M1);
  KN[1] = 0;
  WN[0] = q / M1;
  WN[127] = dn / M1;
  FN[0] = 1;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * M1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / M1;
  }
}
const fr = Math.fround;

function refSlow(rng: Rng, hz: number, iz: number, stats: { tail: number }): number {
  for (;;) {
    const x = hz * WN[iz]!;
    if (iz === 0) {
      stats.tail++;
      let t: number, y: number;
      do {
        t = -Math.log(1 - rng.next()) / ZR;
        y = -Math.log(1 - rng.next());
      } while (y + y < t * t);
      return hz > 0 ? ZR + t : -ZR - t;
    }
    if (FN[iz]! + rng.next() * (FN[iz - 1]! - FN[iz]!) < Math.exp(-0.5 * x * x)) return x;
    const u = rng.nextU32();
    iz = u & 127;
    hz = (u | 0) >> 7;
    if (Math.abs(hz) < KN[iz]!) return hz * WN[iz]!;
  }
}

function refNoiseU8(src: Uint8Array, rng: Rng, sigma: number, mean: number): { out: Uint8Array; slow: number[]; tail: number } {
  const n = src.length;
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = rng.nextU32();
  const S = fr(sigma), M = fr(mean);
  const out = new Uint8Array(n);
  const slow: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = words[i]!, iz = u & 127, hz = (u | 0) >> 7;
    if (!(Math.abs(hz) < KN[iz]!)) {
      slow.push(i);
      continue;
    }
    const x = fr(fr(src[i]! + M) + fr(S * fr(hz * fr(WN[iz]!))));
    out[i] = x <= 0 ? 0 : x >= 255 ? 255 : Math.trunc(x);
  }
  const stats = { tail: 0 };
  for (const i of slow) {
    const u = words[i]!;
    const v = src[i]! + mean + sigma * refSlow(rng, (u | 0) >> 7, u & 127, stats);
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return { out, slow, tail: stats.tail };
}

function noiseSrc(n: number, seed: number): Uint8Array {
  const r = new Rng(seed + 1000);
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = i % 7 === 0 ? (i % 2) * 255 : r.int(0, 256); // some 0 and 255 (clipping)
  return d;
}

describe('Gauss noise (cmid.md §6.2 step 5)', () => {
  it.each([
    ['default margin', 1e-12],
    ['slow path all in TS (margin Infinity)', Infinity],
    ['slow path all in wasm (margin 0)', 0],
  ])('uint8 (wasm, words drawn in wasm), %s: bit-identical to the JS reference, and the Rng continues where n nextU32 + the slow path leave it', (_, margin) => {
    const saved = noiseSlowPath.margin;
    noiseSlowPath.margin = margin;
    try {
      checkNoiseAgainstReference();
    } finally {
      noiseSlowPath.margin = saved;
    }
  });

  function checkNoiseAgainstReference(): void {
    let slowInTail = 0, tails = 0, slowTotal = 0;
    const sizes = [1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 47, 1001, 4095, 4096, 4099, 8192 + 4096 + 5, 150_528];
    for (const n of sizes) {
      for (let seed = 0; seed < (n < 100 ? 60 : 3); seed++) {
        const src = noiseSrc(n, seed);
        const sigma = [0, 0.7, 1, Math.sqrt(10), Math.sqrt(49.9)][seed % 5]!;
        const mean = seed % 3 === 2 ? -2.5 : 0;
        const a = new Rng(seed), b = new Rng(seed);
        a.normal();
        b.normal(); // a cached spare must survive the wasm round trip of the state
        const got = addGaussNoise({ data: src, height: 1, width: n, channels: 1 }, a, sigma, mean).data;
        const ref = refNoiseU8(src, b, sigma, mean);
        expect(diffStats(got, ref.out), `n=${n} seed=${seed} sigma=${sigma}`).toEqual({ mismatches: 0, maxDiff: 0 });
        expect(a.getState(), `n=${n} seed=${seed}`).toEqual(b.getState());
        expect(a.normal()).toBe(b.normal());
        slowTotal += ref.slow.length;
        tails += ref.tail;
        slowInTail += ref.slow.filter((i) => i >= n - (n % 16)).length; // the kernel's scalar remainder loop
      }
    }
    // one big image: ~28k slow-path values, ~550 of them in the tail (layer 0)
    const big = noiseSrc(1_000_003, 7);
    const a = new Rng(99), b = new Rng(99);
    const ref = refNoiseU8(big, b, 1, 0);
    expect(diffStats(addGaussNoise({ data: big, height: 1, width: big.length, channels: 1 }, a, 1).data, ref.out).mismatches).toBe(0);
    expect(a.getState()).toEqual(b.getState());
    tails += ref.tail;
    slowTotal += ref.slow.length;
    expect(slowTotal).toBeGreaterThan(25_000);
    expect(tails).toBeGreaterThan(400);
    expect(slowInTail).toBeGreaterThan(10);
  }

  it('uint8 RGB in place (out = img) equals the out-of-place result', () => {
    const img = synthImage(37, 29, 3, 4);
    const ref = addGaussNoise(img, new Rng(2), 4.2);
    const copy = { ...img, data: img.data.slice() };
    expect(addGaussNoise(copy, new Rng(2), 4.2, 0, copy).data).toBe(copy.data);
    expect(diffStats(copy.data, ref.data).mismatches).toBe(0);
  });

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

import { describe, expect, it } from 'vitest';
import { knnClassify, linearProbe } from '../../src/metrics/index.js';
import { Rng } from '../../src/rng/rng.js';

/** Gaussian blobs: class c centred at a random unit vector times `sep`. */
function blobs(seed: number, n: number, d: number, classes: number, sep: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => rng.normal() * sep));
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[y[i]!]![j]! + rng.normal();
  }
  return { x, y };
}

describe('knnClassify', () => {
  it('matches a hand-computed weighted vote', () => {
    // train: (1,0) class 0, (0,1) class 1, (0.8,0.6) class 1; query (1,0.1), k = 2, T = 0.1
    const train = Float32Array.of(1, 0, 0, 1, 0.8, 0.6);
    const r = knnClassify(train, [0, 1, 1], Float32Array.of(1, 0.1), [0], 2, { k: 2, temperature: 0.1 });
    // cos sims: 0.995, 0.0995, 0.8557 -> k = 2 keeps train 0 (class 0) and 2 (class 1); exp(9.95) > exp(8.56)
    expect(r.predictions[0]).toBe(0);
    expect(r.top1).toBe(100);
    const r1 = knnClassify(train, [0, 1, 1], Float32Array.of(0.6, 0.8), [1], 2, { k: 3, temperature: 0.1 });
    expect(r1.predictions[0]).toBe(1);
  });

  it('euclidean mode uses 1 / (distance + 1e-5) as the weight', () => {
    const train = Float32Array.of(0, 0, 3, 0, 3.5, 0);
    // query at 1: weights 1/1 (class 0) vs 1/2 + 1/2.5 = 0.9 (class 1) -> class 0
    expect(knnClassify(train, [0, 1, 1], Float32Array.of(1, 0), [0], 2, { k: 3, distance: 'euclidean' }).predictions[0]).toBe(0);
    // query at 1.3: 1/1.3 = 0.769 vs 1/1.7 + 1/2.2 = 1.043 -> class 1
    expect(knnClassify(train, [0, 1, 1], Float32Array.of(1.3, 0), [1], 2, { k: 3, distance: 'euclidean' }).predictions[0]).toBe(1);
  });

  it('separates blobs and is at chance on shuffled labels', () => {
    const all = blobs(3, 300, 16, 4, 1.5);
    const good = knnClassify(all.x.slice(0, 200 * 16), all.y.slice(0, 200), all.x.slice(200 * 16), all.y.slice(200), 4);
    expect(good.top1).toBeGreaterThan(90);
    const shuffled = Int32Array.from(all.y.slice(0, 200), (_, i) => (i * 7 + 3) % 4);
    const bad = knnClassify(all.x.slice(0, 200 * 16), shuffled, all.x.slice(200 * 16), all.y.slice(200), 4);
    expect(bad.top1).toBeLessThan(45);
  });
});

describe('linearProbe', () => {
  it('fits linearly separable blobs and generalises', () => {
    const all = blobs(4, 400, 32, 5, 0.6);
    const r = linearProbe(all.x.slice(0, 300 * 32), all.y.slice(0, 300), all.x.slice(300 * 32), all.y.slice(300), 5);
    expect(r.trainTop1).toBeGreaterThan(95);
    expect(r.top1).toBeGreaterThan(85);
    expect(r.trainLoss).toBeLessThan(0.3);
  });

  it('stays near chance on noise', () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 300 * 8 }, () => rng.normal());
    const y = Int32Array.from({ length: 300 }, (_, i) => i % 3);
    const r = linearProbe(x.slice(0, 200 * 8), y.slice(0, 200), x.slice(200 * 8), y.slice(200), 3);
    expect(r.top1).toBeLessThan(55);
  });
});

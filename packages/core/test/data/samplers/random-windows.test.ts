/** randomWindows: inside, seeded, every position reachable, area-weighted choice of raster. */
import { describe, expect, it } from 'vitest';
import { randomWindows, randomWindowSamples } from '../../../src/data/samplers/random-windows.js';

describe('randomWindows', () => {
  it('1000 windows of 64 over 300x200: inside, first and last positions reached, same for the same seed', () => {
    const ws = randomWindows({ width: 300, height: 200 }, { size: 64, length: 1000, seed: 1 });
    expect(ws).toHaveLength(1000);
    expect(ws.every((w) => w.x >= 0 && w.y >= 0 && w.x + 64 <= 300 && w.y + 64 <= 200 && w.width === 64 && w.height === 64)).toBe(true);
    expect(Math.min(...ws.map((w) => w.x))).toBeLessThanOrEqual(2);
    expect(Math.max(...ws.map((w) => w.x))).toBeGreaterThanOrEqual(300 - 64 - 2);
    expect(randomWindows({ width: 300, height: 200 }, { size: 64, length: 1000, seed: 1 })).toEqual(ws);
    expect(randomWindows({ width: 300, height: 200 }, { size: 64, length: 1000, seed: 2 })).not.toEqual(ws);
    expect(randomWindows({ width: 300, height: 200 }, { size: 64, length: 1000, seed: 1, epoch: 1 })).not.toEqual(ws);
  });

  it('positions are uniform: mean x near (W - size) / 2', () => {
    const ws = randomWindows({ width: 1064, height: 64 }, { size: 64, length: 20000, seed: 3 });
    const mean = ws.reduce((s, w) => s + w.x, 0) / ws.length;
    expect(Math.abs(mean - 500)).toBeLessThan(10); // sd of the mean ~ 289/sqrt(20000) = 2
    expect(ws.every((w) => w.y === 0)).toBe(true); // only one row fits
  });

  it('a roi keeps windows inside it; a too-small region is an error naming the raster', () => {
    const ws = randomWindows({ width: 500, height: 500 }, { size: 32, length: 200, seed: 0, roi: { x: 100, y: 50, width: 64, height: 40 } });
    expect(ws.every((w) => w.x >= 100 && w.x + 32 <= 164 && w.y >= 50 && w.y + 32 <= 90)).toBe(true);
    expect(() => randomWindows({ width: 20, height: 500, path: 'thin.tif' }, { size: 32, length: 1, seed: 0 })).toThrow(/thin\.tif region is 20x500, smaller than the 32x32 window/);
  });
});

describe('randomWindowSamples over several rasters', () => {
  it('chooses rasters in proportion to area and never one smaller than the window', () => {
    const rasters = [
      { path: 'big.tif', width: 400, height: 300 },
      { path: 'small.tif', width: 200, height: 150 },
      { path: 'tiny.tif', width: 16, height: 16 },
    ];
    const s = randomWindowSamples(rasters, { size: 32, length: 10000, seed: 4 });
    const count = (p: string): number => s.filter((x) => x.path === p).length;
    expect(count('tiny.tif')).toBe(0);
    expect(count('big.tif') / count('small.tif')).toBeGreaterThan(3.6); // areas 4:1
    expect(count('big.tif') / count('small.tif')).toBeLessThan(4.4);
    for (const x of s) {
      const r = rasters.find((q) => q.path === x.path)!;
      expect(x.window.x + 32 <= r.width && x.window.y + 32 <= r.height).toBe(true);
    }
    expect(() => randomWindowSamples([rasters[2]!], { size: 32, length: 5, seed: 0 })).toThrow(/e\.g\. tiny\.tif is 16x16/);
  });
});

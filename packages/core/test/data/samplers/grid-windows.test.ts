/** gridWindows: coverage, windows inside the raster, torchgeo's window count, the three edge rules. */
import { describe, expect, it } from 'vitest';
import { gridWindows, gridWindowSamples } from '../../../src/data/samplers/grid-windows.js';
import type { PixelWindow } from '../../../src/io/georef.js';

/** How many windows cover each pixel of a W x H raster. */
function coverage(width: number, height: number, windows: PixelWindow[]): Uint16Array {
  const c = new Uint16Array(width * height);
  for (const w of windows) {
    for (let y = Math.max(0, w.y); y < Math.min(height, w.y + w.height); y++) {
      for (let x = Math.max(0, w.x); x < Math.min(width, w.x + w.width); x++) c[y * width + x]!++;
    }
  }
  return c;
}

const inside = (w: PixelWindow, W: number, H: number): boolean => w.x >= 0 && w.y >= 0 && w.x + w.width <= W && w.y + w.height <= H;

describe('gridWindows edge: shift (torchgeo GridGeoSampler)', () => {
  const cases: Array<[number, number, number, number]> = [
    [1000, 600, 512, 384], [512, 512, 512, 512], [513, 700, 128, 128], [300, 257, 64, 40], [97, 61, 32, 7], [100, 100, 30, 50],
  ];
  it.each(cases)('W=%i H=%i size=%i stride=%i: every pixel covered, all inside, count = (ceil((L-s)/t)+1)^2', (W, H, s, t) => {
    const ws = gridWindows({ width: W, height: H }, { size: s, stride: t });
    expect(ws.every((w) => inside(w, W, H) && w.width === s && w.height === s)).toBe(true);
    const c = coverage(W, H, ws);
    if (t <= s) expect(c.every((v) => v >= 1)).toBe(true);
    const n = (L: number): number => Math.ceil((L - s) / t) + 1;
    expect(ws).toHaveLength(n(W) * n(H));
    expect(new Set(ws.map((w) => `${w.x},${w.y}`)).size).toBe(ws.length); // no duplicates
    // the last column and row end exactly at the edge
    expect(Math.max(...ws.map((w) => w.x + w.width))).toBe(W);
    expect(Math.max(...ws.map((w) => w.y + w.height))).toBe(H);
  });

  it('1000x600 size 512 stride 384: x starts 0, 384, 488 and y starts 0, 88', () => {
    const ws = gridWindows({ width: 1000, height: 600 }, { size: 512, stride: 384 });
    expect([...new Set(ws.map((w) => w.x))]).toEqual([0, 384, 488]);
    expect([...new Set(ws.map((w) => w.y))]).toEqual([0, 88]);
  });

  it('non-square size and stride, and a roi', () => {
    const ws = gridWindows({ width: 50, height: 40 }, { size: { width: 20, height: 10 }, stride: { width: 20, height: 10 }, roi: { x: 5, y: 8, width: 45, height: 30 } });
    expect(ws.every((w) => w.x >= 5 && w.y >= 8 && w.x + w.width <= 50 && w.y + w.height <= 38)).toBe(true);
    const c = coverage(50, 40, ws);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 50; x++) expect(c[y * 50 + x]! >= 1).toBe(x >= 5 && y >= 8 && y < 38);
  });
});

describe('gridWindows edge: pad and drop', () => {
  it('pad: the extra window reaches past the edge and everything is covered; drop leaves the remainder out', () => {
    const pad = gridWindows({ width: 100, height: 70 }, { size: 32, edge: 'pad' });
    expect([...new Set(pad.map((w) => w.x))]).toEqual([0, 32, 64, 96]);
    expect(coverage(100, 70, pad).every((v) => v === 1)).toBe(true); // stride = size: exactly once
    const drop = gridWindows({ width: 100, height: 70 }, { size: 32, edge: 'drop' });
    expect(drop).toHaveLength(3 * 2);
    expect(drop.every((w) => inside(w, 100, 70))).toBe(true);
    const c = coverage(100, 70, drop);
    expect(c[69 * 100 + 99]).toBe(0);
  });

  it('a raster smaller than the window: none with shift/drop (torchgeo skips it), one padded with pad', () => {
    expect(gridWindows({ width: 20, height: 50 }, { size: 32 })).toEqual([]);
    expect(gridWindows({ width: 20, height: 50 }, { size: 32, edge: 'drop' })).toEqual([]);
    expect(gridWindows({ width: 20, height: 50 }, { size: 32, edge: 'pad' })).toEqual([
      { x: 0, y: 0, width: 32, height: 32 }, { x: 0, y: 32, width: 32, height: 32 },
    ]);
    const s = gridWindowSamples([{ path: 'a.tif', width: 20, height: 20 }, { path: 'b.tif', width: 64, height: 32 }], { size: 32 });
    expect(s).toEqual([{ path: 'b.tif', window: { x: 0, y: 0, width: 32, height: 32 } }, { path: 'b.tif', window: { x: 32, y: 0, width: 32, height: 32 } }]);
  });

  it('bad options are errors with the valid choice', () => {
    expect(() => gridWindows({ width: 10, height: 10 }, { size: 0 })).toThrow(/size must be a positive integer/);
    expect(() => gridWindows({ width: 10, height: 10 }, { size: 4, edge: 'wrap' as 'pad' })).toThrow(/valid: shift, pad, drop/);
    expect(() => gridWindows({ width: 10, height: 10, path: 'x.tif' }, { size: 4, roi: { x: 8, y: 0, width: 4, height: 4 } })).toThrow(/not inside x\.tif \(10x10\)/);
  });
});

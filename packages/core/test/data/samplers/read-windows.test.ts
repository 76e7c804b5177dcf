/**
 * Reading sampler windows from rasters: a large tiled GeoTIFF window by window (content and bounded memory),
 * through the loader's workers (stitching the grid gives the raster back), and on the shared real GeoTIFFs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gridWindows, gridWindowSamples, type WindowSample } from '../../../src/data/samplers/grid-windows.js';
import { randomWindows, randomWindowSamples } from '../../../src/data/samplers/random-windows.js';
import { READ_WINDOW_SAMPLE, readWindows } from '../../../src/data/samplers/read-windows.js';
import { DataLoader } from '../../../src/data/loader.js';
import { openRaster, readRaster } from '../../../src/io/read-raster.js';
import { writeGeoTiff } from '../../../src/io/write-geotiff.js';
import { HAVE_REAL, REAL, removeTempDirs, tempDir } from '../../io/helpers.js';

afterAll(removeTempDirs);

const value = (x: number, y: number): number => (x * 3 + y * 5) & 255;

/** Index of the first element where a and b differ (-1 when equal); much faster than toEqual on big arrays. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A gc() for measuring retained memory (V8 allows exposing it at run time). */
function getGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

describe('a 4096x4096 tiled GeoTIFF read window by window', () => {
  const N = 4096;
  let path: string;
  beforeAll(async () => {
    path = join(await tempDir('cmid-bigtif-'), 'big.tif');
    const data = new Uint8Array(N * N);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) data[y * N + x] = value(x, y);
    await writeGeoTiff(path, data, { width: N, height: N, bands: 1, tileSize: 256, deflateLevel: 1 });
  });

  it('64 grid windows of 512: every pixel read once with its value; retained memory stays flat', async () => {
    const gc = getGc();
    const r = await openRaster(path);
    expect([r.width, r.height, r.tileWidth]).toEqual([N, N, 256]);
    const seen = new Uint8Array(N * N);
    const retained: number[] = [];
    gc?.();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let bad = 0;
    let k = 0;
    if (gc === undefined) console.warn('read-windows test: no gc() available; the memory checks are skipped.');
    for await (const { window: w, image } of readWindows(r, gridWindows(r, { size: 512 }))) {
      for (let y = 0; y < w.height; y++) {
        for (let x = 0; x < w.width; x++) {
          if (image.data[y * w.width + x] !== value(w.x + x, w.y + y)) bad++;
          seen[(w.y + y) * N + w.x + x]!++;
        }
      }
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      if (gc !== undefined && k++ % 4 === 3) {
        gc();
        retained.push(process.memoryUsage().arrayBuffers - base);
      }
    }
    await r.close();
    expect(bad).toBe(0);
    expect(seen.every((v) => v === 1)).toBe(true);
    const full = N * N * 4; // the raster as float32: 64 MiB
    if (gc !== undefined) {
      // After a gc every 4 windows, what stays is the current window (1 MiB) and the decoder's cache; V8 frees
      // array buffers on a background thread, so a sample can still count some garbage: hence min and max.
      // Keeping the windows would leave >= 4 MiB at the first sample and ~64 MiB at the last.
      expect(peak).toBeLessThan(full / 2);
      expect(retained).toHaveLength(16);
      expect(Math.min(...retained)).toBeLessThan(4 * 2 ** 20);
      expect(Math.max(...retained)).toBeLessThan(full / 2);
    }
  });
});

describe('windows through the loader', () => {
  const W = 700;
  const H = 500;
  let path: string;
  let pixels: Uint16Array;
  beforeAll(async () => {
    path = join(await tempDir('cmid-wintif-'), 'scene.tif');
    pixels = new Uint16Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) pixels.set([value(x, y), 1000 + x, 2000 + y], (y * W + x) * 3);
    await writeGeoTiff(path, pixels, { width: W, height: H, bands: 3, tileSize: 128 });
  });

  it('grid 256/stride 200 read in a worker, stitched, is the raster; random windows match the full read', async () => {
    const samples = gridWindowSamples([{ path, width: W, height: H }], { size: 256, stride: 200 });
    const loader = new DataLoader<WindowSample, { image: { data: Float32Array; width: number; height: number; channels: number }; window: WindowSample['window'] }>({
      samples, map: { ...READ_WINDOW_SAMPLE, options: { bands: [2, 0] } }, batchSize: 3, seed: 0, workers: 1,
    });
    const mosaic = new Float32Array(W * H * 2).fill(-1);
    try {
      for await (const b of loader.epoch(0)) {
        for (const { image, window: w } of b.items) {
          expect([image.width, image.height, image.channels]).toEqual([256, 256, 2]);
          for (let y = 0; y < 256; y++) mosaic.set(image.data.subarray(y * 256 * 2, (y + 1) * 256 * 2), ((w.y + y) * W + w.x) * 2);
        }
      }
    } finally {
      await loader.close();
    }
    const want = new Float32Array(W * H * 2);
    for (let i = 0; i < W * H; i++) want.set([pixels[i * 3 + 2]!, pixels[i * 3]!], i * 2);
    expect(firstDiff(mosaic, want)).toBe(-1);
    const full = await readRaster(path);
    for (const w of randomWindows({ width: W, height: H }, { size: 40, length: 20, seed: 5 })) {
      const got = await readRaster(path, { window: w });
      for (let y = 0; y < 40; y++) {
        expect(firstDiff(got.data.subarray(y * 40 * 3, (y + 1) * 40 * 3), full.data.subarray(((w.y + y) * W + w.x) * 3, ((w.y + y) * W + w.x + 40) * 3))).toBe(-1);
      }
    }
  });

  it("edge: 'pad' windows read with fillValue cover the raster and pad the outside", async () => {
    const out: Array<{ x: number; y: number; outside: number }> = [];
    for await (const { window: w, image } of readWindows(path, gridWindows({ width: W, height: H }, { size: 256, edge: 'pad' }), { fillValue: -7, bands: [0] })) {
      let outside = 0;
      let bad = 0;
      for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) {
        const v = image.data[y * 256 + x]!;
        const inRaster = w.x + x < W && w.y + y < H;
        if (inRaster ? v !== value(w.x + x, w.y + y) : v !== -7) bad++;
        if (!inRaster) outside++;
      }
      expect(bad).toBe(0);
      out.push({ x: w.x, y: w.y, outside });
    }
    expect(out.map((o) => `${o.x},${o.y}`)).toEqual(['0,0', '256,0', '512,0', '0,256', '256,256', '512,256']);
    expect(out.find((o) => o.x === 512 && o.y === 256)!.outside).toBe(256 * 256 - (W - 512) * (H - 256));
  });
});

describe.skipIf(!HAVE_REAL)(`samplers on the shared real GeoTIFFs (${REAL})`, () => {
  it('RGB.byte.tif (791x718, strips): grid windows read one by one equal the same part of a full read', async () => {
    const file = join(REAL, 'geotiff/RGB.byte.tif');
    const full = await readRaster(file);
    const r = await openRaster(file);
    const ws = gridWindows(r, { size: 256, stride: 256 });
    expect(ws).toHaveLength(12); // x: 0 256 512 535; y: 0 256 462
    let n = 0;
    for await (const { window: w, image, geo } of readWindows(r, ws)) {
      for (let y = 0; y < 256; y += 17) {
        expect(firstDiff(image.data.subarray(y * 256 * 3, (y + 1) * 256 * 3), full.data.subarray(((w.y + y) * 791 + w.x) * 3, ((w.y + y) * 791 + w.x + 256) * 3))).toBe(-1);
      }
      expect(geo!.transform[0]).toBeCloseTo(101985 + w.x * 300.0379266750948, 3); // the window's own georef
      n++;
    }
    await r.close();
    expect(n).toBe(12);
  });

  it('tiff_1channel_uint16.tif and the float twin: random windows from both, in a loader, agree (float = uint8 band / 256)', async () => {
    const rasters = ['geotiff/tiff_1channel_uint16.tif', 'geotiff/tiff_1channel_float.tif'].map((f) => join(REAL, f));
    const infos = await Promise.all(rasters.map(async (p) => { const r = await openRaster(p); await r.close(); return { path: p, width: r.width, height: r.height }; }));
    expect(infos.map((i) => [i.width, i.height])).toEqual([[500, 650], [500, 650]]);
    const samples = randomWindowSamples(infos, { size: 64, length: 12, seed: 2 });
    expect(new Set(samples.map((s) => s.path)).size).toBe(2);
    const l = new DataLoader({ samples, map: READ_WINDOW_SAMPLE, batchSize: 4, seed: 0 });
    for await (const b of l.epoch(0)) {
      for (const it of b.items as Array<{ image: { data: Float32Array }; path: string; window: { x: number; y: number } }>) {
        const again = await readRaster(it.path, { window: { ...it.window, width: 64, height: 64 } as never });
        expect(firstDiff(it.image.data, again.data)).toBe(-1);
        expect(it.image.data.length).toBe(64 * 64);
      }
    }
  });
});

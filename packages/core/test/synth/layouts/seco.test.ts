import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { SECO_LOCATIONS, seco } from '../../../src/synth/layouts/seco.js';
import { hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

/** SeCo keeps the 12 L2A bands, no B10, with their native patch sizes (10 m 264, 20 m 132, 60 m 44). */
const BANDS: Record<string, number> = { B1: 44, B2: 264, B3: 264, B4: 264, B5: 132, B6: 132, B7: 132, B8: 264, B8A: 132, B9: 44, B11: 132, B12: 132 };
const PATCH = /^(\d{8})T(\d{6})_\d{8}T\d{6}_T\d{2}[C-X][A-Z]{2}$/;

describe('synth seco (tiny): SeCo time-series layout', () => {
  let dir: string;
  let again: string;
  let files: string[];
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await seco({ out: dir, size: 'tiny', seed: 0 });
    await seco({ out: again, size: 'tiny', seed: 0 });
    files = await listFiles(dir);
  });

  /** Patch folders of location `loc`, in date order. */
  const patchesOf = (loc: string): string[] => [...new Set(files.filter((f) => f.startsWith(`${loc}/`) && f.split('/').length === 3).map((f) => f.split('/')[1]!))].sort();

  it('{location:06d}/{S2 system:index}/{B1..B12}.tif (no B10) + metadata.json, an RGB preview beside each patch, 5 dates', async () => {
    const locs = [...new Set(files.filter((f) => f !== 'synth.json').map((f) => f.split('/')[0]!))].sort();
    expect(locs).toEqual(Array.from({ length: SECO_LOCATIONS.tiny }, (_, i) => String(i).padStart(6, '0')));
    for (const loc of locs) {
      const patches = patchesOf(loc);
      expect(patches).toHaveLength(5);
      for (const p of patches) {
        expect(p).toMatch(PATCH);
        const inside = files.filter((f) => f.startsWith(`${loc}/${p}/`)).map((f) => f.split('/')[2]);
        expect(inside.sort()).toEqual([...Object.keys(BANDS).map((b) => `${b}.tif`), 'metadata.json'].sort());
        expect(files).toContain(`${loc}/${p}.tif`);
        const meta = JSON.parse(await readFile(join(dir, loc, p, 'metadata.json'), 'utf8')) as Record<string, unknown>;
        expect(meta['system:index']).toBe(p);
      }
      // about 12 weeks apart (SeCo's 3-month sampling), all within about a year
      const days = patches.map((p) => Date.UTC(Number(p.slice(0, 4)), Number(p.slice(4, 6)) - 1, Number(p.slice(6, 8))) / 86400000);
      for (let k = 1; k < days.length; k++) {
        expect(days[k]! - days[k - 1]!).toBeGreaterThan(84 - 15);
        expect(days[k]! - days[k - 1]!).toBeLessThan(84 + 15);
      }
    }
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: one uint8 band per file at its native size, EPSG:4326, 10/20/60 m pixels, one common footprint', async () => {
    const loc = '000000';
    const p = patchesOf(loc)[0]!;
    let extent: number[] | undefined;
    for (const [band, size] of Object.entries(BANDS)) {
      const r = await openRaster(join(dir, loc, p, `${band}.tif`));
      try {
        expect([r.width, r.height, r.bands, r.dtype]).toEqual([size, size, 1, 'uint8']);
        expect(r.geo?.epsg).toBe(4326);
        const [x0, dx, , y0, , dy] = r.geo!.transform;
        const metres = (264 / size) * 10;
        expect(-dy * 111320).toBeCloseTo(metres, 6);
        const e = [x0, y0, x0 + dx * size, y0 + dy * size];
        if (extent === undefined) extent = e;
        else e.forEach((v, k) => expect(v).toBeCloseTo(extent![k]!, 9));
      } finally {
        await r.close();
      }
    }
    const preview = await openRaster(join(dir, loc, `${p}.tif`));
    expect([preview.width, preview.bands, preview.dtype]).toEqual([264, 3, 'uint8']);
    await preview.close();
  });

  it('the dates differ by season: NDVI of the place changes over the year; the 20 m bands are the 10 m scene averaged', async () => {
    for (const loc of ['000000', '000001']) {
      const ndvi: number[] = [];
      for (const p of patchesOf(loc)) {
        const [red, nir] = await Promise.all(['B4', 'B8'].map((b) => readU8(join(dir, loc, p, `${b}.tif`))));
        let s = 0;
        for (let i = 0; i < red!.data.length; i++) s += (nir!.data[i]! - red!.data[i]!) / (nir!.data[i]! + red!.data[i]! + 1);
        ndvi.push(s / red!.data.length);
      }
      expect(Math.max(...ndvi) - Math.min(...ndvi)).toBeGreaterThan(0.03);
      expect(Math.max(...ndvi)).toBeGreaterThan(0.15); // vegetated at least at one date
      // B8A (20 m) is in register with B8 (10 m) averaged over 2 x 2: the same place at half resolution
      const p = patchesOf(loc)[2]!;
      const [b8, b8a] = await Promise.all(['B8', 'B8A'].map((b) => readU8(join(dir, loc, p, `${b}.tif`))));
      const down: number[] = [];
      for (let y = 0; y < 132; y++) for (let x = 0; x < 132; x++) {
        let s = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) s += b8!.data[(2 * y + dy!) * 264 + 2 * x + dx!]!;
        down.push(s / 4);
      }
      const a = Array.from(b8a!.data);
      const mean = (v: number[]) => v.reduce((q, w) => q + w, 0) / v.length;
      const [ma, md] = [mean(a), mean(down)];
      let sab = 0, saa = 0, sdd = 0;
      for (let i = 0; i < a.length; i++) { sab += (a[i]! - ma) * (down[i]! - md); saa += (a[i]! - ma) ** 2; sdd += (down[i]! - md) ** 2; }
      expect(sab / Math.sqrt(saa * sdd)).toBeGreaterThan(0.9);
    }
  });
});

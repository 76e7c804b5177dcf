import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { ISPRS_PALETTE } from '../../../src/synth/layouts/isprs.js';
import { VAIHINGEN_TEST, VAIHINGEN_TRAIN, vaihingen, vaihingenArea, vaihingenAreas } from '../../../src/synth/layouts/vaihingen.js';
import { colours, hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

const IMG = 'ISPRS_semantic_labeling_Vaihingen/top';
const GT = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE';
const GT_ERODED = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE';

describe('synth vaihingen (tiny): ISPRS Vaihingen layout', () => {
  let dir: string;
  let again: string;
  const areas = vaihingenAreas('tiny');
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await vaihingen({ out: dir, size: 'tiny', seed: 0 });
    await vaihingen({ out: again, size: 'tiny', seed: 0 });
  });

  it('real area numbers and file names (top_mosaic_09cm_areaN.tif, _noBoundary for the eroded labels)', async () => {
    expect(areas).toEqual([1, 2]);
    expect([...VAIHINGEN_TRAIN, ...VAIHINGEN_TEST].sort((a, b) => a - b)).toHaveLength(33);
    expect(new Set([...VAIHINGEN_TRAIN, ...VAIHINGEN_TEST]).size).toBe(33);
    const expected = areas.flatMap((n) => [`${IMG}/top_mosaic_09cm_area${n}.tif`, `${GT}/top_mosaic_09cm_area${n}.tif`, `${GT_ERODED}/top_mosaic_09cm_area${n}_noBoundary.tif`]);
    expect(await listFiles(dir)).toEqual([...expected, 'synth.json'].sort());
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: 3 x uint8, UTM 32N at 9 cm, label sizes equal image sizes, areas differ in size', async () => {
    const sizes: string[] = [];
    for (const n of areas) {
      const dims: string[] = [];
      for (const f of [`${IMG}/top_mosaic_09cm_area${n}.tif`, `${GT}/top_mosaic_09cm_area${n}.tif`, `${GT_ERODED}/top_mosaic_09cm_area${n}_noBoundary.tif`]) {
        const r = await openRaster(join(dir, f));
        try {
          expect([r.bands, r.dtype, r.geo?.epsg]).toEqual([3, 'uint8', 32632]);
          expect(r.geo?.transform[1]).toBeCloseTo(0.09, 12);
          dims.push(`${r.width}x${r.height}`);
        } finally {
          await r.close();
        }
      }
      expect(new Set(dims).size).toBe(1);
      sizes.push(dims[0]!);
    }
    expect(new Set(sizes).size).toBe(areas.length);
  });

  it('IRRG false colour: vegetation is brightest in band 1 (NIR), roads and roofs are not; labels use the ISPRS colours', async () => {
    const allowed = new Set(ISPRS_PALETTE.slice(1).map((c) => c.join(',')));
    for (const n of areas) {
      const a = vaihingenArea(0, n, 'tiny');
      const img = await readU8(join(dir, `${IMG}/top_mosaic_09cm_area${n}.tif`));
      expect(Buffer.from(img.data).equals(Buffer.from(a.irrg))).toBe(true);
      const label = await readU8(join(dir, `${GT}/top_mosaic_09cm_area${n}.tif`));
      for (const c of colours(label.data)) expect(allowed.has(c)).toBe(true);
      const mean = (cls: number[], band: number): number => {
        let s = 0, k = 0;
        for (let i = 0; i < a.ids.length; i++) if (cls.includes(a.ids[i]!)) { s += img.data[3 * i + band]!; k++; }
        return s / k;
      };
      expect(mean([3, 4], 0)).toBeGreaterThan(1.4 * mean([3, 4], 1)); // vegetation: NIR >> red
      expect(mean([1], 0)).toBeLessThan(1.15 * mean([1], 1)); // impervious: flat spectrum
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { ISPRS_PALETTE, erodeBoundaries } from '../../../src/synth/layouts/isprs.js';
import { POTSDAM_TEST, POTSDAM_TRAIN, potsdam, potsdamTile, potsdamTiles } from '../../../src/synth/layouts/potsdam.js';
import { colours, hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

/** ISPRS 2D labelling colour code, from the benchmark description (RGB). */
const ISPRS = {
  impervious: '255,255,255',
  building: '0,0,255',
  lowVegetation: '0,255,255',
  tree: '0,255,0',
  car: '255,255,0',
  clutter: '255,0,0',
  boundary: '0,0,0',
};

/** Brute-force eroded label from the full colour label: black where another colour lies within radius 3. */
function bruteErode(rgb: Uint8Array, w: number, h: number): Uint8Array {
  const out = rgb.slice();
  const same = (i: number, j: number): boolean => rgb[3 * i] === rgb[3 * j] && rgb[3 * i + 1] === rgb[3 * j + 1] && rgb[3 * i + 2] === rgb[3 * j + 2];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    let edge = false;
    for (let dy = -3; dy <= 3 && !edge; dy++) for (let dx = -3; dx <= 3; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if (dx * dx + dy * dy > 9 || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      if (!same(i, yy * w + xx)) { edge = true; break; }
    }
    if (edge) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = 0;
  }
  return out;
}

describe('synth potsdam (tiny): ISPRS Potsdam layout', () => {
  let dir: string;
  let again: string;
  const tiles = potsdamTiles('tiny');
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await potsdam({ out: dir, size: 'tiny', seed: 0 });
    await potsdam({ out: again, size: 'tiny', seed: 0 });
  });

  it('real tile names, one train and one test tile, in the archive folders', async () => {
    expect(tiles).toEqual(['2_10', '2_13']);
    expect(POTSDAM_TRAIN).toHaveLength(24);
    expect(POTSDAM_TEST).toHaveLength(14);
    const expected = tiles.flatMap((t) => [
      `2_Ortho_RGB/top_potsdam_${t}_RGB.tif`,
      `4_Ortho_RGBIR/top_potsdam_${t}_RGBIR.tif`,
      `5_Labels_all/top_potsdam_${t}_label.tif`,
      `5_Labels_all_noBoundary/top_potsdam_${t}_label_noBoundary.tif`,
    ]);
    expect(await listFiles(dir)).toEqual([...expected, 'synth.json'].sort());
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: RGB 3 x uint8, RGBIR 4 x uint8, labels 3 x uint8, all the same size, UTM 33N at 5 cm', async () => {
    for (const t of tiles) {
      const files = [`2_Ortho_RGB/top_potsdam_${t}_RGB.tif`, `4_Ortho_RGBIR/top_potsdam_${t}_RGBIR.tif`, `5_Labels_all/top_potsdam_${t}_label.tif`, `5_Labels_all_noBoundary/top_potsdam_${t}_label_noBoundary.tif`];
      const bands = [3, 4, 3, 3];
      for (const [k, f] of files.entries()) {
        const r = await openRaster(join(dir, f));
        try {
          expect([r.width, r.height, r.bands, r.dtype]).toEqual([576, 576, bands[k], 'uint8']);
          expect(r.geo?.epsg).toBe(32633);
          expect(r.geo?.transform[1]).toBeCloseTo(0.05, 12);
          expect(r.geo?.transform[5]).toBeCloseTo(-0.05, 12);
        } finally {
          await r.close();
        }
      }
    }
  });

  it('labels use exactly the ISPRS colours; eroded labels add only black, exactly within 3 px of a class edge', async () => {
    expect(ISPRS_PALETTE.map((c) => c.join(','))).toEqual([ISPRS.boundary, ISPRS.impervious, ISPRS.building, ISPRS.lowVegetation, ISPRS.tree, ISPRS.car, ISPRS.clutter]);
    const allowed = new Set(Object.values(ISPRS));
    const seen = new Set<string>();
    for (const t of tiles) {
      const full = await readU8(join(dir, `5_Labels_all/top_potsdam_${t}_label.tif`));
      const eroded = await readU8(join(dir, `5_Labels_all_noBoundary/top_potsdam_${t}_label_noBoundary.tif`));
      const cf = colours(full.data);
      for (const c of cf) {
        expect(allowed.has(c)).toBe(true);
        seen.add(c);
      }
      expect(cf.has(ISPRS.boundary)).toBe(false);
      expect(cf.size).toBeGreaterThanOrEqual(3);
      expect(Buffer.from(eroded.data).equals(Buffer.from(bruteErode(full.data, full.width, full.height)))).toBe(true);
    }
    for (const c of [ISPRS.impervious, ISPRS.building, ISPRS.lowVegetation]) expect(seen.has(c)).toBe(true);
  });

  it('erodeBoundaries matches the brute-force definition on random label maps', () => {
    const w = 37;
    const h = 29;
    const ids = new Uint8Array(w * h);
    for (let i = 0; i < ids.length; i++) ids[i] = 1 + ((i * 7919) % 11 < 8 ? 0 : (i % 5));
    const rgb = new Uint8Array(w * h * 3);
    ids.forEach((v, i) => rgb.set(ISPRS_PALETTE[v]!, 3 * i));
    const ours = erodeBoundaries(ids, w, h);
    const ref = bruteErode(rgb, w, h);
    let differ = 0;
    let black = 0;
    for (let i = 0; i < ids.length; i++) {
      const refBlack = ref[3 * i] === 0 && ref[3 * i + 1] === 0 && ref[3 * i + 2] === 0;
      if ((ours[i] === 0) !== refBlack) differ++;
      if (refBlack) black++;
    }
    expect(differ).toBe(0);
    expect(black).toBeGreaterThan(50);
  });

  it('labels match the pixels: files equal the generator, vegetation is bright in NIR, roads are not', async () => {
    const t = potsdamTile(0, '2_10', 576);
    const rgb = await readU8(join(dir, '2_Ortho_RGB/top_potsdam_2_10_RGB.tif'));
    const rgbir = await readU8(join(dir, '4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif'));
    const label = await readU8(join(dir, '5_Labels_all/top_potsdam_2_10_label.tif'));
    expect(Buffer.from(rgb.data).equals(Buffer.from(t.rgb))).toBe(true);
    expect(Buffer.from(rgbir.data).equals(Buffer.from(t.rgbir))).toBe(true);
    let mismatched = 0;
    for (let i = 0; i < t.ids.length; i++) {
      const [r, g, b] = ISPRS_PALETTE[t.ids[i]!]!;
      if (label.data[3 * i] !== r || label.data[3 * i + 1] !== g || label.data[3 * i + 2] !== b) mismatched++;
    }
    expect(mismatched).toBe(0);
    // NIR / red by class: vegetation (low vegetation, tree) far above impervious surfaces
    const ratio = (cls: number[]): number => {
      let nir = 0, red = 0;
      for (let i = 0; i < t.ids.length; i++) if (cls.includes(t.ids[i]!)) { nir += rgbir.data[4 * i + 3]!; red += rgbir.data[4 * i]!; }
      return nir / red;
    };
    expect(ratio([3, 4])).toBeGreaterThan(1.5 * ratio([1]));
  });
});

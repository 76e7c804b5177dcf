import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { CDD_PER_SPLIT, CDD_SPLITS, cdd, cddPair } from '../../../src/synth/layouts/cdd.js';
import { classDiff } from '../../../src/synth/scene/change.js';
import { rasterPolygon } from '../../../src/synth/scene/geometry.js';
import { hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

describe('synth cdd (tiny): CDD subset layout', () => {
  let dir: string;
  let again: string;
  const per = CDD_PER_SPLIT.tiny;
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await cdd({ out: dir, size: 'tiny', seed: 0 });
    await cdd({ out: again, size: 'tiny', seed: 0 });
  });

  it('{train,val,test}/{A,B,OUT}/NNNNN.jpg with the same names in A, B and OUT', async () => {
    const expected = CDD_SPLITS.flatMap((s) => Array.from({ length: per[s] }, (_, i) => ['A', 'B', 'OUT'].map((d) => `${s}/${d}/${String(i).padStart(5, '0')}.jpg`)).flat());
    expect(await listFiles(dir)).toEqual([...expected, 'synth.json'].sort());
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: A and B 256 x 256 RGB JPEG, OUT 256 x 256 one-band JPEG', async () => {
    for (const [d, bands] of [['A', 3], ['B', 3], ['OUT', 1]] as const) {
      const r = await openRaster(join(dir, `val/${d}/00001.jpg`));
      try {
        expect([r.format, r.width, r.height, r.bands, r.dtype]).toEqual(['jpeg', 256, 256, bands, 'uint8']);
      } finally {
        await r.close();
      }
    }
  });

  it('OUT marks exactly the real changes (new/removed buildings, new roads), nothing seasonal', async () => {
    let pairsWithChange = 0;
    let exact255 = 0;
    let total = 0;
    for (const split of CDD_SPLITS) {
      for (let i = 0; i < per[split]; i++) {
        const pair = cddPair(0, split, i);
        const out = await readU8(join(dir, `${split}/OUT/${String(i).padStart(5, '0')}.jpg`));
        // the file decodes to the exact mask: threshold 128 (Open-CD) recovers it pixel for pixel
        let wrong = 0;
        for (let k = 0; k < out.data.length; k++) {
          if ((out.data[k]! >= 128 ? 1 : 0) !== pair.mask[k]) wrong++;
          exact255 += (out.data[k] === 255 ? 1 : 0) === pair.mask[k] ? 1 : 0;
          total++;
        }
        expect(wrong).toBe(0);
        // the mask is the changed features' footprints, as painted: inside their polygons, and covering every
        // pixel whose class changed between the dates
        const inChanged = new Uint8Array(pair.mask.length);
        for (const f of [...pair.plan.added, ...pair.plan.removed]) for (const p of f.footprint) rasterPolygon(256, 256, p, (x, y) => (inChanged[y * 256 + x] = 1));
        const diff = classDiff(pair.canvasA, pair.canvasB);
        let outside = 0;
        let unmarked = 0;
        for (let k = 0; k < pair.mask.length; k++) {
          if (pair.mask[k] === 1 && inChanged[k] !== 1) outside++;
          if (diff[k] === 1 && pair.mask[k] !== 1) unmarked++;
        }
        expect([outside, unmarked]).toEqual([0, 0]);
        const changed = pair.plan.added.length + pair.plan.removed.length > 0;
        expect(pair.mask.some((v) => v === 1)).toBe(changed);
        if (changed) pairsWithChange++;
      }
    }
    expect(pairsWithChange).toBeGreaterThanOrEqual(5);
    expect(exact255 / total).toBeGreaterThan(0.999); // CMID reads label = (v == 255)
  });

  it('B differs from A everywhere by the season and sun, not only where OUT marks a change', async () => {
    for (let i = 0; i < per.train; i++) {
      const name = String(i).padStart(5, '0');
      const [a, b, out] = await Promise.all(['A', 'B', 'OUT'].map((d) => readU8(join(dir, `train/${d}/${name}.jpg`))));
      let diff = 0, n = 0;
      for (let k = 0; k < out!.data.length; k++) {
        if (out!.data[k]! >= 128) continue;
        for (let c = 0; c < 3; c++) diff += Math.abs(a!.data[3 * k + c]! - b!.data[3 * k + c]!);
        n += 3;
      }
      expect(diff / n).toBeGreaterThan(6); // mean absolute difference outside the changes, grey levels
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { millionaid, millionaidImage, millionaidName } from '../../../src/synth/layouts/millionaid.js';
import { hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

describe('synth millionaid (tiny): unlabelled ImageFolder corpus', () => {
  let dir: string;
  let again: string;
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await millionaid({ out: dir, size: 'tiny', seed: 0 });
    await millionaid({ out: again, size: 'tiny', seed: 0 });
  });

  it('test/P0000000.jpg ...: one folder level under the root, as ImageFolder reads it', async () => {
    const files = await listFiles(dir);
    const images = files.filter((f) => f !== 'synth.json');
    expect(images).toEqual(Array.from({ length: 12 }, (_, i) => `test/${millionaidName(i)}`));
    for (const f of images) expect(f).toMatch(/^test\/P\d{7}\.jpg$/);
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: RGB uint8 JPEGs of varying size, scenes of several kinds', async () => {
    const sizes = new Set<string>();
    const scenes = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await openRaster(join(dir, 'test', millionaidName(i)));
      expect([r.format, r.bands, r.dtype]).toEqual(['jpeg', 3, 'uint8']);
      sizes.add(`${r.width}x${r.height}`);
      await r.close();
      scenes.add(millionaidImage(0, i, 'tiny').scene);
    }
    expect(sizes.size).toBeGreaterThan(6);
    expect(scenes.size).toBeGreaterThan(5);
  });

  it('the JPEG holds the generated image (lossy: mean absolute error under 4 grey levels)', async () => {
    const img = millionaidImage(0, 3, 'tiny');
    const file = await readU8(join(dir, 'test', millionaidName(3)));
    expect([file.width, file.height]).toEqual([img.width, img.height]);
    let e = 0;
    for (let i = 0; i < img.rgb.length; i++) e += Math.abs(img.rgb[i]! - file.data[i]!);
    expect(e / img.rgb.length).toBeLessThan(4);
  });
});

/**
 * readScene and the corrupt-image policy on the shared real samples (shared/data/real, see its SOURCES.md):
 * JPEG, GeoTIFF (uint8 / uint16 / float32), Sentinel-2 bands from OSCD stacked into a EuroSAT-MS style 13-band
 * file, and the deliberately broken copies (truncated JPEG and TIFFs, a 0-byte file). Pixel values at (0, 0) were
 * read independently with GDAL (see core's read-raster test).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError } from '@cmid/core';
import { readRaster, writeGeoTiff } from '@cmid/core/io';
import {
  EuroSAT,
  SCENE_DECODE,
  checkDataset,
  checkReadable,
  decodeSceneSample,
  readScene,
  readSceneOrSkip,
  sceneReadOptions,
  type SceneDataset,
} from '../../src/datasets/index.js';
import { HAVE_REAL, REAL, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const real = (p: string): string => join(REAL, p);
const AIRPORT = real('scenes/airport.jpg');
const RGB_BYTE = real('geotiff/RGB.byte.tif');
const U16 = real('geotiff/tiff_1channel_uint16.tif');
const BROKEN_JPG = real('scenes/broken-truncated-airport.jpg');
const BROKEN_RGB = real('geotiff/broken-truncated-RGB.byte.tif');
const BROKEN_U16 = real('geotiff/broken-truncated-tiff_1channel_uint16.tif');
const ZERO = real('geotiff/broken-zero-byte.tif');

async function rejection(p: Promise<unknown>): Promise<CmidError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CmidError);
    return e as CmidError;
  }
  throw new Error('expected a rejection');
}

describe.runIf(HAVE_REAL)('readScene on real files', () => {
  it('scenes/airport.jpg 224x224x3 -> Uint8Array HWC', async () => {
    const img = await readScene(AIRPORT, { expectBands: 3 });
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect([img.height, img.width, img.channels, img.dtype]).toEqual([224, 224, 3, 'uint8']);
    const px = Array.from(img.data.subarray(0, 3));
    [215, 211, 208].forEach((v, i) => expect(Math.abs(px[i]! - v)).toBeLessThanOrEqual(2));
  });

  it('geotiff/RGB.byte.tif 791x718x3 uint8; bands [2, 1, 0] reorders', async () => {
    const img = await readScene(RGB_BYTE);
    expect([img.height, img.width, img.channels, img.data.constructor]).toEqual([718, 791, 3, Uint8Array]);
    const bgr = await readScene(RGB_BYTE, { bands: [2, 1, 0] });
    const i = (511 * 791 + 399) * 3;
    expect(Array.from(img.data.subarray(i, i + 3))).toEqual([6, 8, 8]);
    expect(Array.from(bgr.data.subarray(i, i + 3))).toEqual([8, 8, 6]);
  });

  it('uint16 and float32 single-band GeoTIFFs -> Float32Array with the file values', async () => {
    const u = await readScene(U16);
    expect(u.data).toBeInstanceOf(Float32Array);
    expect([u.height, u.width, u.channels, u.dtype, u.data[0]]).toEqual([650, 500, 1, 'uint16', 290]);
    const f = await readScene(real('geotiff/tiff_1channel_float.tif'));
    expect([f.dtype, f.data[0]]).toEqual(['float32', 0.25390625]);
  });

  it('wrong band count names the file and the fix', async () => {
    const e = await rejection(readScene(U16, { expectBands: 3 }));
    expect(e.file).toBe(U16);
    expect(e.message).toContain(`${U16}: has 1 band(s) but this dataset's images have 3`);
    expect(e.message).toMatch(/gdal_translate -b 1 -b 2 -b 3 .*onCorrupt: 'skip'/);
  });

  it('unsupported dtype (float64) names the file and the conversion', async () => {
    const path = join(await tempDir(), 'f64.tif');
    await writeGeoTiff(path, new Float64Array(16 * 16).fill(1.5), { width: 16, height: 16, bands: 1 });
    const e = await rejection(readScene(path));
    expect(e.file).toBe(path);
    expect(e.message).toMatch(/sample type float64 is not supported .*gdal_translate -ot Float32/);
  });

  it.each([
    ['truncated JPEG', BROKEN_JPG, /decoding failed .*truncated or corrupt; fetch or export it again/],
    ['truncated TIFF (IFD past the end)', BROKEN_RGB, /truncated or corrupt/],
    ['truncated TIFF (tiles past the end)', BROKEN_U16, /3 of 6 tiles .* past the end of the file/],
    ['0-byte file', ZERO, /file is empty \(0 bytes\).*Fetch it again/],
    ['not an image', real('SOURCES.md'), /unsupported image format/],
    ['missing file', real('scenes/nope.jpg'), /cannot open raster \(no such file\)/],
  ])('%s: CmidError naming the path', async (_what, path, pattern) => {
    const e = await rejection(readScene(path));
    expect(e.kind).toBe('input');
    expect(e.file).toBe(path);
    expect(e.message.startsWith(path)).toBe(true);
    expect(e.message).toMatch(pattern);
  });

  it('multispectral: 13 OSCD Sentinel-2 bands stacked as a EuroSAT-MS file; bands rgb gives B04, B03, B02', async () => {
    const dir = real('multispectral/oscd/images/bercy/imgs_1');
    const files = await readdir(dir);
    const size = 32;
    const stack = new Uint16Array(size * size * 13);
    const bands: Float32Array[] = [];
    for (const [b, name] of EuroSAT.msBands.entries()) {
      const tag = name === 'B08A' ? 'B8A' : name;
      const file = files.find((f) => f.endsWith(`_${tag}.tif`))!;
      const r = await readRaster(join(dir, file), { outputSize: { width: size, height: size } });
      expect(r.dtype).toBe('uint16');
      bands.push(r.data);
      for (let i = 0; i < size * size; i++) stack[i * 13 + b] = r.data[i]!;
    }
    const root = await tempDir();
    for (const c of EuroSAT.classes) {
      await mkdir(join(root, 'tif', c), { recursive: true });
      await writeGeoTiff(join(root, 'tif', c, `${c}_1.tif`), stack, { width: size, height: size, bands: 13, tileSize: 16 });
    }
    const ds = await EuroSAT.open(root, { variant: 'ms', bands: 'rgb', ratios: { train: 1 } });
    const s = ds.train.find((x) => x.label === 1)!;
    const img = await readScene(s.path, sceneReadOptions(ds));
    expect([img.channels, img.dtype]).toEqual([3, 'uint16']);
    for (const i of [0, 77, size * size - 1]) {
      expect(Array.from(img.data.subarray(i * 3, i * 3 + 3))).toEqual([bands[3]![i], bands[2]![i], bands[1]![i]]);
    }
    const e = await rejection(readScene(U16, sceneReadOptions(ds)));
    expect(e.message).toMatch(/has 1 band\(s\) but this dataset's images have 13/);
  });
});

describe.runIf(HAVE_REAL)('corrupt-image policy', () => {
  const samples = [AIRPORT, BROKEN_JPG, BROKEN_RGB, RGB_BYTE, BROKEN_U16, ZERO].map((path, label) => ({ path, label }));

  it("onCorrupt 'error' (default) stops at the first bad file in sample order, naming it", async () => {
    const e = await rejection(checkReadable(samples));
    expect(e.file).toBe(BROKEN_RGB);
    expect(e.message).toContain(BROKEN_RGB);
    expect(e.message).toMatch(/sample 2 of 6; pass onCorrupt: 'skip'/);
    // a full decode finds the truncated JPEG first
    const d = await rejection(checkReadable(samples, { depth: 'decode' }));
    expect(d.file).toBe(BROKEN_JPG);
  });

  it("onCorrupt 'skip', header depth: drops the truncated/empty TIFFs, reports them once, keeps input order", async () => {
    const warnings: string[] = [];
    const r = await checkReadable(samples, { onCorrupt: 'skip', warn: (m) => warnings.push(m), concurrency: 3 });
    expect(r.samples.map((s) => s.path)).toEqual([AIRPORT, BROKEN_JPG, RGB_BYTE]); // a JPEG's header survives truncation
    expect(r.corrupt.map((c) => c.path)).toEqual([BROKEN_RGB, BROKEN_U16, ZERO]);
    for (const c of r.corrupt) expect(c.message).toContain(c.path);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 3 unreadable image\(s\)/);
    for (const p of [BROKEN_RGB, BROKEN_U16, ZERO]) expect(warnings[0]).toContain(p);
  });

  it("onCorrupt 'skip', decode depth: also drops the truncated JPEG; expectBands and expectSize", async () => {
    const r = await checkReadable(samples, { onCorrupt: 'skip', depth: 'decode', warn: () => undefined });
    expect(r.samples.map((s) => s.path)).toEqual([AIRPORT, RGB_BYTE]);
    expect(r.corrupt.map((c) => c.path)).toEqual([BROKEN_JPG, BROKEN_RGB, BROKEN_U16, ZERO]);
    const sized = await checkReadable([AIRPORT, RGB_BYTE, U16].map((path) => ({ path })), {
      onCorrupt: 'skip', expectBands: 3, expectSize: { width: 224, height: 224 }, warn: () => undefined,
    });
    expect(sized.samples.map((s) => s.path)).toEqual([AIRPORT, RGB_BYTE]);
    expect(sized.corrupt[0]!.message).toMatch(/has 1 band\(s\)/);
    expect(sized.offSize).toEqual([{ path: RGB_BYTE, width: 791, height: 718 }]);
  });

  it('checkDataset filters every split with the dataset band facts; readSceneOrSkip per read', async () => {
    const ds: SceneDataset = {
      name: 'real', root: REAL, classes: ['a', 'b'], bands: 3, fileBands: 3,
      train: [{ path: AIRPORT, label: 0 }, { path: ZERO, label: 1 }],
      val: [{ path: U16, label: 0 }],
      test: [{ path: RGB_BYTE, label: 1 }],
      nominalSize: { width: 224, height: 224 },
      split: { source: 'seeded', seed: 0 },
    };
    const warnings: string[] = [];
    const r = await checkDataset(ds, { onCorrupt: 'skip', warn: (m) => warnings.push(m) });
    expect(r.dataset.train).toEqual([{ path: AIRPORT, label: 0 }]);
    expect(r.dataset.val).toEqual([]);
    expect(r.dataset.test).toEqual(ds.test);
    expect(r.corrupt.map((c) => c.path)).toEqual([ZERO, U16]);
    expect(r.offSize).toEqual([{ path: RGB_BYTE, width: 791, height: 718 }]);
    expect(warnings).toHaveLength(1);
    await expect(checkDataset(ds)).rejects.toThrow(/broken-zero-byte\.tif: file is empty/);

    const seen: string[] = [];
    expect(await readSceneOrSkip(BROKEN_JPG, { onCorrupt: 'skip', warn: (m) => seen.push(m) })).toBeUndefined();
    expect(seen[0]).toMatch(/readScene: skipped .*broken-truncated-airport\.jpg \(onCorrupt: 'skip'\)/);
    expect((await readSceneOrSkip(AIRPORT, { onCorrupt: 'skip' }))!.width).toBe(224);
    await expect(readSceneOrSkip(BROKEN_JPG)).rejects.toThrow(/broken-truncated-airport\.jpg: decoding failed/);
    await expect(checkReadable(samples, { onCorrupt: 'ignore' as never })).rejects.toThrow(/Valid: 'skip', 'error'/);
  });

  it('decodeSceneSample is the loader map; SCENE_DECODE names it', async () => {
    const map = decodeSceneSample({ expectBands: 3 });
    const item = await map({ path: AIRPORT, label: 4 });
    expect([item.label, item.path, item.image.width, item.image.channels]).toEqual([4, AIRPORT, 224, 3]);
    const mod = (await import(SCENE_DECODE.module)) as Record<string, unknown>;
    expect(typeof mod[SCENE_DECODE.export]).toBe('function');
  });
});

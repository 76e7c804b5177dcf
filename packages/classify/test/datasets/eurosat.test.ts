/**
 * EuroSAT reader on fixtures written here: an RGB tree (2750/<Class>/<Class>_<n>.jpg, sharp JPEGs) and an
 * all-bands tree (ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif, 13-band uint16
 * GeoTIFFs from core's writeGeoTiff), 5 images per class, 16 x 16 px. Checks discovery, class ids, the seeded
 * 60/20/20 split, torchgeo split files, band selection and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError } from '@cmid/core';
import { EuroSAT, readScene, sceneReadOptions } from '../../src/datasets/index.js';
import { CLASSIFY_TINY, mergeClassifyConfig, normalizationFor } from '../../src/config.js';
import { probeBackbone } from '../../src/probe.js';
import { countByLabel, removeTempDirs, tempDir, writeImage8, writeMs } from './helpers.js';

const MS_DIR = ['ds', 'images', 'remote_sensing', 'otherDatasets', 'sentinel_2', 'tif'];
const PER_CLASS = 5;
let rgbRoot: string;
let msRoot: string;

beforeAll(async () => {
  rgbRoot = await tempDir('cmid-eurosat-rgb-');
  msRoot = await tempDir('cmid-eurosat-ms-');
  let seed = 0;
  for (const c of EuroSAT.classes) {
    for (let n = 1; n <= PER_CLASS; n++, seed++) {
      await writeImage8(join(rgbRoot, '2750', c, `${c}_${n}.jpg`), 16, seed);
      await writeMs(join(msRoot, ...MS_DIR, c, `${c}_${n}.tif`), 16, 13, n);
    }
  }
});
afterAll(removeTempDirs);

const ones = (v: number): number[] => new Array(10).fill(v);

async function rejection(p: Promise<unknown>): Promise<CmidError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CmidError);
    return e as CmidError;
  }
  throw new Error('expected a rejection');
}

describe('EuroSAT RGB (2750/<Class>/<Class>_<n>.jpg)', () => {
  it('finds 2750/ under the root; torchgeo class ids; seeded 60/20/20 = 3/1/1 per class', async () => {
    const ds = await EuroSAT.open(rgbRoot);
    expect(ds.name).toBe('eurosat');
    expect(ds.root).toBe(join(rgbRoot, '2750'));
    expect(ds.classes).toEqual(['AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture', 'PermanentCrop', 'Residential', 'River', 'SeaLake']);
    expect(ds.bands).toBe(3);
    expect(ds.bandNames).toEqual(['B04', 'B03', 'B02']);
    expect(ds.nominalSize).toEqual({ width: 64, height: 64 });
    expect(ds.split).toMatchObject({ source: 'seeded', seed: 0 });
    expect(countByLabel(ds.train, 10)).toEqual(ones(3));
    expect(countByLabel(ds.val!, 10)).toEqual(ones(1));
    expect(countByLabel(ds.test, 10)).toEqual(ones(1));
    for (const s of ds.train) expect(s.path).toContain(`/${ds.classes[s.label]}/${ds.classes[s.label]}_`);
    const img = await readScene(ds.train[0]!.path, sceneReadOptions(ds));
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect([img.height, img.width, img.channels, img.dtype]).toEqual([16, 16, 3, 'uint8']);
    // pointing at 2750/ itself works as well
    expect((await EuroSAT.open(join(rgbRoot, '2750'))).train).toEqual(ds.train);
  });

  it('user ratios, seed determinism, and another seed differs', async () => {
    const a = await EuroSAT.open(rgbRoot, { ratios: { train: 0.4, val: 0.2, test: 0.4 }, seed: 5 });
    expect(countByLabel(a.train, 10)).toEqual(ones(2));
    expect(countByLabel(a.val!, 10)).toEqual(ones(1));
    expect(countByLabel(a.test, 10)).toEqual(ones(2));
    const b = await EuroSAT.open(rgbRoot, { ratios: { train: 0.4, val: 0.2, test: 0.4 }, seed: 5 });
    expect(b).toEqual(a);
    const c = await EuroSAT.open(rgbRoot, { ratios: { train: 0.4, val: 0.2, test: 0.4 }, seed: 6 });
    expect(c.test).not.toEqual(a.test);
    const noVal = await EuroSAT.open(rgbRoot, { ratios: { train: 0.8 } });
    expect(noVal.val).toBeUndefined();
    expect(countByLabel(noVal.test, 10)).toEqual(ones(1));
    await expect(EuroSAT.open(rgbRoot, { ratios: { train: 0.6, val: 0.2, test: 0.3 } })).rejects.toThrow(/add up to 1/);
  });

  it('band selection is refused on the RGB release; the MS tree is not taken for RGB', async () => {
    await expect(EuroSAT.open(rgbRoot, { bands: ['B08'] })).rejects.toThrow(/kind 'eurosat-ms'/);
    const e = await rejection(EuroSAT.open(msRoot, { variant: 'rgb' }));
    expect(e.message).toMatch(/no RGB \(\.jpg\) class folders under .*Found the all-bands GeoTIFF release at .*tif: use kind 'eurosat-ms'/);
    const f = await rejection(EuroSAT.open(rgbRoot, { variant: 'ms' }));
    expect(f.message).toMatch(/use kind 'eurosat' for it/);
  });
});

describe('EuroSAT-MS (13-band uint16 GeoTIFF)', () => {
  it('all 13 bands by default; bands: rgb reads B04, B03, B02 as float32', async () => {
    const all = await EuroSAT.open(msRoot, { variant: 'ms' });
    expect(all.name).toBe('eurosat-ms');
    expect(all.root).toBe(join(msRoot, ...MS_DIR));
    expect([all.fileBands, all.bands, all.bandIndices]).toEqual([13, 13, undefined]);
    expect(all.bandNames).toEqual([...EuroSAT.msBands]);
    const rgb = await EuroSAT.open(msRoot, { variant: 'ms', bands: 'rgb' });
    expect([rgb.fileBands, rgb.bands, rgb.bandIndices, rgb.bandNames]).toEqual([13, 3, [3, 2, 1], ['B04', 'B03', 'B02']]);
    const s = rgb.train.find((x) => x.path.endsWith('Forest_2.tif'))!;
    const img = await readScene(s.path, sceneReadOptions(rgb));
    expect(img.data).toBeInstanceOf(Float32Array);
    expect([img.height, img.width, img.channels, img.dtype]).toEqual([16, 16, 3, 'uint16']);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([4002, 3002, 2002]);
    const full = await readScene(s.path, sceneReadOptions(all));
    expect(full.channels).toBe(13);
    expect(full.data[12]).toBe(13002);
  });

  it('the MS release carries its band statistics; runs use them in place of the ImageNet default', async () => {
    const all = await EuroSAT.open(msRoot, { variant: 'ms' });
    expect(all.normalization!.mean).toHaveLength(13);
    expect(all.normalization!.pixelMax).toBe(1);
    const rgb = await EuroSAT.open(msRoot, { variant: 'ms', bands: ['B04', 'B8A'] });
    expect(rgb.normalization!.mean).toEqual([EuroSAT.msMean[3], EuroSAT.msMean[8]]);
    expect(rgb.normalization!.std).toEqual([EuroSAT.msStd[3], EuroSAT.msStd[8]]);
    expect((await EuroSAT.open(rgbRoot)).normalization).toBeUndefined();
    const picked = normalizationFor(CLASSIFY_TINY, all);
    expect(picked.config.mean).toEqual([...EuroSAT.msMean]);
    expect(picked.config.pixelMax).toBe(1);
    expect(picked.note).toMatch(/torchgeo/);
    // an explicit normalisation is kept; one that does not fit the bands is an error naming the fix
    const own = mergeClassifyConfig(CLASSIFY_TINY, { mean: new Array(13).fill(0.1), std: new Array(13).fill(0.2), pixel_max: 10000 });
    expect(normalizationFor(own, all).config.mean[0]).toBe(0.1);
    const wrong = mergeClassifyConfig(CLASSIFY_TINY, { mean: [0.1, 0.2], std: [1, 1] });
    expect(() => normalizationFor(wrong, all)).toThrow(/13 bands but mean\/std have 2 values.*--set mean=/);
    // the whole probe path runs on the 13-band fixture with those statistics
    const r = await probeBackbone({ config: mergeClassifyConfig(CLASSIFY_TINY, { size: 32, backbone_options: { baseWidth: 8 } }), dataset: all });
    expect(r.knnTop1).toBeGreaterThanOrEqual(0);
    expect(r.trainImages).toBe(all.train.length);
  });

  it('bands by name and index (B8A = B08A); bad names and indices list the valid ones', () => {
    expect(EuroSAT.resolveBands(['B08', 'B8A', 0, 'b2'])).toEqual([7, 8, 0, 1]);
    expect(EuroSAT.resolveBands('all')).toBeUndefined();
    expect(() => EuroSAT.resolveBands(['B13'])).toThrow(/unknown band "B13". Valid: B01, B02, .*B12, or 'rgb'/);
    expect(() => EuroSAT.resolveBands([13])).toThrow(/band index 13 is out of range 0\.\.12/);
    expect(() => EuroSAT.resolveBands([])).toThrow(/non-empty list/);
  });

  it("torchgeo split files (.jpg names) select the .tif files; unlisted images are left out with a warning", async () => {
    await writeFile(join(msRoot, 'eurosat-train.txt'), EuroSAT.classes.flatMap((c) => [`${c}_1.jpg`, `${c}_2.jpg`, `${c}_3.jpg`]).join('\n') + '\n');
    await writeFile(join(msRoot, 'eurosat-val.txt'), EuroSAT.classes.map((c) => `${c}_4.jpg`).join('\n') + '\n');
    await writeFile(join(msRoot, 'eurosat-test.txt'), ['Forest_5.jpg', 'Forest_999.jpg'].join('\n') + '\n');
    const warnings: string[] = [];
    try {
      const ds = await EuroSAT.open(msRoot, { variant: 'ms', warn: (m) => warnings.push(m) });
      expect(ds.split).toEqual({ source: 'files', files: ['train', 'val', 'test'].map((p) => join(msRoot, `eurosat-${p}.txt`)) });
      expect(countByLabel(ds.train, 10)).toEqual(ones(3));
      expect(countByLabel(ds.val!, 10)).toEqual(ones(1));
      expect(ds.test).toEqual([{ path: join(msRoot, ...MS_DIR, 'Forest', 'Forest_5.tif'), label: 1 }]);
      expect(warnings.join('\n')).toMatch(/1 listed file\(s\) are not on disk; 9 image\(s\) are in no split file/);
      // split: 'seeded' ignores them
      expect((await EuroSAT.open(msRoot, { variant: 'ms', split: 'seeded' })).split.source).toBe('seeded');
    } finally {
      for (const p of ['train', 'val', 'test']) await rm(join(msRoot, `eurosat-${p}.txt`));
    }
  });

  it('split-file errors: bad line, a file in two splits, test file missing', async () => {
    const dir = await tempDir();
    const write = async (train: string, test: string | undefined): Promise<void> => {
      await writeFile(join(dir, 'eurosat-train.txt'), train);
      if (test !== undefined) await writeFile(join(dir, 'eurosat-test.txt'), test);
    };
    await write('Forest_1.jpg\nNotAClass_3.jpg\n', 'Forest_2.jpg\n');
    let e = await rejection(EuroSAT.open(msRoot, { variant: 'ms', splitDir: dir, warn: () => undefined }));
    expect(e.message).toMatch(/eurosat-train\.txt:2: "NotAClass_3\.jpg" is not a EuroSAT file name/);
    expect(e.file).toBe(join(dir, 'eurosat-train.txt'));
    await write('Forest_1.jpg 1\n', 'Forest_2.jpg\n');
    e = await rejection(EuroSAT.open(msRoot, { variant: 'ms', splitDir: dir, warn: () => undefined }));
    expect(e.message).toMatch(/eurosat-train\.txt:1: "Forest_1\.jpg 1" is not a EuroSAT file name/);
    await write('Forest_1.jpg\n', 'Forest_1.tif\n');
    e = await rejection(EuroSAT.open(msRoot, { variant: 'ms', splitDir: dir, warn: () => undefined }));
    expect(e.message).toMatch(/eurosat-test\.txt:1: Forest_1\.tif is also listed at .*eurosat-train\.txt:1/);
    const lone = await tempDir();
    await writeFile(join(lone, 'eurosat-train.txt'), 'Forest_1.jpg\n');
    e = await rejection(EuroSAT.open(msRoot, { variant: 'ms', splitDir: lone }));
    expect(e.message).toMatch(/split file .*eurosat-test\.txt is missing/);
  });
});

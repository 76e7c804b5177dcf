/**
 * openSceneDataset: kind dispatch, option routing, and the 'auto' detection of the dataset from the tree
 * (synthetic UCM, EuroSAT RGB / all-bands fixtures, a pre-split folder and a plain class tree).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSynthetic } from '@cmid/core/synth';
import { EuroSAT, SCENE_DATASET_KINDS, detectSceneKind, openSceneDataset } from '../../src/datasets/index.js';
import { countByLabel, removeTempDirs, tempDir, writeImage8, writeMs } from './helpers.js';

let synthRoot: string;
let both: string;
let presplit: string;
let classTree: string;

beforeAll(async () => {
  synthRoot = await ensureSynthetic('ucm', { size: 'tiny', seed: 0 });
  both = await tempDir();
  for (const c of EuroSAT.classes) {
    for (let n = 1; n <= 5; n++) {
      await writeImage8(join(both, 'rgb', 'EuroSAT', c, `${c}_${n}.jpg`), 8, n);
      await writeMs(join(both, 'ms', 'tif', c, `${c}_${n}.tif`), 16, 13, n);
    }
  }
  presplit = await tempDir();
  for (const d of ['train', 'test']) for (const c of ['x', 'y']) await writeImage8(join(presplit, d, c, '0.jpg'), 8, 0);
  classTree = join(await tempDir(), 'NWPU-RESISC45');
  for (const c of ['airplane', 'church']) for (let i = 0; i < 10; i++) await writeImage8(join(classTree, c, `${c}_${i}.jpg`), 8, i);
});
afterAll(removeTempDirs);

describe('detectSceneKind', () => {
  it('ucm from Images/, the class folders, img/ or UCMerced_LandUse/', async () => {
    expect(await detectSceneKind(synthRoot)).toBe('ucm');
    expect(await detectSceneKind(join(synthRoot, 'Images'))).toBe('ucm');
    const parent = await tempDir();
    await symlink(synthRoot, join(parent, 'UCMerced_LandUse'));
    expect(await detectSceneKind(parent)).toBe('ucm');
    const ref = await tempDir();
    await mkdir(join(ref, 'img'));
    expect(await detectSceneKind(ref)).toBe('ucm');
  });

  it('eurosat / eurosat-ms by file type, at any depth; both releases under one root is ambiguous', async () => {
    expect(await detectSceneKind(join(both, 'rgb'))).toBe('eurosat');
    expect(await detectSceneKind(join(both, 'rgb', 'EuroSAT'))).toBe('eurosat');
    expect(await detectSceneKind(join(both, 'ms'))).toBe('eurosat-ms');
    await expect(detectSceneKind(both)).rejects.toThrow(/holds both EuroSAT releases .*Pass kind 'eurosat' or 'eurosat-ms'/);
  });

  it('folder for train/ + test/ and for any class tree; errors for an empty or missing folder', async () => {
    expect(await detectSceneKind(presplit)).toBe('folder');
    expect(await detectSceneKind(classTree)).toBe('folder');
    await expect(detectSceneKind(await tempDir())).rejects.toThrow(/cannot tell the dataset in .*no sub-folders/);
    await expect(detectSceneKind('/nonexistent/cmid')).rejects.toThrow(/is not a folder.*kind 'synthetic'/);
  });
});

describe('openSceneDataset', () => {
  it('synthetic (no root needed), and auto without a root', async () => {
    const a = await openSceneDataset('synthetic', undefined, { size: 'tiny', seed: 0 });
    expect(a.name).toBe('synthetic-ucm');
    expect([a.train.length, a.test.length]).toEqual([63, 21]);
    expect(await openSceneDataset('auto', undefined, { size: 'tiny' })).toEqual(a);
  });

  it('auto routes to each reader and passes its options', async () => {
    const ucm = await openSceneDataset('auto', synthRoot, { seed: 2, trainRatio: 0.5, split: 'seeded' });
    expect(ucm.name).toBe('ucm');
    expect(countByLabel(ucm.train, 21)).toEqual(new Array(21).fill(2));
    const ms = await openSceneDataset('auto', join(both, 'ms'), { bands: 'rgb', trainRatio: 0.6, valRatio: 0.2 });
    expect([ms.name, ms.bands, ms.bandIndices]).toEqual(['eurosat-ms', 3, [3, 2, 1]]);
    expect(countByLabel(ms.val!, 10)).toEqual(new Array(10).fill(1));
    const rgb = await openSceneDataset('eurosat', both);
    expect(rgb.root).toBe(join(both, 'rgb', 'EuroSAT'));
    expect(countByLabel(rgb.train, 10)).toEqual(new Array(10).fill(3));
    const nwpu = await openSceneDataset('auto', classTree, { trainRatio: 'nwpu-20' });
    expect([nwpu.name, countByLabel(nwpu.train, 2)]).toEqual(['NWPU-RESISC45', [2, 2]]);
    expect((await openSceneDataset('auto', presplit)).split.source).toBe('folders');
  });

  it('errors: unknown kind, no root, a protocol name for UCM', async () => {
    expect(SCENE_DATASET_KINDS).toEqual(['ucm', 'eurosat', 'eurosat-ms', 'folder', 'synthetic']);
    await expect(openSceneDataset('aid' as never, classTree)).rejects.toThrow(/unknown dataset kind 'aid'. Valid: ucm, eurosat, eurosat-ms, folder, synthetic, auto/);
    await expect(openSceneDataset('ucm', undefined)).rejects.toThrow(/kind 'ucm' needs the dataset folder/);
    await expect(openSceneDataset('ucm', synthRoot, { trainRatio: 'aid-20' })).rejects.toThrow(/trainRatio 'aid-20' is a folder protocol/);
  });
});

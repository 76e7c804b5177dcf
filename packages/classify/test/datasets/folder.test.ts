/**
 * SceneFolder (AID / NWPU-RESISC45 / any ImageFolder tree) on fixtures written here: a one-tree layout split by
 * ratio or protocol name, and a pre-split train/val/test layout detected automatically.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FOLDER_PROTOCOLS, SceneFolder } from '../../src/datasets/index.js';
import { countByLabel, removeTempDirs, tempDir, writeImage8 } from './helpers.js';

const CLASSES = ['Airport', 'BareLand', 'Beach'];
let aid: string;

beforeAll(async () => {
  aid = join(await tempDir(), 'AID');
  for (const [c, cls] of CLASSES.entries()) {
    for (let i = 0; i < 10; i++) await writeImage8(join(aid, cls, `${cls.toLowerCase()}_${i + 1}.jpg`), 8, c * 100 + i);
  }
});
afterAll(removeTempDirs);

describe('SceneFolder, one tree (root/<class>/<img>)', () => {
  it("protocols: aid-20 -> 2 / 8, aid-50 -> 5 / 5 per class; name, classes and bands from the tree", async () => {
    expect(FOLDER_PROTOCOLS).toEqual({ 'aid-20': 0.2, 'aid-50': 0.5, 'nwpu-10': 0.1, 'nwpu-20': 0.2 });
    const a20 = await SceneFolder.open(aid, { trainRatio: 'aid-20' });
    expect(a20.name).toBe('AID');
    expect(a20.classes).toEqual(CLASSES);
    expect([a20.bands, a20.fileBands]).toEqual([3, 3]);
    expect(a20.split).toMatchObject({ source: 'seeded', seed: 0, ratios: { train: 0.2, val: 0 } });
    expect(countByLabel(a20.train, 3)).toEqual([2, 2, 2]);
    expect(countByLabel(a20.test, 3)).toEqual([8, 8, 8]);
    const a50 = await SceneFolder.open(aid, { trainRatio: 0.5 });
    expect(countByLabel(a50.train, 3)).toEqual([5, 5, 5]);
    const n10 = await SceneFolder.open(aid, { trainRatio: 'nwpu-10', valRatio: 0.2 });
    expect(countByLabel(n10.train, 3)).toEqual([1, 1, 1]);
    expect(countByLabel(n10.val!, 3)).toEqual([2, 2, 2]);
    expect(countByLabel(n10.test, 3)).toEqual([7, 7, 7]);
    for (const s of a20.train) expect(s.path).toContain(`/${CLASSES[s.label]}/`);
  });

  it('seeded: the same seed repeats, another differs; default ratio 0.8', async () => {
    const a = await SceneFolder.open(aid, { seed: 1 });
    expect(countByLabel(a.train, 3)).toEqual([8, 8, 8]);
    expect(await SceneFolder.open(aid, { seed: 1 })).toEqual(a);
    expect((await SceneFolder.open(aid, { seed: 2 })).test).not.toEqual(a.test);
  });

  it('bad ratios and protocol names are config errors listing the valid ones', async () => {
    await expect(SceneFolder.open(aid, { trainRatio: 'aid-30' as never })).rejects.toThrow(/Valid: aid-20, aid-50, nwpu-10, nwpu-20/);
    await expect(SceneFolder.open(aid, { trainRatio: 0.9, valRatio: 0.2 })).rejects.toThrow(/add up to 1/);
    await expect(SceneFolder.open(aid, { layout: 'flat' as never })).rejects.toThrow(/Valid: 'auto', 'classes', 'presplit'/);
  });
});

describe('SceneFolder, pre-split (root/train/<class>, root/val/<class>, root/test/<class>)', () => {
  it('is detected; val/test labels follow train class names; 1-band PNGs give bands 1', async () => {
    const root = await tempDir();
    for (const cls of ['a', 'b', 'c']) {
      for (let i = 0; i < 3; i++) await writeImage8(join(root, 'train', cls, `${i}.png`), 8, i, 'png', 1);
    }
    await writeImage8(join(root, 'val', 'c', '0.png'), 8, 9, 'png', 1);
    await writeImage8(join(root, 'test', 'b', '0.png'), 8, 7, 'png', 1);
    await writeImage8(join(root, 'test', 'c', '0.png'), 8, 8, 'png', 1);
    expect(await SceneFolder.isPresplit(root)).toBe(true);
    const ds = await SceneFolder.open(root);
    expect(ds.split).toEqual({ source: 'folders', files: ['train', 'val', 'test'].map((d) => join(root, d)) });
    expect(ds.classes).toEqual(['a', 'b', 'c']);
    expect([ds.bands, ds.fileBands]).toEqual([1, 1]);
    expect(ds.train).toHaveLength(9);
    expect(ds.val).toEqual([{ path: join(root, 'val', 'c', '0.png'), label: 2 }]);
    expect(ds.test).toEqual([
      { path: join(root, 'test', 'b', '0.png'), label: 1 },
      { path: join(root, 'test', 'c', '0.png'), label: 2 },
    ]);
    // forcing the one-tree layout treats train/val/test as classes
    expect((await SceneFolder.open(root, { layout: 'classes', warn: () => undefined })).classes).toEqual(['test', 'train', 'val']);
  });

  it('a test class that train lacks is an error naming the folder', async () => {
    const root = await tempDir();
    await writeImage8(join(root, 'train', 'a', '0.jpg'), 8, 0);
    await writeImage8(join(root, 'test', 'zz', '0.jpg'), 8, 1);
    await expect(SceneFolder.open(root)).rejects.toThrow(/test has class folder\(s\) that .*train lacks: zz/);
    const half = await tempDir();
    await mkdir(join(half, 'train', 'a'), { recursive: true });
    await expect(SceneFolder.open(half, { layout: 'presplit' })).rejects.toThrow(/test is missing; a pre-split tree needs/);
  });
});

/**
 * UC Merced reader on the synthetic tree (ensureSynthetic('ucm', { size: 'tiny' }): 21 classes x 4 images,
 * cached under $CMID_CACHE): class ids, exact stratification, seed determinism, the reference's split files
 * (write, read back, pinned files in the img/ layout), and the errors for bad split files and trees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CmidError } from '@cmid/core';
import { encodeImage, ensureSynthetic, UCM_CLASSES } from '@cmid/core/synth';
import { UCMerced, checkDataset, readScene, sceneReadOptions, syntheticUcm } from '../../src/datasets/index.js';
import { countByLabel, removeTempDirs, tempDir } from './helpers.js';

let synthRoot: string;
beforeAll(async () => {
  synthRoot = await ensureSynthetic('ucm', { size: 'tiny', seed: 0 });
});
afterAll(removeTempDirs);

const quiet = (): void => undefined;

async function rejection(p: Promise<unknown>): Promise<CmidError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CmidError);
    return e as CmidError;
  }
  throw new Error('expected a rejection');
}

/** A reference-layout copy: root/img/ with `perClass` images of each class, flat. */
async function referenceTree(perClass = 2): Promise<string> {
  const root = await tempDir();
  await mkdir(join(root, 'img'));
  for (const c of UCM_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const name = `${c}${String(i).padStart(2, '0')}.tif`;
      await copyFile(join(synthRoot, 'Images', c, name), join(root, 'img', name));
    }
  }
  return root;
}

describe('UCMerced classes', () => {
  it('21 alphabetical ids, as CMID train.txt (mediumresidential 12, sparseresidential 18) and the generator', () => {
    expect(UCMerced.classes).toHaveLength(21);
    expect(UCMerced.classes[0]).toBe('agricultural');
    expect(UCMerced.classes[12]).toBe('mediumresidential');
    expect(UCMerced.classes[18]).toBe('sparseresidential');
    expect(UCMerced.classes[20]).toBe('tenniscourt');
    expect([...UCMerced.classes]).toEqual([...UCM_CLASSES]);
    expect([...UCMerced.classes]).toEqual([...UCMerced.classes].sort());
    expect(UCMerced.labelFromName('airplane07.tif')).toBe(1);
    expect(UCMerced.labelFromName('tenniscourt99.TIF')).toBe(20);
    expect(UCMerced.labelFromName('0001.tif')).toBe(-1);
  });
});

describe('UCMerced seeded split, synthetic tiny (21 x 4)', () => {
  it('train 63 / test 21, exactly 3 / 1 per class, labels match class folders, disjoint and complete', async () => {
    const ds = await syntheticUcm({ size: 'tiny', seed: 0 });
    expect(ds.name).toBe('synthetic-ucm');
    expect(ds.classes).toEqual([...UCM_CLASSES]);
    expect(ds.bands).toBe(3);
    expect(ds.fileBands).toBe(3);
    expect(ds.nominalSize).toEqual({ width: 256, height: 256 });
    expect(ds.val).toBeUndefined();
    expect(ds.split).toMatchObject({ source: 'seeded', seed: 0, ratios: { train: 0.8, val: 0, test: expect.closeTo(0.2, 9) } });
    expect(ds.train).toHaveLength(63);
    expect(ds.test).toHaveLength(21);
    expect(countByLabel(ds.train, 21)).toEqual(new Array(21).fill(3));
    expect(countByLabel(ds.test, 21)).toEqual(new Array(21).fill(1));
    for (const s of [...ds.train, ...ds.test]) expect(basename(join(s.path, '..'))).toBe(UCM_CLASSES[s.label]);
    const all = new Set([...ds.train, ...ds.test].map((s) => s.path));
    expect(all.size).toBe(84);
    // sorted by label then path, and structured-cloneable
    expect(ds.train.map((s) => s.label)).toEqual([...ds.train.map((s) => s.label)].sort((a, b) => a - b));
    expect(structuredClone(ds)).toEqual(ds);
  });

  it('the same seed gives the same split; another seed a different one', async () => {
    const a = await UCMerced.open(synthRoot, { seed: 7, split: 'seeded' });
    const b = await UCMerced.open(synthRoot, { seed: 7, split: 'seeded' });
    const c = await UCMerced.open(synthRoot, { seed: 8, split: 'seeded' });
    expect(b.train).toEqual(a.train);
    expect(b.test).toEqual(a.test);
    expect(c.test).not.toEqual(a.test);
    expect(countByLabel(c.test, 21)).toEqual(new Array(21).fill(1));
    const s1 = await syntheticUcm({ size: 'tiny', seed: 0, splitSeed: 1 });
    expect(s1.test).not.toEqual((await syntheticUcm({ size: 'tiny', seed: 0 })).test);
  });

  it('trainRatio 0.5 gives 2 / 2 per class; ratios outside (0, 1] are refused', async () => {
    const ds = await UCMerced.open(synthRoot, { trainRatio: 0.5, split: 'seeded' });
    expect(countByLabel(ds.train, 21)).toEqual(new Array(21).fill(2));
    expect(countByLabel(ds.test, 21)).toEqual(new Array(21).fill(2));
    const e = await rejection(UCMerced.open(synthRoot, { trainRatio: 1.5, split: 'seeded' }));
    expect(e.message).toMatch(/UCMerced: split ratios train=1.5/);
  });

  it('root may be the folder holding Images/, UCMerced_LandUse/ above it, or Images/ itself', async () => {
    const ref = await UCMerced.open(synthRoot, { split: 'seeded' });
    const imagesItself = await UCMerced.open(join(synthRoot, 'Images'), { split: 'seeded' });
    expect(imagesItself.train).toEqual(ref.train);
    const parent = await tempDir();
    await symlink(synthRoot, join(parent, 'UCMerced_LandUse'));
    const nested = await UCMerced.open(parent, { split: 'seeded' });
    expect(nested.root).toBe(join(parent, 'UCMerced_LandUse'));
    expect(nested.train.map((s) => basename(s.path))).toEqual(ref.train.map((s) => basename(s.path)));
  });
});

it('images not 256x256 are kept as stored and listed by checkDataset (the transforms resize them)', async () => {
  const root = await referenceTree(2);
  const odd = join(root, 'img', 'airplane01.tif');
  await writeFile(odd, await encodeImage(new Uint8Array(253 * 256 * 3).fill(90), 256, 253, 3, 'tiff'));
  const ds = await UCMerced.open(root, { seed: 0 });
  const { dataset, corrupt, offSize } = await checkDataset(ds);
  expect(corrupt).toEqual([]);
  expect(offSize).toEqual([{ path: odd, width: 256, height: 253 }]);
  expect(dataset).toEqual(ds);
  const img = await readScene(odd, sceneReadOptions(ds));
  expect([img.height, img.width, img.channels]).toEqual([253, 256, 3]);
});

describe('UCMerced split files (reference format "<file name> <class index>")', () => {
  it('writeSplit writes train.txt/test.txt atomically; reading them back gives the same split', async () => {
    const dir = await tempDir();
    const ds = await syntheticUcm({ size: 'tiny', seed: 0, splitSeed: 3, splitDir: dir, writeSplit: true });
    expect(ds.split.written).toEqual([join(dir, 'train.txt'), join(dir, 'test.txt')]);
    expect((await readdir(dir)).sort()).toEqual(['test.txt', 'train.txt']); // no temp files left
    const train = (await readFile(join(dir, 'train.txt'), 'utf8')).split('\n');
    expect(train.pop()).toBe('');
    expect(train).toHaveLength(63);
    for (const line of train) expect(line).toMatch(/^[a-z]+\d\d\.tif (\d|1\d|20)$/);
    expect(train[0]).toMatch(/^agricultural\d\d\.tif 0$/);
    const back = await syntheticUcm({ size: 'tiny', seed: 0, splitDir: dir });
    expect(back.split).toEqual({ source: 'files', files: [join(dir, 'train.txt'), join(dir, 'test.txt')] });
    expect(back.train).toEqual(ds.train);
    expect(back.test).toEqual(ds.test);
    // the pinned files win over the seed
    const other = await UCMerced.open(synthRoot, { splitDir: dir, seed: 99 });
    expect(other.test).toEqual(ds.test);
    // never overwrites an existing split
    const e = await rejection(UCMerced.open(synthRoot, { splitDir: dir, split: 'seeded', writeSplit: true }));
    expect(e.message).toMatch(/not writing the generated split: .*train\.txt exists/);
  });

  it('reads pinned files in the img/ layout, labels from the lines; img/ without files labels by name', async () => {
    const root = await referenceTree(2);
    const lines = (names: Array<[string, number]>): string => names.map(([n, l]) => `${n} ${l}`).join('\n');
    await writeFile(join(root, 'train.txt'), lines(UCM_CLASSES.map((c, i) => [`${c}00.tif`, i])) + '\n');
    await writeFile(join(root, 'test.txt'), `\n${lines(UCM_CLASSES.map((c, i) => [`${c}01.tif`, i]))}\r\n`); // blank line, CRLF
    const ds = await UCMerced.open(root);
    expect(ds.split.source).toBe('files');
    expect(ds.train).toHaveLength(21);
    expect(ds.test).toHaveLength(21);
    expect(ds.train[1]).toEqual({ path: join(root, 'img', 'airplane00.tif'), label: 1 });
    expect(ds.test[20]).toEqual({ path: join(root, 'img', 'tenniscourt01.tif'), label: 20 });

    const bare = await referenceTree(4);
    const gen = await UCMerced.open(bare, { seed: 0, writeSplit: true });
    expect(countByLabel(gen.train, 21)).toEqual(new Array(21).fill(3));
    // same files, same seed: the flat layout gives the same split (by file name) as Images/<class>/
    const fromImages = await UCMerced.open(synthRoot, { seed: 0, split: 'seeded' });
    expect(gen.test.map((s) => basename(s.path))).toEqual(fromImages.test.map((s) => basename(s.path)));
    expect((await UCMerced.open(bare)).split.source).toBe('files');
  });

  describe('errors name the split file and line', () => {
    let root: string;
    beforeAll(async () => {
      root = await referenceTree(2);
    });
    const cases: Array<[string, string, RegExp]> = [
      ['no class index', 'agricultural00.tif 0\nairplane00.tif\n', /train\.txt:2: "airplane00\.tif" is not "<file name> <class index>"/],
      ['index not an integer', 'airplane00.tif one\n', /train\.txt:1: class index "one" is not a non-negative integer/],
      ['unknown class id', 'airplane00.tif 0\nbeach00.tif 21\n', /train\.txt:2: unknown class id 21; valid are 0\.\.20 .*1-based/],
      ['file not in img/', 'airplane77.tif 1\n', /train\.txt:1: airplane77\.tif is not in .*img/],
      ['id disagrees with the name', 'airplane00.tif 2\n', /train\.txt:1: airplane00\.tif has class id 2 \(baseballdiamond\) but is a airplane image \(id 1\)/],
      ['listed twice', 'airplane00.tif 1\nbeach00.tif 3\nairplane00.tif 1\n', /train\.txt:3: airplane00\.tif is listed twice \(also on line 1\)/],
      ['in train and test', 'beach01.tif 3\n', /test\.txt:1: beach01\.tif is also listed in .*train\.txt:1; train and test must not share/],
    ];
    it.each(cases)('%s', async (_what, trainText, pattern) => {
      const dir = await tempDir();
      await writeFile(join(dir, 'train.txt'), trainText);
      await writeFile(join(dir, 'test.txt'), 'beach01.tif 3\n');
      const e = await rejection(UCMerced.open(root, { splitDir: dir, warn: quiet }));
      expect(e.message).toMatch(pattern);
      expect(e.file).toBe(join(dir, pattern.source.startsWith('test') ? 'test.txt' : 'train.txt'));
    });

    it('one split file missing, or split: files without any', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'train.txt'), 'airplane00.tif 1\n');
      const e = await rejection(UCMerced.open(root, { splitDir: dir }));
      expect(e.message).toMatch(/split file .*test\.txt is missing/);
      expect(e.file).toBe(join(dir, 'test.txt'));
      const empty = await tempDir();
      const f = await rejection(UCMerced.open(root, { splitDir: empty, split: 'files' }));
      expect(f.message).toMatch(/split: 'files' requires/);
    });
  });

  it('tree errors: nothing found, missing class folders, unnamed flat images, writeSplit into the cache', async () => {
    const none = await tempDir();
    const e = await rejection(UCMerced.open(none));
    expect(e.message).toMatch(/UCMerced: no images under .*expected Images\/<class>\/<class>NN\.tif.*cmid synth ucm/);
    const partial = await tempDir();
    for (const c of ['airplane', 'beach']) {
      await mkdir(join(partial, 'Images', c), { recursive: true });
      await copyFile(join(synthRoot, 'Images', c, `${c}00.tif`), join(partial, 'Images', c, `${c}00.tif`));
    }
    const p = await rejection(UCMerced.open(partial));
    expect(p.message).toMatch(/does not hold the 21 UCM class folders; missing: agricultural, baseballdiamond/);
    const odd = await referenceTree(1);
    await copyFile(join(odd, 'img', 'beach00.tif'), join(odd, 'img', '0001.tif'));
    const u = await rejection(UCMerced.open(odd));
    expect(u.message).toMatch(/0001\.tif does not name its class/);
    await expect(syntheticUcm({ size: 'tiny', writeSplit: true })).rejects.toThrow(/writeSplit needs a splitDir/);
  });
});

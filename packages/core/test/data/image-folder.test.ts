/** ImageFolder: torchvision class rules, the flat layout, skips and errors, decode, and the shared real samples. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ImageFolder, IMAGE_FOLDER_DECODE, decodeImageFolderSample, type ImageFolderSample } from '../../src/data/image-folder.js';
import { DataLoader } from '../../src/data/loader.js';
import { writeGeoTiff } from '../../src/io/write-geotiff.js';
import { CmidError } from '../../src/runtime/errors.js';
import { HAVE_REAL, REAL, removeTempDirs, tempDir } from '../io/helpers.js';

afterAll(removeTempDirs);

/** A 4x3 RGB PNG whose pixel (x, y) is [seed + x, seed + 10 * y, seed + 100]. */
async function png(path: string, seed: number): Promise<void> {
  const px = new Uint8Array(4 * 3 * 3);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) px.set([seed + x, seed + 10 * y, seed + 100], (y * 4 + x) * 3);
  await sharp(px, { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(path);
}

let root: string;
beforeAll(async () => {
  root = await tempDir('cmid-imagefolder-');
  // classes out of order, one upper-case (sorts first by code point), nested files, odd extensions
  for (const d of ['b_river', 'a_field/sub', 'B_upper', '.cache', 'a_field/.thumbs']) await mkdir(join(root, d), { recursive: true });
  await png(join(root, 'b_river', 'r2.png'), 1);
  await png(join(root, 'b_river', 'r10.png'), 2); // code-point order: r10 < r2
  await png(join(root, 'a_field', 'f1.PNG'), 3); // extension is case-insensitive
  await png(join(root, 'a_field', 'sub', 'f0.png'), 4);
  await writeGeoTiff(join(root, 'B_upper', 'u.tif'), new Uint16Array([1, 2, 3, 4, 5, 6]), { width: 3, height: 2, bands: 1 });
  await writeFile(join(root, 'a_field', 'notes.txt'), 'not an image');
  await writeFile(join(root, 'README.md'), 'beside the classes');
  await writeFile(join(root, '.DS_Store'), '');
  await png(join(root, '.cache', 'x.png'), 5); // hidden: ignored
  await symlink(join(root, 'a_field'), join(root, 'a_field', 'sub', 'loop')); // a cycle: must not hang
});

describe('ImageFolder, classes layout', () => {
  it('classes sorted by code point, labels by that order, files sorted recursively; non-images skipped with one warning', async () => {
    const warnings: string[] = [];
    const f = await ImageFolder.open(root, { warn: (m) => warnings.push(m) });
    expect(f.classes).toEqual(['B_upper', 'a_field', 'b_river']);
    expect(f.classToIndex).toEqual({ B_upper: 0, a_field: 1, b_river: 2 });
    const rel = f.samples.map((s) => [s.path.slice(root.length + 1), s.label]);
    expect(rel).toEqual([
      ['B_upper/u.tif', 0],
      ['a_field/f1.PNG', 1],
      ['a_field/sub/f0.png', 1],
      ['b_river/r10.png', 2],
      ['b_river/r2.png', 2],
    ]);
    expect(f.skipped.map((p) => p.slice(root.length + 1)).sort()).toEqual(['README.md', 'a_field/notes.txt']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 non-image file\(s\) \(.*a_field\/notes\.txt.*\); pass strict: true/);
  });

  it('strict: a non-image file is an error naming it', async () => {
    const e = await ImageFolder.open(root, { strict: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CmidError);
    expect((e as CmidError).file).toMatch(/(README\.md|notes\.txt)$/);
    expect((e as Error).message).toContain('is not an image (recognised: .tif .tiff .jpg .jpeg .png .webp)');
  });

  it('load() decodes to float32 HWC with the file values', async () => {
    const f = await ImageFolder.open(root, { warn: () => undefined });
    const { image, label } = await f.load(4); // b_river/r2.png, seed 1
    expect([image.height, image.width, image.channels, label]).toEqual([3, 4, 3, 2]);
    expect(image.data).toBeInstanceOf(Float32Array);
    expect(Array.from(image.data.subarray((2 * 4 + 3) * 3, (2 * 4 + 3) * 3 + 3))).toEqual([1 + 3, 1 + 20, 101]);
    const tif = await f.load(0);
    expect(Array.from(tif.image.data)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(f.load(99)).rejects.toThrow(/index 99 is out of range 0\.\.4/);
  });

  it('errors: missing path, a file, no class folders, an empty class folder', async () => {
    const none = join(root, 'nope');
    await expect(ImageFolder.open(none)).rejects.toThrow(`ImageFolder: ${none} does not exist`);
    await expect(ImageFolder.open(join(root, 'README.md'))).rejects.toThrow(/is a file, not a folder/);
    const flatDir = await tempDir('cmid-imagefolder-flat-');
    await png(join(flatDir, 'a.png'), 0);
    await expect(ImageFolder.open(flatDir, { warn: () => undefined })).rejects.toThrow(/no class folders in .*layout: 'flat'/);
    const emptyClass = await tempDir('cmid-imagefolder-empty-');
    await mkdir(join(emptyClass, 'full'));
    await mkdir(join(emptyClass, 'hollow'));
    await png(join(emptyClass, 'full', 'a.png'), 0);
    const e = await ImageFolder.open(emptyClass).catch((x: unknown) => x);
    expect((e as Error).message).toContain(`no image in class folder(s) ${join(emptyClass, 'hollow')}`);
    expect((e as CmidError).file).toBe(join(emptyClass, 'hollow'));
    const empty = await tempDir('cmid-imagefolder-void-');
    await expect(ImageFolder.open(empty, { layout: 'flat' })).rejects.toThrow(/no image in .*Images in sub-folders\? Pass recursive: true/);
  });
});

describe('ImageFolder, flat layout', () => {
  it('labels are -1; recursive adds sub-folders in sorted order', async () => {
    const top = await ImageFolder.open(join(root, 'a_field'), { layout: 'flat', warn: () => undefined });
    expect(top.samples.map((s) => [s.path.slice(root.length + 1), s.label])).toEqual([['a_field/f1.PNG', -1]]);
    expect(top.classes).toEqual([]);
    const deep = await ImageFolder.open(root, { layout: 'flat', recursive: true, warn: () => undefined });
    expect(deep.samples.map((s) => s.path.slice(root.length + 1))).toEqual([
      'B_upper/u.tif', 'a_field/f1.PNG', 'a_field/sub/f0.png', 'b_river/r10.png', 'b_river/r2.png',
    ]);
  });
});

describe('ImageFolder through the loader', () => {
  it('IMAGE_FOLDER_DECODE in a worker gives what decodeImageFolderSample gives in-process', async () => {
    const f = await ImageFolder.open(root, { warn: () => undefined });
    const l = new DataLoader<ImageFolderSample, { image: { data: Float32Array }; label: number; path: string }>({
      samples: f.samples, map: IMAGE_FOLDER_DECODE, batchSize: 2, seed: 0, workers: 1,
    });
    try {
      const decode = decodeImageFolderSample({});
      for await (const b of l.epoch(0)) {
        for (const [k, it] of b.items.entries()) {
          const want = await decode(f.samples[b.indices[k]!]!);
          expect(it.path).toBe(want.path);
          expect(it.label).toBe(want.label);
          expect(it.image.data).toEqual(want.image.data);
        }
      }
    } finally {
      await l.close();
    }
  });
});

describe.skipIf(!HAVE_REAL)(`ImageFolder on the shared real samples (${REAL})`, () => {
  it('LEVIR-CD as classes A, B, label: 3 PNGs each, decoded 256x256 RGB and 1-band masks', async () => {
    const f = await ImageFolder.open(join(REAL, 'cd/levir-cd'));
    expect(f.classes).toEqual(['A', 'B', 'label']);
    expect(f.samples.map((s) => s.label)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(f.samples[0]!.path).toMatch(/A\/test_2_0000_0000\.png$/);
    const a = await f.load(0);
    expect([a.image.height, a.image.width, a.image.channels]).toEqual([256, 256, 3]);
    const mask = await f.load(6);
    expect(mask.image.channels).toBe(1);
    expect(new Set(mask.image.data)).toEqual(new Set([0, 255]));
  });

  it('scenes/ as a flat folder: the truncated JPEG is listed, and decoding it names the file', async () => {
    const f = await ImageFolder.open(join(REAL, 'scenes'), { layout: 'flat' });
    expect(f.samples.map((s) => s.path.slice(REAL.length + 1))).toEqual([
      'scenes/airport.jpg', 'scenes/broken-truncated-airport.jpg', 'scenes/jpeg_3channel_uint8.jpeg',
    ]);
    const l = new DataLoader({ samples: f.samples, map: decodeImageFolderSample({}), batchSize: 3, seed: 0, shuffle: false });
    const e = await l.epoch(0).next().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CmidError);
    expect((e as Error).message).toContain('sample 1 (');
    expect((e as CmidError).file).toBe(join(REAL, 'scenes/broken-truncated-airport.jpg'));
  });
});

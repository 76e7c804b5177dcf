import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { dota, dotaImage, dotaImages, formatLabelTxt } from '../../../src/synth/layouts/dota.js';
import { pointInPolygon, signedArea, type Vec } from '../../../src/synth/scene/geometry.js';
import { hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

/** The 15 DOTA v1.0 categories (mmrotate DOTADataset.CLASSES). */
const DOTA_V1 = [
  'plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle', 'large-vehicle', 'ship', 'tennis-court',
  'basketball-court', 'storage-tank', 'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter',
];

const NUM = '-?\\d+(?:\\.\\d+)?';
const LINE = new RegExp(`^(${NUM}) (${NUM}) (${NUM}) (${NUM}) (${NUM}) (${NUM}) (${NUM}) (${NUM}) ([a-z-]+) ([01])$`);

interface Parsed {
  poly: Vec[];
  cls: string;
  difficult: number;
}

/** Parses a labelTxt the way the DOTA devkit does: header lines, then 8 numbers, a class and a flag. */
function parseLabelTxt(text: string): { header: string[]; objects: Parsed[] } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines.filter((l) => l.startsWith('imagesource:') || l.startsWith('gsd:'));
  const objects = lines.filter((l) => !header.includes(l)).map((l) => {
    const m = LINE.exec(l);
    expect(m, `labelTxt line "${l}"`).not.toBeNull();
    const v = m!.slice(1, 9).map(Number);
    return { poly: [[v[0]!, v[1]!], [v[2]!, v[3]!], [v[4]!, v[5]!], [v[6]!, v[7]!]] as Vec[], cls: m![9]!, difficult: Number(m![10]) };
  });
  return { header, objects };
}

describe('synth dota (tiny): DOTA v1.0 layout', () => {
  let dir: string;
  let again: string;
  const list = dotaImages(0, 'tiny');
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await dota({ out: dir, size: 'tiny', seed: 0 });
    await dota({ out: again, size: 'tiny', seed: 0 });
  });

  it('{train,val}/{images,labelTxt} with matching names P0000.., test/images without labels', async () => {
    const files = await listFiles(dir);
    const expected = list.flatMap(({ name, split }) => (split === 'test' ? [`test/images/${name}.png`] : [`${split}/images/${name}.png`, `${split}/labelTxt/${name}.txt`]));
    expect(files).toEqual([...expected, 'synth.json'].sort());
    expect(list.map((x) => x.split)).toEqual(['train', 'train', 'train', 'val', 'test']);
    for (const { name } of list) expect(name).toMatch(/^P\d{4}$/);
  });

  it('same seed, byte-identical files', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('PNG RGB uint8 of varying size; labelTxt parseable, DOTA v1.0 classes, corners inside the image, clockwise', async () => {
    const sizes = new Set<string>();
    let objects = 0;
    const classes = new Set<string>();
    for (const { name, split } of list) {
      const r = await openRaster(join(dir, `${split}/images/${name}.png`));
      const [W, H] = [r.width, r.height];
      expect([r.format, r.bands, r.dtype]).toEqual(['png', 3, 'uint8']);
      await r.close();
      sizes.add(`${W}x${H}`);
      if (split === 'test') continue;
      const { header, objects: objs } = parseLabelTxt(await readFile(join(dir, `${split}/labelTxt/${name}.txt`), 'utf8'));
      expect(header[0]).toBe('imagesource:GoogleEarth');
      expect(header[1]).toMatch(/^gsd:\d+\.\d+$/);
      for (const o of objs) {
        expect(DOTA_V1).toContain(o.cls);
        classes.add(o.cls);
        for (const [x, y] of o.poly) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(W);
          expect(y).toBeLessThanOrEqual(H);
        }
        expect(signedArea(o.poly)).toBeGreaterThan(4);
        objects++;
      }
    }
    expect(sizes.size).toBeGreaterThan(1);
    expect(objects).toBeGreaterThan(10);
    expect(classes.size).toBeGreaterThanOrEqual(4);
  });

  it('labels match the pixels: every pixel an object painted lies inside its written polygon; boxes are tight', async () => {
    let angled = 0;
    for (const { index, name, split } of list) {
      const img = dotaImage(0, index, 'tiny');
      const png = await readU8(join(dir, `${split}/images/${name}.png`));
      expect(Buffer.from(png.data).equals(Buffer.from(img.rgb))).toBe(true); // the file is the generator's image
      if (split === 'test') continue;
      const text = await readFile(join(dir, `${split}/labelTxt/${name}.txt`), 'utf8');
      expect(text).toBe(formatLabelTxt(img.objects, img.gsd));
      const { objects } = parseLabelTxt(text);
      expect(objects).toHaveLength(img.objects.length);
      // group painted pixel centres by instance id
      const pixels = new Map<number, Array<[number, number]>>();
      for (const o of img.objects) pixels.set(o.id, []);
      for (let i = 0; i < img.obj.length; i++) pixels.get(img.obj[i]!)?.push([(i % img.width) + 0.5, Math.floor(i / img.width) + 0.5]);
      img.objects.forEach((o, k) => {
        const poly = objects[k]!.poly; // as written (one decimal)
        const pix = pixels.get(o.id)!;
        expect(pix.length).toBeGreaterThan(0);
        expect(pix.filter(([x, y]) => !pointInPolygon(x, y, poly))).toEqual([]);
        const [a, b] = [poly[0]!, poly[1]!];
        const ang = Math.abs(((Math.atan2(b[1] - a[1], b[0] - a[0]) * 180) / Math.PI) % 90);
        if (ang > 10 && ang < 80) angled++;
        if (objects[k]!.difficult === 0) {
          // unoccluded objects fill their box: the box is at most 3 px wider than the painted extent per side
          for (let e = 0; e < 4; e++) {
            const [p, q] = [poly[e]!, poly[(e + 1) % 4]!];
            let d = Infinity;
            for (const [x, y] of pix) d = Math.min(d, Math.abs((q[0] - p[0]) * (p[1] - y) - (p[0] - x) * (q[1] - p[1])) / Math.hypot(q[0] - p[0], q[1] - p[1]));
            expect(d).toBeLessThan(3);
          }
        }
      });
    }
    expect(angled).toBeGreaterThan(3); // objects at arbitrary angles, not only axis-aligned
  });
});

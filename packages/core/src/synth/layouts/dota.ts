/**
 * DOTA v1.0, synthetic, in the layout mmrotate and the DOTA devkit read:
 *
 *   train/images/P0003.png   train/labelTxt/P0003.txt
 *   val/images/P0001.png     val/labelTxt/P0001.txt
 *   test/images/P0000.png    (no labels, as the real test split)
 *
 * PNG RGB images of varying size. Each labelTxt starts with `imagesource:GoogleEarth` and `gsd:<m>`, then one
 * object per line: `x1 y1 x2 y2 x3 y3 x4 y4 <class> <difficult>`, the four corners of the oriented box,
 * clockwise on screen from the object's front, one decimal. Classes are the 15 DOTA v1.0 names.
 *
 * The box of an object is its parts' local bounding box grown by half a pixel, so it contains every pixel
 * the object painted (scene/objects.ts); objects whose box would leave the image are not generated. An object
 * hidden under crowns for 40 % or more of its pixels, or smaller than 40 pixels, is marked difficult (1);
 * one with no visible pixel is not labelled.
 */
import { randomConditions } from '../scene/conditions.js';
import { DETECTION_THEMES, detectionScene } from '../scene/detection.js';
import type { Vec } from '../scene/geometry.js';
import { RGB_BANDS } from '../scene/materials.js';
import { render, toDisplay8 } from '../scene/render.js';
import { Scene, type DotaClass } from '../scene/scene.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';

export { DOTA_CLASSES, type DotaClass } from '../scene/scene.js';

export type DotaSplit = 'train' | 'val' | 'test';

const PLAN: Record<SynthSize, { train: number; val: number; test: number; side: [number, number] }> = {
  tiny: { train: 3, val: 1, test: 1, side: [360, 560] },
  small: { train: 40, val: 12, test: 8, side: [800, 1400] },
  medium: { train: 280, val: 90, test: 60, side: [800, 2000] },
};

export interface DotaObject {
  /** Instance id in `obj`. */
  id: number;
  /** Four corners, clockwise on screen, in pixels. */
  poly: Vec[];
  cls: DotaClass;
  difficult: 0 | 1;
}

export interface DotaImage {
  width: number;
  height: number;
  gsd: number;
  theme: string;
  /** HWC uint8 RGB. */
  rgb: Uint8Array;
  /** Instance id per pixel (0 background; labelled objects are those in `objects`). */
  obj: Uint32Array;
  objects: DotaObject[];
}

/** The split and image number of every image of a size: train, val, test in turn; numbers shuffled. */
export function dotaImages(seed: number, size: SynthSize): Array<{ index: number; name: string; split: DotaSplit }> {
  const p = PLAN[size];
  const n = p.train + p.val + p.test;
  const numbers = sampleRng(seed, 'dota/names', 0).shuffle(Array.from({ length: n }, (_, i) => i));
  return numbers.map((num, index) => ({
    index,
    name: `P${String(num).padStart(4, '0')}`,
    split: index < p.train ? 'train' : index < p.train + p.val ? 'val' : 'test',
  }));
}

/** Image `index` under `seed`: pixels, instance map and labels. */
export function dotaImage(seed: number, index: number, size: SynthSize): DotaImage {
  const rng = sampleRng(seed, 'dota', index);
  const [lo, hi] = PLAN[size].side;
  const width = rng.int(lo, hi + 1);
  const height = rng.int(lo, hi + 1);
  const gsd = Math.round(rng.uniform(0.15, 0.45) * 1e6) / 1e6;
  const theme = DETECTION_THEMES[index % DETECTION_THEMES.length]!;
  const scene = detectionScene(new Scene(width, height, gsd, rng.nextU32()), rng, theme);
  const cond = randomConditions(rng, { snow: false, season: rng.next() < 0.6 ? 'summer' : 'spring' });
  const canvas = scene.paint(cond);
  const rgb = toDisplay8(render(canvas, cond, { bands: RGB_BANDS, textureSeed: scene.textureSeed, blur: 0.6 }));
  const count = new Uint32Array(scene.idLimit);
  for (let i = 0; i < canvas.obj.length; i++) count[canvas.obj[i]!]!++;
  const objects: DotaObject[] = [];
  for (const f of scene.features) {
    if (f.dotaClass === undefined || f.obb === undefined) continue;
    const visible = count[f.id]!;
    if (visible === 0) continue;
    const total = visible + canvas.overwritten[f.id]!;
    const difficult = f.difficult === true || visible < 40 || visible < 0.6 * total ? 1 : 0;
    objects.push({ id: f.id, poly: [...f.obb], cls: f.dotaClass, difficult });
  }
  return { width, height, gsd, theme, rgb, obj: canvas.obj, objects };
}

/** A labelTxt file: the two header lines, then one line per object. */
export function formatLabelTxt(objects: readonly DotaObject[], gsd: number): string {
  const lines = ['imagesource:GoogleEarth', `gsd:${gsd}`];
  for (const o of objects) lines.push(`${o.poly.map(([x, y]) => `${x.toFixed(1)} ${y.toFixed(1)}`).join(' ')} ${o.cls} ${o.difficult}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the synthetic DOTA tree under `o.out`. */
export async function dota(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('dota', o);
  const list = dotaImages(p.seed, p.size);
  const w = new DatasetWriter('dota', p, list.length, 3);
  const counts: Record<string, number> = {};
  for (const { index, name, split } of list) {
    const img = dotaImage(p.seed, index, p.size);
    await w.image(`${split}/images/${name}.png`, img.rgb, img.width, img.height, 3, 'png');
    if (split !== 'test') {
      await w.text(`${split}/labelTxt/${name}.txt`, formatLabelTxt(img.objects, img.gsd));
      for (const ob of img.objects) counts[ob.cls] = (counts[ob.cls] ?? 0) + 1;
    }
    w.sampleDone();
  }
  const plan = PLAN[p.size];
  return w.finish({ splits: { train: plan.train, val: plan.val, test: plan.test }, instances: counts });
}

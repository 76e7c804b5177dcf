/**
 * MillionAID as CMID pretrains on it, synthetic: the unlabelled test split read with torchvision's
 * ImageFolder, i.e. every image one folder level below the root:
 *
 *   test/P0000000.jpg, test/P0000001.jpg, ...
 *
 * RGB JPEGs of varying size (the real ones run from about 100 px to many thousands) and ground resolution
 * (0.3 to 1.2 m here), each a land-use scene (the UC Merced recipes) in a random season, snow included,
 * with a camera auto-exposure.
 */
import { LAND_USE } from '../scene/land-use.js';
import { randomConditions } from '../scene/conditions.js';
import { RGB_BANDS } from '../scene/materials.js';
import { autoExposure, render, toDisplay8 } from '../scene/render.js';
import { Scene } from '../scene/scene.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';

const PLAN: Record<SynthSize, { images: number; side: [number, number] }> = {
  tiny: { images: 12, side: [96, 256] },
  small: { images: 400, side: [128, 512] },
  medium: { images: 4000, side: [128, 768] },
};

const SCENES = Object.keys(LAND_USE);

export interface MillionAidImage {
  width: number;
  height: number;
  /** The land-use recipe that made it (not written: the corpus is unlabelled). */
  scene: string;
  rgb: Uint8Array;
}

/** File name of image `index`: P followed by 7 digits, as the real corpus. */
export const millionaidName = (index: number): string => `P${String(index).padStart(7, '0')}.jpg`;

/** Image `index` under `seed`. */
export function millionaidImage(seed: number, index: number, size: SynthSize): MillionAidImage {
  const rng = sampleRng(seed, 'millionaid', index);
  const [lo, hi] = PLAN[size].side;
  const width = rng.int(lo, hi + 1);
  const height = rng.next() < 0.6 ? width : rng.int(lo, hi + 1);
  const name = SCENES[rng.int(0, SCENES.length)]!;
  const scene = new Scene(width, height, rng.uniform(0.3, 1.2), rng.nextU32());
  LAND_USE[name]!(scene, rng);
  const cond = randomConditions(rng);
  const values = render(scene.paint(cond), cond, { bands: RGB_BANDS, textureSeed: scene.textureSeed });
  return { width, height, scene: name, rgb: toDisplay8(values, autoExposure(values)) };
}

/** Writes the synthetic MillionAID pretraining folder under `o.out`. */
export async function millionaid(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('millionaid', o);
  const n = PLAN[p.size].images;
  const w = new DatasetWriter('millionaid', p, n);
  for (let i = 0; i < n; i++) {
    const img = millionaidImage(p.seed, i, p.size);
    await w.image(`test/${millionaidName(i)}`, img.rgb, img.width, img.height, 3, 'jpeg', { quality: 90 });
    w.sampleDone();
  }
  return w.finish({ images: n, layout: 'ImageFolder root; one folder level (test/)' });
}

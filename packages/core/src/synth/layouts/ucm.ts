/**
 * UC Merced Land Use, synthetic: `Images/<class>/<class>NN.tif`, 21 classes, 256 x 256 RGB uint8 TIFF
 * (uncompressed, as the originals), 0.3 m (1 ft) pixels. Class ids are the alphabetical index (CMID's
 * train.txt/test.txt ids: mediumresidential = 12, sparseresidential = 18).
 *
 * The classes differ by scene composition only. Every image gets an auto-exposure and white balance that
 * sets its per-channel mean to a target drawn from one class-independent distribution, so a classifier on the
 * mean colour is at chance while one on structure (edges, orientation, texture) is not.
 */
import { LAND_USE } from '../scene/land-use.js';
import { randomConditions } from '../scene/conditions.js';
import { RGB_BANDS } from '../scene/materials.js';
import { render, toDisplay8Matched } from '../scene/render.js';
import { Scene } from '../scene/scene.js';
import type { Rng } from '../../rng/rng.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';

export const UCM_CLASSES = [
  'agricultural', 'airplane', 'baseballdiamond', 'beach', 'buildings', 'chaparral', 'denseresidential', 'forest', 'freeway',
  'golfcourse', 'harbor', 'intersection', 'mediumresidential', 'mobilehomepark', 'overpass', 'parkinglot', 'river', 'runway',
  'sparseresidential', 'storagetanks', 'tenniscourt',
] as const;
export type UcmClass = (typeof UCM_CLASSES)[number];

/** Images per class. The real dataset has 100. */
export const UCM_PER_CLASS: Record<SynthSize, number> = { tiny: 4, small: 20, medium: 100 };
export const UCM_TILE = 256;
export const UCM_GSD = 0.3048;

/** The class-independent 8-bit mean colour of an image: a grey level with a small white-balance cast. */
export function ucmTargetMeans(rng: Rng): [number, number, number] {
  const level = rng.uniform(88, 150);
  return [level * rng.uniform(0.94, 1.08), level * rng.uniform(0.95, 1.06), level * rng.uniform(0.86, 1.02)];
}

/** Image `index` of class `cls` under `seed`: 256 x 256 x 3 uint8, HWC. */
export function ucmImage(seed: number, cls: number, index: number): Uint8Array {
  const name = UCM_CLASSES[cls]!;
  const rng = sampleRng(seed, `ucm/${name}`, index);
  const scene = new Scene(UCM_TILE, UCM_TILE, UCM_GSD, rng.nextU32());
  LAND_USE[name]!(scene, rng);
  const cond = randomConditions(rng, { snow: false });
  const canvas = scene.paint(cond);
  const values = render(canvas, cond, { bands: RGB_BANDS, textureSeed: scene.textureSeed });
  return toDisplay8Matched(values, 3, ucmTargetMeans(rng));
}

/** Writes the synthetic UC Merced tree under `o.out`. */
export async function ucm(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('ucm', o);
  const per = UCM_PER_CLASS[p.size];
  const w = new DatasetWriter('ucm', p, per * UCM_CLASSES.length);
  for (let c = 0; c < UCM_CLASSES.length; c++) {
    const name = UCM_CLASSES[c]!;
    for (let i = 0; i < per; i++) {
      const img = ucmImage(p.seed, c, i);
      await w.image(`Images/${name}/${name}${String(i).padStart(2, '0')}.tif`, img, UCM_TILE, UCM_TILE, 3, 'tiff');
      w.sampleDone();
    }
  }
  return w.finish({ classes: UCM_CLASSES, perClass: per, gsd: UCM_GSD });
}

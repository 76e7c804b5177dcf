/**
 * CDD (Lebedev et al. 2018, season-varying change detection), synthetic, in the `subset` layout CMID and
 * SNUNet read:
 *
 *   {train,val,test}/A/00000.jpg     time 1, 256 x 256 RGB JPEG
 *   {train,val,test}/B/00000.jpg     time 2, same place, another season and sun
 *   {train,val,test}/OUT/00000.jpg   change mask, one-channel JPEG: 255 change, 0 no change
 *
 * B differs from A everywhere by the season (vegetation vigour and colour, snow, crop stage), the sun (shadow
 * direction and length) and the exposure; the only real changes are buildings built or demolished and new
 * roads, and OUT marks exactly their visible pixels. OUT is written at JPEG quality 100 so that it decodes to
 * the exact mask (thresholding at 128 and CMID's `v == 255` both recover it in practice).
 */
import { randomConditions, type Conditions, type Season } from '../scene/conditions.js';
import { changeMask, planChange, type ChangePlan } from '../scene/change.js';
import type { Canvas } from '../scene/canvas.js';
import { RGB_BANDS } from '../scene/materials.js';
import { autoExposure, render, toDisplay8 } from '../scene/render.js';
import { Scene } from '../scene/scene.js';
import type { Rng } from '../../rng/rng.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';

export type CddSplit = 'train' | 'val' | 'test';
export const CDD_SPLITS: readonly CddSplit[] = ['train', 'val', 'test'];
export const CDD_TILE = 256;

export const CDD_PER_SPLIT: Record<SynthSize, Record<CddSplit, number>> = {
  tiny: { train: 6, val: 2, test: 2 },
  small: { train: 200, val: 60, test: 60 },
  medium: { train: 1000, val: 300, test: 300 },
};

export interface CddPair {
  /** HWC uint8 RGB, time 1 and time 2. */
  a: Uint8Array;
  b: Uint8Array;
  /** Exact change mask, 1 = changed. */
  mask: Uint8Array;
  plan: ChangePlan;
  canvasA: Canvas;
  canvasB: Canvas;
  condA: Conditions;
  condB: Conditions;
}

/** Two dates with different seasons, snow on one of them about a third of the time. */
function seasonPair(rng: Rng): [Conditions, Conditions] {
  const pairs: Array<[Season, Season]> = [['summer', 'winter'], ['spring', 'autumn'], ['summer', 'autumn'], ['winter', 'spring'], ['autumn', 'summer'], ['spring', 'summer']];
  const [sa, sb] = pairs[rng.int(0, pairs.length)]!;
  const snowA = sa === 'winter' && rng.next() < 0.7;
  const snowB = sb === 'winter' && rng.next() < 0.7;
  return [randomConditions(rng, { season: sa, snow: snowA }), randomConditions(rng, { season: sb, snow: snowB })];
}

/** Pair `index` of `split` under `seed`. */
export function cddPair(seed: number, split: CddSplit, index: number): CddPair {
  const rng = sampleRng(seed, `cdd/${split}`, index);
  const gsd = rng.uniform(0.3, 0.7);
  const plan = planChange(new Scene(CDD_TILE, CDD_TILE, gsd, rng.nextU32()), rng);
  const [condA, condB] = seasonPair(rng);
  const canvasA = plan.before.paint(condA);
  const canvasB = plan.after.paint(condB);
  const va = render(canvasA, condA, { bands: RGB_BANDS, textureSeed: plan.before.textureSeed });
  const vb = render(canvasB, condB, { bands: RGB_BANDS, textureSeed: plan.after.textureSeed });
  const a = toDisplay8(va, autoExposure(va));
  const b = toDisplay8(vb, autoExposure(vb));
  return { a, b, mask: changeMask(plan, canvasA, canvasB), plan, canvasA, canvasB, condA, condB };
}

/** Writes the synthetic CDD `subset` tree under `o.out`. */
export async function cdd(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('cdd', o);
  const per = CDD_PER_SPLIT[p.size];
  const total = per.train + per.val + per.test;
  const w = new DatasetWriter('cdd', p, total, 6);
  let changed = 0;
  for (const split of CDD_SPLITS) {
    for (let i = 0; i < per[split]; i++) {
      const pair = cddPair(p.seed, split, i);
      const name = `${String(i).padStart(5, '0')}.jpg`;
      const out = new Uint8Array(pair.mask.length);
      for (let k = 0; k < out.length; k++) out[k] = pair.mask[k]! * 255;
      if (pair.plan.added.length + pair.plan.removed.length > 0) changed++;
      await w.image(`${split}/A/${name}`, pair.a, CDD_TILE, CDD_TILE, 3, 'jpeg', { quality: 92 });
      await w.image(`${split}/B/${name}`, pair.b, CDD_TILE, CDD_TILE, 3, 'jpeg', { quality: 92 });
      await w.image(`${split}/OUT/${name}`, out, CDD_TILE, CDD_TILE, 1, 'jpeg', { quality: 100 });
      w.sampleDone();
    }
  }
  return w.finish({ splits: per, pairsWithChange: changed });
}

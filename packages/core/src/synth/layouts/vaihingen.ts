/**
 * ISPRS Vaihingen, synthetic, in the folder layout of the unpacked archives:
 *
 *   ISPRS_semantic_labeling_Vaihingen/top/top_mosaic_09cm_area{N}.tif                                    IRRG, 3-band uint8 GeoTIFF
 *   ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE/top_mosaic_09cm_area{N}.tif                  colour-coded labels
 *   ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE/top_mosaic_09cm_area{N}_noBoundary.tif eroded labels
 *
 * The orthophotos are false colour: band 1 near-infrared, band 2 red, band 3 green (vegetation looks red).
 * Areas are the real 33 (16 train, 17 test); 9 cm pixels, WGS 84 / UTM 32N (EPSG:32632) around Vaihingen;
 * each area gets its own size (the real ones vary from about 1900 to 3800 px), scaled down.
 */
import type { GeoRef } from '../../io/georef.js';
import { randomConditions } from '../scene/conditions.js';
import { IRRG_BANDS } from '../scene/materials.js';
import { render, toDisplay8 } from '../scene/render.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';
import { colourise, erodeBoundaries, isprsIds, isprsScene } from './isprs.js';

export const VAIHINGEN_TRAIN = [1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37] as const;
export const VAIHINGEN_TEST = [2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 27, 29, 31, 33, 35, 38] as const;
export const VAIHINGEN_GSD = 0.09;

export const VAIHINGEN_DIRS = {
  images: 'ISPRS_semantic_labeling_Vaihingen/top',
  labels: 'ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE',
  eroded: 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE',
} as const;

const PLAN: Record<SynthSize, { train: number; test: number; side: [number, number] }> = {
  tiny: { train: 1, test: 1, side: [420, 640] },
  small: { train: 4, test: 4, side: [900, 1400] },
  medium: { train: 16, test: 17, side: [1000, 1900] },
};

export function vaihingenAreas(size: SynthSize): number[] {
  const p = PLAN[size];
  return [...VAIHINGEN_TRAIN.slice(0, p.train), ...VAIHINGEN_TEST.slice(0, p.test)];
}

export function vaihingenGeo(area: number): GeoRef {
  return { transform: [496000 + (area % 6) * 400, VAIHINGEN_GSD, 0, 5420000 - Math.floor(area / 6) * 400, 0, -VAIHINGEN_GSD], epsg: 32632, crsKind: 'projected' };
}

export interface VaihingenArea {
  width: number;
  height: number;
  /** HWC uint8 NIR, R, G. */
  irrg: Uint8Array;
  ids: Uint8Array;
  eroded: Uint8Array;
}

/** Area `area` under `seed`, its size drawn within the plan's range for `size`. */
export function vaihingenArea(seed: number, area: number, size: SynthSize): VaihingenArea {
  const rng = sampleRng(seed, 'vaihingen', area);
  const [lo, hi] = PLAN[size].side;
  const width = rng.int(lo, hi + 1);
  const height = rng.int(lo, hi + 1);
  const scene = isprsScene(rng, width, height, VAIHINGEN_GSD, 'vaihingen');
  const cond = randomConditions(rng, { season: 'summer', snow: false, latitude: 48.9 });
  const canvas = scene.paint(cond);
  const irrg = toDisplay8(render(canvas, cond, { bands: IRRG_BANDS, textureSeed: scene.textureSeed, blur: 0.7 }), 2.0);
  const ids = isprsIds(canvas);
  return { width, height, irrg, ids, eroded: erodeBoundaries(ids, width, height) };
}

/** Writes the synthetic Vaihingen tree under `o.out`. */
export async function vaihingen(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('vaihingen', o);
  const areas = vaihingenAreas(p.size);
  const w = new DatasetWriter('vaihingen', p, areas.length, 2);
  for (const area of areas) {
    const a = vaihingenArea(p.seed, area, p.size);
    const opts = { width: a.width, height: a.height, bands: 3, geo: vaihingenGeo(area), tileSize: 256 };
    const name = `top_mosaic_09cm_area${area}`;
    await w.geotiff(`${VAIHINGEN_DIRS.images}/${name}.tif`, a.irrg, opts);
    await w.geotiff(`${VAIHINGEN_DIRS.labels}/${name}.tif`, colourise(a.ids), opts);
    await w.geotiff(`${VAIHINGEN_DIRS.eroded}/${name}_noBoundary.tif`, colourise(a.eroded), opts);
    w.sampleDone();
  }
  return w.finish({ train: VAIHINGEN_TRAIN.filter((x) => areas.includes(x)), test: VAIHINGEN_TEST.filter((x) => areas.includes(x)), gsd: VAIHINGEN_GSD, bands: ['NIR', 'R', 'G'] });
}

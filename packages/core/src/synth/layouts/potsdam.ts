/**
 * ISPRS Potsdam, synthetic, in the folder layout of the unpacked archives:
 *
 *   2_Ortho_RGB/top_potsdam_{i}_{j}_RGB.tif                        3-band uint8 GeoTIFF
 *   4_Ortho_RGBIR/top_potsdam_{i}_{j}_RGBIR.tif                    4-band uint8 GeoTIFF (R, G, B, NIR)
 *   5_Labels_all/top_potsdam_{i}_{j}_label.tif                     colour-coded labels (ISPRS palette)
 *   5_Labels_all_noBoundary/top_potsdam_{i}_{j}_label_noBoundary.tif   eroded labels (black boundaries)
 *
 * Tiles are named after the real 38 (24 train, 14 test, mmseg/torchgeo split), 5 cm pixels, georeferenced in
 * WGS 84 / UTM 33N (EPSG:32633) at 300 m spacing around Potsdam. Real tiles are 6000 x 6000; the synthetic ones
 * are smaller (tiny 576, small 1500, medium 1536) and not multiples of 512, so the converters' border windows
 * get exercised.
 */
import type { GeoRef } from '../../io/georef.js';
import { randomConditions } from '../scene/conditions.js';
import { BAND, RGB_BANDS } from '../scene/materials.js';
import { render, toDisplay8 } from '../scene/render.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';
import { colourise, erodeBoundaries, isprsIds, isprsScene } from './isprs.js';

export const POTSDAM_TRAIN = ['2_10', '2_11', '2_12', '3_10', '3_11', '3_12', '4_10', '4_11', '4_12', '5_10', '5_11', '5_12', '6_7', '6_8', '6_9', '6_10', '6_11', '6_12', '7_7', '7_8', '7_9', '7_10', '7_11', '7_12'] as const;
export const POTSDAM_TEST = ['2_13', '2_14', '3_13', '3_14', '4_13', '4_14', '4_15', '5_13', '5_14', '5_15', '6_13', '6_14', '6_15', '7_13'] as const;
export const POTSDAM_GSD = 0.05;

const PLAN: Record<SynthSize, { train: number; test: number; tile: number }> = {
  tiny: { train: 1, test: 1, tile: 576 },
  small: { train: 4, test: 2, tile: 1500 },
  medium: { train: 24, test: 14, tile: 1536 },
};

/** The tiles written at a size: the first `train` train tiles and `test` test tiles. */
export function potsdamTiles(size: SynthSize): string[] {
  const p = PLAN[size];
  return [...POTSDAM_TRAIN.slice(0, p.train), ...POTSDAM_TEST.slice(0, p.test)];
}

export function potsdamGeo(tile: string): GeoRef {
  const [i, j] = tile.split('_').map(Number) as [number, number];
  return { transform: [366000 + i * 300, POTSDAM_GSD, 0, 5812000 - j * 300, 0, -POTSDAM_GSD], epsg: 32633, crsKind: 'projected' };
}

export interface PotsdamTile {
  width: number;
  height: number;
  /** HWC uint8 R, G, B. */
  rgb: Uint8Array;
  /** HWC uint8 R, G, B, NIR. */
  rgbir: Uint8Array;
  /** ISPRS ids 1..6 per pixel. */
  ids: Uint8Array;
  /** Eroded ids (0 = boundary). */
  eroded: Uint8Array;
}

/** Tile `tile` (e.g. '2_10') at `size` pixels under `seed`. */
export function potsdamTile(seed: number, tile: string, size: number): PotsdamTile {
  const rng = sampleRng(seed, 'potsdam', [...POTSDAM_TRAIN, ...POTSDAM_TEST].indexOf(tile as never));
  const scene = isprsScene(rng, size, size, POTSDAM_GSD, 'potsdam');
  const cond = randomConditions(rng, { season: rng.next() < 0.7 ? 'summer' : 'spring', snow: false, latitude: 52.4 });
  const canvas = scene.paint(cond);
  const values = toDisplay8(render(canvas, cond, { bands: [...RGB_BANDS, BAND.B8], textureSeed: scene.textureSeed, blur: 0.8 }));
  const n = size * size;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = values[4 * i]!;
    rgb[3 * i + 1] = values[4 * i + 1]!;
    rgb[3 * i + 2] = values[4 * i + 2]!;
  }
  const ids = isprsIds(canvas);
  return { width: size, height: size, rgb, rgbir: values, ids, eroded: erodeBoundaries(ids, size, size) };
}

/** Writes the synthetic Potsdam tree under `o.out`. */
export async function potsdam(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('potsdam', o);
  const plan = PLAN[p.size];
  const tiles = potsdamTiles(p.size);
  const w = new DatasetWriter('potsdam', p, tiles.length, 2);
  for (const tile of tiles) {
    const t = potsdamTile(p.seed, tile, plan.tile);
    const geo = potsdamGeo(tile);
    const opts = { width: t.width, height: t.height, geo, tileSize: 256 };
    await w.geotiff(`2_Ortho_RGB/top_potsdam_${tile}_RGB.tif`, t.rgb, { ...opts, bands: 3 });
    await w.geotiff(`4_Ortho_RGBIR/top_potsdam_${tile}_RGBIR.tif`, t.rgbir, { ...opts, bands: 4, photometric: 'rgb' });
    await w.geotiff(`5_Labels_all/top_potsdam_${tile}_label.tif`, colourise(t.ids), { ...opts, bands: 3 });
    await w.geotiff(`5_Labels_all_noBoundary/top_potsdam_${tile}_label_noBoundary.tif`, colourise(t.eroded), { ...opts, bands: 3 });
    w.sampleDone();
  }
  return w.finish({ train: POTSDAM_TRAIN.filter((x) => tiles.includes(x)), test: POTSDAM_TEST.filter((x) => tiles.includes(x)), gsd: POTSDAM_GSD, tileSize: plan.tile });
}

/**
 * @cmid/core/synth: a procedural remote-sensing generator that writes small datasets in the exact on-disk
 * layouts of the real ones (MillionAID, SeCo, UC Merced, ISPRS Potsdam and Vaihingen, DOTA v1.0, CDD), so
 * every reader, pipeline and protocol of the toolkit runs where the real data cannot be downloaded.
 *
 * Scenes are planned from the repo's seeded Rng and painted in one pass into image + labels + instance ids
 * (scene/), then written by one writer per layout (layouts/). The same seed gives byte-identical files.
 *
 * @example
 * await generate('ucm', { out: 'data/ucm', size: 'tiny', seed: 0 }); // data/ucm/Images/agricultural/agricultural00.tif ...
 * await generate('all', { out: 'data', size: 'small' });           // data/ucm, data/potsdam, ...
 */
import { join } from 'node:path';
import { CmidError } from '../runtime/errors.js';
import { cdd } from './layouts/cdd.js';
import { dota } from './layouts/dota.js';
import { millionaid } from './layouts/millionaid.js';
import { potsdam } from './layouts/potsdam.js';
import { seco } from './layouts/seco.js';
import { ucm } from './layouts/ucm.js';
import { vaihingen } from './layouts/vaihingen.js';
import type { SynthOptions, SynthResult } from './options.js';

/** One writer per real layout. */
export const SYNTH_KINDS = { millionaid, seco, ucm, potsdam, vaihingen, dota, cdd } as const;
export type SynthKind = keyof typeof SYNTH_KINDS;

export function isSynthKind(name: string): name is SynthKind {
  return Object.prototype.hasOwnProperty.call(SYNTH_KINDS, name);
}

export interface GenerateAllProgress {
  /** Called with the kind being written, then its done/total. */
  onKind?: (kind: SynthKind, index: number, count: number) => void;
}

/**
 * Generates one dataset into `options.out`, or with kind 'all' every dataset into `options.out/<kind>`.
 * Returns one result per dataset written.
 */
export async function generate(kind: SynthKind | 'all', options: SynthOptions & GenerateAllProgress): Promise<SynthResult[]> {
  if (kind === 'all') {
    const kinds = Object.keys(SYNTH_KINDS) as SynthKind[];
    const out: SynthResult[] = [];
    for (const [i, k] of kinds.entries()) {
      options.onKind?.(k, i, kinds.length);
      out.push(await SYNTH_KINDS[k]({ ...options, out: join(options.out, k) }));
    }
    return out;
  }
  if (!isSynthKind(kind)) {
    throw new CmidError('config', `synth: unknown dataset '${String(kind)}'. Valid: ${Object.keys(SYNTH_KINDS).join(', ')}, or 'all'.`);
  }
  options.onKind?.(kind, 0, 1);
  return [await SYNTH_KINDS[kind](options)];
}

// --- options
export { SYNTH_SIZES, type SynthSize, type SynthOptions, type SynthResult } from './options.js';

// --- one writer per layout, with the per-sample generators tests and tools regenerate samples from
export { millionaid, millionaidImage, millionaidName, type MillionAidImage } from './layouts/millionaid.js';
export { seco, secoLocation, secoGeo, SECO_BANDS, SECO_SIZE, SECO_DATES, SECO_LOCATIONS, type SecoLocation, type SecoPatch } from './layouts/seco.js';
export { ucm, ucmImage, ucmTargetMeans, UCM_CLASSES, UCM_PER_CLASS, UCM_TILE, UCM_GSD, type UcmClass } from './layouts/ucm.js';
export { potsdam, potsdamTile, potsdamTiles, potsdamGeo, POTSDAM_TRAIN, POTSDAM_TEST, POTSDAM_GSD, type PotsdamTile } from './layouts/potsdam.js';
export { vaihingen, vaihingenArea, vaihingenAreas, vaihingenGeo, VAIHINGEN_TRAIN, VAIHINGEN_TEST, VAIHINGEN_GSD, VAIHINGEN_DIRS, type VaihingenArea } from './layouts/vaihingen.js';
export { ISPRS_CLASSES, ISPRS_PALETTE, ISPRS_EROSION_RADIUS, colourise, erodeBoundaries } from './layouts/isprs.js';
export { dota, dotaImage, dotaImages, formatLabelTxt, DOTA_CLASSES, type DotaClass, type DotaImage, type DotaObject, type DotaSplit } from './layouts/dota.js';
export { cdd, cddPair, CDD_SPLITS, CDD_TILE, CDD_PER_SPLIT, type CddPair, type CddSplit } from './layouts/cdd.js';
export { sampleRng, encodeImage, SYNTH_VERSION } from './layouts/common.js';

// --- scene painting, for custom generators
export { Scene, Occupancy, LAYER, type Feature, type FeatureSpec } from './scene/scene.js';
export { Canvas, type Brush, type Caster } from './scene/canvas.js';
export { randomConditions, conditionsForDate, sunPosition, SUMMER_NOON, type Conditions, type Season } from './scene/conditions.js';
export { render, toDisplay8, toDisplay8Matched, toReflectance8, autoExposure, type RenderOptions } from './scene/render.js';
export { MATERIALS, MAT, SEM, S2_BANDS, BAND, RGB_BANDS, IRRG_BANDS, type Material, type S2BandName, type SemClass } from './scene/materials.js';
export { LAND_USE, type Recipe } from './scene/land-use.js';
export { DETECTION_THEMES, detectionScene, type DetectionTheme } from './scene/detection.js';
export { planChange, changeMask, type ChangePlan } from './scene/change.js';
export { landscape, climateFor, type Climate } from './scene/landscape.js';
export { ensureSynthetic, syntheticCacheDir, type EnsureSyntheticOptions } from './cache.js';

/**
 * Scene-classification datasets: one reader per dataset (UC Merced, EuroSAT RGB / all-bands, any ImageFolder
 * tree such as AID or NWPU-RESISC45, and the synthetic UCM default), all returning the plain `SceneDataset`, plus
 * readScene and the corrupt-image policy (read-scene.ts). `openSceneDataset(kind, root, options)` is the one
 * entry the CLI and configs use; kind 'auto' detects the dataset from the folder tree (detectSceneKind).
 */
import { join } from 'node:path';
import { CmidError } from '@cmid/core';
import type { SynthSize } from '@cmid/core/synth';
import { EuroSAT, type EuroSatOptions } from './eurosat.js';
import { SceneFolder, type FolderOptions, type FolderProtocol } from './folder.js';
import { isDir, listDirs } from './split.js';
import { syntheticUcm } from './synthetic.js';
import type { SceneDataset, SplitRatios, Warn } from './types.js';
import { UCMerced } from './ucm.js';

/** The readers, by the kind name the CLI and configs use. */
export const SCENE_DATASET_KINDS = ['ucm', 'eurosat', 'eurosat-ms', 'folder', 'synthetic'] as const;
export type SceneDatasetKind = (typeof SCENE_DATASET_KINDS)[number];

/** Options of every reader in one object; each reader takes the ones it knows (listed per option). */
export interface OpenSceneDatasetOptions {
  /** Split seed (all); for 'synthetic' also the image seed. Default 0. */
  seed?: number;
  /** ucm, eurosat: 'auto' (split files if present), 'files', 'seeded'. Default 'auto'. */
  split?: 'auto' | 'files' | 'seeded';
  /** ucm, eurosat, synthetic: folder of the split files. */
  splitDir?: string;
  /** ucm, synthetic (number, default 0.8), folder (number or protocol, default 0.8), eurosat (with valRatio). */
  trainRatio?: number | FolderProtocol;
  /** folder, eurosat: validation fraction. */
  valRatio?: number;
  /** eurosat: full ratios (default 60/20/20); wins over trainRatio/valRatio. */
  ratios?: SplitRatios;
  /** ucm, synthetic: write a generated split as train.txt/test.txt to splitDir. */
  writeSplit?: boolean;
  /** eurosat-ms: band selection ('all', 'rgb', indices or names). */
  bands?: EuroSatOptions['bands'];
  /** folder: 'auto', 'classes', 'presplit'. */
  layout?: FolderOptions['layout'];
  /** synthetic: 'tiny' (default), 'small', 'medium'. */
  size?: SynthSize;
  /** synthetic: cache root. */
  cacheDir?: string;
  warn?: Warn;
}

const pick = <K extends keyof OpenSceneDatasetOptions>(o: OpenSceneDatasetOptions, keys: readonly K[]): Pick<OpenSceneDatasetOptions, K> => {
  const out: Partial<OpenSceneDatasetOptions> = {};
  for (const k of keys) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  return out as Pick<OpenSceneDatasetOptions, K>;
};

function numericTrainRatio(kind: string, r: number | FolderProtocol | undefined): number | undefined {
  if (r === undefined || typeof r === 'number') return r;
  throw new CmidError('config', `${kind}: trainRatio '${r}' is a folder protocol; pass a number (e.g. 0.8) for ${kind}.`);
}

/**
 * The dataset kind of a folder tree, from cheap probes (no image is decoded):
 * ucm (img/, Images/, UCMerced_LandUse/Images, or exactly the 21 UCM class folders), eurosat / eurosat-ms (the 10
 * EuroSAT class folders, here or deeper; by file type), folder (train/ + test/, or any class folders).
 */
export async function detectSceneKind(root: string): Promise<Exclude<SceneDatasetKind, 'synthetic'>> {
  if (!(await isDir(root))) {
    throw new CmidError('input', `openSceneDataset: ${root} is not a folder. Pass the dataset folder, or kind 'synthetic' for the built-in set.`, { file: root });
  }
  const dirs = await listDirs(root);
  const ucm = UCMerced.classes as readonly string[];
  if (dirs.includes('img') || dirs.includes('Images') || (await isDir(join(root, 'UCMerced_LandUse', 'Images')))) return 'ucm';
  if (dirs.length === ucm.length && ucm.every((c) => dirs.includes(c))) return 'ucm';
  const found: Array<'eurosat' | 'eurosat-ms'> = [];
  if (EuroSAT.classes.every((c) => dirs.includes(c)) || !(await SceneFolder.isPresplit(root))) {
    for (const [variant, kind] of [['rgb', 'eurosat'], ['ms', 'eurosat-ms']] as const) {
      try {
        await EuroSAT.locate(root, variant);
        found.push(kind);
      } catch (e) {
        if (!(e instanceof CmidError)) throw e;
      }
    }
  }
  if (found.length === 2) {
    throw new CmidError(
      'input',
      `openSceneDataset: ${root} holds both EuroSAT releases (RGB and all-bands). Pass kind 'eurosat' or 'eurosat-ms'.`,
      { file: root },
    );
  }
  if (found.length === 1) return found[0]!;
  if (dirs.length > 0) return 'folder';
  throw new CmidError(
    'input',
    `openSceneDataset: cannot tell the dataset in ${root}: no sub-folders (expected UCM Images/ or img/, EuroSAT class folders, ` +
      "train/ + test/, or <class>/ folders). Pass the folder above the images, or kind 'synthetic'.",
    { file: root },
  );
}

/**
 * Opens a scene-classification dataset.
 *
 * @example
 * const ucm = await openSceneDataset('ucm', 'data/UCMerced_LandUse', { seed: 0 });
 * const ms = await openSceneDataset('auto', 'data/EuroSATallBands', { bands: 'rgb' }); // detected 'eurosat-ms'
 * const syn = await openSceneDataset('synthetic', undefined, { size: 'tiny' });
 */
export async function openSceneDataset(
  kind: SceneDatasetKind | 'auto',
  root: string | undefined,
  options: OpenSceneDatasetOptions = {},
): Promise<SceneDataset> {
  if (kind !== 'auto' && !(SCENE_DATASET_KINDS as readonly string[]).includes(kind)) {
    throw new CmidError('config', `openSceneDataset: unknown dataset kind '${String(kind)}'. Valid: ${SCENE_DATASET_KINDS.join(', ')}, auto.`);
  }
  if (kind === 'synthetic' || (kind === 'auto' && root === undefined)) {
    const tr = numericTrainRatio('synthetic', options.trainRatio);
    return syntheticUcm({
      ...pick(options, ['seed', 'splitDir', 'writeSplit', 'size', 'cacheDir', 'warn']),
      ...(tr === undefined ? {} : { trainRatio: tr }),
    });
  }
  if (root === undefined) {
    throw new CmidError('config', `openSceneDataset: kind '${kind}' needs the dataset folder (--data <dir>); only 'synthetic' works without one.`);
  }
  const resolved = kind === 'auto' ? await detectSceneKind(root) : kind;
  switch (resolved) {
    case 'ucm': {
      const tr = numericTrainRatio('ucm', options.trainRatio);
      return UCMerced.open(root, { ...pick(options, ['seed', 'split', 'splitDir', 'writeSplit', 'warn']), ...(tr === undefined ? {} : { trainRatio: tr }) });
    }
    case 'eurosat':
    case 'eurosat-ms': {
      const tr = numericTrainRatio(resolved, options.trainRatio);
      const ratios = options.ratios ?? (tr === undefined ? undefined : { train: tr, val: options.valRatio ?? 0 });
      return EuroSAT.open(root, {
        variant: resolved === 'eurosat' ? 'rgb' : 'ms',
        ...pick(options, ['seed', 'split', 'splitDir', 'bands', 'warn']),
        ...(ratios === undefined ? {} : { ratios }),
      });
    }
    case 'folder':
      return SceneFolder.open(root, pick(options, ['seed', 'trainRatio', 'valRatio', 'layout', 'warn']));
  }
}

// --- the common shape
export { sceneReadOptions, allSamples, type SceneDataset, type SceneSample, type SplitInfo, type SplitRatios, type Warn } from './types.js';

// --- decoding and the corrupt-image policy
export {
  readScene,
  readSceneOrSkip,
  inspectScene,
  checkReadable,
  checkDataset,
  decodeSceneSample,
  SCENE_DECODE,
  SCENE_DTYPES,
  type SceneImage,
  type ReadSceneOptions,
  type CheckReadableOptions,
  type CheckReport,
  type CorruptImage,
  type CorruptPolicy,
} from './read-scene.js';

// --- one reader per dataset
export { UCMerced, type UcmOptions } from './ucm.js';
export { EuroSAT, type EuroSatOptions, type EuroSatVariant } from './eurosat.js';
export { SceneFolder, FOLDER_PROTOCOLS, type FolderOptions, type FolderProtocol } from './folder.js';
export { syntheticUcm, type SyntheticUcmOptions } from './synthetic.js';

// --- split machinery
export { stratifiedSplit, resolveRatios, readLabelSplitFile, formatLabelSplit, writeSplitFiles, type SplitLine } from './split.js';

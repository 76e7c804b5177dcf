/**
 * The default dataset: a synthetic UC Merced (core's generator, `Images/<class>/<class>NN.tif`, 21 classes of
 * 256 x 256 RGB; tiny = 4, small = 20, medium = 100 images per class), generated once into the cache
 * ($CMID_CACHE, else ~/.cache/cmid) by ensureSynthetic, then opened with the UCM reader and its seeded 8:2 split.
 * The cache copy is shared, so split files are never written there; pass `splitDir` to pin or read a split.
 */
import { CmidError } from '@cmid/core';
import { ensureSynthetic, type SynthSize } from '@cmid/core/synth';
import type { SceneDataset, Warn } from './types.js';
import { UCMerced } from './ucm.js';

export interface SyntheticUcmOptions {
  /** Default 'tiny'. */
  size?: SynthSize;
  /** Seed of the generated images, and of the split unless splitSeed is given. Default 0. */
  seed?: number;
  /** Seed of the train/test split. Default: seed. */
  splitSeed?: number;
  /** Default 0.8. */
  trainRatio?: number;
  /** Read train.txt/test.txt from here when present; with writeSplit, write the generated split here. */
  splitDir?: string;
  writeSplit?: boolean;
  /** Cache root. Default: $CMID_CACHE or ~/.cache/cmid. */
  cacheDir?: string;
  onProgress?: (done: number, total: number) => void;
  warn?: Warn;
}

/**
 * @example
 * const ds = await syntheticUcm({ size: 'tiny', seed: 0 });
 * // ds.name 'synthetic-ucm', 21 classes, ds.train.length 63 (3 per class), ds.test.length 21
 */
export async function syntheticUcm(options: SyntheticUcmOptions = {}): Promise<SceneDataset> {
  const seed = options.seed ?? 0;
  if (options.writeSplit && options.splitDir === undefined) {
    throw new CmidError('config', 'syntheticUcm: writeSplit needs a splitDir (the generated copy sits in a shared cache and is never written to).');
  }
  const root = await ensureSynthetic('ucm', {
    size: options.size ?? 'tiny',
    seed,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const ds = await UCMerced.open(root, {
    // the cache folder holds no split files; only an explicit splitDir is searched for them
    split: options.splitDir === undefined ? 'seeded' : 'auto',
    seed: options.splitSeed ?? seed,
    ...(options.trainRatio === undefined ? {} : { trainRatio: options.trainRatio }),
    ...(options.splitDir === undefined ? {} : { splitDir: options.splitDir }),
    ...(options.writeSplit === undefined ? {} : { writeSplit: options.writeSplit }),
    ...(options.warn === undefined ? {} : { warn: options.warn }),
  });
  return { ...ds, name: 'synthetic-ucm' };
}

/**
 * The common shape of every scene-classification dataset reader (ucm.ts, eurosat.ts, folder.ts, synthetic.ts):
 * a `SceneDataset` is plain data (class names, sample lists, band facts, how the split was made), so it survives
 * structuredClone and can be handed to loader worker threads as is. Nothing here decodes pixels; read-scene.ts
 * does, with the options `sceneReadOptions(ds)` derives from the dataset.
 */

/** One image: absolute (or root-relative as given) path and class index. Structured-cloneable. */
export interface SceneSample {
  path: string;
  label: number;
}

/** Fractions of each class that go to each split. test = 1 - train - val when left out. */
export interface SplitRatios {
  train: number;
  /** Default 0. */
  val?: number;
  /** Default: the rest. When given, train + val + test must be 1. */
  test?: number;
}

/** Where a dataset's split came from. */
export interface SplitInfo {
  /** 'files': read from split files; 'seeded': generated (stratified, seeded); 'folders': root/train, root/test. */
  source: 'files' | 'seeded' | 'folders';
  /** Seed of a generated split. */
  seed?: number;
  /** Ratios of a generated split, with val and test filled in. */
  ratios?: Required<SplitRatios>;
  /** The split files read, or the folders of a pre-split tree. */
  files?: string[];
  /** Split files written by this call (writeSplit: true). */
  written?: string[];
}

export interface SceneDataset {
  /** 'ucm', 'eurosat', 'eurosat-ms', 'synthetic-ucm', or the folder name of an ImageFolder tree. */
  name: string;
  /**
   * The dataset folder after resolving the layout: for UCM the folder holding Images/ or img/ (where its split
   * files go), for EuroSAT the folder holding the class folders, for a folder tree the root given.
   */
  root: string;
  /** Class names in label order (label = index). */
  classes: string[];
  /** Channels of a decoded sample after band selection (3 for RGB; 13, or the selection, for EuroSAT-MS). */
  bands: number;
  /** Sorted by label, then path. */
  train: SceneSample[];
  test: SceneSample[];
  /** Present when the split has a validation part (EuroSAT, or a val ratio > 0). */
  val?: SceneSample[];
  /** Bands every file must have (readScene's expectBands). */
  fileBands: number;
  /** 0-based bands to read from each file, in output order. Undefined: all of them. */
  bandIndices?: number[];
  /** Names of the bands a sample holds, when known (EuroSAT-MS: 'B04', ...). */
  bandNames?: string[];
  /**
   * The nominal image size, when the dataset has one (UCM 256x256, EuroSAT 64x64). Readers do not resize: a file
   * of another size (a few real UCM images are 256x253, 247x256, ...) is returned as stored, and the classify
   * transforms (random-resized-crop / resize + center-crop) bring every image to the model size.
   * checkReadable(..., { expectSize }) lists such files.
   */
  nominalSize?: { width: number; height: number };
  /**
   * Per-band statistics of the sample's bands (after band selection) for normalisation, when the dataset has
   * published ones (EuroSAT-MS: torchgeo's, in raw digital numbers, pixelMax 1). Fine-tuning uses them in place of
   * the ImageNet default.
   */
  normalization?: { mean: number[]; std: number[]; pixelMax: number; source: string };
  split: SplitInfo;
}

/** Callback for non-fatal reports (skipped files, corrupt images). Default everywhere: console.warn. */
export type Warn = (message: string) => void;

/** The readScene options a dataset implies: its band selection and the file band count. */
export function sceneReadOptions(ds: SceneDataset): { bands?: number[]; expectBands: number } {
  return ds.bandIndices === undefined ? { expectBands: ds.fileBands } : { bands: [...ds.bandIndices], expectBands: ds.fileBands };
}

/** All samples of a dataset, train then val then test. */
export function allSamples(ds: SceneDataset): SceneSample[] {
  return [...ds.train, ...(ds.val ?? []), ...ds.test];
}

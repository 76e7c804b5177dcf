/**
 * Options and results shared by every synthetic-dataset writer.
 */

export const SYNTH_SIZES = ['tiny', 'small', 'medium'] as const;
/** tiny: a few files, seconds (tests); small: enough to train a smoke model; medium: a realistic slice. */
export type SynthSize = (typeof SYNTH_SIZES)[number];

export interface SynthOptions {
  /** Output folder; the dataset's files go directly under it (created when missing). */
  out: string;
  /** Default: 'tiny'. */
  size?: SynthSize;
  /** Seed of every random choice; the same seed gives byte-identical files. Default: 0. */
  seed?: number;
  /** Called after each sample is written, with the count done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  kind: string;
  /** The dataset root that was written. */
  out: string;
  size: SynthSize;
  seed: number;
  /** Samples generated (images, tiles, pairs or time series). */
  samples: number;
  /** Paths of the files written, relative to `out`, sorted. */
  files: string[];
}

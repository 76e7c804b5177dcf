/**
 * Decoding one scene image to HWC, and the corrupt-image policy of the dataset readers.
 *
 * readScene(path) returns a Uint8Array image for 8-bit files (JPEG/PNG/TIFF RGB, also 8-bit grey or 4-band), and a
 * Float32Array image for everything else (uint16 EuroSAT-MS, int16, float32), the two pixel types the core
 * transforms take. Values are the file's, unscaled. Every failure is a CmidError('input') whose message names
 * the file and the fix: unreadable or truncated file, empty file, unknown format (core io's messages), a band
 * count other than `expectBands`, or a sample type outside SCENE_DTYPES.
 *
 * Corrupt-image policy, in two places:
 * - Before training, `checkReadable(samples, { onCorrupt })` (or `checkDataset(ds, ...)`) scans the samples once.
 *   depth 'header' (default) opens each file's header only: it finds missing, empty, non-image and truncated TIFF
 *   files (tiles past the end), wrong band counts and dtypes, at the cost of one small read per file. depth
 *   'decode' decodes every image fully and also finds truncated JPEG/PNG data (their headers are intact).
 *   onCorrupt 'error' (default) throws the first bad file's CmidError; 'skip' leaves the bad files out of the
 *   returned list and reports them through `warn` in one summary message.
 * - While reading, `readSceneOrSkip(path, { onCorrupt: 'skip' })` returns undefined (and warns) instead of
 *   throwing, for loops that can drop an item (evaluation, prediction). The data loader cannot drop an item from
 *   a batch, so training sets are filtered with checkReadable first.
 */
import type { SampleMapFactory } from '@cmid/core';
import { CmidError, type Image } from '@cmid/core';
import { openRaster, type RasterDtype, type RasterHandle } from '@cmid/core/io';
import type { SceneSample, SceneDataset, Warn } from './types.js';
import { sceneReadOptions } from './types.js';

/** Sample types a scene may have: exact in float32 (uint32/int32 above 2^24 and float64 are not). */
export const SCENE_DTYPES: readonly RasterDtype[] = ['uint8', 'int8', 'uint16', 'int16', 'float32'];

/** A decoded scene: HWC interleaved, Uint8Array for uint8 files, Float32Array otherwise. */
export interface SceneImage extends Image {
  /** Sample type in the file. */
  dtype: RasterDtype;
}

export interface ReadSceneOptions {
  /** 0-based bands to read, in output order (EuroSAT-MS RGB: [3, 2, 1]). Default: all bands. */
  bands?: readonly number[];
  /** Bands the file must have (before selection); another count is an error. Default: not checked. */
  expectBands?: number;
}

export type CorruptPolicy = 'skip' | 'error';

/** A file the policy found bad: its path and the error message (which names the fix). */
export interface CorruptImage {
  path: string;
  message: string;
}

/** Checks the header facts readScene depends on; throws the CmidError readScene would. */
function checkHeader(h: RasterHandle, o: ReadSceneOptions): void {
  const { path } = h;
  if (!SCENE_DTYPES.includes(h.dtype)) {
    throw new CmidError(
      'input',
      `${path}: sample type ${h.dtype} is not supported for scene images (supported: ${SCENE_DTYPES.join(', ')}; ` +
        'uint32/int32 lose precision above 2^24 and float64 is rounded in float32). ' +
        'Convert it, e.g. gdal_translate -ot Float32 in.tif out.tif, or remove it from the dataset.',
      { file: path },
    );
  }
  if (o.expectBands !== undefined && h.bands !== o.expectBands) {
    throw new CmidError(
      'input',
      `${path}: has ${h.bands} band(s) but this dataset's images have ${o.expectBands}. ` +
        `Is it a stray file (a greyscale or RGBA image among RGB ones)? Convert it (gdal_translate ${Array.from({ length: Math.min(o.expectBands, 4) }, (_, i) => `-b ${i + 1}`).join(' ')} in out), ` +
        "remove it, or pass onCorrupt: 'skip' to leave it out.",
      { file: path },
    );
  }
}

/** Re-throws a non-CmidError from a decoder as an input error naming the file. */
function asInputError(path: string, e: unknown): CmidError {
  if (e instanceof CmidError) return e;
  return new CmidError(
    'input',
    `${path}: cannot decode (${String((e as Error)?.message ?? e)}). The file is probably truncated or corrupt; fetch or export it again.`,
    { file: path, cause: e },
  );
}

async function withRaster<T>(path: string, fn: (h: RasterHandle) => Promise<T>): Promise<T> {
  let h: RasterHandle;
  try {
    h = await openRaster(path);
  } catch (e) {
    throw asInputError(path, e);
  }
  try {
    return await fn(h);
  } catch (e) {
    throw asInputError(path, e);
  } finally {
    await h.close().catch(() => undefined);
  }
}

/**
 * Decodes one scene to HWC.
 *
 * @example
 * const img = await readScene('UCMerced_LandUse/Images/airplane/airplane00.tif', { expectBands: 3 });
 * // img.data Uint8Array(256 * 256 * 3), img.channels 3, img.dtype 'uint8'
 * const ms = await readScene('tif/Forest/Forest_1.tif', { bands: [3, 2, 1] }); // Float32Array, 64x64x3
 */
export async function readScene(path: string, options: ReadSceneOptions = {}): Promise<SceneImage> {
  return withRaster(path, async (h) => {
    checkHeader(h, options);
    const sel = options.bands === undefined ? {} : { bands: options.bands };
    if (h.dtype === 'uint8') {
      const r = await h.readNative(sel);
      return { data: r.data as Uint8Array, height: r.height, width: r.width, channels: r.bands, dtype: h.dtype };
    }
    const r = await h.read(sel);
    return { data: r.data, height: r.height, width: r.width, channels: r.bands, dtype: h.dtype };
  });
}

/** Header facts of one scene, checked like readScene checks them (no pixels decoded). */
export async function inspectScene(
  path: string,
  options: ReadSceneOptions = {},
): Promise<{ width: number; height: number; bands: number; dtype: RasterDtype }> {
  return withRaster(path, async (h) => {
    checkHeader(h, options);
    if (options.bands !== undefined) {
      for (const b of options.bands) {
        if (!Number.isInteger(b) || b < 0 || b >= h.bands) {
          throw new CmidError('input', `${path}: band index ${b} is out of range: the file has ${h.bands} band(s), valid 0..${h.bands - 1}.`, { file: path });
        }
      }
    }
    return { width: h.width, height: h.height, bands: h.bands, dtype: h.dtype };
  });
}

export interface CheckReadableOptions extends ReadSceneOptions {
  /** What a bad file does: 'error' throws its CmidError, 'skip' leaves it out and warns. Default: 'error'. */
  onCorrupt?: CorruptPolicy;
  /** 'header': open headers only (cheap); 'decode': decode every image (finds truncated JPEG/PNG). Default: 'header'. */
  depth?: 'header' | 'decode';
  /** Report (not reject) images of another size, e.g. UCM's few non-256x256 files. Default: no size check. */
  expectSize?: { width: number; height: number };
  /** Files checked at once. Default: 8. */
  concurrency?: number;
  /** Receives the one summary of skipped files. Default: console.warn. */
  warn?: Warn;
}

export interface CheckReport<S extends { path: string }> {
  /** The readable samples, in input order. */
  samples: S[];
  /** The files left out (onCorrupt 'skip'), in input order. */
  corrupt: CorruptImage[];
  /** Readable files whose size differs from expectSize (the transforms resize them). */
  offSize: Array<{ path: string; width: number; height: number }>;
}

function summarise(what: string, corrupt: readonly CorruptImage[]): string {
  const shown = corrupt.slice(0, 5).map((c) => `  ${c.message}`);
  const more = corrupt.length > 5 ? `\n  ... and ${corrupt.length - 5} more` : '';
  return `${what}: skipped ${corrupt.length} unreadable image(s) (onCorrupt: 'skip'):\n${shown.join('\n')}${more}`;
}

/**
 * Scans samples for unreadable images before training; see the file comment for depth and policy.
 *
 * @example
 * const { samples, corrupt } = await checkReadable(ds.train, { onCorrupt: 'skip', expectBands: 3 });
 * // corrupt: [{ path: '.../broken.jpg', message: '.../broken.jpg: decoding failed (...). ...' }] with depth 'decode'
 */
export async function checkReadable<S extends { path: string }>(samples: readonly S[], options: CheckReadableOptions = {}): Promise<CheckReport<S>> {
  const policy = options.onCorrupt ?? 'error';
  if (policy !== 'skip' && policy !== 'error') {
    throw new CmidError('config', `checkReadable: onCorrupt '${String(policy)}' is not a policy. Valid: 'skip', 'error'.`);
  }
  const depth = options.depth ?? 'header';
  const read: ReadSceneOptions = {
    ...(options.bands === undefined ? {} : { bands: options.bands }),
    ...(options.expectBands === undefined ? {} : { expectBands: options.expectBands }),
  };
  const results: Array<{ ok: true; width: number; height: number } | { ok: false; error: CmidError }> = new Array(samples.length);
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, samples.length));
  let next = 0;
  let failed = false;
  const run = async (): Promise<void> => {
    while (next < samples.length && !(failed && policy === 'error')) {
      const i = next++;
      const path = samples[i]!.path;
      try {
        const size = depth === 'decode' ? await readScene(path, read) : await inspectScene(path, read);
        results[i] = { ok: true, width: size.width, height: size.height };
      } catch (e) {
        if (!(e instanceof CmidError) || e.kind !== 'input') throw e;
        results[i] = { ok: false, error: e };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, run));
  const kept: S[] = [];
  const corrupt: CorruptImage[] = [];
  const offSize: CheckReport<S>['offSize'] = [];
  for (let i = 0; i < samples.length; i++) {
    const r = results[i];
    if (r === undefined) continue; // not reached: stopped at an error
    const path = samples[i]!.path;
    if (!r.ok) {
      if (policy === 'error') {
        throw new CmidError(
          'input',
          `${r.error.message} (sample ${i} of ${samples.length}; pass onCorrupt: 'skip' to leave unreadable images out).`,
          { file: path, cause: r.error },
        );
      }
      corrupt.push({ path, message: r.error.message });
      continue;
    }
    kept.push(samples[i]!);
    const want = options.expectSize;
    if (want !== undefined && (r.width !== want.width || r.height !== want.height)) offSize.push({ path, width: r.width, height: r.height });
  }
  if (corrupt.length > 0) (options.warn ?? console.warn)(summarise('checkReadable', corrupt));
  return { samples: kept, corrupt, offSize };
}

/**
 * checkReadable over every split of a dataset, with the dataset's band facts and nominal size.
 * Returns the dataset without the bad files (onCorrupt 'skip'), and the merged report.
 */
export async function checkDataset(
  ds: SceneDataset,
  options: Omit<CheckReadableOptions, 'bands' | 'expectBands' | 'warn'> & { warn?: Warn } = {},
): Promise<{ dataset: SceneDataset; corrupt: CorruptImage[]; offSize: CheckReport<SceneSample>['offSize'] }> {
  const base: CheckReadableOptions = {
    ...options,
    ...sceneReadOptions(ds),
    ...(options.expectSize === undefined && ds.nominalSize !== undefined ? { expectSize: ds.nominalSize } : {}),
    warn: () => undefined,
  };
  const train = await checkReadable(ds.train, base);
  const val = ds.val === undefined ? undefined : await checkReadable(ds.val, base);
  const test = await checkReadable(ds.test, base);
  const corrupt = [...train.corrupt, ...(val?.corrupt ?? []), ...test.corrupt];
  if (corrupt.length > 0) (options.warn ?? console.warn)(summarise(`${ds.name} ${ds.root}`, corrupt));
  const dataset: SceneDataset = { ...ds, train: train.samples, test: test.samples, ...(val === undefined ? {} : { val: val.samples }) };
  return { dataset, corrupt, offSize: [...train.offSize, ...(val?.offSize ?? []), ...test.offSize] };
}

/** readScene under a per-read policy: with 'skip', an unreadable file warns and gives undefined. */
export async function readSceneOrSkip(
  path: string,
  options: ReadSceneOptions & { onCorrupt?: CorruptPolicy; warn?: Warn } = {},
): Promise<SceneImage | undefined> {
  try {
    return await readScene(path, options);
  } catch (e) {
    if ((options.onCorrupt ?? 'error') === 'error' || !(e instanceof CmidError) || e.kind !== 'input') throw e;
    (options.warn ?? console.warn)(`readScene: skipped ${path} (onCorrupt: 'skip'): ${e.message}`);
    return undefined;
  }
}

/**
 * The decode step as a loader sample map: SceneSample -> { image, label, path }. Options: sceneReadOptions(ds).
 * Reference it with SCENE_DECODE (module URL + export name), so loader workers can import it.
 */
export const decodeSceneSample = ((options: ReadSceneOptions = {}) =>
  async (sample: SceneSample) => ({ image: await readScene(sample.path, options), label: sample.label, path: sample.path })) satisfies SampleMapFactory<
  SceneSample,
  { image: SceneImage; label: number; path: string },
  ReadSceneOptions
>;

/** Loader map reference for decodeSceneSample. */
export const SCENE_DECODE = { module: import.meta.url, export: 'decodeSceneSample' } as const;

/**
 * The pretraining data pipeline (cmid.md §6): source images -> CMID's parallel transform (two views, block masks,
 * mean fill, cell grids) -> position matches (§5.3) -> batches in the layout the training step takes.
 *
 * Sources (cmid.md §6.1): a MillionAID-style image folder (any depth, labels ignored; `dataset: millionaid`), a
 * Potsdam folder (every image under `<root>/Image` as the reference, else the ISPRS release's `2_Ortho_RGB`, else
 * directly under root; `dataset: potsdam`), or the embedded synthetic MillionAID corpus. Images are read with @cmid/core's raster reader
 * (JPEG/PNG/TIFF/GeoTIFF); 8-bit data is required by the colour pipeline, so a 16-bit or float image is an error
 * that names the file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError, ImageFolder, parallelTransform, type ParallelTransformOptions, type SampleMapFactory } from '@cmid/core';
import { openRaster } from '@cmid/core/io';
import { positionMatch } from './position-match.js';

export interface PretrainSample {
  path: string;
}

/** One transformed sample, all typed arrays (transferred out of loader workers). */
export interface CmidItem {
  img: Float32Array;
  mimImg: Float32Array;
  view: Float32Array;
  viewMimImg: Float32Array;
  /** [tokens * tokens] 0/1 at the model-patch resolution (56 x 56 for 224). */
  mask: Uint8Array;
  viewMask: Uint8Array;
  /** positionMatch(loc_img -> loc_view): student cells of img, teacher cells of view. */
  orgInput: Int32Array;
  orgCand: Int32Array;
  /** positionMatch(loc_view -> loc_img). */
  viewInput: Int32Array;
  viewCand: Int32Array;
  size: number;
  channels: number;
}

export interface CmidSampleOptions {
  transform: ParallelTransformOptions;
  numMatches: number;
}

/** Decode to uint8 HWC (the file's own samples, no float round trip); the dtype is checked before decoding. */
export async function readUint8(path: string): Promise<{ data: Uint8Array; height: number; width: number; channels: number }> {
  const r = await openRaster(path);
  try {
    if (r.dtype !== 'uint8') {
      throw new CmidError(
        'input',
        `${path}: CMID pretraining reads 8-bit images (its colour augmentations work on 0..255), but this file is ${r.dtype}. ` +
          'Convert it to 8-bit (e.g. gdal_translate -ot Byte -scale) or drop it from the folder.',
        { file: path },
      );
    }
    const d = await r.readNative();
    return { data: d.data as Uint8Array, height: d.height, width: d.width, channels: d.bands };
  } finally {
    await r.close();
  }
}

/** The loader's per-sample map (decode + parallel transform + position matches); usable from worker threads. */
export const cmidSample = ((options: CmidSampleOptions) =>
  async (sample: PretrainSample, ctx) => {
    const src = await readUint8(sample.path);
    const s = parallelTransform(src, ctx.rng, options.transform);
    const a = positionMatch(s.locations[0], s.locations[1], options.numMatches);
    const b = positionMatch(s.locations[1], s.locations[0], options.numMatches);
    return {
      img: s.img.data,
      mimImg: s.mimImg.data,
      view: s.view.data,
      viewMimImg: s.viewMimImg.data,
      mask: s.mask,
      viewMask: s.viewMask,
      orgInput: a.input,
      orgCand: a.candidate,
      viewInput: b.input,
      viewCand: b.candidate,
      size: s.img.height,
      channels: s.img.channels,
    } satisfies CmidItem;
  }) satisfies SampleMapFactory<PretrainSample, CmidItem, CmidSampleOptions>;

export const CMID_SAMPLE_MAP = { module: import.meta.url, export: 'cmidSample' } as const;

export interface BatchArray {
  data: Float32Array | Int32Array;
  shape: number[];
}

/**
 * Stacks items into the step's inputs: images NHWC [B, S, S, C]; masks float32 [B, t, t]; match indices as flat
 * row indices into the [B * cells, C] feature rows (`b * cells + cell`), [B * numMatches] int32.
 */
export function collateCmid(items: readonly CmidItem[], cells: number): Record<string, BatchArray> {
  const B = items.length;
  if (B === 0) throw new CmidError('config', 'collateCmid: empty batch.');
  const { size, channels } = items[0]!;
  const px = size * size * channels;
  const tokens = items[0]!.mask.length;
  const t = Math.round(Math.sqrt(tokens));
  const nm = items[0]!.orgInput.length;
  const out: Record<string, BatchArray> = {};
  const images = (key: 'img' | 'mimImg' | 'view' | 'viewMimImg') => {
    const data = new Float32Array(B * px);
    items.forEach((it, i) => data.set(it[key], i * px));
    return { data, shape: [B, size, size, channels] };
  };
  out.img = images('img');
  out.mim_img = images('mimImg');
  out.view = images('view');
  out.view_mim_img = images('viewMimImg');
  const masks = (key: 'mask' | 'viewMask') => {
    const data = new Float32Array(B * tokens);
    items.forEach((it, i) => data.set(it[key], i * tokens));
    return { data, shape: [B, t, t] };
  };
  out.mask = masks('mask');
  out.view_mask = masks('viewMask');
  const idx = (key: 'orgInput' | 'orgCand' | 'viewInput' | 'viewCand') => {
    const data = new Int32Array(B * nm);
    items.forEach((it, i) => {
      for (let k = 0; k < nm; k++) data[i * nm + k] = i * cells + it[key][k]!;
    });
    return { data, shape: [B * nm] };
  };
  out.match_org_student = idx('orgInput');
  out.match_org_teacher = idx('orgCand');
  out.match_view_student = idx('viewInput');
  out.match_view_teacher = idx('viewCand');
  return out;
}

export type PretrainDatasetKind = 'imagefolder' | 'millionaid' | 'potsdam';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The image list of a pretraining source, sorted (the loader shuffles with its seed). */
export async function listPretrainImages(root: string, kind: PretrainDatasetKind = 'imagefolder'): Promise<PretrainSample[]> {
  if (!(await isDir(root))) throw new CmidError('input', `pretraining data: ${root} is not a folder. Pass --data <folder of images>, or omit it to use the synthetic corpus.`, { file: root });
  let dir = root;
  if (kind === 'potsdam') {
    // the reference reads <root>/Image; the ISPRS release keeps the RGB tiles in 2_Ortho_RGB (labels elsewhere)
    for (const sub of ['Image', '2_Ortho_RGB']) {
      if (await isDir(join(root, sub))) {
        dir = join(root, sub);
        break;
      }
    }
  }
  const folder = await ImageFolder.open(dir, { layout: 'flat', recursive: kind !== 'potsdam', warn: () => {} });
  if (folder.samples.length === 0) {
    const entries = (await readdir(dir)).slice(0, 5).join(', ');
    throw new CmidError('input', `pretraining data: no images (.jpg/.png/.tif) under ${dir}${entries ? ` (found: ${entries}, ...)` : ''}.`, { file: dir });
  }
  return folder.samples.map((s) => ({ path: s.path }));
}

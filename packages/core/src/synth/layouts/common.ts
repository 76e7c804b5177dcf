/**
 * What every layout writer shares: per-sample seeds (so one sample can be regenerated alone, e.g. by a test),
 * image encoding through sharp with atomic writes, a bounded queue that lets sharp encode on the libuv pool
 * while the next sample is painted, and the `synth.json` manifest that says how the folder was made.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../../checkpoint/atomic-write.js';
import { writeGeoTiff, type WriteGeoTiffOptions } from '../../io/write-geotiff.js';
import type { RasterTypedArray } from '../../io/dtypes.js';
import { CmidError } from '../../runtime/errors.js';
import { Rng } from '../../rng/rng.js';
import { SYNTH_SIZES, type SynthOptions, type SynthResult, type SynthSize } from '../options.js';

/** Version of the generator; bump it when the same seed starts producing different files. */
export const SYNTH_VERSION = 1;

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The Rng of sample `index` of dataset `tag` under `seed`: independent of every other sample. */
export function sampleRng(seed: number, tag: string, index: number): Rng {
  const mix = new Rng((seed >>> 0) ^ hashString(tag));
  const s = [mix.nextU32() ^ Math.imul(index + 1, 0x9e3779b1), mix.nextU32(), mix.nextU32() ^ index, mix.nextU32() | 1] as [number, number, number, number];
  const r = new Rng(s);
  for (let i = 0; i < 4; i++) r.nextU32(); // decorrelate neighbouring indices
  return r;
}

export function resolveSize(size: SynthSize | undefined, who: string): SynthSize {
  const s = size ?? 'tiny';
  if (!(SYNTH_SIZES as readonly string[]).includes(s)) {
    throw new CmidError('config', `${who}: size '${String(s)}' is not one of ${SYNTH_SIZES.join(', ')}.`);
  }
  return s;
}

export function resolveSeed(seed: number | undefined, who: string): number {
  const s = seed ?? 0;
  if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new CmidError('config', `${who}: seed must be an integer in 0..4294967295, got ${seed}.`);
  return s;
}

type SharpFactory = (typeof import('sharp'))['default'];
let sharpPromise: Promise<SharpFactory> | undefined;
/** sharp, loaded once and only by the layouts that write JPEG/PNG/plain TIFF. */
export function loadSharp(): Promise<SharpFactory> {
  sharpPromise ??= import('sharp').then((m) => m.default);
  return sharpPromise;
}

export type ImageFormat = 'jpeg' | 'png' | 'tiff';

export interface EncodeOptions {
  /** JPEG quality 1-100. Default 95. */
  quality?: number;
  /** JPEG chroma subsampling. Default '4:2:0' (what Google Earth tiles use). */
  chroma?: '4:2:0' | '4:4:4';
}

/**
 * Encodes 8-bit HWC pixels (1 or 3 channels) with sharp. One-channel images stay one channel (sharp would make
 * them sRGB otherwise); TIFFs are uncompressed, never sharp's default JPEG-in-TIFF.
 */
export async function encodeImage(pixels: Uint8Array, width: number, height: number, channels: 1 | 3, format: ImageFormat, o: EncodeOptions = {}): Promise<Buffer> {
  const sharp = await loadSharp();
  let pipe = sharp(pixels, { raw: { width, height, channels } });
  if (channels === 1) pipe = pipe.toColourspace('b-w');
  if (format === 'jpeg') return pipe.jpeg({ quality: o.quality ?? 95, chromaSubsampling: channels === 1 ? '4:4:4' : (o.chroma ?? '4:2:0') }).toBuffer();
  if (format === 'png') return pipe.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
  return pipe.tiff({ compression: 'none' }).toBuffer();
}

/**
 * Collects the files of one dataset: creates folders, writes atomically, keeps at most `depth` encodes in
 * flight, reports progress per sample, and finally writes synth.json.
 */
export class DatasetWriter {
  readonly files: string[] = [];
  private readonly dirs = new Set<string>();
  private readonly pending: Array<Promise<void>> = [];
  private done = 0;

  constructor(
    readonly kind: string,
    readonly options: { out: string; size: SynthSize; seed: number; onProgress?: (done: number, total: number) => void },
    readonly total: number,
    private readonly depth = 4,
  ) {}

  private async ensureDir(path: string): Promise<void> {
    const d = dirname(path);
    if (this.dirs.has(d)) return;
    await mkdir(d, { recursive: true });
    this.dirs.add(d);
  }

  private async enqueue(rel: string, job: (path: string) => Promise<void>): Promise<void> {
    const path = join(this.options.out, rel);
    this.files.push(rel.split(sep).join('/'));
    await this.ensureDir(path);
    while (this.pending.length >= this.depth) await this.pending.shift();
    const p = job(path);
    p.catch(() => undefined); // rejections surface when finish() or the queue awaits it
    this.pending.push(p);
  }

  /** Queues an 8-bit image file (JPEG/PNG/plain TIFF) at `rel` (relative to out). */
  image(rel: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 3, format: ImageFormat, o: EncodeOptions = {}): Promise<void> {
    return this.enqueue(rel, async (path) => writeFileAtomic(path, await encodeImage(pixels, width, height, channels, format, o)));
  }

  /** Queues a GeoTIFF through the repo's writer (tiled, deflate, georeferenced). */
  geotiff(rel: string, data: RasterTypedArray, o: WriteGeoTiffOptions): Promise<void> {
    return this.enqueue(rel, (path) => writeGeoTiff(path, data, o));
  }

  /** Queues a text file. */
  text(rel: string, content: string): Promise<void> {
    return this.enqueue(rel, (path) => writeFileAtomic(path, content));
  }

  /** Marks one sample done and reports progress. */
  sampleDone(): void {
    this.done++;
    this.options.onProgress?.(this.done, this.total);
  }

  /** Waits for every write, writes synth.json, returns the result. */
  async finish(extra: Record<string, unknown> = {}): Promise<SynthResult> {
    await Promise.all(this.pending.splice(0));
    await mkdir(this.options.out, { recursive: true });
    const files = [...this.files].sort();
    const manifest = {
      generator: '@cmid/core synth',
      version: SYNTH_VERSION,
      kind: this.kind,
      size: this.options.size,
      seed: this.options.seed,
      samples: this.done,
      files: files.length,
      synthetic: true,
      ...extra,
    };
    await writeFileAtomic(join(this.options.out, 'synth.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return { kind: this.kind, out: this.options.out, size: this.options.size, seed: this.options.seed, samples: this.done, files };
  }
}

/** Normalises SynthOptions for a layout: size, seed, absolute out. */
export function prepare(kind: string, o: SynthOptions): { out: string; size: SynthSize; seed: number; onProgress?: (done: number, total: number) => void } {
  if (typeof o.out !== 'string' || o.out.length === 0) throw new CmidError('config', `synth ${kind}: 'out' (the output folder) is required.`);
  return {
    out: o.out,
    size: resolveSize(o.size, `synth ${kind}`),
    seed: resolveSeed(o.seed, `synth ${kind}`),
    ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
  };
}

/** Relative path helper for tests and messages. */
export function rel(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
